//! A model's SEARCH/REPLACE answer (the format aider popularised) turned into file changes: `parse` finds the blocks and
//! their paths, `plan` matches each block against its file (exactly, else ignoring indentation) and returns every change
//! or every problem (all or nothing), with byte-range edits against the ORIGINAL texts, and `unified_diff` prints a plan.
//! SEARCH and REPLACE sections are whole lines; a file keeps its line endings and its (missing) final newline. Pure.
//!
//! Several blocks of one file apply in order: each block is matched in the text the earlier blocks produced, and its
//! change is composed into the file's edit list in original coordinates (an edit that touches or overlaps earlier ones
//! absorbs them). The final edits are trimmed of the whole lines they leave unchanged, so they stay small, sorted and
//! strictly apart; applied to the original text in any safe order they give `new_text`.

use std::collections::{HashMap, HashSet};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub path: String,
    /// Whole lines, each ending in `\n`; empty: create the file, or append to an existing one.
    pub search: String,
    pub replace: String,
    /// 1-based index in the answer.
    pub number: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub block: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "block {}: {}", self.block, self.message)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// In the order of the blocks that first touch them; files left as they were are not listed.
    pub files: Vec<FileChange>,
    /// Numbers of the blocks dropped as duplicates of an earlier block or as no-ops (SEARCH equal to REPLACE).
    pub dropped: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileChange {
    pub path: String,
    /// None: a new file.
    pub old_text: Option<String>,
    pub new_text: String,
    /// Byte-range edits against `old_text` (an empty text for a new file), sorted, non-overlapping: (start, end,
    /// replacement). A new file has the single edit (0, 0, new_text).
    pub edits: Vec<(usize, usize, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockError {
    pub block: usize,
    pub path: String,
    pub message: String,
}

impl fmt::Display for BlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "block {} ({}): {}", self.block, self.path, self.message)
    }
}

/// Lines of context around a change in `unified_diff`.
const CONTEXT: usize = 3;

/// Parses every block; a malformed block (missing `=======` or `>>>>>>> REPLACE`, no path) is an error naming its
/// number. The path is the last non-empty line before `<<<<<<< SEARCH` that is not a code fence (and comes after the
/// previous block), stripped of backticks, `*`, a leading `#` or `File:`, and a trailing `:`; a line with inner spaces
/// is prose, not a path. Text outside the blocks is ignored.
pub fn parse(answer: &str) -> Result<Vec<Block>, ParseError> {
    let lines: Vec<&str> = answer.lines().collect();
    let mut blocks = Vec::new();
    // The first line after the previous block: the path is looked for from there.
    let mut after_previous = 0;
    let mut i = 0;
    while i < lines.len() {
        let number = blocks.len() + 1;
        let error = |message: &str| ParseError { block: number, message: message.to_string() };
        if is_marker(lines[i], '>', "REPLACE") {
            return Err(error("`>>>>>>> REPLACE` without a `<<<<<<< SEARCH` before it"));
        }
        if !is_marker(lines[i], '<', "SEARCH") {
            i += 1;
            continue;
        }
        let path = path_before(&lines[after_previous..i])
            .ok_or_else(|| error("no file path on the line before `<<<<<<< SEARCH`"))?;
        let search_start = i + 1;
        let mut j = search_start;
        loop {
            match lines.get(j) {
                Some(line) if is_divider(line) => break,
                Some(line) if !is_marker(line, '<', "SEARCH") && !is_marker(line, '>', "REPLACE") => j += 1,
                _ => return Err(error("missing `=======` after the SEARCH lines")),
            }
        }
        let search = join_answer_lines(&lines[search_start..j]);
        let replace_start = j + 1;
        j = replace_start;
        loop {
            match lines.get(j) {
                Some(line) if is_marker(line, '>', "REPLACE") => break,
                Some(line) if !is_marker(line, '<', "SEARCH") => j += 1,
                _ => return Err(error("missing `>>>>>>> REPLACE` after the REPLACE lines")),
            }
        }
        let replace = join_answer_lines(&lines[replace_start..j]);
        blocks.push(Block { path, search, replace, number });
        i = j + 1;
        after_previous = i;
    }
    Ok(blocks)
}

/// Validates a relative path: no absolute paths, no `..` components, no empty path, no NUL; normalises `./` and
/// backslashes. Returns the clean relative path or an error message.
pub fn safe_relative_path(path: &str) -> Result<String, String> {
    let path = path.trim();
    if path.contains('\0') {
        return Err("the path contains a NUL character".to_string());
    }
    let path = path.replace('\\', "/");
    let bytes = path.as_bytes();
    if path.starts_with('/') || (bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':') {
        return Err(format!("`{path}` is an absolute path"));
    }
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(format!("`{path}` leaves the workspace (`..`)")),
            "~" if parts.is_empty() => return Err(format!("`{path}` starts at the home directory")),
            _ => parts.push(part),
        }
    }
    if parts.is_empty() {
        return Err("the path is empty".to_string());
    }
    Ok(parts.join("/"))
}

