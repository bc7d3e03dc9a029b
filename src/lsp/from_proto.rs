//! Conversions from LSP types to ctxls values: positions to byte offsets (in the
//! negotiated encoding), content changes to `TextEdit`s, URIs to paths.

use std::path::PathBuf;

use tower_lsp_server::ls_types::{Position, Range, TextDocumentContentChangeEvent, Uri};

use crate::base::{LineCol, LineIndex, PositionEncoding, TextRange};
use crate::lang::TextEdit;

/// The byte offset of a position; positions past the end clamp to the end.
pub fn offset(index: &LineIndex, encoding: PositionEncoding, position: Position) -> u32 {
    let pos = index.from_encoding(LineCol { line: position.line, col: position.character }, encoding);
    index.offset(pos)
}

pub fn text_range(index: &LineIndex, encoding: PositionEncoding, range: Range) -> TextRange {
    let start = offset(index, encoding, range.start);
    let end = offset(index, encoding, range.end).max(start);
    TextRange::new(start, end)
}

/// Converts content changes to edits. Each change's range refers to the text after the
/// previous change, so each is converted against a line index of that text: `index`
/// (that of `text`) for the first, and only from the second on is the text copied and
/// indexed again (a keystroke in a large document costs no copy).
pub fn text_edits(
    text: &str,
    index: &LineIndex,
    encoding: PositionEncoding,
    changes: Vec<TextDocumentContentChangeEvent>,
) -> Result<Vec<TextEdit>, String> {
    let mut edits = Vec::with_capacity(changes.len());
    // The text after the changes so far, once it differs from `text`.
    let mut current: Option<String> = None;
    let last = changes.len().saturating_sub(1);
    for (i, change) in changes.into_iter().enumerate() {
        let Some(range) = change.range else {
            // A full replacement in the middle of incremental changes.
            let length = current.as_deref().unwrap_or(text).len();
            edits.push(TextEdit { range: TextRange::new(0, length as u32), text: change.text.clone() });
            current = Some(change.text);
            continue;
        };
        let range = match &current {
            None => text_range(index, encoding, range),
            Some(current) => text_range(&LineIndex::new(current), encoding, range),
        };
        if i != last {
            let current = current.get_or_insert_with(|| text.to_string());
            let start = crate::lang::floor_char_boundary(current, range.start as usize);
            let end = crate::lang::ceil_char_boundary(current, range.end as usize);
            current.replace_range(start..end, &change.text);
        }
        edits.push(TextEdit { range, text: change.text });
    }
    Ok(edits)
}

pub fn file_path(uri: &Uri) -> Option<PathBuf> {
    if uri.scheme().as_str() != "file" {
        return None;
    }
    uri.to_file_path().map(|p| p.into_owned())
}
