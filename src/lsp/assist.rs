//! Model-backed completions in the server: `textDocument/inlineCompletion` and the same
//! engine as `textDocument/completion` items.
//!
//! A request copies its site out of the state (`context::site`) and never holds the lock
//! while it waits: edits go on. Typing must pause (`completion.debounce_ms`) before the
//! model is asked; a newer request for the same document supersedes an older one, which
//! is answered `RequestCancelled` and drops its HTTP request (so does `$/cancelRequest`:
//! tower-lsp-server drops the handler's future). Answers are cleaned for the position
//! (`ide::postprocess`) and remembered per document by prefix, so that typing into a
//! shown completion is answered from memory. A failing model shows one message per burst.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tower_lsp_server::jsonrpc;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::Client;

use super::context::{self, Site};
use super::state::SharedState;
use crate::base::{content_hash, PositionEncoding};
use crate::config::Task;
use crate::ide::postprocess::{self, Shape};
use crate::ide::prompt::{completion_prompt, prefix_window, suffix_window, CompletionInput};
use crate::io::llm::{resolve_api_key, LlmClient, LlmError};
use crate::llm::Request;

/// Completions remembered per document (a few, so that backspacing finds them too).
const CACHED_PER_DOCUMENT: usize = 8;
/// A failure message is shown at most once in this long.
const FAILURE_QUIET: Duration = Duration::from_secs(60);
/// How long hovers skip the explanation after the model could not be reached.
const UNREACHABLE_PAUSE: Duration = Duration::from_secs(30);
/// Tokens asked for when one line is wanted.
const LINE_MAX_TOKENS: u32 = 96;

#[derive(Default)]
pub struct Assist {
    /// Per document, the generation of its newest completion request.
    generations: Mutex<HashMap<String, watch::Sender<u64>>>,
    next_generation: AtomicU64,
    cache: Mutex<HashMap<String, VecDeque<Remembered>>>,
    last_failure_shown: Mutex<Option<Instant>>,
    /// Until when the model is taken as unreachable (hovers then skip the explanation
    /// rather than wait for a connection that fails).
    unreachable_until: Mutex<Option<Instant>>,
    /// The model's state for the editor (`ctxls/status`).
    pub status: super::status::ModelStatus,
}

/// A completion as it was shown after a prefix, before a suffix.
struct Remembered {
    prefix_len: usize,
    prefix_hash: u64,
    suffix_hash: u64,
    text: String,
}

/// Which request a completion answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Inline,
    List,
}

/// Why no completion is shown.
pub enum Outcome {
    Text(String),
    Nothing,
    Superseded,
    Failed(LlmError),
}

