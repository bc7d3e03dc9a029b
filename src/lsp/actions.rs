//! Code actions and commands. `textDocument/codeAction` offers the model's actions on a
//! selection or the definition at the cursor (cheap: nothing is asked until one is
//! chosen); `workspace/executeCommand` runs them: the chat model is asked with the
//! workspace context (`$/progress` while it works), edits are applied with
//! `workspace/applyEdit` as one undoable edit, explanations are returned and shown
//! (`window/showDocument` of a markdown file when the client can, else
//! `window/showMessage`). Arguments and results: docs/lsp-extensions.md.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{json, Value};
use tower_lsp_server::jsonrpc;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::Client;

use super::assist::Assist;
use super::context::{self, OwnedExcerpt, Site};
use super::state::{lock, SharedState};
use super::to_proto;
use crate::base::{LineIndex, TextRange};
use crate::ide::actions::{self, Action};
use crate::ide::knowledge::Knowledge;
use crate::knowledge::prompts::{AppliesTo, Output};
use crate::ide::search_replace;
use crate::io::llm::{resolve_api_key, LlmClient};
use crate::llm::Request;
use crate::workflows::actions as action_flow;
use crate::workflows::requirements::{self as workflow, DIFF_BYTES};

pub const EXPLAIN: &str = "ctxls.explain";
pub const DOCUMENT: &str = "ctxls.document";
pub const TESTS: &str = "ctxls.tests";
pub const FIX: &str = "ctxls.fix";
pub const REFACTOR: &str = "ctxls.refactor";
pub const GENERATE: &str = "ctxls.generate";
pub const ANSWER: &str = "ctxls.answer";
pub const IMPLEMENT: &str = "ctxls.implementRequirements";
pub const SUMMARIZE: &str = "ctxls.summarizeDiff";
pub const SHOW_CONTEXT: &str = "ctxls.showContext";
pub const REINDEX: &str = "ctxls.reindex";
pub const RUN_PROMPT: &str = "ctxls.runPrompt";
pub const LIST_PROMPTS: &str = "ctxls.listPrompts";
pub const COMMANDS: &[&str] =
    &[EXPLAIN, DOCUMENT, TESTS, FIX, REFACTOR, GENERATE, ANSWER, IMPLEMENT, SUMMARIZE, SHOW_CONTEXT, REINDEX, RUN_PROMPT, LIST_PROMPTS];
/// Code action kinds offered.
pub const KINDS: &[&str] = &["quickfix", "refactor.rewrite", "refactor.ctxls.prompt", "source.ctxls"];

/// Tokens of workspace context sent with an action.
const ACTION_CONTEXT_TOKENS: usize = workflow::CONTEXT_TOKENS;

/// Arguments of the action commands (one JSON object).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActionArgs {
    uri: Uri,
    #[serde(default)]
    range: Option<Range>,
    #[serde(default)]
    position: Option<Position>,
    #[serde(default)]
    diagnostics: Vec<String>,
    #[serde(default)]
    instruction: Option<String>,
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    budget: Option<usize>,
    /// `ctxls.runPrompt`: the prompt file's name, and what the user typed for `{{input}}`.
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    input: Option<String>,
}

/// `textDocument/codeAction`: the model's actions on the range; on a requirement comment,
/// "Generate from comment" (or "Answer") first.
pub fn code_actions(state: &SharedState, params: CodeActionParams) -> Vec<CodeActionOrCommand> {
    let uri = params.text_document.uri;
    let range = params.range;
    let mut out: Vec<CodeActionOrCommand> = requirement_commands(state, &uri, Some(range))
        .into_iter()
        .map(|command| {
            let kind = if command.command == GENERATE { CodeActionKind::REFACTOR_REWRITE } else { CodeActionKind::new("source.ctxls") };
            CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("ctxls: {}", command.title),
                kind: Some(kind),
                command: Some(command),
                is_preferred: Some(true),
                ..CodeAction::default()
            })
        })
        .collect();
    let diagnostics: Vec<String> = params.context.diagnostics.iter().map(|d| d.message.clone()).collect();
    let action = |title: &str, command: &str, kind: CodeActionKind, extra: Value| {
        let mut args = json!({ "uri": uri.as_str(), "range": range });
        if let (Value::Object(args), Value::Object(extra)) = (&mut args, extra) {
            args.extend(extra);
        }
        CodeActionOrCommand::CodeAction(CodeAction {
            title: format!("ctxls: {title}"),
            kind: Some(kind),
            command: Some(Command { title: title.to_string(), command: command.to_string(), arguments: Some(vec![args]) }),
            ..CodeAction::default()
        })
    };
    if !diagnostics.is_empty() {
        out.push(action("Fix this", FIX, CodeActionKind::QUICKFIX, json!({ "diagnostics": diagnostics })));
    }
    let source = CodeActionKind::new("source.ctxls");
    out.push(action("Explain", EXPLAIN, source.clone(), json!({})));
    out.push(action("Add documentation comment", DOCUMENT, CodeActionKind::REFACTOR_REWRITE, json!({})));
    out.push(action("Write tests", TESTS, source, json!({})));
    if diagnostics.is_empty() {
        out.push(action("Fix this", FIX, CodeActionKind::QUICKFIX, json!({})));
    }
    // The instruction is asked by the editor plugins; other clients get an error naming it.
    out.push(action("Refactor with an instruction…", REFACTOR, CodeActionKind::REFACTOR_REWRITE, json!({ "needsInput": true })));
    out.extend(prompt_actions(state, &uri, range));
    out
}

