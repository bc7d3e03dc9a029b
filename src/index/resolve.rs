//! Import resolution: which workspace file an import points at. Rust `mod`/`use` paths
//! follow the module layout (`crate::`, `self::`, `super::`, `foo.rs` / `foo/mod.rs`);
//! TS/JS specifiers follow relative paths, extension probing, `index` files and
//! `tsconfig.json` `baseUrl`/`paths`. Pure: it looks only at the set of indexed paths.

use super::{FileId, Import, ImportKind, IndexSnapshot};
use crate::lang::{Lang, ModuleSystem};

/// A file an import points at, and the item path still to look up inside it
/// (`["Foo", "new"]` for `use crate::a::Foo::new` resolved to `a.rs`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedImport {
    pub file: FileId,
    pub item_path: Vec<String>,
}

/// The parts of a `tsconfig.json` (or `jsconfig.json`) that affect resolution.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TsConfig {
    /// The directory holding the file, relative to the workspace root ("" for the root).
    pub dir: String,
    /// `compilerOptions.baseUrl`, relative to the workspace root.
    pub base_url: Option<String>,
    /// `compilerOptions.paths`: pattern (with at most one `*`) to targets, targets
    /// relative to the workspace root.
    pub paths: Vec<(String, Vec<String>)>,
}

impl TsConfig {
    /// Parses a tsconfig file's text (JSON with comments and trailing commas). Returns
    /// `None` when it has nothing that affects resolution or cannot be read.
    pub fn parse(dir: &str, text: &str) -> Option<TsConfig> {
        let value: serde_json::Value = serde_json::from_str(&strip_jsonc(text)).ok()?;
        let options = value.get("compilerOptions")?;
        let base_url = options.get("baseUrl").and_then(|v| v.as_str()).map(|b| join_normalized(dir, b));
        let paths_base = base_url.clone().unwrap_or_else(|| dir.to_string());
        let paths = options
            .get("paths")
            .and_then(|p| p.as_object())
            .map(|map| {
                map.iter()
                    .map(|(pattern, targets)| {
                        let targets = targets
                            .as_array()
                            .map(|t| t.iter().filter_map(|t| t.as_str()).map(|t| join_normalized(&paths_base, t)).collect())
                            .unwrap_or_default();
                        (pattern.clone(), targets)
                    })
                    .collect()
            })
            .unwrap_or_default();
        if base_url.is_none() && Vec::is_empty(&paths) {
            return None;
        }
        Some(TsConfig { dir: dir.to_string(), base_url, paths })
    }
}

/// Removes `//` and `/* */` comments and trailing commas outside strings.
fn strip_jsonc(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let c = bytes[i];
        if in_string {
            if c == b'\\' && i + 1 < bytes.len() {
                out.push_str(&text[i..i + 2]);
                i += 2;
                continue;
            }
            if c == b'"' {
                in_string = false;
            }
        } else if c == b'"' {
            in_string = true;
        } else if c == b'/' && bytes.get(i + 1) == Some(&b'/') {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        } else if c == b'/' && bytes.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
            continue;
        } else if c == b',' {
            let rest = text[i + 1..].trim_start();
            if rest.starts_with('}') || rest.starts_with(']') {
                i += 1;
                continue;
            }
        }
        let ch_len = text[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&text[i..i + ch_len]);
        i += ch_len;
    }
    out
}

/// Joins a relative path onto a directory, folding `.` and `..`. Returns the path
/// relative to the workspace root; a path that would leave the root stays clamped at it.
fn join_normalized(dir: &str, rel: &str) -> String {
    normalize(&format!("{dir}/{rel}")).unwrap_or_default()
}

/// Folds `.` and `..`; `None` when the path leaves the root.
fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// Re-exports are followed through at most this many files.
const MAX_REEXPORT_DEPTH: usize = 8;

const TS_EXTENSIONS: &[&str] = &["ts", "tsx", "d.ts", "mts", "cts", "js", "jsx", "mjs", "cjs"];

/// Resolution over one snapshot.
pub struct ModuleResolver<'a> {
    snapshot: &'a IndexSnapshot,
}

