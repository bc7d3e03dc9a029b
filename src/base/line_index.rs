//! `LineIndex` maps byte offsets to line/column pairs and back, in UTF-8 or UTF-16 columns.
//! Invariant: `line_starts[0] == 0`, strictly increasing; columns never split a character.

/// A zero-based line and a zero-based column counted in UTF-8 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: u32,
    pub col: u32,
}

/// How the client counts columns (negotiated as LSP `positionEncoding`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PositionEncoding {
    Utf8,
    #[default]
    Utf16,
}

/// A character that takes more than one byte in UTF-8, so that UTF-8 and UTF-16 columns
/// differ after it on its line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bitcode::Encode, bitcode::Decode)]
struct WideChar {
    /// Byte column where the character starts.
    col: u32,
    /// Its length in UTF-8 bytes (2 to 4).
    utf8_len: u8,
}

impl WideChar {
    fn utf16_len(self) -> u32 {
        if self.utf8_len == 4 {
            2
        } else {
            1
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, bitcode::Encode, bitcode::Decode)]
pub struct LineIndex {
    line_starts: Vec<u32>,
    /// Lines holding multi-byte characters, sorted by line.
    wide_lines: Vec<(u32, Vec<WideChar>)>,
    len: u32,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let bytes = text.as_bytes();
        let mut line_starts = Vec::with_capacity(bytes.len() / 32 + 1);
        line_starts.push(0);
        for pos in memchr::memchr_iter(b'\n', bytes) {
            line_starts.push(pos as u32 + 1);
        }
        let mut wide_lines: Vec<(u32, Vec<WideChar>)> = Vec::new();
        if !text.is_ascii() {
            for (line, window) in line_starts.iter().enumerate() {
                let start = *window as usize;
                let end = line_starts.get(line + 1).map_or(bytes.len(), |&e| e as usize);
                let slice = &text[start..end];
                if slice.is_ascii() {
                    continue;
                }
                let chars: Vec<WideChar> = slice
                    .char_indices()
                    .filter(|(_, c)| c.len_utf8() > 1)
                    .map(|(col, c)| WideChar { col: col as u32, utf8_len: c.len_utf8() as u8 })
                    .collect();
                wide_lines.push((line as u32, chars));
            }
        }
        LineIndex { line_starts, wide_lines, len: bytes.len() as u32 }
    }

    pub fn line_count(&self) -> u32 {
        self.line_starts.len() as u32
    }

    /// Gives back the capacity beyond what the index holds.
    pub fn shrink_to_fit(&mut self) {
        self.line_starts.shrink_to_fit();
        self.wide_lines.shrink_to_fit();
    }

    /// The bytes this index holds on the heap (capacities).
    pub fn heap_bytes(&self) -> usize {
        self.line_starts.capacity() * 4
            + self.wide_lines.capacity() * std::mem::size_of::<(u32, Vec<WideChar>)>()
            + self.wide_lines.iter().map(|(_, w)| w.capacity() * std::mem::size_of::<WideChar>()).sum::<usize>()
    }

    pub fn len(&self) -> u32 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The byte offset where `line` starts, or the end of the text past the last line.
    pub fn line_start(&self, line: u32) -> u32 {
        self.line_starts.get(line as usize).copied().unwrap_or(self.len)
    }

    /// The byte offset just past `line`'s terminating newline (or the end of the text).
    pub fn line_end(&self, line: u32) -> u32 {
        self.line_start(line + 1)
    }

    /// Line and UTF-8 column of a byte offset; offsets past the end clamp to the end.
    pub fn line_col(&self, offset: u32) -> LineCol {
        let offset = offset.min(self.len);
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        LineCol { line: line as u32, col: offset - self.line_starts[line] }
    }

    /// The byte offset of a line/column. A line past the end clamps to the end of the
    /// text; a column past the end of its line clamps to the line's end (as LSP asks).
    pub fn offset(&self, pos: LineCol) -> u32 {
        let Some(&start) = self.line_starts.get(pos.line as usize) else {
            return self.len;
        };
        let next = self.line_start(pos.line + 1);
        // The line's content ends before its newline, if it has one.
        let content_end = if (pos.line as usize) + 1 < self.line_starts.len() { next - 1 } else { next };
        (start + pos.col).min(content_end)
    }

