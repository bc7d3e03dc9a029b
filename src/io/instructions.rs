//! Project instructions on disk (`ide::instructions`): for a file, `.ctxls/instructions.md`
//! and `AGENTS.md` in its directory and each one above it up to the workspace root, then
//! the root's `.github/copilot-instructions.md`; most specific first. Ignored files (the
//! index's rules, `.ctxlsignore` included), secrets and files over 64 KB are never read;
//! an instruction file that is a symbolic link is followed only to a file inside the
//! workspace that the walk would read (`IgnoreRules::readable`).

use std::path::Path;

use super::vfs::IgnoreRules;
use crate::config::{Config, Task};
use crate::ide::instructions::{render, Instructions};
use crate::llm::tokens::TokenCounter;

const MAX_BYTES: u64 = 64 * 1024;

/// The instructions files that apply to `rel` (a path relative to `root`; "" for the
/// root itself), most specific first.
pub fn for_file(root: &Path, rel: &str, config: &Config) -> Vec<Instructions> {
    let mut rules = IgnoreRules::new(root, &config.index);
    let mut dirs: Vec<String> = Vec::new();
    let mut dir = Path::new(rel).parent().map(|p| p.to_string_lossy().replace('\\', "/")).unwrap_or_default();
    loop {
        dirs.push(dir.clone());
        match dir.rfind('/') {
            Some(at) => dir.truncate(at),
            None if !dir.is_empty() => dir.clear(),
            None => break,
        }
    }
    let mut candidates: Vec<String> = Vec::new();
    for dir in &dirs {
        let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
        candidates.push(format!("{prefix}.ctxls/instructions.md"));
        candidates.push(format!("{prefix}AGENTS.md"));
    }
    candidates.push(".github/copilot-instructions.md".to_string());
    candidates
        .into_iter()
        .filter_map(|path| {
            if std::fs::symlink_metadata(root.join(&path)).is_err() {
                return None;
            }
            let full = match rules.readable(&path) {
                Ok(full) => full,
                Err(withheld) => {
                    tracing::info!("{path}: not used as instructions: {}", withheld.describe());
                    return None;
                }
            };
            let meta = std::fs::metadata(&full).ok()?;
            if !meta.is_file() || meta.len() > MAX_BYTES {
                return None;
            }
            let text = std::fs::read_to_string(&full).ok()?;
            Some(Instructions { path, text })
        })
        .collect()
}

/// The instruction files that apply to `rel`, each with its size in the chat model's
/// tokens (for `ctxls context` and `ctxls.showContext`).
pub fn listed(root: &Path, rel: &str, config: &Config) -> Vec<(String, usize)> {
    let counter = TokenCounter::for_model(&config.llm.for_task(Task::Chat).model);
    for_file(root, rel, config)
        .into_iter()
        .map(|i| {
            let tokens = counter.count(&i.text);
            (i.path, tokens)
        })
        .collect()
}

/// The instructions section for a prompt about the files `rels` (their instructions
/// merged, each file once, in order), within `[instructions] max_tokens` of the chat
/// model's tokenizer; empty when there are none.
pub fn section(root: &Path, rels: &[&str], config: &Config) -> String {
    let mut files: Vec<Instructions> = Vec::new();
    for rel in rels {
        for file in for_file(root, rel, config) {
            if !files.iter().any(|f| f.path == file.path) {
                files.push(file);
            }
        }
    }
    if files.is_empty() || config.instructions.max_tokens == 0 {
        return String::new();
    }
    let counter = TokenCounter::for_model(&config.llm.for_task(Task::Chat).model);
    render(&files, config.instructions.max_tokens, &|t| counter.count(t))
}
