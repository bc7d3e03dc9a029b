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
use super::context::{self, Site};
use super::state::{lock, SharedState};
use super::to_proto;
use crate::base::{LineIndex, TextRange};
use crate::ide::actions::{self, Action};
use crate::ide::knowledge::Knowledge;
use crate::knowledge::prompts::AppliesTo;
use crate::ide::search_replace;
use crate::io::llm::{resolve_api_key, LlmClient};
use crate::workflows::actions as action_flow;
use crate::workflows::host::{Ask, AskError, ContextAt, Done, Host, OwnedExcerpt, Proposal, Purpose, Stop, Workspace};
use crate::workflows::requirements as workflow;
use crate::retrieve::Packing;
use std::collections::HashMap;
use std::future::Future;

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
    // A newer run of the same command with the same arguments (the same target: a second
    // click on a lens, a repeated key) supersedes this one: its future is dropped, which
    // cancels its workflow's token as `$/cancelRequest` does. Runs on other targets, even
    // in the same document, go on side by side. Listing prompts and showing context ask no
    // model and are not superseded.
    if params.command == LIST_PROMPTS || params.command == SHOW_CONTEXT {
        return execute_command(client, state, assist, params).await;
    }
    let about = serde_json::to_string(&params.arguments).unwrap_or_default();
    let superseded = assist.begin(&format!("command\0{}\0{about}", params.command));
    tokio::select! {
        answer = execute_command(client, state, assist, params) => answer,
        () = superseded => Err(jsonrpc::Error::request_cancelled()),
    }
}

async fn execute_command(client: &Client, state: &SharedState, assist: &Arc<Assist>, params: ExecuteCommandParams) -> jsonrpc::Result<Option<Value>> {
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
                return run_action(client, state, assist, site, Action::Answer { question: text }, Some(around)).await;
            }
            return generate(client, state, assist, site, range, text).await;
        }
        other => return Err(jsonrpc::Error::invalid_params(format!("unknown command {other}"))),
    };
    run_action(client, state, assist, site, action, Some(selection)).await
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

/// Runs a workflow on a task of its own, off the serving task (tower-lsp-server polls
/// every handler in one task). The request's future dropped (`$/cancelRequest`) cancels
/// the workflow's token: it stops asking and proposes nothing.
async fn off_serving_task<Work>(host: LspHost, work: impl FnOnce(Arc<LspHost>) -> Work) -> jsonrpc::Result<Option<Value>>
where
    Work: Future<Output = jsonrpc::Result<Option<Value>>> + Send + 'static,
{
    let _cancel_when_dropped = host.cancel().on_drop();
    match tokio::spawn(work(Arc::new(host))).await {
        Ok(answer) => answer,
        // A panic goes on to the service's wrapper (`lsp::panics`), as one in the handler.
        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        Err(err) => Err(internal_error(format!("the workflow failed: {err}"))),
    }
}

/// A code action (explain, document, tests, fix, refactor, answer) at the site, run by
/// the workflow on a task of its own.
async fn run_action(client: &Client, state: &SharedState, assist: &Arc<Assist>, site: Site, action: Action, selection: Option<TextRange>) -> jsonrpc::Result<Option<Value>> {
    let rel = site.root.as_ref().map_or_else(|| site.uri.rsplit('/').next().unwrap_or("").to_string(), |r| r.rel.clone());
    let at = ContextAt { rel, text: site.text.clone(), offset: site.offset, parsed: Some((site.lang, site.tree.clone())) };
    let host = LspHost::for_site(client, state, assist, site);
    off_serving_task(host, |host| async move {
        let what = action.title();
        let done = crate::workflows::actions::action(&*host, action, at, selection.unwrap_or_default()).await;
        host.finish(what, done).await
    })
    .await
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
    let at = ContextAt { rel: root.rel.clone(), text: site.text.clone(), offset: site.offset, parsed: Some((site.lang, site.tree.clone())) };
    let run_at = crate::workflows::prompt_file::RunAt { at, selection, lines: None, input };
    let host = LspHost::for_site(client, state, assist, site);
    off_serving_task(host, |host| async move {
        let done = crate::workflows::prompt_file::run(&*host, &prompt, run_at).await;
        host.finish(&prompt.title, done).await
    })
    .await
}

