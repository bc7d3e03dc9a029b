//! The session's edit history: each change of a document recorded as a hunk of whole
//! lines (the lines before and after), a change close in place and time to the latest hunk
//! of the same file merged into it, the last [`MAX_HUNKS`] kept; and the "recent edits"
//! section of a prompt: unified diffs, the newest that fit the budget, oldest first.
//! Pure: the server feeds it the document changes it applies, the CLI the working tree's
//! diff (already unified). Which files may appear at all is the caller's rule (ignored and
//! secret files never do).

use std::collections::VecDeque;
use std::ops::Range;
use std::sync::Arc;

use similar::{ChangeTag, TextDiff};

/// Hunks kept at most (Copilot's next-edit prompt carries the last 25 edits).
pub const MAX_HUNKS: usize = 25;
/// A change merges into the latest hunk of its file when it comes at most this long after
/// it ...
pub const COALESCE_MS: u64 = 60_000;
/// ... and touches its lines or lies at most this many lines from them.
pub const NEAR_LINES: usize = 2;
/// Files whose text before their first edit of the session is kept (for next-edit
/// suggestions: the session's changes as one diff per file), the most recently edited.
pub const MAX_BASES: usize = 16;
/// Lines of context around each change in a rendered diff.
const CONTEXT_LINES: usize = 2;
/// A hunk whose before or after is longer than this is kept as its first lines (a file
/// replaced whole, a paste of a thousand lines: the prompt needs the gist, not all).
const MAX_HUNK_BYTES: usize = 16 * 1024;

/// One coalesced edit of a file: `old` became `new`, both whole lines, `new` starting at
/// line `start_line` (0-based) of the file as it was then.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hunk {
    pub path: String,
    pub start_line: usize,
    pub old: String,
    pub new: String,
    /// When it was last extended (the caller's clock, milliseconds).
    pub at_ms: u64,
}

/// A file's recent change as a unified diff (`--- a/…`, `+++ b/…`, `@@` hunks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecentEdit {
    pub path: String,
    pub diff: String,
}

#[derive(Clone, Debug, Default)]
pub struct EditHistory {
    /// Oldest first; shared with the requests that took a snapshot (a merge into the
    /// latest copies it when shared).
    hunks: VecDeque<Arc<Hunk>>,
    /// Each edited file's text before its first edit of the session, the most recently
    /// edited last.
    bases: VecDeque<(String, std::sync::Arc<str>)>,
}

impl EditHistory {
    /// Records that the byte range `range` of `before` (the document's text before the
    /// change) was replaced by `insert`.
    pub fn record(&mut self, path: &str, before: &str, range: Range<usize>, insert: &str, now_ms: u64) {
        let Some(change) = Change::new(before, range, insert) else { return };
        match self.bases.iter().position(|(p, _)| p == path) {
            Some(i) => {
                let base = self.bases.remove(i).expect("found");
                self.bases.push_back(base);
            }
            None => {
                self.bases.push_back((path.to_string(), before.into()));
                if self.bases.len() > MAX_BASES {
                    self.bases.pop_front();
                }
            }
        }
        if let Some(last) = self.hunks.back_mut() {
            if last.path == path && now_ms.saturating_sub(last.at_ms) <= COALESCE_MS && change.merge_into(Arc::make_mut(last), before) {
                Arc::make_mut(last).at_ms = now_ms;
                if last.old == last.new {
                    self.hunks.pop_back();
                }
                return;
            }
        }
        if change.old == change.new {
            return;
        }
        self.hunks.push_back(Arc::new(Hunk { path: path.to_string(), start_line: change.first_line, old: change.old, new: change.new, at_ms: now_ms }));
        while self.hunks.len() > MAX_HUNKS {
            self.hunks.pop_front();
        }
    }

    /// Oldest first.
    pub fn hunks(&self) -> impl DoubleEndedIterator<Item = &Hunk> {
        self.hunks.iter().map(|h| &**h)
    }

    /// The hunks of the files `keep` accepts, oldest first, shared (cheap to take under a
    /// lock; [`render`] them outside it).
    pub fn snapshot(&self, keep: impl Fn(&str) -> bool) -> Vec<Arc<Hunk>> {
        self.hunks.iter().filter(|h| keep(&h.path)).cloned().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.hunks.is_empty()
    }

