//! What a model's answer may change in a workspace, and writing it: all files or none.
//!
//! A model's SEARCH/REPLACE answer is untrusted input (a README or a dependency's doc
//! comment in its context can steer it), so every file it names is checked before
//! anything is read or written:
//! - the path is relative, free of `..`, and resolves inside the root once symbolic links
//!   are followed; a symlink inside the workspace is edited through (its target must pass
//!   the same checks), never replaced by a regular file;
//! - never inside `.git/` (any depth, any case), `.ctxls/` or `.ctxls.toml` (ctxls's own
//!   configuration: a model must not turn redaction off or rewrite prompt files), nor a
//!   file the workspace walk skips (hidden, ignored, excluded) or treats as a secret;
//! - a file outside the index's languages only when the user's request names it (its
//!   path, or its file name as a word: "add the crate to Cargo.toml");
//! - never a directory or a special file; an answer over [`MAX_ANSWER_BYTES`] or a file
//!   over [`MAX_FILE_BYTES`] is refused.
//!
//! Writing ([`write_plan`]) puts each new text in a temporary file created exclusively
//! (random name, `O_CREAT | O_EXCL`, so never through a planted symlink) beside its
//! target, with the target's permission bits, and renames them only when every one is
//! written; a file changed on disk since it was read stops everything, and a rename that
//! fails puts the files already renamed back. No temporary file is left behind.

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Component, Path, PathBuf};

use crate::config::IndexConfig;
use crate::ide::search_replace::{self, Plan};
use crate::io::vfs::{self, IgnoreRules};
use crate::lang::Lang;

/// The largest model answer taken as an edit.
pub const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;
/// The largest text a model's edit may leave in one file.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;

/// The fewest tokens asked for an answer that is an edit: SEARCH/REPLACE blocks repeat
/// the lines they change, and an answer cut short applies nothing.
pub const EDIT_MAX_TOKENS: u32 = 2048;

/// Keeps a model's answer that was not applied in `cache_dir/answers/WHAT-SECONDS.md`
/// (readable by the user alone, [`write_private`]), for the user to read.
pub fn keep_answer(cache_dir: &Path, what: &str, answer: &str) -> std::io::Result<PathBuf> {
    let dir = cache_dir.join("answers");
    let seconds = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let name: String = what.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    let path = dir.join(format!("{name}-{seconds}.md"));
    write_private(&dir, &path, answer.as_bytes())?;
    Ok(path)
}

/// Writes `bytes` to `path` in `dir`, readable by the user alone: the directory is created
/// with mode 0700 (and set so if it exists), the file with mode 0600.
pub fn write_private(dir: &std::path::Path, path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        builder.mode(0o700);
        builder.create(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    #[cfg(not(unix))]
    builder.create(dir)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let mut file = options.open(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        file.write_all(bytes)
    }
    #[cfg(not(unix))]
    options.open(path)?.write_all(bytes)
}

/// Where an answer may write, and what the user asked.
pub struct WriteScope<'a> {
    /// The workspace root, canonical (symlinks resolved).
    pub root: &'a Path,
    pub config: &'a IndexConfig,
    /// The user's request (requirement comments, the prompt file, the instruction): a
    /// file outside the index's languages may be changed only when it names it.
    pub request: &'a str,
}

/// A file a plan may write: the path the model named and the file really written (the
/// symlink's target when the named path is a link inside the workspace).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub rel: String,
    pub real: PathBuf,
}