impl<'a> ModuleResolver<'a> {
    pub fn new(snapshot: &'a IndexSnapshot) -> Self {
        ModuleResolver { snapshot }
    }

    pub fn resolve(&self, from: FileId, import: &Import) -> Option<ResolvedImport> {
        let entry = self.snapshot.file(from)?;
        match entry.lang().spec().modules {
            ModuleSystem::Rust => self.resolve_rust(&entry.path, import),
            ModuleSystem::EcmaScript => {
                let file = self.resolve_ts_specifier(&entry.path, &import.source)?;
                Some(ResolvedImport { file, item_path: Vec::new() })
            }
        }
    }

    fn id(&self, path: &str) -> Option<FileId> {
        self.snapshot.file_id(path)
    }

    // ---- Rust ----

    /// The directory where a Rust module file's child modules live.
    fn module_dir(path: &str) -> String {
        let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
        match file {
            "mod.rs" | "lib.rs" | "main.rs" => dir.to_string(),
            _ => join(dir, file.strip_suffix(".rs").unwrap_or(file)),
        }
    }

    fn child_module(&self, module_dir: &str, name: &str) -> Option<(FileId, String)> {
        let flat = join(module_dir, &format!("{name}.rs"));
        if let Some(id) = self.id(&flat) {
            return Some((id, flat));
        }
        let nested = join(module_dir, &format!("{name}/mod.rs"));
        self.id(&nested).map(|id| (id, nested))
    }

    /// The crate root file of the crate holding `path`: the nearest `lib.rs` or
    /// `main.rs` above it under a `src` directory, else the file itself.
    fn crate_root(&self, path: &str) -> String {
        let mut dir = parent_dir(path);
        loop {
            for root in ["lib.rs", "main.rs"] {
                let candidate = join(dir, root);
                if self.id(&candidate).is_some() && (dir == "src" || dir.ends_with("/src")) {
                    return candidate;
                }
            }
            if dir.is_empty() {
                break;
            }
            dir = parent_dir(dir);
        }
        // Tests, examples and loose files are crate roots of their own.
        path.to_string()
    }

    /// The file of the parent module of the module in `path`.
    fn parent_module(&self, path: &str) -> Option<String> {
        let dir = parent_dir(path);
        let file = path.rsplit('/').next().unwrap_or(path);
        let parent_dir_path = if file == "mod.rs" { parent_dir(dir) } else { dir };
        if file == "lib.rs" || file == "main.rs" {
            return None;
        }
        // The parent is `<dir>.rs`, `<dir>/mod.rs`, or the crate root in that directory.
        let name = parent_dir_path.rsplit('/').next().unwrap_or(parent_dir_path);
        let grand = parent_dir(parent_dir_path);
        let candidates = [
            join(grand, &format!("{name}.rs")),
            join(parent_dir_path, "mod.rs"),
            join(parent_dir_path, "lib.rs"),
            join(parent_dir_path, "main.rs"),
        ];
        candidates.into_iter().find(|c| self.id(c).is_some())
    }

    fn resolve_rust(&self, from: &str, import: &Import) -> Option<ResolvedImport> {
        if import.kind == ImportKind::Mod {
            let name = &import.names.first()?.name;
            let (file, _) = self.child_module(&Self::module_dir(from), name)?;
            return Some(ResolvedImport { file, item_path: Vec::new() });
        }
        if import.kind != ImportKind::Use {
            return None;
        }
        let mut segments: Vec<&str> = import.source.split("::").filter(|s| !s.is_empty()).collect();
        if let Some(name) = import.names.first() {
            segments.push(&name.name);
        }
        let first = *segments.first()?;
        let (mut module, rest) = match first {
            "crate" => (self.crate_root(from), &segments[1..]),
            "self" => (from.to_string(), &segments[1..]),
            "super" => {
                let mut module = from.to_string();
                let mut rest = &segments[..];
                while rest.first() == Some(&"super") {
                    module = self.parent_module(&module)?;
                    rest = &rest[1..];
                }
                (module, rest)
            }
            // A path starting with a name: a child module of the current module, or
            // (2015-style paths) of the crate root. Anything else is an external crate.
            name => {
                if self.child_module(&Self::module_dir(from), name).is_some() {
                    (from.to_string(), &segments[..])
                } else {
                    let root = self.crate_root(from);
                    self.child_module(&Self::module_dir(&root), name)?;
                    (root, &segments[..])
                }
            }
        };
        let mut consumed = 0;
        for segment in rest {
            match self.child_module(&Self::module_dir(&module), segment) {
                Some((_, path)) => {
                    module = path;
                    consumed += 1;
                }
                None => break,
            }
        }
        let file = self.id(&module)?;
        Some(ResolvedImport { file, item_path: rest[consumed..].iter().map(|s| s.to_string()).collect() })
    }

