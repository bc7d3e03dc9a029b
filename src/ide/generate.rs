//! "Generate from comment": the prompt that asks the chat model to implement a
//! requirement written as a comment, answered in SEARCH/REPLACE blocks
//! (`ide::search_replace`). The prompt holds related workspace code, the current file (the
//! whole of it when short, else the requirement's surroundings), the requirement, and
//! the rules of the answer format: exact SEARCH text, the requirement comment removed.

use crate::base::TextRange;
use crate::lang::Lang;
use crate::llm::{Message, Prompt};

use super::prompt::Excerpt;

/// Files up to this many lines are sent whole.
const WHOLE_FILE_LINES: usize = 400;
/// Otherwise, this many lines around the requirement's scope.
const AROUND_LINES: usize = 40;

pub const SYSTEM: &str = "You are a senior engineer implementing a requirement that the user wrote as a comment in their code. \
Answer with SEARCH/REPLACE blocks and nothing else. Each block is: the file's path on its own line, then a line \
`<<<<<<< SEARCH`, the exact existing lines to change (copied character for character, including indentation, and enough \
of them to be unique in the file), a line `=======`, the new lines, and a line `>>>>>>> REPLACE`. Use one block per place; \
several files may be changed; a block with an empty SEARCH part creates a new file with the REPLACE part as its content. \
Remove the requirement comment you implemented. Change nothing the requirement does not ask for. Follow the style of the \
surrounding code.";

pub struct GenerateInput<'a> {
    pub requirement: &'a str,
    /// The current file, relative to the workspace root.
    pub path: &'a str,
    pub lang: Lang,
    pub text: &'a str,
    /// The requirement comment and the definition it sits in or above.
    pub scope: TextRange,
    /// Related code from the workspace, best first.
    pub excerpts: &'a [Excerpt<'a>],
    /// Other requirements or changes worth knowing (the working tree's diff), if any.
    pub diff: Option<&'a str>,
}

fn fence(lang: Lang) -> &'static str {
    match lang {
        Lang::Rust => "rust",
        Lang::TypeScript => "typescript",
        Lang::Tsx => "tsx",
        Lang::JavaScript => "javascript",
    }
}

pub fn prompt(input: &GenerateInput) -> Prompt {
    let fence = fence(input.lang);
    let mut user = String::new();
    if !input.excerpts.is_empty() {
        user.push_str("Related code from the workspace (for reference; change it only if the requirement needs it):\n\n");
        for excerpt in input.excerpts {
            user.push_str(&format!("{} (lines {}-{}):\n```{fence}\n{}\n```\n\n", excerpt.path, excerpt.start_line, excerpt.end_line, excerpt.text));
        }
    }
    if let Some(diff) = input.diff.filter(|d| !d.trim().is_empty()) {
        user.push_str(&format!("The working tree's changes so far:\n```diff\n{}\n```\n\n", diff.trim_end()));
    }
    let lines: Vec<&str> = input.text.lines().collect();
    if lines.len() <= WHOLE_FILE_LINES {
        user.push_str(&format!("{}:\n```{fence}\n{}\n```\n\n", input.path, input.text.trim_end_matches('\n')));
    } else {
        let first = input.text[..input.scope.start as usize].matches('\n').count();
        let last = first + input.text[input.scope.start as usize..input.scope.end as usize].matches('\n').count();
        let from = first.saturating_sub(AROUND_LINES);
        let to = (last + AROUND_LINES).min(lines.len() - 1);
        user.push_str(&format!("{} (lines {}-{} of {}):\n```{fence}\n{}\n```\n\n", input.path, from + 1, to + 1, lines.len(), lines[from..=to].join("\n")));
    }
    user.push_str(&format!("The requirement, in a comment in {}: {}\n\nImplement it.", input.path, input.requirement));
    Prompt::Chat(vec![Message::system(SYSTEM), Message::user(user)])
}

/// The files of a plan whose new text has more syntax errors than their old text (new
/// files: more than none), by path.
pub fn syntax_regressions(plan: &super::search_replace::Plan) -> Vec<String> {
    plan.files
        .iter()
        .filter(|change| {
            let Some(lang) = Lang::from_path(std::path::Path::new(&change.path)) else { return false };
            let errors = |text: &str| crate::index::extract(lang, text, &crate::lang::parse(lang, text, None)).error_count;
            errors(&change.new_text) > change.old_text.as_deref().map_or(0, errors)
        })
        .map(|change| change.path.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_files_go_whole_and_long_ones_around_the_requirement() {
        let text = "fn a() {}\n// AI: add b\n";
        let excerpts = [Excerpt { path: "src/x.rs", start_line: 3, end_line: 3, text: "pub struct X;" }];
        let input = GenerateInput { requirement: "add b", path: "src/lib.rs", lang: Lang::Rust, text, scope: TextRange::new(10, 22), excerpts: &excerpts, diff: None };
        let Prompt::Chat(messages) = prompt(&input) else { panic!("a chat prompt") };
        assert!(messages[0].content.contains("<<<<<<< SEARCH"));
        assert_eq!(
            messages[1].content,
            "Related code from the workspace (for reference; change it only if the requirement needs it):\n\n\
             src/x.rs (lines 3-3):\n```rust\npub struct X;\n```\n\n\
             src/lib.rs:\n```rust\nfn a() {}\n// AI: add b\n```\n\n\
             The requirement, in a comment in src/lib.rs: add b\n\nImplement it."
        );
        let long: String = (0..1000).map(|i| format!("line {i}\n")).collect();
        let at = long.find("line 500\n").unwrap() as u32;
        let input = GenerateInput { requirement: "r", path: "big.rs", lang: Lang::Rust, text: &long, scope: TextRange::new(at, at + 9), excerpts: &[], diff: Some("+x") };
        let Prompt::Chat(messages) = prompt(&input) else { panic!() };
        assert!(messages[1].content.starts_with("The working tree's changes so far:\n```diff\n+x\n```\n\nbig.rs (lines 461-542 of 1000):\n```rust\nline 460\n"), "{}", &messages[1].content[..200]);
    }
}
