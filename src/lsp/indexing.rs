//! Background indexing jobs for the server: a full refresh of a root (with `$/progress`),
//! and updates of single files. They run on blocking threads, lock only the root's
//! `Indexer`, and feed the shared state through `RootSink` in short locks.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::mpsc;
use tower_lsp_server::ls_types::{MessageType, ProgressToken};
use tower_lsp_server::{Bounded, Client, NotCancellable, OngoingProgress};

use super::state::{lock, RootSink, SharedState};
use crate::index::terms::TermTable;
use crate::io::workspace::{Indexer, RefreshMode};

/// Heap bytes of decoded facts (signatures, docs, references of the files requests read
/// whole) a root's index keeps beyond the open documents: the least recently used are
/// dropped past it and decoded from the cache again when needed.
pub const DETAIL_BUDGET: usize = 32 << 20;

/// Refreshes the index of `root` from disk and the cache, reporting progress. Files enter
/// the index lazily: their summaries in memory, the rest read from the cache on demand
/// (with a cache that cannot be read back, whole).
pub async fn refresh_root(client: Client, state: SharedState, root: PathBuf) {
    let (indexer, progress_supported) = {
        let mut state = lock(&state);
        let Some(i) = state.root_index_by_path(&root) else { return };
        state.roots[i].index.set_detail_budget(Some(DETAIL_BUDGET));
        (state.roots[i].indexer.clone(), state.caps.work_done_progress)
    };
    let (percent, rx) = Percent::channel();
    let job_state = state.clone();
    let job_root = root.clone();
    let job = tokio::task::spawn_blocking(move || {
        let mut indexer = lock_indexer(&indexer, &job_state, &job_root);
        let mut sink = RootSink { state: job_state, root: job_root };
        indexer.summarize_parsed();
        indexer.refresh(RefreshMode::Lazy, &|done, total| percent.send(done, total), &mut sink)
    });
    let name = root_name(&root);
    let progress = relay_progress(&client, progress_supported.then_some(Begin::Now), "index", format!("Indexing {name}"), &root, rx).await;
    let report = match job.await {
        Ok(report) => report,
        Err(err) => {
            tracing::error!("indexing {} failed: {err}", root.display());
            client.show_message(MessageType::ERROR, format!("ctxls: indexing {name} failed: {err}")).await;
            return;
        }
    };
    let generated = match report.stats.generated {
        0 => String::new(),
        n => format!(", {n} generated: symbols only"),
    };
    let summary = format!(
        "{} files, {} symbols in {:.1} s ({} parsed, {} skipped{generated})",
        report.stats.files,
        report.stats.symbols,
        report.seconds,
        report.reparsed,
        report.skipped_total()
    );
    tracing::info!("indexed {}: {summary}", root.display());
    if let Some(progress) = progress {
        progress.finish_with_message(summary).await;
    }
    build_term_table(&state, &root).await;
    refresh_git(&state, &root).await;
    load_knowledge(&client, &state, &root).await;
    embed_root(client, state, root, progress_supported).await;
}

/// Loads the root's documents and prompt files on the blocking pool; prompt files that
/// do not load are reported with the reason, once per load.
pub async fn load_knowledge(client: &Client, state: &SharedState, root: &Path) {
    let config = {
        let state = lock(state);
        let Some(i) = state.root_index_by_path(root) else { return };
        state.roots[i].config.clone()
    };
    let job_root = root.to_path_buf();
    let loaded = tokio::task::spawn_blocking(move || {
        let docs = crate::io::knowledge::load_documents(&job_root, &config);
        let (prompts, errors) = crate::io::knowledge::load_prompts(&job_root, &config);
        (docs, prompts, errors)
    })
    .await;
    let (docs, prompts, errors) = match loaded {
        Ok(loaded) => loaded,
        Err(err) => {
            tracing::error!("loading documents and prompt files failed: {err}");
            return;
        }
    };
    tracing::info!("{}: {} documents ({} sections), {} prompt files", root.display(), docs.docs().len(), docs.section_count(), prompts.len());
    {
        let mut state = lock(state);
        let Some(i) = state.root_index_by_path(root) else { return };
        state.roots[i].docs = Arc::new(docs);
        state.roots[i].prompts = Arc::new(prompts);
        state.roots[i].knowledge_loaded = true;
    }
    super::diagnostics::republish_root(client, state, root).await;
    for error in errors {
        client.show_message(MessageType::WARNING, format!("ctxls: prompt file {} is not used: {}", error.path, error.reason)).await;
    }
}

/// Whether a changed file is project knowledge (a document or a prompt file).
pub fn is_knowledge(root: &Path, path: &Path) -> bool {
    let rel = crate::io::vfs::relative_path(root, path);
    rel.starts_with(crate::io::knowledge::PROMPTS_DIR) || crate::knowledge::DocKind::from_path(&rel).is_some()
}