impl WriteScope<'_> {
    /// Checks one path a model named (as written in its answer) and returns where it may
    /// be written, or the refusal, naming the block.
    pub fn check(&self, rules: &mut IgnoreRules, named: &str) -> Result<Target, String> {
        let rel = search_replace::safe_relative_path(named)?;
        self.check_name(rules, &rel)?;
        let real = self.resolve(&rel)?;
        match fs::symlink_metadata(&real) {
            Ok(meta) if meta.is_dir() => return Err(format!("`{rel}` is a directory")),
            Ok(meta) if !meta.is_file() => return Err(format!("`{rel}` is not a regular file")),
            _ => {}
        }
        let real_rel = vfs::relative_path(self.root, &real);
        if real_rel != rel {
            // Through a symlink: the file really written must pass the same checks.
            self.check_name(rules, &real_rel).map_err(|why| format!("`{rel}` is a symbolic link: {why}"))?;
            self.check_language(&real_rel)?;
        }
        self.check_language(&rel)?;
        Ok(Target { rel, real })
    }

    /// The rules that go by the path's name: `.git`, ctxls's configuration, hidden,
    /// secret and ignored files.
    fn check_name(&self, rules: &mut IgnoreRules, rel: &str) -> Result<(), String> {
        let parts: Vec<&str> = rel.split('/').collect();
        // Windows and macOS file systems take `.GIT`, `.git.` and `.git ` for `.git`.
        let folded = |part: &str| part.trim_end_matches(['.', ' ']).to_ascii_lowercase();
        if parts.iter().any(|part| folded(part) == ".git") {
            return Err(format!("`{rel}` is inside `.git/` (the repository's own files: its configuration can run commands)"));
        }
        if parts.iter().any(|part| folded(part) == ".ctxls") || folded(parts[parts.len() - 1]) == ".ctxls.toml" {
            return Err(format!("`{rel}` is ctxls's own configuration (`.ctxls.toml`, `.ctxls/`)"));
        }
        if vfs::is_secret(rel) {
            return Err(format!("`{rel}` is a secret by its name (.env, keys, credentials)"));
        }
        if parts.iter().any(|part| part.starts_with('.')) {
            return Err(format!("`{rel}` is a hidden file, which the workspace walk skips"));
        }
        if rules.is_excluded(&self.root.join(rel)) {
            return Err(format!("`{rel}` is ignored (.gitignore, .ignore, .ctxlsignore or index.exclude)"));
        }
        Ok(())
    }

    /// A file outside the index's languages only when the request names it.
    fn check_language(&self, rel: &str) -> Result<(), String> {
        if Lang::from_path(Path::new(rel)).is_some() || names(self.request, rel) {
            return Ok(());
        }
        Err(format!("`{rel}` is not a source file of the index's languages, and the request does not name it"))
    }

    /// The file really written for `rel`: symlinks followed, inside the root, every
    /// existing ancestor a directory.
    fn resolve(&self, rel: &str) -> Result<PathBuf, String> {
        let full = self.root.join(rel);
        // The deepest part of the path that exists, resolved, and the rest appended.
        let mut existing = full.clone();
        let mut rest: Vec<std::ffi::OsString> = Vec::new();
        let real = loop {
            match existing.canonicalize() {
                Ok(real) => break real,
                Err(_) => {
                    if existing.symlink_metadata().is_ok() {
                        return Err(format!("`{rel}` goes through a symbolic link to a missing file"));
                    }
                    match existing.file_name() {
                        Some(name) => rest.push(name.to_os_string()),
                        None => return Err(format!("`{rel}` cannot be resolved")),
                    }
                    if !existing.pop() {
                        return Err(format!("`{rel}` cannot be resolved"));
                    }
                }
            }
        };
        if !real.starts_with(self.root) {
            return Err(format!("`{rel}` is outside the workspace (through a symbolic link)"));
        }
        if !rest.is_empty() && !real.is_dir() {
            return Err(format!("`{rel}`: `{}` is a file, not a directory", vfs::relative_path(self.root, &real)));
        }
        let mut real = real;
        for part in rest.into_iter().rev() {
            real.push(part);
        }
        // `rest` comes from the file system's own names of a path free of `..`.
        debug_assert!(real.components().all(|c| !matches!(c, Component::ParentDir)));
        Ok(real)
    }

    /// Turns a model's answer into a checked plan: size, blocks, every path checked
    /// before any file is read, every block matched (`open`: an open document's text,
    /// which wins over the disk's), every new text within [`MAX_FILE_BYTES`]. All the
    /// problems found, or the plan and where each file is written.
    pub fn propose(&self, answer: &str, open: &dyn Fn(&str) -> Option<String>) -> Result<(Plan, Vec<Target>), Vec<String>> {
        if answer.len() > MAX_ANSWER_BYTES {
            return Err(vec![format!("the model's answer is {} bytes, over the limit of {} for an edit", answer.len(), MAX_ANSWER_BYTES)]);
        }
        let blocks = search_replace::parse(answer).map_err(|err| vec![format!("the model's answer: {err}")])?;
        if blocks.is_empty() {
            return Err(vec!["the model's answer holds no SEARCH/REPLACE block".to_string()]);
        }
        let mut rules = IgnoreRules::new(self.root, self.config);
        let mut targets: Vec<Target> = Vec::new();
        let mut refusals = Vec::new();
        for block in &blocks {
            match self.check(&mut rules, &block.path) {
                Ok(target) => {
                    if !targets.iter().any(|t| t.rel == target.rel) {
                        targets.push(target);
                    }
                }
                Err(why) => refusals.push(format!("block {}: {why}; ctxls does not write there", block.number)),
            }
        }
        if !refusals.is_empty() {
            return Err(refusals);
        }
        let texts = |rel: &str| -> Option<String> {
            if let Some(text) = open(rel) {
                return Some(text);
            }
            let target = targets.iter().find(|t| t.rel == rel)?;
            fs::read_to_string(&target.real).ok()
        };
        let plan = search_replace::plan(&blocks, &texts).map_err(|errors| errors.iter().map(ToString::to_string).collect::<Vec<_>>())?;
        let too_large: Vec<String> = plan
            .files
            .iter()
            .filter(|change| change.new_text.len() > MAX_FILE_BYTES)
            .map(|change| format!("{}: the change would make it {} bytes, over the limit of {MAX_FILE_BYTES}", change.path, change.new_text.len()))
            .collect();
        if !too_large.is_empty() {
            return Err(too_large);
        }
        targets.retain(|target| plan.files.iter().any(|change| change.path == target.rel));
        Ok((plan, targets))
    }
}

