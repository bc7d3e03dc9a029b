//! The workspace on disk: walking it (honouring `.gitignore`, `.ignore`, `.ctxlsignore`
//! and configured excludes; symlinks are never followed), reading files with the checks
//! that keep huge, binary and minified files out, and deciding whether a single path
//! would have been walked (for watcher events).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::overrides::{Override, OverrideBuilder};
use ignore::WalkBuilder;

use crate::config::IndexConfig;
use crate::lang::Lang;

pub const IGNORE_FILE: &str = ".ctxlsignore";

/// Why a file was left out of the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    TooLarge,
    Binary,
    Minified,
    Unreadable,
    Symlink,
    /// A secret by its name (`.env`, keys, credential stores): never read.
    Secret,
}

impl SkipReason {
    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::TooLarge => "over the size limit",
            SkipReason::Binary => "binary",
            SkipReason::Minified => "minified or generated (very long lines)",
            SkipReason::Unreadable => "unreadable",
            SkipReason::Symlink => "symbolic links",
            SkipReason::Secret => "secrets by their name (.env, keys, credentials)",
        }
    }
}

/// A source file found by the walk.
#[derive(Clone, Debug)]
pub struct WalkedFile {
    pub abs_path: PathBuf,
    /// Relative to the root, `/`-separated.
    pub rel_path: String,
    pub lang: Lang,
    pub size: u64,
    /// Modification time in nanoseconds since the epoch (0 when unknown).
    pub mtime: i64,
}

#[derive(Debug, Default)]
pub struct Walk {
    pub files: Vec<WalkedFile>,
    /// `tsconfig.json` / `jsconfig.json` files: (directory relative to the root, path).
    pub ts_configs: Vec<(String, PathBuf)>,
    pub skipped: Vec<(String, SkipReason)>,
    /// Errors met while walking (permission denied, ...), as messages.
    pub errors: Vec<String>,
}

fn overrides(root: &Path, config: &IndexConfig) -> Result<Override, ignore::Error> {
    let mut builder = OverrideBuilder::new(root);
    for pattern in &config.exclude {
        // In override syntax a leading `!` excludes.
        builder.add(&format!("!{pattern}"))?;
    }
    builder.build()
}

fn walk_builder(root: &Path, config: &IndexConfig) -> WalkBuilder {
    let mut builder = WalkBuilder::new(root);
    builder
        .follow_links(false)
        .require_git(false)
        .add_custom_ignore_filename(IGNORE_FILE)
        .max_filesize(None);
    match overrides(root, config) {
        Ok(overrides) => {
            builder.overrides(overrides);
        }
        Err(err) => tracing::warn!("index.exclude: {err}"),
    }
    builder
}

/// Lists the workspace's source files and tsconfig files.
pub fn walk(root: &Path, config: &IndexConfig) -> Walk {
    let mut result = Walk::default();
    for entry in walk_builder(root, config).build() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                result.errors.push(err.to_string());
                continue;
            }
        };
        let path = entry.path();
        let Some(file_type) = entry.file_type() else { continue };
        let rel_path = relative_path(root, path);
        if file_type.is_symlink() {
            if Lang::from_path(path).is_some() {
                result.skipped.push((rel_path, SkipReason::Symlink));
            }
            continue;
        }
        if !file_type.is_file() {
            continue;
        }
        let name = entry.file_name().to_str().unwrap_or("");
        if name == "tsconfig.json" || name == "jsconfig.json" {
            let dir = rel_path.rsplit_once('/').map_or("", |(d, _)| d).to_string();
            result.ts_configs.push((dir, path.to_path_buf()));
            continue;
        }
        let Some(lang) = Lang::from_path(path) else { continue };
        if is_secret(&rel_path) {
            result.skipped.push((rel_path, SkipReason::Secret));
            continue;
        }
        let (size, mtime) = match entry.metadata() {
            Ok(meta) => (meta.len(), mtime_nanos(&meta)),
            Err(err) => {
                result.errors.push(format!("{rel_path}: {err}"));
                result.skipped.push((rel_path, SkipReason::Unreadable));
                continue;
            }
        };
        if size > config.max_file_size {
            result.skipped.push((rel_path, SkipReason::TooLarge));
            continue;
        }
        if name.ends_with(".min.js") || name.ends_with(".min.mjs") {
            result.skipped.push((rel_path, SkipReason::Minified));
            continue;
        }
        result.files.push(WalkedFile { abs_path: path.to_path_buf(), rel_path, lang, size, mtime });
    }
    result.files.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    result
}

