//! What the next edit is: a model rewrites an editable region around a place where the
//! next edit likely goes (`ide::next_edit`), given the recent edits and the context
//! engine's excerpts; its answer (untrusted text) is read as the region's new text and
//! diffed to minimal line edits. Nothing is offered when the rewrite changes nothing or
//! adds syntax errors to the file. Pure: the caller asks the model and parses.

use similar::{DiffTag, TextDiff};

use crate::ide::prompt::Excerpt;
use crate::lang::Lang;
use crate::llm::{Message, Prompt};

/// Lines of context taken around a place for the editable region ...
const AROUND: usize = 6;
/// ... and the region's length at most.
const MAX_REGION_LINES: usize = 20;

/// Whole lines `start_line..end_line` (0-based, end exclusive) of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    pub start_line: usize,
    pub end_line: usize,
    pub text: String,
}

/// One minimal edit of a region: lines `start_line..end_line` of the file (0-based, end
/// exclusive; equal for an insertion before `start_line`) become `text` (whole lines).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineEdit {
    pub start_line: usize,
    pub end_line: usize,
    pub text: String,
}

/// The editable region around the place `first..=last` (0-based lines) of `text`: the
/// place with [`AROUND`] lines each side, at most [`MAX_REGION_LINES`] (a longer place
/// keeps its start).
pub fn region_around(text: &str, first: usize, last: usize) -> Region {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let count = lines.len();
    let first = first.min(count.saturating_sub(1));
    let last = last.clamp(first, count.saturating_sub(1));
    let start = first.saturating_sub(AROUND);
    let end = (last + 1 + AROUND).min(count).min(start + MAX_REGION_LINES).max(first + 1).min(count);
    Region { start_line: start, end_line: end, text: lines.get(start..end).map(|l| l.concat()).unwrap_or_default() }
}

pub const REWRITE_SYSTEM: &str = "You predict a programmer's next edit. You are shown the edits they just made \
(unified diffs), excerpts of their workspace, and a region of a file where the next edit likely goes. \
Answer with the region rewritten with that edit made, whole, in one fenced code block, and nothing else. \
Change only what the recent edits call for; if the region needs no change, repeat it unchanged.";

/// The chat prompt asking for the region rewritten.
pub fn rewrite_prompt(path: &str, lang: Lang, region: &Region, why: &str, recent_edits: &str, excerpts: &[Excerpt]) -> Prompt {
    let fence = crate::ide::prompt::fence(lang);
    let mut user = String::new();
    if !recent_edits.is_empty() {
        user.push_str(&format!("The edits just made (unified diffs, oldest first):\n```diff\n{recent_edits}```\n\n"));
    }
    if !excerpts.is_empty() {
        user.push_str("Related code from the workspace:\n\n");
        user.push_str(&crate::ide::prompt::fenced_excerpts(excerpts, fence));
    }
    user.push_str(&format!(
        "The region, {path} lines {}-{} (why the next edit may be here: {why}):\n```{fence}\n{}```\n\nRewrite the region with the next edit made.",
        region.start_line + 1,
        region.end_line,
        ensure_newline(&region.text)
    ));
    Prompt::Chat(vec![Message::system(REWRITE_SYSTEM), Message::user(user)])
}

fn ensure_newline(text: &str) -> String {
    if text.is_empty() || text.ends_with('\n') {
        text.to_string()
    } else {
        format!("{text}\n")
    }
}

/// The region's new text from a model's answer: the first fenced code block, else the
/// whole answer when it holds no fence at all; `None` for an empty or unterminated one.
pub fn parse_rewrite(answer: &str) -> Option<String> {
    let Some(open) = answer.find("```") else {
        let text = answer.trim_matches('\n');
        return (!text.trim().is_empty()).then(|| format!("{text}\n"));
    };
    let after_open = &answer[open + 3..];
    let body_start = after_open.find('\n')? + 1;
    let body = &after_open[body_start..];
    let close = body.find("```")?;
    let inner = &body[..close];
    // The closing fence starts a line: what precedes it on its line is not code.
    let inner = inner.rfind('\n').map_or("", |i| &inner[..=i]);
    (!inner.trim().is_empty()).then(|| inner.to_string())
}

/// The minimal line edits that turn `region` into `rewrite` (lines of the file).
pub fn minimal_edits(region: &Region, rewrite: &str) -> Vec<LineEdit> {
    let old = ensure_newline(&region.text);
    let new = ensure_newline(rewrite);
    let diff = TextDiff::from_lines(&old, &new);
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let mut edits: Vec<LineEdit> = Vec::new();
    for op in diff.ops() {
        if op.tag() == DiffTag::Equal {
            continue;
        }
        let (old_range, new_range) = (op.old_range(), op.new_range());
        let edit = LineEdit {
            start_line: region.start_line + old_range.start,
            end_line: region.start_line + old_range.end,
            text: new_lines[new_range].concat(),
        };
        // A delete next to an insert is one replacement.
        match edits.last_mut() {
            Some(last) if last.end_line == edit.start_line => {
                last.end_line = edit.end_line;
                last.text.push_str(&edit.text);
            }
            _ => edits.push(edit),
        }
    }
    edits
}