/// Reads the root's working-tree changes against HEAD (for retrieval's recency) on the
/// blocking pool; outside a repository there are none, and a git error is logged.
pub async fn refresh_git(state: &SharedState, root: &Path) {
    let job_root = root.to_path_buf();
    let Some(index_config) = ({
        let state = lock(state);
        state.root_index_by_path(root).map(|i| state.roots[i].config.index.clone())
    }) else {
        return;
    };
    let changes = match tokio::task::spawn_blocking(move || crate::io::git::working_tree_changes(&job_root, &index_config)).await {
        Ok(Ok(changes)) => changes.unwrap_or_default(),
        Ok(Err(err)) => {
            tracing::warn!("{err}; recent changes are not used");
            Vec::new()
        }
        Err(_) => return,
    };
    let mut state = lock(state);
    if let Some(i) = state.root_index_by_path(root) {
        state.roots[i].git_changes = Arc::new(changes);
    }
}

/// Builds the root's term table (lexical retrieval's workspace-wide term -> files map) off
/// the request path and installs it; requests meanwhile use the previous one (or none),
/// which stays correct: files changed since a table was built are searched directly.
pub async fn build_term_table(state: &SharedState, root: &Path) {
    let snapshot = {
        let mut state = lock(state);
        let Some(i) = state.root_index_by_path(root) else { return };
        state.roots[i].index.snapshot()
    };
    let Ok(table) = tokio::task::spawn_blocking(move || TermTable::build(&snapshot)).await else { return };
    let mut state = lock(state);
    if let Some(i) = state.root_index_by_path(root) {
        state.roots[i].index.set_term_table(Arc::new(table));
    }
}

/// Embeds the chunks of `root` that have no vector yet, on a blocking thread, reporting
/// `$/progress` when `report` (and the client supports it). Requests never wait for it;
/// one job per root at a time (a later call finds what is still missing).
pub async fn embed_root(client: Client, state: SharedState, root: PathBuf, report: bool) {
    let (vectors, running, snapshot) = {
        let mut state = lock(&state);
        let Some(i) = state.root_index_by_path(&root) else { return };
        let root_state = &mut state.roots[i];
        (Arc::clone(&root_state.vectors), Arc::clone(&root_state.embedding), root_state.index.snapshot())
    };
    if running.swap(true, Ordering::AcqRel) {
        return;
    }
    let (percent, rx) = Percent::channel();
    let job_state = state.clone();
    let job_root = root.clone();
    let handle = tokio::runtime::Handle::current();
    let job_vectors = Arc::clone(&vectors);
    let job = tokio::task::spawn_blocking(move || {
        // Open documents' text is the editor's; other files are read from disk.
        let text_of = |id| {
            let entry = snapshot.file(id)?;
            let path = job_root.join(&entry.path);
            let open = lock(&job_state).documents.values().find(|d| d.path.as_deref() == Some(path.as_path())).map(|d| d.doc.text().to_string());
            open.or_else(|| std::fs::read_to_string(&path).ok())
        };
        handle.block_on(job_vectors.update(&snapshot, &text_of, &|done, total| percent.send(done as u64, total as u64)))
    });
    // Begun at the first batch: nothing to embed shows nothing.
    let title = format!("Embedding {}", root_name(&root));
    let progress = relay_progress(&client, report.then_some(Begin::AtFirstReport), "embed", title, &root, rx).await;
    let summary = match job.await {
        Ok(Ok(done)) => format!("{} chunks embedded, {} vectors ({})", done.embedded, vectors.len(), vectors.space()),
        Ok(Err(err)) => {
            // An unreachable embedding provider: retrieval goes on without vectors.
            tracing::warn!("embedding {} stopped: {err}", root.display());
            format!("embedding stopped: {err}")
        }
        Err(err) => {
            tracing::error!("embedding {} failed: {err}", root.display());
            format!("embedding failed: {err}")
        }
    };
    running.store(false, Ordering::Release);
    tracing::info!("{}: {summary}", root.display());
    log_memory(&state, &root);
    if let Some(progress) = progress {
        progress.finish_with_message(summary).await;
    }
}

