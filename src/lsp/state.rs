//! Server state: negotiated capabilities, open documents (text and syntax tree, kept in
//! step with the editor) and one index per workspace root. Guarded by one mutex; every
//! method is synchronous and short, so edits never wait behind indexing or model calls.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::base::PositionEncoding;
use crate::config::{Config, ConfigIssue};
use crate::index::{self, FileEntry, IndexSnapshot, WorkspaceIndex};
use crate::io::vfs;
use crate::io::workspace::{IndexSink, IndexUpdate, Indexer};
use crate::lang::{Document, Lang, TextEdit};
use crate::reqs::{Markers, Requirement};
use crate::retrieve::ChangedFile;

#[derive(Clone, Debug, Default)]
pub struct ClientCaps {
    pub work_done_progress: bool,
    pub watched_files_dynamic: bool,
    pub hierarchical_symbols: bool,
    /// `window/showDocument` (explanations open as a markdown document).
    pub show_document: bool,
    /// `workspace/codeLens/refresh`: the lenses are asked again when requirements change.
    pub code_lens_refresh: bool,
}

pub struct OpenDocument {
    pub version: i32,
    pub doc: Document,
    /// The file's path on disk, for `file:` URIs.
    pub path: Option<PathBuf>,
    /// True once the index entry of this document was extracted from its previous text,
    /// so that the next edit can be extracted incrementally from it.
    pub incremental_base: bool,
    /// The requirement comments last published as diagnostics.
    pub requirements: Vec<Requirement>,
    /// Ignored by the workspace's rules (`.gitignore`, `.ctxlsignore`, hidden, excluded):
    /// kept out of the index, and nothing of it is ever sent to a model.
    pub ignored: bool,
}

pub struct Root {
    pub path: PathBuf,
    pub config: Config,
    pub index: WorkspaceIndex,
    /// Disk-side work (walks, cache) for this root; locked only by background jobs.
    pub indexer: Arc<Mutex<Indexer>>,
    /// The root's chunk vectors, filled in the background after indexing.
    pub vectors: Arc<crate::io::embedding::Vectors>,
    /// True while a background embedding job runs for this root.
    pub embedding: Arc<std::sync::atomic::AtomicBool>,
    /// The working tree's changes against HEAD, read in the background after indexing
    /// and after saves and file events.
    pub git_changes: Arc<Vec<ChangedFile>>,
    /// The root's documents (Markdown, API specs), split; loaded after indexing and again
    /// when one changes.
    pub docs: Arc<crate::knowledge::DocIndex>,
    /// The root's prompt files (`.ctxls/prompts/*.md`) that loaded.
    pub prompts: Arc<Vec<crate::knowledge::prompts::PromptFile>>,
    /// This session's edits of the root's documents (never of ignored ones), for the
    /// recent-edits section of prompts.
    pub history: crate::ide::edit_history::EditHistory,
    /// The facts of the texts this session's edits start from (`history`'s bases),
    /// parsed once for next-edit requests; locked only on the blocking pool.
    pub next_edit_facts: Arc<Mutex<crate::ide::next_edit::OldFacts>>,
    /// What retrieval keeps between requests; it checks what it keeps against each
    /// request's snapshot, so edits and a new index need nothing done here.
    pub retrieval: Arc<crate::retrieve::Cache>,
    /// True once the documents were loaded after the first indexing (mentions can be
    /// checked).
    pub knowledge_loaded: bool,
}

/// Edited line ranges of this session kept for retrieval's recency, at most.
const SESSION_EDITS: usize = 32;

#[derive(Default)]
pub struct State {
    pub encoding: PositionEncoding,
    pub caps: ClientCaps,
    /// `initializationOptions` and the latest `workspace/didChangeConfiguration` settings.
    pub init_options: serde_json::Value,
    pub settings: serde_json::Value,
    pub roots: Vec<Root>,
    pub documents: HashMap<String, OpenDocument>,
    pub cache_dir: Option<PathBuf>,
    /// Configuration issues found during `initialize`, shown after `initialized`.
    pub pending_issues: Vec<ConfigIssue>,
    /// Lines edited in this session (absolute path, zero-based inclusive line range),
    /// most recent first.
    pub edits: Vec<(PathBuf, (u32, u32))>,
}

pub type SharedState = Arc<Mutex<State>>;