/// Whether `request` names the file `rel`: a word of it (split at characters a path
/// does not hold, a sentence's final full stop dropped) is its path or its file name.
fn names(request: &str, rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let in_path = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '/' | '+' | '~');
    request.split(|c: char| !in_path(c)).map(|word| word.trim_end_matches('.')).any(|word| word == rel || word == name)
}

/// Writes a checked plan: every file to a temporary file beside its target first, then
/// all renamed; a file changed on disk since it was read (`plan`'s old text) stops
/// everything. Returns the paths written, or what failed (nothing is changed then, and
/// no temporary file is left).
pub fn write_plan(plan: &Plan, targets: &[Target]) -> Result<Vec<String>, String> {
    let mut staged: Vec<Staged> = Vec::new();
    let mut created_dirs: Vec<PathBuf> = Vec::new();
    let result = stage_all(plan, targets, &mut staged, &mut created_dirs).and_then(|()| commit(&mut staged));
    if let Err(err) = result {
        for file in &staged {
            let _ = fs::remove_file(&file.temporary);
        }
        for dir in created_dirs.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
        return Err(err);
    }
    Ok(plan.files.iter().map(|change| change.path.clone()).collect())
}

struct Staged {
    temporary: PathBuf,
    real: PathBuf,
    /// The text the file had (None: created), for putting it back.
    old_text: Option<String>,
    renamed: bool,
}