/// The commands of the open document's requirement comments (those on `range`'s lines,
/// or all): "Generate from comment" for `act`, "Answer" for `ask`.
pub fn requirement_commands(state: &SharedState, uri: &Uri, range: Option<Range>) -> Vec<Command> {
    let state = lock(state);
    let encoding = state.encoding;
    let Some(open) = state.documents.get(uri.as_str()) else { return Vec::new() };
    open.requirements
        .iter()
        .filter(|r| range.is_none_or(|range| r.start_line <= range.end.line && range.start.line <= r.end_line))
        .map(|r| {
            let position = to_proto::position(open.doc.line_index(), encoding, r.range.start);
            let (title, command) = match r.kind {
                crate::reqs::Kind::Act => ("Generate from comment", GENERATE),
                crate::reqs::Kind::Ask => ("Answer", ANSWER),
            };
            Command { title: title.to_string(), command: command.to_string(), arguments: Some(vec![json!({ "uri": uri.as_str(), "position": position })]) }
        })
        .collect()
}

/// `textDocument/codeLens`: "Generate" / "Answer" above each requirement comment.
pub fn code_lenses(state: &SharedState, uri: &Uri) -> Vec<CodeLens> {
    let commands = requirement_commands(state, uri, None);
    commands
        .into_iter()
        .map(|mut command| {
            let position: Position = serde_json::from_value(command.arguments.as_ref().expect("set above")[0]["position"].clone()).unwrap_or_default();
            command.title = if command.command == GENERATE { "ctxls: Generate".to_string() } else { "ctxls: Answer".to_string() };
            CodeLens { range: Range { start: position, end: position }, command: Some(command), data: None }
        })
        .collect()
}

/// `workspace/executeCommand` for the action and context commands (`ctxls.reindex` is
/// the server's own).
pub async fn execute(client: &Client, state: &SharedState, assist: &Arc<Assist>, params: ExecuteCommandParams) -> jsonrpc::Result<Option<Value>> {
    let arg = params.arguments.into_iter().next().unwrap_or(Value::Null);
    if params.command == LIST_PROMPTS {
        let uri = arg.get("uri").and_then(Value::as_str).and_then(|u| u.parse::<Uri>().ok());
        return Ok(Some(list_prompts(state, uri)));
    }
    if params.command == IMPLEMENT || params.command == SUMMARIZE {
        let uri = arg.get("uri").and_then(Value::as_str).and_then(|u| u.parse::<Uri>().ok());
        if params.command == SUMMARIZE {
            return summarize(client, state, assist, uri).await;
        }
        return implement(client, state, assist, uri).await;
    }
    let args: ActionArgs = serde_json::from_value(arg)
        .map_err(|err| jsonrpc::Error::invalid_params(format!("{}: expected {{uri, range or position, ...}}: {err}", params.command)))?;
    let start = args.range.map(|r| r.start).or(args.position).unwrap_or_default();
    let site = context::site(state, &args.uri, start)?;
    if site.ignored && params.command != SHOW_CONTEXT {
        return Err(jsonrpc::Error::invalid_params(format!("{}: the file is ignored (.gitignore, .ctxlsignore or index.exclude): nothing from it is sent to a model", params.command)));
    }
    let encoding = site.encoding;
    let lines = LineIndex::new(&site.text);
    let end = args.range.map_or(site.offset, |r| crate::lsp::from_proto::offset(&lines, encoding, r.end) as usize).max(site.offset);
    let selection = TextRange::new(site.offset as u32, end as u32);
    let action = match params.command.as_str() {
        SHOW_CONTEXT => return show_context(site, args.query, args.budget).await,
        RUN_PROMPT => {
            let Some(name) = args.name.filter(|n| !n.is_empty()) else {
                return Err(jsonrpc::Error::invalid_params("ctxls.runPrompt needs a `name` argument (a prompt file of .ctxls/prompts/)"));
            };
            return run_prompt(client, state, assist, site, &name, selection, args.input).await;
        }
        EXPLAIN => Action::Explain,
        DOCUMENT => Action::Document,
        TESTS => Action::Tests,
        FIX => Action::Fix { diagnostics: args.diagnostics },
        REFACTOR => match args.instruction.filter(|i| !i.trim().is_empty()) {
            Some(instruction) => Action::Refactor { instruction },
            None => return Err(jsonrpc::Error::invalid_params("ctxls.refactor needs an `instruction` argument (the editor plugins ask for it)")),
        },
        GENERATE | ANSWER => {
            // A requirement comment, else any comment at the position; a question is about
            // the code around it: the definition it sits in or above. On the blocking pool.
            let question = params.command == ANSWER;
            let found = {
                let site = site.clone();
                blocking(&params.command, move || {
                    let (range, text) = action_flow::comment_at(&site.text, &site.tree, site.offset, &site.config)?;
                    let around = question.then(|| action_flow::question_scope(site.lang, &site.text, &site.tree, range, &text));
                    Some((range, text, around))
                })
                .await?
            };
            let Some((range, text, around)) = found else {
                return Err(jsonrpc::Error::invalid_params(format!("{}: no comment at the position", params.command)));
            };
            if let Some(around) = around {
                return run(client, state, assist, site, Action::Answer { question: text }, Some(around), &lines).await;
            }
            return generate(client, state, assist, site, range, text).await;
        }
        other => return Err(jsonrpc::Error::invalid_params(format!("unknown command {other}"))),
    };
    run(client, state, assist, site, action, Some(selection), &lines).await
}

