//! `ctxls summarize`: the working tree's changes against HEAD described by the chat model
//! (a one-line summary, then the what and the why), streamed to stdout; usable as a
//! commit message or as the prompt to continue the work.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::workflows::requirements as workflow;

#[derive(Args, Debug)]
pub struct SummarizeArgs {
    /// Workspace root (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Print the exact HTTP request (key redacted) and send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(args: SummarizeArgs, _cache_dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let root = super::resolve_root(args.root.as_deref())?;
    let config = super::load_config(&root);
    let Some(diff) = crate::io::git::working_tree_diff(&root, &config.index, workflow::SUMMARY_DIFF_BYTES)? else {
        anyhow::bail!("{} is not inside a git repository: `summarize` describes the working tree's changes", root.display());
    };
    if diff.trim().is_empty() {
        eprintln!("ctxls: the working tree has no changes against HEAD");
        return Ok(ExitCode::FAILURE);
    }
    let (settings, request) = workflow::summary_request(&config, &diff);
    super::send_or_show(settings, &request, args.dry_run)
}
