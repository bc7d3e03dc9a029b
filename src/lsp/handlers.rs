//! Request and notification handlers. Each takes the shared state, does its work under a
//! short lock (or on a snapshot) and returns plain results; `server` wires them to LSP.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tower_lsp_server::jsonrpc;
use tower_lsp_server::ls_types::*;

use super::state::{lock, ChangeSet, ClientCaps, Root, SharedState, State};
use super::{from_proto, to_proto};
use crate::base::PositionEncoding;
use crate::config::ConfigIssue;
use crate::index::{self, fuzzy_symbols};
use crate::io::store::Store;
use crate::io::workspace::Indexer;
use crate::lang::Lang;

pub const WORKSPACE_SYMBOL_LIMIT: usize = 256;

/// Picks the position encoding (UTF-8 when the client offers it) and reads capabilities.
pub fn negotiate(params: &InitializeParams) -> (PositionEncoding, ClientCaps) {
    let offered = params.capabilities.general.as_ref().and_then(|g| g.position_encodings.clone()).unwrap_or_default();
    let encoding = if offered.contains(&PositionEncodingKind::UTF8) { PositionEncoding::Utf8 } else { PositionEncoding::Utf16 };
    let caps = &params.capabilities;
    let client_caps = ClientCaps {
        work_done_progress: caps.window.as_ref().and_then(|w| w.work_done_progress).unwrap_or(false),
        watched_files_dynamic: caps
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false),
        hierarchical_symbols: caps
            .text_document
            .as_ref()
            .and_then(|t| t.document_symbol.as_ref())
            .and_then(|d| d.hierarchical_document_symbol_support)
            .unwrap_or(false),
        show_document: caps.window.as_ref().and_then(|w| w.show_document.as_ref()).is_some_and(|s| s.support),
        code_lens_refresh: caps.workspace.as_ref().and_then(|w| w.code_lens.as_ref()).and_then(|c| c.refresh_support).unwrap_or(false),
    };
    (encoding, client_caps)
}

pub fn capabilities(encoding: PositionEncoding) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(match encoding {
            PositionEncoding::Utf8 => PositionEncodingKind::UTF8,
            PositionEncoding::Utf16 => PositionEncodingKind::UTF16,
        }),
        text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
            open_close: Some(true),
            change: Some(TextDocumentSyncKind::INCREMENTAL),
            will_save: None,
            will_save_wait_until: None,
            save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions { include_text: Some(false) })),
        })),
        document_symbol_provider: Some(OneOf::Left(true)),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        code_lens_provider: Some(CodeLensOptions { resolve_provider: Some(false) }),
        inline_completion_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions { trigger_characters: Some(vec!["@".to_string(), "#".to_string()]), ..CompletionOptions::default() }),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(super::actions::KINDS.iter().map(|k| CodeActionKind::new(k)).collect()),
            ..CodeActionOptions::default()
        })),
        execute_command_provider: Some(ExecuteCommandOptions {
            commands: super::actions::COMMANDS.iter().map(|c| c.to_string()).collect(),
            ..ExecuteCommandOptions::default()
        }),
        workspace: Some(WorkspaceServerCapabilities {
            workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                supported: Some(true),
                change_notifications: Some(OneOf::Left(true)),
            }),
            file_operations: None,
        }),
        ..ServerCapabilities::default()
    }
}

/// The workspace roots named in `initialize`: the folders, else the root URI.
#[allow(deprecated)] // root_uri is the fallback for clients without folders
pub fn initial_roots(params: &InitializeParams) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = params
        .workspace_folders
        .iter()
        .flatten()
        .filter_map(|f| from_proto::file_path(&f.uri))
        .collect();
    if roots.is_empty() {
        if let Some(path) = params.root_uri.as_ref().and_then(from_proto::file_path) {
            roots.push(path);
        }
    }
    roots.into_iter().filter_map(|r| r.canonicalize().ok()).filter(|r| r.is_dir()).collect()
}

/// Adds a root (unless present). Returns its configuration issues.
pub fn add_root(state: &SharedState, path: PathBuf) -> Vec<ConfigIssue> {
    let mut state = lock(state);
    if state.root_index_by_path(&path).is_some() {
        return Vec::new();
    }
    let (config, issues) = state.config_for(&path);
    let cache_dir = Store::default_dir(&path, state.cache_dir.as_deref());
    let indexer = Indexer::open(&path, config.clone(), Some(&cache_dir));
    let embedder = crate::io::llm::configured_embedder(&config).unwrap_or_else(|err| {
        tracing::warn!("{err}; using the built-in embedder");
        Box::new(crate::io::llm::BuiltinEmbedder)
    });
    let vectors = Arc::new(crate::io::embedding::Vectors::new(embedder, Some(&cache_dir)));
    state.roots.push(Root {
        path,
        config,
        index: index::WorkspaceIndex::new(),
        indexer: Arc::new(Mutex::new(indexer)),
        vectors,
        embedding: Arc::default(),
        git_changes: Arc::default(),
        docs: Arc::default(),
        prompts: Arc::default(),
        history: Default::default(),
        next_edit_facts: Arc::default(),
        retrieval: Arc::default(),
        knowledge_loaded: false,
    });
    issues
}

