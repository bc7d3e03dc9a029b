//! Project knowledge in prompts: what the user mentioned (`@path`, `@doc.md#heading`,
//! `@Symbol`), always included first — whole, or summarized to its signatures when it
//! does not fit `[mentions] max_tokens` — and the document sections retrieved for the
//! request within `[documents] max_tokens`. Both join the user message ahead of the
//! code, each with where it comes from and why it was included (`ctxls context` and
//! `ctxls.showContext` show the same records). Pure.

use crate::index::{IndexSnapshot, SymbolKind};
use crate::knowledge::mentions::{self, Mention, NotRead, Resolved, Unresolved};
use crate::knowledge::{fit, DocExcerpt, DocIndex, SectionRef};
use crate::llm::{Prompt, Role};

/// A mentioned item as included in a prompt.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Included {
    /// As written, with the `@`.
    pub mention: String,
    pub path: String,
    /// What it is: `section Orders`, `file`, `function parse`, ...
    pub what: String,
    /// 1-based, inclusive.
    pub start_line: u32,
    pub end_line: u32,
    pub text: String,
    /// Summarized to its signatures (or cut) to fit the budget.
    pub summarized: bool,
    pub tokens: usize,
}

/// What project knowledge a request includes.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Knowledge {
    pub mentions: Vec<Included>,
    /// Mentions that name nothing (reported, not sent).
    #[serde(serialize_with = "serialize_unresolved")]
    pub unresolved: Vec<Unresolved>,
    pub documents: Vec<DocExcerpt>,
}

fn serialize_unresolved<S: serde::Serializer>(items: &[Unresolved], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(items.len()))?;
    for item in items {
        seq.serialize_element(&serde_json::json!({"mention": format!("@{}", item.mention.raw), "reason": item.reason}))?;
    }
    seq.end()
}

/// Where the knowledge comes from.
pub struct Sources<'a> {
    pub snapshot: &'a IndexSnapshot,
    pub docs: &'a DocIndex,
    /// A file's current text, by path relative to the root (code and documents).
    pub text_of: &'a dyn Fn(&str) -> Option<String>,
    /// A non-code, non-document file a mention names, when it may be sent; else why not.
    pub read_other: &'a dyn Fn(&str) -> Result<String, NotRead>,
}

/// Budgets in tokens.
#[derive(Clone, Copy, Debug)]
pub struct Budgets {
    pub mentions: usize,
    /// 0: no documents are retrieved.
    pub documents: usize,
}

/// The knowledge for a request: the mentions in `mention_text` (a requirement, a
/// question) resolved and included, then the document sections best matching `query`.
pub fn gather(mention_text: &str, query: &str, sources: &Sources, budgets: Budgets, count_tokens: &dyn Fn(&str) -> usize) -> Knowledge {
    let mut knowledge = Knowledge::default();
    let mut used = 0;
    let mut seen: Vec<String> = Vec::new();
    let mut mentioned_sections: Vec<SectionRef> = Vec::new();
    for mention in mentions::parse(mention_text) {
        let resolved = match mentions::resolve(&mention, sources.snapshot, sources.docs, sources.read_other) {
            Ok(resolved) => resolved,
            Err(unresolved) => {
                knowledge.unresolved.push(unresolved);
                continue;
            }
        };
        let key = format!("{resolved:?}");
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        if let Resolved::Section(r) = &resolved {
            mentioned_sections.push(*r);
        }
        if let Resolved::Document(d) = &resolved {
            mentioned_sections.extend((0..sources.docs.docs()[*d].sections.len()).map(|s| SectionRef { doc: *d as u32, section: s as u32 }));
        }
        let left = budgets.mentions.saturating_sub(used);
        if let Some(included) = include(&mention, &resolved, sources, left, count_tokens) {
            used += included.tokens;
            knowledge.mentions.push(included);
        }
    }
    if budgets.documents > 0 && !sources.docs.is_empty() && !query.trim().is_empty() {
        knowledge.documents = sources
            .docs
            .retrieve(query, budgets.documents, count_tokens)
            .into_iter()
            .filter(|e| {
                !mentioned_sections.iter().any(|&r| {
                    let (doc, section) = sources.docs.get(r);
                    doc.path == e.path && section.start_line + 1 == e.start_line
                })
            })
            .collect();
    }
    knowledge
}