fn stage_all(plan: &Plan, targets: &[Target], staged: &mut Vec<Staged>, created_dirs: &mut Vec<PathBuf>) -> Result<(), String> {
    for change in &plan.files {
        let target = targets.iter().find(|t| t.rel == change.path).ok_or_else(|| format!("{}: not checked for writing", change.path))?;
        let current = match fs::read(&target.real) {
            Ok(bytes) => Some(bytes),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => return Err(format!("reading {}: {err}", change.path)),
        };
        let unchanged = match (&current, &change.old_text) {
            (None, None) => true,
            (Some(bytes), Some(old)) => String::from_utf8_lossy(bytes) == old.as_str(),
            _ => false,
        };
        if !unchanged {
            return Err(format!("{} changed on disk while the model was answering; nothing was written", change.path));
        }
        let dir = target.real.parent().ok_or_else(|| format!("{}: no parent directory", change.path))?;
        create_dirs(dir, created_dirs).map_err(|err| format!("creating the directory of {}: {err}", change.path))?;
        let mode = fs::metadata(&target.real).ok().map(|meta| meta.permissions());
        let temporary = write_temporary(dir, &target.real, &change.new_text, mode).map_err(|err| format!("writing {}: {err}", change.path))?;
        staged.push(Staged { temporary, real: target.real.clone(), old_text: change.old_text.clone(), renamed: false });
    }
    Ok(())
}

/// Creates `dir` and its missing ancestors, remembering those it created.
fn create_dirs(dir: &Path, created: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut missing = Vec::new();
    let mut probe = dir.to_path_buf();
    while fs::symlink_metadata(&probe).is_err() {
        missing.push(probe.clone());
        if !probe.pop() {
            break;
        }
    }
    for dir in missing.into_iter().rev() {
        fs::create_dir(&dir)?;
        created.push(dir);
    }
    Ok(())
}

/// A new file beside `real` holding `text`: created exclusively under a random name (a
/// symlink planted there makes it fail, never followed), with `permissions` when given,
/// else those of any new file (read-write for all, less the umask).
fn write_temporary(dir: &Path, real: &Path, text: &str, permissions: Option<fs::Permissions>) -> std::io::Result<PathBuf> {
    let name = real.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".ctxls-tmp").rand_bytes(8);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    let (mut handle, path) = builder.tempfile_in(dir)?.into_parts();
    let written = (|| {
        handle.write_all(text.as_bytes())?;
        if let Some(permissions) = permissions {
            handle.set_permissions(permissions)?;
        }
        handle.sync_all()
    })();
    match written {
        Ok(()) => path.keep().map_err(|err| err.error),
        Err(err) => Err(err), // `path` drops: the temporary file is removed
    }
}