/// Plans the edits of all blocks against the file texts `files` gives (None: the file does not exist), called once
/// per path. Every block's SEARCH must match its file's text exactly once (after earlier blocks of the same file are
/// applied, in order), comparing whole lines without their line endings; if there is no exact match, a
/// whitespace-tolerant match is tried: lines compared with leading and trailing whitespace trimmed, and blank lines at
/// the SEARCH's edges ignored (as many are dropped from the REPLACE's edges), and the replacement re-indented by the
/// difference in indentation of the first matched line. Zero or several matches are errors. An empty SEARCH creates a
/// missing file or appends to an existing one. Duplicate blocks (same path, SEARCH and REPLACE as an earlier one) and
/// no-op blocks are dropped. All or nothing: any error gives every problem found.
pub fn plan(blocks: &[Block], files: &dyn Fn(&str) -> Option<String>) -> Result<Plan, Vec<BlockError>> {
    let mut states: Vec<FileState> = Vec::new();
    let mut state_of: HashMap<String, usize> = HashMap::new();
    let mut seen: HashSet<(String, &str, &str)> = HashSet::new();
    let mut dropped = Vec::new();
    let mut errors = Vec::new();
    for block in blocks {
        let path = match safe_relative_path(&block.path) {
            Ok(path) => path,
            Err(message) => {
                errors.push(BlockError { block: block.number, path: block.path.clone(), message });
                continue;
            }
        };
        let no_op = section_lines(&block.search) == section_lines(&block.replace);
        if no_op || !seen.insert((path.clone(), block.search.as_str(), block.replace.as_str())) {
            dropped.push(block.number);
            continue;
        }
        let index = *state_of.entry(path.clone()).or_insert_with(|| {
            let original = files(&path);
            states.push(FileState { path: path.clone(), current: original.clone(), original, edits: Vec::new() });
            states.len() - 1
        });
        if let Err(message) = apply_block(&mut states[index], block) {
            errors.push(BlockError { block: block.number, path, message });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let files = states.into_iter().filter_map(FileState::finish).collect();
    Ok(Plan { files, dropped })
}

/// A unified diff of a plan (for `--dry-run`-style printing): `--- a/path` / `+++ b/path` headers (`/dev/null` for
/// new files) and hunks with 3 lines of context, lines printed with their own line endings.
pub fn unified_diff(plan: &Plan) -> String {
    let mut out = String::new();
    for change in &plan.files {
        match change.old_text {
            Some(_) => out.push_str(&format!("--- a/{}\n", change.path)),
            None => out.push_str("--- /dev/null\n"),
        }
        out.push_str(&format!("+++ b/{}\n", change.path));
        let old = change.old_text.as_deref().unwrap_or("");
        // Myers' diff (the `similar` crate), given a second to align very large changes:
        // past it, what is left prints as removed, then added.
        let diff = similar::TextDiff::configure()
            .algorithm(similar::Algorithm::Myers)
            .timeout(std::time::Duration::from_secs(1))
            .diff_lines(old, &change.new_text);
        out.push_str(&diff.unified_diff().context_radius(CONTEXT).to_string());
    }
    out
}

// Parsing.

/// Whether `line` is 5 to 9 `mark` characters followed by `word` (empty for the divider), spaces around allowed.
fn is_marker(line: &str, mark: char, word: &str) -> bool {
    let line = line.trim();
    let count = line.chars().take_while(|&c| c == mark).count();
    (5..=9).contains(&count) && line[count..].trim().eq_ignore_ascii_case(word)
}

fn is_divider(line: &str) -> bool {
    is_marker(line, '=', "")
}

fn is_fence(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with("```") || line.starts_with("~~~")
}

/// The path on the last non-empty line of `lines` that is not a code fence.
fn path_before(lines: &[&str]) -> Option<String> {
    let line = lines.iter().rev().find(|line| !line.trim().is_empty() && !is_fence(line))?;
    let mut path = line.trim().trim_start_matches('#').trim();
    for label in ["file:", "path:"] {
        if path.len() >= label.len() && path.is_char_boundary(label.len()) && path[..label.len()].eq_ignore_ascii_case(label) {
            path = path[label.len()..].trim();
        }
    }
    let path = path.trim_matches(['`', '*']).trim().trim_end_matches(':').trim_matches(['`', '*']).trim();
    (!path.is_empty() && !path.contains(char::is_whitespace)).then(|| path.to_string())
}

fn join_answer_lines(lines: &[&str]) -> String {
    lines.iter().map(|line| format!("{line}\n")).collect()
}

// Planning.

struct FileState {
    path: String,
    original: Option<String>,
    /// The text after the blocks applied so far (None: still missing).
    current: Option<String>,
    /// Edits against `original` (an empty text when missing) that give `current`: sorted, strictly apart.
    edits: Vec<(usize, usize, String)>,
}

impl FileState {
    fn finish(self) -> Option<FileChange> {
        let new_text = self.current?;
        let edits = match &self.original {
            None => vec![(0, 0, new_text.clone())],
            Some(old) if *old == new_text => return None,
            Some(old) => self.edits.into_iter().filter_map(|edit| trim_edit(old, edit)).collect(),
        };
        Some(FileChange { path: self.path, old_text: self.original, new_text, edits })
    }
}

/// One line of a text: its start, the end of its content and its end after the line ending.
#[derive(Clone, Copy)]
struct Line {
    start: usize,
    content_end: usize,
    end: usize,
}

fn text_lines(text: &str) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut start = 0;
    for piece in text.split_inclusive('\n') {
        let end = start + piece.len();
        let ending = if piece.ends_with("\r\n") { 2 } else { usize::from(piece.ends_with('\n')) };
        lines.push(Line { start, content_end: end - ending, end });
        start = end;
    }
    lines
}

/// The lines of a SEARCH or REPLACE section, without line endings.
fn section_lines(text: &str) -> Vec<&str> {
    if text.is_empty() {
        return Vec::new();
    }
    let text = text.strip_suffix('\n').unwrap_or(text);
    text.split('\n').map(|line| line.strip_suffix('\r').unwrap_or(line)).collect()
}

/// The line ending of a text: that of its first line.
fn line_ending(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if text[..i].ends_with('\r') => "\r\n",
        _ => "\n",
    }
}