/// Asks the chat model for `action` on the target and applies or shows the answer.
async fn run(
    client: &Client,
    state: &SharedState,
    assist: &Arc<Assist>,
    site: Site,
    action: Action,
    selection: Option<TextRange>,
    lines: &LineIndex,
) -> jsonrpc::Result<Option<Value>> {
    let rel = site.root.as_ref().map_or_else(|| site.uri.rsplit('/').next().unwrap_or("").to_string(), |r| r.rel.clone());
    let (uri, version, encoding) = (site.uri.clone(), site.version, site.encoding);
    let site = Arc::new(site);
    // The target: a parse, on the blocking pool.
    let prepared = {
        let (site, job_action) = (Arc::clone(&site), action.clone());
        blocking(action.title(), move || action_flow::prepare(&job_action, site.lang, &site.text, &site.tree, selection.unwrap_or_default())).await?
    };
    let excerpts = context::gather(&site, prepared.query.clone(), ACTION_CONTEXT_TOKENS).await;
    let knowledge = match &site.root {
        Some(root) => context::knowledge(root, &site.config, prepared.mention_text.clone(), prepared.doc_query.clone()).await,
        None => Default::default(),
    };
    // The request: instruction files are read, on the blocking pool.
    let (settings, mut request) = {
        let (site, job_action, prepared, rel) = (Arc::clone(&site), action.clone(), prepared.clone(), rel.clone());
        blocking(action.title(), move || {
            let target = prepared.target(&rel, site.lang, &site.text);
            action_flow::request(site.root.as_ref().map(|r| r.path.as_path()), &site.config, &job_action, &target, &OwnedExcerpt::borrowed(&excerpts), &knowledge)
        })
        .await?
    };
    let recent = context::recent_edits(&site, &settings.model, site.config.completion.recent_edits_tokens);
    request.prompt = crate::ide::edit_history::apply_to_chat(request.prompt, &recent);
    let target = prepared.target(&rel, site.lang, &site.text);
    let answer = ask_chat(client, state, assist, action.title(), settings, &request).await?;
    if action.is_explanation() {
        show_explanation(client, state, &rel, &answer).await;
        return Ok(Some(json!({ "markdown": answer })));
    }
    let Some(edit) = actions::edit(&action, &target, &answer) else {
        client.show_message(MessageType::INFO, format!("ctxls: {}: the model proposed no change", action.title())).await;
        return Ok(Some(json!({ "applied": false })));
    };
    // Edits go to the text they were computed on, or nowhere.
    apply_document_edit(client, state, &uri, version, encoding, lines, edit).await
}

/// `ctxls.listPrompts`: the prompt files of the root of `uri` (else the first root).
fn list_prompts(state: &SharedState, uri: Option<Uri>) -> Value {
    let state = lock(state);
    let index = state.root_for(uri.as_ref());
    let prompts: Vec<Value> = index
        .map(|i| state.roots[i].prompts.as_ref().clone())
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            json!({
                "name": p.name,
                "title": p.title,
                "path": p.path,
                "appliesTo": p.applies_to,
                "languages": p.languages,
                "output": p.output,
                "needsInput": p.uses("input"),
            })
        })
        .collect();
    json!({ "prompts": prompts })
}

/// The code actions of the root's prompt files that apply at `range` of the document:
/// selection prompts on a selection, symbol prompts in a definition, requirement prompts
/// on a requirement comment, file prompts anywhere; for the document's language.
fn prompt_actions(state: &SharedState, uri: &Uri, range: Range) -> Vec<CodeActionOrCommand> {
    let state = lock(state);
    let encoding = state.encoding;
    let Some(open) = state.documents.get(uri.as_str()) else { return Vec::new() };
    if open.ignored {
        return Vec::new();
    }
    let Some(i) = open.path.as_deref().and_then(|p| state.root_of(p)) else { return Vec::new() };
    let root = &state.roots[i];
    if root.prompts.is_empty() {
        return Vec::new();
    }
    let lines = open.doc.line_index();
    let start = crate::lsp::from_proto::offset(lines, encoding, range.start);
    let end = crate::lsp::from_proto::offset(lines, encoding, range.end);
    let rel = open.path.as_deref().map(|p| crate::io::vfs::relative_path(&root.path, p)).unwrap_or_default();
    let in_definition = root.index.get(&rel).is_some_and(|entry| entry.index().symbols.iter().any(|s| s.kind != crate::index::SymbolKind::Impl && s.range.contains_inclusive(start)));
    let on_requirement = open.requirements.iter().any(|r| r.kind == crate::reqs::Kind::Act && r.start_line <= range.end.line && range.start.line <= r.end_line);
    let language = open.doc.lang.name().to_ascii_lowercase();
    root.prompts
        .iter()
        .filter(|p| p.for_language(&language))
        .filter(|p| match p.applies_to {
            AppliesTo::Selection => end > start,
            AppliesTo::Symbol => in_definition,
            AppliesTo::Requirement => on_requirement,
            AppliesTo::File => true,
        })
        .map(|p| {
            let title = if p.uses("input") { format!("{}…", p.title) } else { p.title.clone() };
            CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("ctxls: {title}"),
                kind: Some(CodeActionKind::new("refactor.ctxls.prompt")),
                command: Some(Command {
                    title,
                    command: RUN_PROMPT.to_string(),
                    arguments: Some(vec![json!({ "name": p.name, "uri": uri.as_str(), "range": range, "needsInput": p.uses("input") })]),
                }),
                ..CodeAction::default()
            })
        })
        .collect()
}