impl Assist {
    /// Registers a new request under `key`; the future ends when a later one registers
    /// (it never ends otherwise).
    pub fn begin(&self, key: &str) -> impl std::future::Future<Output = ()> + Send + 'static {
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed) + 1;
        let mut generations = self.generations.lock().unwrap_or_else(|p| p.into_inner());
        let sender = generations.entry(key.to_string()).or_insert_with(|| watch::channel(0).0);
        sender.send_replace(generation);
        let mut newer = sender.subscribe();
        async move {
            while newer.changed().await.is_ok() {
                if *newer.borrow() != generation {
                    return;
                }
            }
            std::future::pending::<()>().await
        }
    }

    /// The remembered completion that the text typed since continues, if any.
    pub fn remembered(&self, site: &Site) -> Option<String> {
        let (before, after) = site.text.split_at(site.offset);
        let suffix_hash = content_hash(after.as_bytes());
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        for entry in cache.get(&site.uri)?.iter() {
            if entry.suffix_hash != suffix_hash || entry.prefix_len > before.len() || !before.is_char_boundary(entry.prefix_len) {
                continue;
            }
            let typed = &before[entry.prefix_len..];
            if entry.text.len() > typed.len()
                && entry.text.starts_with(typed)
                && content_hash(&before.as_bytes()[..entry.prefix_len]) == entry.prefix_hash
            {
                return Some(entry.text[typed.len()..].to_string());
            }
        }
        None
    }

    fn remember(&self, site: &Site, text: &str) {
        let (before, after) = site.text.split_at(site.offset);
        let entry = Remembered {
            prefix_len: before.len(),
            prefix_hash: content_hash(before.as_bytes()),
            suffix_hash: content_hash(after.as_bytes()),
            text: text.to_string(),
        };
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let entries = cache.entry(site.uri.clone()).or_default();
        entries.push_front(entry);
        entries.truncate(CACHED_PER_DOCUMENT);
    }

    pub fn forget_document(&self, uri: &str) {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).remove(uri);
        self.generations.lock().unwrap_or_else(|p| p.into_inner()).retain(|key, _| key.split_once('\0').is_none_or(|(_, of)| of != uri));
    }

    /// Whether the model failed to connect in the last half minute.
    pub fn model_unreachable(&self) -> bool {
        self.unreachable_until.lock().unwrap_or_else(|p| p.into_inner()).is_some_and(|until| Instant::now() < until)
    }

    /// Shows a failure unless one was shown less than a minute ago.
    /// Returns whether it was shown.
    pub async fn report_failure(&self, client: &Client, what: &str, err: &LlmError) -> bool {
        tracing::warn!("{what}: {err}");
        if matches!(err, LlmError::Unreachable { .. }) {
            *self.unreachable_until.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now() + UNREACHABLE_PAUSE);
        }
        let show = {
            let mut last = self.last_failure_shown.lock().unwrap_or_else(|p| p.into_inner());
            let quiet = last.is_some_and(|at| at.elapsed() < FAILURE_QUIET);
            if !quiet {
                *last = Some(Instant::now());
            }
            !quiet
        };
        if show {
            client.show_message(MessageType::WARNING, format!("ctxls: {what}: {err}")).await;
        }
        show
    }

    /// A completion at the site: from memory, or from the model after the debounce
    /// unless a newer request of the same `kind` for the document comes first (inline
    /// and list completions, which editors request side by side, do not cancel each
    /// other). `debounce`: when the request arrived, `None` when the user asked
    /// explicitly (no debounce).
    pub async fn complete(&self, kind: Kind, site: Site, debounce: Option<tokio::time::Instant>) -> Outcome {
        let superseded = self.begin(&format!("{}\0{}", kind as u8, site.uri));
        if let Some(text) = self.remembered(&site) {
            return Outcome::Text(text);
        }
        let site = Arc::new(site);
        let work = async {
            // The context is gathered and the prompt written while the debounce runs (it
            // runs from the request's arrival): when typing pauses, only the model's time
            // is left.
            let preparing = async {
                let (recent, recent_tokens) = recent_edits(&site);
                let mut excerpts = context::gather(&site, None, site.config.completion.context_tokens.saturating_sub(recent_tokens), site.config.completion.packing).await;
                if site.config.documents.in_completion {
                    excerpts.extend(document_excerpts(&site).await);
                }
                prepare(&site, &excerpts, &recent)
            };
            let prepared = match debounce {
                Some(arrived) => {
                    let pause = tokio::time::sleep_until(arrived + Duration::from_millis(site.config.completion.debounce_ms));
                    tokio::join!(preparing, pause).0
                }
                None => preparing.await,
            };
            generate(&site, prepared, &self.status).await
        };
        tokio::select! {
            outcome = work => {
                if let Outcome::Text(text) = &outcome {
                    self.remember(&site, text);
                }
                outcome
            }
            () = superseded => Outcome::Superseded,
        }
    }
}

/// The recent-edits section of a completion at the site (`completion.recent_edits`) and
/// the tokens it takes: the newest edits within `recent_edits_tokens`, and never more than
/// half the context budget (retrieval gets the rest).
fn recent_edits(site: &Site) -> (String, usize) {
    let completion = &site.config.completion;
    let model = site.config.llm.for_task(Task::Completion).model;
    let section = context::recent_edits(site, &model, completion.recent_edits_tokens.min(completion.context_tokens / 2));
    let used = if section.is_empty() { 0 } else { crate::llm::tokens::TokenCounter::for_model(&model).count(&section) };
    (section, used)
}

/// Document sections for a completion (`documents.in_completion`): queried with the
/// lines before the cursor, within half the completion's context budget.
async fn document_excerpts(site: &Site) -> Vec<context::OwnedExcerpt> {
    let Some(root) = &site.root else { return Vec::new() };
    if root.docs.is_empty() {
        return Vec::new();
    }
    let before = &site.text[..site.offset];
    let from = before.char_indices().rev().filter(|(_, c)| *c == '\n').nth(20).map_or(0, |(i, _)| i);
    let mut config = site.config.clone();
    config.documents.max_tokens = config.documents.max_tokens.min(config.completion.context_tokens / 2);
    let knowledge = context::knowledge(root, &config, String::new(), before[from..].to_string()).await;
    knowledge
        .documents
        .into_iter()
        .map(|d| context::OwnedExcerpt {
            path: d.path,
            start_line: d.start_line,
            end_line: d.end_line,
            text: d.text,
            score: 0.0,
            sources: vec!["documents"],
            why: d.why,
            tokens: d.tokens,
        })
        .collect()
}

