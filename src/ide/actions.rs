//! Code actions with the chat model: what to ask for each (explain, document, write
//! tests, fix with the editor's diagnostics, refactor with an instruction, answer a
//! question comment), and how an answer becomes an edit. The target is whole lines: a selection
//! widened to its lines, or the innermost definition at the cursor.

use crate::base::TextRange;
use crate::index::{FileIndex, SymbolKind};
use crate::lang::{DocStyle, Lang};
use crate::llm::{Message, Prompt};

use super::prompt::Excerpt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Explain,
    Document,
    Tests,
    Fix { diagnostics: Vec<String> },
    Refactor { instruction: String },
    /// Answer a question asked in a comment (`... AI?`).
    Answer { question: String },
}

impl Action {
    pub fn title(&self) -> &'static str {
        match self {
            Action::Explain => "Explain",
            Action::Document => "Add documentation comment",
            Action::Tests => "Write tests",
            Action::Fix { .. } => "Fix this",
            Action::Refactor { .. } => "Refactor with an instruction",
            Action::Answer { .. } => "Answer",
        }
    }

    /// Whether the answer is shown (explanations) rather than applied as an edit.
    pub fn is_explanation(&self) -> bool {
        matches!(self, Action::Explain | Action::Answer { .. })
    }
}

/// The code an action is about.
#[derive(Clone, Debug)]
pub struct Target<'a> {
    pub path: &'a str,
    pub lang: Lang,
    /// The whole file.
    pub text: &'a str,
    /// Whole lines of `text`.
    pub range: TextRange,
    /// Zero-based line of `range.start`.
    pub line: u32,
}

impl Target<'_> {
    pub fn code(&self) -> &str {
        &self.text[self.range.start as usize..self.range.end as usize]
    }
}

/// `selection` widened to whole lines; an empty selection means the innermost
/// definition (function, method, type) containing it, else its line.
pub fn target_range(file: &FileIndex, text: &str, selection: TextRange) -> TextRange {
    let range = if selection.is_empty() {
        file.symbols
            .iter()
            .filter(|s| s.kind != SymbolKind::Impl && s.kind != SymbolKind::Module && s.range.contains_inclusive(selection.start))
            .min_by_key(|s| s.range.len())
            .map_or(selection, |s| s.range)
    } else {
        selection
    };
    whole_lines(text, range)
}

/// `range` from the start of its first line to the end of its last (newline included).
pub fn whole_lines(text: &str, range: TextRange) -> TextRange {
    let start = text[..range.start as usize].rfind('\n').map_or(0, |i| i + 1);
    let end_from = (range.end as usize).max(start);
    // A range ending just after a newline ends on the line before.
    let end_from = if end_from > start && text.as_bytes().get(end_from - 1) == Some(&b'\n') { end_from - 1 } else { end_from };
    let end = text[end_from..].find('\n').map_or(text.len(), |i| end_from + i + 1);
    TextRange::new(start as u32, end as u32)
}

const SYSTEM: &str = "You are a senior engineer editing code in the user's workspace. Follow the language's conventions and the \
surrounding code's style. When asked for code, answer with exactly one fenced code block and nothing else.";

/// The chat request for `action` on `target`, with related workspace code.
pub fn prompt(action: &Action, target: &Target, excerpts: &[Excerpt]) -> Prompt {
    let fence = super::prompt::fence(target.lang);
    let mut user = String::new();
    if !excerpts.is_empty() {
        user.push_str("Related code from the workspace:\n\n");
        user.push_str(&super::prompt::fenced_excerpts(excerpts, fence));
    }
    let end_line = target.line + target.code().lines().count().max(1) as u32;
    user.push_str(&format!("File {}, lines {}-{}:\n```{fence}\n{}\n```\n\n", target.path, target.line + 1, end_line, target.code().trim_end()));
    let ask = match action {
        Action::Explain => "Explain what this code does, how it works and anything surprising in it, in a few short paragraphs of markdown.".to_string(),
        Action::Document => format!(
            "Write the documentation comment for this code ({}), as it would appear right above it: comment markers included, no code.",
            target.lang.spec().doc.described()
        ),
        Action::Tests => format!(
            "Write unit tests for this code{}. Answer with the test code only.",
            target.lang.spec().tests_placement
        ),
        Action::Fix { diagnostics } if diagnostics.is_empty() => {
            "Fix the bugs in this code. Answer with the corrected code for exactly these lines.".to_string()
        }
        Action::Fix { diagnostics } => format!(
            "Fix this code. The editor reports:\n{}\nAnswer with the corrected code for exactly these lines.",
            diagnostics.iter().map(|d| format!("- {d}")).collect::<Vec<_>>().join("\n")
        ),
        Action::Refactor { instruction } => format!("Rewrite this code: {instruction}\nAnswer with the new code for exactly these lines."),
        Action::Answer { question } => format!("A comment in this code asks: {question}\nAnswer it briefly, in markdown, from the code shown."),
    };
    user.push_str(&ask);
    Prompt::Chat(vec![Message::system(SYSTEM), Message::user(user)])
}