fn join_lines(lines: &[String], eol: &str) -> String {
    lines.iter().map(|line| format!("{line}{eol}")).collect()
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

fn indentation(line: &str) -> &str {
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

/// Applies one block to its file's current text and composes the change into the file's edits.
fn apply_block(state: &mut FileState, block: &Block) -> Result<(), String> {
    let search = section_lines(&block.search);
    let replace: Vec<String> = section_lines(&block.replace).into_iter().map(str::to_string).collect();
    let Some(text) = state.current.as_mut() else {
        if search.is_empty() {
            state.current = Some(join_lines(&replace, "\n"));
            return Ok(());
        }
        return Err("the file does not exist (a block creating a file has an empty SEARCH section)".to_string());
    };
    let eol = line_ending(text);
    let (start, end, replacement) = if search.is_empty() {
        let separator = if text.is_empty() || text.ends_with('\n') { "" } else { eol };
        (text.len(), text.len(), format!("{separator}{}", join_lines(&replace, eol)))
    } else {
        find_match(text, &search, &replace, eol)?
    };
    compose(&mut state.edits, text, start, end, &replacement);
    text.replace_range(start..end, &replacement);
    Ok(())
}

/// The byte range of `text` that `search` matches and its replacement (in the text's line endings), or why there is
/// not exactly one match. Lines are compared as numbers (equal lines, equal numbers) and found with a linear-time
/// string search, so a SEARCH of thousands of lines against a file of many repeated lines is still fast.
fn find_match(text: &str, search: &[&str], replace: &[String], eol: &str) -> Result<(usize, usize, String), String> {
    let lines = text_lines(text);
    let content = |i: usize| &text[lines[i].start..lines[i].content_end];
    let exact = LineNumbers::new((0..lines.len()).map(content));
    // The matched lines [first, first + count) and the replacement lines.
    let (first, count, replacement) = match exact.occurrences(search.iter().copied())[..] {
        [first] => (first, search.len(), replace.to_vec()),
        [] => {
            let lead = search.iter().take_while(|line| is_blank(line)).count();
            let trail = search[lead..].iter().rev().take_while(|line| is_blank(line)).count();
            let core = &search[lead..search.len() - trail];
            let trimmed = LineNumbers::new((0..lines.len()).map(|i| content(i).trim()));
            let found = if core.is_empty() { Vec::new() } else { trimmed.occurrences(core.iter().map(|line| line.trim())) };
            match found[..] {
                [first] => {
                    let lead = lead.min(replace.iter().take_while(|line| is_blank(line)).count());
                    let rest = &replace[lead..];
                    let trail = trail.min(rest.iter().rev().take_while(|line| is_blank(line)).count());
                    let rest = &rest[..rest.len() - trail];
                    (first, core.len(), reindent(rest, indentation(core[0]), indentation(content(first))))
                }
                [] => return Err(not_found(text, &lines, &trimmed, search)),
                _ => return Err(ambiguous(&found)),
            }
        }
        ref several => return Err(ambiguous(several)),
    };
    let last = lines[first + count - 1];
    let mut replacement = join_lines(&replacement, eol);
    if last.content_end == last.end {
        // The match ends the file without a final newline: so does the replacement.
        replacement.truncate(replacement.len() - eol.len().min(replacement.len()));
    }
    Ok((lines[first].start, last.end, replacement))
}

/// A text's lines as numbers: equal lines get equal numbers, so that runs of lines can be matched with a string
/// search over numbers.
struct LineNumbers<'a> {
    number_of: HashMap<&'a str, u32>,
    numbers: Vec<u32>,
}

/// The number of a line that is not in the text.
const ABSENT: u32 = u32::MAX;

impl<'a> LineNumbers<'a> {
    fn new(lines: impl Iterator<Item = &'a str>) -> LineNumbers<'a> {
        let mut number_of = HashMap::new();
        let numbers = lines
            .map(|line| {
                let next = number_of.len() as u32;
                *number_of.entry(line).or_insert(next)
            })
            .collect();
        LineNumbers { number_of, numbers }
    }

    fn pattern<'b>(&self, lines: impl Iterator<Item = &'b str>) -> Vec<u32> {
        lines.map(|line| self.number_of.get(line).copied().unwrap_or(ABSENT)).collect()
    }

    /// Every line index where all of `lines` match in order (Knuth-Morris-Pratt over the numbers).
    fn occurrences<'b>(&self, lines: impl Iterator<Item = &'b str>) -> Vec<usize> {
        let pattern = self.pattern(lines);
        if pattern.is_empty() || pattern.len() > self.numbers.len() || pattern.contains(&ABSENT) {
            return Vec::new();
        }
        let mut fallback = vec![0usize; pattern.len()];
        let mut k = 0;
        for i in 1..pattern.len() {
            while k > 0 && pattern[i] != pattern[k] {
                k = fallback[k - 1];
            }
            if pattern[i] == pattern[k] {
                k += 1;
            }
            fallback[i] = k;
        }
        let mut found = Vec::new();
        k = 0;
        for (i, &number) in self.numbers.iter().enumerate() {
            while k > 0 && number != pattern[k] {
                k = fallback[k - 1];
            }
            if number == pattern[k] {
                k += 1;
            }
            if k == pattern.len() {
                found.push(i + 1 - k);
                k = fallback[k - 1];
            }
        }
        found
    }

    /// For each line index, how many of `lines` match in order from there (the Z-algorithm over the pattern, a
    /// separator and the text).
    fn prefix_lengths<'b>(&self, lines: impl Iterator<Item = &'b str>) -> Vec<usize> {
        let pattern = self.pattern(lines);
        // ABSENT never equals a text line; the separator must differ from both.
        let joined: Vec<u64> = pattern.iter().map(|&n| u64::from(n)).chain([u64::MAX]).chain(self.numbers.iter().map(|&n| u64::from(n))).collect();
        let z = z_function(&joined);
        let m = pattern.len() + 1;
        (0..self.numbers.len()).map(|i| z[m + i].min(pattern.len())).collect()
    }
}

