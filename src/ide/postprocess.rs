//! Post-processing of a model's fill-in-the-middle completion before it is shown as an
//! inline completion (ghost text) at the cursor: the shape the answer may take (one line,
//! or a block on a blank line or in an empty body), markdown fences, stopping where the
//! enclosing block ends, text that repeats what follows the cursor, and a tree-sitter check
//! that the completion adds no syntax error. Pure: byte offsets into UTF-8 text, always on
//! char boundaries; no IO, no LSP types.

use tree_sitter::{InputEdit, Point, Tree};

use crate::lang::{floor_char_boundary, parse, Lang};

/// A block completion is cut after this many lines.
pub const MAX_BLOCK_LINES: usize = 60;

/// Where the completion goes.
pub struct Site<'a> {
    pub lang: Lang,
    pub text: &'a str,
    /// Byte offset of the cursor (moved back to a char boundary if it splits one).
    pub offset: usize,
}

impl<'a> Site<'a> {
    /// The cursor, on a char boundary and inside the text.
    pub fn cursor(&self) -> usize {
        floor_char_boundary(self.text, self.offset)
    }

    /// Start of the cursor's line.
    pub fn line_start(&self) -> usize {
        let cursor = self.cursor();
        self.text[..cursor].rfind('\n').map_or(0, |i| i + 1)
    }

    /// End of the cursor's line (its `\n`, or the end of the text).
    pub fn line_end(&self) -> usize {
        let cursor = self.cursor();
        self.text[cursor..].find('\n').map_or(self.text.len(), |i| cursor + i)
    }

    /// The text of the cursor's line before the cursor.
    pub fn line_before(&self) -> &'a str {
        &self.text[self.line_start()..self.cursor()]
    }

    /// The text of the cursor's line after the cursor (without a trailing `\r`).
    pub fn line_after(&self) -> &'a str {
        let after = &self.text[self.cursor()..self.line_end()];
        after.strip_suffix('\r').unwrap_or(after)
    }

    /// The text after the cursor.
    pub fn suffix(&self) -> &'a str {
        &self.text[self.cursor()..]
    }

    /// The leading whitespace of the cursor's line.
    fn indentation(&self) -> &'a str {
        let line = &self.text[self.line_start()..self.line_end()];
        &line[..line.len() - line.trim_start().len()]
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Line,
    Block,
}

/// Line: inside an expression or after code on the line -> one line at most. Block: the
/// cursor's line is blank (only whitespace around the cursor) or the cursor sits in an
/// empty body (`{` before and `}` after, only whitespace between, e.g. `fn f() {$0}` or an
/// empty line inside `{ }`) -> several lines.
pub fn shape(site: &Site) -> Shape {
    if site.line_before().trim().is_empty() && site.line_after().trim().is_empty() {
        return Shape::Block;
    }
    let cursor = site.cursor();
    if site.text[..cursor].trim_end().ends_with('{') && site.text[cursor..].trim_start().starts_with('}') {
        return Shape::Block;
    }
    Shape::Line
}

/// Whether the cursor is inside a comment or a string/char/template literal. The cursor is
/// inside a literal or a block comment when it is strictly between its first and last
/// byte (before the opening quote or after the closing one is code); inside a line comment
/// from after its first byte to the end of its line. Code in a template substitution
/// (`${...}`) is code.
pub fn in_comment_or_string(site: &Site, tree: &Tree) -> bool {
    let cursor = site.cursor();
    let spec = site.lang.spec();
    // The nodes that contain the cursor (start < cursor <= end), outermost first; children
    // do not overlap, so there is at most one such child per node.
    let mut path = vec![tree.root_node()];
    loop {
        let node = *path.last().expect("the path starts at the root");
        let mut walk = node.walk();
        let child = node.children(&mut walk).find(|child| child.start_byte() < cursor && cursor <= child.end_byte());
        match child {
            Some(child) => path.push(child),
            None => break,
        }
    }
    for node in path.iter().rev() {
        let kind = node.kind();
        if spec.literal_code_kind == Some(kind) && cursor < node.end_byte() {
            return false;
        }
        if spec.literal_kinds.contains(&kind) && cursor < node.end_byte() {
            return true;
        }
        // A TypeScript `comment` is either a line or a block comment.
        if spec.comment_kinds.contains(&kind) {
            let text = &site.text[node.start_byte()..node.end_byte()];
            if text.starts_with("/*") {
                if cursor < node.end_byte() {
                    return true;
                }
            } else {
                let content_end = node.start_byte() + text.trim_end_matches(['\n', '\r']).len();
                if cursor <= content_end {
                    return true;
                }
            }
        }
    }
    false
}

