//! The host a workflow runs in: the few things the CLI and the server do their own way.
//! A workflow (`generate`, `implement`, an action...) is one function over a [`Host`]
//! that orders every step; the host reads what the rules allow, gathers context, asks the
//! model (streaming as it likes), reports progress and proposes the result. The CLI's host
//! prints, streams to stdout and writes through `io::writes`; the server's shows
//! `$/progress` and proposes `workspace/applyEdit`. Cancellation is one [`Cancel`] token
//! the host hands out: the server cancels it on `$/cancelRequest`, the CLI on Ctrl-C.

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::{Config, ModelSettings};
use crate::ide::knowledge::Knowledge;
use crate::ide::prompt::Excerpt;
use crate::io::llm::Completion;
use crate::lang::Lang;
use crate::llm::Request;

/// What a workflow needs from the CLI or the server. Futures are `Send`: the server runs
/// workflows on tasks of their own, off its serving task.
pub trait Host: Sync {
    /// What proposing a result gives the adapter back (the CLI's exit code, the server's
    /// JSON answer).
    type Reply: Send;

    /// The root, its configuration and the cancellation token.
    fn workspace(&self) -> &Workspace;
    /// The workspace root (canonical); `None` for a document outside every workspace
    /// folder (the server only).
    fn root(&self) -> Option<&Path> {
        self.workspace().root.as_deref()
    }
    fn config(&self) -> &Config {
        &self.workspace().config
    }
    /// Cancelled when the user no longer wants the answer.
    fn cancel(&self) -> &Cancel {
        &self.workspace().cancel
    }
    /// Where a model's answer that was not applied is kept (the cache directory).
    fn cache_dir(&self) -> PathBuf;
    /// The name an unapplied answer of `what` is kept under (the CLI names it after its
    /// command).
    fn answer_name(&self, what: &str) -> String {
        what.to_string()
    }

    /// A file the workspace's rules allow to be sent to a model, by `path` as the user
    /// named it (relative to the root, or absolute): its path relative to the root and
    /// its text (the editor's, for an open document), or why it may not be read.
    fn read(&self, path: &str) -> impl Future<Output = Result<(String, String), String>> + Send;
    /// Texts edits are matched against instead of the disk's (open documents, the file at
    /// hand), by path relative to the root.
    fn open_texts(&self) -> impl Future<Output = HashMap<String, String>> + Send;
    /// The workspace context at a position, best first, within `budget` tokens.
    fn context(&self, at: ContextAt, query: Option<String>, budget: usize) -> impl Future<Output = Vec<OwnedExcerpt>> + Send;
    /// The project knowledge for a request: the mentions in `mention_text`, the
    /// documents for `query`.
    fn knowledge(&self, mention_text: String, query: String) -> impl Future<Output = Knowledge> + Send;
    /// The recent-edits section of a chat prompt, within `limit` tokens of `model`.
    fn recent_edits(&self, model: &str, limit: usize) -> impl Future<Output = String> + Send;

    /// Asks the model (streaming the answer where the host shows it as it comes). The
    /// workflow drops this future when [`Host::cancel`] fires.
    fn ask(&self, ask: Ask<'_>) -> impl Future<Output = Result<Completion, AskError>> + Send;
    /// Tells the user how the work goes.
    fn progress(&self, progress: Progress<'_>) -> impl Future<Output = ()> + Send;
    /// Proposes the result: shows an answer, or offers an edit (written, printed or sent
    /// as `workspace/applyEdit`, as the host does it).
    fn propose(&self, proposal: Proposal<'_>) -> impl Future<Output = Self::Reply> + Send;
}

/// What every host holds.
pub struct Workspace {
    /// Canonical; `None` outside every workspace folder.
    pub root: Option<PathBuf>,
    pub config: Config,
    /// The server cancels it when the request is cancelled; the CLI on Ctrl-C.
    pub cancel: Cancel,
}

impl Workspace {
    pub fn new(root: Option<PathBuf>, config: Config) -> Workspace {
        Workspace { root, config, cancel: Cancel::default() }
    }
}

/// Where context is gathered: a file of the root (its text, maybe the editor's), a byte
/// offset in it, and its language and tree when it is in one of the index's languages
/// and parsed already.
#[derive(Clone)]
pub struct ContextAt {
    pub rel: String,
    pub text: String,
    pub offset: usize,
    pub parsed: Option<(Lang, tree_sitter::Tree)>,
}

/// One question to the model.
pub struct Ask<'a> {
    /// What the user asked for ("Generate from comment"): titles and messages.
    pub what: &'a str,
    pub settings: &'a ModelSettings,
    pub request: &'a Request,
    pub purpose: Purpose,
}

/// Why the model is asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// The answer is shown (an explanation, a summary, a chat answer).
    Answer,
    /// The answer is an edit.
    Edit,
    /// The edit's repair: asked again with the parser's error locations.
    Repair,
}

/// Why no answer came.
#[derive(Debug)]
pub enum AskError {
    /// The model failed; `shown`: the host already told the user.
    Failed { message: String, shown: bool },
    /// Nothing was sent (the CLI's `--dry-run` printed the request instead).
    NotSent,
}

/// How the work goes.
#[derive(Clone, Copy, Debug)]
pub enum Progress<'a> {
    /// The model is asked: `what` the user asked for, the model, and in words what it is
    /// asked to do.
    Asking { what: &'a str, model: &'a str, detail: &'a str },
    /// The model answered (or was cancelled, or failed).
    Answered,
    /// The change adds syntax errors: the model is asked to repair it.
    Repairing,
}

/// A workflow's result, for the host to show or apply.
pub enum Proposal<'a> {
    /// An answer to show; `about`: the file (or subject) it is about.
    Message { about: &'a str, text: &'a str },
    /// One edit of the file at hand (`rel`, whose text was `text`).
    Edit { rel: &'a str, text: &'a str, edit: crate::ide::actions::Edit },
    /// A checked change of any files (SEARCH/REPLACE blocks): the host applies it, or
    /// offers it when it still adds syntax errors. `answer` is kept when not applied.
    Change { what: &'a str, checked: super::edit::CheckedEdit, answer: &'a Completion, max_tokens: u32 },
}

