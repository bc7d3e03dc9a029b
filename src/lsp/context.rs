//! Retrieval inside the server: what a request at a position needs is copied out of the
//! state in one short lock (`Site`: the document's text and tree, the root's snapshot,
//! vectors, configuration and recency), then the context is gathered with no lock held:
//! the query embedded, `retrieve` run on the blocking pool (it takes milliseconds and
//! must not hold up the edits that the async workers apply).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use tower_lsp_server::jsonrpc;
use tower_lsp_server::ls_types::{Position, Uri};
use tree_sitter::Tree;

use super::from_proto;
use crate::base::PositionEncoding;
use super::state::{lock, SharedState};
use crate::config::{Config, Task};
use crate::ide::knowledge::Knowledge;
use crate::index::{FileId, IndexSnapshot};
use crate::io::embedding::Vectors;
use crate::io::vfs;
use crate::lang::Lang;
use crate::llm::tokens::TokenCounter;
use crate::retrieve::{query_text, retrieve, ContextRequest, Generators, Packing, Recency, Snippet};

/// A request's view of one open document and of the workspace around it.
#[derive(Clone)]
pub struct Site {
    pub uri: String,
    pub version: i32,
    pub lang: Lang,
    pub text: String,
    pub tree: Tree,
    /// Byte offset of the position in `text`.
    pub offset: usize,
    pub encoding: PositionEncoding,
    /// The document is ignored by the workspace's rules: nothing of it goes to a model.
    pub ignored: bool,
    pub config: Config,
    /// `None` for a document outside every workspace folder.
    pub root: Option<RootView>,
}

#[derive(Clone)]
pub struct RootView {
    pub path: PathBuf,
    /// The document's path relative to the root.
    pub rel: String,
    pub snapshot: Arc<IndexSnapshot>,
    pub vectors: Arc<Vectors>,
    pub recency: Recency,
    /// The editor's text of the root's open documents, by relative path (text-only
    /// documents, over the size limit, left out: they are not in the index).
    pub open_texts: HashMap<String, String>,
    /// The root's open documents' URIs and versions, by relative path.
    pub open_versions: HashMap<String, (String, i32)>,
    pub docs: Arc<crate::knowledge::DocIndex>,
    pub prompts: Arc<Vec<crate::knowledge::prompts::PromptFile>>,
    /// This session's edits of the root's documents, oldest first (none of a document
    /// ignored now): shared hunks, rendered as diffs outside the state's lock.
    pub edit_hunks: Vec<Arc<crate::ide::edit_history::Hunk>>,
    /// What retrieval keeps between the root's requests (`retrieve::Cache`).
    pub retrieval: Arc<crate::retrieve::Cache>,
}

pub use crate::workflows::host::OwnedExcerpt;

/// The site of `position` in the open document `uri`.
pub fn site(state: &SharedState, uri: &Uri, position: Position) -> jsonrpc::Result<Site> {
    let mut state = lock(state);
    let key = uri.as_str().to_string();
    let encoding = state.encoding;
    let Some(open) = state.documents.get(&key) else {
        return Err(jsonrpc::Error::invalid_params(format!("{} is not open", uri.as_str())));
    };
    if !open.doc.is_parsed() {
        return Err(jsonrpc::Error::invalid_params(format!(
            "ctxls: {} is kept as text only: {} bytes is over [index] max_file_size",
            uri.as_str(),
            open.doc.text().len()
        )));
    }
    let offset = from_proto::offset(open.doc.line_index(), encoding, position) as usize;
    let (version, lang, text, tree, path, ignored) =
        (open.version, open.doc.lang, open.doc.text().to_string(), open.doc.tree().clone(), open.path.clone(), open.ignored);
    let root = path.as_deref().and_then(|p| state.root_of(p));
    let config = match root {
        Some(i) => state.roots[i].config.clone(),
        None => state.config_without_root(),
    };
    let rel = path.as_deref().zip(root).map(|(p, i)| vfs::relative_path(&state.roots[i].path, p));
    let root = root.and_then(|i| {
        let root_path = state.roots[i].path.clone();
        view_of(&mut state, &root_path).map(|view| RootView { rel: rel.clone().unwrap_or_default(), ..view })
    });
    let offset = crate::lang::floor_char_boundary(&text, offset.min(text.len()));
    Ok(Site { uri: key, version, lang, text, tree, offset, encoding, ignored, config, root })
}

/// The recent-edits section for a prompt at the site: the session's edits, the newest
/// within `limit` tokens of `model`'s tokenizer; empty when `completion.recent_edits` is
/// off or there are none.
pub fn recent_edits(site: &Site, model: &str, limit: usize) -> String {
    let Some(root) = site.root.as_ref().filter(|r| site.config.completion.recent_edits && !r.edit_hunks.is_empty()) else { return String::new() };
    let counter = TokenCounter::for_model(model);
    let edits = crate::ide::edit_history::render(&root.edit_hunks);
    crate::ide::edit_history::recent_edits_section(&edits, limit, |text| counter.count(text))
}

/// True when `uri` is open as text only (over the size limit): requests about it answer
/// with nothing at once.
pub fn is_text_only(state: &SharedState, uri: &Uri) -> bool {
    lock(state).documents.get(uri.as_str()).is_some_and(|d| !d.doc.is_parsed())
}

/// The view of the root at `root` (its `rel` empty: no document).
pub fn root_view(state: &SharedState, root: &std::path::Path) -> Option<RootView> {
    view_of(&mut lock(state), root)
}