/// The first fenced code block of an answer (the whole answer if it has none), without
/// its fences.
pub fn code_block(answer: &str) -> &str {
    let Some(open) = answer.find("```") else { return answer.trim_matches('\n') };
    let after = &answer[open + 3..];
    let body_start = after.find('\n').map_or(after.len(), |i| i + 1);
    let body = &after[body_start..];
    let body = match body.find("```") {
        Some(close) => &body[..close],
        None => body,
    };
    body.trim_end_matches([' ', '\t']).trim_end_matches('\n')
}

/// A replacement of `range` by `new_text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub range: TextRange,
    pub new_text: String,
}

/// The edit an answer makes (none for explanations and empty answers).
pub fn edit(action: &Action, target: &Target, answer: &str) -> Option<Edit> {
    let code = code_block(answer);
    if code.trim().is_empty() || action.is_explanation() {
        return None;
    }
    let indent: String = target.code().chars().take_while(|c| *c == ' ' || *c == '\t').collect();
    match action {
        Action::Explain | Action::Answer { .. } => None,
        Action::Document => {
            let mut lines: Vec<String> = Vec::new();
            let commented = code.lines().all(|l| {
                let t = l.trim_start();
                t.is_empty() || t.starts_with("//") || t.starts_with("/*") || t.starts_with('*')
            });
            if commented {
                lines.extend(code.lines().map(|l| format!("{indent}{}", l.trim_start())));
                // JSDoc continuation lines line up under the opening `/**`.
                if target.lang.spec().doc == DocStyle::Block {
                    for line in lines.iter_mut().skip(1) {
                        if line.trim_start().starts_with('*') {
                            *line = format!("{indent} {}", line.trim_start());
                        }
                    }
                }
            } else {
                match target.lang.spec().doc {
                    DocStyle::Lines { marker } => {
                        lines.extend(code.lines().map(|l| format!("{indent}{marker} {l}").trim_end().to_string()));
                    }
                    DocStyle::Block => {
                        lines.push(format!("{indent}/**"));
                        lines.extend(code.lines().map(|l| format!("{indent} * {l}").trim_end().to_string()));
                        lines.push(format!("{indent} */"));
                    }
                }
            }
            let at = target.range.start;
            Some(Edit { range: TextRange::new(at, at), new_text: format!("{}\n", lines.join("\n")) })
        }
        Action::Tests => {
            let end = target.text.len() as u32;
            let separator = if target.text.ends_with('\n') { "\n" } else { "\n\n" };
            Some(Edit { range: TextRange::new(end, end), new_text: format!("{separator}{code}\n") })
        }
        Action::Fix { .. } | Action::Refactor { .. } => Some(Edit { range: target.range, new_text: format!("{}\n", reindent(code, &indent)) }),
    }
}

