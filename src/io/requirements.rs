//! The workspace's requirement comments (`reqs`), found on disk: files walked with the
//! index's ignore rules, only those mentioning a marker parsed (on all cores); with the
//! working tree's changes, only requirements inside changed lines (or untracked files).

use std::path::Path;

use rayon::prelude::*;

use super::vfs;
use crate::config::Config;
use crate::lang::parse;
use crate::reqs::{self, Markers, Requirement};
use crate::retrieve::ChangedFile;

/// A requirement with the file it is in (relative to the root) and the file's text.
pub struct Found {
    pub path: String,
    pub text: String,
    pub requirement: Requirement,
}

/// Requirements under `root`, by path then line; with `changes`, only those the changes
/// touch.
pub fn workspace_requirements(root: &Path, config: &Config, changes: Option<&[ChangedFile]>) -> Vec<Found> {
    let markers = Markers::from(&config.requirements);
    let walk = vfs::walk(root, &config.index);
    let files: Vec<&vfs::WalkedFile> = match changes {
        Some(changes) => walk.files.iter().filter(|f| changes.iter().any(|c| c.path == f.rel_path)).collect(),
        None => walk.files.iter().collect(),
    };
    let mut found: Vec<Found> = files
        .par_iter()
        .filter_map(|file| {
            let (_, text) = vfs::read_source(&file.abs_path, &config.index).ok()?;
            if !markers.may_occur_in(&text) {
                return None;
            }
            let tree = parse(file.lang, &text, None);
            let found: Vec<Found> = reqs::find(&text, &tree, &markers)
                .into_iter()
                .map(|requirement| Found { path: file.rel_path.clone(), text: text.clone(), requirement })
                .collect();
            Some(found)
        })
        .flatten()
        .collect();
    if let Some(changes) = changes {
        found.retain(|f| {
            changes.iter().filter(|c| c.path == f.path).any(|c| {
                c.lines.is_empty() || c.lines.iter().any(|&(from, to)| from <= f.requirement.end_line && f.requirement.start_line <= to)
            })
        });
    }
    found.sort_by(|a, b| a.path.cmp(&b.path).then(a.requirement.start_line.cmp(&b.requirement.start_line)));
    found
}