/// The mentioned item as included within `budget` tokens.
fn include(mention: &Mention, resolved: &Resolved, sources: &Sources, budget: usize, count_tokens: &dyn Fn(&str) -> usize) -> Option<Included> {
    let written = format!("@{}", mention.raw);
    let record = |path: &str, what: String, start_line: u32, end_line: u32, whole: &str, summary: Option<String>| -> Option<Included> {
        if let Some((text, tokens)) = fit_whole(whole, budget, count_tokens) {
            return Some(Included { mention: written.clone(), path: path.to_string(), what, start_line, end_line, text, summarized: false, tokens });
        }
        let summary = summary.unwrap_or_else(|| whole.to_string());
        let (text, tokens) = fit(&summary, budget, count_tokens)?;
        Some(Included { mention: written.clone(), path: path.to_string(), what, start_line, end_line, text, summarized: true, tokens })
    };
    match resolved {
        Resolved::Section(r) => {
            let (doc, section) = sources.docs.get(*r);
            let what = if section.title.is_empty() { "section (preamble)".to_string() } else { format!("section {}", section.title) };
            record(&doc.path, what, section.start_line + 1, section.end_line + 1, &section.text, None)
        }
        Resolved::Document(d) => {
            let doc = &sources.docs.docs()[*d];
            let whole = (sources.text_of)(&doc.path)?;
            let outline: String = doc
                .sections
                .iter()
                .map(|s| format!("{}{} (line {})\n", "  ".repeat(s.level.saturating_sub(1) as usize), if s.title.is_empty() { "(preamble)" } else { &s.title }, s.start_line + 1))
                .collect();
            let lines = whole.lines().count().max(1) as u32;
            record(&doc.path, "document".into(), 1, lines, &whole, Some(format!("Sections of {}:\n{outline}", doc.path)))
        }
        Resolved::CodeFile(file) => {
            let entry = sources.snapshot.file(*file)?;
            let whole = (sources.text_of)(&entry.path)?;
            let index = entry.index();
            let summary: String = index
                .symbols
                .iter()
                .filter(|s| s.parent.is_none() || s.parent.is_some_and(|p| index.symbols[p as usize].kind.is_container() && index.symbols[p as usize].parent.is_none()))
                .filter(|s| s.kind != SymbolKind::Impl || s.parent.is_none())
                .map(|s| format!("{}: {}\n", index.line_index.line_col(s.range.start).line + 1, s.signature().trim()))
                .collect();
            let lines = whole.lines().count().max(1) as u32;
            record(&entry.path, "file".into(), 1, lines, &whole, Some(format!("Signatures in {} (line: signature):\n{summary}", entry.path)))
        }
        Resolved::Symbol { file, symbol } => {
            let entry = sources.snapshot.file(*file)?;
            let text = (sources.text_of)(&entry.path)?;
            let s = entry.index().symbols.get(*symbol as usize)?;
            // The definition with the doc comment and attributes above it.
            let from = with_leading_comments(&text, s.range.start as usize);
            let definition = text.get(from..s.range.end as usize)?;
            let lines = &entry.index().line_index;
            let (start, end) = (lines.line_col(from as u32).line + 1, lines.line_col(s.range.end).line + 1);
            let mut summary = String::new();
            if let Some(doc) = s.doc() {
                summary.push_str(doc.trim());
                summary.push('\n');
            }
            summary.push_str(s.signature().trim());
            record(&entry.path, format!("{} {}", s.kind.as_str(), entry.index().qualified_name(s)), start, end, definition, Some(summary))
        }
        Resolved::OtherFile { path, text } => {
            let lines = text.lines().count().max(1) as u32;
            record(path, "file".into(), 1, lines, text, None)
        }
    }
}