/// Why a workflow stopped without proposing anything.
#[derive(Debug)]
pub enum Stop {
    /// The user cancelled.
    Cancelled,
    /// Nothing was sent (`--dry-run`).
    NotSent,
    /// The model failed; `shown`: the user was told.
    Failed { message: String, shown: bool },
    /// The model's answer changes nothing.
    NoChange,
    /// The answer's edit was refused (paths the rules forbid, blocks that do not match):
    /// every problem, and the answer kept for the user.
    Refused { errors: Vec<String>, unused: super::edit::UnusedAnswer },
    /// The document is outside every workspace folder.
    NoRoot,
    /// The root is not inside a git repository.
    NotInGit,
    /// Reading the working tree failed.
    Git(String),
    /// No requirement comment in the working tree's changes.
    NoRequirements,
    /// The working tree has no changes against HEAD.
    NoChanges,
    /// The request cannot be made (a prompt file's missing `input`, a target not found).
    Invalid(String),
    /// A job failed (a panic on the blocking pool).
    Internal(String),
}

/// The result of a workflow: the host's reply to the proposal, or why there was none.
pub type Done<R> = Result<R, Stop>;

/// Cancellation, shared: the server cancels when the request is cancelled (or its
/// future dropped); the CLI on Ctrl-C (a second Ctrl-C ends the process).
#[derive(Clone)]
pub struct Cancel(Arc<tokio::sync::watch::Sender<bool>>);

impl Default for Cancel {
    fn default() -> Cancel {
        Cancel(Arc::new(tokio::sync::watch::channel(false).0))
    }
}

impl Cancel {
    pub fn cancel(&self) {
        self.0.send_replace(true);
    }

    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once cancelled.
    pub async fn cancelled(&self) {
        let mut watch = self.0.subscribe();
        // The sender lives as long as this token: waiting never fails.
        let _ = watch.wait_for(|cancelled| *cancelled).await;
    }

    /// A guard that cancels when dropped (with the request's future).
    pub fn on_drop(&self) -> CancelOnDrop {
        CancelOnDrop(self.clone())
    }
}

/// Cancels its token when dropped.
pub struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// A retrieved excerpt, owned (for prompts built after the snapshot is gone).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct OwnedExcerpt {
    pub path: String,
    /// 1-based, inclusive.
    pub start_line: u32,
    pub end_line: u32,
    pub text: String,
    pub score: f32,
    pub sources: Vec<&'static str>,
    pub why: String,
    pub tokens: usize,
}

impl OwnedExcerpt {
    pub fn borrowed(excerpts: &[OwnedExcerpt]) -> Vec<Excerpt<'_>> {
        excerpts.iter().map(|e| Excerpt { path: &e.path, start_line: e.start_line, end_line: e.end_line, text: &e.text }).collect()
    }
}

/// Asks through the host with its progress around the question; `Stop::Cancelled` when
/// the host's token fires first (the question's future, and its connection, dropped).
pub(super) async fn ask<H: Host>(host: &H, ask: Ask<'_>, detail: &str) -> Result<Completion, Stop> {
    if host.cancel().is_cancelled() {
        return Err(Stop::Cancelled);
    }
    let purpose = ask.purpose;
    let progress = (purpose != Purpose::Repair).then_some(Progress::Asking { what: ask.what, model: &ask.settings.model, detail });
    if let Some(progress) = progress {
        host.progress(progress).await;
    }
    let answer = tokio::select! {
        answer = host.ask(ask) => Some(answer),
        () = host.cancel().cancelled() => None,
    };
    if progress.is_some() {
        host.progress(Progress::Answered).await;
    }
    match answer {
        None => Err(Stop::Cancelled),
        Some(Ok(answer)) => Ok(answer),
        Some(Err(AskError::NotSent)) => Err(Stop::NotSent),
        Some(Err(AskError::Failed { message, shown })) => Err(Stop::Failed { message, shown }),
    }
}

/// Runs `job` on the blocking pool: file and CPU work never runs on the server's tasks.
pub(super) async fn blocking<T: Send + 'static>(job: impl FnOnce() -> T + Send + 'static) -> Result<T, Stop> {
    tokio::task::spawn_blocking(job).await.map_err(|err| Stop::Internal(err.to_string()))
}

/// Proposes unless cancelled meanwhile (an answer nobody waits for changes nothing).
pub(super) async fn propose<H: Host>(host: &H, proposal: Proposal<'_>) -> Done<H::Reply> {
    if host.cancel().is_cancelled() {
        return Err(Stop::Cancelled);
    }
    Ok(host.propose(proposal).await)
}
