//! Mentions: context the user points at explicitly in a requirement comment or a
//! question — `@path/to/file.ts`, `@docs/api.md#orders` (a heading or a spec's section),
//! `@Symbol`, `@Type::method` or `@Type.method`. `parse` finds them in text (never in an
//! e-mail address, never the doc-comment tags `@param`, `@returns`, ... nor the `@ai`
//! marker); `resolve` finds what each one names in the workspace: a document section, a
//! code file, another readable file, a symbol's definition or a spec's named section.
//! Pure: file texts come through the caller's closures.

use std::ops::Range;

use super::{DocIndex, SectionRef};
use crate::index::{FileId, IndexSnapshot, SymbolKind};

/// One `@...` in a text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mention {
    /// As written, without the `@` (`docs/api.md#orders`).
    pub raw: String,
    /// Byte range in the text, `@` included.
    pub range: Range<usize>,
    /// The part before `#`.
    pub target: String,
    /// The part after `#`, if any.
    pub anchor: Option<String>,
}

/// Doc-comment tags and markers that are not mentions.
const TAGS: &[&str] = &[
    "ai", "param", "params", "arg", "argument", "returns", "return", "throws", "throw", "exception", "type", "typedef",
    "template", "example", "see", "link", "linkcode", "linkplain", "deprecated", "since", "todo", "author", "version",
    "override", "internal", "private", "public", "protected", "readonly", "default", "defaultvalue", "description",
    "inheritdoc", "async", "module", "class", "constructor", "property", "prop", "callback", "enum", "event", "fires",
    "function", "func", "method", "namespace", "memberof", "member", "static", "abstract", "license", "preserve",
    "remarks", "summary", "file", "fileoverview", "ignore", "experimental", "beta", "alpha", "packagedocumentation",
    "satisfies", "import", "jsx", "jsxfrag", "jsximportsource", "ts-ignore", "ts-expect-error", "ts-nocheck", "ts-check",
    "vitest-environment", "jest-environment", "flow", "noflow", "format", "prettier", "generated", "yields", "yield",
    "callback", "augments", "extends", "implements", "interface", "lends", "borrows", "this", "var", "const",
];

/// The mentions in `text`, in order.
pub fn parse(text: &str) -> Vec<Mention> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(found) = memchr::memchr(b'@', &bytes[at..]) {
        let start = at + found;
        at = start + 1;
        // `user@example.com`, `a@b`: an `@` glued to a word is not a mention.
        if start > 0 && !is_boundary_before(bytes[start - 1]) {
            continue;
        }
        let rest = &text[start + 1..];
        let len = rest.find(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '(' | ')' | '[' | ']' | '{' | '}' | '<' | '>' | '"' | '\'' | '`' | '@' | '*')).unwrap_or(rest.len());
        let mut token = &rest[..len];
        // Sentence punctuation after a mention is not part of it.
        while let Some(stripped) = token.strip_suffix(['.', ':', '!', '?', ',']) {
            token = stripped;
        }
        if token.is_empty() || !token.starts_with(|c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | '/' | '$' | '#')) {
            continue;
        }
        let (target, anchor) = match token.split_once('#') {
            Some((target, anchor)) => (target, Some(anchor.to_string()).filter(|a| !a.is_empty())),
            None => (token, None),
        };
        if target.is_empty() || TAGS.contains(&target.to_ascii_lowercase().as_str()) {
            continue;
        }
        at = start + 1 + token.len();
        out.push(Mention { raw: token.to_string(), range: start..at, target: target.to_string(), anchor });
    }
    out
}

fn is_boundary_before(byte: u8) -> bool {
    !(byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'.' || byte == b'-' || byte >= 0x80)
}

/// What a mention names.
#[derive(Clone, Debug, PartialEq)]
pub enum Resolved {
    /// A section of a document (a heading, an operation, a schema, a type).
    Section(SectionRef),
    /// A whole document (its sections, in order).
    Document(usize),
    /// A file of the index (code).
    CodeFile(FileId),
    /// A symbol's definition.
    Symbol { file: FileId, symbol: u32 },
    /// Another readable file of the workspace (configuration, data); its text.
    OtherFile { path: String, text: String },
}

/// Why a mentioned file (not code, not a document) is not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NotRead {
    /// No such file.
    Missing,
    /// It exists but is not sent to a model; why (a secret, ignored, outside the
    /// workspace, binary, too large).
    Refused(String),
}

