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

pub fn prompt(input: &GenerateInput) -> Prompt {
    let fence = super::prompt::fence(input.lang);
    let mut user = String::new();
    if !input.excerpts.is_empty() {
        user.push_str("Related code from the workspace (for reference; change it only if the requirement needs it):\n\n");
        user.push_str(&super::prompt::fenced_excerpts(input.excerpts, fence));
    }
    if let Some(diff) = input.diff.filter(|d| !d.trim().is_empty()) {
        user.push_str(&format!("The working tree's changes so far:\n```diff\n{}\n```\n\n", diff.trim_end()));
    }
    user.push_str(&render_file(input.path, input.lang, input.text, &[input.scope]));
    user.push_str(&format!("The requirement, in a comment in {}: {}\n\nImplement it.", input.path, input.requirement));
    Prompt::Chat(vec![Message::system(SYSTEM), Message::user(user)])
}

/// The part of a unified diff (`diff --git a/... b/...` sections) about `path` (a path
/// ending with it: diffs name files from the repository's root).
pub fn diff_of_file<'a>(diff: &'a str, path: &str) -> Option<&'a str> {
    let mut starts: Vec<usize> = diff.match_indices("diff --git ").map(|(i, _)| i).filter(|&i| i == 0 || diff.as_bytes()[i - 1] == b'\n').collect();
    starts.push(diff.len());
    starts.windows(2).map(|w| &diff[w[0]..w[1]]).find(|section| {
        let header = section.lines().next().unwrap_or("");
        header.ends_with(&format!("/{path}")) || header.ends_with(&format!(" b/{path}"))
    })
}

/// A file for the prompt: whole when short, else the lines around each scope.
fn render_file(path: &str, lang: Lang, text: &str, scopes: &[TextRange]) -> String {
    let fence = super::prompt::fence(lang);
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= WHOLE_FILE_LINES {
        return format!("{path}:\n```{fence}\n{}\n```\n\n", text.trim_end_matches('\n'));
    }
    let mut out = String::new();
    for scope in scopes {
        let first = text[..scope.start as usize].matches('\n').count();
        let last = first + text[scope.start as usize..scope.end as usize].matches('\n').count();
        let from = first.saturating_sub(AROUND_LINES);
        let to = (last + AROUND_LINES).min(lines.len() - 1);
        out.push_str(&format!("{path} (lines {}-{} of {}):\n```{fence}\n{}\n```\n\n", from + 1, to + 1, lines.len(), lines[from..=to].join("\n")));
    }
    out
}

/// One requirement of "implement the diff", in its file.
pub struct RequirementSite<'a> {
    pub path: &'a str,
    pub lang: Lang,
    pub requirement: &'a str,
    /// The whole file.
    pub text: &'a str,
    pub scope: TextRange,
}

/// The prompt for implementing every requirement of the working tree's changes at once:
/// the diff, related code, each file with its requirements' surroundings, the list.
pub fn implement_prompt(sites: &[RequirementSite], excerpts: &[Excerpt], diff: Option<&str>) -> Prompt {
    let mut user = String::new();
    if !excerpts.is_empty() {
        user.push_str("Related code from the workspace (for reference; change it only if a requirement needs it):\n\n");
        user.push_str(&super::prompt::fenced_excerpts(excerpts, ""));
    }
    if let Some(diff) = diff.filter(|d| !d.trim().is_empty()) {
        user.push_str(&format!("The working tree's changes so far:\n```diff\n{}\n```\n\n", diff.trim_end()));
    }
    let mut shown: Vec<&str> = Vec::new();
    for site in sites {
        if shown.contains(&site.path) {
            continue;
        }
        shown.push(site.path);
        let scopes: Vec<TextRange> = sites.iter().filter(|s| s.path == site.path).map(|s| s.scope).collect();
        user.push_str(&render_file(site.path, site.lang, site.text, &scopes));
    }
    user.push_str("The requirements, in comments:\n");
    for (i, site) in sites.iter().enumerate() {
        let line = site.text[..site.scope.start as usize].matches('\n').count() + 1;
        user.push_str(&format!("{}. {} (near line {line}): {}\n", i + 1, site.path, site.requirement));
    }
    user.push_str("\nImplement them all.");
    Prompt::Chat(vec![Message::system(SYSTEM), Message::user(user)])
}

/// The prompt that summarizes the working tree's diff: what changed and why, usable as a
/// commit message or as the prompt to continue the work.
pub fn summary_prompt(diff: &str) -> Prompt {
    let system = "You describe code changes precisely and briefly for the engineer who made them.";
    let user = format!(
        "The working tree's changes:\n```diff\n{}\n```\n\nDescribe this change: first a one-line summary of at most 72 characters in the \
         imperative mood, then a blank line, then a few short bullet points on what changed and the intent behind it (including \
         work that the change or its `AI:` comments leave to do). No preamble.",
        diff.trim_end()
    );
    Prompt::Chat(vec![Message::system(system), Message::user(user)])
}