/// `ctxls.runPrompt`: a prompt file run on its target at the site; the answer replaces
/// the target, is applied as SEARCH/REPLACE blocks, or is shown, as the file says.
async fn run_prompt(
    client: &Client,
    state: &SharedState,
    assist: &Arc<Assist>,
    site: Site,
    name: &str,
    selection: TextRange,
    input: Option<String>,
) -> jsonrpc::Result<Option<Value>> {
    let Some(root) = site.root.as_ref() else {
        return Err(jsonrpc::Error::invalid_params("ctxls.runPrompt: the document is outside every workspace folder"));
    };
    let prompt = crate::workflows::prompt_file::find(&root.prompts, name).map_err(|err| jsonrpc::Error::invalid_params(format!("ctxls.runPrompt: {err}")))?.clone();
    if prompt.uses("input") && input.as_deref().is_none_or(|i| i.trim().is_empty()) {
        return Err(jsonrpc::Error::invalid_params(format!("ctxls.runPrompt: the prompt `{name}` needs an `input` argument (the editor plugins ask for it)")));
    }
    let what = prompt.title.clone();
    // The target and the requirement: a parse, on the blocking pool.
    let prepared = {
        let (site, prompt, input) = (site.clone(), prompt.clone(), input.clone());
        blocking("ctxls.runPrompt", move || {
            let rel = site.root.as_ref().map_or("", |r| r.rel.as_str());
            let at = crate::workflows::prompt_file::Site { path: rel, lang: site.lang, text: &site.text, tree: &site.tree, selection, lines: None, input: input.as_deref() };
            crate::workflows::prompt_file::prepare(&prompt, &at, &site.config)
        })
        .await?
        .map_err(jsonrpc::Error::invalid_params)?
    };
    let (range, ask) = (prepared.range, prepared.ask.clone());
    // Context: retrieved code, what the requirement or the input mentions, documents.
    let context_text = if prompt.uses("context") {
        let site = Arc::new(Site { offset: range.start as usize, ..site.clone() });
        let excerpts = context::gather(&site, Some(ask.clone()).filter(|a| !a.is_empty()), ACTION_CONTEXT_TOKENS).await;
        let knowledge = context::knowledge(root, &site.config, ask.clone(), format!("{} {}", prompt.title, ask)).await;
        crate::ide::prompt_files::context_text(&knowledge, &OwnedExcerpt::borrowed(&excerpts))
    } else {
        String::new()
    };
    let diff = if prompt.uses("diff") {
        let (path, index_config) = (root.path.clone(), site.config.index.clone());
        tokio::task::spawn_blocking(move || crate::io::git::working_tree_diff(&path, &index_config, DIFF_BYTES).ok().flatten()).await.ok().flatten()
    } else {
        None
    };
    // The request: instruction files are read, on the blocking pool.
    let (settings, request) = {
        let (site, prompt, prepared, input, root_path) = (site.clone(), prompt.clone(), prepared.clone(), input.clone(), root.path.clone());
        blocking("ctxls.runPrompt", move || {
            let rel = site.root.as_ref().map_or("", |r| r.rel.as_str());
            let target = prepared.target(rel, site.lang, &site.text);
            let values = crate::ide::prompt_files::Values { context: &context_text, diff: diff.as_deref(), input: input.as_deref() };
            crate::workflows::prompt_file::request(&prompt, &prepared, &target, &values, &root_path, &site.config)
        })
        .await?
        .map_err(jsonrpc::Error::invalid_params)?
    };
    let settings_for_repair = settings.clone();
    let completion = ask_chat_full(client, state, assist, &what, settings, &request).await?;
    let answer = completion.text.clone();
    match prompt.output {
        Output::Message => {
            show_explanation(client, state, &root.rel, &answer).await;
            Ok(Some(json!({ "markdown": answer })))
        }
        Output::Edit => {
            let asked = prepared.asked(&prompt, input.as_deref());
            apply_answer(client, state, &what, root, &site.config.index, &asked, site.encoding, &completion, Some((&settings_for_repair, &request))).await
        }
        Output::Replace => {
            let target = prepared.target(&root.rel, site.lang, &site.text);
            let Some(edit) = crate::ide::prompt_files::replacement(&target, &answer) else {
                client.show_message(MessageType::INFO, format!("ctxls: {what}: the model proposed no change")).await;
                return Ok(Some(json!({ "applied": false })));
            };
            apply_document_edit(client, state, &site.uri, site.version, site.encoding, &LineIndex::new(&site.text), edit).await
        }
    }
}