/// The request for the region rewritten with `settings`: room for the region twice over
/// (a rewrite is the region, changed), at least the configured `max_tokens`.
pub fn rewrite_request(prompt: Prompt, region: &Region, settings: &crate::config::ModelSettings, tokens: impl Fn(&str) -> usize) -> crate::llm::Request {
    let max_tokens = settings.max_tokens.max((tokens(&region.text) * 2 + 64) as u32);
    crate::llm::Request { prompt, max_tokens, temperature: settings.temperature, stop: Vec::new() }
}

/// The model's answer to [`rewrite_request`] checked: the minimal edits of `text` (the
/// file the region is from), or why none is offered (cut at `max_tokens`, no rewrite in
/// it, nothing changed, new syntax errors). Parses the file twice.
pub fn check_answer(lang: Lang, text: &str, region: &Region, answer: &str, finish: crate::llm::FinishReason, max_tokens: u32) -> Result<Vec<LineEdit>, String> {
    if finish == crate::llm::FinishReason::Length {
        return Err(format!("the answer was cut at its limit of {max_tokens} tokens"));
    }
    let new_region = parse_rewrite(answer).ok_or("the answer holds no rewrite of the region")?;
    let edits = minimal_edits(region, &new_region);
    if edits.is_empty() {
        return Err("the model changed nothing".into());
    }
    if crate::ide::generate::error_count(lang, &apply(text, &edits)) > crate::ide::generate::error_count(lang, text) {
        return Err("the rewrite adds syntax errors".into());
    }
    Ok(edits)
}

/// `text` with `edits` (from [`minimal_edits`], in order) applied.
pub fn apply(text: &str, edits: &[LineEdit]) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for edit in edits {
        let start = edit.start_line.min(lines.len());
        out.push_str(&lines[at.min(start)..start].concat());
        out.push_str(&edit.text);
        at = edit.end_line.min(lines.len()).max(start);
    }
    out.push_str(&lines[at.min(lines.len())..].concat());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "fn a() {}\nfn area(w: u32) -> u32 {\n    w * w\n}\n\nfn main() {\n    let x = area(3);\n    let y = area(4);\n}\n";

    #[test]
    fn the_region_is_the_place_with_lines_around_it_bounded() {
        let region = region_around(FILE, 7, 7);
        assert_eq!((region.start_line, region.end_line), (1, 9));
        assert!(region.text.starts_with("fn area") && region.text.ends_with("}\n"));
        let long = "x\n".repeat(100);
        let region = region_around(&long, 50, 90);
        assert_eq!((region.start_line, region.end_line), (44, 64), "at most 20 lines, from the place's start");
        assert_eq!(region_around("", 3, 4), Region { start_line: 0, end_line: 0, text: String::new() });
    }

    #[test]
    fn a_rewrite_is_read_from_the_first_fence_or_the_bare_answer() {
        assert_eq!(parse_rewrite("Sure:\n```rust\nlet y = area(4, 4);\n```\nDone.").as_deref(), Some("let y = area(4, 4);\n"));
        assert_eq!(parse_rewrite("let y = 1;").as_deref(), Some("let y = 1;\n"));
        assert_eq!(parse_rewrite("```rust\nlet y = 1;"), None, "an unterminated fence");
        assert_eq!(parse_rewrite("```\n```"), None);
        assert_eq!(parse_rewrite("  \n"), None);
    }

    #[test]
    fn edits_are_the_changed_lines_only_and_apply_back() {
        let region = region_around(FILE, 6, 7);
        let rewrite = region.text.replace("area(3)", "area(3, 3)").replace("area(4)", "area(4, 4)");
        let edits = minimal_edits(&region, &rewrite);
        assert_eq!(edits, [LineEdit { start_line: 6, end_line: 8, text: "    let x = area(3, 3);\n    let y = area(4, 4);\n".into() }]);
        assert_eq!(apply(FILE, &edits), FILE.replace("area(3)", "area(3, 3)").replace("area(4)", "area(4, 4)"));
        assert!(minimal_edits(&region, &region.text).is_empty(), "unchanged: nothing");
        // An insertion and a deletion far apart: two edits.
        let rewrite = region.text.replacen("fn area", "/// Squares.\nfn area", 1).replace("    let y = area(4);\n", "");
        let edits = minimal_edits(&region, &rewrite);
        assert_eq!(edits.len(), 2, "{edits:?}");
        assert_eq!(apply(FILE, &edits), FILE.replacen("fn area", "/// Squares.\nfn area", 1).replace("    let y = area(4);\n", ""));
    }

    #[test]
    fn the_prompt_holds_the_recent_edits_the_excerpts_and_the_region() {
        let region = region_around(FILE, 7, 7);
        let excerpts = [Excerpt { path: "src/geo.rs", start_line: 1, end_line: 1, text: "pub struct P;" }];
        let Prompt::Chat(messages) = rewrite_prompt("src/main.rs", Lang::Rust, &region, "calls `area`, whose signature changed", "--- a/x\n+++ b/x\n", &excerpts) else { panic!() };
        let user = &messages[1].content;
        assert!(user.starts_with("The edits just made (unified diffs, oldest first):\n```diff\n--- a/x\n+++ b/x\n```"), "{user}");
        assert!(user.contains("src/geo.rs (lines 1-1):\n```rust\npub struct P;\n```"), "{user}");
        assert!(user.contains("src/main.rs lines 2-9 (why the next edit may be here: calls `area`, whose signature changed):\n```rust\nfn area"), "{user}");
    }
}
