//! Next-edit suggestions in the server: `ctxls/nextEdit` (where the next edit likely goes
//! after this session's edits, and the completion model's rewrite of the best place) and
//! `textDocument/copilotInlineEdit` (the same rewrite in the shape Copilot's language
//! server answers, for clients written for it). The session's edits are the root's edit
//! history (`ide::edit_history`: each edited file against its text before the session's
//! first edit; never an ignored file); the places come from `ide::next_edit`, the rewrite
//! from `ide::edit_rewrite`. A newer request for the same document supersedes an older
//! one; an automatic one waits the completion debounce first. Parsing, reading and
//! ranking run on the blocking pool; the texts the edits start from are parsed once per
//! root and kept (`Root::next_edit_facts`). Places inside the session's earlier edits
//! are offered, inside its latest one never.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};
use tower_lsp_server::jsonrpc;
use tower_lsp_server::ls_types::{Position, Uri};
use tower_lsp_server::Client;

use super::assist::Assist;
use super::context::{self, Site};
use super::state::{lock, SharedState};
use crate::config::Task;
use crate::ide::edit_rewrite::{self, LineEdit};
use crate::ide::next_edit::{self as places, Candidate, Limits, OldFacts};
use crate::io::llm::{resolve_api_key, LlmClient};

/// The texts the session's edits start from, by relative path.
type Bases = Vec<(String, Arc<str>)>;

/// The lines of the session's latest edit (its hunk) in the file's text now.
struct Latest {
    path: String,
    start: u32,
    lines: u32,
}