/// The start of the comment and attribute lines right above the line of `offset` (or the
/// start of that line when there are none).
fn with_leading_comments(text: &str, offset: usize) -> usize {
    let mut start = text[..offset.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    while start > 0 {
        let above = text[..start - 1].rfind('\n').map_or(0, |i| i + 1);
        let line = text[above..start - 1].trim_start();
        let annotation = ["///", "//!", "//", "/**", "/*", "*", "#[", "@"].iter().any(|p| line.starts_with(p));
        if !annotation || line.is_empty() {
            break;
        }
        start = above;
    }
    start
}

fn fit_whole(text: &str, budget: usize, count_tokens: &dyn Fn(&str) -> usize) -> Option<(String, usize)> {
    let tokens = count_tokens(text);
    (tokens <= budget).then(|| (text.to_string(), tokens))
}

/// The knowledge as a prompt section (empty when there is none).
pub fn render(knowledge: &Knowledge) -> String {
    let mut out = String::new();
    if !knowledge.mentions.is_empty() {
        out.push_str("Context the user pointed at (use it):\n\n");
        for m in &knowledge.mentions {
            let note = if m.summarized { ", summarized" } else { "" };
            out.push_str(&format!("{} = {} ({}, lines {}-{}{note}):\n```\n{}\n```\n\n", m.mention, m.path, m.what, m.start_line, m.end_line, m.text.trim_end()));
        }
    }
    if !knowledge.documents.is_empty() {
        out.push_str("From the project's documents (for reference):\n\n");
        for d in &knowledge.documents {
            let title = if d.title.is_empty() { String::new() } else { format!(" — {}", d.title) };
            out.push_str(&format!("{}{title} (lines {}-{}):\n```\n{}\n```\n\n", d.path, d.start_line, d.end_line, d.text.trim_end()));
        }
    }
    out
}

/// `prompt` with `section` put at the start of its last user message (other prompts
/// are returned as they are).
pub fn apply(prompt: Prompt, section: &str) -> Prompt {
    if section.trim().is_empty() {
        return prompt;
    }
    match prompt {
        Prompt::Chat(mut messages) => {
            if let Some(user) = messages.iter_mut().rev().find(|m| m.role == Role::User) {
                user.content.insert_str(0, section);
            }
            Prompt::Chat(messages)
        }
        other => other,
    }
}

/// The mention being typed at `offset`: the byte offset just after its `@` and what
/// follows it up to `offset` (`None` when the cursor is not in a mention).
pub fn mention_at(text: &str, offset: usize) -> Option<(usize, &str)> {
    let before = text.get(..offset)?;
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || matches!(c, '_' | '.' | '/' | '-' | '#' | ':' | '$'))
        .last()
        .map_or(offset, |(i, _)| i);
    let at = start.checked_sub(1)?;
    if before.as_bytes().get(at) != Some(&b'@') {
        return None;
    }
    let glued = at > 0 && before[..at].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
    (!glued).then(|| (start, &before[start..]))
}

/// What a mention completion offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MentionKind {
    File,
    Document,
    Section,
    Symbol(SymbolKind),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MentionItem {
    /// The text after `@`.
    pub label: String,
    pub detail: String,
    pub kind: MentionKind,
}