    // ---- TypeScript / JavaScript ----

    /// The definitions a TS/JS module exports as `name`: its own top-level definitions of
    /// the name, else those its re-exports lead to (`export { a as name } from`,
    /// `export * from`), through barrels up to `MAX_REEXPORT_DEPTH` files deep. Empty when
    /// the chain leaves the workspace or the name is not found.
    pub fn exported_definitions(&self, module: FileId, name: &str) -> Vec<(FileId, u32)> {
        let mut out = Vec::new();
        let mut seen = Vec::new();
        self.exported_into(module, name, 0, &mut seen, &mut out);
        out
    }

    fn exported_into(&self, module: FileId, name: &str, depth: usize, seen: &mut Vec<(FileId, String)>, out: &mut Vec<(FileId, u32)>) {
        if depth > MAX_REEXPORT_DEPTH || seen.iter().any(|(f, n)| *f == module && n == name) {
            return;
        }
        seen.push((module, name.to_string()));
        let Some(entry) = self.snapshot.file(module) else { return };
        if !entry.lang().is_js_family() {
            return;
        }
        let index = entry.light();
        let before = out.len();
        out.extend(index.symbols_named(name).filter(|&i| index.symbols[i as usize].parent.is_none()).map(|i| (module, i)));
        if out.len() > before {
            return;
        }
        for import in index.imports.iter().filter(|i| i.kind == ImportKind::ReExport) {
            let star = import.glob && import.names.is_empty();
            let renamed = import.names.iter().find(|n| n.name != "*" && n.local_name() == name);
            if !star && renamed.is_none() {
                continue;
            }
            let Some(target) = self.resolve_ts_specifier(&entry.path, &import.source) else { continue };
            match renamed {
                Some(n) => self.exported_into(target, &n.name, depth + 1, seen, out),
                None => self.exported_into(target, name, depth + 1, seen, out),
            }
        }
    }

    /// The module a TS/JS module exports as the namespace `name` (`export * as name
    /// from "x"`, or such an export reached through `export { name } from` and
    /// `export * from`).
    pub fn exported_module(&self, module: FileId, name: &str) -> Option<FileId> {
        self.exported_module_at(module, name, 0)
    }

    fn exported_module_at(&self, module: FileId, name: &str, depth: usize) -> Option<FileId> {
        if depth > MAX_REEXPORT_DEPTH {
            return None;
        }
        let entry = self.snapshot.file(module)?;
        for import in entry.light().imports.iter().filter(|i| i.kind == ImportKind::ReExport) {
            let star = import.glob && import.names.is_empty();
            let named = import.names.iter().find(|n| n.local_name() == name);
            if !star && named.is_none() {
                continue;
            }
            let Some(target) = self.resolve_ts_specifier(&entry.path, &import.source) else { continue };
            let found = match named {
                Some(n) if n.name == "*" => Some(target),
                Some(n) => self.exported_module_at(target, &n.name, depth + 1),
                None => self.exported_module_at(target, name, depth + 1),
            };
            if found.is_some() {
                return found;
            }
        }
        None
    }

