//! A model's edit, checked: the answer against the write rules and the files
//! (`io::writes`), the change against the parser (no new syntax errors), and one repair
//! asked when it adds some. The CPU work runs on the blocking pool, so the server's
//! serving task never waits on it. Used by `generate`, `implement` and prompt files with
//! `output: edit`, in the CLI and the server alike.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use super::host::{self, Ask, Done, Host, Progress, Proposal, Purpose, Stop};
use crate::config::{IndexConfig, ModelSettings};
use crate::ide::generate::{regression_report, repair_prompt};
use crate::io::llm::Completion;
use crate::ide::search_replace::Plan;
use crate::io::writes::{Target, WriteScope};
use crate::llm::Request;

/// A request whose answer is an edit (SEARCH/REPLACE blocks repeat the lines they change,
/// and an answer cut short applies nothing): at least
/// [`EDIT_MAX_TOKENS`](crate::io::writes::EDIT_MAX_TOKENS) tokens, more when configured.
pub fn edit_request(settings: &crate::config::ModelSettings, prompt: crate::llm::Prompt) -> Request {
    Request { prompt, max_tokens: settings.max_tokens.max(crate::io::writes::EDIT_MAX_TOKENS), temperature: settings.temperature, stop: Vec::new() }
}

/// Where an edit applies and what it is checked against.
pub struct EditSite {
    /// The workspace root, canonical.
    pub root: PathBuf,
    pub config: IndexConfig,
    /// What the user asked: a file outside the index's languages may be changed only when
    /// this names it.
    pub request_text: String,
    /// Texts matched instead of the disk's (open documents, the file at hand), by path.
    pub open: HashMap<String, String>,
}

/// Lines with new syntax errors, per file.
pub type SyntaxErrors = Vec<(String, Vec<u32>)>;

/// A checked change.
#[derive(Debug)]
pub struct CheckedEdit {
    pub plan: Plan,
    /// Where each file of the plan is written.
    pub targets: Vec<Target>,
    /// Files the change leaves with new syntax errors; empty when it parses as before.
    pub syntax_errors: SyntaxErrors,
    /// Whether the plan is the repaired answer's.
    pub repaired: bool,
}

impl EditSite {
    /// Checks one answer: the plan, its targets and the syntax errors it adds, or every
    /// problem found (nothing is planned then).
    pub async fn check(self: &Arc<Self>, answer: String) -> Result<CheckedEdit, Vec<String>> {
        let site = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let scope = WriteScope { root: &site.root, config: &site.config, request: &site.request_text };
            let (plan, targets) = scope.propose(&answer, &|path| site.open.get(path).cloned())?;
            let syntax_errors = regression_report(&plan);
            Ok(CheckedEdit { plan, targets, syntax_errors, repaired: false })
        })
        .await
        .map_err(|err| vec![format!("checking the answer failed: {err}")])?
    }

    /// Checks `answer`; when its change adds syntax errors and `request` is given, asks
    /// `ask` once for a repair (the request again, with the parser's error locations) and
    /// keeps the repaired change when it parses cleanly. `before_repair` runs before the
    /// repair is asked (to tell the user).
    pub async fn check_with_repair<Ask, Answer>(
        self: &Arc<Self>,
        answer: &str,
        request: Option<&Request>,
        ask: Ask,
        before_repair: impl FnOnce(),
    ) -> Result<CheckedEdit, Vec<String>>
    where
        Ask: FnOnce(Request) -> Answer,
        Answer: Future<Output = Option<String>>,
    {
        let checked = self.check(answer.to_string()).await?;
        let Some(request) = request.filter(|_| !checked.syntax_errors.is_empty()) else { return Ok(checked) };
        before_repair();
        let again = Request { prompt: repair_prompt(&request.prompt, answer, &checked.syntax_errors), ..request.clone() };
        if let Some(repaired) = ask(again).await {
            if let Ok(repaired) = self.check(repaired).await {
                if repaired.syntax_errors.is_empty() {
                    return Ok(CheckedEdit { repaired: true, ..repaired });
                }
            }
        }
        Ok(checked)
    }
}

/// The model asked for an edit (`request_text`: what the user asked), and its answer
/// applied with one repair (`apply_answer`).
pub async fn ask_for_edit<H: Host>(host: &H, what: &str, request_text: &str, (settings, request): (&ModelSettings, &Request), detail: &str) -> Done<H::Reply> {
    let answer = host::ask(host, Ask { what, settings, request, purpose: Purpose::Edit }, detail).await?;
    apply_answer(host, what, request_text, &answer, Some((settings, request))).await
}