/// The completion to show, or None to show nothing. `tree` is the parse of `site.text`.
///
/// In order: (1) strip `\r` and a markdown fence around the answer; (2) Line shape: keep
/// the first line; Block shape on a blank line: skip leading blank lines (the first kept
/// line loses the indentation the cursor already has); (3) Block: cap at
/// `MAX_BLOCK_LINES` lines and cut where a closer would close a block that starts before
/// the cursor and is closed in the suffix (see `cut_at_block_end`); (4) drop text that
/// repeats the suffix (see `drop_repeated_lines`, `trim_repeated_tail`); (5) trim
/// trailing whitespace, nothing left -> None; in an empty body written on one line
/// (`{$0}`), a multi-line completion gets a line break and the line's indentation before
/// the `}`; (6) the syntax check (see `SyntaxCheck`), falling back to shorter completions:
/// for Line, once, up to the last `;`/`)` (kept) or `,` (dropped); for Block, the longest
/// run of whole first lines that adds no error.
pub fn clean(site: &Site, tree: &Tree, completion: &str) -> Option<String> {
    let shape = shape(site);
    let text = normalise(completion);
    // Asked again right after its completion was accepted (editors ask at once), a model
    // tends to repeat it: a completion that is the cursor's line so far, again, is dropped.
    let line_before = site.text[..site.cursor()].rsplit('\n').next().unwrap_or("").trim();
    if !line_before.is_empty() && text.trim() == line_before {
        return None;
    }
    let cut: String = match shape {
        Shape::Line => {
            let first = text.split('\n').next().unwrap_or("");
            trim_repeated_tail(site.lang, shape, first, site.line_after()).to_string()
        }
        Shape::Block => {
            let body = skip_leading_blank_lines(site, &text);
            let body = first_lines(body, MAX_BLOCK_LINES);
            let body = cut_at_block_end(site.lang, body, unclosed_brackets(site, tree));
            let body = drop_repeated_lines(site.lang, body, site.suffix());
            trim_repeated_tail(site.lang, shape, body, site.line_after()).to_string()
        }
    };
    let check = SyntaxCheck::new(site, tree);
    if let Some(candidate) = finish(site, shape, &cut) {
        if !check.adds_errors(&candidate) {
            return Some(candidate);
        }
    }
    match shape {
        Shape::Line => {
            let shorter = cut_at_last_separator(site.lang, &cut)?;
            finish(site, shape, shorter).filter(|candidate| !check.adds_errors(candidate))
        }
        Shape::Block => {
            let lines: Vec<&str> = cut.split_inclusive('\n').collect();
            (1..lines.len()).rev().find_map(|n| {
                let end: usize = lines[..n].iter().map(|line| line.len()).sum();
                finish(site, shape, &cut[..end]).filter(|candidate| !check.adds_errors(candidate))
            })
        }
    }
}

/// Removes `\r`, and a markdown fence around the answer: a first non-blank line that
/// opens a fence (```` ```rust ````) with the blank lines before it, and a last non-blank
/// line that closes one with the blank lines after it.
fn normalise(completion: &str) -> String {
    let text = completion.replace('\r', "");
    let mut lines: Vec<&str> = text.split('\n').collect();
    if let Some(first) = lines.iter().position(|line| !line.trim().is_empty()) {
        if lines[first].trim_start().starts_with("```") {
            lines.drain(..=first);
        }
    }
    if let Some(last) = lines.iter().rposition(|line| !line.trim().is_empty()) {
        if lines[last].trim() == "```" {
            lines.truncate(last);
        }
    }
    lines.join("\n")
}

/// On a line blank before the cursor, a completion that starts with a line break starts
/// at its first non-blank line instead, without the indentation the cursor already has.
fn skip_leading_blank_lines<'c>(site: &Site, text: &'c str) -> &'c str {
    let before = site.line_before();
    if !before.trim().is_empty() || !text.split('\n').next().unwrap_or("").trim().is_empty() {
        return text;
    }
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        if !line.trim().is_empty() {
            break;
        }
        start += line.len();
    }
    let rest = &text[start..];
    rest.strip_prefix(before).unwrap_or(rest)
}