/// Applies one edit to the open document `uri` at `version` as a versioned
/// `workspace/applyEdit`; `ContentModified` when the document changed meanwhile.
async fn apply_document_edit(
    client: &Client,
    state: &SharedState,
    uri: &str,
    version: i32,
    encoding: crate::base::PositionEncoding,
    lines: &LineIndex,
    edit: actions::Edit,
) -> jsonrpc::Result<Option<Value>> {
    let current = lock(state).documents.get(uri).map(|d| d.version);
    if current != Some(version) {
        return Err(jsonrpc::Error::content_modified());
    }
    let range = to_proto::range(lines, encoding, edit.range);
    let uri_value: Uri = uri.parse().map_err(|_| jsonrpc::Error::invalid_params("bad uri"))?;
    let change = WorkspaceEdit {
        document_changes: Some(DocumentChanges::Edits(vec![TextDocumentEdit {
            text_document: OptionalVersionedTextDocumentIdentifier { uri: uri_value, version: Some(version) },
            edits: vec![OneOf::Left(TextEdit { range, new_text: edit.new_text.clone() })],
        }])),
        ..WorkspaceEdit::default()
    };
    let applied = match client.apply_edit(change).await {
        Ok(response) => response.applied,
        Err(err) => {
            tracing::warn!("workspace/applyEdit failed: {err}");
            false
        }
    };
    Ok(Some(json!({ "applied": applied, "edit": { "range": range, "newText": edit.new_text } })))
}

/// "Generate from comment": the chat model implements the comment's requirement in
/// SEARCH/REPLACE blocks, which are validated against the current texts (every block
/// must match once) and applied together as one `workspace/applyEdit`, or not at all.
async fn generate(client: &Client, state: &SharedState, assist: &Arc<Assist>, site: Site, comment: TextRange, requirement: String) -> jsonrpc::Result<Option<Value>> {
    const WHAT: &str = "Generate from comment";
    let Some(root) = site.root.clone() else {
        return Err(internal_error(format!("{WHAT}: the document is outside every workspace folder")));
    };
    let scope = {
        let (site, requirement) = (site.clone(), requirement.clone());
        blocking(WHAT, move || workflow::generate_scope(site.lang, &site.text, &site.tree, comment, &requirement)).await?
    };
    let site = Arc::new(site);
    let excerpts = context::gather(&site, Some(requirement.clone()), ACTION_CONTEXT_TOKENS).await;
    let knowledge = context::knowledge(&root, &site.config, requirement.clone(), requirement.clone()).await;
    // The working tree's diff (the request takes the file's part).
    let diff = {
        let (path, index_config) = (root.path.clone(), site.config.index.clone());
        tokio::task::spawn_blocking(move || crate::io::git::working_tree_diff(&path, &index_config, DIFF_BYTES).ok().flatten()).await.ok().flatten()
    };
    // The request: instruction files are read, on the blocking pool.
    let (settings, request) = {
        let (site, root, requirement) = (Arc::clone(&site), root.clone(), requirement.clone());
        blocking(WHAT, move || {
            let excerpts = OwnedExcerpt::borrowed(&excerpts);
            workflow::generate_request(&root.path, &site.config, &root.rel, site.lang, &site.text, &requirement, scope, &excerpts, diff.as_deref(), &knowledge)
        })
        .await?
    };
    let settings_for_repair = settings.clone();
    let answer = ask_chat_full(client, state, assist, WHAT, settings, &request).await?;
    apply_answer(client, state, WHAT, &root, &site.config.index, &requirement, site.encoding, &answer, Some((&settings_for_repair, &request))).await
}

