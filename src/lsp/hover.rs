//! `textDocument/hover`: the index's facts at once (`ide::hover`), then, when
//! `hover.explain` is on, the chat model's short explanation grounded in the definition
//! and a few of its uses. Explanations are cached by the hash of what they were asked
//! from; one past `hover.timeout_ms` goes on in the background and is shown on the next
//! hover, which meanwhile shows the facts alone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tower_lsp_server::jsonrpc;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::Client;

use super::assist::Assist;
use super::context::{self, Site};
use super::state::SharedState;
use super::to_proto;
use crate::base::content_hash;
use crate::config::Task;
use crate::ide::hover::{self, HoverInfo};
use crate::ide::prompt::{chat_prompt, Excerpt, Focus};
use crate::index::{IndexSnapshot, RefRole};
use crate::io::llm::{resolve_api_key, LlmClient};
use crate::llm::Request;

/// Lines of a definition sent to the model, at most.
const DEFINITION_LINES: usize = 80;
/// Uses of the symbol shown to the model, and lines around each.
const USES: usize = 3;
const USE_CONTEXT_LINES: u32 = 3;
/// Explanations kept in memory, at most.
const MAX_EXPLANATIONS: usize = 1024;

type Pending = watch::Receiver<Option<Result<String, String>>>;

#[derive(Default)]
pub struct Explanations {
    done: Mutex<HashMap<u64, String>>,
    pending: Mutex<HashMap<u64, Pending>>,
}

pub async fn hover(client: &Client, state: &SharedState, assist: &Arc<Assist>, explanations: &Arc<Explanations>, params: HoverParams) -> jsonrpc::Result<Option<Hover>> {
    let position = params.text_document_position_params.position;
    if context::is_text_only(state, &params.text_document_position_params.text_document.uri) {
        return Ok(None);
    }
    let site = context::site(state, &params.text_document_position_params.text_document.uri, position)?;
    let Some(root) = &site.root else { return Ok(None) };
    let Some(file) = root.snapshot.file_id(&root.rel) else { return Ok(None) };
    let Some(info) = hover::hover(&root.snapshot, file, site.offset as u32) else { return Ok(None) };
    let mut markdown = hover::markdown(&info, site.lang.name());
    let lines = &root.snapshot.file(file).expect("the file was found").index().line_index;
    let range = to_proto::range(lines, site.encoding, info.hovered);
    if site.config.hover.explain && !site.ignored && !assist.model_unreachable() {
        if let Some(explanation) = explain(client, assist, explanations, &site, &info).await {
            markdown.push_str("\n---\n\n");
            markdown.push_str(explanation.trim());
            markdown.push('\n');
        }
    }
    Ok(Some(Hover { contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: markdown }), range: Some(range) }))
}