fn first_lines(text: &str, count: usize) -> &str {
    match text.match_indices('\n').nth(count - 1) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// Cuts a block completion where it leaves the block the cursor is in: at the first closer
/// that would take the bracket depth of the completion below zero, as it would close a
/// block whose closer is already in the suffix. The cut is at the start of that closer's
/// line when only whitespace precedes the closer on it, else just before the closer.
/// The first `unclosed` such closers are kept: they close brackets the user opened and
/// the suffix leaves open (`if ready {$0` typed without its `}`), see `unclosed_brackets`.
fn cut_at_block_end(lang: Lang, text: &str, unclosed: usize) -> &str {
    let mut depth = 0usize;
    let mut unclosed = unclosed;
    for &(at, byte) in &lex(lang, text).puncts {
        match byte {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' if depth == 0 && unclosed > 0 => unclosed -= 1,
            b')' | b']' | b'}' if depth == 0 => {
                let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
                let end = if text[line_start..at].trim().is_empty() { line_start } else { at };
                return &text[..end];
            }
            b')' | b']' | b'}' => depth -= 1,
            _ => {}
        }
    }
    text
}

/// How many brackets open before the cursor the suffix does not close, within the
/// top-level item (node of the tree) around the cursor: the brackets open at the cursor
/// (lexing the item's text before it) less the closers of the item's text after it that
/// take its depth below zero. Counting within the item keeps a broken item elsewhere in
/// the file out of it; when tree-sitter made the whole file one ERROR node, the whole file
/// is counted.
fn unclosed_brackets(site: &Site, tree: &Tree) -> usize {
    let cursor = site.cursor();
    let root = tree.root_node();
    let (start, end) = if root.is_error() {
        (0, site.text.len())
    } else {
        let mut walk = root.walk();
        let item = root.children(&mut walk).find(|node| node.start_byte() < cursor && cursor <= node.end_byte());
        let Some(item) = item else { return 0 };
        (item.start_byte(), item.end_byte().max(cursor))
    };
    let mut open = 0usize;
    for &(_, byte) in &lex(site.lang, &site.text[start..cursor]).puncts {
        match byte {
            b'(' | b'[' | b'{' => open += 1,
            b')' | b']' | b'}' => open = open.saturating_sub(1),
            _ => {}
        }
    }
    let mut depth = 0usize;
    for &(_, byte) in &lex(site.lang, &site.text[cursor..end]).puncts {
        match byte {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' if depth == 0 => open = open.saturating_sub(1),
            b')' | b']' | b'}' => depth -= 1,
            _ => {}
        }
    }
    open
}

/// Drops the trailing lines of a block completion that equal (trimmed) the first
/// non-blank lines of the suffix: the model wrote the code that follows the cursor again.
/// The most lines that match are dropped, but never a closer: one that closes nothing in
/// the completion was kept by `cut_at_block_end` because the suffix does not close its
/// bracket (a `}` line that looks like the suffix's `}` line but closes the user's `if`),
/// and one whose opener comes before the dropped lines is needed by that opener.
fn drop_repeated_lines<'c>(lang: Lang, text: &'c str, suffix: &str) -> &'c str {
    let mut lines: Vec<(usize, &str)> = Vec::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        if !line.trim().is_empty() {
            lines.push((start, line.trim()));
        }
        start += line.len();
    }
    let closers = lex(lang, text).closers();
    let suffix_lines: Vec<&str> = suffix.lines().map(str::trim).filter(|line| !line.is_empty()).take(lines.len()).collect();
    for count in (1..=suffix_lines.len()).rev() {
        let tail = &lines[lines.len() - count..];
        let start = tail[0].0;
        if closers.iter().any(|&(at, opener)| at >= start && opener.is_none_or(|opener| opener < start)) {
            continue;
        }
        if tail.iter().map(|line| line.1).eq(suffix_lines[..count].iter().copied()) {
            return &text[..start];
        }
    }
    text
}

/// Drops the longest tail of the completion's last line that equals the start of `rest`
/// (the rest of the cursor's line): `foo(a, b))` before `)` -> `foo(a, b)`, `x;` before
/// `;` -> `x`. A tail is only a repetition when it starts in code (not inside a literal
/// or comment) and holds no closer whose opener comes before the tail: in `bar($0)`, the
/// `)` of the completion `foo()` closes `foo(` and stays. In a block, a closer that closes
/// nothing in the completion stays too (see `drop_repeated_lines`).
fn trim_repeated_tail<'c>(lang: Lang, shape: Shape, text: &'c str, rest: &str) -> &'c str {
    let line_start = text.rfind('\n').map_or(0, |i| i + 1);
    let lexed = lex(lang, text);
    let closers = lexed.closers();
    for (start, _) in text[line_start..].char_indices() {
        let start = line_start + start;
        let tail = &text[start..];
        if tail.trim().is_empty() || !rest.starts_with(tail) {
            continue;
        }
        if lexed.literals.iter().any(|&(from, to)| from < start && start < to) {
            continue;
        }
        let needed = |opener: Option<usize>| match opener {
            Some(opener) => opener < start,
            None => shape == Shape::Block,
        };
        if closers.iter().any(|&(at, opener)| at >= start && needed(opener)) {
            continue;
        }
        return &text[..start];
    }
    text
}

/// Rule 5: trailing whitespace goes (trailing blank lines too); nothing left -> None. In an
/// empty body on one line (`fn f() {$0}`), a multi-line block ends with a line break and
/// the line's indentation, so that the `}` stays on a line of its own.
fn finish(site: &Site, shape: Shape, text: &str) -> Option<String> {
    let text = text.trim_end();
    if text.trim().is_empty() {
        return None;
    }
    let mut text = text.to_string();
    if shape == Shape::Block && text.contains('\n') && site.line_after().trim_start().starts_with('}') {
        text.push('\n');
        text.push_str(site.indentation());
    }
    Some(text)
}