pub fn mtime_nanos(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i64)
}

/// Whether the relative path `rel` (already free of `..` and absolute parts) stays inside
/// `root` once symlinks are followed: the file, or for a file yet to be created its
/// nearest existing ancestor, must resolve under `root`.
pub fn resolves_inside(root: &Path, rel: &str) -> bool {
    let Ok(root) = root.canonicalize() else { return false };
    let mut probe = root.join(rel);
    loop {
        match probe.canonicalize() {
            Ok(real) => return real.starts_with(&root),
            Err(_) => {
                // Not there yet: a dangling symlink still points somewhere.
                if probe.symlink_metadata().is_ok() {
                    return false;
                }
                if !probe.pop() {
                    return false;
                }
            }
        }
    }
}

/// `path` relative to `root`, `/`-separated.
pub fn relative_path(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let mut out = String::new();
    for component in rel.components() {
        if !out.is_empty() {
            out.push('/');
        }
        out.push_str(&component.as_os_str().to_string_lossy());
    }
    out
}

/// Checks the bytes of a file: binary and minified files are refused; invalid UTF-8 is
/// replaced (lossy), never an error.
pub fn decode_source(bytes: Vec<u8>, config: &IndexConfig) -> Result<String, SkipReason> {
    if memchr::memchr(0, &bytes[..bytes.len().min(8192)]).is_some() {
        return Err(SkipReason::Binary);
    }
    let mut line_start = 0usize;
    for newline in memchr::memchr_iter(b'\n', &bytes).chain(std::iter::once(bytes.len())) {
        if (newline - line_start) as u64 > config.max_line_length {
            return Err(SkipReason::Minified);
        }
        line_start = newline + 1;
    }
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
    })
}

/// Reads and checks one file; returns the content hash of its bytes and its text.
pub fn read_source(path: &Path, config: &IndexConfig) -> Result<(u64, String), SkipReason> {
    let bytes = std::fs::read(path).map_err(|_| SkipReason::Unreadable)?;
    if bytes.len() as u64 > config.max_file_size {
        return Err(SkipReason::TooLarge);
    }
    let hash = crate::base::content_hash(&bytes);
    decode_source(bytes, config).map(|text| (hash, text))
}

/// A file of any kind found by `walk_files`.
#[derive(Clone, Debug)]
pub struct FoundFile {
    pub abs_path: PathBuf,
    /// Relative to the root, `/`-separated.
    pub rel_path: String,
    pub size: u64,
}

/// The workspace's files whose relative path `want` accepts, with the walk's rules
/// (ignore files, `index.exclude`, hidden files, no symlinks), secrets and files over
/// `index.max_file_size` left out; sorted by path.
pub fn walk_files(root: &Path, config: &IndexConfig, want: &dyn Fn(&str) -> bool) -> Vec<FoundFile> {
    let mut out = Vec::new();
    for entry in walk_builder(root, config).build().flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let rel_path = relative_path(root, entry.path());
        if !want(&rel_path) || is_secret(&rel_path) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if meta.len() > config.max_file_size {
            continue;
        }
        out.push(FoundFile { abs_path: entry.path().to_path_buf(), rel_path, size: meta.len() });
    }
    out.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    out
}