/// The files of a plan whose new text has more syntax errors than their old text (new
/// files: more than none), by path.
pub fn syntax_regressions(plan: &super::search_replace::Plan) -> Vec<String> {
    plan.files
        .iter()
        .filter(|change| {
            let Some(lang) = Lang::from_path(std::path::Path::new(&change.path)) else { return false };
            let errors = |text: &str| error_count(lang, text);
            errors(&change.new_text) > change.old_text.as_deref().map_or(0, errors)
        })
        .map(|change| change.path.clone())
        .collect()
}

/// The syntax errors (error and missing nodes) in `text` as the index counts them.
pub fn error_count(lang: Lang, text: &str) -> u32 {
    crate::lang::count_errors(crate::lang::parse(lang, text, None).root_node())
}

/// 1-based lines of the syntax errors (error and missing nodes) in a file's text, at most
/// eight.
pub fn error_lines(path: &str, text: &str) -> Vec<u32> {
    let Some(lang) = Lang::from_path(std::path::Path::new(path)) else { return Vec::new() };
    let tree = crate::lang::parse(lang, text, None);
    let mut lines = Vec::new();
    let mut stack = vec![tree.root_node()];
    while let Some(node) = stack.pop() {
        if node.is_error() || node.is_missing() {
            lines.push(node.start_position().row as u32 + 1);
            continue;
        }
        if node.has_error() {
            let mut cursor = node.walk();
            stack.extend(node.children(&mut cursor));
        }
    }
    lines.sort_unstable();
    lines.dedup();
    lines.truncate(8);
    lines
}

/// The request again, with the model's answer and the parser's complaints about it: one
/// chance to repair a change that would add syntax errors.
pub fn repair_prompt(original: &Prompt, answer: &str, problems: &[(String, Vec<u32>)]) -> Prompt {
    let mut messages = match original {
        Prompt::Chat(messages) => messages.clone(),
        Prompt::Fim { prefix, .. } | Prompt::Raw(prefix) => vec![Message::user(prefix.clone())],
    };
    messages.push(Message { role: crate::llm::Role::Assistant, content: answer.to_string() });
    let listed: Vec<String> = problems
        .iter()
        .map(|(path, lines)| {
            let lines: Vec<String> = lines.iter().map(u32::to_string).collect();
            format!("{path}: syntax errors at line(s) {}", lines.join(", "))
        })
        .collect();
    messages.push(Message::user(format!(
        "Applied to the files, your change leaves syntax errors:\n{}\nAnswer again with corrected SEARCH/REPLACE blocks, written against the files as they were before your first answer.",
        listed.join("\n")
    )));
    Prompt::Chat(messages)
}

/// The broken files of a plan with their error lines (see `syntax_regressions`).
pub fn regression_report(plan: &super::search_replace::Plan) -> Vec<(String, Vec<u32>)> {
    let broken = syntax_regressions(plan);
    plan.files.iter().filter(|f| broken.contains(&f.path)).map(|f| (f.path.clone(), error_lines(&f.path, &f.new_text))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_change_is_sent_back_once_with_its_error_lines() {
        assert_eq!(error_lines("a.rs", "fn ok() {}\nfn broken( {\n}\n"), vec![2]);
        assert!(error_lines("a.rs", "fn ok() {}\n").is_empty());
        let original = Prompt::Chat(vec![Message::system("s"), Message::user("u")]);
        let Prompt::Chat(messages) = repair_prompt(&original, "blocks", &[("src/a.rs".into(), vec![2, 7])]) else { panic!() };
        assert_eq!(messages.len(), 4);
        assert_eq!(messages[2].content, "blocks");
        assert!(messages[3].content.starts_with("Applied to the files, your change leaves syntax errors:\nsrc/a.rs: syntax errors at line(s) 2, 7\n"));
    }

    #[test]
    fn every_requirement_of_the_diff_in_one_prompt() {
        let a = "fn a() {}\n// AI: add b\n";
        let c = "// AI: add d\n";
        let sites = [
            RequirementSite { path: "src/a.rs", lang: Lang::Rust, requirement: "add b", text: a, scope: TextRange::new(10, 22) },
            RequirementSite { path: "src/c.rs", lang: Lang::Rust, requirement: "add d", text: c, scope: TextRange::new(0, 13) },
        ];
        let Prompt::Chat(messages) = implement_prompt(&sites, &[], Some("+// AI: add b")) else { panic!() };
        assert_eq!(
            messages[1].content,
            "The working tree's changes so far:\n```diff\n+// AI: add b\n```\n\n\
             src/a.rs:\n```rust\nfn a() {}\n// AI: add b\n```\n\n\
             src/c.rs:\n```rust\n// AI: add d\n```\n\n\
             The requirements, in comments:\n1. src/a.rs (near line 2): add b\n2. src/c.rs (near line 1): add d\n\nImplement them all."
        );
    }

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