/// The Line fallback: the completion up to its last `;` or `)` (kept) or `,` (dropped) in
/// code, when that makes it shorter.
fn cut_at_last_separator(lang: Lang, text: &str) -> Option<&str> {
    let lexed = lex(lang, text);
    lexed.puncts.iter().rev().find_map(|&(at, byte)| {
        let end = match byte {
            b';' | b')' => at + 1,
            b',' => at,
            _ => return None,
        };
        (end < text.trim_end().len()).then(|| &text[..end])
    })
}

/// Step 6, whether a completion adds syntax errors. The completion is inserted at the
/// cursor and the text reparsed (incrementally, from the original tree); the error sites
/// of a tree are its outermost ERROR nodes and its MISSING nodes. Code being typed is
/// often already broken at the cursor (`let x = $0`), so an error is only held against
/// the completion when the original cannot account for it. The completion adds errors if
/// any of these holds:
/// - an error site lies strictly inside the inserted text (it starts after its first byte
///   and ends before its last): that text did not exist before, so the error is its own;
/// - more error sites overlap the lines the insertion touches (from the start of the
///   cursor's line to the end of the line where the insertion ends) than overlapped the
///   cursor's line in the original: an error already at the cursor may stay (an unclosed
///   `foo(` the completion continues) or be fixed, but not multiply;
/// - the whole tree has more error sites than the original: a completion must not break
///   code elsewhere (an unclosed `{` shows up as a MISSING `}` at the end of the file).
struct SyntaxCheck<'a> {
    lang: Lang,
    text: &'a str,
    tree: &'a Tree,
    cursor: usize,
    line_start: usize,
    start_point: Point,
    local_errors: usize,
    total_errors: usize,
}

impl<'a> SyntaxCheck<'a> {
    fn new(site: &Site<'a>, tree: &'a Tree) -> SyntaxCheck<'a> {
        let cursor = site.cursor();
        let line_start = site.line_start();
        let line_end = site.line_end();
        let sites = error_sites(tree);
        let local_errors = sites.iter().filter(|&&site| overlaps(site, (line_start, line_end))).count();
        let row = memchr::memchr_iter(b'\n', &site.text.as_bytes()[..line_start]).count();
        SyntaxCheck {
            lang: site.lang,
            text: site.text,
            tree,
            cursor,
            line_start,
            start_point: Point { row, column: cursor - line_start },
            local_errors,
            total_errors: sites.len(),
        }
    }

    fn adds_errors(&self, completion: &str) -> bool {
        let end = self.cursor + completion.len();
        let mut text = String::with_capacity(self.text.len() + completion.len());
        text.push_str(&self.text[..self.cursor]);
        text.push_str(completion);
        text.push_str(&self.text[self.cursor..]);
        let mut old_tree = self.tree.clone();
        old_tree.edit(&InputEdit {
            start_byte: self.cursor,
            old_end_byte: self.cursor,
            new_end_byte: end,
            start_position: self.start_point,
            old_end_position: self.start_point,
            new_end_position: advance(self.start_point, completion),
        });
        let tree = parse(self.lang, &text, Some(&old_tree));
        let sites = error_sites(&tree);
        if sites.iter().any(|&(from, to)| from > self.cursor && to < end) {
            return true;
        }
        let lines_end = text[end..].find('\n').map_or(text.len(), |i| end + i);
        let local = sites.iter().filter(|&&site| overlaps(site, (self.line_start, lines_end))).count();
        local > self.local_errors || sites.len() > self.total_errors
    }
}

/// Inclusive at both ends, so that zero-width MISSING nodes at a line's edge count.
fn overlaps((from, to): (usize, usize), (start, end): (usize, usize)) -> bool {
    from <= end && to >= start
}

fn advance(start: Point, inserted: &str) -> Point {
    match inserted.rfind('\n') {
        None => Point { row: start.row, column: start.column + inserted.len() },
        Some(last) => Point { row: start.row + memchr::memchr_iter(b'\n', inserted.as_bytes()).count(), column: inserted.len() - last - 1 },
    }
}

/// Byte ranges of the outermost ERROR nodes and of the MISSING nodes of a tree.
fn error_sites(tree: &Tree) -> Vec<(usize, usize)> {
    let mut sites = Vec::new();
    let mut cursor = tree.walk();
    loop {
        let node = cursor.node();
        let descend = if node.is_error() || node.is_missing() {
            sites.push((node.start_byte(), node.end_byte()));
            false
        } else {
            node.has_error()
        };
        if descend && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return sites;
            }
        }
    }
}

