//! `ctxls chat "QUESTION" [--file FILE[:LINE]]`: a streamed answer about the code. With
//! a file, its lines around LINE (or its start) are sent, with the workspace context
//! retrieved for that position and the question.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::ide::prompt::Focus;
use crate::retrieve::Generators;

/// Lines of the file around `--file FILE:LINE` sent with the question.
const WINDOW_LINES: usize = 80;

/// Token budget for workspace context sent with a question about a file.
const CONTEXT_BUDGET: usize = 2048;

#[derive(Args, Debug)]
pub struct ChatArgs {
    /// What to ask, in plain words; `@mentions` include what they name (`@src/http.ts`,
    /// `@docs/api.md#orders`, `@HttpClient::send`).
    pub question: String,
    /// A file (optionally FILE:LINE) the question is about; its text is sent along.
    #[arg(long, value_name = "FILE[:LINE]")]
    pub file: Option<String>,
    /// Workspace root (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Print the exact HTTP request (key redacted) and send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(args: ChatArgs, cache_dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let root = super::resolve_root(args.root.as_deref())?;
    let config = super::load_config(&root);
    let mut focus_text = None;
    let mut gathered = None;
    if let Some(file) = &args.file {
        let (name, line) = match file.rsplit_once(':') {
            Some((name, line)) if line.parse::<usize>().is_ok() => (name, line.parse::<usize>().ok()),
            _ => (file.as_str(), None),
        };
        let path = if Path::new(name).is_absolute() { PathBuf::from(name) } else { root.join(name) };
        let path = path.canonicalize().with_context(|| format!("{}", path.display()))?;
        let rel = crate::io::vfs::relative_path(&root, &path);
        super::refuse_ignored(&root, &path, &rel)?;
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let lines: Vec<&str> = text.lines().collect();
        let (from, to) = match line {
            Some(line) => {
                let center = line.saturating_sub(1).min(lines.len());
                (center.saturating_sub(WINDOW_LINES / 2), (center + WINDOW_LINES / 2).min(lines.len()))
            }
            None => (0, lines.len().min(WINDOW_LINES * 4)),
        };
        let offset = super::complete::offset_of(&text, line.unwrap_or(1).max(1), 1).unwrap_or(0);
        gathered = super::context::gather(&root, &config, cache_dir, &rel, &text, offset, Some(&args.question), CONTEXT_BUDGET, Generators::ALL)
            .map_err(|err| tracing::warn!("no workspace context: {err:#}"))
            .ok();
        focus_text = Some((rel, from, to, lines[from..to].join("\n")));
    }
    let focus = focus_text.as_ref().map(|(path, from, to, text)| Focus { path, start_line: *from as u32 + 1, end_line: *to as u32, text });
    let excerpts = gathered.as_ref().map(|g| g.excerpts()).unwrap_or_default();
    // Mentions resolve through the index: loaded here when the question was not about a file.
    let knowledge = match &gathered {
        Some(g) => super::context::knowledge(&root, &config, &g.snapshot, &args.question, &args.question),
        None => {
            let mentioned = !crate::knowledge::mentions::parse(&args.question).is_empty();
            let snapshot = if mentioned {
                super::open_and_refresh(&root, &config, cache_dir, crate::io::workspace::RefreshMode::Lazy).0.snapshot()
            } else {
                crate::index::WorkspaceIndex::new().snapshot()
            };
            super::context::knowledge(&root, &config, &snapshot, &args.question, &args.question)
        }
    };
    let (settings, mut request) = crate::workflows::actions::chat_request(&root, &config, &args.question, focus.as_ref(), &excerpts, &knowledge);
    let recent = super::recent_edits(&root, &config, crate::config::Task::Chat, config.completion.recent_edits_tokens);
    request.prompt = crate::ide::edit_history::apply_to_chat(request.prompt, &recent);
    super::send_or_show(settings, &request, args.dry_run)
}
