//! `ctxls requirements`: the requirement comments of the workspace (`reqs`), one per line
//! or as JSON; `--diff` keeps those that the working tree's changes against HEAD touch
//! (staged, unstaged, untracked).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use rayon::prelude::*;

use crate::io::vfs;
use crate::lang::parse;
use crate::reqs::{self, Markers, Requirement};

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
    let markers = Markers::from(&config.requirements);
    let changes = if args.diff {
        match crate::io::git::working_tree_changes(&root)? {
            Some(changes) => Some(changes),
            None => anyhow::bail!("{} is not inside a git repository: --diff needs one", root.display()),
        }
    } else {
        None
    };
    let walk = vfs::walk(&root, &config.index);
    let files: Vec<&vfs::WalkedFile> = match &changes {
        Some(changes) => walk.files.iter().filter(|f| changes.iter().any(|c| c.path == f.rel_path)).collect(),
        None => walk.files.iter().collect(),
    };
    // Only files that mention a marker are parsed.
    let mut found: Vec<(String, Requirement)> = files
        .par_iter()
        .filter_map(|file| {
            let (_, text) = vfs::read_source(&file.abs_path, &config.index).ok()?;
            if !markers.may_occur_in(&text) {
                return None;
            }
            let tree = parse(file.lang, &text, None);
            Some(reqs::find(&text, &tree, &markers).into_iter().map(|r| (file.rel_path.clone(), r)).collect::<Vec<_>>())
        })
        .flatten()
        .collect();
    if let Some(changes) = &changes {
        found.retain(|(path, requirement)| {
            changes.iter().filter(|c| c.path == *path).any(|c| {
                c.lines.is_empty() || c.lines.iter().any(|&(from, to)| from <= requirement.end_line && requirement.start_line <= to)
            })
        });
    }
    found.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.start_line.cmp(&b.1.start_line)));
    if args.json {
        let items: Vec<serde_json::Value> = found
            .iter()
            .map(|(path, r)| serde_json::json!({"file": path, "line": r.start_line + 1, "end_line": r.end_line + 1, "kind": r.kind, "text": r.text}))
            .collect();
        println!("{}", serde_json::Value::Array(items));
    } else {
        for (path, r) in &found {
            let kind = match r.kind {
                reqs::Kind::Act => "act",
                reqs::Kind::Ask => "ask",
            };
            println!("{path}:{} {kind} {}", r.start_line + 1, r.text);
        }
    }
    Ok(ExitCode::SUCCESS)
}
