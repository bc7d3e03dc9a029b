//! `ctxls implement`: every `act` requirement comment added in the working tree's changes
//! against HEAD (staged, unstaged, untracked), implemented in one request to the chat
//! model with the diff, the files' relevant parts and retrieved context; the multi-file
//! answer is printed as a unified diff, or written with `--write` (all files or none).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use super::host::{CliHost, Options};
use crate::workflows::host::Stop;
use crate::workflows::requirements as workflow;

#[derive(Args, Debug)]
pub struct ImplementArgs {
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

pub fn run(args: ImplementArgs, cache_dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let root = super::resolve_root(args.root.as_deref())?;
    let config = super::load_config(&root);
    let options = Options { write: args.write, dry_run: args.dry_run, ..Options::default() };
    let host = CliHost::new(&root, &config, cache_dir, "implement", options);
    match super::host::run(&host, workflow::implement(&host))? {
        Err(Stop::NotInGit) => anyhow::bail!("{} is not inside a git repository: `implement` works on the working tree's changes", root.display()),
        done => host.exit(done),
    }
}