/// Applies a SEARCH/REPLACE answer under `root`: every path checked against the write
/// rules (`io::writes`: never `.git/`, ctxls's configuration, ignored or secret files,
/// outside the workspace; other languages only when `request` names them), every block
/// checked against the open documents' text (else the disk's), no syntax errors added,
/// then one versioned `workspace/applyEdit` (new files created), or nothing and a warning
/// naming the problem. Matching and parsing run on the blocking pool. Open documents
/// changed since the request make it `ContentModified`.
#[allow(clippy::too_many_arguments)]
async fn apply_answer(
    client: &Client,
    state: &SharedState,
    what: &str,
    root: &context::RootView,
    config: &crate::config::IndexConfig,
    request_text: &str,
    encoding: crate::base::PositionEncoding,
    completion: &crate::io::llm::Completion,
    repair: Option<(&crate::config::ModelSettings, &Request)>,
) -> jsonrpc::Result<Option<Value>> {
    let answer = completion.text.as_str();
    let refuse = |message: String| async move {
        // The answer is kept for the user to read, and a cut one says so.
        let cache_dir = crate::io::store::Store::default_dir(&root.path, lock(state).cache_dir.as_deref());
        let unused = {
            let (completion, what, max_tokens) = (completion.clone(), what.to_string(), repair.map_or(0, |(_, r)| r.max_tokens));
            tokio::task::spawn_blocking(move || crate::workflows::edit::UnusedAnswer::keep(&completion, max_tokens, &cache_dir, &what)).await.ok()
        };
        let mut message = message;
        if let Some(limit) = unused.as_ref().and_then(|u| u.cut_at) {
            message.push_str(&format!("; the answer was cut at its limit of {limit} tokens (raise [llm.chat] max_tokens)"));
        }
        if let Some(path) = unused.and_then(|u| u.kept.ok()) {
            message.push_str(&format!("; the model's answer is kept in {}", path.display()));
        }
        client.show_message(MessageType::WARNING, format!("ctxls: {what}: {message}")).await;
        Err(internal_error(format!("{what}: {message}")))
    };
    let site = Arc::new(crate::workflows::edit::EditSite {
        root: root.path.clone(),
        config: config.clone(),
        request_text: request_text.to_string(),
        open: root.open_texts.clone(),
    });
    let ask_again = |again: Request| async move {
        let (settings, _) = repair?;
        LlmClient::new(settings.clone(), resolve_api_key(settings)).complete(&again, &mut |_| {}).await.ok().map(|answer| answer.text)
    };
    let checked = match site.check_with_repair(answer, repair.map(|(_, request)| request), ask_again, || {}).await {
        Ok(checked) => checked,
        Err(errors) => return refuse(format!("{}; nothing was changed", errors.join("; "))).await,
    };
    let (plan, report) = (checked.plan, checked.syntax_errors);
    if !report.is_empty() {
        // Offered with a clear warning, never applied silently.
        let listed: Vec<String> = report
            .iter()
            .map(|(path, lines)| format!("{path} (line {})", lines.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")))
            .collect();
        let message = format!("ctxls: {what}: the change adds syntax errors in {}. Apply it anyway?", listed.join(", "));
        let choice = client
            .show_message_request(MessageType::WARNING, message, Some(vec![MessageActionItem { title: "Apply anyway".into(), properties: Default::default() }, MessageActionItem { title: "Discard".into(), properties: Default::default() }]))
            .await;
        if !matches!(choice, Ok(Some(item)) if item.title == "Apply anyway") {
            return Ok(Some(json!({ "applied": false, "syntaxErrors": listed, "diff": search_replace::unified_diff(&plan) })));
        }
    }
    // Edits go to the text they were computed on, or nowhere.
    {
        let state = lock(state);
        let stale = plan.files.iter().filter_map(|f| root.open_versions.get(&f.path)).any(|(uri, version)| state.documents.get(uri).map(|d| d.version) != Some(*version));
        if stale {
            return Err(jsonrpc::Error::content_modified());
        }
    }
    let mut operations = Vec::new();
    for change in &plan.files {
        let Some(file_uri) = Uri::from_file_path(root.path.join(&change.path)) else { continue };
        let document_version = root.open_versions.get(&change.path).map(|(_, version)| *version);
        if change.old_text.is_none() {
            operations.push(DocumentChangeOperation::Op(ResourceOp::Create(CreateFile { uri: file_uri.clone(), options: None, annotation_id: None })));
        }
        let old_lines = LineIndex::new(change.old_text.as_deref().unwrap_or(""));
        let edits = change
            .edits
            .iter()
            .map(|(start, end, text)| OneOf::Left(TextEdit { range: to_proto::range(&old_lines, encoding, TextRange::new(*start as u32, *end as u32)), new_text: text.clone() }))
            .collect();
        operations.push(DocumentChangeOperation::Edit(TextDocumentEdit { text_document: OptionalVersionedTextDocumentIdentifier { uri: file_uri, version: document_version }, edits }));
    }
    let edit = WorkspaceEdit { document_changes: Some(DocumentChanges::Operations(operations)), ..WorkspaceEdit::default() };
    let applied = match client.apply_edit(edit).await {
        Ok(response) => response.applied,
        Err(err) => {
            tracing::warn!("workspace/applyEdit failed: {err}");
            false
        }
    };
    let files: Vec<&str> = plan.files.iter().map(|f| f.path.as_str()).collect();
    Ok(Some(json!({ "applied": applied, "files": files, "dropped": plan.dropped, "diff": search_replace::unified_diff(&plan) })))
}

/// "Implement the diff": every `act` requirement added in the working tree's changes of
/// the root (of `uri`, else the first), in one request with the diff, the files' relevant
/// parts and retrieved context; the multi-file answer applied as one edit.
async fn implement(client: &Client, state: &SharedState, assist: &Arc<Assist>, uri: Option<Uri>) -> jsonrpc::Result<Option<Value>> {
    const WHAT: &str = "Implement requirements";
    let (root, config, encoding) = {
        let state = lock(state);
        let index = state.root_for(uri.as_ref());
        let Some(i) = index else { return Err(jsonrpc::Error::invalid_params("no workspace folder")) };
        (state.roots[i].path.clone(), state.roots[i].config.clone(), state.encoding)
    };
    // The working tree's requirements and diff, their scopes, the first file's tree: git,
    // reads and parses, on the blocking pool.
    let (job_root, job_config) = (root.clone(), config.clone());
    let collected = blocking(WHAT, move || -> Result<_, String> {
        let changed = workflow::changed_requirements(&job_root, &job_config).map_err(|e| e.to_string())?.ok_or("the workspace is not inside a git repository")?;
        let scopes = workflow::scopes(&changed.found);
        let first_tree = changed.found.first().zip(scopes.first()).map(|(f, (lang, _))| crate::lang::parse(*lang, &f.text, None));
        Ok((changed, scopes, first_tree))
    })
    .await?;
    let (workflow::Changed { found, diff }, scopes, first_tree) = collected.map_err(|err| jsonrpc::Error::invalid_params(format!("{WHAT}: {err}")))?;
    let Some(first_tree) = first_tree else {
        client.show_message(MessageType::INFO, "ctxls: no requirement comment (`// AI: ...`, `... AI!`) in the working tree's changes").await;
        return Ok(Some(json!({ "applied": false, "requirements": 0 })));
    };
    // Context at the first requirement, queried with all of them.
    let first = &found[0];
    let query = workflow::implement_query(&found);
    let query_text = query.clone();
    let view = context::root_view(state, &root);
    let knowledge = match &view {
        Some(view) => context::knowledge(view, &config, query.clone(), query.clone()).await,
        None => Default::default(),
    };
    let excerpts = match view {
        Some(view) => {
            let site = Arc::new(Site {
                uri: Uri::from_file_path(root.join(&first.path)).map(|u| u.as_str().to_string()).unwrap_or_default(),
                version: 0,
                lang: scopes[0].0,
                text: first.text.clone(),
                tree: first_tree,
                offset: first.requirement.range.start as usize,
                encoding,
                ignored: false,
                config: config.clone(),
                root: Some(context::RootView { rel: first.path.clone(), ..view }),
            });
            context::gather(&site, Some(query), ACTION_CONTEXT_TOKENS).await
        }
        None => Vec::new(),
    };
    // The request: instruction files are read, on the blocking pool.
    let (settings, request) = {
        let (root, config) = (root.clone(), config.clone());
        blocking(WHAT, move || workflow::implement_request(&root, &config, &found, &scopes, &OwnedExcerpt::borrowed(&excerpts), &diff, &knowledge)).await?
    };
    let settings_for_repair = settings.clone();
    let answer = ask_chat_full(client, state, assist, WHAT, settings, &request).await?;
    let Some(view) = context::root_view(state, &root) else { return Err(internal_error(format!("{WHAT}: the workspace folder was removed"))) };
    apply_answer(client, state, WHAT, &view, &config.index, &query_text, encoding, &answer, Some((&settings_for_repair, &request))).await
}

/// "Summarize the diff": the working tree's changes of the root (of `uri`, else the
/// first) described by the chat model; returned and shown like an explanation.
async fn summarize(client: &Client, state: &SharedState, assist: &Arc<Assist>, uri: Option<Uri>) -> jsonrpc::Result<Option<Value>> {
    const WHAT: &str = "Summarize the diff";
    let (root, config) = {
        let state = lock(state);
        let index = state.root_for(uri.as_ref());
        let Some(i) = index else { return Err(jsonrpc::Error::invalid_params("no workspace folder")) };
        (state.roots[i].path.clone(), state.roots[i].config.clone())
    };
    let (job_root, index_config) = (root.clone(), config.index.clone());
    let diff = blocking(WHAT, move || crate::io::git::working_tree_diff(&job_root, &index_config, workflow::SUMMARY_DIFF_BYTES))
        .await?
        .map_err(|err| internal_error(format!("{WHAT}: {err}")))?;
    let Some(diff) = diff.filter(|d| !d.trim().is_empty()) else {
        client.show_message(MessageType::INFO, "ctxls: the working tree has no changes against HEAD").await;
        return Ok(Some(json!({ "markdown": "" })));
    };
    let (settings, request) = workflow::summary_request(&config, &diff);
    let answer = ask_chat(client, state, assist, WHAT, settings, &request).await?;
    show_explanation(client, state, "diff summary", &answer).await;
    Ok(Some(json!({ "markdown": answer })))
}

/// Runs `job` on the blocking pool: CPU and file work never runs on the serving task.
async fn blocking<T: Send + 'static>(what: &str, job: impl FnOnce() -> T + Send + 'static) -> jsonrpc::Result<T> {
    tokio::task::spawn_blocking(job).await.map_err(|err| internal_error(format!("{what}: {err}")))
}

fn internal_error(message: String) -> jsonrpc::Error {
    jsonrpc::Error { code: jsonrpc::ErrorCode::InternalError, message: message.into(), data: None }
}

/// `ctxls.showContext`: the context that would be sent at the position — the code
/// snippets, and for a query (or the requirement comment at the position) the
/// instructions, mentions and document sections a chat request would include, with why.
async fn show_context(site: Site, query: Option<String>, budget: Option<usize>) -> jsonrpc::Result<Option<Value>> {
    let budget = budget.unwrap_or(site.config.completion.context_tokens);
    let site = Arc::new(site);
    // The requirement comment at the position is the query when none is given; the
    // instruction files apply to every chat request about the file. On the blocking pool.
    let (query, instructions) = {
        let site = Arc::clone(&site);
        blocking("ctxls.showContext", move || {
            let query = query.filter(|q| !q.trim().is_empty()).or_else(|| action_flow::requirement_at(&site.text, &site.tree, site.offset, &site.config));
            let instructions: Vec<Value> = match &site.root {
                Some(root) => crate::io::instructions::listed(&root.path, &root.rel, &site.config).into_iter().map(|(path, tokens)| json!({ "path": path, "tokens": tokens })).collect(),
                None => Vec::new(),
            };
            (query, instructions)
        })
        .await?
    };
    let excerpts = context::gather(&site, query.clone(), budget).await;
    let tokens: usize = excerpts.iter().map(|e| e.tokens).sum();
    let knowledge = match (&site.root, &query) {
        (Some(root), Some(query)) => context::knowledge(root, &site.config, query.clone(), query.clone()).await,
        _ => Knowledge::default(),
    };
    Ok(Some(json!({
        "snippets": excerpts,
        "tokens": tokens,
        "budget": budget,
        "query": query,
        "instructions": instructions,
        "mentions": knowledge.mentions,
        "unresolved": knowledge.unresolved.iter().map(|u| json!({ "mention": format!("@{}", u.mention.raw), "reason": u.reason })).collect::<Vec<_>>(),
        "documents": knowledge.documents,
    })))
}

async fn begin_progress(client: &Client, state: &SharedState, title: &str) -> Option<tower_lsp_server::OngoingProgress<tower_lsp_server::Unbounded, tower_lsp_server::NotCancellable>> {
    if !lock(state).caps.work_done_progress {
        return None;
    }
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let token = ProgressToken::String(format!("ctxls/action/{}", NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)));
    client.create_work_done_progress(token.clone()).await.ok()?;
    Some(client.progress(token, format!("ctxls: {title}")).with_message("asking the model").begin().await)
}