    /// The module a TS/JS file's local name stands for: `import * as name from "x"`
    /// (x), or `import { name } from "x"` where x exports a namespace of that name.
    pub fn namespace_module(&self, from: FileId, local: &str) -> Option<FileId> {
        let entry = self.snapshot.file(from)?;
        if !entry.lang().is_js_family() {
            return None;
        }
        for import in &entry.light().imports {
            if !matches!(import.kind, ImportKind::Import | ImportKind::Require | ImportKind::ReExport) {
                continue;
            }
            let Some(named) = import.names.iter().find(|n| n.local_name() == local) else { continue };
            let Some(target) = self.resolve_ts_specifier(&entry.path, &import.source) else { continue };
            return if named.name == "*" { Some(target) } else { self.exported_module(target, &named.name) };
        }
        None
    }

    pub fn resolve_ts_specifier(&self, from: &str, specifier: &str) -> Option<FileId> {
        if specifier.starts_with('.') {
            let base = normalize(&join(parent_dir(from), specifier))?;
            return self.probe_ts(&base);
        }
        if specifier.starts_with('/') {
            return None;
        }
        let config = self.ts_config_for(from)?;
        for (pattern, targets) in &config.paths {
            let Some(captured) = match_pattern(pattern, specifier) else { continue };
            for target in targets {
                let candidate = target.replacen('*', captured, 1);
                if let Some(id) = self.probe_ts(&candidate) {
                    return Some(id);
                }
            }
        }
        let base_url = config.base_url.as_deref()?;
        self.probe_ts(&join(base_url, specifier))
    }

    /// The nearest tsconfig whose directory holds `path`.
    fn ts_config_for(&self, path: &str) -> Option<&'a TsConfig> {
        self.snapshot
            .ts_configs()
            .iter()
            .filter(|c| c.dir.is_empty() || path.starts_with(&format!("{}/", c.dir)))
            .max_by_key(|c| c.dir.len())
    }

    fn probe_ts(&self, base: &str) -> Option<FileId> {
        if let Some(id) = self.id(base).filter(|_| Lang::from_path(std::path::Path::new(base)).is_some()) {
            return Some(id);
        }
        // `./x.js` written for ESM output names `./x.ts` in the sources.
        for (js, ts) in [(".js", ".ts"), (".js", ".tsx"), (".jsx", ".tsx"), (".mjs", ".mts"), (".cjs", ".cts")] {
            if let Some(stem) = base.strip_suffix(js) {
                if let Some(id) = self.id(&format!("{stem}{ts}")) {
                    return Some(id);
                }
            }
        }
        for ext in TS_EXTENSIONS {
            if let Some(id) = self.id(&format!("{base}.{ext}")) {
                return Some(id);
            }
        }
        for ext in TS_EXTENSIONS {
            if let Some(id) = self.id(&join(base, &format!("index.{ext}"))) {
                return Some(id);
            }
        }
        None
    }
}

/// Matches a tsconfig `paths` pattern; returns what `*` captured ("" without a `*`).
fn match_pattern<'s>(pattern: &str, specifier: &'s str) -> Option<&'s str> {
    match pattern.split_once('*') {
        None => (pattern == specifier).then_some(""),
        Some((prefix, suffix)) => specifier
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .filter(|_| specifier.len() >= prefix.len() + suffix.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsconfig_with_comments_and_trailing_commas() {
        let text = r#"{
            // comment
            "compilerOptions": { /* inline */ "baseUrl": "./src", "paths": { "@app/*": ["app/*",], }, },
        }"#;
        let config = TsConfig::parse("web", text).unwrap();
        assert_eq!(config.base_url.as_deref(), Some("web/src"));
        assert_eq!(config.paths, vec![("@app/*".to_string(), vec!["web/src/app/*".to_string()])]);
        assert_eq!(TsConfig::parse("", r#"{"compilerOptions": {"strict": true}}"#), None);
        assert_eq!(TsConfig::parse("", "not json"), None);
    }

    #[test]
    fn normalizing_paths() {
        assert_eq!(normalize("a/./b/../c"), Some("a/c".into()));
        assert_eq!(normalize("a/../../c"), None);
        assert_eq!(match_pattern("@app/*", "@app/x/y"), Some("x/y"));
        assert_eq!(match_pattern("exact", "exact"), Some(""));
        assert_eq!(match_pattern("@app/*", "@lib/x"), None);
    }
}