/// What a small lexer finds in a completion: the brackets and separators in code, and the
/// literals and comments it skipped. It knows `//` and `/* */` comments (nested in Rust),
/// strings with escapes, Rust raw strings and char literals (a `'` not closed one char
/// later is a lifetime or label), and JS/TS `'` strings and template literals, whose
/// `${` and matching `}` count as a bracket pair. Regex literals are not recognised.
struct Lexed {
    /// Byte offset and byte of each `(`, `)`, `[`, `]`, `{`, `}`, `;`, `,` in code.
    puncts: Vec<(usize, u8)>,
    /// Byte ranges of literals and comments; an unterminated one runs to the end.
    literals: Vec<(usize, usize)>,
}

impl Lexed {
    /// Each closer with the offset of the opener it closes (None when it closes nothing
    /// in the text). Bracket kinds are not checked against each other.
    fn closers(&self) -> Vec<(usize, Option<usize>)> {
        let mut openers = Vec::new();
        let mut closers = Vec::new();
        for &(at, byte) in &self.puncts {
            match byte {
                b'(' | b'[' | b'{' => openers.push(at),
                b')' | b']' | b'}' => closers.push((at, openers.pop())),
                _ => {}
            }
        }
        closers
    }
}

fn lex(lang: Lang, text: &str) -> Lexed {
    let bytes = text.as_bytes();
    let len = bytes.len();
    let syntax = lang.spec().lexer;
    let mut puncts = Vec::new();
    let mut literals = Vec::new();
    // One entry per open `{`: true when it opened a template substitution (`${`).
    let mut braces: Vec<bool> = Vec::new();
    // Inside the text of a template literal that started (or resumed) at this offset.
    let mut template: Option<usize> = None;
    let mut i = 0;
    while i < len {
        if let Some(start) = template.take() {
            let mut j = i;
            loop {
                if j >= len {
                    literals.push((start, len));
                    i = len;
                    break;
                }
                match bytes[j] {
                    b'\\' => j += 2,
                    b'`' => {
                        literals.push((start, j + 1));
                        i = j + 1;
                        break;
                    }
                    b'$' if bytes.get(j + 1) == Some(&b'{') => {
                        literals.push((start, j + 1));
                        puncts.push((j + 1, b'{'));
                        braces.push(true);
                        i = j + 2;
                        break;
                    }
                    _ => j += 1,
                }
            }
            continue;
        }
        let next = bytes.get(i + 1).copied();
        match bytes[i] {
            b'/' if next == Some(b'/') => {
                let end = memchr::memchr(b'\n', &bytes[i..]).map_or(len, |n| i + n);
                literals.push((i, end));
                i = end;
            }
            b'/' if next == Some(b'*') => {
                let end = block_comment_end(bytes, i, syntax.nested_block_comments);
                literals.push((i, end));
                i = end;
            }
            b'"' => {
                let end = quoted_end(bytes, i, b'"', syntax.strings_end_at_newline);
                literals.push((i, end));
                i = end;
            }
            b'\'' if syntax.single_quoted_strings => {
                let end = quoted_end(bytes, i, b'\'', true);
                literals.push((i, end));
                i = end;
            }
            b'\'' => match rust_char_end(text, i) {
                Some(end) => {
                    literals.push((i, end));
                    i = end;
                }
                None => i += 1,
            },
            b'`' if syntax.template_literals => {
                template = Some(i);
                i += 1;
            }
            b'r' | b'b' if syntax.raw_strings && !(i > 0 && is_ident_byte(bytes[i - 1])) => match raw_string_end(bytes, i) {
                Some(end) => {
                    literals.push((i, end));
                    i = end;
                }
                None => i += 1,
            },
            b'{' => {
                puncts.push((i, b'{'));
                braces.push(false);
                i += 1;
            }
            b'}' => {
                puncts.push((i, b'}'));
                if braces.pop() == Some(true) {
                    template = Some(i + 1);
                }
                i += 1;
            }
            byte @ (b'(' | b')' | b'[' | b']' | b';' | b',') => {
                puncts.push((i, byte));
                i += 1;
            }
            _ => i += 1,
        }
    }
    Lexed { puncts, literals }
}

fn is_ident_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80
}

/// The end of a `/* */` comment starting at `start` (the end of the text if unclosed).
fn block_comment_end(bytes: &[u8], start: usize, nested: bool) -> usize {
    let mut depth = 1;
    let mut j = start + 2;
    while j < bytes.len() {
        if nested && bytes[j] == b'/' && bytes.get(j + 1) == Some(&b'*') {
            depth += 1;
            j += 2;
        } else if bytes[j] == b'*' && bytes.get(j + 1) == Some(&b'/') {
            depth -= 1;
            j += 2;
            if depth == 0 {
                return j;
            }
        } else {
            j += 1;
        }
    }
    bytes.len()
}

