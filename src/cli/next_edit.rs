//! `ctxls next-edit`: where the next edit likely goes, from the working tree's changes
//! against HEAD (the edits so far) and the persistent index (refreshed first). Only
//! locations for now: no model is asked what the edit is, and the output says so.
//! Ignored and secret files are never among the edits or the places.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::ide::next_edit::{parse_unified_diff, rank, Edit, Limits};
use crate::io::workspace::RefreshMode;

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Format {
    Json,
    Text,
}

#[derive(Args, Debug)]
pub struct NextEditArgs {
    /// Workspace root (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// At most this many places, best first.
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    /// Only the places; ask no model. (A model's rewrite is not implemented yet: the
    /// places are all that is given either way, and the output says so.)
    #[arg(long)]
    pub locations_only: bool,
}

/// The diff is read up to this size; a larger change is cut (the edits past it are not
/// used).
const DIFF_BYTES: usize = 4 << 20;

const NO_REWRITE: &str = "only locations are given: asking a model what the edit is (the rewrite) is not implemented yet";

pub fn run(args: NextEditArgs, cache_dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let root = super::resolve_root(args.root.as_deref())?;
    let config = super::load_config(&root);
    let (edits, (mut index, _report)) = std::thread::scope(|scope| {
        let edits = scope.spawn(|| working_tree_edits(&root, &config));
        let index = super::open_and_refresh(&root, &config, cache_dir, RefreshMode::Lazy);
        (edits.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), index)
    });
    let edits = edits?;
    let snapshot = index.snapshot();
    std::mem::forget(index); // the snapshot holds it all; the process ends soon
    tracing::debug!("index and edits in {:.1} ms", started.elapsed().as_secs_f64() * 1000.0);
    let read = |id| snapshot.file(id).and_then(|e| std::fs::read_to_string(root.join(&e.path)).ok());
    let ranking = std::time::Instant::now();
    let candidates = rank(&snapshot, &edits, &read, args.limit, Limits::default());
    let rank_ms = ranking.elapsed().as_secs_f64() * 1000.0;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    if !args.locations_only {
        eprintln!("ctxls: {NO_REWRITE}");
    }
    if edits.is_empty() {
        eprintln!("ctxls: no changes against HEAD in supported, indexed files: nothing to follow up");
    }
    match args.format {
        Format::Json => {
            let items: Vec<serde_json::Value> = candidates
                .iter()
                .map(|c| {
                    let mut item = serde_json::json!({
                        "file": c.path,
                        "line": c.start_line + 1,
                        "end_line": c.end_line + 1,
                        "reason": c.reason,
                        "score": (f64::from(c.score) * 1000.0).round() / 1000.0,
                    });
                    if let Some((name, start, end)) = &c.definition {
                        item["definition"] = serde_json::json!({"name": name, "line": start + 1, "end_line": end + 1});
                    }
                    item
                })
                .collect();
            let out = serde_json::json!({
                "candidates": items,
                "edits": edits.len(),
                "locations_only": true,
                "note": NO_REWRITE,
                "elapsed_ms": (elapsed_ms * 10.0).round() / 10.0,
                "rank_ms": (rank_ms * 10.0).round() / 10.0,
            });
            println!("{out}");
        }
        Format::Text => {
            for c in &candidates {
                let lines = if c.end_line == c.start_line { format!("{}", c.start_line + 1) } else { format!("{}-{}", c.start_line + 1, c.end_line + 1) };
                println!("{}:{lines}  {:.2}  {}", c.path, c.score, c.reason);
            }
            println!("{} place(s) from {} edit(s) in {elapsed_ms:.1} ms ({rank_ms:.1} ms ranking); {NO_REWRITE}", candidates.len(), edits.len());
        }
    }
    std::mem::forget(snapshot);
    Ok(ExitCode::SUCCESS)
}

/// The working tree's changes against HEAD as edits, paths relative to `root`; files the
/// workspace ignores (`.gitignore`, `.ctxlsignore`, hidden, `index.exclude`, secrets by
/// their name) are left out.
fn working_tree_edits(root: &Path, config: &crate::config::Config) -> anyhow::Result<Vec<Edit>> {
    let Some(changed) = crate::io::git::working_tree_changes(root, &config.index)? else {
        anyhow::bail!("{} is not inside a git repository: `next-edit` follows up the working tree's changes", root.display());
    };
    let diff = crate::io::git::working_tree_diff(root, &config.index, DIFF_BYTES)?.unwrap_or_default();
    let mut rules = crate::io::vfs::IgnoreRules::new(root, &config.index);
    let mut edits = Vec::new();
    for mut edit in parse_unified_diff(&diff) {
        // The diff's paths are relative to the repository; the changes' to the root.
        let Some(file) = changed.iter().find(|c| edit.path == c.path || edit.path.ends_with(&format!("/{}", c.path))) else { continue };
        edit.path = file.path.clone();
        if rules.is_ignored(&root.join(&edit.path)) {
            continue;
        }
        edits.push(edit);
    }
    Ok(edits)
}
