//! `ctxls complete FILE:LINE:COL`: a fill-in-the-middle completion at a position, with the
//! workspace context retrieved for it (`ide::prompt`), streamed to stdout as it arrives
//! (`--dry-run`: print the HTTP request and send nothing).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::config::Task;
use crate::ide::prompt::{completion_prompt, prefix_window, suffix_window, CompletionInput};
use crate::lang::Lang;
use crate::llm::Request;
use crate::retrieve::{Generators, Packing};

#[derive(Args, Debug)]
pub struct CompleteArgs {
    /// Position: FILE:LINE:COL, 1-based; COL counts characters.
    pub position: String,
    /// Workspace root (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Token budget for context from the rest of the workspace (0: none).
    #[arg(long, default_value_t = 1024)]
    pub budget: usize,
    /// Print the exact HTTP request (key redacted) and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// How the context is packed: compact (as many definitions as fit) or whole (fewer,
    /// whole short definitions); default: the configuration's `completion.packing`.
    #[arg(long, value_parser = super::context::parse_packing)]
    pub packing: Option<Packing>,
}

pub fn run(args: CompleteArgs, cache_dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let root = super::resolve_root(args.root.as_deref())?;
    let config = super::load_config(&root);
    let super::Position { rel, path, text, offset, .. } = super::read_position(&root, &args.position)?;
    let lang = Lang::from_path(&path).unwrap_or(Lang::Rust);
    let limit = config.completion.recent_edits_tokens.min(args.budget / 2);
    let recent_edits = super::recent_edits(&root, &config, &config.llm.for_task(Task::Completion).model, limit);
    let budget = args.budget.saturating_sub(count_tokens(&config, &recent_edits));
    // Context from the rest of the workspace; a file outside the index gets none.
    let gathered = if budget > 0 {
        super::context::gather(&root, &config, cache_dir, &rel, &text, offset, None, budget, Generators::ALL, args.packing.unwrap_or(config.completion.packing))
            .map_err(|err| tracing::warn!("no workspace context: {err:#}"))
            .ok()
    } else {
        None
    };
    let excerpts = gathered.as_ref().map(|g| g.excerpts()).unwrap_or_default();
    let input = CompletionInput {
        path: &rel,
        lang,
        prefix: prefix_window(&text[..offset]),
        suffix: suffix_window(&text[offset..]),
        excerpts: &excerpts,
        recent_edits: &recent_edits,
    };
    let settings = config.llm.for_task(Task::Completion);
    let request = Request {
        prompt: completion_prompt(&input),
        max_tokens: settings.max_tokens,
        temperature: settings.temperature,
        stop: Vec::new(),
    };
    super::send_or_show(settings, &request, args.dry_run)
}

/// `path:line:col`, splitting from the right so that paths may hold colons.
pub fn parse_position(position: &str) -> anyhow::Result<(PathBuf, usize, usize)> {
    let mut parts = position.rsplitn(3, ':');
    let col = parts.next().and_then(|c| c.parse::<usize>().ok());
    let line = parts.next().and_then(|l| l.parse::<usize>().ok());
    let file = parts.next();
    match (file, line, col) {
        (Some(file), Some(line), Some(col)) if line >= 1 && col >= 1 => Ok((PathBuf::from(file), line, col)),
        _ => anyhow::bail!("expected FILE:LINE:COL with 1-based LINE and COL, got `{position}`"),
    }
}

/// The byte offset of a 1-based line and character column; a column past the end of
/// its line means the line's end.
pub fn offset_of(text: &str, line: usize, col: usize) -> Option<usize> {
    let mut start = 0;
    for _ in 1..line {
        start += text[start..].find('\n')? + 1;
    }
    let line_text = &text[start..text[start..].find('\n').map_or(text.len(), |e| start + e)];
    let within = line_text.char_indices().nth(col - 1).map_or(line_text.len(), |(i, _)| i);
    Some(start + within)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        assert_eq!(parse_position("src/a.rs:3:5").unwrap(), (PathBuf::from("src/a.rs"), 3, 5));
        assert_eq!(parse_position("C:/x.rs:1:1").unwrap().0, PathBuf::from("C:/x.rs"));
        assert!(parse_position("a.rs:0:1").is_err());
        assert!(parse_position("a.rs:3").is_err());
        let text = "ab\né€x\n";
        assert_eq!(offset_of(text, 1, 1), Some(0));
        assert_eq!(offset_of(text, 2, 3), Some(3 + 2 + 3), "characters, not bytes");
        assert_eq!(offset_of(text, 2, 99), Some(text.len() - 1));
        assert_eq!(offset_of(text, 9, 1), None);
    }
}

fn count_tokens(config: &crate::config::Config, text: &str) -> usize {
    if text.is_empty() {
        return 0;
    }
    crate::llm::tokens::TokenCounter::for_model(&config.llm.for_task(Task::Completion).model).count(text)
}