/// `code` moved so that its least indented line has `indent`.
fn reindent(code: &str, indent: &str) -> String {
    let least = code.lines().filter(|l| !l.trim().is_empty()).map(|l| l.len() - l.trim_start().len()).min().unwrap_or(0);
    code.lines()
        .map(|l| if l.trim().is_empty() { String::new() } else { format!("{indent}{}", &l[least.min(l.len() - l.trim_start().len())..]) })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::extract;
    use crate::lang::parse;

    const CODE: &str = "use std::fmt;\n\nimpl Shape {\n    pub fn area(&self) -> f64 {\n        self.w * self.h\n    }\n}\n";

    fn target_at(text: &str, needle: &str) -> Target<'static> {
        let text: &'static str = Box::leak(text.to_string().into_boxed_str());
        let file = extract(Lang::Rust, text, &parse(Lang::Rust, text, None));
        let at = text.find(needle).unwrap() as u32;
        let range = target_range(&file, text, TextRange::new(at, at));
        let line = text[..range.start as usize].matches('\n').count() as u32;
        Target { path: "src/shape.rs", lang: Lang::Rust, text, range, line }
    }

    #[test]
    fn an_empty_selection_targets_the_innermost_definition() {
        let target = target_at(CODE, "self.w");
        assert_eq!(target.code(), "    pub fn area(&self) -> f64 {\n        self.w * self.h\n    }\n");
        assert_eq!(target.line, 3);
        assert_eq!(whole_lines("ab\ncd\nef", TextRange::new(4, 5)), TextRange::new(3, 6));
        assert_eq!(whole_lines("ab\ncd\n", TextRange::new(0, 3)), TextRange::new(0, 3), "a selection ending after a newline");
    }

    #[test]
    fn answers_become_edits() {
        let target = target_at(CODE, "self.w");
        let doc = edit(&Action::Document, &target, "```rust\n/// The area.\n```").unwrap();
        assert_eq!((doc.range.start, doc.new_text.as_str()), (target.range.start, "    /// The area.\n"));
        let bare = edit(&Action::Document, &target, "The area, width times height.").unwrap();
        assert_eq!(bare.new_text, "    /// The area, width times height.\n", "markers added when the model left them out");
        let fix = edit(&Action::Fix { diagnostics: vec![] }, &target, "Here:\n```rust\npub fn area(&self) -> f64 {\n    self.w * self.h * 1.0\n}\n```\nDone.").unwrap();
        assert_eq!(fix.range, target.range);
        assert_eq!(fix.new_text, "    pub fn area(&self) -> f64 {\n        self.w * self.h * 1.0\n    }\n", "re-indented to the target");
        let tests = edit(&Action::Tests, &target, "```rust\n#[cfg(test)]\nmod tests {}\n```").unwrap();
        assert_eq!((tests.range.start as usize, tests.new_text.as_str()), (CODE.len(), "\n#[cfg(test)]\nmod tests {}\n"));
        assert_eq!(edit(&Action::Explain, &target, "It multiplies."), None);
        assert_eq!(edit(&Action::Refactor { instruction: "x".into() }, &target, "```\n```"), None, "an empty answer changes nothing");
    }

    #[test]
    fn prompts_carry_the_target_the_diagnostics_and_the_instruction() {
        let target = target_at(CODE, "self.w");
        let excerpts = [Excerpt { path: "src/lib.rs", start_line: 1, end_line: 1, text: "pub struct Shape { w: f64, h: f64 }" }];
        let Prompt::Chat(messages) = prompt(&Action::Fix { diagnostics: vec!["E0308: mismatched types".into()] }, &target, &excerpts) else {
            panic!("a chat prompt")
        };
        let user = &messages[1].content;
        assert!(user.contains("src/lib.rs (lines 1-1):\n```rust\npub struct Shape"), "{user}");
        assert!(user.contains("File src/shape.rs, lines 4-6:\n```rust\n    pub fn area"), "{user}");
        assert!(user.contains("- E0308: mismatched types"), "{user}");
        let Prompt::Chat(messages) = prompt(&Action::Refactor { instruction: "use a match".into() }, &target, &[]) else { panic!() };
        assert!(messages[1].content.ends_with("Rewrite this code: use a match\nAnswer with the new code for exactly these lines."));
    }

    #[test]
    fn code_blocks_are_taken_from_answers() {
        assert_eq!(code_block("```ts\nconst a = 1;\n```"), "const a = 1;");
        assert_eq!(code_block("plain"), "plain");
        assert_eq!(code_block("```\nunterminated\n"), "unterminated");
    }
}
