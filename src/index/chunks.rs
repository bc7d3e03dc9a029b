//! Chunking for retrieval: one chunk per top-level item or method, with its doc comment
//! and attributes. Containers too long for one chunk (impls, classes, traits, inline
//! modules) give a header chunk and one chunk per member; other long items are split into
//! windows of lines; runs of small neighbours are merged.
//! Invariant: chunks are sorted, never overlap, and each has the hash of its text.

use tree_sitter::Node;

use super::macros::{self, ItemTree};
use super::{Chunk, Symbol};
use crate::base::{content_hash, LineIndex, TextRange};
use crate::lang::Lang;

/// Items up to this many lines stay whole.
pub const MAX_CHUNK_LINES: u32 = 60;
/// Small neighbours are merged while the result stays within this many lines.
pub const MERGE_LINES: u32 = 24;

/// A span of whole lines, zero-based and inclusive, before hashing.
#[derive(Clone, Copy, Debug)]
struct Span {
    start_line: u32,
    end_line: u32,
    /// Items that must not be merged with neighbours (they are big enough alone).
    mergeable: bool,
    /// Starts a new group: never merged into the span before it (a container's header).
    fresh: bool,
}

/// What chunking reads besides the tree: a long macro invocation holding items is chunked
/// like a container, its items from the parsed interior (`known`, else parsed here).
#[derive(Clone, Copy)]
struct Source<'a> {
    lang: Lang,
    text: &'a str,
    lines: &'a LineIndex,
    known: &'a [ItemTree],
}

pub(super) fn chunk_file(lang: Lang, root: Node, text: &str, lines: &LineIndex, symbols: &[Symbol], known: &[ItemTree]) -> Vec<Chunk> {
    let mut spans = Vec::new();
    chunk_items(Source { lang, text, lines, known }, root, &mut spans);
    let spans = merge_small(spans);
    spans
        .into_iter()
        .filter_map(|span| {
            let start = lines.line_start(span.start_line);
            let end = trim_end_newline(text, lines.line_end(span.end_line));
            let slice = &text[start as usize..end as usize];
            if slice.trim().is_empty() {
                return None;
            }
            let range = TextRange::new(start, end);
            let symbol = symbols
                .iter()
                .position(|s| range.contains_range(s.name_range))
                .map(|i| i as u32);
            Some(Chunk {
                range,
                start_line: span.start_line,
                end_line: span.end_line,
                symbol,
                hash: content_hash(slice.as_bytes()),
            })
        })
        .collect()
}

fn trim_end_newline(text: &str, end: u32) -> u32 {
    let bytes = text.as_bytes();
    let mut end = end as usize;
    while end > 0 && matches!(bytes[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    end as u32
}

/// Chunks the named children of `parent`: each item with the comments and attributes
/// right above it.
fn chunk_items(source: Source, parent: Node, out: &mut Vec<Span>) {
    let lang = source.lang;
    let mut cursor = parent.walk();
    let mut pending_start: Option<u32> = None; // first line of leading comments/attributes
    let mut last_end_line: Option<u32> = None;
    for child in parent.named_children(&mut cursor) {
        let start_line = child.start_position().row as u32;
        let end_line = end_line_of(child);
        // A node starting on the line where the previous item ended belongs to it
        // (a trailing comment, say).
        if last_end_line == Some(start_line) && pending_start.is_none() {
            if let Some(last) = out.last_mut() {
                last.end_line = last.end_line.max(end_line);
                last_end_line = Some(last.end_line);
                continue;
            }
        }
        if is_leading_trivia(lang, child) {
            pending_start.get_or_insert(start_line);
            continue;
        }
        let first_line = pending_start.take().unwrap_or(start_line);
        chunk_item(source, child, first_line, out);
        last_end_line = Some(end_line);
    }
    // Comments at the end of the container form a span of their own.
    if let Some(start) = pending_start {
        let end = end_line_of(parent).max(start);
        out.push(Span { start_line: start, end_line: end, mergeable: true, fresh: false });
    }
}

fn chunk_item(source: Source, item: Node, first_line: u32, out: &mut Vec<Span>) {
    let end_line = end_line_of(item);
    let line_count = end_line - first_line + 1;
    if line_count <= MAX_CHUNK_LINES {
        out.push(Span { start_line: first_line, end_line, mergeable: line_count < MERGE_LINES / 2, fresh: false });
        return;
    }
    let macro_items = (source.lang.spec().item_macro == Some(item.kind()))
        .then(|| macros::item_tree(source.lang, item, source.text, source.lines, source.known))
        .flatten();
    let body = match &macro_items {
        Some(tree) => Some(tree.root_node()),
        None => member_body(source.lang, item),
    };
    if let Some(body) = body {
        // Header: from the item's first line to the line that opens the body.
        let body_line = match &macro_items {
            Some(_) => item.child(item.child_count().saturating_sub(1)).map_or(first_line, |t| t.start_position().row as u32),
            None => body.start_position().row as u32,
        };
        out.push(Span { start_line: first_line, end_line: body_line, mergeable: true, fresh: true });
        let before = out.len();
        chunk_items(source, body, out);
        // Members start after the header line; anything overlapping it is cut.
        for span in &mut out[before..] {
            span.start_line = span.start_line.max(body_line + 1);
            span.end_line = span.end_line.max(span.start_line);
        }
        // What follows the container is not merged into its last member.
        if let Some(last) = out.last_mut() {
            last.mergeable = false;
        }
        return;
    }
    // A long item without members: windows of lines.
    let mut start = first_line;
    while start <= end_line {
        let end = (start + MAX_CHUNK_LINES - 1).min(end_line);
        out.push(Span { start_line: start, end_line: end, mergeable: false, fresh: false });
        start = end + 1;
    }
}

/// The member list of a container item, looking through `export` and `declare`.
fn member_body(lang: Lang, item: Node) -> Option<Node> {
    let mut node = item;
    let spec = lang.spec();
    while spec.declaration_wrappers.contains(&node.kind()) {
        node = node.child_by_field_name("declaration").or_else(|| node.named_child(0))?;
    }
    let is_container = spec.containers.contains(&node.kind());
    if !is_container {
        return None;
    }
    let body = node.child_by_field_name("body")?;
    (body.named_child_count() > 0).then_some(body)
}

fn is_leading_trivia(lang: Lang, node: Node) -> bool {
    lang.spec().leading_trivia.contains(&node.kind())
}

/// The last line a node covers (a node ending at column 0 ends on the line before).
fn end_line_of(node: Node) -> u32 {
    let end = node.end_position();
    let start = node.start_position();
    if end.column == 0 && end.row > start.row {
        end.row as u32 - 1
    } else {
        end.row as u32
    }
}

fn merge_small(spans: Vec<Span>) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for span in spans {
        if let Some(last) = out.last_mut() {
            if span.start_line <= last.end_line {
                // Overlap (a header and a member on one line): extend.
                last.end_line = last.end_line.max(span.end_line);
                last.mergeable = false;
                continue;
            }
            if last.mergeable && span.mergeable && !span.fresh && span.end_line - last.start_line < MERGE_LINES {
                last.end_line = span.end_line;
                continue;
            }
        }
        out.push(span);
    }
    out
}
