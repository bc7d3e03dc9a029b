//! `ctxls chat "QUESTION" [--file FILE[:LINE]]`: a streamed answer about the code. With
//! a file, its lines around LINE (or its start) are sent, with the workspace context
//! retrieved for that position and the question.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use super::host::{CliHost, Options};

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
    let file = args.file.as_deref().map(|file| match file.rsplit_once(':') {
        Some((name, line)) if line.parse::<usize>().is_ok() => (name, line.parse::<usize>().ok()),
        _ => (file, None),
    });
    let options = Options { dry_run: args.dry_run, stream: true, index_for_mentions: true, ..Options::default() };
    let host = CliHost::new(&root, &config, cache_dir, "chat", options);
    let done = super::host::run(&host, crate::workflows::actions::chat(&host, &args.question, file))?;
    host.exit(done)
}