/// `z[i]`: the length of the longest common prefix of `s` and `s[i..]` (`z[0]` is `s.len()`).
fn z_function(s: &[u64]) -> Vec<usize> {
    let n = s.len();
    let mut z = vec![0usize; n];
    if n == 0 {
        return z;
    }
    z[0] = n;
    let (mut left, mut right) = (0usize, 0usize);
    for i in 1..n {
        if i < right {
            z[i] = (right - i).min(z[i - left]);
        }
        while i + z[i] < n && s[z[i]] == s[i + z[i]] {
            z[i] += 1;
        }
        if i + z[i] > right {
            left = i;
            right = i + z[i];
        }
    }
    z
}

/// Shifts non-blank `lines` by the difference between `from` (the SEARCH's indentation) and `to` (the file's).
fn reindent(lines: &[String], from: &str, to: &str) -> Vec<String> {
    let shift = |line: &String| -> String {
        if is_blank(line) {
            line.clone()
        } else if let Some(extra) = to.strip_prefix(from) {
            format!("{extra}{line}")
        } else if from.starts_with(to) {
            let remove = (from.len() - to.len()).min(indentation(line).len());
            line[remove..].to_string()
        } else if let Some(rest) = line.strip_prefix(from) {
            format!("{to}{rest}")
        } else {
            line.clone()
        }
    };
    lines.iter().map(shift).collect()
}

fn ambiguous(matches: &[usize]) -> String {
    let lines: Vec<String> = matches.iter().take(5).map(|i| (i + 1).to_string()).collect();
    format!("the SEARCH lines match {} places (lines {}); add lines around them to pick one", matches.len(), lines.join(", "))
}

/// Says where the SEARCH lines come closest: the most leading lines that match (ignoring whitespace) and the first
/// line that differs.
fn not_found(text: &str, lines: &[Line], trimmed: &LineNumbers, search: &[&str]) -> String {
    let content = |i: usize| &text[lines[i].start..lines[i].content_end];
    let best = trimmed
        .prefix_lengths(search.iter().map(|line| line.trim()))
        .into_iter()
        .enumerate()
        .filter(|&(_, matched)| matched > 0 && !is_blank(search[0]))
        .max_by_key(|&(i, matched)| (matched, std::cmp::Reverse(i)));
    match best {
        Some((i, matched)) if i + matched < lines.len() && matched < search.len() => format!(
            "the SEARCH lines are not in the file; the closest place is line {}, where line {} of SEARCH `{}` differs from `{}`",
            i + 1,
            matched + 1,
            search[matched].trim(),
            content(i + matched).trim()
        ),
        _ => "the SEARCH lines are not in the file".to_string(),
    }
}

/// Composes a change of the current text (`start..end` becomes `replacement`) into `edits`, which are against the
/// original text and give `current`. The edits the change touches or overlaps merge with it into one edit.
fn compose(edits: &mut Vec<(usize, usize, String)>, current: &str, start: usize, end: usize, replacement: &str) {
    // Where each edit's replacement lies in the current text, and how much the edits before it grew the text.
    let mut spans = Vec::with_capacity(edits.len());
    let mut shift = 0isize;
    for (old_start, old_end, text) in edits.iter() {
        let at = (*old_start as isize + shift) as usize;
        spans.push((at, at + text.len(), shift));
        shift += text.len() as isize - (old_end - old_start) as isize;
    }
    let original = |position: usize, shift: isize| (position as isize - shift) as usize;
    let touching: Vec<usize> = (0..spans.len()).filter(|&k| spans[k].0 <= end && spans[k].1 >= start).collect();
    match (touching.first(), touching.last()) {
        (Some(&first), Some(&last)) => {
            let (first_at, _, shift_before) = spans[first];
            let (_, last_end, shift_at_last) = spans[last];
            let shift_after = shift_at_last + edits[last].2.len() as isize - (edits[last].1 - edits[last].0) as isize;
            let merged_start = if start < first_at { original(start, shift_before) } else { edits[first].0 };
            let merged_end = if end > last_end { original(end, shift_after) } else { edits[last].1 };
            let (from, to) = (start.min(first_at), end.max(last_end));
            let text = format!("{}{replacement}{}", &current[from..start], &current[end..to]);
            edits.splice(first..=last, [(merged_start, merged_end, text)]);
        }
        _ => {
            let position = spans.iter().take_while(|span| span.1 < start).count();
            let shift_before = spans.get(position).map_or(shift, |span| span.2);
            edits.insert(position, (original(start, shift_before), original(end, shift_before), replacement.to_string()));
        }
    }
}

