//! `ctxls requirements`: the requirement comments of the workspace (`reqs`), one per line
//! or as JSON; `--diff` keeps those that the working tree's changes against HEAD touch
//! (staged, unstaged, untracked).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use crate::reqs;

#[derive(Args, Debug)]
pub struct RequirementsArgs {
    /// Workspace root (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Print a JSON array: `{"file", "line", "end_line", "kind", "text"}`, 1-based lines.
    #[arg(long)]
    pub json: bool,
    /// Only the requirements inside the working tree's changes against HEAD.
    #[arg(long)]
    pub diff: bool,
}

pub fn run(args: RequirementsArgs, _cache_dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let root = super::resolve_root(args.root.as_deref())?;
    let config = super::load_config(&root);
    let changes = if args.diff {
        match crate::io::git::working_tree_changes(&root, &config.index)? {
            Some(changes) => Some(changes),
            None => anyhow::bail!("{} is not inside a git repository: --diff needs one", root.display()),
        }
    } else {
        None
    };
    let found = crate::io::requirements::workspace_requirements(&root, &config, changes.as_deref());
    if args.json {
        let items: Vec<serde_json::Value> = found
            .iter()
            .map(|f| {
                let r = &f.requirement;
                serde_json::json!({"file": f.path, "line": r.start_line + 1, "end_line": r.end_line + 1, "kind": r.kind, "text": r.text})
            })
            .collect();
        println!("{}", serde_json::Value::Array(items));
    } else {
        for crate::io::requirements::Found { path, requirement: r, .. } in &found {
            let kind = match r.kind {
                reqs::Kind::Act => "act",
                reqs::Kind::Ask => "ask",
            };
            println!("{path}:{} {kind} {}", r.start_line + 1, r.text);
        }
    }
    Ok(ExitCode::SUCCESS)
}