/// "Generate from comment": the chat model implements the comment's requirement in
/// SEARCH/REPLACE blocks, which are validated against the current texts (every block
/// must match once) and applied together as one `workspace/applyEdit`, or not at all.
async fn generate(client: &Client, state: &SharedState, assist: &Arc<Assist>, site: Site, comment: TextRange, requirement: String) -> jsonrpc::Result<Option<Value>> {
    let rel = site.root.as_ref().map(|r| r.rel.clone()).unwrap_or_default();
    let at = ContextAt { rel, text: site.text.clone(), offset: site.offset, parsed: Some((site.lang, site.tree.clone())) };
    let host = LspHost::for_site(client, state, assist, site);
    off_serving_task(host, |host| async move {
        let done = workflow::generate(&*host, workflow::GenerateAt { at, comment, requirement }).await;
        host.finish("Generate from comment", done).await
    })
    .await
}

/// "Implement the diff": every `act` requirement added in the working tree's changes of
/// the root (of `uri`, else the first), in one request with the diff, the files' relevant
/// parts and retrieved context; the multi-file answer applied as one edit.
async fn implement(client: &Client, state: &SharedState, assist: &Arc<Assist>, uri: Option<Uri>) -> jsonrpc::Result<Option<Value>> {
    const WHAT: &str = "Implement requirements";
    let host = LspHost::for_root(client, state, assist, uri.as_ref(), true)?;
    off_serving_task(host, |host| async move {
        match workflow::implement(&*host).await {
            Err(Stop::NoRequirements) => {
                host.client.show_message(MessageType::INFO, "ctxls: no requirement comment (`// AI: ...`, `... AI!`) in the working tree's changes").await;
                Ok(Some(json!({ "applied": false, "requirements": 0 })))
            }
            Err(Stop::NotInGit) => Err(jsonrpc::Error::invalid_params(format!("{WHAT}: the workspace is not inside a git repository"))),
            Err(Stop::Git(err)) => Err(jsonrpc::Error::invalid_params(format!("{WHAT}: {err}"))),
            done => host.finish(WHAT, done).await,
        }
    })
    .await
}

/// "Summarize the diff": the working tree's changes of the root (of `uri`, else the
/// first) described by the chat model; returned and shown like an explanation.
async fn summarize(client: &Client, state: &SharedState, assist: &Arc<Assist>, uri: Option<Uri>) -> jsonrpc::Result<Option<Value>> {
    const WHAT: &str = "Summarize the diff";
    let host = LspHost::for_root(client, state, assist, uri.as_ref(), false)?;
    off_serving_task(host, |host| async move {
        match workflow::summarize(&*host).await {
            Err(Stop::NoChanges | Stop::NotInGit) => {
                host.client.show_message(MessageType::INFO, "ctxls: the working tree has no changes against HEAD").await;
                Ok(Some(json!({ "markdown": "" })))
            }
            done => host.finish(WHAT, done).await,
        }
    })
    .await
}

type Progress = tower_lsp_server::OngoingProgress<tower_lsp_server::Unbounded, tower_lsp_server::NotCancellable>;

/// The server as a workflow's host: context from the root's snapshot, the model asked
/// with `$/progress` and the status, answers shown with `window/showDocument` and edits
/// proposed with `workspace/applyEdit`, versioned.
struct LspHost {
    workspace: Workspace,
    client: Client,
    state: SharedState,
    assist: Arc<Assist>,
    encoding: crate::base::PositionEncoding,
    /// The root's view taken with the request; `None` outside every workspace folder.
    view: Option<context::RootView>,
    /// The document the request is about (edits go to its version or nowhere).
    site: Option<Arc<Site>>,
    /// Edits are checked against the root's documents as they are when the answer comes
    /// (a request about no one document), not as they were at the request.
    fresh_view: bool,
    edit_view: std::sync::Mutex<Option<context::RootView>>,
    progress: std::sync::Mutex<Option<Progress>>,
}

impl LspHost {
    fn new(client: &Client, state: &SharedState, assist: &Arc<Assist>, config: crate::config::Config, view: Option<context::RootView>, site: Option<Site>) -> LspHost {
        LspHost {
            workspace: Workspace::new(view.as_ref().map(|v| v.path.clone()), config),
            client: client.clone(),
            state: Arc::clone(state),
            assist: Arc::clone(assist),
            encoding: lock(state).encoding,
            view,
            site: site.map(Arc::new),
            fresh_view: false,
            edit_view: Default::default(),
            progress: Default::default(),
        }
    }