/// An edit without the whole lines at its start and end that it leaves as they are; None when nothing is left.
fn trim_edit(old: &str, (start, end, text): (usize, usize, String)) -> Option<(usize, usize, String)> {
    let before = &old[start..end];
    let common = before.bytes().zip(text.bytes()).take_while(|(a, b)| a == b).count();
    let prefix = before[..common].rfind('\n').map_or(0, |i| i + 1);
    let (before, after) = (&before[prefix..], &text[prefix..]);
    let at_line_start = |s: &str, i: usize| i == 0 || s.as_bytes()[i - 1] == b'\n';
    let mut suffix = before.bytes().rev().zip(after.bytes().rev()).take_while(|(a, b)| a == b).count();
    while suffix > 0 && !(at_line_start(before, before.len() - suffix) && at_line_start(after, after.len() - suffix)) {
        suffix -= 1;
    }
    let (start, end) = (start + prefix, end - suffix);
    let text = &after[..after.len() - suffix];
    (start < end || !text.is_empty()).then(|| (start, end, text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Line matching by numbers agrees with comparing every position (small alphabets make repeats and near misses).
    #[test]
    fn line_numbers_find_what_a_scan_finds() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let words = ["a", "b", "c", "  a", ""];
        for _ in 0..2_000 {
            let text: Vec<&str> = (0..next(30)).map(|_| words[next(3) as usize]).collect();
            let pattern: Vec<&str> = (0..1 + next(4)).map(|_| words[next(5) as usize]).collect();
            let numbers = LineNumbers::new(text.iter().copied());
            let scanned: Vec<usize> = (0..(text.len() + 1).saturating_sub(pattern.len())).filter(|&i| text[i..i + pattern.len()] == pattern[..]).collect();
            assert_eq!(numbers.occurrences(pattern.iter().copied()), scanned, "{text:?} {pattern:?}");
            let prefixes: Vec<usize> = (0..text.len()).map(|i| pattern.iter().zip(&text[i..]).take_while(|(a, b)| a == b).count()).collect();
            assert_eq!(numbers.prefix_lengths(pattern.iter().copied()), prefixes, "{text:?} {pattern:?}");
        }
    }

    /// A SEARCH of 10,000 lines against a file of 20,000 repeated lines: linear, not 10,000 x 20,000 comparisons (a
    /// scan took 9.2 s in a release build; this takes milliseconds even unoptimized).
    #[test]
    fn a_long_search_in_a_repetitive_file_is_fast() {
        let text = "    x += 1;\n".repeat(20_000);
        let started = std::time::Instant::now();
        let answer = format!("big.rs\n<<<<<<< SEARCH\n{}    x += 2;\n=======\n    y\n>>>>>>> REPLACE\n", "    x += 1;\n".repeat(9_999));
        let errors = run(&[("big.rs", &text)], &answer).unwrap_err();
        assert!(errors[0].message.contains("closest place is line 1, where line 10000 of SEARCH"), "{errors:?}");
        let answer = format!("big.rs\n<<<<<<< SEARCH\n{}=======\n    y\n>>>>>>> REPLACE\n", "    x += 1;\n".repeat(10_000));
        let errors = run(&[("big.rs", &text)], &answer).unwrap_err();
        assert!(errors[0].message.contains("match 10001 places"), "{errors:?}");
        let answer = format!("big.rs\n<<<<<<< SEARCH\n{}    x += 1;\n=======\n    y\n>>>>>>> REPLACE\n", "  x += 1;\n".repeat(19_999));
        assert!(run(&[("big.rs", &text)], &answer).is_ok(), "the whole file, matched ignoring indentation");
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
    }

    /// Parses `answer` and plans it against `files` (path, text); checks that every planned file's edits are sorted,
    /// apart, and give its new text from its old one.
    #[track_caller]
    fn run(files: &[(&str, &str)], answer: &str) -> Result<Plan, Vec<BlockError>> {
        let blocks = parse(answer).expect("the answer parses");
        let lookup = |path: &str| files.iter().find(|(p, _)| *p == path).map(|(_, text)| text.to_string());
        let result = plan(&blocks, &lookup);
        if let Ok(plan) = &result {
            for change in &plan.files {
                assert!(change.edits.windows(2).all(|w| w[0].1 < w[1].0), "edits not sorted and apart: {:?}", change.edits);
                let mut text = change.old_text.clone().unwrap_or_default();
                for (start, end, replacement) in change.edits.iter().rev() {
                    text.replace_range(*start..*end, replacement);
                }
                assert_eq!(text, change.new_text, "the edits of {} do not give its new text", change.path);
            }
        }
        result
    }

    fn edit(start: usize, end: usize, text: &str) -> (usize, usize, String) {
        (start, end, text.to_string())
    }

    fn change(path: &str, old_text: Option<&str>, new_text: &str, edits: Vec<(usize, usize, String)>) -> FileChange {
        FileChange { path: path.to_string(), old_text: old_text.map(str::to_string), new_text: new_text.to_string(), edits }
    }

    fn block_error(block: usize, path: &str, message: &str) -> BlockError {
        BlockError { block, path: path.to_string(), message: message.to_string() }
    }

    #[test]
    fn exact_match() {
        let old = "fn a() {\n    1\n}\n\nfn b() {\n    2\n}\n";
        let answer = "Change b to return 3:\n\nsrc/lib.rs\n<<<<<<< SEARCH\nfn b() {\n    2\n}\n=======\nfn b() {\n    3\n}\n>>>>>>> REPLACE\n\nDone.\n";
        let expected = change("src/lib.rs", Some(old), "fn a() {\n    1\n}\n\nfn b() {\n    3\n}\n", vec![edit(27, 33, "    3\n")]);
        assert_eq!(run(&[("src/lib.rs", old)], answer), Ok(Plan { files: vec![expected], dropped: vec![] }));
    }

    #[test]
    fn whitespace_tolerant_match_reindents_the_replacement() {
        let old = "impl S {\n    fn f(&self) -> u32 {\n        let x = 1;\n        x + 1\n    }\n}\n";
        // The model lost the indentation, added a trailing space and a blank line at the start.
        let answer = "src/s.rs\n<<<<<<< SEARCH\n\nfn f(&self) -> u32 {\n    let x = 1;\n    x + 1   \n}\n=======\n\nfn f(&self) -> u32 {\n    let x = 2;\n    x * 2\n}\n>>>>>>> REPLACE\n";
        let new = "impl S {\n    fn f(&self) -> u32 {\n        let x = 2;\n        x * 2\n    }\n}\n";
        let expected = change("src/s.rs", Some(old), new, vec![edit(34, 67, "        let x = 2;\n        x * 2\n")]);
        assert_eq!(run(&[("src/s.rs", old)], answer), Ok(Plan { files: vec![expected], dropped: vec![] }));
    }

    #[test]
    fn reindent_shifts_by_the_first_lines_difference() {
        let lines = |list: &[&str]| list.iter().map(|line| line.to_string()).collect::<Vec<_>>();
        assert_eq!(reindent(&lines(&["a", "    b", ""]), "", "  "), lines(&["  a", "      b", ""]));
        assert_eq!(reindent(&lines(&["    a", "      b", "c"]), "    ", ""), lines(&["a", "  b", "c"]));
        assert_eq!(reindent(&lines(&["\ta", "\t\tb", "c"]), "\t", "    "), lines(&["    a", "    \tb", "c"]));
    }

    #[test]
    fn ambiguous_match_is_an_error_naming_block_and_path() {
        let answer = "x.rs\n<<<<<<< SEARCH\na();\n=======\nc();\n>>>>>>> REPLACE\n";
        let expected = block_error(1, "x.rs", "the SEARCH lines match 2 places (lines 1, 3); add lines around them to pick one");
        assert_eq!(run(&[("x.rs", "a();\nb();\na();\n")], answer), Err(vec![expected]));
    }

    #[test]
    fn missing_match_is_an_error_and_every_problem_is_listed() {
        let answer = "src/main.rs\n<<<<<<< SEARCH\nfn main() {\n    start();\n}\n=======\nfn main() {}\n>>>>>>> REPLACE\n\
                      src/gone.rs\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n";
        let expected = vec![
            block_error(
                1,
                "src/main.rs",
                "the SEARCH lines are not in the file; the closest place is line 1, where line 2 of SEARCH `start();` differs from `run();`",
            ),
            block_error(2, "src/gone.rs", "the file does not exist (a block creating a file has an empty SEARCH section)"),
        ];
        assert_eq!(run(&[("src/main.rs", "fn main() {\n    run();\n}\n")], answer), Err(expected));
    }

    #[test]
    fn several_blocks_in_one_file_apply_in_order_with_edits_against_the_original() {
        let old = "use a;\n\nfn one() {}\n\nfn two() {}\n\nfn three() {}\n";
        // Block 3 edits what block 1 wrote; block 2 edits above block 1; block 4 deletes lines.
        let answer = "m.rs\n<<<<<<< SEARCH\nfn three() {}\n=======\nfn three() -> u8 { 3 }\n>>>>>>> REPLACE\n\
                      m.rs\n<<<<<<< SEARCH\nuse a;\n=======\nuse a;\nuse b;\n>>>>>>> REPLACE\n\
                      m.rs\n<<<<<<< SEARCH\nfn three() -> u8 { 3 }\n=======\nfn three() -> u8 {\n    3\n}\n>>>>>>> REPLACE\n\
                      m.rs\n<<<<<<< SEARCH\nfn one() {}\n\n=======\n>>>>>>> REPLACE\n";
        let new = "use a;\nuse b;\n\nfn two() {}\n\nfn three() -> u8 {\n    3\n}\n";
        let edits = vec![edit(7, 7, "use b;\n"), edit(8, 21, ""), edit(34, 48, "fn three() -> u8 {\n    3\n}\n")];
        assert_eq!(run(&[("m.rs", old)], answer), Ok(Plan { files: vec![change("m.rs", Some(old), new, edits)], dropped: vec![] }));
    }

    #[test]
    fn several_files() {
        let files = [("a.rs", "const A: u8 = 1;\n"), ("b.rs", "const B: u8 = 1;\n")];
        let answer = "a.rs\n<<<<<<< SEARCH\nconst A: u8 = 1;\n=======\nconst A: u8 = 2;\n>>>>>>> REPLACE\n\
                      b.rs\n<<<<<<< SEARCH\nconst B: u8 = 1;\n=======\nconst B: u8 = 2;\n>>>>>>> REPLACE\n\
                      ./a.rs\n<<<<<<< SEARCH\nconst A: u8 = 2;\n=======\nconst A: u8 = 3;\n>>>>>>> REPLACE\n";
        let expected = vec![
            change("a.rs", Some(files[0].1), "const A: u8 = 3;\n", vec![edit(0, 17, "const A: u8 = 3;\n")]),
            change("b.rs", Some(files[1].1), "const B: u8 = 2;\n", vec![edit(0, 17, "const B: u8 = 2;\n")]),
        ];
        assert_eq!(run(&files, answer), Ok(Plan { files: expected, dropped: vec![] }));
    }

    #[test]
    fn empty_search_on_a_missing_file_creates_it() {
        let answer = "src/new.rs\n<<<<<<< SEARCH\n=======\npub fn new() {}\n>>>>>>> REPLACE\n";
        let expected = change("src/new.rs", None, "pub fn new() {}\n", vec![edit(0, 0, "pub fn new() {}\n")]);
        assert_eq!(run(&[], answer), Ok(Plan { files: vec![expected], dropped: vec![] }));
    }

    #[test]
    fn empty_search_on_an_existing_file_appends() {
        let files = [("a.txt", "a\nb"), ("b.txt", "a\n")];
        let answer = "a.txt\n<<<<<<< SEARCH\n=======\nc\n>>>>>>> REPLACE\nb.txt\n<<<<<<< SEARCH\n=======\nc\n>>>>>>> REPLACE\n";
        let expected = vec![
            change("a.txt", Some("a\nb"), "a\nb\nc\n", vec![edit(3, 3, "\nc\n")]),
            change("b.txt", Some("a\n"), "a\nc\n", vec![edit(2, 2, "c\n")]),
        ];
        assert_eq!(run(&files, answer), Ok(Plan { files: expected, dropped: vec![] }));
    }

    #[test]
    fn a_match_at_the_end_keeps_the_missing_final_newline() {
        let answer = "x.txt\n<<<<<<< SEARCH\nb\n=======\nc\nd\n>>>>>>> REPLACE\n";
        let expected = change("x.txt", Some("a\nb"), "a\nc\nd", vec![edit(2, 3, "c\nd")]);
        assert_eq!(run(&[("x.txt", "a\nb")], answer), Ok(Plan { files: vec![expected], dropped: vec![] }));
    }

    #[test]
    fn paths_that_escape_are_refused() {
        assert_eq!(safe_relative_path("../x.rs"), Err("`../x.rs` leaves the workspace (`..`)".to_string()));
        assert_eq!(safe_relative_path("/etc/passwd"), Err("`/etc/passwd` is an absolute path".to_string()));
        assert_eq!(safe_relative_path("a/../../b"), Err("`a/../../b` leaves the workspace (`..`)".to_string()));
        assert_eq!(safe_relative_path("C:\\x.rs"), Err("`C:/x.rs` is an absolute path".to_string()));
        assert_eq!(safe_relative_path("~/x.rs"), Err("`~/x.rs` starts at the home directory".to_string()));
        assert_eq!(safe_relative_path("a\0b"), Err("the path contains a NUL character".to_string()));
        assert_eq!(safe_relative_path("./"), Err("the path is empty".to_string()));
        assert_eq!(safe_relative_path("./src\\ide//mod.rs"), Ok("src/ide/mod.rs".to_string()));
        let answer = "../x.rs\n<<<<<<< SEARCH\n=======\nx\n>>>>>>> REPLACE\n/etc/passwd\n<<<<<<< SEARCH\nroot\n=======\nme\n>>>>>>> REPLACE\n";
        let expected = vec![
            block_error(1, "../x.rs", "`../x.rs` leaves the workspace (`..`)"),
            block_error(2, "/etc/passwd", "`/etc/passwd` is an absolute path"),
        ];
        assert_eq!(run(&[("../x.rs", ""), ("/etc/passwd", "root\n")], answer), Err(expected));
    }

    #[test]
    fn blocks_in_fences_with_the_path_before_the_fence() {
        let answer = "I'll rename the function.\n\nsrc/lib.rs\n```rust\n<<<<<<< SEARCH\nfn old() {}\n=======\nfn new() {}\n>>>>>>> REPLACE\n```\n\n\
                      And the test:\n\n`src/test.rs`:\n```rust\n<<<<<<< SEARCH\n=======\n#[test]\nfn t() {}\n>>>>>>> REPLACE\n```\n\n\
                      ### File: **docs/a.md**\n```\r\n<<<<<<<<< SEARCH  \r\n=====\r\nTitle\r\n=======\r\n>>>>>>>   REPLACE \r\n```\n";
        let block = |number: usize, path: &str, search: &str, replace: &str| Block {
            path: path.to_string(),
            search: search.to_string(),
            replace: replace.to_string(),
            number,
        };
        let expected = vec![
            block(1, "src/lib.rs", "fn old() {}\n", "fn new() {}\n"),
            block(2, "src/test.rs", "", "#[test]\nfn t() {}\n"),
            block(3, "docs/a.md", "", "Title\n=======\n"),
        ];
        assert_eq!(parse(answer), Ok(expected));
    }

    #[test]
    fn malformed_blocks_are_errors_with_their_number() {
        let error = |block: usize, message: &str| Err(ParseError { block, message: message.to_string() });
        let ok = "a.rs\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n\n";
        assert_eq!(parse(&format!("{ok}b.rs\n<<<<<<< SEARCH\nx\n>>>>>>> REPLACE\n")), error(2, "missing `=======` after the SEARCH lines"));
        assert_eq!(parse(&format!("{ok}b.rs\n<<<<<<< SEARCH\nx\n=======\ny\n")), error(2, "missing `>>>>>>> REPLACE` after the REPLACE lines"));
        assert_eq!(parse(&format!("{ok}x\n=======\ny\n>>>>>>> REPLACE\n")), error(2, "`>>>>>>> REPLACE` without a `<<<<<<< SEARCH` before it"));
        assert_eq!(
            parse("Here is the change:\n```rust\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n```\n"),
            error(1, "no file path on the line before `<<<<<<< SEARCH`")
        );
        assert_eq!(parse("Title\n=======\n\nNo blocks here.\n"), Ok(vec![]));
    }

    #[test]
    fn duplicate_and_no_op_blocks_are_dropped() {
        let answer = "x.rs\n<<<<<<< SEARCH\na\n=======\nA\n>>>>>>> REPLACE\n\
                      x.rs\n<<<<<<< SEARCH\na\n=======\nA\n>>>>>>> REPLACE\n\
                      x.rs\n<<<<<<< SEARCH\nb\n=======\nb\n>>>>>>> REPLACE\n";
        let expected = change("x.rs", Some("a\nb\n"), "A\nb\n", vec![edit(0, 2, "A\n")]);
        assert_eq!(run(&[("x.rs", "a\nb\n")], answer), Ok(Plan { files: vec![expected], dropped: vec![2, 3] }));
    }

    #[test]
    fn crlf_files_keep_their_line_endings() {
        let old = "fn a() {\r\n    1\r\n}\r\n";
        let answer = "a.rs\n<<<<<<< SEARCH\n    1\n=======\n    2\n    3\n>>>>>>> REPLACE\n";
        let expected = change("a.rs", Some(old), "fn a() {\r\n    2\r\n    3\r\n}\r\n", vec![edit(10, 17, "    2\r\n    3\r\n")]);
        assert_eq!(run(&[("a.rs", old)], answer), Ok(Plan { files: vec![expected], dropped: vec![] }));
    }

    /// Random runs of blocks over lines that are all distinct (so every SEARCH matches once), blocks often editing
    /// what earlier ones wrote: the plan's text is the lines edited in order, its edits give it from the original, and
    /// the diff's line counts add up.
    #[test]
    fn random_block_sequences_compose_into_correct_edits() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut random = move |below: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % below as u64) as usize
        };
        let mut fresh = 0;
        for _ in 0..300 {
            let mut lines: Vec<String> = (0..random(8) + 1).map(|i| format!("line {i}")).collect();
            let old: String = lines.iter().map(|line| format!("{line}\n")).collect();
            let mut answer = String::new();
            for _ in 0..random(5) + 1 {
                let start = random(lines.len() + 1);
                let count = if start == lines.len() { 0 } else { random((lines.len() - start).min(3)) + 1 };
                let search: Vec<String> = lines[start..start + count].to_vec();
                let replace: Vec<String> = (0..random(4)).map(|_| {
                    fresh += 1;
                    format!("new {fresh}")
                }).collect();
                if search.is_empty() && replace.is_empty() {
                    continue;
                }
                // An empty SEARCH appends.
                let at = if search.is_empty() { lines.len() } else { start };
                lines.splice(at..at + count, replace.iter().cloned());
                let section = |lines: &[String]| lines.iter().map(|line| format!("{line}\n")).collect::<String>();
                answer.push_str(&format!("f.txt\n<<<<<<< SEARCH\n{}=======\n{}>>>>>>> REPLACE\n", section(&search), section(&replace)));
            }
            let new: String = lines.iter().map(|line| format!("{line}\n")).collect();
            let plan = run(&[("f.txt", &old)], &answer).expect("distinct lines always match");
            assert_eq!(plan.files.first().map_or(&old, |change| &change.new_text), &new, "{answer}");
            let diff = unified_diff(&plan);
            let count = |sign: char| diff.lines().filter(|line| line.starts_with(sign) && !line.starts_with("---") && !line.starts_with("+++")).count();
            assert_eq!(count('+') as isize - count('-') as isize, new.lines().count() as isize - old.lines().count() as isize, "{diff}");
        }
    }

    #[test]
    fn unified_diff_of_a_small_change_and_a_new_file() {
        let old = "use std::fmt;\n\nfn one() -> u8 {\n    1\n}\n\nfn two() -> u8 {\n    2\n}\n";
        let answer = "src/lib.rs\n<<<<<<< SEARCH\nfn two() -> u8 {\n    2\n}\n=======\nfn two() -> u8 {\n    22\n}\n>>>>>>> REPLACE\n\
                      notes.md\n<<<<<<< SEARCH\n=======\nhello\n>>>>>>> REPLACE\n";
        let plan = run(&[("src/lib.rs", old)], answer).expect("the plan succeeds");
        let expected = "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -5,5 +5,5 @@\n }\n \n fn two() -> u8 {\n-    2\n+    22\n }\n\
                        --- /dev/null\n+++ b/notes.md\n@@ -0,0 +1 @@\n+hello\n";
        assert_eq!(unified_diff(&plan), expected);
    }

    #[test]
    fn unified_diff_marks_a_missing_final_newline_and_splits_distant_hunks() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk";
        let answer = "x.txt\n<<<<<<< SEARCH\nb\n=======\nB\n>>>>>>> REPLACE\nx.txt\n<<<<<<< SEARCH\n=======\nl\n>>>>>>> REPLACE\n";
        let plan = run(&[("x.txt", old)], answer).expect("the plan succeeds");
        let expected = "--- a/x.txt\n+++ b/x.txt\n@@ -1,5 +1,5 @@\n a\n-b\n+B\n c\n d\n e\n\
                        @@ -8,4 +8,5 @@\n h\n i\n j\n-k\n\\ No newline at end of file\n+k\n+l\n";
        assert_eq!(unified_diff(&plan), expected);
    }
}