/// Asks the chat model with `$/progress` while it works; a failure is reported (once a
/// minute) and returned as an internal error naming `what`.
async fn ask_chat(
    client: &Client,
    state: &SharedState,
    assist: &Arc<Assist>,
    what: &str,
    settings: crate::config::ModelSettings,
    request: &Request,
) -> jsonrpc::Result<String> {
    ask_chat_full(client, state, assist, what, settings, request).await.map(|answer| answer.text)
}

/// Like `ask_chat`, with the finish reason (was the answer cut at the token limit?).
async fn ask_chat_full(
    client: &Client,
    state: &SharedState,
    assist: &Arc<Assist>,
    what: &str,
    settings: crate::config::ModelSettings,
    request: &Request,
) -> jsonrpc::Result<crate::io::llm::Completion> {
    let progress = begin_progress(client, state, what).await;
    let key = resolve_api_key(&settings);
    let answer = assist.status.track(LlmClient::new(settings, key).complete(request, &mut |_| {})).await;
    if let Some(progress) = progress {
        progress.finish().await;
    }
    match answer {
        Ok(answer) => Ok(answer),
        Err(err) => {
            // `data.shown`: the user already saw it (clients need not show it again).
            let shown = assist.report_failure(client, &format!("{what} failed"), &err).await;
            Err(jsonrpc::Error { data: Some(json!({ "shown": shown })), ..internal_error(format!("{what}: {err}")) })
        }
    }
}