/// The end of a quoted literal starting at `start`, after its closing quote; with
/// `stop_at_newline`, an unclosed literal ends at the line's end.
fn quoted_end(bytes: &[u8], start: usize, quote: u8, stop_at_newline: bool) -> usize {
    let mut j = start + 1;
    while j < bytes.len() {
        match bytes[j] {
            b'\\' => j += 2,
            b'\n' if stop_at_newline => return j,
            byte if byte == quote => return j + 1,
            _ => j += 1,
        }
    }
    bytes.len()
}

/// The end of a Rust char literal at `start` (`'x'`, `'é'`, `'\n'`, `'\u{1F600}'`), or
/// None when the `'` starts a lifetime or a label.
fn rust_char_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    if bytes.get(start + 1) == Some(&b'\\') {
        // An escape: the char after the backslash, then anything up to the closing quote.
        let escaped = text.get(start + 2..)?.chars().next()?;
        let from = start + 2 + escaped.len_utf8();
        let close = bytes[from..].iter().take(10).position(|&b| b == b'\'' || b == b'\n')?;
        return (bytes[from + close] == b'\'').then_some(from + close + 1);
    }
    let c = text.get(start + 1..)?.chars().next()?;
    let after = start + 1 + c.len_utf8();
    (c != '\'' && c != '\n' && bytes.get(after) == Some(&b'\'')).then_some(after + 1)
}