/// A mention that names nothing, or names what is never sent, with the reason (for a
/// diagnostic and `ctxls context`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unresolved {
    pub mention: Mention,
    pub reason: String,
}

/// Resolves `mention`: a path (relative to the root, `./` allowed) to a document, one of
/// its sections by anchor, a code file (with an anchor: a symbol in it), or another
/// readable file (`read_other` reads one when it exists and may be sent: not ignored,
/// not a secret, inside the workspace, text of a sensible size; else says why not);
/// else a symbol (`Type::method`, `Type.method` or a name; types first, then functions,
/// then the rest; a test file last); else a document section defining that name (an
/// OpenAPI `operationId`, a schema, a GraphQL type, a proto message). A file that is
/// never sent (`@.env`, `@config/secrets.yaml`) is unresolved with the reason.
pub fn resolve(
    mention: &Mention,
    snapshot: &IndexSnapshot,
    docs: &DocIndex,
    read_other: &dyn Fn(&str) -> Result<String, NotRead>,
) -> Result<Resolved, Unresolved> {
    let unresolved = |reason: String| Unresolved { mention: mention.clone(), reason };
    let path = mention.target.trim_start_matches("./").trim_start_matches('/');
    if let Some(doc) = docs.document(path) {
        let Some(anchor) = &mention.anchor else { return Ok(Resolved::Document(doc)) };
        return match docs.section_by_anchor(doc, anchor) {
            Some(section) => Ok(Resolved::Section(section)),
            None => {
                let known: Vec<String> = docs.docs()[doc].sections.iter().filter(|s| !s.anchor.is_empty()).take(8).map(|s| format!("#{}", s.anchor)).collect();
                Err(unresolved(format!("{path} has no section `#{anchor}`{}", list_hint(&known))))
            }
        };
    }
    if let Some(file) = snapshot.file_id(path) {
        let Some(anchor) = &mention.anchor else { return Ok(Resolved::CodeFile(file)) };
        let index = snapshot.file(file).expect("id from the snapshot").index();
        return match best_symbol(index.symbols_named(anchor).map(|s| (file, s)), snapshot) {
            Some((file, symbol)) => Ok(Resolved::Symbol { file, symbol }),
            None => Err(unresolved(format!("{path} defines no `{anchor}`"))),
        };
    }
    if looks_like_path(path) {
        return match read_other(path) {
            Ok(_) if mention.anchor.is_some() => Err(unresolved(format!("{path} is not a document with sections (Markdown, OpenAPI, GraphQL, proto)"))),
            Ok(text) => Ok(Resolved::OtherFile { path: path.to_string(), text }),
            Err(NotRead::Refused(why)) => Err(unresolved(format!("`{path}` is not sent to a model: {why}"))),
            Err(NotRead::Missing) => Err(unresolved(format!("no file `{path}` in the workspace"))),
        };
    }
    if let Some((file, symbol)) = find_symbol(snapshot, &mention.target) {
        return Ok(Resolved::Symbol { file, symbol });
    }
    if let Some(section) = docs.sections_named(&mention.target).next() {
        return Ok(Resolved::Section(section));
    }
    // A path without a slash or an extension (`@README`) is tried as a document too.
    if let Some(doc) = docs.document_by_stem(path) {
        return Ok(Resolved::Document(doc));
    }
    // Nor as a file that is never sent (`@id_rsa`, `@credentials`): say so.
    if let Err(NotRead::Refused(why)) = read_other(path) {
        return Err(unresolved(format!("`{path}` is not sent to a model: {why}")));
    }
    Err(unresolved(format!("no file, document section or symbol named `{}` in the workspace", mention.target)))
}

fn list_hint(known: &[String]) -> String {
    if known.is_empty() {
        String::new()
    } else {
        format!(" (it has {})", known.join(", "))
    }
}

/// `src/a.ts`, `docs/`, `README.md`: a slash, or a dot followed by a short alphabetic
/// extension (`Type.method` has a dot too: an extension is lowercase and not a
/// symbol's usual name).
fn looks_like_path(target: &str) -> bool {
    // `docs/`, and dot files (`.env`, `.npmrc`).
    if target.contains('/') || (target.len() > 1 && target.starts_with('.') && !target[1..].starts_with('.')) {
        return true;
    }
    match target.rsplit_once('.') {
        Some((stem, ext)) => {
            !stem.is_empty() && (1..=10).contains(&ext.len()) && ext.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && KNOWN_EXTENSIONS.contains(&ext)
        }
        None => false,
    }
}