/// Files that hold secrets by their name (`.env`, keys, certificates, credentials,
/// `secrets.yaml`): never read for a model, whatever the ignore files say. A source file
/// named `secrets.ts` is code (what it holds is redacted like any code).
pub fn is_secret(rel_path: &str) -> bool {
    let name = rel_path.rsplit('/').next().unwrap_or(rel_path).to_ascii_lowercase();
    let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
    let bare = name.trim_start_matches('.');
    let stem = bare.split('.').next().unwrap_or("");
    let data = matches!(ext, "yaml" | "yml" | "json" | "toml" | "ini" | "env" | "properties" | "conf" | "cfg" | "txt" | "xml" | "enc" | "secret");
    name == ".env"
        || name == ".envrc"
        || (name.starts_with(".env.") && !name.ends_with(".example") && !name.ends_with(".sample") && !name.ends_with(".template"))
        || (matches!(stem, "secrets" | "secret" | "credentials") && (data || !bare.contains('.')))
        || matches!(ext, "pem" | "key" | "p12" | "pfx" | "jks" | "keystore" | "kdbx" | "gpg" | "asc" | "ppk")
        || name.starts_with("id_rsa")
        || name.starts_with("id_ed25519")
        || name.starts_with("id_ecdsa")
        || name.starts_with("id_dsa")
        || matches!(name.as_str(), ".npmrc" | ".pypirc" | ".netrc" | ".pgpass" | ".htpasswd" | "credentials" | "credentials.json" | ".git-credentials" | ".dockercfg")
        || name.contains("service-account") && ext == "json"
}

/// Why a file's content never leaves the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Withheld {
    /// Outside the workspace (symbolic links followed).
    Outside,
    /// A secret by its name (`is_secret`).
    Secret,
    /// Ignored by `.gitignore`, `.ignore`, `.ctxlsignore` or `index.exclude`, or hidden.
    Ignored,
}

impl Withheld {
    pub fn describe(self) -> &'static str {
        match self {
            Withheld::Outside => "outside the workspace",
            Withheld::Secret => "a secret by its name (.env, keys, credentials, secrets.*)",
            Withheld::Ignored => "ignored (.gitignore, .ignore, .ctxlsignore, index.exclude or hidden)",
        }
    }
}

/// Hidden directories whose files ctxls reads by name (instructions, prompt files): a
/// symbolic link may lead there.
const READ_BY_NAME_DIRS: &[&str] = &[".ctxls", ".github"];

/// Answers "would the walk have visited this file?" for single paths (watcher events,
/// diffs, files read by name), with the same ignore files as the walk, loaded per
/// directory and cached.
pub struct IgnoreRules {
    root: PathBuf,
    exclude: Option<Override>,
    per_dir: HashMap<PathBuf, Option<Gitignore>>,
}

impl IgnoreRules {
    pub fn new(root: &Path, config: &IndexConfig) -> IgnoreRules {
        IgnoreRules { root: root.to_path_buf(), exclude: overrides(root, config).ok(), per_dir: HashMap::new() }
    }

    /// Why the walk would not read `path` (absolute, under the root): hidden, ignored or
    /// excluded, a secret; `None` when it would.
    pub fn withheld(&mut self, path: &Path) -> Option<Withheld> {
        let Ok(rel) = path.strip_prefix(&self.root) else { return Some(Withheld::Outside) };
        if is_secret(&rel.to_string_lossy()) {
            return Some(Withheld::Secret);
        }
        self.is_ignored(path).then_some(Withheld::Ignored)
    }

    /// The file to read for `rel`, a path relative to the root named by ctxls or the user
    /// (an instruction file, a prompt file, a mention): refused when it is a secret or
    /// ignored (hidden is allowed: `.ctxls/instructions.md`); a symbolic link on the way
    /// is followed only to a target inside the workspace that is itself neither a secret,
    /// nor ignored, nor hidden (but for `.ctxls/` and `.github/`). A file that does not
    /// exist is returned as it is (reading it fails).
    pub fn readable(&mut self, rel: &str) -> Result<PathBuf, Withheld> {
        let plain = !rel.is_empty() && Path::new(rel).components().all(|c| matches!(c, std::path::Component::Normal(_)));
        if !plain {
            return Err(Withheld::Outside);
        }
        if is_secret(rel) {
            return Err(Withheld::Secret);
        }
        let path = self.root.join(rel);
        if self.is_excluded(&path) {
            return Err(Withheld::Ignored);
        }
        let Ok(real) = path.canonicalize() else { return Ok(path) };
        let Ok(real_root) = self.root.canonicalize() else { return Err(Withheld::Outside) };
        let Ok(target) = real.strip_prefix(&real_root) else { return Err(Withheld::Outside) };
        let target = relative_path(Path::new(""), target);
        if target != rel {
            if is_secret(&target) {
                return Err(Withheld::Secret);
            }
            let hidden = target.split('/').any(|part| part.starts_with('.') && !READ_BY_NAME_DIRS.contains(&part));
            if hidden || self.is_excluded(&self.root.join(&target)) {
                return Err(Withheld::Ignored);
            }
        }
        Ok(real)
    }

