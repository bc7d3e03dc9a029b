//! The document's diagnostics: its requirement comments (information / hint, so that the
//! editor lists them and offers their actions), and the mentions in them that name
//! nothing in the workspace (warning, with the reason). Mentions are checked only once
//! the root's index and documents are loaded (loading them publishes again), outside the
//! state's lock.

use std::sync::Arc;

use tower_lsp_server::ls_types::*;
use tower_lsp_server::Client;

use super::state::{lock, SharedState};
use super::to_proto;
use crate::base::TextRange;
use crate::knowledge::mentions::{self, Mention};

/// Publishes the document's diagnostics when its requirement comments changed (always
/// with `force`).
pub async fn publish(client: &Client, state: &SharedState, uri: &Uri, force: bool) {
    let gathered = {
        let mut state = lock(state);
        let encoding = state.encoding;
        let Some((version, found)) = state.changed_requirements(uri.as_str(), force) else { return };
        let Some(open) = state.documents.get(uri.as_str()) else { return };
        let lines = open.doc.line_index().clone();
        let text = open.doc.text();
        let diagnostics: Vec<Diagnostic> = found.iter().map(|r| to_proto::requirement_diagnostic(&lines, encoding, r)).collect();
        let written: Vec<Mention> = found
            .iter()
            .flat_map(|r| {
                let start = r.range.start as usize;
                let comment = text.get(start..r.range.end as usize).unwrap_or("");
                mentions::parse(comment).into_iter().map(move |m| Mention { range: m.range.start + start..m.range.end + start, ..m })
            })
            .collect();
        let root = open.path.clone().and_then(|p| state.root_of(&p));
        let checkable = match root {
            Some(i) if !written.is_empty() && state.roots[i].knowledge_loaded => {
                let root = &mut state.roots[i];
                Some((root.path.clone(), root.config.index.clone(), root.index.snapshot(), Arc::clone(&root.docs)))
            }
            _ => None,
        };
        (version, diagnostics, lines, encoding, written, checkable)
    };
    let (version, mut diagnostics, lines, encoding, written, checkable) = gathered;
    if let Some((path, index_config, snapshot, docs)) = checkable {
        let check = tokio::task::spawn_blocking(move || {
            let files = crate::io::knowledge::MentionedFiles::new(&path, &index_config);
            let read_other = |rel: &str| files.read(rel);
            written.into_iter().filter_map(|m| mentions::resolve(&m, &snapshot, &docs, &read_other).err()).collect::<Vec<_>>()
        });
        for unresolved in check.await.unwrap_or_default() {
            let m = &unresolved.mention;
            diagnostics.push(Diagnostic {
                range: to_proto::range(&lines, encoding, TextRange::new(m.range.start as u32, m.range.end as u32)),
                severity: Some(DiagnosticSeverity::WARNING),
                code: Some(NumberOrString::String("unknown-mention".to_string())),
                source: Some("ctxls".to_string()),
                message: format!("@{}: {}", m.raw, unresolved.reason),
                ..Diagnostic::default()
            });
        }
    }
    client.publish_diagnostics(uri.clone(), diagnostics, Some(version)).await;
    // The requirements changed: so did the lenses. An editor that asked for them before
    // the document was read (VS Code asks as it opens one) would otherwise show none.
    let refresh = lock(state).caps.code_lens_refresh;
    if refresh {
        // Not awaited here: the handler that published goes on while the editor answers.
        let client = client.clone();
        tokio::spawn(async move {
            if let Err(err) = client.code_lens_refresh().await {
                tracing::debug!("workspace/codeLens/refresh: {err}");
            }
        });
    }
}

/// Publishes again the diagnostics of every open document under `root`.
pub async fn republish_root(client: &Client, state: &SharedState, root: &std::path::Path) {
    let uris: Vec<Uri> = lock(state)
        .documents
        .iter()
        .filter(|(_, d)| d.path.as_deref().is_some_and(|p| p.starts_with(root)))
        .filter_map(|(uri, _)| uri.parse().ok())
        .collect();
    for uri in uris {
        publish(client, state, &uri, true).await;
    }
}
