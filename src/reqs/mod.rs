//! Requirement comments: intent written where it belongs (`// AI: validate the token and
//! return 401 on failure`). A requirement is a line or block comment (a tree-sitter
//! comment node, so never text inside a string) whose text starts with a prefix marker
//! (`AI:`, `@ai`) or ends with a suffix marker (`AI!` do it, `AI?` answer it); as in
//! Aider's convention, a suffix marker may also come first when words follow it
//! (`// AI! log the call`, `// AI? why is this slow`). Consecutive comment lines form one
//! requirement (from a leading marker's line to the end of the run; the whole run for a
//! trailing one). Markers are matched without regard to case and must stand apart from
//! the words around them. Pure.

use tree_sitter::{Node, Tree};

use crate::base::TextRange;
use crate::index::{FileIndex, SymbolKind};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Do what it says (`AI:`, `@ai`, `AI!`).
    Act,
    /// Answer it (`AI?`).
    Ask,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    pub kind: Kind,
    /// The comment's words, markers and comment syntax removed, lines joined by spaces.
    pub text: String,
    /// The comment node(s).
    pub range: TextRange,
    /// Zero-based, inclusive.
    pub start_line: u32,
    pub end_line: u32,
}

/// Which comments are requirements (`[requirements]` in the configuration).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Markers {
    /// A comment starting with one of these asks for code.
    pub act_prefixes: Vec<String>,
    /// A comment ending with one of these (or starting with one, words following) asks
    /// for code.
    pub act_suffixes: Vec<String>,
    /// A comment ending with one of these (or starting with one, words following) asks a
    /// question.
    pub ask_suffixes: Vec<String>,
}

impl Default for Markers {
    fn default() -> Markers {
        Markers { act_prefixes: vec!["AI:".into(), "@ai".into()], act_suffixes: vec!["AI!".into()], ask_suffixes: vec!["AI?".into()] }
    }
}

impl From<&crate::config::RequirementsConfig> for Markers {
    fn from(config: &crate::config::RequirementsConfig) -> Markers {
        let clean = |markers: &[String]| markers.iter().map(|m| m.trim().to_string()).filter(|m| !m.is_empty()).collect();
        Markers { act_prefixes: clean(&config.act_prefixes), act_suffixes: clean(&config.act_suffixes), ask_suffixes: clean(&config.ask_suffixes) }
    }
}

impl Markers {
    /// Whether `text` may hold a requirement at all (a cheap test before parsing).
    pub fn may_occur_in(&self, text: &str) -> bool {
        let lower = text.to_lowercase();
        self.act_prefixes.iter().chain(&self.act_suffixes).chain(&self.ask_suffixes).any(|m| lower.contains(&m.to_lowercase()))
    }
}

/// One comment line (or a whole block comment) with its text stripped of comment syntax.
struct CommentLine {
    range: TextRange,
    start_line: u32,
    end_line: u32,
    text: String,
    /// Block comments stand alone; line comments join their neighbours.
    block: bool,
}

/// The requirements in a file, in order.
pub fn find(text: &str, tree: &Tree, markers: &Markers) -> Vec<Requirement> {
    let mut comments = Vec::new();
    collect_comments(tree.root_node(), text, &mut comments);
    // Runs of line comments on consecutive lines.
    let mut runs: Vec<Vec<CommentLine>> = Vec::new();
    for comment in comments {
        let joins = runs.last().and_then(|run| run.last()).is_some_and(|last| !last.block && !comment.block && comment.start_line == last.end_line + 1);
        if joins {
            runs.last_mut().expect("checked").push(comment);
        } else {
            runs.push(vec![comment]);
        }
    }
    let mut out = Vec::new();
    for run in runs {
        requirements_in_run(&run, markers, &mut out);
    }
    out
}