fn view_of(state: &mut crate::lsp::state::State, root_path: &std::path::Path) -> Option<RootView> {
    let i = state.root_index_by_path(root_path)?;
    let open_texts: HashMap<String, String> = state
        .documents
        .values()
        .filter(|d| !d.ignored && d.doc.is_parsed())
        .filter_map(|d| {
            let p = d.path.as_deref()?;
            p.starts_with(root_path).then(|| (vfs::relative_path(root_path, p), d.doc.text().to_string()))
        })
        .collect();
    let open_versions: HashMap<String, (String, i32)> = state
        .documents
        .iter()
        .filter_map(|(uri, d)| {
            let p = d.path.as_deref()?;
            p.starts_with(root_path).then(|| (vfs::relative_path(root_path, p), (uri.clone(), d.version)))
        })
        .collect();
    let recency = Recency {
        edits: state.session_edits(root_path),
        changed: state.roots[i].git_changes.as_ref().clone(),
        open: open_texts.keys().cloned().collect(),
    };
    let ignored_now: Vec<String> = state
        .documents
        .values()
        .filter(|d| d.ignored)
        .filter_map(|d| d.path.as_deref().filter(|p| p.starts_with(root_path)).map(|p| vfs::relative_path(root_path, p)))
        .collect();
    let root = &mut state.roots[i];
    let edit_hunks = if root.config.completion.recent_edits { root.history.snapshot(|rel| !ignored_now.iter().any(|p| p == rel)) } else { Vec::new() };
    Some(RootView {
        path: root_path.to_path_buf(),
        rel: String::new(),
        snapshot: root.index.snapshot(),
        vectors: Arc::clone(&root.vectors),
        recency,
        open_texts,
        open_versions,
        docs: Arc::clone(&root.docs),
        prompts: Arc::clone(&root.prompts),
        edit_hunks,
        retrieval: Arc::clone(&root.retrieval),
    })
}

/// The project knowledge for a request of the root: the mentions in `mention_text`
/// resolved and included, and the document sections for `query` (none when `query` is
/// empty), within the configuration's budgets and the chat model's tokenizer; computed on
/// the blocking pool.
pub async fn knowledge(root: &RootView, config: &Config, mention_text: String, query: String) -> Knowledge {
    let (snapshot, docs, open_texts, path) = (Arc::clone(&root.snapshot), Arc::clone(&root.docs), root.open_texts.clone(), root.path.clone());
    let config = config.clone();
    let job = tokio::task::spawn_blocking(move || {
        let open_text = |rel: &str| open_texts.get(rel).cloned();
        crate::io::knowledge::gather(&path, &config, &snapshot, &docs, &open_text, &mention_text, &query)
    });
    job.await.unwrap_or_else(|err| {
        tracing::error!("gathering project knowledge failed: {err}");
        Knowledge::default()
    })
}

/// The workspace context for a request at the site: snippets best first, within
/// `budget` tokens of the completion model's tokenizer.
pub async fn gather(site: &Arc<Site>, query: Option<String>, budget: usize, packing: Packing) -> Vec<OwnedExcerpt> {
    let Some(root) = &site.root else { return Vec::new() };
    let Some(file) = root.snapshot.file_id(&root.rel) else { return Vec::new() };
    if budget == 0 {
        return Vec::new();
    }
    let text_query = query_text(&root.snapshot, file, site.offset as u32, query.as_deref(), &site.text);
    let vector_hits = match root.vectors.query(&text_query, 40).await {
        Ok(hits) => hits,
        Err(err) => {
            tracing::debug!("no vector hits: {err}");
            Vec::new()
        }
    };
    let site = Arc::clone(site);
    let job = tokio::task::spawn_blocking(move || {
        let root = site.root.as_ref().expect("checked above");
        let model = site.config.llm.for_task(Task::Completion).model;
        let counter = TokenCounter::for_model(&model);
        let request = ContextRequest {
            file,
            offset: site.offset as u32,
            query: query.as_deref(),
            budget_tokens: budget,
            generators: Generators::ALL,
            recency: &root.recency,
            vector_hits: &vector_hits,
            cache: Some(&root.retrieval),
            packing,
        };
        let source_of = |id: FileId| {
            let entry = root.snapshot.file(id)?;
            match root.open_texts.get(&entry.path) {
                Some(text) => Some(text.clone()),
                None => std::fs::read_to_string(root.path.join(&entry.path)).ok(),
            }
        };
        let snippets = retrieve(&root.snapshot, &request, &|t| counter.count(t), &source_of);
        let excerpts = excerpts(&root.snapshot, snippets);
        crate::lang::collect_thread_memory();
        excerpts
    });
    job.await.unwrap_or_else(|err| {
        tracing::error!("retrieval failed: {err}");
        Vec::new()
    })
}

fn excerpts(snapshot: &IndexSnapshot, snippets: Vec<Snippet>) -> Vec<OwnedExcerpt> {
    snippets
        .into_iter()
        .map(|s| OwnedExcerpt {
            path: snapshot.file(s.file).map_or_else(|| "?".to_string(), |e| e.path.clone()),
            start_line: s.start_line + 1,
            end_line: s.end_line + 1,
            text: s.text,
            score: s.score,
            sources: s.sources,
            why: s.why,
            tokens: s.tokens,
        })
        .collect()
}
