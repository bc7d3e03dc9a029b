//! `ctxls generate FILE:LINE`: implements the requirement comment at that line (or any
//! comment there) with the chat model, in SEARCH/REPLACE blocks validated against the
//! files on disk; prints the change as a unified diff, or writes it with `--write` (all
//! files or none). `--dry-run` prints the request instead.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::host::{CliHost, Options};
use crate::lang::{parse, Lang};
use crate::reqs::{self, Markers};
use crate::workflows::host::ContextAt;
use crate::workflows::requirements as workflow;

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
    let options = Options { write: args.write, dry_run: args.dry_run, ..Options::default() };
    let host = CliHost::new(&root, &config, cache_dir, "generate", options).with_open(&rel, &text);
    let at = ContextAt { rel, text, offset: requirement.range.start as usize, parsed: Some((lang, tree)) };
    let input = workflow::GenerateAt { at, comment: requirement.range, requirement: requirement.text };
    let done = super::host::run(&host, workflow::generate(&host, input))?;
    host.exit(done)
}