/// Completions for the mention `typed` (after `@`): with a `#`, the sections of that
/// document (or the definitions of that code file); else documents and files whose path
/// contains it, the definitions whose name matches it (fuzzy, best first), and spec
/// sections by name. At most `limit`.
pub fn complete_mentions(typed: &str, snapshot: &IndexSnapshot, docs: &DocIndex, limit: usize) -> Vec<MentionItem> {
    let mut out = Vec::new();
    if let Some((path, anchor)) = typed.split_once('#') {
        let anchor = anchor.to_lowercase();
        if let Some(d) = docs.document(path) {
            for section in docs.docs()[d].sections.iter().filter(|s| !s.anchor.is_empty() && s.anchor.to_lowercase().contains(&anchor)) {
                out.push(MentionItem { label: format!("{path}#{}", section.anchor), detail: section.title.clone(), kind: MentionKind::Section });
            }
        } else if let Some(entry) = snapshot.file_id(path).and_then(|f| snapshot.file(f)) {
            for symbol in entry.index().symbols.iter().filter(|s| s.parent.is_none() && s.kind != SymbolKind::Impl && s.name.to_lowercase().contains(&anchor)) {
                if out.iter().any(|i| i.label.ends_with(&format!("#{}", symbol.name))) {
                    continue;
                }
                out.push(MentionItem { label: format!("{path}#{}", symbol.name), detail: symbol.signature().to_string(), kind: MentionKind::Symbol(symbol.kind) });
            }
        }
        out.truncate(limit);
        return out;
    }
    let lower = typed.to_lowercase();
    for doc in docs.docs().iter().filter(|d| d.path.to_lowercase().contains(&lower)).take(limit / 3 + 1) {
        out.push(MentionItem { label: doc.path.clone(), detail: format!("{} document, {} sections", doc.kind.name(), doc.sections.len()), kind: MentionKind::Document });
    }
    if typed.contains('/') || typed.contains('.') {
        let mut files: Vec<&str> = snapshot.files().map(|(_, e)| e.path.as_str()).filter(|p| p.to_lowercase().contains(&lower)).collect();
        files.sort_by_key(|p| (p.len(), *p));
        for path in files.into_iter().take(limit / 3 + 1) {
            out.push(MentionItem { label: path.to_string(), detail: "file".into(), kind: MentionKind::File });
        }
    }
    if !typed.is_empty() && !typed.contains('/') {
        for m in crate::index::fuzzy_symbols(snapshot, typed, limit) {
            let Some(entry) = snapshot.file(m.file) else { continue };
            let symbol = &entry.index().symbols[m.symbol as usize];
            if matches!(symbol.kind, SymbolKind::Impl | SymbolKind::Field | SymbolKind::Variant) {
                continue;
            }
            let label = match &symbol.container {
                Some(container) if symbol.parent.is_some() => format!("{}::{}", container.rsplit(['.', ':']).next().unwrap_or(container), symbol.name),
                _ => symbol.name.to_string(),
            };
            if !out.iter().any(|i| i.label == label) {
                out.push(MentionItem { label, detail: format!("{} ({})", symbol.signature().trim(), entry.path), kind: MentionKind::Symbol(symbol.kind) });
            }
        }
        for doc in docs.docs() {
            for section in &doc.sections {
                for name in section.names.iter().filter(|n| n.to_lowercase().starts_with(&lower) && !n.contains('/')) {
                    if !out.iter().any(|i| &i.label == name) {
                        out.push(MentionItem { label: name.clone(), detail: format!("{} in {}", section.title, doc.path), kind: MentionKind::Section });
                    }
                }
            }
        }
    }
    out.truncate(limit);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{FileEntry, WorkspaceIndex};
    use crate::knowledge::{sections, DocKind, Document};
    use crate::lang::Lang;
    use crate::llm::Message;

    fn words(text: &str) -> usize {
        text.split_whitespace().count()
    }

    const LIB: &str = "/// A point.\npub struct Point { x: i32, y: i32 }\n\nimpl Point {\n    /// Distance to the origin.\n    pub fn norm(&self) -> f64 {\n        ((self.x * self.x + self.y * self.y) as f64).sqrt()\n    }\n}\n";
    const GUIDE: &str = "# Guide\n\nIntro.\n\n## Errors\n\nReturn Result; never panic.\n\n## Orders API\n\nOrders are fetched with GET /orders/{id} and cached for a minute.\n";

    fn sources_and_check(mention_text: &str, query: &str, budgets: Budgets, check: impl FnOnce(Knowledge)) {
        let mut workspace = WorkspaceIndex::new();
        let index = crate::index::extract(Lang::Rust, LIB, &crate::lang::parse(Lang::Rust, LIB, None));
        workspace.insert(FileEntry::new("src/point.rs".into(), 1, index));
        let snapshot = workspace.snapshot();
        let docs = DocIndex::new(vec![Document { path: "docs/guide.md".into(), kind: DocKind::Markdown, sections: sections::split(DocKind::Markdown, GUIDE).unwrap() }]);
        let text_of = |path: &str| match path {
            "src/point.rs" => Some(LIB.to_string()),
            "docs/guide.md" => Some(GUIDE.to_string()),
            _ => None,
        };
        let read_other = |path: &str| match path {
            "config/app.toml" => Ok("port = 8080\n".to_string()),
            "config/secrets.yaml" => Err(NotRead::Refused("a secret by its name".to_string())),
            _ => Err(NotRead::Missing),
        };
        let sources = Sources { snapshot: &snapshot, docs: &docs, text_of: &text_of, read_other: &read_other };
        check(gather(mention_text, query, &sources, budgets, &words));
    }

    #[test]
    fn mentions_resolve_to_sections_symbols_and_files() {
        let budgets = Budgets { mentions: 1000, documents: 0 };
        sources_and_check("AI: cache like @docs/guide.md#orders-api, use @Point::norm and @config/app.toml; see @Nope", "", budgets, |k| {
            let got: Vec<(&str, &str, &str, u32, u32)> = k.mentions.iter().map(|m| (m.mention.as_str(), m.path.as_str(), m.what.as_str(), m.start_line, m.end_line)).collect();
            assert_eq!(
                got,
                [
                    ("@docs/guide.md#orders-api", "docs/guide.md", "section Orders API", 9, 11),
                    ("@Point::norm", "src/point.rs", "method Point::norm", 5, 8),
                    ("@config/app.toml", "config/app.toml", "file", 1, 1),
                ]
            );
            assert!(k.mentions[0].text.contains("cached for a minute"));
            assert!(k.mentions[1].text.starts_with("    /// Distance to the origin.\n    pub fn norm"), "{:?}", k.mentions[1].text);
            assert_eq!(k.unresolved.len(), 1);
            assert_eq!(k.unresolved[0].reason, "no file, document section or symbol named `Nope` in the workspace");
            let rendered = render(&k);
            assert!(!rendered.contains("Nope"));
            let rendered = render(&k);
            assert!(rendered.starts_with("Context the user pointed at (use it):\n\n@docs/guide.md#orders-api = docs/guide.md (section Orders API, lines 9-11):\n```\n## Orders API"), "{rendered}");
        });
    }

    #[test]
    fn a_file_too_big_for_the_budget_is_summarized_to_its_signatures() {
        sources_and_check("@src/point.rs", "", Budgets { mentions: 30, documents: 0 }, |k| {
            let m = &k.mentions[0];
            assert!(m.summarized);
            // Top-level items and their members (fields, methods), by line.
            assert_eq!(m.text, "Signatures in src/point.rs (line: signature):\n2: pub struct Point\n2: x: i32\n2: y: i32\n4: impl Point\n6: pub fn norm(&self) -> f64\n");
        });
        sources_and_check("@src/point.rs", "", Budgets { mentions: 1000, documents: 0 }, |k| assert_eq!(k.mentions[0].text, LIB));
    }

    #[test]
    fn documents_are_retrieved_for_the_request_and_not_repeated() {
        sources_and_check("", "what do we do on errors, panic?", Budgets { mentions: 100, documents: 100 }, |k| {
            assert_eq!(k.documents[0].title, "Errors", "{k:?}");
            assert!(k.documents[0].why.contains("words"));
        });
        sources_and_check("@docs/guide.md#errors", "what do we do on errors, panic?", Budgets { mentions: 100, documents: 100 }, |k| {
            assert_eq!(k.mentions.len(), 1);
            assert!(k.documents.iter().all(|d| d.title != "Errors"), "a mentioned section is not repeated: {k:?}");
        });
    }

    #[test]
    fn the_mention_being_typed() {
        assert_eq!(mention_at("// AI: use @docs/ap", 19), Some((12, "docs/ap")));
        assert_eq!(mention_at("// see @", 8), Some((8, "")));
        assert_eq!(mention_at("// see @Point::no", 17), Some((8, "Point::no")));
        assert_eq!(mention_at("// mail a@b", 11), None);
        assert_eq!(mention_at("// plain words", 14), None);
    }

    #[test]
    fn mention_completions() {
        let mut workspace = WorkspaceIndex::new();
        let index = crate::index::extract(Lang::Rust, LIB, &crate::lang::parse(Lang::Rust, LIB, None));
        workspace.insert(FileEntry::new("src/point.rs".into(), 1, index));
        let snapshot = workspace.snapshot();
        let docs = DocIndex::new(vec![Document { path: "docs/guide.md".into(), kind: DocKind::Markdown, sections: sections::split(DocKind::Markdown, GUIDE).unwrap() }]);
        let labels = |typed: &str| complete_mentions(typed, &snapshot, &docs, 20).into_iter().map(|i| i.label).collect::<Vec<_>>();
        assert_eq!(labels("docs/guide.md#err"), ["docs/guide.md#errors"]);
        assert_eq!(labels("gui"), ["docs/guide.md"]);
        assert_eq!(labels("src/po"), ["src/point.rs"]);
        assert_eq!(labels("src/point.rs#Po"), ["src/point.rs#Point"]);
        assert!(labels("norm").contains(&"Point::norm".to_string()), "{:?}", labels("norm"));
        assert!(labels("Poi").contains(&"Point".to_string()));
    }

    /// A mention of a file that is never sent is unresolved with the reason, and nothing
    /// of it is rendered into the prompt.
    #[test]
    fn a_mentioned_secret_is_refused_with_its_reason() {
        sources_and_check("AI: use @config/secrets.yaml and @config/app.toml", "", Budgets { mentions: 1000, documents: 0 }, |k| {
            assert_eq!(k.mentions.iter().map(|m| m.path.as_str()).collect::<Vec<_>>(), ["config/app.toml"]);
            assert_eq!(k.unresolved.len(), 1);
            assert_eq!(k.unresolved[0].mention.raw, "config/secrets.yaml");
            assert_eq!(k.unresolved[0].reason, "`config/secrets.yaml` is not sent to a model: a secret by its name");
            assert!(!render(&k).contains("secrets.yaml"));
        });
    }

    #[test]
    fn the_section_leads_the_user_message() {
        let prompt = Prompt::Chat(vec![Message::system("S"), Message::user("Q")]);
        let Prompt::Chat(messages) = apply(prompt, "K\n\n") else { panic!() };
        assert_eq!(messages[1].content, "K\n\nQ");
    }
}
