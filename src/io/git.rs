//! The working tree's changes against HEAD, for the recency generator: staged, unstaged
//! and untracked files (ignored files never), each with its changed line ranges in the
//! working-tree text, most recently modified first. A workspace outside any repository,
//! or a repository without commits, simply has everything untracked or nothing to say.

use std::path::Path;

use git2::{DiffOptions, Repository};

use crate::retrieve::ChangedFile;

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("git: {0}")]
    Git(#[from] git2::Error),
    #[error("the repository has no working tree")]
    Bare,
}

/// At most this many changed files are reported (a huge checkout-wide change says
/// little about what the user is working on).
const MAX_FILES: usize = 200;

/// The repository holding `root` and `root`'s path inside its working tree
/// (`/`-separated, empty at the top); `None` outside a repository.
fn open(root: &Path) -> Result<Option<(Repository, String)>, GitError> {
    let repo = match Repository::discover(root) {
        Ok(repo) => repo,
        Err(err) if err.code() == git2::ErrorCode::NotFound => return Ok(None),
        Err(err) => return Err(err.into()),
    };
    let workdir = repo.workdir().ok_or(GitError::Bare)?.canonicalize().map_err(|e| git2::Error::from_str(&e.to_string()))?;
    let root = root.canonicalize().map_err(|e| git2::Error::from_str(&e.to_string()))?;
    let Ok(prefix) = root.strip_prefix(&workdir) else { return Ok(None) };
    let prefix = prefix.to_string_lossy().replace('\\', "/");
    Ok(Some((repo, prefix)))
}

/// HEAD's tree; none before the first commit.
fn head_tree(repo: &Repository) -> Result<Option<git2::Tree<'_>>, GitError> {
    match repo.head() {
        Ok(head) => Ok(Some(head.peel_to_tree()?)),
        Err(err) if matches!(err.code(), git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// Changes under `root` (paths relative to `root`, `/`-separated); `Ok(None)` when `root`
/// is not inside a git repository.
pub fn working_tree_changes(root: &Path) -> Result<Option<Vec<ChangedFile>>, GitError> {
    let mut options = DiffOptions::new();
    options.include_untracked(true).recurse_untracked_dirs(true).context_lines(0).ignore_submodules(true);
    let Some((repo, prefix)) = open(root)? else { return Ok(None) };
    let head_tree = head_tree(&repo)?;
    if !prefix.is_empty() {
        options.pathspec(format!("{prefix}/"));
    }
    let diff = repo.diff_tree_to_workdir_with_index(head_tree.as_ref(), Some(&mut options))?;

    let mut files: Vec<ChangedFile> = Vec::new();
    let relative = |path: &Path| -> Option<String> {
        let path = path.to_string_lossy().replace('\\', "/");
        if prefix.is_empty() {
            Some(path)
        } else {
            path.strip_prefix(&format!("{prefix}/")).map(str::to_string)
        }
    };
    for delta in diff.deltas() {
        if delta.status() == git2::Delta::Deleted {
            continue;
        }
        let Some(path) = delta.new_file().path().and_then(relative) else { continue };
        files.push(ChangedFile { path, lines: Vec::new() });
    }
    // Line ranges of modified files, from the hunks (untracked files stay whole).
    diff.foreach(
        &mut |_, _| true,
        None,
        Some(&mut |delta, hunk| {
            let Some(path) = delta.new_file().path().and_then(relative) else { return true };
            if let Some(file) = files.iter_mut().find(|f| f.path == path) {
                let start = hunk.new_start().saturating_sub(1);
                // A pure deletion has no new lines: the line where it happened.
                let end = start + hunk.new_lines().saturating_sub(1);
                file.lines.push((start, end));
            }
            true
        }),
        None,
    )?;
    let mtime = |path: &str| std::fs::metadata(root.join(path)).and_then(|m| m.modified()).ok();
    let mut with_time: Vec<(Option<std::time::SystemTime>, ChangedFile)> = files.into_iter().map(|f| (mtime(&f.path), f)).collect();
    with_time.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.path.cmp(&b.1.path)));
    Ok(Some(with_time.into_iter().take(MAX_FILES).map(|(_, f)| f).collect()))
}