/// Locks the state; a panic in another holder does not make the state unusable.
pub fn lock(state: &SharedState) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl State {
    /// The effective configuration of a root: defaults, `.ctxls.toml`,
    /// `initializationOptions`, then the client's settings.
    pub fn config_for(&self, root: &Path) -> (Config, Vec<ConfigIssue>) {
        let mut config = Config::default();
        let mut issues = Indexer::read_config_file(root, &mut config);
        issues.extend(config.apply_json("initializationOptions", &self.init_options));
        issues.extend(config.apply_json("workspace/didChangeConfiguration", &self.settings));
        (config, issues)
    }

    /// The configuration of documents outside every root: defaults, then the client's.
    pub fn config_without_root(&self) -> Config {
        let mut config = Config::default();
        config.apply_json("initializationOptions", &self.init_options);
        config.apply_json("workspace/didChangeConfiguration", &self.settings);
        config
    }

    /// The document's requirement comments now, when they differ from those last
    /// published (`None`: nothing to publish).
    pub fn changed_requirements(&mut self, uri: &str, force: bool) -> Option<(i32, Vec<Requirement>)> {
        let markers = {
            let open = self.documents.get(uri)?;
            let root = open.path.as_deref().and_then(|p| self.root_of(p));
            let config = match root {
                Some(i) => self.roots[i].config.requirements.clone(),
                None => self.config_without_root().requirements,
            };
            Markers::from(&config)
        };
        let open = self.documents.get_mut(uri)?;
        let found = if open.doc.is_parsed() { crate::reqs::find(open.doc.text(), open.doc.tree(), &markers) } else { Vec::new() };
        if found == open.requirements && !force {
            return None;
        }
        open.requirements = found.clone();
        Some((open.version, found))
    }

    /// This session's edits under `root`, most recent first, one entry per file with its
    /// ranges.
    pub fn session_edits(&self, root: &Path) -> Vec<ChangedFile> {
        let mut out: Vec<ChangedFile> = Vec::new();
        for (path, lines) in self.edits.iter().filter(|(p, _)| p.starts_with(root)) {
            let rel = vfs::relative_path(root, path);
            match out.iter_mut().find(|c| c.path == rel) {
                Some(file) => file.lines.push(*lines),
                None => out.push(ChangedFile { path: rel, lines: vec![*lines] }),
            }
        }
        out
    }

    /// Records a document's change in its root's edit history, before it is applied.
    fn record_history(&mut self, uri: &str, path: &Path, edits: &ChangeSet) {
        let Some(i) = self.root_of(path) else { return };
        let Some(open) = self.documents.get(uri) else { return };
        let rel = vfs::relative_path(&self.roots[i].path, path);
        let history = &mut self.roots[i].history;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        let text = open.doc.text();
        match edits {
            ChangeSet::Full(new) => {
                // Only what changed: the common start and end left out (the same bytes end
                // a character in both texts where they end one in either).
                let mut prefix = text.bytes().zip(new.bytes()).take_while(|(a, b)| a == b).count();
                while !text.is_char_boundary(prefix) {
                    prefix -= 1;
                }
                let room = text.len().min(new.len()) - prefix;
                let mut suffix = text.bytes().rev().zip(new.bytes().rev()).take(room).take_while(|(a, b)| a == b).count();
                while !text.is_char_boundary(text.len() - suffix) {
                    suffix -= 1;
                }
                history.record(&rel, text, prefix..text.len() - suffix, &new[prefix..new.len() - suffix], now);
            }
            ChangeSet::Edits(list) if list.len() == 1 => {
                let (start, end) = list[0].byte_range(text);
                history.record(&rel, text, start..end, &list[0].text, now);
            }
            ChangeSet::Edits(list) => {
                let mut scratch = text.to_string();
                for edit in list {
                    let (start, end) = edit.byte_range(&scratch);
                    history.record(&rel, &scratch, start..end, &edit.text, now);
                    scratch.replace_range(start..end, &edit.text);
                }
            }
        }
    }

    fn record_edit(&mut self, path: PathBuf, lines: (u32, u32)) {
        // An edit next to the last one in the same place extends it.
        if let Some((last_path, last)) = self.edits.first_mut() {
            if *last_path == path && lines.0 <= last.1 + 1 && last.0 <= lines.1 + 1 {
                *last = (last.0.min(lines.0), last.1.max(lines.1));
                return;
            }
        }
        self.edits.insert(0, (path, lines));
        self.edits.truncate(SESSION_EDITS);
    }

    /// The root holding `path` (the deepest one when roots nest).
    pub fn root_of(&self, path: &Path) -> Option<usize> {
        self.roots
            .iter()
            .enumerate()
            .filter(|(_, r)| path.starts_with(&r.path))
            .max_by_key(|(_, r)| r.path.as_os_str().len())
            .map(|(i, _)| i)
    }

    /// The root a workspace-wide command is about: that of `uri`, else the first.
    pub fn root_for(&self, uri: Option<&tower_lsp_server::ls_types::Uri>) -> Option<usize> {
        uri.and_then(super::from_proto::file_path).and_then(|p| self.root_of(&p)).or(if self.roots.is_empty() { None } else { Some(0) })
    }

    pub fn root_index_by_path(&self, root: &Path) -> Option<usize> {
        self.roots.iter().position(|r| r.path == root)
    }

    /// `[index] max_file_size` for a document at `path` (that of its root, else the
    /// configuration outside every root).
    fn max_file_size(&self, path: Option<&Path>) -> u64 {
        match path.and_then(|p| self.root_of(p)) {
            Some(i) => self.roots[i].config.index.max_file_size,
            None => self.config_without_root().index.max_file_size,
        }
    }

    pub fn open(&mut self, uri: String, path: Option<PathBuf>, lang: Lang, version: i32, text: String) {
        let limit = self.max_file_size(path.as_deref());
        let doc = if text.len() as u64 > limit {
            log_text_only(&uri, text.len(), limit);
            Document::text_only(lang, text)
        } else {
            Document::new(lang, text)
        };
        let ignored = path.as_deref().is_some_and(|p| match self.root_of(p) {
            Some(i) => vfs::IgnoreRules::new(&self.roots[i].path, &self.roots[i].config.index).is_ignored(p),
            None => false,
        });
        self.documents.insert(uri.clone(), OpenDocument { version, doc, path, incremental_base: false, requirements: Vec::new(), ignored });
        self.reindex_document(&uri);
    }

    /// Applies a `didChange`. Versions that go backwards are refused.
    pub fn change(&mut self, uri: &str, version: i32, edits: ChangeSet) -> Result<(), String> {
        let Some(open) = self.documents.get_mut(uri) else {
            return Err(format!("didChange for a document that is not open: {uri}"));
        };
        if version < open.version {
            return Err(format!("didChange for {uri}: version {version} is older than {}", open.version));
        }
        open.version = version;
        if !open.ignored {
            if let Some(path) = open.path.clone() {
                self.record_history(uri, &path, &edits);
            }
        }
        let open = self.documents.get_mut(uri).expect("found above");
        // A change that takes the document over the size limit drops its tree before it
        // is applied, so that the large text is never parsed.
        let expected = match &edits {
            ChangeSet::Full(text) => text.len(),
            ChangeSet::Edits(edits) => edits.iter().fold(open.doc.text().len(), |length, edit| {
                (length + edit.text.len()).saturating_sub(edit.range.len() as usize)
            }),
        };
        let path = open.path.clone();
        let limit = self.max_file_size(path.as_deref());
        let open = self.documents.get_mut(uri).expect("found above");
        if expected as u64 > limit && open.doc.is_parsed() {
            log_text_only(uri, expected, limit);
            open.doc.set_parsed(false);
            open.incremental_base = false;
        }
        match edits {
            ChangeSet::Full(text) => open.doc.replace_text(text),
            ChangeSet::Edits(edits) => open.doc.apply_edits(&edits),
        }
        // A document that shrank under the size limit is parsed again (and one that grew
        // past it more than expected is kept as text only).
        let length = open.doc.text().len();
        if (length as u64 > limit) == open.doc.is_parsed() {
            if open.doc.is_parsed() {
                log_text_only(uri, length, limit);
            } else {
                tracing::info!("{uri}: {length} bytes, within [index] max_file_size again: parsed and indexed");
            }
            open.doc.set_parsed(length as u64 <= limit);
            open.incremental_base = false;
        }
        let edited = open.doc.last_change().map(|change| {
            let lines = open.doc.line_index();
            (lines.line_col(change.start).line, lines.line_col(change.new_end).line)
        });
        if let (Some(lines), Some(path)) = (edited, open.path.clone()) {
            self.record_edit(path, lines);
        }
        self.reindex_document(uri);
        Ok(())
    }

    /// Settles a document's tree (see `Document::settle`) if it is still at `version`.
    pub fn settle(&mut self, uri: &str, version: i32) {
        let Some(open) = self.documents.get_mut(uri) else { return };
        if open.version == version && open.doc.settle() {
            self.reindex_document(uri);
        }
    }

    pub fn close(&mut self, uri: &str) -> Option<OpenDocument> {
        self.documents.remove(uri)
    }

    /// Replaces the index entry of an open document with facts from its current text.
    fn reindex_document(&mut self, uri: &str) {
        let Some(open) = self.documents.get(uri).filter(|d| !d.ignored) else { return };
        let Some(path) = open.path.clone() else { return };
        let Some(root) = self.root_of(&path) else { return };
        let rel_path = vfs::relative_path(&self.roots[root].path, &path);
        if !open.doc.is_parsed() {
            // Text only: the file has no entry while it is open this large.
            self.roots[root].index.remove(&rel_path);
            return;
        }
        let text = open.doc.text();
        let generated = self.roots[root].config.index.generated_files;
        // After one edit, only the top-level items it touched are extracted again.
        let previous = self.roots[root].index.get(&rel_path).filter(|e| e.lang() == open.doc.lang);
        let file_index = match (previous, open.doc.last_change()) {
            (Some(previous), Some(change)) if open.incremental_base => {
                index::extract_incremental(open.doc.lang, text, open.doc.tree(), previous.index(), change, generated)
            }
            _ => index::extract_with(open.doc.lang, text, open.doc.tree(), generated),
        };
        let entry = FileEntry::new(rel_path, crate::base::content_hash(text.as_bytes()), file_index);
        self.roots[root].index.insert(entry);
        if let Some(open) = self.documents.get_mut(uri) {
            open.incremental_base = true;
        }
    }

    /// Extracts the open documents of root `root` again, whole (after a change of
    /// `[index] generated_files`: the disk's files are the refresh's).
    pub fn reindex_open_documents(&mut self, root: usize) {
        let Some(root_path) = self.roots.get(root).map(|r| r.path.clone()) else { return };
        let uris: Vec<String> = self
            .documents
            .iter()
            .filter(|(_, d)| d.path.as_deref().is_some_and(|p| self.root_of(p) == Some(root) && p.starts_with(&root_path)))
            .map(|(uri, _)| uri.clone())
            .collect();
        for uri in uris {
            if let Some(open) = self.documents.get_mut(&uri) {
                open.incremental_base = false;
            }
            self.reindex_document(&uri);
        }
    }

    pub fn is_open_path(&self, path: &Path) -> bool {
        self.documents.values().any(|d| d.path.as_deref() == Some(path))
    }

    pub fn snapshots(&mut self) -> Vec<(PathBuf, Arc<IndexSnapshot>)> {
        self.roots.iter_mut().map(|r| (r.path.clone(), r.index.snapshot())).collect()
    }
}