    /// True when `path` (absolute, under the root) is ignored, hidden, excluded or a
    /// secret by its name.
    pub fn is_ignored(&mut self, path: &Path) -> bool {
        let Ok(rel) = path.strip_prefix(&self.root) else { return true };
        if rel.components().any(|c| c.as_os_str().to_string_lossy().starts_with('.')) {
            return true; // the walk skips hidden files and directories
        }
        if is_secret(&rel.to_string_lossy()) {
            return true;
        }
        self.is_excluded(path)
    }

    /// True when `path` (absolute, under the root) is ignored by `.gitignore`, `.ignore`,
    /// `.ctxlsignore` or `index.exclude` (hidden or not: for files read by name, such as
    /// `.ctxls/instructions.md`).
    pub fn is_excluded(&mut self, path: &Path) -> bool {
        if !path.starts_with(&self.root) {
            return true;
        }
        if let Some(exclude) = &self.exclude {
            if exclude.matched(path, false).is_ignore() {
                return true;
            }
        }
        // From the root down to the file's directory, deeper rules win.
        let mut dirs: Vec<PathBuf> = path.ancestors().skip(1).take_while(|d| d.starts_with(&self.root)).map(Path::to_path_buf).collect();
        dirs.reverse();
        let mut ignored = false;
        for (i, dir) in dirs.iter().enumerate() {
            let rules = self.per_dir.entry(dir.clone()).or_insert_with(|| load_dir_rules(dir));
            if let Some(rules) = rules {
                if dirs[i + 1..].iter().any(|sub| rules.matched(sub, true).is_ignore()) {
                    return true;
                }
                let matched = rules.matched(path, false);
                if matched.is_ignore() {
                    ignored = true;
                } else if matched.is_whitelist() {
                    ignored = false;
                }
            }
        }
        ignored
    }
}

fn load_dir_rules(dir: &Path) -> Option<Gitignore> {
    let mut builder = GitignoreBuilder::new(dir);
    let mut any = false;
    for name in [".gitignore", ".ignore", IGNORE_FILE] {
        let file = dir.join(name);
        if file.is_file() {
            any = true;
            if let Some(err) = builder.add(&file) {
                tracing::warn!("{}: {err}", file.display());
            }
        }
    }
    if !any {
        return None;
    }
    builder.build().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_files_by_name() {
        for secret in [".env", "config/.env.production", "config/.env.local.js", "certs/server.pem", "id_rsa", "home/.npmrc", "gcp-service-account.json", "a/credentials"] {
            assert!(is_secret(secret), "{secret}");
        }
        for secret in ["config/secrets.yaml", "secrets.json", "app/credentials.yml.enc", ".envrc", "deploy/secret.env", "secrets", ".secrets.toml"] {
            assert!(is_secret(secret), "{secret}");
        }
        for plain in [".env.example", "src/env.rs", "docs/keys.md", "src/secrets.ts", "src/id_utils.ts", "package.json", "docs/secrets.md", "src/secret_store.rs"] {
            assert!(!is_secret(plain), "{plain}");
        }
    }

    #[test]
    fn binary_minified_and_invalid_utf8() {
        let config = IndexConfig { max_line_length: 20, ..IndexConfig::default() };
        assert_eq!(decode_source(b"fn a() {}\0".to_vec(), &config), Err(SkipReason::Binary));
        assert_eq!(decode_source(vec![b'x'; 21], &config), Err(SkipReason::Minified));
        assert_eq!(decode_source(b"let s = \"\xff\";".to_vec(), &config).unwrap(), "let s = \"\u{fffd}\";");
    }
}