pub fn remove_root(state: &SharedState, path: &Path) {
    let mut state = lock(state);
    state.roots.retain(|r| r.path != path);
}

/// Re-reads the configuration of every root. Returns the issues and the roots whose
/// index settings changed (they need a refresh).
pub fn reload_config(state: &SharedState) -> (Vec<ConfigIssue>, Vec<PathBuf>) {
    let mut state = lock(state);
    let mut issues = Vec::new();
    let mut changed = Vec::new();
    for i in 0..state.roots.len() {
        let path = state.roots[i].path.clone();
        let (config, root_issues) = state.config_for(&path);
        issues.extend(root_issues);
        if config != state.roots[i].config {
            // The index and the documents are read again (from the cache: cheap).
            if config.index != state.roots[i].config.index || config.documents != state.roots[i].config.documents {
                changed.push(path);
            }
            let generated_changed = config.index.generated_files != state.roots[i].config.index.generated_files;
            // The root's indexer takes it when its next job starts (`indexing::lock_indexer`):
            // locking it here could wait for a whole refresh, which waits for this lock.
            state.roots[i].config = config;
            // Open documents are the editor's: extracted again here; the refresh does the
            // files on disk whose facts the setting changes.
            if generated_changed {
                state.reindex_open_documents(i);
            }
        }
    }
    (issues, changed)
}

pub fn did_open(state: &SharedState, params: DidOpenTextDocumentParams) {
    let doc = params.text_document;
    let path = from_proto::file_path(&doc.uri);
    let lang = path.as_deref().and_then(Lang::from_path).or_else(|| language_id(&doc.language_id));
    let Some(lang) = lang else {
        tracing::debug!("not a supported language: {}", doc.uri.as_str());
        return;
    };
    let large = doc.text.len() >= LARGE_MESSAGE;
    // The document's text, tree and facts stay while it is open (see `base::memory`).
    crate::base::long_lived(|| lock(state).open(doc.uri.as_str().to_string(), path, lang, doc.version, doc.text.as_str().to_owned()));
    if large {
        release_message_memory();
    }
}

/// A message carrying this much text leaves its decoding's buffers behind (the frame,
/// JSON scratch space: several times the text).
const LARGE_MESSAGE: usize = 1 << 20;

/// Returns the memory a large message's decoding freed to the system at once: mimalloc
/// would keep it until later allocations purge it (a 30 MB `didOpen` otherwise leaves the
/// server 100 MB larger for as long as it is idle).
fn release_message_memory() {
    crate::lang::release_free_memory();
}

fn language_id(id: &str) -> Option<Lang> {
    Lang::from_language_id(id)
}

/// Applies a `didChange`. Returns the document's URI and version when its tree needs
/// settling once typing pauses.
pub fn did_change(state: &SharedState, params: DidChangeTextDocumentParams) -> Option<(String, i32)> {
    let large = params.content_changes.iter().map(|c| c.text.len()).sum::<usize>() >= LARGE_MESSAGE;
    let unsettled = apply_change(state, params);
    if large {
        release_message_memory();
    }
    unsettled
}

fn apply_change(state: &SharedState, params: DidChangeTextDocumentParams) -> Option<(String, i32)> {
    let uri = params.text_document.uri.as_str().to_string();
    let mut state = lock(state);
    let encoding = state.encoding;
    let Some(open) = state.documents.get(&uri) else {
        tracing::warn!("didChange for a document that is not open: {uri}");
        return None;
    };
    let changes = if params.content_changes.len() == 1 && params.content_changes[0].range.is_none() {
        ChangeSet::Full(params.content_changes.into_iter().next().expect("one change").text)
    } else {
        match from_proto::text_edits(open.doc.text(), open.doc.line_index(), encoding, params.content_changes) {
            Ok(edits) => ChangeSet::Edits(edits),
            Err(err) => {
                tracing::warn!("didChange for {uri}: {err}");
                return None;
            }
        }
    };
    let version = params.text_document.version;
    if let Err(err) = crate::base::long_lived(|| state.change(&uri, version, changes)) {
        tracing::warn!("{err}");
        return None;
    }
    let unsettled = state.documents.get(&uri).is_some_and(|d| d.doc.is_unsettled());
    unsettled.then_some((uri, version))
}

