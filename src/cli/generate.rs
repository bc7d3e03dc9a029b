//! `ctxls generate FILE:LINE`: implements the requirement comment at that line (or any
//! comment there) with the chat model, in SEARCH/REPLACE blocks validated against the
//! files on disk; prints the change as a unified diff, or writes it with `--write` (all
//! files or none). `--dry-run` prints the request instead.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::config::Task;
use crate::ide::generate::{prompt, regression_report, repair_prompt, GenerateInput};
use crate::ide::search_replace;
use crate::lang::{parse, Lang};
use crate::llm::Request;
use crate::reqs::{self, Markers};
use crate::retrieve::Generators;

/// Tokens of workspace context sent with the requirement.
pub(super) const CONTEXT_TOKENS: usize = 2048;
/// The working tree's diff sent, at most.
pub(super) const DIFF_BYTES: usize = 16 * 1024;

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
    let file = crate::index::extract(lang, &text, &tree);
    let scope = reqs::scope(&file, &requirement);
    let offset = requirement.range.start as usize;
    let gathered = super::context::gather(&root, &config, cache_dir, &rel, &text, offset, Some(&requirement.text), CONTEXT_TOKENS, Generators::ALL)
        .map_err(|err| tracing::warn!("no workspace context: {err:#}"))
        .ok();
    let excerpts = gathered.as_ref().map(|g| g.excerpts()).unwrap_or_default();
    let diff = crate::io::git::working_tree_diff(&root, DIFF_BYTES).ok().flatten();
    let file_diff = diff.as_deref().and_then(|d| crate::ide::generate::diff_of_file(d, &rel));
    let input = GenerateInput { requirement: &requirement.text, path: &rel, lang, text: &text, scope, excerpts: &excerpts, diff: file_diff };
    let settings = config.llm.for_task(Task::Chat);
    let instructions = crate::io::instructions::section(&root, &[&rel], &config);
    let knowledge = match &gathered {
        Some(g) => super::context::knowledge(&root, &config, &g.snapshot, &requirement.text, &requirement.text),
        None => Default::default(),
    };
    let prompt = crate::ide::instructions::apply(prompt(&input), &instructions);
    let prompt = crate::ide::knowledge::apply(prompt, &crate::ide::knowledge::render(&knowledge));
    let request = Request { prompt, max_tokens: settings.max_tokens, temperature: settings.temperature, stop: Vec::new() };
    if args.dry_run {
        let client = crate::io::llm::LlmClient::new(settings.clone(), crate::io::llm::resolve_api_key(&settings));
        print!("{}", client.dry_run(&request));
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("ctxls: asking {} to implement: {}", settings.model, requirement.text);
    let Some(answer) = ask(&settings, &request) else { return Ok(ExitCode::FAILURE) };
    finish(&root, &answer, Some((&rel, &text)), args.write, Some((&settings, &request)))
}

/// Asks the chat model and returns its answer, or prints the failure.
pub(super) fn ask(settings: &crate::config::ModelSettings, request: &Request) -> Option<String> {
    let client = crate::io::llm::LlmClient::new(settings.clone(), crate::io::llm::resolve_api_key(settings));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
    match runtime.block_on(client.complete(request, &mut |_| {})) {
        Ok(answer) => Some(answer.text),
        Err(err) => {
            eprintln!("ctxls: {err}");
            None
        }
    }
}

/// Turns the model's SEARCH/REPLACE answer into a checked plan (`current`: a file's text
/// as it is to be matched, instead of the disk's) and prints it as a diff, or writes it:
/// all files or none.
pub(super) fn finish(
    root: &Path,
    answer: &str,
    current: Option<(&str, &str)>,
    write: bool,
    repair: Option<(&crate::config::ModelSettings, &Request)>,
) -> anyhow::Result<ExitCode> {
    let texts = |p: &str| -> Option<String> {
        if let Some((_, text)) = current.filter(|(rel, _)| *rel == p) {
            return Some(text.to_string());
        }
        // Inside the workspace only: a symlink that leaves it is as good as `..`.
        let real = root.join(p).canonicalize().ok()?;
        real.starts_with(root).then(|| std::fs::read_to_string(real).ok()).flatten()
    };
    let plan_of = |answer: &str| -> Result<search_replace::Plan, Vec<String>> {
        let blocks = search_replace::parse(answer).map_err(|err| vec![format!("the model's answer: {err}")])?;
        if blocks.is_empty() {
            return Err(vec!["the model's answer holds no SEARCH/REPLACE block".to_string()]);
        }
        search_replace::plan(&blocks, &texts).map_err(|errors| errors.iter().map(ToString::to_string).collect())
    };
    let mut plan = match plan_of(answer) {
        Ok(plan) => plan,
        Err(errors) => {
            for error in errors {
                eprintln!("ctxls: {error}");
            }
            eprintln!("ctxls: nothing was changed");
            return Ok(ExitCode::FAILURE);
        }
    };
    if let Some(outside) = plan.files.iter().find(|f| !crate::io::vfs::resolves_inside(root, &f.path)) {
        eprintln!("ctxls: the change would write {} outside the workspace (through a symlink); nothing was changed", outside.path);
        return Ok(ExitCode::FAILURE);
    }
    let mut report = regression_report(&plan);
    if let (false, Some((settings, request))) = (report.is_empty(), repair) {
        // One chance to repair, with the parser's error locations.
        eprintln!("ctxls: the change adds syntax errors; asking the model to repair it");
        let again = Request { prompt: repair_prompt(&request.prompt, answer, &report), ..request.clone() };
        if let Some(repaired) = ask(settings, &again).and_then(|answer| plan_of(&answer).ok()) {
            let repaired_report = regression_report(&repaired);
            if repaired_report.is_empty() {
                plan = repaired;
                report = repaired_report;
            }
        }
    }
    if !report.is_empty() {
        for (path, lines) in &report {
            let lines: Vec<String> = lines.iter().map(u32::to_string).collect();
            eprintln!("ctxls: warning: the change to {path} adds syntax errors (line {})", lines.join(", "));
        }
        eprintln!("ctxls: nothing was written; the change is offered below");
        print!("{}", search_replace::unified_diff(&plan));
        return Ok(ExitCode::FAILURE);
    }
    if !write {
        print!("{}", search_replace::unified_diff(&plan));
        return Ok(ExitCode::SUCCESS);
    }
    // Everything is written to temporary files first, then renamed: all files or none.
    let mut staged = Vec::new();
    for change in &plan.files {
        let target = root.join(&change.path);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let temporary = target.with_file_name(format!(".{name}.ctxls-tmp"));
        std::fs::write(&temporary, &change.new_text).with_context(|| format!("writing {}", temporary.display()))?;
        staged.push((temporary, target));
    }
    for (temporary, target) in staged {
        std::fs::rename(&temporary, &target).with_context(|| format!("writing {}", target.display()))?;
        eprintln!("ctxls: wrote {}", crate::io::vfs::relative_path(root, &target));
    }
    Ok(ExitCode::SUCCESS)
}
