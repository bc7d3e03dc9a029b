//! `ctxls generate FILE:LINE`: implements the requirement comment at that line (or any
//! comment there) with the chat model, in SEARCH/REPLACE blocks validated against the
//! files on disk; prints the change as a unified diff, or writes it with `--write` (all
//! files or none). `--dry-run` prints the request instead.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::ide::search_replace;
use crate::workflows::requirements as workflow;
use crate::workflows::edit::EditSite;
use crate::lang::{parse, Lang};
use crate::llm::Request;
use crate::reqs::{self, Markers};
use crate::retrieve::Generators;

pub(super) use crate::workflows::requirements::{CONTEXT_TOKENS, DIFF_BYTES};

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// The requirement's position: FILE:LINE (1-based; any line of the comment).
    pub position: String,
    /// Workspace root (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Write the change to the files (default: print it as a unified diff).
    #[arg(long)]
    pub write: bool,
    /// Print the exact HTTP request (key redacted) and send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(args: GenerateArgs, cache_dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let root = super::resolve_root(args.root.as_deref())?;
    let config = super::load_config(&root);
    let super::Position { rel, path, text, line, .. } = super::read_position(&root, &format!("{}:1", args.position))?;
    let lang = Lang::from_path(&path).with_context(|| format!("{rel}: not a supported language"))?;
    let tree = parse(lang, &text, None);
    let line0 = line as u32 - 1;
    let requirement = reqs::find(&text, &tree, &Markers::from(&config.requirements))
        .into_iter()
        .find(|r| r.start_line <= line0 && line0 <= r.end_line)
        .with_context(|| format!("{rel}:{line}: no requirement comment there (`// AI: ...`, `... AI!`)"))?;
    let scope = workflow::generate_scope(lang, &text, &tree, requirement.range, &requirement.text);
    let offset = requirement.range.start as usize;
    let gathered = super::context::gather(&root, &config, cache_dir, &rel, &text, offset, Some(&requirement.text), CONTEXT_TOKENS, Generators::ALL)
        .map_err(|err| tracing::warn!("no workspace context: {err:#}"))
        .ok();
    let excerpts = gathered.as_ref().map(|g| g.excerpts()).unwrap_or_default();
    let diff = crate::io::git::working_tree_diff(&root, &config.index, DIFF_BYTES).ok().flatten();
    let knowledge = match &gathered {
        Some(g) => super::context::knowledge(&root, &config, &g.snapshot, &requirement.text, &requirement.text),
        None => Default::default(),
    };
    let (settings, request) =
        workflow::generate_request(&root, &config, &rel, lang, &text, &requirement.text, scope, &excerpts, diff.as_deref(), &knowledge);
    if args.dry_run {
        let client = crate::io::llm::LlmClient::new(settings.clone(), crate::io::llm::resolve_api_key(&settings));
        print!("{}", client.dry_run(&request));
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("ctxls: asking {} to implement: {}", settings.model, requirement.text);
    let Some(completion) = ask(&settings, &request) else { return Ok(ExitCode::FAILURE) };
    let cache_dir = crate::io::store::Store::default_dir(&root, cache_dir);
    let answer = EditAnswer { completion, cache_dir: &cache_dir, what: "generate" };
    finish(&root, &config, &requirement.text, &answer, Some((&rel, &text)), args.write, Some((&settings, &request)))
}

/// Asks the chat model and returns its answer, or prints the failure.
pub(super) fn ask(settings: &crate::config::ModelSettings, request: &Request) -> Option<crate::io::llm::Completion> {
    let client = crate::io::llm::LlmClient::new(settings.clone(), crate::io::llm::resolve_api_key(settings));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
    match runtime.block_on(client.complete(request, &mut |_| {})) {
        Ok(answer) => Some(answer),
        Err(err) => {
            eprintln!("ctxls: {err}");
            None
        }
    }
}

/// A model's answer for an edit, and where to keep it when it does not apply.
pub(super) struct EditAnswer<'a> {
    pub completion: crate::io::llm::Completion,
    /// The workspace's cache directory (answers are kept in its `answers/`).
    pub cache_dir: &'a Path,
    /// The command, naming the kept file.
    pub what: &'a str,
}

impl EditAnswer<'_> {
    /// Says that the answer did not apply: whether it was cut at the token limit, and
    /// where it is kept.
    fn report_unused(&self, max_tokens: u32) {
        let unused = crate::workflows::edit::UnusedAnswer::keep(&self.completion, max_tokens, self.cache_dir, self.what);
        if let Some(limit) = unused.cut_at {
            eprintln!("ctxls: the model's answer was cut at its limit of {limit} tokens (raise [llm.chat] max_tokens in .ctxls.toml)");
        }
        match unused.kept {
            Ok(path) => eprintln!("ctxls: the model's answer is kept in {}", path.display()),
            Err(err) => eprintln!("ctxls: the model's answer could not be kept: {err}"),
        }
    }
}

/// Turns the model's SEARCH/REPLACE answer into a checked plan (`current`: a file's text
/// as it is to be matched, instead of the disk's; `request`: what the user asked, which
/// may name files outside the index's languages) and prints it as a diff, or writes it:
/// all files or none, never where `io::writes` forbids.
pub(super) fn finish(
    root: &Path,
    config: &crate::config::Config,
    request: &str,
    answer: &EditAnswer,
    current: Option<(&str, &str)>,
    write: bool,
    repair: Option<(&crate::config::ModelSettings, &Request)>,
) -> anyhow::Result<ExitCode> {
    let site = std::sync::Arc::new(EditSite {
        root: root.to_path_buf(),
        config: config.index.clone(),
        request_text: request.to_string(),
        open: current.map(|(rel, text)| (rel.to_string(), text.to_string())).into_iter().collect(),
    });
    let max_tokens = repair.map_or(0, |(_, request)| request.max_tokens);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let ask_again = |again: Request| async move {
        let (settings, _) = repair?;
        let client = crate::io::llm::LlmClient::new(settings.clone(), crate::io::llm::resolve_api_key(settings));
        match client.complete(&again, &mut |_| {}).await {
            Ok(answer) => Some(answer.text),
            Err(err) => {
                eprintln!("ctxls: {err}");
                None
            }
        }
    };
    let checked = runtime.block_on(site.check_with_repair(&answer.completion.text, repair.map(|(_, request)| request), ask_again, || {
        eprintln!("ctxls: the change adds syntax errors; asking the model to repair it");
    }));
    let checked = match checked {
        Ok(checked) => checked,
        Err(errors) => {
            for error in errors {
                eprintln!("ctxls: {error}");
            }
            eprintln!("ctxls: nothing was changed");
            answer.report_unused(max_tokens);
            return Ok(ExitCode::FAILURE);
        }
    };
    let report = checked.syntax_errors;
    let (plan, targets) = (checked.plan, checked.targets);
    if !report.is_empty() {
        for (path, lines) in &report {
            let lines: Vec<String> = lines.iter().map(u32::to_string).collect();
            eprintln!("ctxls: warning: the change to {path} adds syntax errors (line {})", lines.join(", "));
        }
        eprintln!("ctxls: nothing was written; the change is offered below");
        print!("{}", search_replace::unified_diff(&plan));
        answer.report_unused(max_tokens);
        return Ok(ExitCode::FAILURE);
    }
    if !write {
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