/// A completion's request to the model, ready to send.
struct Prepared {
    request: Request,
    client: LlmClient,
}

/// The completion model's request at the site, with the gathered context.
fn prepare(site: &Site, excerpts: &[context::OwnedExcerpt], recent_edits: &str) -> Prepared {
    let excerpts = context::OwnedExcerpt::borrowed(excerpts);
    let rel = site.root.as_ref().map_or_else(|| site.uri.rsplit('/').next().unwrap_or("").to_string(), |r| r.rel.clone());
    let (before, after) = site.text.split_at(site.offset);
    let input = CompletionInput { path: &rel, lang: site.lang, prefix: prefix_window(before), suffix: suffix_window(after), excerpts: &excerpts, recent_edits };
    let at = postprocess::Site { lang: site.lang, text: &site.text, offset: site.offset };
    let shape = postprocess::shape(&at);
    let settings = site.config.llm.for_task(Task::Completion);
    let max_tokens = if shape == Shape::Line { settings.max_tokens.min(LINE_MAX_TOKENS) } else { settings.max_tokens };
    let request = Request { prompt: completion_prompt(&input), max_tokens, temperature: settings.temperature, stop: Vec::new() };
    let key = resolve_api_key(&settings);
    Prepared { request, client: LlmClient::new(settings, key) }
}

/// Asks the completion model the prepared request and cleans its answer for the site.
async fn generate(site: &Arc<Site>, prepared: Prepared, status: &super::status::ModelStatus) -> Outcome {
    let Prepared { request, client } = prepared;
    let at = postprocess::Site { lang: site.lang, text: &site.text, offset: site.offset };
    match status.track(client.complete(&request, &mut |_| {})).await {
        Ok(completion) => match postprocess::clean(&at, &site.tree, &completion.text) {
            Some(text) => Outcome::Text(text),
            None => Outcome::Nothing,
        },
        Err(err) => Outcome::Failed(err),
    }
}

/// Whether a completion is wanted at the site at all: not inside a comment or a string
/// unless asked (or configured).
pub fn wanted_at(site: &Site, invoked: bool) -> bool {
    if site.ignored {
        return false; // nothing of an ignored file goes to a model
    }
    invoked || site.config.completion.in_comments || {
        let at = postprocess::Site { lang: site.lang, text: &site.text, offset: site.offset };
        !postprocess::in_comment_or_string(&at, &site.tree)
    }
}

/// `textDocument/inlineCompletion`.
pub async fn inline_completion(
    client: &Client,
    state: &SharedState,
    assist: &Assist,
    params: InlineCompletionParams,
) -> jsonrpc::Result<Option<InlineCompletionResponse>> {
    let arrived = tokio::time::Instant::now();
    let position = params.text_document_position.position;
    if context::is_text_only(state, &params.text_document_position.text_document.uri) {
        return Ok(None);
    }
    let site = context::site(state, &params.text_document_position.text_document.uri, position)?;
    let invoked = params.context.trigger_kind == InlineCompletionTriggerKind::INVOKED;
    if !wanted_at(&site, invoked) {
        return Ok(None);
    }
    match assist.complete(Kind::Inline, site, (!invoked).then_some(arrived)).await {
        Outcome::Text(text) => {
            let item = InlineCompletionItem {
                insert_text: text,
                filter_text: None,
                range: Some(Range { start: position, end: position }),
                command: None,
                insert_text_format: Some(InsertTextFormat::PLAIN_TEXT),
            };
            Ok(Some(InlineCompletionResponse::List(InlineCompletionList { items: vec![item] })))
        }
        Outcome::Nothing => Ok(None),
        Outcome::Superseded => Err(jsonrpc::Error::request_cancelled()),
        Outcome::Failed(err) => {
            assist.report_failure(client, "completion failed", &err).await;
            Ok(None)
        }
    }
}