/// Places listed at most.
const MAX_PLACES: usize = 10;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TextDocument {
    uri: Uri,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NextEditParams {
    text_document: TextDocument,
    position: Position,
    /// Ask the model for the best place's rewrite (default true).
    #[serde(default)]
    rewrite: Option<bool>,
    /// The user asked (no debounce); default false.
    #[serde(default)]
    invoked: bool,
    #[serde(default)]
    limit: Option<usize>,
}

/// The best place's rewrite, as the model made it.
pub enum Rewrite {
    Offered { uri: String, version: Option<i32>, edits: Vec<LineEdit> },
    Declined(String),
}

/// `ctxls/nextEdit`: `{"candidates": [{"uri", "file", "range", "reason", "score"}],
/// "rewrite"?: {"status": "offered", "uri", "version", "edits": [{"range", "newText"}]} |
/// {"status": "declined", "why"}, "superseded"?: true}`.
pub async fn next_edit(client: &Client, state: &SharedState, assist: &Arc<Assist>, params: Value) -> jsonrpc::Result<Value> {
    let params: NextEditParams =
        serde_json::from_value(params).map_err(|err| jsonrpc::Error::invalid_params(format!("ctxls/nextEdit: expected {{textDocument, position}}: {err}")))?;
    let rewrite = params.rewrite.unwrap_or(true);
    let limit = params.limit.unwrap_or(MAX_PLACES).clamp(1, 50);
    let Some(found) = suggest(client, state, assist, &params, rewrite, limit).await? else {
        return Ok(json!({"candidates": [], "superseded": true}));
    };
    let candidates: Vec<Value> = found
        .places
        .iter()
        .map(|c| {
            json!({
                "uri": uri_of(&found.root, &c.path),
                "file": c.path,
                "range": line_range(c.start_line as usize, c.end_line as usize + 1),
                "reason": c.reason,
                "score": (f64::from(c.score) * 1000.0).round() / 1000.0,
            })
        })
        .collect();
    let mut out = json!({"candidates": candidates});
    match found.rewrite {
        Some(Rewrite::Offered { uri, version, edits }) => {
            out["rewrite"] = json!({
                "status": "offered",
                "uri": uri,
                "version": version,
                "edits": edits.iter().map(|e| json!({"range": line_range(e.start_line, e.end_line), "newText": e.text})).collect::<Vec<_>>(),
            });
        }
        Some(Rewrite::Declined(why)) => out["rewrite"] = json!({"status": "declined", "why": why}),
        None => {}
    }
    Ok(out)
}

/// `textDocument/copilotInlineEdit`: `{"edits": [{"range", "text", "newText",
/// "textDocument": {"uri", "version"}}]}`, empty when nothing is offered.
pub async fn copilot_inline_edit(client: &Client, state: &SharedState, assist: &Arc<Assist>, params: Value) -> jsonrpc::Result<Value> {
    let params: NextEditParams = serde_json::from_value(params)
        .map_err(|err| jsonrpc::Error::invalid_params(format!("textDocument/copilotInlineEdit: expected {{textDocument, position}}: {err}")))?;
    let Some(found) = suggest(client, state, assist, &params, true, MAX_PLACES).await? else { return Ok(json!({"edits": []})) };
    let edits = match found.rewrite {
        Some(Rewrite::Offered { uri, version, edits }) => edits
            .iter()
            .map(|e| {
                json!({
                    "range": line_range(e.start_line, e.end_line),
                    "text": e.text,
                    "newText": e.text,
                    "textDocument": {"uri": uri, "version": version},
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    Ok(json!({"edits": edits}))
}

struct Found {
    root: std::path::PathBuf,
    places: Vec<Candidate>,
    rewrite: Option<Rewrite>,
}

/// The places and, when asked, the best one's rewrite; `None` when a newer request for the
/// document came first.
async fn suggest(client: &Client, state: &SharedState, assist: &Arc<Assist>, params: &NextEditParams, rewrite: bool, limit: usize) -> jsonrpc::Result<Option<Found>> {
    let site = context::site(state, &params.text_document.uri, params.position)?;
    if site.ignored {
        return Err(jsonrpc::Error::invalid_params("the file is ignored (.gitignore, .ctxlsignore or index.exclude): nothing from it is sent to a model"));
    }
    let Some(root) = site.root.as_ref() else { return Ok(Some(Found { root: Default::default(), places: Vec::new(), rewrite: None })) };
    let root_path = root.path.clone();
    let (bases, latest, old_facts): (Bases, Option<Latest>, Arc<Mutex<OldFacts>>) = {
        let state = lock(state);
        match state.root_index_by_path(&root.path) {
            Some(i) => {
                let root = &state.roots[i];
                let latest = root.history.hunks().next_back().map(|h| Latest { path: h.path.clone(), start: h.start_line as u32, lines: h.new.lines().count() as u32 });
                (root.history.bases().map(|(p, t)| (p.to_string(), Arc::clone(t))).collect(), latest, Arc::clone(&root.next_edit_facts))
            }
            None => Default::default(),
        }
    };
    let superseded = assist.begin(&format!("nextEdit\0{}", site.uri));
    let debounce = if params.invoked { 0 } else { site.config.completion.debounce_ms };
    let site = Arc::new(site);
    let work = async {
        tokio::time::sleep(Duration::from_millis(debounce)).await;
        let view = Arc::clone(&site);
        let ranked = tokio::task::spawn_blocking(move || {
            let root = view.root.as_ref().expect("checked above");
            let mut old_facts = old_facts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            old_facts.set_generated(view.config.index.generated_files);
            let ranked = rank(&root.path, &root.snapshot, &root.open_texts, &bases, latest.as_ref(), &mut old_facts, limit);
            drop(old_facts);
            crate::lang::collect_thread_memory();
            ranked
        })
        .await;
        let places = ranked.map_err(|err| {
            let mut error = jsonrpc::Error::internal_error();
            error.message = format!("ranking the places failed: {err}").into();
            error
        })?;
        let rewrite = match places.first() {
            Some(best) if rewrite => Some(rewrite_place(client, assist, &site, best).await),
            _ => None,
        };
        Ok(Some(Found { root: root_path, places, rewrite }))
    };
    tokio::select! {
        found = work => found,
        () = superseded => Ok(None),
    }
}

/// The session's edits of each file (its text now against its text before the session's
/// first edit), then the places.
fn rank(
    root: &Path,
    snapshot: &crate::index::IndexSnapshot,
    open_texts: &HashMap<String, String>,
    bases: &[(String, Arc<str>)],
    latest: Option<&Latest>,
    old_facts: &mut OldFacts,
    limit: usize,
) -> Vec<Candidate> {
    let current = |rel: &str| open_texts.get(rel).cloned().or_else(|| std::fs::read_to_string(root.join(rel)).ok());
    let mut edits = Vec::new();
    for (rel, base) in bases {
        let Some(now) = current(rel) else { continue };
        if now.as_str() == &**base {
            continue;
        }
        let diff = similar::TextDiff::from_lines(&**base, now.as_str());
        let text = diff.unified_diff().context_radius(0).header(&format!("a/{rel}"), &format!("b/{rel}")).to_string();
        edits.extend(places::parse_unified_diff(&text));
    }
    // Edits that do not touch the latest one's lines were made before it: places inside
    // them may still be due (a call written before the signature changed).
    if let Some(latest) = latest {
        let (start, end) = (latest.start, latest.start + latest.lines.max(1) - 1);
        for edit in &mut edits {
            let (from, to) = edit.new_range();
            edit.earlier = edit.path != latest.path || to < start || from > end;
        }
    }
    let read = |id| snapshot.file(id).and_then(|entry| current(&entry.path));
    places::rank(snapshot, &edits, &read, old_facts, limit, Limits::default())
}

/// Asks the completion model for the region around `place` rewritten, with the session's
/// recent edits and the context retrieved at the cursor.
async fn rewrite_place(client: &Client, assist: &Arc<Assist>, site: &Arc<Site>, place: &Candidate) -> Rewrite {
    let root = site.root.as_ref().expect("a place has a root");
    let text = match root.open_texts.get(&place.path) {
        Some(text) => text.clone(),
        None => match tokio::fs::read_to_string(root.path.join(&place.path)).await {
            Ok(text) => text,
            Err(err) => return Rewrite::Declined(format!("{} could not be read: {err}", place.path)),
        },
    };
    let Some(lang) = crate::lang::Lang::from_path(Path::new(&place.path)) else { return Rewrite::Declined("not a language ctxls parses".into()) };
    let region = edit_rewrite::region_around(&text, place.start_line as usize, place.end_line as usize);
    let settings = site.config.llm.for_task(Task::Completion);
    let recent = context::recent_edits(site, &settings.model, site.config.completion.recent_edits_tokens);
    let excerpts = context::gather(site, None, site.config.completion.context_tokens, crate::retrieve::Packing::Compact).await;
    let prompt = edit_rewrite::rewrite_prompt(&place.path, lang, &region, &place.reason, &recent, &context::OwnedExcerpt::borrowed(&excerpts));
    let counter = crate::llm::tokens::TokenCounter::for_model(&settings.model);
    let request = edit_rewrite::rewrite_request(prompt, &region, &settings, |t| counter.count(t));
    let model = LlmClient::new(settings.clone(), resolve_api_key(&settings));
    let answer = match assist.status.track(model.complete(&request, &mut |_| {})).await {
        Ok(answer) => answer,
        Err(err) => {
            assist.report_failure(client, "Next edit", &err).await;
            return Rewrite::Declined(format!("the model failed: {err}"));
        }
    };
    let max_tokens = request.max_tokens;
    let checked = tokio::task::spawn_blocking(move || edit_rewrite::check_answer(lang, &text, &region, &answer.text, answer.finish, max_tokens)).await;
    match checked {
        Ok(Ok(edits)) => Rewrite::Offered {
            uri: uri_of(&root.path, &place.path),
            version: root.open_versions.get(&place.path).map(|(_, v)| *v),
            edits,
        },
        Ok(Err(why)) => Rewrite::Declined(why),
        Err(err) => Rewrite::Declined(format!("checking the rewrite failed: {err}")),
    }
}

fn uri_of(root: &Path, rel: &str) -> String {
    Uri::from_file_path(root.join(rel)).map(|u| u.as_str().to_string()).unwrap_or_default()
}

/// Whole lines `start..end` (0-based, end exclusive) as an LSP range.
fn line_range(start: usize, end: usize) -> Value {
    json!({"start": {"line": start, "character": 0}, "end": {"line": end, "character": 0}})
}