    /// Converts a UTF-8 column to the client's encoding.
    pub fn to_encoding(&self, pos: LineCol, encoding: PositionEncoding) -> LineCol {
        match encoding {
            PositionEncoding::Utf8 => pos,
            PositionEncoding::Utf16 => {
                let mut col = pos.col;
                for wide in self.wide_chars(pos.line) {
                    if wide.col >= pos.col {
                        break;
                    }
                    col = col - u32::from(wide.utf8_len) + wide.utf16_len();
                }
                LineCol { line: pos.line, col }
            }
        }
    }

    /// Converts a column in the client's encoding to a UTF-8 column. A column that falls
    /// inside a character moves to the character's end.
    pub fn from_encoding(&self, pos: LineCol, encoding: PositionEncoding) -> LineCol {
        match encoding {
            PositionEncoding::Utf8 => pos,
            PositionEncoding::Utf16 => {
                let mut utf8_col = pos.col;
                let mut utf16_seen = 0u32; // UTF-16 units before the current wide char
                let mut utf8_before = 0u32;
                for wide in self.wide_chars(pos.line) {
                    let utf16_at_wide = utf16_seen + (wide.col - utf8_before);
                    if pos.col <= utf16_at_wide {
                        break;
                    }
                    // The cursor is past (or inside) this character.
                    utf8_col += u32::from(wide.utf8_len) - wide.utf16_len();
                    utf16_seen = utf16_at_wide + wide.utf16_len();
                    utf8_before = wide.col + u32::from(wide.utf8_len);
                    if pos.col < utf16_seen {
                        utf8_col = utf8_before;
                        return LineCol { line: pos.line, col: utf8_col };
                    }
                }
                LineCol { line: pos.line, col: utf8_col }
            }
        }
    }

    fn wide_chars(&self, line: u32) -> &[WideChar] {
        match self.wide_lines.binary_search_by_key(&line, |(l, _)| *l) {
            Ok(i) => &self.wide_lines[i].1,
            Err(_) => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_round_trip() {
        let text = "ab\ncd\n\nef";
        let index = LineIndex::new(text);
        assert_eq!(index.line_count(), 4);
        for offset in 0..=text.len() as u32 {
            let pos = index.line_col(offset);
            assert_eq!(index.offset(pos), offset, "{pos:?}");
        }
        assert_eq!(index.line_col(3), LineCol { line: 1, col: 0 });
        assert_eq!(index.offset(LineCol { line: 0, col: 99 }), 2);
        assert_eq!(index.offset(LineCol { line: 9, col: 0 }), text.len() as u32);
    }

    #[test]
    fn utf16_columns() {
        // 'é' is 2 bytes / 1 unit, '𝕏' is 4 bytes / 2 units.
        let text = "é𝕏x\nplain";
        let index = LineIndex::new(text);
        let x = LineCol { line: 0, col: 6 };
        let wide = index.to_encoding(x, PositionEncoding::Utf16);
        assert_eq!(wide, LineCol { line: 0, col: 3 });
        assert_eq!(index.from_encoding(wide, PositionEncoding::Utf16), x);
        // Every character boundary survives the round trip.
        for (col, _) in "é𝕏x".char_indices() {
            let pos = LineCol { line: 0, col: col as u32 };
            let w = index.to_encoding(pos, PositionEncoding::Utf16);
            assert_eq!(index.from_encoding(w, PositionEncoding::Utf16), pos);
        }
        // A UTF-16 column inside the surrogate pair moves to the character's end.
        let inside = index.from_encoding(LineCol { line: 0, col: 2 }, PositionEncoding::Utf16);
        assert_eq!(inside, LineCol { line: 0, col: 6 });
        let plain = LineCol { line: 1, col: 3 };
        assert_eq!(index.to_encoding(plain, PositionEncoding::Utf16), plain);
    }
}