    /// Forgets the hunks of `path` (a file that became ignored, say).
    pub fn forget(&mut self, path: &str) {
        self.hunks.retain(|h| h.path != path);
        self.bases.retain(|(p, _)| p != path);
    }

    /// The edited files and their texts before the session's first edit of each, the
    /// most recently edited last.
    pub fn bases(&self) -> impl Iterator<Item = (&str, &std::sync::Arc<str>)> {
        self.bases.iter().map(|(p, t)| (p.as_str(), t))
    }

    /// The hunks of the files `keep` accepts as unified diffs, oldest first.
    pub fn recent_edits(&self, keep: impl Fn(&str) -> bool) -> Vec<RecentEdit> {
        render(&self.snapshot(keep))
    }
}

/// Hunks as unified diffs, in their order.
pub fn render(hunks: &[Arc<Hunk>]) -> Vec<RecentEdit> {
    hunks.iter().map(|h| RecentEdit { path: h.path.clone(), diff: unified_diff(h) }).collect()
}

/// One change widened to whole lines of the text before it.
struct Change {
    /// 0-based line of `before` where the lines start, and how many lines of `before` the
    /// change covers.
    first_line: usize,
    old_lines: usize,
    /// Byte range of those lines in `before`.
    bytes: Range<usize>,
    old: String,
    new: String,
}

impl Change {
    fn new(before: &str, range: Range<usize>, insert: &str) -> Option<Change> {
        if range.start > range.end || range.end > before.len() || !before.is_char_boundary(range.start) || !before.is_char_boundary(range.end) {
            return None;
        }
        let start = before[..range.start].rfind('\n').map_or(0, |i| i + 1);
        let end = before[range.end..].find('\n').map_or(before.len(), |i| range.end + i + 1);
        let old = &before[start..end];
        let new = format!("{}{insert}{}", &before[start..range.start], &before[range.end..end]);
        Some(Change {
            first_line: count_lines(&before[..start]),
            old_lines: line_count(old),
            bytes: start..end,
            old: old.to_string(),
            new,
        })
    }

    /// Merges this change into `hunk` when the hunk's lines are still what `before` holds
    /// at its place and the change touches them or lies next to them.
    fn merge_into(&self, hunk: &mut Hunk, before: &str) -> bool {
        let hunk_lines = line_count(&hunk.new);
        let (h0, h1) = (hunk.start_line, hunk.start_line + hunk_lines);
        let (c0, c1) = (self.first_line, self.first_line + self.old_lines);
        if c0 > h1 + NEAR_LINES || h0 > c1 + NEAR_LINES {
            return false;
        }
        // Line starts from the change's first line outwards: the lines involved lie within
        // the hunk and a few lines of it, so the file is not scanned.
        let (low, high) = (h0.min(c0), h1.max(c1));
        let starts = line_starts_between(before, self.bytes.start, c0, low, high);
        let byte_at = |line: usize| starts.get(line - low).copied().unwrap_or(before.len());
        if before.get(byte_at(h0)..byte_at(h1)) != Some(hunk.new.as_str()) {
            return false;
        }
        let (u0, u1) = (h0.min(c0), h1.max(c1));
        let old = format!("{}{}{}", &before[byte_at(u0)..byte_at(h0)], hunk.old, &before[byte_at(h1)..byte_at(u1)]);
        // The union's lines after this change: the change's own lines with the union's
        // other lines around them.
        let new = format!("{}{}{}", &before[byte_at(u0)..self.bytes.start], self.new, &before[self.bytes.end.max(byte_at(u0))..byte_at(u1).max(self.bytes.end)]);
        hunk.start_line = u0;
        hunk.old = old;
        hunk.new = new;
        true
    }
}

fn count_lines(text: &str) -> usize {
    memchr::memchr_iter(b'\n', text.as_bytes()).count()
}

/// Lines in a run of whole lines (the last may lack its newline).
fn line_count(text: &str) -> usize {
    count_lines(text) + usize::from(!text.is_empty() && !text.ends_with('\n'))
}

