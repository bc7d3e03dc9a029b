//! The working tree's changes against HEAD, for the recency generator: staged, unstaged
//! and untracked files, each with its changed line ranges in the working-tree text, most
//! recently modified first; and as a unified diff for prompts. Files the workspace walk
//! would not read — ignored, hidden, secrets by their name — never appear, tracked or not
//! (a `.env` committed by mistake and then changed stays out). A workspace outside any
//! repository, or a repository without commits, simply has everything untracked or
//! nothing to say.

use std::collections::HashMap;
use std::path::Path;

use git2::{DiffOptions, Repository};

use super::vfs::IgnoreRules;
use crate::config::IndexConfig;
use crate::ide::edit_history::RecentEdit;
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

/// Where `root` lies in its repository's working tree: the repository path of the
/// directory (`/`-separated, `""` at the top), which the paths of a diff start with;
/// `Ok(None)` outside a repository.
pub fn root_prefix(root: &Path) -> Result<Option<String>, GitError> {
    Ok(open(root)?.map(|(_, prefix)| prefix))
}

/// A repository path (`/`-separated) relative to the root at `prefix` in the working tree.
fn relative_to(prefix: &str, path: &Path) -> Option<String> {
    let path = path.to_string_lossy().replace('\\', "/");
    if prefix.is_empty() {
        Some(path)
    } else {
        path.strip_prefix(&format!("{prefix}/")).map(str::to_string)
    }
}