    fn for_site(client: &Client, state: &SharedState, assist: &Arc<Assist>, site: Site) -> LspHost {
        LspHost::new(client, state, assist, site.config.clone(), site.root.clone(), Some(site))
    }

    /// For a request about a root (of `uri`, else the first).
    fn for_root(client: &Client, state: &SharedState, assist: &Arc<Assist>, uri: Option<&Uri>, fresh_view: bool) -> jsonrpc::Result<LspHost> {
        let (root, config) = {
            let state = lock(state);
            let Some(i) = state.root_for(uri) else { return Err(jsonrpc::Error::invalid_params("no workspace folder")) };
            (state.roots[i].path.clone(), state.roots[i].config.clone())
        };
        let view = context::root_view(state, &root).ok_or_else(|| jsonrpc::Error::invalid_params("no workspace folder"))?;
        Ok(LspHost { fresh_view, ..LspHost::new(client, state, assist, config, Some(view), None) })
    }

    /// The view edits are checked against and proposed to.
    fn view_for_edits(&self) -> Option<context::RootView> {
        if !self.fresh_view {
            return self.view.clone();
        }
        let mut edit_view = self.edit_view.lock().unwrap_or_else(|p| p.into_inner());
        if edit_view.is_none() {
            *edit_view = self.view.as_ref().and_then(|view| context::root_view(&self.state, &view.path));
        }
        edit_view.clone()
    }

    /// The workflow's end as the command's answer: what it proposed, or why nothing, said
    /// to the user as the server says it.
    async fn finish(&self, what: &str, done: Done<jsonrpc::Result<Option<Value>>>) -> jsonrpc::Result<Option<Value>> {
        let stop = match done {
            Ok(reply) => return reply,
            Err(stop) => stop,
        };
        match stop {
            Stop::Cancelled => Err(jsonrpc::Error::request_cancelled()),
            Stop::Failed { message, shown } => {
                // `data.shown`: the user already saw it (clients need not show it again).
                Err(jsonrpc::Error { data: Some(json!({ "shown": shown })), ..internal_error(message) })
            }
            Stop::NoChange => {
                self.client.show_message(MessageType::INFO, format!("ctxls: {what}: the model proposed no change")).await;
                Ok(Some(json!({ "applied": false })))
            }
            Stop::Refused { errors, unused } => {
                // The answer is kept for the user to read, and a cut one says so.
                let mut message = format!("{}; nothing was changed", errors.join("; "));
                if let Some(limit) = unused.cut_at {
                    message.push_str(&format!("; the answer was cut at its limit of {limit} tokens (raise [llm.chat] max_tokens)"));
                }
                if let Ok(path) = &unused.kept {
                    message.push_str(&format!("; the model's answer is kept in {}", path.display()));
                }
                self.client.show_message(MessageType::WARNING, format!("ctxls: {what}: {message}")).await;
                Err(internal_error(format!("{what}: {message}")))
            }
            Stop::NoRoot => Err(internal_error(format!("{what}: the document is outside every workspace folder"))),
            Stop::Invalid(message) => Err(jsonrpc::Error::invalid_params(message)),
            Stop::NotInGit => Err(jsonrpc::Error::invalid_params(format!("{what}: the workspace is not inside a git repository"))),
            Stop::Git(message) | Stop::Internal(message) => Err(internal_error(format!("{what}: {message}"))),
            Stop::NoRequirements | Stop::NoChanges | Stop::NotSent => Err(internal_error(format!("{what}: {stop:?}"))),
        }
    }