fn requirements_in_run(run: &[CommentLine], markers: &Markers, out: &mut Vec<Requirement>) {
    let mut i = 0;
    while i < run.len() {
        // A leading marker starts a requirement that runs to the next marker line or the
        // end of the run.
        if let Some((kind, rest)) = leading_marker(&run[i].text, markers) {
            let mut end = i + 1;
            while end < run.len() && leading_marker(&run[end].text, markers).is_none() && suffix_marker(&run[end].text, markers).is_none() {
                end += 1;
            }
            // The same marker at both ends of one line (`AI? why is this slow AI?`) counts once.
            let rest = suffix_marker(rest, markers).map_or(rest, |(_, before)| before);
            let mut words = vec![rest.to_string()];
            words.extend(run[i + 1..end].iter().map(|l| l.text.clone()));
            // A suffix marker on the requirement's own last line is part of it.
            if end < run.len() && leading_marker(&run[end].text, markers).is_none() {
                if let Some((_, rest)) = suffix_marker(&run[end].text, markers) {
                    words.push(rest.to_string());
                    end += 1;
                }
            }
            out.push(requirement(kind, &run[i..end], &words));
            i = end;
            continue;
        }
        // A suffix marker ends a requirement that starts with the run (or after the
        // previous requirement).
        if let Some(found) = (i..run.len()).find(|&j| suffix_marker(&run[j].text, markers).is_some() || leading_marker(&run[j].text, markers).is_some()) {
            if let Some((kind, rest)) = suffix_marker(&run[found].text, markers) {
                let mut words: Vec<String> = run[i..found].iter().map(|l| l.text.clone()).collect();
                words.push(rest.to_string());
                out.push(requirement(kind, &run[i..=found], &words));
                i = found + 1;
                continue;
            }
            i = found; // a leading marker starts the next requirement
            continue;
        }
        break;
    }
}

fn requirement(kind: Kind, lines: &[CommentLine], words: &[String]) -> Requirement {
    let text = words.iter().map(|w| w.trim()).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ");
    let first = &lines[0];
    let last = &lines[lines.len() - 1];
    Requirement { kind, text, range: TextRange::new(first.range.start, last.range.end), start_line: first.start_line, end_line: last.end_line }
}

/// The kind and the text after a marker at the start of `line`, if there is one: a prefix
/// marker, or a suffix marker put first (Aider's `AI! log the call`) when words follow it
/// (a suffix marker alone on its line takes the lines above it instead).
fn leading_marker<'a>(line: &'a str, markers: &Markers) -> Option<(Kind, &'a str)> {
    let prefixes = markers.act_prefixes.iter().map(|m| (Kind::Act, m, false));
    let suffixes = markers.act_suffixes.iter().map(|m| (Kind::Act, m, true)).chain(markers.ask_suffixes.iter().map(|m| (Kind::Ask, m, true)));
    for (kind, marker, needs_words) in prefixes.chain(suffixes) {
        let (Some(head), Some(rest)) = (line.get(..marker.len()), line.get(marker.len()..)) else { continue };
        let stands_apart = marker.ends_with(|c: char| !c.is_alphanumeric()) || rest.is_empty() || rest.starts_with(|c: char| !c.is_alphanumeric());
        if head.eq_ignore_ascii_case(marker) && stands_apart && !(needs_words && rest.trim().is_empty()) {
            return Some((kind, rest));
        }
    }
    None
}

/// The kind and the text before a suffix marker at the end of `line`, if there is one.
fn suffix_marker<'a>(line: &'a str, markers: &Markers) -> Option<(Kind, &'a str)> {
    let kinds = markers.act_suffixes.iter().map(|m| (Kind::Act, m)).chain(markers.ask_suffixes.iter().map(|m| (Kind::Ask, m)));
    for (kind, marker) in kinds {
        let Some(cut) = line.len().checked_sub(marker.len()) else { continue };
        let (Some(rest), Some(tail)) = (line.get(..cut), line.get(cut..)) else { continue };
        let stands_apart = rest.is_empty() || rest.ends_with(|c: char| !c.is_alphanumeric());
        if tail.eq_ignore_ascii_case(marker) && stands_apart {
            return Some((kind, rest));
        }
    }
    None
}