/// The explanation, if it is (or becomes, within the time limit) available.
async fn explain(client: &Client, assist: &Arc<Assist>, explanations: &Arc<Explanations>, site: &Site, info: &HoverInfo) -> Option<String> {
    // The definition and its uses: files read (and the index scanned) on the blocking pool.
    let (root, job_info) = (site.root.clone()?, info.clone());
    let (definition, uses) = tokio::task::spawn_blocking(move || {
        let read = |path: &str| match root.open_texts.get(path) {
            Some(text) => Some(text.clone()),
            None => std::fs::read_to_string(root.path.join(path)).ok(),
        };
        let definition_text = read(&job_info.path)?;
        let definition = definition_text.get(job_info.range.as_usize())?;
        let definition: String = definition.lines().take(DEFINITION_LINES).collect::<Vec<_>>().join("\n");
        Some((definition, uses(&root.snapshot, &job_info, &read)))
    })
    .await
    .ok()??;
    let key = content_hash(format!("{}\0{definition}\0{uses:?}", info.name).as_bytes());
    if let Some(done) = explanations.done.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Some(done.clone());
    }
    let mut pending = {
        let mut pending = explanations.pending.lock().unwrap_or_else(|p| p.into_inner());
        match pending.get(&key) {
            Some(rx) => rx.clone(),
            None => {
                let (tx, rx) = watch::channel(None);
                pending.insert(key, rx.clone());
                let question = format!(
                    "In two to four sentences, explain what `{}` does and how the code that uses it relies on it. No preamble, no code blocks.",
                    info.name
                );
                let focus_path = info.path.clone();
                let focus_line = info.line + 1;
                let settings = site.config.llm.for_task(Task::Chat);
                let assist = Arc::clone(assist);
                let explanations = Arc::clone(explanations);
                let client = client.clone();
                tokio::spawn(async move {
                    let excerpts: Vec<Excerpt> =
                        uses.iter().map(|(path, start, end, text)| Excerpt { path, start_line: *start, end_line: *end, text }).collect();
                    let end_line = focus_line + definition.lines().count().max(1) as u32 - 1;
                    let focus = Focus { path: &focus_path, start_line: focus_line, end_line, text: &definition };
                    let request = Request {
                        prompt: chat_prompt(&question, &excerpts, Some(&focus)),
                        max_tokens: settings.max_tokens.min(400),
                        temperature: settings.temperature,
                        stop: Vec::new(),
                    };
                    let key_value = resolve_api_key(&settings);
                    let result = assist.status.track(LlmClient::new(settings, key_value).complete(&request, &mut |_| {})).await;
                    let result = match result {
                        Ok(completion) => {
                            let mut done = explanations.done.lock().unwrap_or_else(|p| p.into_inner());
                            if done.len() >= MAX_EXPLANATIONS {
                                done.clear(); // a long session: start over rather than grow
                            }
                            done.insert(key, completion.text.clone());
                            drop(done);
                            Ok(completion.text)
                        }
                        Err(err) => {
                            assist.report_failure(&client, "hover explanation failed", &err).await;
                            Err(err.to_string())
                        }
                    };
                    explanations.pending.lock().unwrap_or_else(|p| p.into_inner()).remove(&key);
                    let _ = tx.send(Some(result));
                });
                rx
            }
        }
    };
    let limit = Duration::from_millis(site.config.hover.timeout_ms);
    let outcome = match tokio::time::timeout(limit, pending.wait_for(Option::is_some)).await {
        Ok(Ok(result)) => result.as_ref().and_then(|r| r.as_ref().ok()).cloned(),
        _ => None,
    };
    outcome
}

/// A few places that use the symbol's name (calls and type uses first), each with the
/// lines around it: (path, first line, last line, text), 1-based.
fn uses(snapshot: &IndexSnapshot, info: &HoverInfo, read: &dyn Fn(&str) -> Option<String>) -> Vec<(String, u32, u32, String)> {
    let mut found: Vec<(u8, String, u32)> = Vec::new();
    for (_, entry) in snapshot.files() {
        let index = entry.index();
        let Some(id) = index.names.iter().position(|n| *n == info.name) else { continue };
        for reference in index.references.iter().filter(|r| r.name as usize == id) {
            if entry.path == info.path && info.range.contains_range(reference.range) {
                continue; // inside the definition itself
            }
            let rank = match reference.role {
                RefRole::Call | RefRole::Type | RefRole::Macro => 0,
                RefRole::Path | RefRole::Member => 1,
                RefRole::Other => 2,
            };
            found.push((rank, entry.path.clone(), index.line_index.line_col(reference.range.start).line));
            break; // one use per file
        }
    }
    found.sort();
    found
        .into_iter()
        .take(USES)
        .filter_map(|(_, path, line)| {
            let text = read(&path)?;
            let from = line.saturating_sub(USE_CONTEXT_LINES);
            let lines: Vec<&str> = text.lines().skip(from as usize).take((2 * USE_CONTEXT_LINES + 1) as usize).collect();
            let to = from + lines.len().max(1) as u32 - 1;
            Some((path, from + 1, to + 1, lines.join("\n")))
        })
        .collect()
}