/// The end of a Rust raw string (`r"…"`, `r#"…"#`, `br"…"`) starting at `start`, or None
/// when the `r`/`b` starts something else.
fn raw_string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut j = match (bytes[start], bytes.get(start + 1)) {
        (b'r', _) => start + 1,
        (b'b', Some(b'r')) => start + 2,
        _ => return None,
    };
    let hashes = bytes[j..].iter().take_while(|&&b| b == b'#').count();
    j += hashes;
    if bytes.get(j) != Some(&b'"') {
        return None;
    }
    j += 1;
    while j < bytes.len() {
        if bytes[j] == b'"' && bytes[j + 1..].iter().take(hashes).filter(|&&b| b == b'#').count() == hashes {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cleans `model_output` at the `$0` of `fixture` and compares with the completion
    /// expected (None: nothing shown).
    #[track_caller]
    fn check(lang: Lang, fixture: &str, model_output: &str, expected: Option<&str>) {
        let offset = fixture.find("$0").expect("the fixture has a $0 cursor");
        let text = fixture.replacen("$0", "", 1);
        let tree = parse(lang, &text, None);
        let site = Site { lang, text: &text, offset };
        assert_eq!(clean(&site, &tree, model_output).as_deref(), expected);
    }

    #[track_caller]
    fn check_shape(fixture: &str, expected: Shape) {
        let offset = fixture.find("$0").expect("the fixture has a $0 cursor");
        let text = fixture.replacen("$0", "", 1);
        assert_eq!(shape(&Site { lang: Lang::Rust, text: &text, offset }), expected);
    }

    #[track_caller]
    fn check_in_comment_or_string(lang: Lang, fixture: &str, expected: bool) {
        let offset = fixture.find("$0").expect("the fixture has a $0 cursor");
        let text = fixture.replacen("$0", "", 1);
        let tree = parse(lang, &text, None);
        assert_eq!(in_comment_or_string(&Site { lang, text: &text, offset }, &tree), expected, "{fixture}");
    }

    #[test]
    fn shapes() {
        check_shape("fn f() {\n    $0\n}", Shape::Block);
        check_shape("fn f() {\n$0\n}", Shape::Block);
        check_shape("fn f() {$0}", Shape::Block);
        check_shape("fn f() { $0 }", Shape::Block);
        check_shape("fn f() {\n    let x = $0\n}", Shape::Line);
        check_shape("fn f() {\n    foo($0)\n}", Shape::Line);
        check_shape("fn f() {\n    $0foo();\n}", Shape::Line);
    }

    #[test]
    fn line_in_call_arguments_drops_the_repeated_closing_paren() {
        check(Lang::Rust, "fn f() {\n    foo(bar, $0)\n}\n", "baz(1, 2))", Some("baz(1, 2)"));
    }

    #[test]
    fn line_keeps_a_closer_that_closes_its_own_opener() {
        check(Lang::Rust, "fn f() {\n    foo(bar, $0)\n}\n", "baz()", Some("baz()"));
    }

    #[test]
    fn a_repetition_of_the_line_just_written_is_dropped() {
        check(Lang::Rust, "fn mul(a: i32, b: i32) -> i32 {\n    a * b$0\n}\n", "a * b", None);
        check(Lang::Rust, "fn f() {\n    foo(x, $0)\n}\n", "x, y", Some("x, y"));
    }

    #[test]
    fn line_after_let_drops_the_repeated_semicolon() {
        check(Lang::Rust, "fn f() {\n    let x = $0;\n}\n", "compute(1);", Some("compute(1)"));
    }

    #[test]
    fn line_keeps_the_first_line_of_a_multi_line_answer() {
        // The original has an error at the cursor (`let total =` lacks a value); the
        // completion fixes it.
        check(Lang::Rust, "fn f(a: i32, b: i32) {\n    let total = $0\n}\n", "a + b;\n    let y = 2;\n", Some("a + b;"));
    }

    #[test]
    fn line_with_an_empty_first_line_shows_nothing() {
        check(Lang::Rust, "fn f() {\n    let x = $0\n}\n", "\n    1;", None);
    }

    #[test]
    fn line_falls_back_to_the_last_separator() {
        check(Lang::Rust, "fn f() {\n    let x = $0\n}\n", "1; let = = ;", Some("1;"));
    }

    #[test]
    fn block_stops_before_the_functions_closer_the_model_repeated() {
        check(Lang::Rust, "fn sum(a: i32, b: i32) -> i32 {\n    let c = a + b;\n    $0\n}\n", "c * 2\n}\n", Some("c * 2"));
    }

    #[test]
    fn block_in_an_empty_body() {
        check(Lang::Rust, "fn f() {$0}\n", "\n    let x = 1;\n    println!(\"{x}\");\n}", Some("\n    let x = 1;\n    println!(\"{x}\");\n"));
    }

    #[test]
    fn block_is_cut_where_the_model_closes_the_block_and_goes_on() {
        check(
            Lang::Rust,
            "fn f() {\n    $0\n}\n\nfn g() {}\n",
            "let x = 1;\n    println!(\"{x}\");\n}\n\nfn h() {\n    todo!()\n}\n",
            Some("let x = 1;\n    println!(\"{x}\");"),
        );
    }

    #[test]
    fn braces_in_strings_chars_and_comments_do_not_count() {
        check(
            Lang::Rust,
            "fn f<'a>(s: &'a str) {\n    $0\n}\n",
            "let r: &'a str = \"}\";\n    let c = '}'; // }\n    let raw = r#\"}\"#;\n}\nfn g() {}",
            Some("let r: &'a str = \"}\";\n    let c = '}'; // }\n    let raw = r#\"}\"#;"),
        );
        // Lifetimes are not char literals: the `{` after `'a>` opens the struct's body.
        check(Lang::Rust, "fn f() {}\n\n$0\n", "struct S<'a> { s: &'a str }\n", Some("struct S<'a> { s: &'a str }"));
    }

    #[test]
    fn a_completion_that_adds_a_syntax_error_shows_nothing() {
        check(Lang::Rust, "fn f() {\n    $0\n}\n", "let = = ;", None);
    }

    #[test]
    fn a_completion_that_leaves_a_block_open_shows_nothing() {
        // Inserted alone, `if ready {` would take the function's `}`: a MISSING `}` at the
        // end of the file, outside the inserted lines.
        check(Lang::Rust, "fn f(ready: bool) {\n    $0\n}\n", "if ready {\n        go();", None);
    }

    #[test]
    fn block_with_broken_last_lines_keeps_the_fine_prefix() {
        check(Lang::Rust, "fn f() {\n    $0\n}\n", "let a = 1;\n    let b = a + 1;\n    let = = ;\n", Some("let a = 1;\n    let b = a + 1;"));
    }

    #[test]
    fn block_drops_lines_that_repeat_the_suffix() {
        let fixture = "fn f() -> i32 {\n    let a = 1;\n    $0\n    a + b\n}\n";
        check(Lang::Rust, fixture, "let b = 2;\n    a + b", Some("let b = 2;"));
        check(Lang::Rust, fixture, "let b = 2;\n    a + b\n}\n", Some("let b = 2;"));
    }

    #[test]
    fn block_skips_a_leading_blank_line_and_the_cursors_indentation() {
        check(Lang::Rust, "fn f() {\n    $0\n}\n", "\n    let x = 1;\n    let y = 2;", Some("let x = 1;\n    let y = 2;"));
    }

    #[test]
    fn markdown_fences_and_carriage_returns_are_stripped() {
        check(Lang::Rust, "fn f() {\n    $0\n}\n", "```rust\r\nlet x = 1;\r\n```\r\n", Some("let x = 1;"));
        check(Lang::Rust, "fn f() {\n    let x = $0;\n}\n", "```\n1\n```", Some("1"));
    }

    #[test]
    fn typescript_arrow_function_body() {
        check(Lang::TypeScript, "const double = (a: number) => {$0};\n", "\n  return a * 2;\n};\n", Some("\n  return a * 2;\n"));
    }

    #[test]
    fn typescript_object_literal() {
        check(Lang::TypeScript, "const point = { x: 1, $0 };\n", "y: 2 };", Some("y: 2"));
        check(
            Lang::TypeScript,
            "const config = {\n  name: \"x\",\n  $0\n};\n",
            "port: 8080,\n  host: `${name}}`,\n};\nconst other = {};",
            Some("port: 8080,\n  host: `${name}}`,"),
        );
    }

    #[test]
    fn typescript_syntax_error_shows_nothing() {
        check(Lang::TypeScript, "function f() {\n  $0\n}\n", "const = = ;", None);
    }

    #[test]
    fn non_ascii_text_before_the_cursor() {
        check(Lang::Rust, "fn f() {\n    let café = \"naïve\";\n    let n = café.len() + $0;\n}\n", "café.chars().count();", Some("café.chars().count()"));
        check(Lang::TypeScript, "const é = \"ü\"; // ö\nconst s = é + $0;\n", "\"ß\";", Some("\"ß\""));
        // An offset inside a char moves back to its start.
        let text = "let é = 1;";
        let site = Site { lang: Lang::TypeScript, text, offset: 5 };
        assert_eq!(site.cursor(), 4);
        assert_eq!(site.line_before(), "let ");
    }

    #[test]
    fn line_may_leave_an_error_the_original_has_at_the_cursor() {
        // `foo(1, ` is unclosed before and after: the error is the user's, not the model's.
        check(Lang::Rust, "fn f() {\n    let v = foo(1, $0\n}\n", "2", Some("2"));
    }

    #[test]
    fn block_may_close_a_bracket_the_user_left_open() {
        let fixture = "fn f() {\n    let v = foo(1,\n        $0\n}\n";
        check(Lang::Rust, fixture, "2);\n}\nfn g() {}", Some("2);"));
        // Fixing the call but starting a broken statement on the cursor's line: an error
        // on the inserted lines where the original had none (its error was a line above).
        check(Lang::Rust, fixture, "2); let", None);
        let fixture = "fn f(ready: bool) {\n    if ready {\n        $0\n}\n";
        check(Lang::Rust, fixture, "go();\n    }\n}\n\nfn g() {}", Some("go();\n    }"));
        let fixture = "fn f(ready: bool) {\n    if ready {\n        $0\n}\n\nfn g() {}\n";
        check(Lang::Rust, fixture, "go();\n    }\n}\n\nfn g() {}", Some("go();\n    }"));
        // The same code with the `}` the editor typed: the model's `}` repeats it.
        let fixture = "fn f(ready: bool) {\n    if ready {\n        $0\n    }\n}\n\nfn g() {}\n";
        check(Lang::Rust, fixture, "go();\n    }\n}\n\nfn g() {}", Some("go();"));
    }

    #[test]
    fn an_unterminated_comment_shows_nothing() {
        check(Lang::Rust, "fn f() {\n    $0\n}\n\nfn g() {\n    h();\n}\n", "let x = 1; /* note", None);
    }

    #[test]
    fn comments_and_strings() {
        check_in_comment_or_string(Lang::Rust, "fn f() {\n    // comment $0\n}\n", true);
        check_in_comment_or_string(Lang::Rust, "// ünïcödé $0", true);
        check_in_comment_or_string(Lang::Rust, "fn f() {\n    // comment\n    $0\n}\n", false);
        check_in_comment_or_string(Lang::Rust, "fn f() { /* a $0 b */ }", true);
        check_in_comment_or_string(Lang::Rust, "fn f() { /* a b */$0 }", false);
        check_in_comment_or_string(Lang::Rust, "fn f() { let s = \"str$0ing\"; }", true);
        check_in_comment_or_string(Lang::Rust, "fn f() { let s = $0\"string\"; }", false);
        check_in_comment_or_string(Lang::Rust, "fn f() { let s = \"string\"$0; }", false);
        check_in_comment_or_string(Lang::Rust, "fn f() { let s = r#\"ra$0w\"#; }", true);
        check_in_comment_or_string(Lang::Rust, "fn f() { let c = '$0x'; }", true);
        check_in_comment_or_string(Lang::Rust, "fn f() { let x = fo$0o(1); }", false);
        check_in_comment_or_string(Lang::TypeScript, "const s = `hello ${name} wo$0rld`;", true);
        check_in_comment_or_string(Lang::TypeScript, "const s = `hello ${na$0me} world`;", false);
        check_in_comment_or_string(Lang::TypeScript, "const s = 'it$0em'; // c", true);
        check_in_comment_or_string(Lang::TypeScript, "const s = 'item'; // c$0", true);
        check_in_comment_or_string(Lang::TypeScript, "const s = 'item'; /* c */$0", false);
        check_in_comment_or_string(Lang::JavaScript, "function f() {\n  return a$0 + 1;\n}", false);
    }
}