const KNOWN_EXTENSIONS: &[&str] = &[
    "rs", "ts", "tsx", "js", "jsx", "mjs", "cjs", "mts", "cts", "md", "markdown", "mdx", "json", "yaml", "yml", "toml",
    "graphql", "gql", "graphqls", "proto", "txt", "html", "css", "scss", "sql", "sh", "py", "go", "java", "kt", "xml",
    "csv", "env", "ini", "cfg", "lock", "svg", "vue", "svelte",
];

/// The definition `target` names: `Type::method`, `Type.method`, or a plain name.
pub fn find_symbol(snapshot: &IndexSnapshot, target: &str) -> Option<(FileId, u32)> {
    let (qualifier, name) = match target.rsplit_once("::").or_else(|| target.rsplit_once('.')) {
        Some((q, n)) => (Some(q.rsplit(['.', ':']).next().unwrap_or(q)), n),
        None => (None, target),
    };
    if name.is_empty() {
        return None;
    }
    let candidates = snapshot.files_defining(name).iter().flat_map(|&file| {
        let index = snapshot.file(file).expect("listed by the snapshot").index();
        index.symbols_named(name).filter(move |&s| match qualifier {
            Some(q) => {
                let symbol = &index.symbols[s as usize];
                symbol.container.as_deref().is_some_and(|c| c == q || c.ends_with(&format!("::{q}")) || c.ends_with(&format!(".{q}")))
            }
            None => true,
        })
        .map(move |s| (file, s))
    });
    best_symbol(candidates, snapshot)
}

/// The likeliest meant of several definitions: types, then functions, then the rest;
/// outside tests; the shortest path; the first in the file.
fn best_symbol(candidates: impl Iterator<Item = (FileId, u32)>, snapshot: &IndexSnapshot) -> Option<(FileId, u32)> {
    candidates.min_by_key(|&(file, s)| {
        let entry = snapshot.file(file).expect("listed by the snapshot");
        let kind = entry.index().symbols[s as usize].kind;
        let rank = match kind {
            SymbolKind::Struct | SymbolKind::Enum | SymbolKind::Trait | SymbolKind::Class | SymbolKind::Interface | SymbolKind::TypeAlias => 0,
            SymbolKind::Function | SymbolKind::Method | SymbolKind::Macro => 1,
            SymbolKind::Impl => 3,
            _ => 2,
        };
        let test = entry.path.contains("test") || entry.path.contains("spec");
        (test, rank, entry.path.len(), entry.path.clone(), s)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets(text: &str) -> Vec<(String, Option<String>)> {
        parse(text).into_iter().map(|m| (m.target, m.anchor)).collect()
    }

    #[test]
    fn mentions_in_requirements_and_questions() {
        assert_eq!(
            targets("AI: add a client for @docs/api.md#orders using @HttpClient::send, like @src/users.ts."),
            vec![
                ("docs/api.md".into(), Some("orders".into())),
                ("HttpClient::send".into(), None),
                ("src/users.ts".into(), None)
            ]
        );
        assert_eq!(targets("what does (@Cache.get) return? see @README"), vec![("Cache.get".into(), None), ("README".into(), None)]);
        let m = &parse("x @Order y")[0];
        assert_eq!((m.raw.as_str(), m.range.clone()), ("Order", 2..8));
    }

    #[test]
    fn not_mentions() {
        assert!(targets("mail me at dev@example.com").is_empty());
        assert!(targets("/** @ai validate it @param token the token @returns 401 */").is_empty());
        assert!(targets("an @ alone, @@, @) and @- are nothing").is_empty());
        assert_eq!(targets("@ts-ignore but @Point"), vec![("Point".into(), None)]);
    }

    #[test]
    fn paths_and_symbols_told_apart() {
        assert!(looks_like_path("src/a.ts"));
        assert!(looks_like_path("README.md"));
        assert!(looks_like_path("docs/"));
        assert!(looks_like_path(".env"));
        assert!(looks_like_path(".npmrc"));
        assert!(!looks_like_path("App.start"));
        assert!(!looks_like_path("Cache.get"));
        assert!(!looks_like_path("Order"));
    }
}
