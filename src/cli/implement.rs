//! `ctxls implement`: every `act` requirement comment added in the working tree's changes
//! against HEAD (staged, unstaged, untracked), implemented in one request to the chat
//! model with the diff, the files' relevant parts and retrieved context; the multi-file
//! answer is printed as a unified diff, or written with `--write` (all files or none).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::retrieve::Generators;
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
    let Some(workflow::Changed { found, diff }) = workflow::changed_requirements(&root, &config)? else {
        anyhow::bail!("{} is not inside a git repository: `implement` works on the working tree's changes", root.display());
    };
    if found.is_empty() {
        eprintln!("ctxls: no requirement comment (`// AI: ...`, `... AI!`) in the working tree's changes");
        return Ok(ExitCode::FAILURE);
    }
    let scopes = workflow::scopes(&found);
    // Context retrieved at the first requirement, queried with all of them.
    let query = workflow::implement_query(&found);
    let first = &found[0];
    let gathered = super::context::gather(
        &root,
        &config,
        cache_dir,
        &first.path,
        &first.text,
        first.requirement.range.start as usize,
        Some(&query),
        super::generate::CONTEXT_TOKENS,
        Generators::ALL,
    )
    .map_err(|err| tracing::warn!("no workspace context: {err:#}"))
    .ok();
    let excerpts = gathered.as_ref().map(|g| g.excerpts()).unwrap_or_default();
    let knowledge = match &gathered {
        Some(g) => super::context::knowledge(&root, &config, &g.snapshot, &query, &query),
        None => Default::default(),
    };
    let (settings, request) = workflow::implement_request(&root, &config, &found, &scopes, &excerpts, &diff, &knowledge);
    if args.dry_run {
        let client = crate::io::llm::LlmClient::new(settings.clone(), crate::io::llm::resolve_api_key(&settings));
        print!("{}", client.dry_run(&request));
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("ctxls: asking {} to implement {} requirement(s)", settings.model, found.len());
    let Some(completion) = super::generate::ask(&settings, &request) else { return Ok(ExitCode::FAILURE) };
    let cache_dir = crate::io::store::Store::default_dir(&root, cache_dir);
    let answer = super::generate::EditAnswer { completion, cache_dir: &cache_dir, what: "implement" };
    super::generate::finish(&root, &config, &query, &answer, None, args.write, Some((&settings, &request)))
}