/// Byte offsets where lines `low..=high` of `text` start (`text.len()` past its end),
/// given that line `line` starts at byte `at`.
fn line_starts_between(text: &str, at: usize, line: usize, low: usize, high: usize) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut before = Vec::with_capacity(line.saturating_sub(low));
    let mut start = at;
    for _ in low..line {
        // The start of the line before: just after the newline before the one ending it.
        start = memchr::memrchr(b'\n', &bytes[..start.saturating_sub(1)]).map_or(0, |i| i + 1);
        before.push(start);
    }
    before.reverse();
    let mut starts = before;
    let mut start = at;
    for _ in line..=high {
        starts.push(start);
        start = memchr::memchr(b'\n', &bytes[start.min(bytes.len())..]).map_or(bytes.len(), |i| start + i + 1);
    }
    starts
}

fn clip(text: &str) -> &str {
    if text.len() <= MAX_HUNK_BYTES {
        return text;
    }
    let cut = crate::lang::floor_char_boundary(text, MAX_HUNK_BYTES);
    text[..cut].rfind('\n').map_or(&text[..cut], |i| &text[..=i])
}

/// A hunk as a unified diff with the file's own line numbers.
pub fn unified_diff(hunk: &Hunk) -> String {
    let (old, new) = (clip(&hunk.old), clip(&hunk.new));
    let diff = TextDiff::from_lines(old, new);
    let mut out = format!("--- a/{}\n+++ b/{}\n", hunk.path, hunk.path);
    for group in diff.grouped_ops(CONTEXT_LINES) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else { continue };
        let old_range = first.old_range().start..last.old_range().end;
        let new_range = first.new_range().start..last.new_range().end;
        out.push_str(&format!(
            "@@ -{} +{} @@\n",
            header_range(hunk.start_line + old_range.start, old_range.len()),
            header_range(hunk.start_line + new_range.start, new_range.len())
        ));
        for op in &group {
            for change in diff.iter_changes(op) {
                let sign = match change.tag() {
                    ChangeTag::Equal => ' ',
                    ChangeTag::Delete => '-',
                    ChangeTag::Insert => '+',
                };
                out.push(sign);
                out.push_str(change.value().trim_end_matches('\n'));
                out.push('\n');
            }
        }
    }
    out
}

/// `start,len` of a unified diff header, 1-based (an empty range names the line before).
fn header_range(start0: usize, len: usize) -> String {
    match len {
        0 => format!("{start0},0"),
        1 => format!("{}", start0 + 1),
        _ => format!("{},{len}", start0 + 1),
    }
}

/// The "recent edits" section: the newest edits whose diffs fit `budget` tokens (counted
/// by `tokens`), oldest first; empty when none fits.
pub fn recent_edits_section(edits: &[RecentEdit], budget: usize, tokens: impl Fn(&str) -> usize) -> String {
    let mut kept = Vec::new();
    let mut used = 0;
    for edit in edits.iter().rev() {
        let cost = tokens(&edit.diff);
        if used + cost > budget {
            break;
        }
        used += cost;
        kept.push(edit);
    }
    kept.reverse();
    kept.iter().map(|e| e.diff.as_str()).collect::<Vec<_>>().join("")
}