fn collect_comments(node: Node, text: &str, out: &mut Vec<CommentLine>) {
    if node.kind().contains("comment") {
        let range = TextRange::new(node.start_byte() as u32, node.end_byte() as u32);
        let raw = &text[node.start_byte()..node.end_byte()];
        // A line comment's node may include its newline.
        let end_byte = node.end_byte().saturating_sub(usize::from(raw.ends_with('\n'))).max(node.start_byte());
        let end_line = node.start_position().row as u32 + text[node.start_byte()..end_byte].matches('\n').count() as u32;
        let block = raw.starts_with("/*");
        let stripped = strip_comment_syntax(raw);
        out.push(CommentLine { range, start_line: node.start_position().row as u32, end_line, text: stripped, block });
        return;
    }
    // Error recovery can put a comment node inside an unterminated string literal
    // (`"` then a line comment in TypeScript): text of a string is never a requirement.
    if matches!(node.kind(), "string" | "string_literal" | "raw_string_literal") {
        return;
    }
    let mut cursor = node.walk();
    for child in node.children(&mut cursor) {
        collect_comments(child, text, out);
    }
}

/// A comment's words: `//`, `///`, `//!`, `/*`, `/**`, `*/` and leading `*` removed, lines
/// joined by spaces.
fn strip_comment_syntax(raw: &str) -> String {
    let body = raw.trim();
    let body = body.strip_prefix("/*").map(|b| b.strip_suffix("*/").unwrap_or(b)).unwrap_or(body);
    body.lines()
        .map(|line| {
            let line = line.trim();
            let line = line.trim_start_matches('/').trim_start_matches('!');
            let line = line.trim_start_matches('*');
            line.trim()
        })
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The innermost definition (function, method, type...) around a requirement, or the one
/// right below it when the comment sits above a definition.
pub fn enclosing_symbol(file: &FileIndex, requirement: &Requirement) -> Option<usize> {
    let wanted = |kind: SymbolKind| kind != SymbolKind::Impl && kind != SymbolKind::Module;
    let inside = file
        .symbols
        .iter()
        .enumerate()
        .filter(|(_, s)| wanted(s.kind) && s.range.contains_range(requirement.range))
        .min_by_key(|(_, s)| s.range.len())
        .map(|(i, _)| i);
    inside.or_else(|| {
        let next_line = requirement.end_line + 1;
        file.symbols.iter().position(|s| wanted(s.kind) && file.line_index.line_col(s.range.start).line == next_line)
    })
}

/// What a model should see of a requirement: its enclosing (or following) definition
/// together with the comment, else the comment alone.
pub fn scope(file: &FileIndex, requirement: &Requirement) -> TextRange {
    match enclosing_symbol(file, requirement) {
        Some(i) => {
            let symbol = file.symbols[i].range;
            TextRange::new(symbol.start.min(requirement.range.start), symbol.end.max(requirement.range.end))
        }
        None => requirement.range,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_the_parser_puts_inside_a_broken_string_is_no_requirement() {
        // Found by tests/fuzz.rs: an unterminated string swallows the next line's comment.
        let code = "\"\n// AI: do it\n\"\n";
        let tree = crate::lang::parse(crate::lang::Lang::TypeScript, code, None);
        assert!(find(code, &tree, &Markers::default()).is_empty());
        let code = "// AI: do it\nconst s = \"x\";\n";
        let tree = crate::lang::parse(crate::lang::Lang::TypeScript, code, None);
        assert_eq!(find(code, &tree, &Markers::default()).len(), 1);
    }
    use crate::lang::{parse, Lang};

    fn check(lang: Lang, text: &str, expected: &[(Kind, &str, u32, u32)]) {
        let tree = parse(lang, text, None);
        let got: Vec<(Kind, String, u32, u32)> =
            find(text, &tree, &Markers::default()).into_iter().map(|r| (r.kind, r.text, r.start_line, r.end_line)).collect();
        let expected: Vec<(Kind, String, u32, u32)> = expected.iter().map(|(k, t, s, e)| (*k, t.to_string(), *s, *e)).collect();
        assert_eq!(got, expected, "{text}");
    }

    #[test]
    fn rust_line_and_block_comments() {
        check(
            Lang::Rust,
            "fn login(token: &str) -> u16 {\n    // AI: validate the token\n    // and return 401 on failure\n    200\n}\n\
             /* @ai add a logout */\nfn other() {} // make this async AI!\n// Why is this slow AI?\n",
            &[
                (Kind::Act, "validate the token and return 401 on failure", 1, 2),
                (Kind::Act, "add a logout", 5, 5),
                (Kind::Act, "make this async", 6, 6),
                (Kind::Ask, "Why is this slow", 7, 7),
            ],
        );
    }

    #[test]
    fn markers_in_strings_and_in_words_are_not_requirements() {
        check(
            Lang::Rust,
            "fn f() -> &'static str {\n    let s = \"// AI: not a comment\";\n    // MAIL: a mail\n    // rapai! no\n    // OPENAI: the vendor\n    s\n}\n",
            &[],
        );
    }

    #[test]
    fn a_suffix_marker_takes_the_comment_lines_above_it() {
        check(
            Lang::Rust,
            "/// Parses a header.\nfn parse() {}\n\n// Cache the parsed headers\n// keyed by name, AI!\nfn g() {}\n",
            &[(Kind::Act, "Cache the parsed headers keyed by name,", 3, 4)],
        );
    }

    #[test]
    fn typescript_tsx_and_javascript() {
        check(Lang::TypeScript, "export function f(x: number) {\n  // ai: clamp x to [0, 1]\n  return x;\n}\n", &[(Kind::Act, "clamp x to [0, 1]", 1, 1)]);
        check(
            Lang::Tsx,
            "export const App = () => {\n  /**\n   * @ai render a list of users\n   * with their avatars\n   */\n  return <div>{\"// AI: text\"}</div>;\n};\n",
            &[(Kind::Act, "render a list of users with their avatars", 1, 4)],
        );
        check(Lang::JavaScript, "const s = `AI: template`;\n// what does s hold AI?\n", &[(Kind::Ask, "what does s hold", 1, 1)]);
    }

    #[test]
    fn aider_style_markers_first() {
        check(
            Lang::Rust,
            "fn f() {\n    // AI! log the call\n    g();\n    // AI? why is this slow\n    // on big inputs\n}\n// ai!add a test\n",
            &[(Kind::Act, "log the call", 1, 1), (Kind::Ask, "why is this slow on big inputs", 3, 4), (Kind::Act, "add a test", 6, 6)],
        );
        check(
            Lang::TypeScript,
            "/* AI? what does this return */\nfunction f() {}\n// AI? is this needed AI?\n",
            &[(Kind::Ask, "what does this return", 0, 0), (Kind::Ask, "is this needed", 2, 2)],
        );
    }

    #[test]
    fn a_marker_first_stands_apart_and_needs_words() {
        check(
            Lang::Rust,
            // In a word, or before one: no requirement. Alone on its line, a suffix marker
            // ends the requirement the lines above it state.
            "// AIR! no\n// SAI? no\nfn f() {}\n// cache the headers\n// AI!\nfn g() {}\n",
            &[(Kind::Act, "cache the headers", 3, 4)],
        );
    }

    #[test]
    fn two_requirements_in_one_run_of_comments() {
        check(
            Lang::Rust,
            "// AI: first thing\n// AI: second thing\n// with details\nfn f() {}\n",
            &[(Kind::Act, "first thing", 0, 0), (Kind::Act, "second thing with details", 1, 2)],
        );
    }

    #[test]
    fn the_enclosing_definition_or_the_one_below() {
        let text = "// AI: write it\nfn below() {}\nfn around() {\n    // AI: and this\n}\n";
        let tree = parse(Lang::Rust, text, None);
        let file = crate::index::extract(Lang::Rust, text, &tree);
        let found = find(text, &tree, &Markers::default());
        let names: Vec<Option<&str>> = found.iter().map(|r| enclosing_symbol(&file, r).map(|i| file.symbols[i].name.as_str())).collect();
        assert_eq!(names, [Some("below"), Some("around")]);
        assert!(Markers::default().may_occur_in("x // ai: y") && !Markers::default().may_occur_in("plain"));
    }
}
