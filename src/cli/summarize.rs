//! `ctxls summarize`: the working tree's changes against HEAD described by the chat model
//! (a one-line summary, then the what and the why), streamed to stdout; usable as a
//! commit message or as the prompt to continue the work.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use super::host::{CliHost, Options};
use crate::workflows::host::Stop;
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

pub fn run(args: SummarizeArgs, cache_dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let root = super::resolve_root(args.root.as_deref())?;
    let config = super::load_config(&root);
    let options = Options { dry_run: args.dry_run, stream: true, ..Options::default() };
    let host = CliHost::new(&root, &config, cache_dir, "summarize", options);
    match super::host::run(&host, workflow::summarize(&host))? {
        Err(Stop::NotInGit) => anyhow::bail!("{} is not inside a git repository: `summarize` describes the working tree's changes", root.display()),
        done => host.exit(done),
    }
}