/// `textDocument/completion`: the model's completion as one item. Never holds up the
/// editor's other sources: past the debounce the list is returned incomplete (and
/// empty) while the model goes on in the background; the client asks again as the user
/// types, and the answer is then served from memory.
pub async fn completion(
    client: &Client,
    state: &SharedState,
    assist: &Arc<Assist>,
    params: CompletionParams,
) -> jsonrpc::Result<Option<CompletionResponse>> {
    let position = params.text_document_position.position;
    if context::is_text_only(state, &params.text_document_position.text_document.uri) {
        return Ok(None);
    }
    let site = context::site(state, &params.text_document_position.text_document.uri, position)?;
    if let Some(list) = mention_completion(&site, position) {
        return Ok(Some(CompletionResponse::List(list)));
    }
    // `@` and `#` trigger completion for mentions only.
    if params.context.as_ref().is_some_and(|c| c.trigger_kind == CompletionTriggerKind::TRIGGER_CHARACTER) {
        return Ok(None);
    }
    let invoked = params.context.as_ref().is_some_and(|c| c.trigger_kind == CompletionTriggerKind::INVOKED);
    if !site.config.completion.items || !wanted_at(&site, invoked) {
        return Ok(None);
    }
    let word_start = word_start(&site.text, site.offset);
    let word = site.text[word_start..site.offset].to_string();
    let encoding = site.encoding;
    let wait = Duration::from_millis(site.config.completion.debounce_ms.max(1));
    let job = {
        let assist = Arc::clone(assist);
        let client = client.clone();
        tokio::spawn(async move {
            let outcome = assist.complete(Kind::List, site, None).await;
            if let Outcome::Failed(err) = &outcome {
                assist.report_failure(&client, "completion failed", err).await;
            }
            outcome
        })
    };
    let outcome = match tokio::time::timeout(wait, job).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(_)) | Err(_) => return Ok(Some(CompletionResponse::List(CompletionList { is_incomplete: true, items: Vec::new() }))),
    };
    let Outcome::Text(text) = outcome else {
        return Ok(Some(CompletionResponse::List(CompletionList { is_incomplete: true, items: Vec::new() })));
    };
    let (line, character) = (position.line, position.character);
    let word_units = match encoding {
        PositionEncoding::Utf8 => word.len(),
        PositionEncoding::Utf16 => word.encode_utf16().count(),
    };
    let start = Position { line, character: character.saturating_sub(word_units as u32) };
    let first_line = text.lines().next().unwrap_or("").trim();
    let label = format!("{word}{}{}", first_line, if text.contains('\n') { " …" } else { "" });
    let item = CompletionItem {
        label,
        kind: Some(CompletionItemKind::SNIPPET),
        detail: Some("ctxls (model)".to_string()),
        filter_text: Some(format!("{word}{first_line}")),
        sort_text: Some("0".to_string()),
        text_edit: Some(CompletionTextEdit::Edit(TextEdit { range: Range { start, end: position }, new_text: format!("{word}{text}") })),
        insert_text_format: Some(InsertTextFormat::PLAIN_TEXT),
        ..CompletionItem::default()
    };
    Ok(Some(CompletionResponse::List(CompletionList { is_incomplete: true, items: vec![item] })))
}

/// Mentions completed in comments: after `@`, files, documents, their sections and
/// definitions (`ide::knowledge::complete_mentions`); `None` when the cursor is not in a
/// mention inside a comment.
fn mention_completion(site: &Site, position: Position) -> Option<CompletionList> {
    let root = site.root.as_ref()?;
    let (start, typed) = crate::ide::knowledge::mention_at(&site.text, site.offset)?;
    let at = postprocess::Site { lang: site.lang, text: &site.text, offset: site.offset };
    if !postprocess::in_comment_or_string(&at, &site.tree) {
        return None;
    }
    let units = match site.encoding {
        PositionEncoding::Utf8 => site.text[start..site.offset].len(),
        PositionEncoding::Utf16 => site.text[start..site.offset].encode_utf16().count(),
    };
    let range = Range { start: Position { line: position.line, character: position.character.saturating_sub(units as u32) }, end: position };
    let items = crate::ide::knowledge::complete_mentions(typed, &root.snapshot, &root.docs, 50)
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            use crate::ide::knowledge::MentionKind;
            let kind = match item.kind {
                MentionKind::File => CompletionItemKind::FILE,
                MentionKind::Document => CompletionItemKind::FILE,
                MentionKind::Section => CompletionItemKind::REFERENCE,
                MentionKind::Symbol(kind) => super::to_proto::completion_kind(kind),
            };
            CompletionItem {
                label: item.label.clone(),
                kind: Some(kind),
                detail: Some(item.detail),
                sort_text: Some(format!("{i:04}")),
                // The server matched it (by substring or fuzzily); clients filter by prefix.
                filter_text: Some(format!("{typed}{}", item.label)),
                text_edit: Some(CompletionTextEdit::Edit(TextEdit { range, new_text: item.label })),
                ..CompletionItem::default()
            }
        })
        .collect();
    Some(CompletionList { is_incomplete: true, items })
}

/// Start of the identifier that ends at `offset`.
fn word_start(text: &str, offset: usize) -> usize {
    text[..offset].char_indices().rev().take_while(|(_, c)| c.is_alphanumeric() || *c == '_' || *c == '$').last().map_or(offset, |(i, _)| i)
}