fn log_text_only(uri: &str, length: usize, limit: u64) {
    tracing::warn!("{uri}: {length} bytes, over [index] max_file_size ({limit}): kept as text only (not parsed, not indexed)");
}

pub enum ChangeSet {
    Full(String),
    Edits(Vec<TextEdit>),
}

/// Delivers a background refresh of one root into the shared state, one short lock per
/// update. Files open in the editor keep the editor's text.
pub struct RootSink {
    pub state: SharedState,
    pub root: PathBuf,
}

impl IndexSink for RootSink {
    fn known_hash(&self, path: &str) -> Option<u64> {
        let state = lock(&self.state);
        let root = state.root_index_by_path(&self.root)?;
        state.roots[root].index.get(path).map(|e| e.hash)
    }

    fn known_paths(&self) -> Vec<String> {
        let state = lock(&self.state);
        match state.root_index_by_path(&self.root) {
            Some(root) => state.roots[root].index.paths().map(str::to_string).collect(),
            None => Vec::new(),
        }
    }

    fn holds_whole(&self, path: &str) -> bool {
        let state = lock(&self.state);
        let Some(root) = state.root_index_by_path(&self.root) else { return false };
        state.roots[root].index.get(path).is_some_and(|e| !e.is_lazy())
    }

    fn apply(&mut self, update: IndexUpdate) {
        let mut state = lock(&self.state);
        let Some(root) = state.root_index_by_path(&self.root) else { return };
        let path_of = |rel: &str| self.root.join(rel);
        match &update {
            IndexUpdate::Insert(entry) if state.is_open_path(&path_of(&entry.path)) => return,
            IndexUpdate::Remove(rel) if state.is_open_path(&path_of(rel)) => return,
            _ => {}
        }
        state.roots[root].index.apply(update);
    }
}