/// Apply-with-repair, for every workflow whose answer is an edit: the answer checked
/// (`EditSite`: the write rules, the host's open texts, the parser), one repair asked
/// through the host when it adds syntax errors and `repair` gives the request, then the
/// change proposed; a refused answer proposes nothing, and is kept in the cache for the
/// user (`UnusedAnswer`).
pub async fn apply_answer<H: Host>(host: &H, what: &str, request_text: &str, answer: &Completion, repair: Option<(&ModelSettings, &Request)>) -> Done<H::Reply> {
    let root = host.root().ok_or(Stop::NoRoot)?.to_path_buf();
    let site = Arc::new(EditSite { root, config: host.config().index.clone(), request_text: request_text.to_string(), open: host.open_texts().await });
    let max_tokens = repair.map_or(0, |(_, request)| request.max_tokens);
    let ask_again = |again: Request| async move {
        let (settings, _) = repair?;
        host.progress(Progress::Repairing).await;
        host::ask(host, Ask { what, settings, request: &again, purpose: Purpose::Repair }, "").await.ok().map(|answer| answer.text)
    };
    let checked = match site.check_with_repair(&answer.text, repair.map(|(_, request)| request), ask_again, || {}).await {
        Ok(checked) => checked,
        Err(errors) => {
            let (completion, name, cache_dir) = (answer.clone(), host.answer_name(what), host.cache_dir());
            let unused = host::blocking(move || UnusedAnswer::keep(&completion, max_tokens, &cache_dir, &name)).await?;
            return Err(Stop::Refused { errors, unused });
        }
    };
    host::propose(host, Proposal::Change { what, checked, answer, max_tokens }).await
}

/// An answer that was not applied: where it is kept for the user to read, and the token
/// limit it was cut at, if it was.
#[derive(Debug)]
pub struct UnusedAnswer {
    pub cut_at: Option<u32>,
    pub kept: std::io::Result<PathBuf>,
}

impl UnusedAnswer {
    /// Keeps `completion` in the cache's `answers/` (a file written: on the blocking pool
    /// in the server); `max_tokens` is the request's limit.
    pub fn keep(completion: &crate::io::llm::Completion, max_tokens: u32, cache_dir: &std::path::Path, what: &str) -> UnusedAnswer {
        let cut_at = matches!(completion.finish, crate::llm::FinishReason::Length).then_some(max_tokens);
        UnusedAnswer { cut_at, kept: crate::io::writes::keep_answer(cache_dir, what, &completion.text) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::{Message, Prompt};

    fn site(dir: &std::path::Path) -> Arc<EditSite> {
        Arc::new(EditSite { root: dir.canonicalize().unwrap(), config: IndexConfig::default(), request_text: String::new(), open: HashMap::new() })
    }

    const BROKEN: &str = "src/lib.rs\n<<<<<<< SEARCH\nfn a() {}\n=======\nfn a() {\n>>>>>>> REPLACE\n";
    const FIXED: &str = "src/lib.rs\n<<<<<<< SEARCH\nfn a() {}\n=======\nfn a() { 1; }\n>>>>>>> REPLACE\n";

    #[tokio::test]
    async fn a_change_with_syntax_errors_is_repaired_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/lib.rs"), "fn a() {}\n").unwrap();
        let site = site(dir.path());
        let request = Request { prompt: Prompt::Chat(vec![Message::user("add")]), max_tokens: 10, temperature: 0.0, stop: Vec::new() };
        let asked = std::sync::Mutex::new(Vec::new());
        let checked = site
            .check_with_repair(BROKEN, Some(&request), |again| {
                asked.lock().unwrap().push(again);
                async { Some(FIXED.to_string()) }
            }, || {})
            .await
            .unwrap();
        assert!(checked.repaired && checked.syntax_errors.is_empty());
        assert_eq!(checked.plan.files[0].new_text, "fn a() { 1; }\n");
        let asked = asked.into_inner().unwrap();
        assert_eq!(asked.len(), 1);
        let Prompt::Chat(messages) = &asked[0].prompt else { panic!("a chat") };
        assert!(messages.last().unwrap().content.contains("line"), "the error's location is given: {messages:?}");
        // A repair that is no better: the first change, with its errors, is what comes back.
        let checked = site.check_with_repair(BROKEN, Some(&request), |_| async { Some(BROKEN.to_string()) }, || {}).await.unwrap();
        assert!(!checked.repaired && !checked.syntax_errors.is_empty());
        // A refusal is every problem, nothing planned.
        let refused = site.check_with_repair(".git/config\n<<<<<<< SEARCH\n=======\nx\n>>>>>>> REPLACE\n", Some(&request), |_| async { None }, || {}).await.unwrap_err();
        assert!(refused[0].contains("inside `.git/`"), "{refused:?}");
    }
}