/// HEAD's tree; none before the first commit.
fn head_tree(repo: &Repository) -> Result<Option<git2::Tree<'_>>, GitError> {
    match repo.head() {
        Ok(head) => Ok(Some(head.peel_to_tree()?)),
        Err(err) if matches!(err.code(), git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// Decides, once per path, whether a changed file may be shown: the walk's rules
/// (`IgnoreRules::withheld`) on the delta's old and new paths.
struct Shown {
    root: std::path::PathBuf,
    rules: IgnoreRules,
    seen: HashMap<std::path::PathBuf, bool>,
    withheld: usize,
}

impl Shown {
    fn new(root: &Path, config: &IndexConfig) -> Shown {
        Shown { root: root.to_path_buf(), rules: IgnoreRules::new(root, config), seen: HashMap::new(), withheld: 0 }
    }

    /// `rel`: relative to the root.
    fn path(&mut self, rel: &str) -> bool {
        let path = self.root.join(rel);
        if let Some(&shown) = self.seen.get(&path) {
            return shown;
        }
        let shown = self.rules.withheld(&path).is_none();
        self.withheld += usize::from(!shown);
        self.seen.insert(path, shown);
        shown
    }

    /// Both sides of a delta (a rename from `.env` shows neither).
    fn delta(&mut self, delta: &git2::DiffDelta, relative: &dyn Fn(&Path) -> Option<String>) -> bool {
        [delta.old_file().path(), delta.new_file().path()].into_iter().flatten().filter_map(relative).all(|rel| self.path(&rel))
    }
}

/// Changes under `root` (paths relative to `root`, `/`-separated) but for files the walk
/// would not read (`config`'s rules); `Ok(None)` when `root` is not inside a git
/// repository.
pub fn working_tree_changes(root: &Path, config: &IndexConfig) -> Result<Option<Vec<ChangedFile>>, GitError> {
    let mut options = DiffOptions::new();
    options.include_untracked(true).recurse_untracked_dirs(true).context_lines(0).ignore_submodules(true);
    let Some((repo, prefix)) = open(root)? else { return Ok(None) };
    let head_tree = head_tree(&repo)?;
    if !prefix.is_empty() {
        options.pathspec(format!("{prefix}/"));
    }
    let diff = repo.diff_tree_to_workdir_with_index(head_tree.as_ref(), Some(&mut options))?;

    let mut files: Vec<ChangedFile> = Vec::new();
    let mut shown = Shown::new(root, config);
    let relative = |path: &Path| relative_to(&prefix, path);
    for delta in diff.deltas() {
        if delta.status() == git2::Delta::Deleted {
            continue;
        }
        let Some(path) = delta.new_file().path().and_then(relative) else { continue };
        if !shown.delta(&delta, &relative) {
            continue;
        }
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
/// with a note); files the walk would not read (`config`'s rules) are left out, with a
/// first line saying how many; `Ok(None)` outside a repository.
pub fn working_tree_diff(root: &Path, config: &IndexConfig, max_bytes: usize) -> Result<Option<String>, GitError> {
    let mut options = DiffOptions::new();
    options.include_untracked(true).recurse_untracked_dirs(true).show_untracked_content(true).context_lines(3).ignore_submodules(true);
    let Some((repo, prefix)) = open(root)? else { return Ok(None) };
    let head_tree = head_tree(&repo)?;
    if !prefix.is_empty() {
        options.pathspec(format!("{prefix}/"));
    }
    let diff = repo.diff_tree_to_workdir_with_index(head_tree.as_ref(), Some(&mut options))?;
    let mut shown = Shown::new(root, config);
    let relative = |path: &Path| relative_to(&prefix, path);
    let mut out = String::new();
    let mut cut = false;
    diff.print(git2::DiffFormat::Patch, |delta, _, line| {
        if cut || !shown.delta(&delta, &relative) {
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
    // First: kept when the diff is cut, and in no file's part of it.
    if shown.withheld > 0 && !out.is_empty() {
        out.insert_str(0, &format!("[{} changed file(s) left out: ignored, hidden or secrets]\n", shown.withheld));
    }
    Ok(Some(out))
}

/// The working tree's changes against HEAD as recent edits for a prompt, one unified diff
/// per file (from its `---` line on), the file changed longest ago first, the newest last
/// (the order the recent-edits section wants); within `max_bytes`, files the walk would
/// not read left out (as [`working_tree_diff`]); `Ok(None)` outside a repository.
pub fn working_tree_edits(root: &Path, config: &IndexConfig, max_bytes: usize) -> Result<Option<Vec<RecentEdit>>, GitError> {
    let Some(diff) = working_tree_diff(root, config, max_bytes)? else { return Ok(None) };
    let mut edits: Vec<(Option<std::time::SystemTime>, RecentEdit)> = Vec::new();
    for part in diff.split("\ndiff --git ").map(|p| p.strip_prefix("diff --git ").unwrap_or(p)) {
        let Some(start) = part.find("--- ").filter(|&i| i == 0 || part.as_bytes()[i - 1] == b'\n') else { continue };
        let body = &part[start..];
        let name = body
            .lines()
            .find_map(|l| l.strip_prefix("+++ b/"))
            .or_else(|| body.lines().find_map(|l| l.strip_prefix("--- a/")))
            .unwrap_or("")
            .to_string();
        if name.is_empty() {
            continue;
        }
        let mut text = body.trim_end_matches("[... the rest of the diff is left out]\n").to_string();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let modified = repo_file_mtime(root, &name);
        edits.push((modified, RecentEdit { path: name, diff: text }));
    }
    edits.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.path.cmp(&b.1.path)));
    Ok(Some(edits.into_iter().map(|(_, e)| e).collect()))
}

/// A file's modification time, its path relative to the repository's top (which may lie
/// above `root`).
fn repo_file_mtime(root: &Path, repo_relative: &str) -> Option<std::time::SystemTime> {
    root.ancestors().find_map(|dir| std::fs::metadata(dir.join(repo_relative)).ok()).and_then(|m| m.modified().ok())
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
        let config = IndexConfig::default();
        assert_eq!(working_tree_changes(root, &config).unwrap(), None, "not a repository");
        let repo = Repository::init(root).unwrap();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("src/a.rs"), "fn a() {}\nfn b() {}\nfn c() {}\n").unwrap();
        std::fs::write(root.join("src/b.rs"), "fn x() {}\n").unwrap();
        std::fs::write(root.join(".gitignore"), "secret.rs\n").unwrap();
        assert_eq!(working_tree_changes(root, &config).unwrap().unwrap().len(), 2, "no commit yet: everything is new (but the hidden .gitignore)");
        commit_all(&repo);
        assert_eq!(working_tree_changes(root, &config).unwrap(), Some(Vec::new()));

        std::fs::write(root.join("src/a.rs"), "fn a() {}\nfn b() { changed() }\nfn c() {}\n").unwrap();
        std::fs::write(root.join("src/b.rs"), "fn x() {}\nfn y() {}\n").unwrap();
        let mut index = repo.index().unwrap();
        index.add_path(Path::new("src/b.rs")).unwrap(); // staged
        index.write().unwrap();
        std::fs::write(root.join("src/new.rs"), "fn n() {}\n").unwrap();
        std::fs::write(root.join("secret.rs"), "fn s() {}\n").unwrap();
        let mut changes = working_tree_changes(root, &config).unwrap().unwrap();
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
        let sub = working_tree_changes(&root.join("src"), &config).unwrap().unwrap();
        assert!(sub.iter().any(|c| c.path == "a.rs") && sub.len() == 3);
    }

    #[test]
    fn working_tree_edits_are_a_diff_per_file_oldest_first_without_ignored_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let config = IndexConfig::default();
        assert_eq!(working_tree_edits(root, &config, 10_000).unwrap(), None, "not a repository");
        let repo = Repository::init(root).unwrap();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("src/a.rs"), "fn a() {}\n").unwrap();
        std::fs::write(root.join("src/b.rs"), "fn b() {}\n").unwrap();
        std::fs::write(root.join(".gitignore"), "secret.rs\n").unwrap();
        commit_all(&repo);
        std::fs::write(root.join("src/b.rs"), "fn b() { 2 }\n").unwrap();
        std::fs::write(root.join("secret.rs"), "fn s() {}\n").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(root.join("src/a.rs"), "fn a() { 1 }\n").unwrap();
        let edits = working_tree_edits(root, &config, 10_000).unwrap().unwrap();
        let paths: Vec<&str> = edits.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["src/b.rs", "src/a.rs"], "the newest last; the ignored file never");
        assert_eq!(edits[1].diff, "--- a/src/a.rs\n+++ b/src/a.rs\n@@ -1 +1 @@\n-fn a() {}\n+fn a() { 1 }\n");
    }

    /// A secret committed by mistake, then changed; a secret never committed; a file
    /// `.ctxlsignore` or `index.exclude` leaves out; a deleted key: none of them is
    /// listed nor in the diff, and nothing of their text is in it.
    #[test]
    fn ignored_and_secret_files_never_appear_tracked_or_not() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let repo = Repository::init(root).unwrap();
        let write = |rel: &str, text: &str| {
            std::fs::create_dir_all(root.join(rel).parent().unwrap()).unwrap();
            std::fs::write(root.join(rel), text).unwrap();
        };
        write(".env", "OPENAI_API_KEY=sk-live-SECRET-0000\n");
        write("config/secrets.yaml", "db: {password: old-SECRET-0000}\n");
        write("notes/private.md", "old plans\n");
        write("src/a.rs", "fn a() {}\n");
        write(".ctxls/.keep", "");
        write("deploy.pem", "-----BEGIN PRIVATE KEY-----\nMIIold\n-----END PRIVATE KEY-----\n");
        commit_all(&repo);
        write(".env", "OPENAI_API_KEY=sk-live-SECRET-7f3a\n");
        write("config/secrets.yaml", "db: {password: new-SECRET-7f3a}\n");
        write("config/.env.production", "TOKEN=prod-SECRET-7f3a\n");
        write(".ctxlsignore", "notes/\n");
        write("notes/private.md", "plans-SECRET-7f3a\n");
        write("vendor/big.rs", "fn vendored_SECRET_7f3a() {}\n");
        write("src/a.rs", "fn a() { b() }\n");
        std::fs::remove_file(root.join("deploy.pem")).unwrap();
        let config = IndexConfig { exclude: vec!["vendor/**".into()], ..IndexConfig::default() };
        let changes = working_tree_changes(root, &config).unwrap().unwrap();
        let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["src/a.rs"], "{changes:?}");
        let diff = working_tree_diff(root, &config, 1 << 20).unwrap().unwrap();
        assert!(diff.contains("+fn a() { b() }"), "{diff}");
        assert!(!diff.contains("SECRET") && !diff.contains("MIIold") && !diff.contains(".env"), "{diff}");
        assert!(diff.starts_with("[7 changed file(s) left out: ignored, hidden or secrets]\ndiff --git a/src/a.rs"), "{diff}");
        // Nothing left but secrets: an empty diff.
        write("src/a.rs", "fn a() {}\n");
        assert_eq!(working_tree_diff(root, &config, 1 << 20).unwrap().unwrap(), "");
    }
}