/// `prompt` with the recent edits (`section`, from [`recent_edits_section`]) ahead of the
/// user's message of a chat prompt; other prompts unchanged.
pub fn apply_to_chat(prompt: crate::llm::Prompt, section: &str) -> crate::llm::Prompt {
    if section.trim().is_empty() {
        return prompt;
    }
    match prompt {
        crate::llm::Prompt::Chat(mut messages) => {
            if let Some(user) = messages.iter_mut().rev().find(|m| m.role == crate::llm::Role::User) {
                user.content.insert_str(0, &format!("Recent edits in the workspace (unified diffs, oldest first):\n```diff\n{section}```\n\n"));
            }
            crate::llm::Prompt::Chat(messages)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(text: &mut String, history: &mut EditHistory, path: &str, range: Range<usize>, insert: &str, at: u64) {
        history.record(path, text, range.clone(), insert, at);
        text.replace_range(range, insert);
    }

    const FILE: &str = "fn a() {\n    one();\n}\n\nfn b() {\n    two();\n}\n\n\n\n\n\nfn c() {\n    three();\n}\n";

    #[test]
    fn keystrokes_in_one_place_make_one_hunk_with_the_files_line_numbers() {
        let mut text = FILE.to_string();
        let mut history = EditHistory::default();
        let at = text.find("two").unwrap();
        apply(&mut text, &mut history, "src/lib.rs", at..at + 3, "t", 0);
        for (i, c) in "hree_and_two".chars().enumerate() {
            let pos = at + 1 + i;
            apply(&mut text, &mut history, "src/lib.rs", pos..pos, &c.to_string(), 100 + i as u64);
        }
        // A new line below, typed a moment later: still the same place.
        let end = text.find("three_and_two();\n").unwrap() + "three_and_two();\n".len();
        apply(&mut text, &mut history, "src/lib.rs", end..end, "    four();\n", 2_000);
        assert_eq!(history.hunks().count(), 1, "{:?}", history.hunks().collect::<Vec<_>>());
        let diff = &history.recent_edits(|_| true)[0].diff;
        assert_eq!(diff, "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -6,2 +6,3 @@\n-    two();\n+    three_and_two();\n+    four();\n }\n");
    }

    #[test]
    fn edits_apart_in_place_or_time_or_file_are_separate_and_bounded() {
        let mut text = FILE.to_string();
        let mut history = EditHistory::default();
        let one = text.find("one").unwrap();
        apply(&mut text, &mut history, "src/lib.rs", one..one + 3, "uno", 0);
        let three = text.find("three").unwrap();
        apply(&mut text, &mut history, "src/lib.rs", three..three + 5, "tres", 10);
        let uno = text.find("uno").unwrap();
        apply(&mut text, &mut history, "src/lib.rs", uno..uno + 3, "un", 10 + COALESCE_MS + 1);
        let mut other = "x\n".to_string();
        apply(&mut other, &mut history, "src/other.rs", 0..1, "y", 20 + COALESCE_MS);
        let paths: Vec<(&str, usize)> = history.hunks().map(|h| (h.path.as_str(), h.start_line)).collect();
        assert_eq!(paths, [("src/lib.rs", 1), ("src/lib.rs", 13), ("src/lib.rs", 1), ("src/other.rs", 0)]);
        for i in 0..(MAX_HUNKS as u64 + 5) {
            let mut t = "a\n".to_string();
            apply(&mut t, &mut history, &format!("f{i}.rs"), 0..1, "b", 1_000_000 + i);
        }
        assert_eq!(history.hunks().count(), MAX_HUNKS);
        assert_eq!(history.hunks().next().unwrap().path, "f5.rs", "the oldest go first");
    }

    #[test]
    fn typing_then_taking_it_back_leaves_nothing_and_lines_deleted_show() {
        let mut text = FILE.to_string();
        let mut history = EditHistory::default();
        let at = text.find("one").unwrap();
        apply(&mut text, &mut history, "a.rs", at..at, "x", 0);
        apply(&mut text, &mut history, "a.rs", at..at + 1, "", 5);
        assert!(history.is_empty(), "{:?}", history.hunks().collect::<Vec<_>>());
        // Deleting fn b whole (lines 5-7 and the blank after).
        let start = text.find("fn b").unwrap();
        let end = text.find("fn c").unwrap() - 5;
        apply(&mut text, &mut history, "a.rs", start..end, "", 10);
        let diff = &history.recent_edits(|_| true)[0].diff;
        assert!(diff.contains("-fn b() {\n-    two();\n-}\n"), "{diff}");
        assert!(diff.starts_with("--- a/a.rs\n+++ b/a.rs\n@@ -5"), "{diff}");
    }

    #[test]
    fn a_hunk_whose_lines_changed_elsewhere_is_not_extended() {
        let mut history = EditHistory::default();
        let mut text = FILE.to_string();
        let at = text.find("one").unwrap();
        apply(&mut text, &mut history, "a.rs", at..at + 3, "uno", 0);
        // The caller's text no longer holds the hunk's lines (a reload from disk, say): a
        // change next to them starts a hunk of its own.
        let mut reloaded = text.replace("uno", "eins");
        let at = reloaded.find("eins").unwrap();
        apply(&mut reloaded, &mut history, "a.rs", at..at + 4, "ein", 5);
        assert_eq!(history.hunks().count(), 2);
    }

    #[test]
    fn the_section_keeps_the_newest_that_fit_oldest_first_and_files_can_be_left_out() {
        let mut history = EditHistory::default();
        for (i, name) in ["a.rs", "b.rs", "secret.rs", "c.rs"].iter().enumerate() {
            let mut t = "old\n".to_string();
            apply(&mut t, &mut history, name, 0..3, "new", i as u64 * COALESCE_MS * 2);
        }
        let edits = history.recent_edits(|p| p != "secret.rs");
        assert_eq!(edits.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(), ["a.rs", "b.rs", "c.rs"]);
        let one = edits[0].diff.len();
        let section = recent_edits_section(&edits, one * 2, |s| s.len());
        assert!(section.starts_with("--- a/b.rs") && section.contains("+++ b/c.rs") && !section.contains("a.rs"), "{section}");
        assert_eq!(recent_edits_section(&edits, one - 1, |s| s.len()), "");
    }

    #[test]
    fn each_edited_file_keeps_its_text_from_before_the_first_edit() {
        let mut history = EditHistory::default();
        let mut a = "one\n".to_string();
        apply(&mut a, &mut history, "a.rs", 0..3, "two", 0);
        apply(&mut a, &mut history, "a.rs", 0..3, "six", COALESCE_MS * 5);
        for i in 0..MAX_BASES - 1 {
            let mut t = "x\n".to_string();
            apply(&mut t, &mut history, &format!("f{i}.rs"), 0..1, "y", 1);
        }
        apply(&mut a, &mut history, "a.rs", 0..3, "ten", 2);
        let mut t = "x\n".to_string();
        apply(&mut t, &mut history, "extra.rs", 0..1, "y", 3);
        let bases: Vec<(&str, &str)> = history.bases().map(|(p, t)| (p, &**t)).collect();
        assert_eq!(bases.len(), MAX_BASES);
        assert_eq!(bases[MAX_BASES - 2], ("a.rs", "one\n"), "the first text, kept while the file is edited");
        assert!(!bases.iter().any(|(p, _)| *p == "f0.rs"), "the least recently edited went");
        history.forget("a.rs");
        assert!(!history.bases().any(|(p, _)| p == "a.rs"));
    }

    #[test]
    fn a_chat_prompt_gets_the_section_ahead_of_the_users_message() {
        let prompt = crate::ide::prompt::chat_prompt("why?", &[], None);
        let crate::llm::Prompt::Chat(messages) = apply_to_chat(prompt.clone(), "--- a/x\n+++ b/x\n") else { panic!() };
        assert_eq!(messages[1].content, "Recent edits in the workspace (unified diffs, oldest first):\n```diff\n--- a/x\n+++ b/x\n```\n\nwhy?");
        assert_eq!(apply_to_chat(prompt.clone(), ""), prompt);
    }

    #[test]
    fn line_starts_are_found_around_a_known_line() {
        let text = "a\nbb\n\nccc\nd";
        let all = [0, 2, 5, 6, 10];
        for line in 0..all.len() {
            for low in 0..=line {
                for high in line..all.len() + 1 {
                    let expect: Vec<usize> = (low..=high).map(|l| all.get(l).copied().unwrap_or(text.len())).collect();
                    assert_eq!(line_starts_between(text, all[line], line, low, high), expect, "line {line}, {low}..={high}");
                }
            }
        }
    }

    #[test]
    fn bad_ranges_are_ignored_and_huge_hunks_clipped() {
        let mut history = EditHistory::default();
        history.record("a.rs", "é", 1..1, "x", 0);
        history.record("a.rs", "ab", 2..5, "x", 0);
        assert!(history.is_empty());
        let big = "line\n".repeat(10_000);
        history.record("big.rs", "", 0..0, &big, 0);
        let diff = &history.recent_edits(|_| true)[0].diff;
        assert!(diff.len() < MAX_HUNK_BYTES + 4_000, "{}", diff.len());
    }
}