/// Renames every staged file onto its target; if one fails, those already renamed get
/// their old text back (a created file is removed).
fn commit(staged: &mut [Staged]) -> Result<(), String> {
    for k in 0..staged.len() {
        if let Err(err) = fs::rename(&staged[k].temporary, &staged[k].real) {
            let mut message = String::new();
            let _ = write!(message, "writing {}: {err}", staged[k].real.display());
            for done in staged[..k].iter_mut().filter(|s| s.renamed) {
                let restored = match &done.old_text {
                    Some(old) => {
                        let dir = done.real.parent().unwrap_or(Path::new("."));
                        let mode = fs::metadata(&done.real).ok().map(|m| m.permissions());
                        write_temporary(dir, &done.real, old, mode).and_then(|tmp| fs::rename(&tmp, &done.real).inspect_err(|_| {
                            let _ = fs::remove_file(&tmp);
                        }))
                    }
                    None => fs::remove_file(&done.real),
                };
                if let Err(err) = restored {
                    let _ = write!(message, "; and {} could not be put back: {err}", done.real.display());
                }
            }
            return Err(message);
        }
        staged[k].renamed = true;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ide::search_replace::FileChange;

    fn change(path: &str, old: Option<&str>, new: &str) -> FileChange {
        FileChange { path: path.to_string(), old_text: old.map(str::to_string), new_text: new.to_string(), edits: Vec::new() }
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = walkdir(dir).into_iter().map(|p| vfs::relative_path(dir, &p)).collect();
        names.sort();
        names
    }

    fn walkdir(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in fs::read_dir(dir).unwrap().flatten() {
            out.push(entry.path());
            if entry.file_type().unwrap().is_dir() {
                out.extend(walkdir(&entry.path()));
            }
        }
        out
    }

    /// The second file changed on disk after the plan was made: the first file's temporary
    /// file is already written when that shows; it is removed, the directory created for
    /// the new file too, and nothing changes.
    #[test]
    fn a_failure_while_staging_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        fs::write(root.join("a.rs"), "fn a() {}\n").unwrap();
        fs::write(root.join("b.rs"), "fn b() { changed }\n").unwrap();
        let plan = Plan {
            files: vec![change("a.rs", Some("fn a() {}\n"), "fn a() { 1 }\n"), change("new/dir/c.rs", None, "fn c() {}\n"), change("b.rs", Some("fn b() {}\n"), "fn b() { 2 }\n")],
            dropped: Vec::new(),
        };
        let config = IndexConfig::default();
        let scope = WriteScope { root: &root, config: &config, request: "" };
        let mut rules = IgnoreRules::new(&root, &config);
        let targets: Vec<Target> = plan.files.iter().map(|c| scope.check(&mut rules, &c.path).unwrap()).collect();
        let before = entries(&root);
        let err = write_plan(&plan, &targets).unwrap_err();
        assert!(err.contains("b.rs changed on disk"), "{err}");
        assert_eq!(entries(&root), before, "no temporary file, no new directory");
        assert_eq!(fs::read_to_string(root.join("a.rs")).unwrap(), "fn a() {}\n");
        // The same plan against the text it was made from: every file written.
        fs::write(root.join("b.rs"), "fn b() {}\n").unwrap();
        assert_eq!(write_plan(&plan, &targets).unwrap(), ["a.rs", "new/dir/c.rs", "b.rs"]);
        assert_eq!(fs::read_to_string(root.join("new/dir/c.rs")).unwrap(), "fn c() {}\n");
        assert_eq!(entries(&root), ["a.rs", "b.rs", "new", "new/dir", "new/dir/c.rs"]);
    }

    /// A rename that fails after others succeeded puts those back.
    #[cfg(unix)]
    #[test]
    fn a_failed_rename_puts_the_renamed_files_back() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        fs::write(root.join("a.rs"), "old a\n").unwrap();
        fs::write(root.join("b.rs"), "old b\n").unwrap();
        let mut staged = Vec::new();
        for (name, old) in [("a.rs", "old a\n"), ("b.rs", "old b\n")] {
            let real = root.join(name);
            let temporary = write_temporary(&root, &real, "new\n", None).unwrap();
            staged.push(Staged { temporary, real, old_text: Some(old.to_string()), renamed: false });
        }
        // The second rename fails: its temporary file is gone.
        fs::remove_file(&staged[1].temporary).unwrap();
        let err = commit(&mut staged).unwrap_err();
        assert!(err.contains("b.rs"), "{err}");
        assert_eq!(fs::read_to_string(root.join("a.rs")).unwrap(), "old a\n");
        assert_eq!(fs::read_to_string(root.join("b.rs")).unwrap(), "old b\n");
        assert_eq!(entries(&root), ["a.rs", "b.rs"]);
    }

    #[test]
    fn a_request_names_a_file_by_path_or_name() {
        assert!(names("add serde to Cargo.toml", "Cargo.toml"));
        assert!(names("add serde to Cargo.toml.", "Cargo.toml"));
        assert!(names("see @docs/api.md#errors", "docs/api.md"));
        assert!(names("update docs/api.md", "docs/api.md"));
        assert!(names("update api.md", "docs/api.md"));
        assert!(!names("add serde to the manifest", "Cargo.toml"));
        assert!(!names("update Cargo.toml.orig", "Cargo.toml"));
        assert!(!names("update MyCargo.toml", "Cargo.toml"));
        assert!(!names("update other/docs/api.md", "docs/api.md"));
        assert!(names("write the notes to `NOTES.txt`, then stop", "NOTES.txt"));
    }
}
