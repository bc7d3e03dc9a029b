//! The workflows against an in-memory host that answers from a script and records what it
//! was asked and what was proposed (the real CLI and server run them in tests/cli.rs and
//! tests/lsp.rs). The files the answers edit are real, in a temporary directory: the
//! write rules and the parser check them as they would in use.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::host::{Ask, AskError, ContextAt, Host, OwnedExcerpt, Progress, Proposal, Stop, Workspace};
use crate::config::Config;
use crate::ide::knowledge::Knowledge;
use crate::io::llm::Completion;
use crate::lang::Lang;
use crate::llm::FinishReason;

/// What the model does when asked.
enum Script {
    Answer(&'static str),
    /// Streams the first piece of its answer, then the user cancels; the rest never comes.
    CancelMidStream(&'static str),
    Fail,
    /// The CLI's `--dry-run`: nothing is sent.
    NotSent,
}

struct FakeHost {
    workspace: Workspace,
    script: Mutex<VecDeque<Script>>,
    /// What happened, in order: `ask Edit`, `progress Asking`, `context src/lib.rs`...
    log: Mutex<Vec<String>>,
    streamed: Mutex<String>,
    proposals: Mutex<Vec<String>>,
}

impl FakeHost {
    fn new(root: &Path, script: Vec<Script>) -> FakeHost {
        FakeHost {
            workspace: Workspace::new(Some(root.canonicalize().unwrap()), Config::default()),
            script: Mutex::new(script.into()),
            log: Mutex::default(),
            streamed: Mutex::default(),
            proposals: Mutex::default(),
        }
    }

    fn note(&self, what: String) {
        self.log.lock().unwrap().push(what);
    }

    fn log_of(&self, prefix: &str) -> Vec<String> {
        self.log.lock().unwrap().iter().filter(|l| l.starts_with(prefix)).cloned().collect()
    }

    fn proposals(&self) -> Vec<String> {
        self.proposals.lock().unwrap().clone()
    }
}

impl Host for FakeHost {
    type Reply = String;

    fn workspace(&self) -> &Workspace {
        &self.workspace
    }

    fn cache_dir(&self) -> PathBuf {
        self.root().unwrap().join(".cache")
    }

    async fn read(&self, path: &str) -> Result<(String, String), String> {
        self.note(format!("read {path}"));
        std::fs::read_to_string(self.root().unwrap().join(path)).map(|text| (path.to_string(), text)).map_err(|err| err.to_string())
    }

    async fn open_texts(&self) -> HashMap<String, String> {
        HashMap::new()
    }

    async fn context(&self, at: ContextAt, query: Option<String>, _budget: usize) -> Vec<OwnedExcerpt> {
        self.note(format!("context {} {}", at.rel, query.unwrap_or_default()));
        Vec::new()
    }

    async fn knowledge(&self, mention_text: String, _query: String) -> Knowledge {
        self.note(format!("knowledge {mention_text}"));
        Knowledge::default()
    }

    async fn recent_edits(&self, _model: &str, _limit: usize) -> String {
        String::new()
    }

    async fn ask(&self, ask: Ask<'_>) -> Result<Completion, AskError> {
        self.note(format!("ask {:?}", ask.purpose));
        let next = self.script.lock().unwrap().pop_front().expect("the script has an answer for every question");
        match next {
            Script::Answer(text) => Ok(Completion { text: text.to_string(), finish: FinishReason::Stop }),
            Script::CancelMidStream(piece) => {
                self.streamed.lock().unwrap().push_str(piece);
                self.cancel().cancel();
                std::future::pending().await
            }
            Script::Fail => Err(AskError::Failed { message: "the model is down".into(), shown: true }),
            Script::NotSent => Err(AskError::NotSent),
        }
    }

    async fn progress(&self, progress: Progress<'_>) {
        let step = match progress {
            Progress::Asking { .. } => "Asking",
            Progress::Answered => "Answered",
            Progress::Repairing => "Repairing",
        };
        self.note(format!("progress {step}"));
    }

    async fn propose(&self, proposal: Proposal<'_>) -> String {
        let described = match proposal {
            Proposal::Message { about, text } => format!("message about {about}: {text}"),
            Proposal::Edit { rel, edit, .. } => format!("edit {rel}: {}", edit.new_text),
            Proposal::Change { checked, .. } => {
                let files: Vec<String> = checked.plan.files.iter().map(|f| format!("{} -> {:?}", f.path, f.new_text)).collect();
                format!("change (repaired: {}, errors: {}) {}", checked.repaired, checked.syntax_errors.len(), files.join(", "))
            }
        };
        self.proposals.lock().unwrap().push(described.clone());
        described
    }
}

const REQUIREMENT: &str = "// AI: make a return one\nfn a() {}\n";
const BROKEN: &str = "src/lib.rs\n<<<<<<< SEARCH\nfn a() {}\n=======\nfn a() -> u32 {\n>>>>>>> REPLACE\n";
const FIXED: &str = "src/lib.rs\n<<<<<<< SEARCH\nfn a() {}\n=======\nfn a() -> u32 { 1 }\n>>>>>>> REPLACE\n";

/// A workspace with `src/lib.rs` holding `text`.
fn workspace(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/lib.rs"), text).unwrap();
    dir
}

fn at(text: &str, offset: usize) -> ContextAt {
    ContextAt { rel: "src/lib.rs".into(), text: text.into(), offset, parsed: Some((Lang::Rust, crate::lang::parse(Lang::Rust, text, None))) }
}

fn generate_input(text: &str) -> super::requirements::GenerateAt {
    let comment = crate::base::TextRange::new(0, text.find('\n').unwrap() as u32);
    super::requirements::GenerateAt { at: at(text, 0), comment, requirement: "make a return one".into() }
}

#[tokio::test]
async fn generate_repairs_once_when_the_first_answer_adds_syntax_errors() {
    let dir = workspace(REQUIREMENT);
    let host = FakeHost::new(dir.path(), vec![Script::Answer(BROKEN), Script::Answer(FIXED)]);
    let reply = super::requirements::generate(&host, generate_input(REQUIREMENT)).await.expect("a proposal");
    assert_eq!(reply, "change (repaired: true, errors: 0) src/lib.rs -> \"// AI: make a return one\\nfn a() -> u32 { 1 }\\n\"");
    assert_eq!(host.log_of("ask"), ["ask Edit", "ask Repair"], "one repair round, no more");
    // Context and knowledge before the question; progress around it, and the repair said.
    let log = host.log.lock().unwrap().clone();
    let position = |what: &str| log.iter().position(|l| l.starts_with(what)).unwrap_or_else(|| panic!("{what} in {log:?}"));
    assert!(position("context src/lib.rs make a return one") < position("ask Edit"));
    assert!(position("knowledge make a return one") < position("ask Edit"));
    assert_eq!(host.log_of("progress"), ["progress Asking", "progress Answered", "progress Repairing"]);
    assert_eq!(std::fs::read_to_string(dir.path().join("src/lib.rs")).unwrap(), REQUIREMENT, "proposing is the host's: the workflow writes nothing");
}

#[tokio::test]
async fn a_repair_no_better_leaves_the_first_change_with_its_errors_for_the_host() {
    let dir = workspace(REQUIREMENT);
    let host = FakeHost::new(dir.path(), vec![Script::Answer(BROKEN), Script::Answer(BROKEN)]);
    let reply = super::requirements::generate(&host, generate_input(REQUIREMENT)).await.expect("a proposal");
    assert!(reply.starts_with("change (repaired: false, errors: 1)"), "{reply}");
    assert_eq!(host.log_of("ask"), ["ask Edit", "ask Repair"]);
    // A clean first answer asks nothing more.
    let host = FakeHost::new(dir.path(), vec![Script::Answer(FIXED)]);
    let reply = super::requirements::generate(&host, generate_input(REQUIREMENT)).await.expect("a proposal");
    assert!(reply.starts_with("change (repaired: false, errors: 0)"), "{reply}");
    assert_eq!(host.log_of("ask"), ["ask Edit"]);
}

#[tokio::test]
async fn a_cancellation_mid_stream_proposes_nothing() {
    let dir = workspace(REQUIREMENT);
    let host = FakeHost::new(dir.path(), vec![Script::CancelMidStream("src/lib.rs\n<<<<<<< SEARCH\n")]);
    let done = super::requirements::generate(&host, generate_input(REQUIREMENT)).await;
    assert!(matches!(done, Err(Stop::Cancelled)), "{done:?}");
    assert_eq!(*host.streamed.lock().unwrap(), "src/lib.rs\n<<<<<<< SEARCH\n", "the answer had begun");
    assert!(host.proposals().is_empty());
    assert_eq!(host.log_of("progress"), ["progress Asking", "progress Answered"], "the progress ends");
    // Cancelled before the question: nothing is asked at all.
    let host = FakeHost::new(dir.path(), vec![]);
    host.cancel().cancel();
    let done = super::actions::action(&host, crate::ide::actions::Action::Explain, at(REQUIREMENT, 30), crate::base::TextRange::new(30, 30)).await;
    assert!(matches!(done, Err(Stop::Cancelled)), "{done:?}");
    assert!(host.log_of("ask").is_empty() && host.proposals().is_empty());
}

#[tokio::test]
async fn a_refused_path_proposes_nothing_says_why_and_keeps_the_answer() {
    let dir = workspace(REQUIREMENT);
    let answer = ".git/config\n<<<<<<< SEARCH\n=======\n[core]\n\tfsmonitor = evil\n>>>>>>> REPLACE\n";
    let host = FakeHost::new(dir.path(), vec![Script::Answer(answer)]);
    let done = super::requirements::generate(&host, generate_input(REQUIREMENT)).await;
    let Err(Stop::Refused { errors, unused }) = done else { panic!("refused: {done:?}") };
    assert!(errors.iter().any(|e| e.contains("inside `.git/`")), "{errors:?}");
    assert!(host.proposals().is_empty());
    assert_eq!(host.log_of("ask"), ["ask Edit"], "a refused answer is not repaired");
    let kept = unused.kept.expect("the answer is kept");
    assert!(kept.starts_with(host.cache_dir().join("answers")), "{kept:?}");
    assert_eq!(std::fs::read_to_string(kept).unwrap(), answer);
    assert!(!dir.path().join(".git").exists());
}

#[tokio::test]
async fn an_explanation_is_shown_an_empty_edit_changes_nothing_and_failures_stop() {
    let text = "fn slow(n: u64) -> u64 {\n    (0..n).sum()\n}\n";
    let dir = workspace(text);
    let cursor = text.find("sum").unwrap();
    let selection = crate::base::TextRange::new(cursor as u32, cursor as u32);
    let host = FakeHost::new(dir.path(), vec![Script::Answer("It sums."), Script::Answer(""), Script::Fail]);
    let reply = super::actions::action(&host, crate::ide::actions::Action::Explain, at(text, cursor), selection).await.expect("shown");
    assert_eq!(reply, "message about src/lib.rs: It sums.");
    assert_eq!(host.log_of("ask"), ["ask Answer"]);
    let done = super::actions::action(&host, crate::ide::actions::Action::Fix { diagnostics: Vec::new() }, at(text, cursor), selection).await;
    assert!(matches!(done, Err(Stop::NoChange)), "{done:?}");
    let done = super::actions::action(&host, crate::ide::actions::Action::Tests, at(text, cursor), selection).await;
    assert!(matches!(done, Err(Stop::Failed { shown: true, .. })), "{done:?}");
    assert_eq!(host.proposals().len(), 1);
}

#[tokio::test]
async fn outside_git_nothing_is_asked_and_a_dry_run_proposes_nothing() {
    let dir = workspace(REQUIREMENT);
    let host = FakeHost::new(dir.path(), vec![]);
    let done = super::requirements::summarize(&host).await;
    assert!(matches!(done, Err(Stop::NotInGit)), "{done:?}");
    let done = super::requirements::implement(&host).await;
    assert!(matches!(done, Err(Stop::NotInGit)), "{done:?}");
    assert!(host.log_of("ask").is_empty());
    let host = FakeHost::new(dir.path(), vec![Script::NotSent]);
    let done = super::actions::chat(&host, "what does a do?", Some(("src/lib.rs", Some(2)))).await;
    assert!(matches!(done, Err(Stop::NotSent)), "{done:?}");
    assert_eq!(host.log_of("read"), ["read src/lib.rs"], "the file is read through the host");
    assert_eq!(host.log_of("context"), ["context src/lib.rs what does a do?"]);
    assert!(host.proposals().is_empty());
}