/// Closes a document; returns its root and path so that the disk version can be read back.
pub fn did_close(state: &SharedState, params: DidCloseTextDocumentParams) -> Option<(PathBuf, PathBuf)> {
    let mut state = lock(state);
    let open = state.close(params.text_document.uri.as_str())?;
    let path = open.path?;
    let root = state.root_of(&path)?;
    Some((state.roots[root].path.clone(), path))
}

/// Groups changed paths by root, leaving out open documents (the editor's text wins)
/// and paths outside every root.
pub fn group_by_root(state: &SharedState, paths: Vec<PathBuf>) -> Vec<(PathBuf, Vec<PathBuf>)> {
    let state = lock(state);
    let mut groups: Vec<(PathBuf, Vec<PathBuf>)> = Vec::new();
    for path in paths {
        if state.is_open_path(&path) {
            continue;
        }
        let Some(root) = state.root_of(&path) else { continue };
        let root = state.roots[root].path.clone();
        match groups.iter_mut().find(|(r, _)| *r == root) {
            Some((_, group)) => group.push(path),
            None => groups.push((root, vec![path])),
        }
    }
    groups
}

pub fn document_symbol(state: &SharedState, params: DocumentSymbolParams) -> jsonrpc::Result<Option<DocumentSymbolResponse>> {
    let uri = params.text_document.uri;
    let (file, encoding, hierarchical) = {
        let state = lock(state);
        let Some(open) = state.documents.get(uri.as_str()) else {
            return document_symbol_from_disk(&state, &uri);
        };
        if !open.doc.is_parsed() {
            // A text-only document (over the size limit) has no symbols.
            let empty = if state.caps.hierarchical_symbols { DocumentSymbolResponse::Nested(Vec::new()) } else { DocumentSymbolResponse::Flat(Vec::new()) };
            return Ok(Some(empty));
        }
        let file = index::extract(open.doc.lang, open.doc.text(), open.doc.tree());
        (file, state.encoding, state.caps.hierarchical_symbols)
    };
    Ok(Some(if hierarchical {
        DocumentSymbolResponse::Nested(to_proto::document_symbols(&file, encoding))
    } else {
        DocumentSymbolResponse::Flat(to_proto::flat_symbols(&file, &uri, encoding))
    }))
}

/// Symbols of a file that is not open, from the index.
fn document_symbol_from_disk(state: &State, uri: &Uri) -> jsonrpc::Result<Option<DocumentSymbolResponse>> {
    let Some(path) = from_proto::file_path(uri) else { return Ok(None) };
    let Some(root) = state.root_of(&path) else { return Ok(None) };
    let root = &state.roots[root];
    let rel = crate::io::vfs::relative_path(&root.path, &path);
    let Some(entry) = root.index.get(&rel) else { return Ok(None) };
    let symbols = if state.caps.hierarchical_symbols {
        DocumentSymbolResponse::Nested(to_proto::document_symbols(entry.index(), state.encoding))
    } else {
        DocumentSymbolResponse::Flat(to_proto::flat_symbols(entry.index(), uri, state.encoding))
    };
    Ok(Some(symbols))
}

pub fn workspace_symbol(state: &SharedState, params: WorkspaceSymbolParams) -> jsonrpc::Result<Option<WorkspaceSymbolResponse>> {
    let (snapshots, encoding) = {
        let mut state = lock(state);
        (state.snapshots(), state.encoding)
    };
    let mut results: Vec<(u32, SymbolInformation)> = Vec::new();
    for (root, snapshot) in &snapshots {
        for m in fuzzy_symbols(snapshot, &params.query, WORKSPACE_SYMBOL_LIMIT) {
            let Some(entry) = snapshot.file(m.file) else { continue };
            let Some(uri) = Uri::from_file_path(root.join(&entry.path)) else { continue };
            results.push((m.score, to_proto::symbol_information(entry.index(), m.symbol as usize, uri, encoding)));
        }
    }
    // Several roots: merge by score, keeping each root's order for ties.
    if snapshots.len() > 1 {
        results.sort_by_key(|r| std::cmp::Reverse(r.0));
    }
    results.truncate(WORKSPACE_SYMBOL_LIMIT);
    Ok(Some(WorkspaceSymbolResponse::Flat(results.into_iter().map(|(_, s)| s).collect())))
}