/// Shows an explanation: a markdown document when the client opens documents for the
/// server, else a message. The document goes to `explanations/` in the user's cache
/// directory (`--cache-dir`, else `$CTXLS_CACHE_DIR`, else `$XDG_CACHE_HOME/ctxls` or
/// `~/.cache/ctxls`), a directory of mode 0700 holding files of mode 0600: never the
/// system's shared temporary directory. Without a cache directory, a message.
async fn show_explanation(client: &Client, state: &SharedState, rel: &str, markdown: &str) {
    let (show_document, dir) = {
        let state = lock(state);
        let dir = state
            .cache_dir
            .clone()
            .or_else(|| std::env::var_os("CTXLS_CACHE_DIR").filter(|d| !d.is_empty()).map(std::path::PathBuf::from))
            .or_else(|| std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()).map(|d| std::path::PathBuf::from(d).join("ctxls")))
            .or_else(|| std::env::var_os("HOME").filter(|d| !d.is_empty()).map(|h| std::path::PathBuf::from(h).join(".cache").join("ctxls")));
        (state.caps.show_document, dir)
    };
    if let (true, Some(dir)) = (show_document, dir) {
        let dir = dir.join("explanations");
        let name = format!("{}-{:x}.md", rel.replace(['/', '\\'], "_"), crate::base::content_hash(markdown.as_bytes()));
        let path = dir.join(name);
        let written = {
            let (dir, path, contents) = (dir.clone(), path.clone(), format!("# {rel}\n\n{markdown}\n"));
            tokio::task::spawn_blocking(move || crate::io::writes::write_private(&dir, &path, contents.as_bytes()))
                .await
                .unwrap_or_else(|err| Err(std::io::Error::other(err.to_string())))
        };
        if let Err(err) = &written {
            tracing::warn!("could not write the explanation to {}: {err}", path.display());
        }
        if let (Ok(()), Some(uri)) = (written, Uri::from_file_path(&path)) {
            let params = ShowDocumentParams { uri, external: Some(false), take_focus: Some(true), selection: None };
            if client.show_document(params).await.is_ok_and(|shown| shown) {
                return;
            }
        }
    }
    client.show_message(MessageType::INFO, markdown.to_string()).await;
}