/// Logs what the root's index and vectors hold on the heap, and the process's resident
/// memory (`CTXLS_LOG=ctxls=debug`): after indexing, and at shutdown.
pub fn log_memory(state: &SharedState, root: &Path) {
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    let (memory, vectors) = {
        let state = lock(state);
        let Some(i) = state.root_index_by_path(root) else { return };
        (state.roots[i].index.memory(), Arc::clone(&state.roots[i].vectors))
    };
    let mib = |bytes: usize| bytes as f64 / f64::from(1 << 20);
    let interned = crate::base::interned();
    let resident = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()));
    tracing::debug!(
        "memory of {}: resident {} MiB; index {:.1} MiB (summaries {:.1}: symbols {:.1}, chunks {:.1}, terms {:.1}, by name {:.1}, lines {:.1}, imports {:.1}; decoded {:.1} in {} files, whole {:.1} in {} files, entries {:.1}, names {:.1}, chunk hashes {:.1}, term table {:.1}); interned names {} ({:.1} MiB); vectors on the heap {:.1} MiB",
        root.display(),
        resident.map_or_else(|| "?".to_string(), |kb| (kb / 1024).to_string()),
        mib(memory.total()),
        mib(memory.summaries),
        mib(memory.summary_parts.symbols),
        mib(memory.summary_parts.chunks),
        mib(memory.summary_parts.terms),
        mib(memory.summary_parts.by_name),
        mib(memory.summary_parts.lines),
        mib(memory.summary_parts.imports),
        mib(memory.decoded),
        memory.decoded_files,
        mib(memory.whole),
        memory.whole_files,
        mib(memory.entries),
        mib(memory.names),
        mib(memory.chunk_files),
        mib(memory.terms),
        interned.0,
        mib(interned.1),
        mib(vectors.heap_bytes()),
    );
}

/// A job's progress as percentages, sent to the relaying task only when they change.
struct Percent {
    tx: mpsc::UnboundedSender<u32>,
    last: AtomicU32,
}

impl Percent {
    fn channel() -> (Percent, mpsc::UnboundedReceiver<u32>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Percent { tx, last: AtomicU32::new(u32::MAX) }, rx)
    }

    fn send(&self, done: u64, total: u64) {
        let percent = (done * 100 / total.max(1)) as u32;
        if self.last.swap(percent, Ordering::Relaxed) != percent {
            let _ = self.tx.send(percent);
        }
    }
}

/// When a relayed `$/progress` begins.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Begin {
    Now,
    AtFirstReport,
}

/// Relays a job's percentages to a `$/progress` (`begin`: `None` when the client takes
/// none, or this job shows none) until the job drops its sender; returns the progress,
/// if it began, for the caller to end with a summary.
async fn relay_progress(
    client: &Client,
    begin: Option<Begin>,
    kind: &str,
    title: String,
    root: &Path,
    mut rx: mpsc::UnboundedReceiver<u32>,
) -> Option<OngoingProgress<Bounded, NotCancellable>> {
    let start = || async {
        let token = ProgressToken::String(format!("ctxls/{kind}/{}", crate::base::content_hash(root.to_string_lossy().as_bytes())));
        match client.create_work_done_progress(token.clone()).await {
            Ok(()) => Some(client.progress(token, title.clone()).with_percentage(0).begin().await),
            Err(_) => None,
        }
    };
    let mut progress = if begin == Some(Begin::Now) { start().await } else { None };
    while let Some(percent) = rx.recv().await {
        if progress.is_none() && begin == Some(Begin::AtFirstReport) {
            progress = start().await;
        }
        if let Some(progress) = &progress {
            progress.report(percent).await;
        }
    }
    progress
}

/// A root's name for messages: its last path component.
fn root_name(root: &Path) -> String {
    root.file_name().map_or_else(|| root.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Locks a root's indexer for a job and gives it the root's configuration as it is now
/// (`handlers::reload_config` changes only the state's). The indexer is locked first,
/// then the state for a moment, as the job's sink does.
fn lock_indexer<'a>(indexer: &'a Mutex<Indexer>, state: &SharedState, root: &Path) -> MutexGuard<'a, Indexer> {
    let mut indexer = indexer.lock().unwrap_or_else(|p| p.into_inner());
    let state = lock(state);
    if let Some(i) = state.root_index_by_path(root) {
        if indexer.config != state.roots[i].config {
            indexer.config = state.roots[i].config.clone();
        }
    }
    indexer
}

/// Re-reads single files of `root` (watcher events, closed or saved documents).
pub async fn update_files(client: Client, state: SharedState, root: PathBuf, paths: Vec<PathBuf>) {
    let knowledge_changed = paths.iter().any(|p| is_knowledge(&root, p));
    let indexer = {
        let state = lock(&state);
        let Some(i) = state.root_index_by_path(&root) else { return };
        Arc::clone(&state.roots[i].indexer)
    };
    let job_state = state.clone();
    let job_root = root.clone();
    let result = tokio::task::spawn_blocking(move || {
        let mut indexer = lock_indexer(&indexer, &job_state, &job_root);
        let mut sink = RootSink { state: job_state, root: job_root };
        indexer.update_paths(&paths, &mut sink);
    })
    .await;
    if let Err(err) = result {
        tracing::error!("updating files failed: {err}");
        return;
    }
    // What changed on disk changes the diff against HEAD and may bring new chunks.
    refresh_git(&state, &root).await;
    if knowledge_changed {
        load_knowledge(&client, &state, &root).await;
    }
    embed_root(client, state, root, false).await;
}