/// The working tree's changes against HEAD under `root` as a unified diff (3 lines of
/// context; untracked files as additions), at most `max_bytes` of it (cut at a line,
/// with a note); `Ok(None)` outside a repository.
pub fn working_tree_diff(root: &Path, max_bytes: usize) -> Result<Option<String>, GitError> {
    let mut options = DiffOptions::new();
    options.include_untracked(true).recurse_untracked_dirs(true).show_untracked_content(true).context_lines(3).ignore_submodules(true);
    let Some((repo, prefix)) = open(root)? else { return Ok(None) };
    let head_tree = head_tree(&repo)?;
    if !prefix.is_empty() {
        options.pathspec(format!("{prefix}/"));
    }
    let diff = repo.diff_tree_to_workdir_with_index(head_tree.as_ref(), Some(&mut options))?;
    let mut out = String::new();
    let mut cut = false;
    diff.print(git2::DiffFormat::Patch, |_, _, line| {
        if cut {
            return true;
        }
        let text = String::from_utf8_lossy(line.content());
        let piece = match line.origin() {
            origin @ ('+' | '-' | ' ') => format!("{origin}{text}"),
            _ => text.into_owned(),
        };
        if out.len() + piece.len() > max_bytes {
            out.push_str("[... the rest of the diff is left out]\n");
            cut = true;
        } else {
            out.push_str(&piece);
        }
        true
    })?;
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit_all(repo: &Repository) {
        let mut index = repo.index().unwrap();
        index.add_all(["*"], git2::IndexAddOption::DEFAULT, None).unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::now("t", "t@example.com").unwrap();
        let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        repo.commit(Some("HEAD"), &sig, &sig, "c", &tree, &parents).unwrap();
    }

    #[test]
    fn staged_unstaged_and_untracked_changes_with_their_lines() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        assert_eq!(working_tree_changes(root).unwrap(), None, "not a repository");
        let repo = Repository::init(root).unwrap();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("src/a.rs"), "fn a() {}\nfn b() {}\nfn c() {}\n").unwrap();
        std::fs::write(root.join("src/b.rs"), "fn x() {}\n").unwrap();
        std::fs::write(root.join(".gitignore"), "secret.rs\n").unwrap();
        assert_eq!(working_tree_changes(root).unwrap().unwrap().len(), 3, "no commit yet: everything is new");
        commit_all(&repo);
        assert_eq!(working_tree_changes(root).unwrap(), Some(Vec::new()));

        std::fs::write(root.join("src/a.rs"), "fn a() {}\nfn b() { changed() }\nfn c() {}\n").unwrap();
        std::fs::write(root.join("src/b.rs"), "fn x() {}\nfn y() {}\n").unwrap();
        let mut index = repo.index().unwrap();
        index.add_path(Path::new("src/b.rs")).unwrap(); // staged
        index.write().unwrap();
        std::fs::write(root.join("src/new.rs"), "fn n() {}\n").unwrap();
        std::fs::write(root.join("secret.rs"), "fn s() {}\n").unwrap();
        let mut changes = working_tree_changes(root).unwrap().unwrap();
        changes.sort_by(|a, b| a.path.cmp(&b.path));
        assert_eq!(
            changes,
            vec![
                ChangedFile { path: "src/a.rs".into(), lines: vec![(1, 1)] },
                ChangedFile { path: "src/b.rs".into(), lines: vec![(1, 1)] },
                ChangedFile { path: "src/new.rs".into(), lines: vec![] },
            ],
            "ignored files never appear"
        );
        // A root below the repository's top: paths relative to it.
        let sub = working_tree_changes(&root.join("src")).unwrap().unwrap();
        assert!(sub.iter().any(|c| c.path == "a.rs") && sub.len() == 3);
    }
}
