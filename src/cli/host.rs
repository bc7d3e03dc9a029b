//! The command line as a workflow's host: context from a one-shot lazy index, the model
//! asked with the answer streamed to stdout (chat, summarize) or awaited, progress as
//! lines on stderr, answers printed, edits printed as a unified diff or written with
//! `--write` through `io::writes` (all files or none). `--dry-run` prints the request and
//! sends nothing. The CLI never cancels.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use crate::config::Config;
use crate::ide::knowledge::Knowledge;
use crate::ide::search_replace;
use crate::index::IndexSnapshot;
use crate::io::llm::{Completion, LlmClient};
use crate::retrieve::{Generators, Packing};
use crate::workflows::edit::UnusedAnswer;
use crate::workflows::host::{Ask, AskError, ContextAt, Done, Host, OwnedExcerpt, Progress, Proposal, Purpose, Stop, Workspace};

/// How a command shows its work.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Options {
    /// Write edits (default: print them as a unified diff).
    pub write: bool,
    /// Print the request instead of sending it.
    pub dry_run: bool,
    /// Stream the answer to stdout as it comes (chat, summarize).
    pub stream: bool,
    /// Without context gathered, load the index for the mentions of a request (chat).
    pub index_for_mentions: bool,
}

/// Where the one-shot index stands: knowledge resolves mentions through it.
enum Gathering {
    NotYet,
    Failed,
    Done(Arc<IndexSnapshot>),
}

pub(super) struct CliHost {
    workspace: Workspace,
    /// The workspace root (the CLI always has one).
    root: PathBuf,
    cache_dir: Option<PathBuf>,
    /// The command, naming an unapplied answer's file.
    name: String,
    options: Options,
    /// The file at hand's text, matched instead of the disk's.
    open: HashMap<String, String>,
    gathering: Mutex<Gathering>,
}

impl CliHost {
    pub fn new(root: &Path, config: &Config, cache_dir: Option<&Path>, name: &str, options: Options) -> CliHost {
        CliHost {
            workspace: Workspace::new(Some(root.to_path_buf()), config.clone()),
            root: root.to_path_buf(),
            cache_dir: cache_dir.map(Path::to_path_buf),
            name: name.to_string(),
            options,
            open: HashMap::new(),
            gathering: Mutex::new(Gathering::NotYet),
        }
    }

    /// Edits of `rel` are matched against `text` (as read for the request).
    pub fn with_open(mut self, rel: &str, text: &str) -> CliHost {
        self.open.insert(rel.to_string(), text.to_string());
        self
    }


    /// A stop said on stderr, as an exit code (or an error for `main` to print).
    pub fn exit(&self, done: Done<anyhow::Result<ExitCode>>) -> anyhow::Result<ExitCode> {
        let stop = match done {
            Ok(reply) => return reply,
            Err(stop) => stop,
        };
        match stop {
            Stop::NotSent => Ok(ExitCode::SUCCESS),
            Stop::Cancelled => {
                eprintln!("ctxls: cancelled; nothing was changed");
                Ok(ExitCode::from(130))
            }
            Stop::Failed { .. } => Ok(ExitCode::FAILURE),
            Stop::NoChange => {
                eprintln!("ctxls: the model proposed no change");
                Ok(ExitCode::FAILURE)
            }
            Stop::Refused { errors, unused } => {
                for error in errors {
                    eprintln!("ctxls: {error}");
                }
                eprintln!("ctxls: nothing was changed");
                report_unused(&unused);
                Ok(ExitCode::FAILURE)
            }
            Stop::NoRequirements => {
                eprintln!("ctxls: no requirement comment (`// AI: ...`, `... AI!`) in the working tree's changes");
                Ok(ExitCode::FAILURE)
            }
            Stop::NoChanges => {
                eprintln!("ctxls: the working tree has no changes against HEAD");
                Ok(ExitCode::FAILURE)
            }
            Stop::NotInGit => anyhow::bail!("{} is not inside a git repository", self.root.display()),
            Stop::NoRoot => anyhow::bail!("no workspace root"),
            Stop::Invalid(message) | Stop::Git(message) | Stop::Internal(message) => Err(anyhow::Error::msg(message)),
        }
    }