    /// A checked change proposed as one versioned `workspace/applyEdit` (new files
    /// created); one that still adds syntax errors only when the user says so.
    async fn propose_change(&self, what: &str, checked: crate::workflows::edit::CheckedEdit) -> jsonrpc::Result<Option<Value>> {
        let Some(root) = self.view_for_edits() else { return Err(internal_error(format!("{what}: the workspace folder was removed"))) };
        let (plan, report) = (checked.plan, checked.syntax_errors);
        if !report.is_empty() {
            // Offered with a clear warning, never applied silently.
            let listed: Vec<String> = report
                .iter()
                .map(|(path, lines)| format!("{path} (line {})", lines.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")))
                .collect();
            let message = format!("ctxls: {what}: the change adds syntax errors in {}. Apply it anyway?", listed.join(", "));
            let choice = self
                .client
                .show_message_request(MessageType::WARNING, message, Some(vec![MessageActionItem { title: "Apply anyway".into(), properties: Default::default() }, MessageActionItem { title: "Discard".into(), properties: Default::default() }]))
                .await;
            if !matches!(choice, Ok(Some(item)) if item.title == "Apply anyway") {
                return Ok(Some(json!({ "applied": false, "syntaxErrors": listed, "diff": search_replace::unified_diff(&plan) })));
            }
        }
        // Edits go to the text they were computed on, or nowhere.
        {
            let state = lock(&self.state);
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
                .map(|(start, end, text)| OneOf::Left(TextEdit { range: to_proto::range(&old_lines, self.encoding, TextRange::new(*start as u32, *end as u32)), new_text: text.clone() }))
                .collect();
            operations.push(DocumentChangeOperation::Edit(TextDocumentEdit { text_document: OptionalVersionedTextDocumentIdentifier { uri: file_uri, version: document_version }, edits }));
        }
        let edit = WorkspaceEdit { document_changes: Some(DocumentChanges::Operations(operations)), ..WorkspaceEdit::default() };
        let applied = match self.client.apply_edit(edit).await {
            Ok(response) => response.applied,
            Err(err) => {
                tracing::warn!("workspace/applyEdit failed: {err}");
                false
            }
        };
        let files: Vec<&str> = plan.files.iter().map(|f| f.path.as_str()).collect();
        Ok(Some(json!({ "applied": applied, "files": files, "dropped": plan.dropped, "diff": search_replace::unified_diff(&plan) })))
    }

    /// One edit of the request's document as a versioned `workspace/applyEdit`;
    /// `ContentModified` when the document changed meanwhile.
    async fn propose_edit(&self, text: &str, edit: actions::Edit) -> jsonrpc::Result<Option<Value>> {
        let Some(site) = &self.site else { return Err(internal_error("an edit without a document".to_string())) };
        let current = lock(&self.state).documents.get(&site.uri).map(|d| d.version);
        if current != Some(site.version) {
            return Err(jsonrpc::Error::content_modified());
        }
        let range = to_proto::range(&LineIndex::new(text), self.encoding, edit.range);
        let uri_value: Uri = site.uri.parse().map_err(|_| jsonrpc::Error::invalid_params("bad uri"))?;
        let change = WorkspaceEdit {
            document_changes: Some(DocumentChanges::Edits(vec![TextDocumentEdit {
                text_document: OptionalVersionedTextDocumentIdentifier { uri: uri_value, version: Some(site.version) },
                edits: vec![OneOf::Left(TextEdit { range, new_text: edit.new_text.clone() })],
            }])),
            ..WorkspaceEdit::default()
        };
        let applied = match self.client.apply_edit(change).await {
            Ok(response) => response.applied,
            Err(err) => {
                tracing::warn!("workspace/applyEdit failed: {err}");
                false
            }
        };
        Ok(Some(json!({ "applied": applied, "edit": { "range": range, "newText": edit.new_text } })))
    }
}

impl Host for LspHost {
    type Reply = jsonrpc::Result<Option<Value>>;

    fn workspace(&self) -> &Workspace {
        &self.workspace
    }

    fn cache_dir(&self) -> std::path::PathBuf {
        let root = self.view.as_ref().map(|view| view.path.clone()).unwrap_or_default();
        crate::io::store::Store::default_dir(&root, lock(&self.state).cache_dir.as_deref())
    }

    /// The editor's text of an open document, else the disk's: inside the root, never an
    /// ignored or secret file (`io::vfs` rules), read on the blocking pool.
    async fn read(&self, path: &str) -> Result<(String, String), String> {
        let Some(view) = &self.view else { return Err(format!("{path}: outside every workspace folder")) };
        let full = if std::path::Path::new(path).is_absolute() { std::path::PathBuf::from(path) } else { view.path.join(path) };
        let rel = crate::io::vfs::relative_path(&view.path, &full);
        if let Some(text) = view.open_texts.get(&rel) {
            return Ok((rel, text.clone()));
        }
        let (root, index) = (view.path.clone(), self.workspace.config.index.clone());
        let read = tokio::task::spawn_blocking(move || {
            let path = full.canonicalize().map_err(|err| format!("{}: {err}", full.display()))?;
            if !path.starts_with(&root) || crate::io::vfs::IgnoreRules::new(&root, &index).is_ignored(&path) {
                return Err(format!("{rel} is outside the workspace or ignored: nothing from it is sent to a model"));
            }
            std::fs::read_to_string(&path).map(|text| (rel, text)).map_err(|err| format!("reading {}: {err}", path.display()))
        });
        read.await.unwrap_or_else(|err| Err(err.to_string()))
    }

    async fn open_texts(&self) -> HashMap<String, String> {
        self.view_for_edits().map(|view| view.open_texts).unwrap_or_default()
    }

    async fn context(&self, at: ContextAt, query: Option<String>, budget: usize) -> Vec<OwnedExcerpt> {
        let Some(view) = &self.view else { return Vec::new() };
        // The request's own site when the context is gathered there.
        if let Some(site) = self.site.as_ref().filter(|s| s.offset == at.offset && s.root.as_ref().is_some_and(|r| r.rel == at.rel) && s.text == at.text) {
            return context::gather(site, query, budget, Packing::Compact).await;
        }
        let (lang, tree) = match at.parsed {
            Some(parsed) => parsed,
            None => {
                let Some(lang) = crate::lang::Lang::from_path(std::path::Path::new(&at.rel)) else { return Vec::new() };
                let text = at.text.clone();
                match tokio::task::spawn_blocking(move || crate::lang::parse(lang, &text, None)).await {
                    Ok(tree) => (lang, tree),
                    Err(_) => return Vec::new(),
                }
            }
        };
        let uri = Uri::from_file_path(view.path.join(&at.rel)).map(|u| u.as_str().to_string()).unwrap_or_default();
        let site = Arc::new(Site {
            uri,
            version: 0,
            lang,
            text: at.text,
            tree,
            offset: at.offset,
            encoding: self.encoding,
            ignored: false,
            config: self.workspace.config.clone(),
            root: Some(context::RootView { rel: at.rel, ..view.clone() }),
        });
        context::gather(&site, query, budget, Packing::Compact).await
    }

    async fn knowledge(&self, mention_text: String, query: String) -> Knowledge {
        match &self.view {
            Some(view) => context::knowledge(view, &self.workspace.config, mention_text, query).await,
            None => Knowledge::default(),
        }
    }

    async fn recent_edits(&self, model: &str, limit: usize) -> String {
        self.site.as_ref().map(|site| context::recent_edits(site, model, limit)).unwrap_or_default()
    }

    async fn ask(&self, ask: Ask<'_>) -> Result<crate::io::llm::Completion, AskError> {
        let client = LlmClient::new(ask.settings.clone(), resolve_api_key(ask.settings));
        if ask.purpose == Purpose::Repair {
            return client.complete(ask.request, &mut |_| {}).await.map_err(|err| AskError::Failed { message: err.to_string(), shown: false });
        }
        match self.assist.status.track(client.complete(ask.request, &mut |_| {})).await {
            Ok(answer) => Ok(answer),
            Err(err) => {
                let shown = self.assist.report_failure(&self.client, &format!("{} failed", ask.what), &err).await;
                Err(AskError::Failed { message: format!("{}: {err}", ask.what), shown })
            }
        }
    }

    async fn progress(&self, progress: crate::workflows::host::Progress<'_>) {
        use crate::workflows::host::Progress as Step;
        match progress {
            Step::Asking { what, .. } => {
                let begun = begin_progress(&self.client, &self.state, what).await;
                *self.progress.lock().unwrap_or_else(|p| p.into_inner()) = begun;
            }
            Step::Answered => {
                let begun = self.progress.lock().unwrap_or_else(|p| p.into_inner()).take();
                if let Some(progress) = begun {
                    progress.finish().await;
                }
            }
            Step::Repairing => {}
        }
    }

    async fn propose(&self, proposal: Proposal<'_>) -> jsonrpc::Result<Option<Value>> {
        match proposal {
            Proposal::Message { about, text } => {
                show_explanation(&self.client, &self.state, about, text).await;
                Ok(Some(json!({ "markdown": text })))
            }
            Proposal::Edit { text, edit, .. } => self.propose_edit(text, edit).await,
            Proposal::Change { what, checked, .. } => self.propose_change(what, checked).await,
        }
    }
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
    let excerpts = context::gather(&site, query.clone(), budget, Packing::Compact).await;
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

async fn begin_progress(client: &Client, state: &SharedState, title: &str) -> Option<Progress> {
    if !lock(state).caps.work_done_progress {
        return None;
    }
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let token = ProgressToken::String(format!("ctxls/action/{}", NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)));
    client.create_work_done_progress(token.clone()).await.ok()?;
    Some(client.progress(token, format!("ctxls: {title}")).with_message("asking the model").begin().await)
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

