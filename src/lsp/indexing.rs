//! Background indexing jobs for the server: a full refresh of a root (with `$/progress`),
//! and updates of single files. They run on blocking threads, lock only the root's
//! `Indexer`, and feed the shared state through `RootSink` in short locks.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc;
use tower_lsp_server::ls_types::{MessageType, ProgressToken};
use tower_lsp_server::Client;

use super::state::{lock, RootSink, SharedState};
use crate::io::workspace::RefreshMode;

/// Refreshes the index of `root` from disk and the cache, reporting progress.
pub async fn refresh_root(client: Client, state: SharedState, root: PathBuf) {
    let (indexer, progress_supported) = {
        let state = lock(&state);
        let Some(i) = state.root_index_by_path(&root) else { return };
        (state.roots[i].indexer.clone(), state.caps.work_done_progress)
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
    let job_state = state.clone();
    let job_root = root.clone();
    let job = tokio::task::spawn_blocking(move || {
        let mut indexer = indexer.lock().unwrap_or_else(|p| p.into_inner());
        let mut sink = RootSink { state: job_state, root: job_root };
        let last = std::sync::atomic::AtomicU32::new(u32::MAX);
        indexer.refresh(
            RefreshMode::Load,
            &|done, total| {
                let percent = (done * 100 / total.max(1)) as u32;
                if last.swap(percent, std::sync::atomic::Ordering::Relaxed) != percent {
                    let _ = tx.send(percent);
                }
            },
            &mut sink,
        )
    });

    let name = root.file_name().map_or_else(|| root.display().to_string(), |n| n.to_string_lossy().into_owned());
    let progress = if progress_supported {
        let token = ProgressToken::String(format!("ctxls/index/{}", crate::base::content_hash(root.to_string_lossy().as_bytes())));
        match client.create_work_done_progress(token.clone()).await {
            Ok(()) => Some(client.progress(token, format!("Indexing {name}")).with_percentage(0).begin().await),
            Err(_) => None,
        }
    } else {
        None
    };
    while let Some(percent) = rx.recv().await {
        if let Some(progress) = &progress {
            progress.report(percent).await;
        }
    }
    let report = match job.await {
        Ok(report) => report,
        Err(err) => {
            tracing::error!("indexing {} failed: {err}", root.display());
            client.show_message(MessageType::ERROR, format!("ctxls: indexing {name} failed: {err}")).await;
            return;
        }
    };
    let summary = format!(
        "{} files, {} symbols in {:.1} s ({} parsed, {} skipped)",
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
    embed_root(client, state, root, progress_supported).await;
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
    if running.swap(true, std::sync::atomic::Ordering::AcqRel) {
        return;
    }
    let missing = vectors.missing(&snapshot).len();
    let report = report && missing > 0;
    let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
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
        let last = std::sync::atomic::AtomicU32::new(u32::MAX);
        let progress = |done: usize, total: usize| {
            let percent = (done * 100 / total.max(1)) as u32;
            if last.swap(percent, std::sync::atomic::Ordering::Relaxed) != percent {
                let _ = tx.send(percent);
            }
        };
        handle.block_on(job_vectors.update(&snapshot, &text_of, &progress))
    });
    let name = root.file_name().map_or_else(|| root.display().to_string(), |n| n.to_string_lossy().into_owned());
    let progress = if report {
        let token = ProgressToken::String(format!("ctxls/embed/{}", crate::base::content_hash(root.to_string_lossy().as_bytes())));
        match client.create_work_done_progress(token.clone()).await {
            Ok(()) => Some(client.progress(token, format!("Embedding {name}")).with_percentage(0).begin().await),
            Err(_) => None,
        }
    } else {
        None
    };
    while let Some(percent) = rx.recv().await {
        if let Some(progress) = &progress {
            progress.report(percent).await;
        }
    }
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
    running.store(false, std::sync::atomic::Ordering::Release);
    tracing::info!("{}: {summary}", root.display());
    if let Some(progress) = progress {
        progress.finish_with_message(summary).await;
    }
}

/// Re-reads single files of `root` (watcher events, closed or saved documents).
pub async fn update_files(state: SharedState, root: PathBuf, paths: Vec<PathBuf>) {
    let indexer = {
        let state = lock(&state);
        let Some(i) = state.root_index_by_path(&root) else { return };
        Arc::clone(&state.roots[i].indexer)
    };
    let result = tokio::task::spawn_blocking(move || {
        let mut indexer = indexer.lock().unwrap_or_else(|p| p.into_inner());
        let mut sink = RootSink { state, root };
        indexer.update_paths(&paths, &mut sink);
    })
    .await;
    if let Err(err) = result {
        tracing::error!("updating files failed: {err}");
    }
}