    /// A checked change: printed as a diff, or written (all files or none); one that adds
    /// syntax errors is offered, never written.
    fn propose_change(&self, checked: crate::workflows::edit::CheckedEdit, answer: &Completion, max_tokens: u32) -> anyhow::Result<ExitCode> {
        let (plan, targets, report) = (checked.plan, checked.targets, checked.syntax_errors);
        if !report.is_empty() {
            for (path, lines) in &report {
                let lines: Vec<String> = lines.iter().map(u32::to_string).collect();
                eprintln!("ctxls: warning: the change to {path} adds syntax errors (line {})", lines.join(", "));
            }
            eprintln!("ctxls: nothing was written; the change is offered below");
            print!("{}", search_replace::unified_diff(&plan));
            report_unused(&UnusedAnswer::keep(answer, max_tokens, &self.cache_dir(), &self.name));
            return Ok(ExitCode::FAILURE);
        }
        if !self.options.write {
            print!("{}", search_replace::unified_diff(&plan));
            return Ok(ExitCode::SUCCESS);
        }
        match crate::io::writes::write_plan(&plan, &targets) {
            Ok(written) => {
                for path in written {
                    eprintln!("ctxls: wrote {path}");
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(err) => {
                eprintln!("ctxls: {err}");
                eprintln!("ctxls: nothing was changed");
                Ok(ExitCode::FAILURE)
            }
        }
    }

    /// One edit of the file at hand (a prompt file's replacement): printed as a diff, or
    /// written as every model edit is: checked, then through an exclusive temporary file.
    fn propose_edit(&self, rel: &str, text: &str, edit: crate::ide::actions::Edit) -> anyhow::Result<ExitCode> {
        let (start, end) = (edit.range.start as usize, edit.range.end as usize);
        let new_text = format!("{}{}{}", &text[..start], edit.new_text, &text[end..]);
        let plan = search_replace::Plan {
            files: vec![search_replace::FileChange { path: rel.to_string(), old_text: Some(text.to_string()), new_text, edits: vec![(start, end, edit.new_text)] }],
            dropped: Vec::new(),
        };
        if !self.options.write {
            print!("{}", search_replace::unified_diff(&plan));
            return Ok(ExitCode::SUCCESS);
        }
        let scope = crate::io::writes::WriteScope { root: &self.root, config: &self.workspace.config.index, request: rel };
        let mut rules = crate::io::vfs::IgnoreRules::new(&self.root, &self.workspace.config.index);
        let target = scope.check(&mut rules, rel).map_err(|why| anyhow::anyhow!("{why}; nothing was changed"))?;
        crate::io::writes::write_plan(&plan, &[target]).map_err(|err| anyhow::anyhow!("{err}; nothing was changed"))?;
        eprintln!("ctxls: wrote {rel}");
        Ok(ExitCode::SUCCESS)
    }
}

/// Runs the host's workflow to its end on this thread. Ctrl-C cancels the workflow's
/// token instead of killing the process: a question in flight is dropped and nothing is
/// proposed, and a write already started completes (all its files or none) before the
/// process ends. A second Ctrl-C ends the process at once.
pub(super) fn run<R>(host: &CliHost, workflow: impl std::future::Future<Output = Done<R>>) -> anyhow::Result<Done<R>> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let cancel = host.workspace.cancel.clone();
    Ok(runtime.block_on(async move {
        let interrupts = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_err() {
                return; // No handler: Ctrl-C keeps its default and ends the process.
            }
            eprintln!("ctxls: cancelling (Ctrl-C again to stop at once)");
            cancel.cancel();
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        });
        let done = workflow.await;
        interrupts.abort();
        done
    }))
}

/// Says that an answer did not apply: whether it was cut at the token limit, and where it
/// is kept.
fn report_unused(unused: &UnusedAnswer) {
    if let Some(limit) = unused.cut_at {
        eprintln!("ctxls: the model's answer was cut at its limit of {limit} tokens (raise [llm.chat] max_tokens in .ctxls.toml)");
    }
    match &unused.kept {
        Ok(path) => eprintln!("ctxls: the model's answer is kept in {}", path.display()),
        Err(err) => eprintln!("ctxls: the model's answer could not be kept: {err}"),
    }
}

/// Runs `job` on a thread of its own: the one-shot index and the vector store run
/// runtimes of their own, which cannot start inside the workflow's.
fn on_own_thread<T: Send>(job: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| scope.spawn(job).join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
}

impl Host for CliHost {
    type Reply = anyhow::Result<ExitCode>;

    fn workspace(&self) -> &Workspace {
        &self.workspace
    }

    fn cache_dir(&self) -> PathBuf {
        crate::io::store::Store::default_dir(&self.root, self.cache_dir.as_deref())
    }

    fn answer_name(&self, _what: &str) -> String {
        self.name.clone()
    }

    /// Files outside the workspace and files it ignores are refused
    /// (`super::refuse_ignored`).
    async fn read(&self, path: &str) -> Result<(String, String), String> {
        use anyhow::Context;
        let read = || -> anyhow::Result<(String, String)> {
            let path = if Path::new(path).is_absolute() { PathBuf::from(path) } else { self.root.join(path) };
            let path = path.canonicalize().with_context(|| format!("{}", path.display()))?;
            let rel = crate::io::vfs::relative_path(&self.root, &path);
            super::refuse_ignored(&self.root, &path, &rel)?;
            let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            Ok((rel, text))
        };
        read().map_err(|err| format!("{err:#}"))
    }

