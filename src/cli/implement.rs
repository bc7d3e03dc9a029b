//! `ctxls implement`: every `act` requirement comment added in the working tree's changes
//! against HEAD (staged, unstaged, untracked), implemented in one request to the chat
//! model with the diff, the files' relevant parts and retrieved context; the multi-file
//! answer is printed as a unified diff, or written with `--write` (all files or none).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::config::Task;
use crate::ide::generate::{implement_prompt, RequirementSite};
use crate::io::requirements::workspace_requirements;
use crate::lang::{parse, Lang};
use crate::reqs::{self, Kind};
use crate::retrieve::Generators;

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
    let Some(changes) = crate::io::git::working_tree_changes(&root, &config.index)? else {
        anyhow::bail!("{} is not inside a git repository: `implement` works on the working tree's changes", root.display());
    };
    let found: Vec<_> = workspace_requirements(&root, &config, Some(&changes)).into_iter().filter(|f| f.requirement.kind == Kind::Act).collect();
    if found.is_empty() {
        eprintln!("ctxls: no requirement comment (`// AI: ...`, `... AI!`) in the working tree's changes");
        return Ok(ExitCode::FAILURE);
    }
    let scopes: Vec<crate::base::TextRange> = found
        .iter()
        .map(|f| {
            let lang = Lang::from_path(Path::new(&f.path)).unwrap_or(Lang::Rust);
            let file = crate::index::extract(lang, &f.text, &parse(lang, &f.text, None));
            reqs::scope(&file, &f.requirement)
        })
        .collect();
    let sites: Vec<RequirementSite> = found
        .iter()
        .zip(&scopes)
        .map(|(f, scope)| RequirementSite {
            path: &f.path,
            lang: Lang::from_path(Path::new(&f.path)).unwrap_or(Lang::Rust),
            requirement: &f.requirement.text,
            text: &f.text,
            scope: *scope,
        })
        .collect();
    // Context retrieved at the first requirement, queried with all of them.
    let query: String = found.iter().map(|f| f.requirement.text.as_str()).collect::<Vec<_>>().join(" ");
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
    let diff = crate::io::git::working_tree_diff(&root, &config.index, super::generate::DIFF_BYTES)?.unwrap_or_default();
    let settings = config.llm.for_task(Task::Chat);
    let paths: Vec<&str> = found.iter().map(|f| f.path.as_str()).collect();
    let instructions = crate::io::instructions::section(&root, &paths, &config);
    let knowledge = match &gathered {
        Some(g) => super::context::knowledge(&root, &config, &g.snapshot, &query, &query),
        None => Default::default(),
    };
    let prompt = crate::ide::instructions::apply(implement_prompt(&sites, &excerpts, Some(&diff)), &instructions);
    let prompt = crate::ide::knowledge::apply(prompt, &crate::ide::knowledge::render(&knowledge));
    let request = crate::workflows::edit::edit_request(&settings, prompt);
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
