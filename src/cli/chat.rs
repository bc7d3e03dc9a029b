//! `ctxls chat "QUESTION" [--file FILE[:LINE]]`: a streamed answer about the code.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use crate::config::Task;
use crate::llm::{Message, Prompt, Request};

/// Lines of the file around `--file FILE:LINE` sent with the question.
const WINDOW_LINES: usize = 80;

const SYSTEM: &str = "You are a senior software engineer answering questions about a codebase. \
Answer precisely and briefly; show code only when it helps.";

#[derive(Args, Debug)]
pub struct ChatArgs {
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

pub fn run(args: ChatArgs, _cache_dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let root = super::resolve_root(args.root.as_deref())?;
    let config = super::load_config(&root);
    let mut user = String::new();
    if let Some(file) = &args.file {
        let (name, line) = match file.rsplit_once(':') {
            Some((name, line)) if line.parse::<usize>().is_ok() => (name, line.parse::<usize>().ok()),
            _ => (file.as_str(), None),
        };
        let path = if Path::new(name).is_absolute() { PathBuf::from(name) } else { root.join(name) };
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let lines: Vec<&str> = text.lines().collect();
        let (from, to) = match line {
            Some(line) => {
                let center = line.saturating_sub(1).min(lines.len());
                (center.saturating_sub(WINDOW_LINES / 2), (center + WINDOW_LINES / 2).min(lines.len()))
            }
            None => (0, lines.len().min(WINDOW_LINES * 4)),
        };
        let shown = crate::io::vfs::relative_path(&root, &path);
        user.push_str(&format!("File {shown}, lines {}-{}:\n```\n{}\n```\n\n", from + 1, to, lines[from..to].join("\n")));
    }
    user.push_str(&args.question);
    let settings = config.llm.for_task(Task::Chat);
    let request = Request {
        prompt: Prompt::Chat(vec![Message::system(SYSTEM), Message::user(user)]),
        max_tokens: settings.max_tokens.max(1024),
        temperature: settings.temperature,
        stop: Vec::new(),
    };
    super::send_or_show(settings, &request, args.dry_run)
}