    async fn open_texts(&self) -> HashMap<String, String> {
        self.open.clone()
    }

    async fn context(&self, at: ContextAt, query: Option<String>, budget: usize) -> Vec<OwnedExcerpt> {
        let gathered = on_own_thread(|| {
            super::context::gather(&self.root, &self.workspace.config, self.cache_dir.as_deref(), &at.rel, &at.text, at.offset, query.as_deref(), budget, Generators::ALL, Packing::Compact)
        });
        let gathered = match gathered {
            Ok(gathered) => gathered,
            Err(err) => {
                tracing::warn!("no workspace context: {err:#}");
                *self.gathering.lock().unwrap_or_else(|p| p.into_inner()) = Gathering::Failed;
                return Vec::new();
            }
        };
        let excerpts = gathered
            .snippets
            .iter()
            .map(|s| OwnedExcerpt {
                path: gathered.snapshot.file(s.file).map_or_else(|| "?".to_string(), |e| e.path.clone()),
                start_line: s.start_line + 1,
                end_line: s.end_line + 1,
                text: s.text.clone(),
                score: s.score,
                sources: s.sources.clone(),
                why: s.why.clone(),
                tokens: s.tokens,
            })
            .collect();
        *self.gathering.lock().unwrap_or_else(|p| p.into_inner()) = Gathering::Done(gathered.snapshot);
        excerpts
    }

    /// Mentions resolve through the index the context was gathered with; without context,
    /// nothing (or, for chat, the index loaded when the question mentions something).
    async fn knowledge(&self, mention_text: String, query: String) -> Knowledge {
        let snapshot = match &*self.gathering.lock().unwrap_or_else(|p| p.into_inner()) {
            Gathering::Done(snapshot) => Some(Arc::clone(snapshot)),
            _ if !self.options.index_for_mentions => return Knowledge::default(),
            Gathering::Failed | Gathering::NotYet => None,
        };
        on_own_thread(|| {
            let snapshot = snapshot.unwrap_or_else(|| {
                if crate::knowledge::mentions::parse(&mention_text).is_empty() {
                    crate::index::WorkspaceIndex::new().snapshot()
                } else {
                    super::open_and_refresh(&self.root, &self.workspace.config, self.cache_dir.as_deref(), crate::io::workspace::RefreshMode::Lazy).0.snapshot()
                }
            });
            super::context::knowledge(&self.root, &self.workspace.config, &snapshot, &mention_text, &query)
        })
    }

    async fn recent_edits(&self, model: &str, limit: usize) -> String {
        super::recent_edits(&self.root, &self.workspace.config, model, limit)
    }

    async fn ask(&self, ask: Ask<'_>) -> Result<Completion, AskError> {
        use std::io::Write;
        let client = LlmClient::new(ask.settings.clone(), crate::io::llm::resolve_api_key(ask.settings));
        if self.options.dry_run {
            print!("{}", client.dry_run(ask.request));
            return Err(AskError::NotSent);
        }
        let stream = self.options.stream && ask.purpose == Purpose::Answer;
        let mut stdout = std::io::stdout();
        let mut on_text = |piece: &str| {
            if stream {
                let _ = stdout.write_all(piece.as_bytes());
                let _ = stdout.flush();
            }
        };
        client.complete(ask.request, &mut on_text).await.map_err(|err| {
            eprintln!("ctxls: {err}");
            AskError::Failed { message: err.to_string(), shown: true }
        })
    }

    async fn progress(&self, progress: Progress<'_>) {
        match progress {
            Progress::Asking { model, detail, .. } if !self.options.dry_run && !self.options.stream => eprintln!("ctxls: asking {model} {detail}"),
            Progress::Repairing => eprintln!("ctxls: the change adds syntax errors; asking the model to repair it"),
            _ => {}
        }
    }

    async fn propose(&self, proposal: Proposal<'_>) -> anyhow::Result<ExitCode> {
        match proposal {
            Proposal::Message { text, .. } => {
                if !self.options.stream {
                    println!("{}", text.trim_end());
                } else if !text.ends_with('\n') {
                    println!();
                }
                Ok(ExitCode::SUCCESS)
            }
            Proposal::Edit { rel, text, edit } => self.propose_edit(rel, text, edit),
            Proposal::Change { checked, answer, max_tokens, .. } => self.propose_change(checked, answer, max_tokens),
        }
    }
}
