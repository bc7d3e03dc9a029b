//! `LineIndex` maps byte offsets to line/column pairs and back, in UTF-8 or UTF-16 columns.
//! Invariant: lines are stored by length (see `LineIndex`), every line but the last ends
//! with its newline; columns never split a character.

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

/// Line starts in about 1.3 bytes a line (a large workspace keeps the index of every
/// file in memory): each line's length in a byte, the start of every 16th line in full,
/// and the few lines of 255 bytes or more apart.
#[derive(Clone, Debug, PartialEq, Eq, bitcode::Encode, bitcode::Decode)]
pub struct LineIndex {
    /// Where lines `0, BLOCK, 2 * BLOCK, ...` start.
    block_starts: Vec<u32>,
    /// The length of every line but the last, its newline included; `LONG` for a line
    /// of `LONG` bytes or more, whose length is in `long_lines`.
    lengths: Vec<u8>,
    /// (line, length) of the lines of `LONG` bytes or more, sorted by line.
    long_lines: Vec<(u32, u32)>,
    /// Lines holding multi-byte characters, sorted by line.
    wide_lines: Vec<(u32, Vec<WideChar>)>,
    len: u32,
}

/// Lines per full start in `LineIndex::block_starts`.
const BLOCK: usize = 16;
/// The length byte of a long line.
const LONG: u8 = u8::MAX;

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let bytes = text.as_bytes();
        let mut index = LineIndex {
            block_starts: Vec::with_capacity(bytes.len() / 32 / BLOCK + 1),
            lengths: Vec::with_capacity(bytes.len() / 32 + 1),
            long_lines: Vec::new(),
            wide_lines: Vec::new(),
            len: bytes.len() as u32,
        };
        index.block_starts.push(0);
        let ascii = text.is_ascii();
        let mut start = 0usize;
        for pos in memchr::memchr_iter(b'\n', bytes) {
            let line = index.lengths.len();
            let length = pos + 1 - start;
            if length >= usize::from(LONG) {
                index.lengths.push(LONG);
                index.long_lines.push((line as u32, length as u32));
            } else {
                index.lengths.push(length as u8);
            }
            if !ascii {
                index.note_wide_chars(line as u32, &text[start..pos + 1]);
            }
            start = pos + 1;
            if (line + 1).is_multiple_of(BLOCK) {
                index.block_starts.push(start as u32);
            }
        }
        if !ascii {
            index.note_wide_chars(index.lengths.len() as u32, &text[start..]);
        }
        index
    }

    fn note_wide_chars(&mut self, line: u32, slice: &str) {
        if slice.is_ascii() {
            return;
        }
        let chars: Vec<WideChar> =
            slice.char_indices().filter(|(_, c)| c.len_utf8() > 1).map(|(col, c)| WideChar { col: col as u32, utf8_len: c.len_utf8() as u8 }).collect();
        self.wide_lines.push((line, chars));
    }

    pub fn line_count(&self) -> u32 {
        self.lengths.len() as u32 + 1
    }

    /// Gives back the capacity beyond what the index holds.
    pub fn shrink_to_fit(&mut self) {
        self.block_starts.shrink_to_fit();
        self.lengths.shrink_to_fit();
        self.long_lines.shrink_to_fit();
        self.wide_lines.shrink_to_fit();
    }

    /// The bytes this index holds on the heap (capacities).
    pub fn heap_bytes(&self) -> usize {
        self.block_starts.capacity() * 4
            + self.lengths.capacity()
            + self.long_lines.capacity() * 8
            + self.wide_lines.capacity() * std::mem::size_of::<(u32, Vec<WideChar>)>()
            + self.wide_lines.iter().map(|(_, w)| w.capacity() * std::mem::size_of::<WideChar>()).sum::<usize>()
    }

    /// The length of `line` (not the last), its newline included.
    fn length(&self, line: usize) -> u32 {
        match self.lengths[line] {
            LONG => {
                let at = self.long_lines.partition_point(|&(l, _)| (l as usize) < line);
                self.long_lines[at].1
            }
            short => u32::from(short),
        }
    }

    pub fn len(&self) -> u32 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The byte offset where `line` starts, or the end of the text past the last line.
    pub fn line_start(&self, line: u32) -> u32 {
        let line = line as usize;
        if line > self.lengths.len() {
            return self.len;
        }
        let block = line / BLOCK;
        let mut start = self.block_starts[block];
        for l in block * BLOCK..line {
            start += self.length(l);
        }
        start
    }

    /// The byte offset just past `line`'s terminating newline (or the end of the text).
    pub fn line_end(&self, line: u32) -> u32 {
        self.line_start(line + 1)
    }

    /// Line and UTF-8 column of a byte offset; offsets past the end clamp to the end.
    pub fn line_col(&self, offset: u32) -> LineCol {
        let offset = offset.min(self.len);
        let block = self.block_starts.partition_point(|&start| start <= offset) - 1;
        let (mut line, mut start) = (block * BLOCK, self.block_starts[block]);
        while line < self.lengths.len() {
            let next = start + self.length(line);
            if next > offset {
                break;
            }
            (line, start) = (line + 1, next);
        }
        LineCol { line: line as u32, col: offset - start }
    }

    /// The byte offset of a line/column. A line past the end clamps to the end of the
    /// text; a column past the end of its line clamps to the line's end (as LSP asks).
    pub fn offset(&self, pos: LineCol) -> u32 {
        if pos.line as usize > self.lengths.len() {
            return self.len;
        }
        let start = self.line_start(pos.line);
        // The line's content ends before its newline, if it has one.
        let content_end = if (pos.line as usize) < self.lengths.len() { start + self.length(pos.line as usize) - 1 } else { self.len };
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

    /// Against line starts kept whole: lines of every length around the one-byte limit
    /// and the blocks' edges, multi-byte characters, with and without a final newline.
    #[test]
    fn the_compact_index_finds_what_line_starts_find() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        for case in 0..60 {
            let mut text = String::new();
            for _ in 0..next(80) {
                let length = match next(4) {
                    0 => next(4),
                    1 => 250 + next(10),
                    2 => next(700),
                    _ => next(40),
                };
                for _ in 0..length {
                    text.push(match next(30) {
                        0 => 'é',
                        1 => '𝕏',
                        _ => 'a',
                    });
                }
                text.push('\n');
            }
            if case % 2 == 0 {
                text.push_str("tail");
            }
            let index = LineIndex::new(&text);
            let mut starts = vec![0u32];
            starts.extend(text.match_indices('\n').map(|(i, _)| i as u32 + 1));
            assert_eq!(index.line_count() as usize, starts.len(), "case {case}");
            for (line, &start) in starts.iter().enumerate() {
                assert_eq!(index.line_start(line as u32), start, "case {case} line {line}");
                assert_eq!(index.offset(LineCol { line: line as u32, col: 0 }), start);
                let end = starts.get(line + 1).map_or(text.len() as u32, |e| e - 1);
                assert_eq!(index.offset(LineCol { line: line as u32, col: u32::MAX / 2 }), end, "case {case} line {line}: clamped to its end");
            }
            assert_eq!(index.line_start(starts.len() as u32), text.len() as u32);
            for offset in 0..=text.len() as u32 + 2 {
                let clamped = offset.min(text.len() as u32);
                let line = starts.partition_point(|&s| s <= clamped) - 1;
                let expected = LineCol { line: line as u32, col: clamped - starts[line] };
                assert_eq!(index.line_col(offset), expected, "case {case} offset {offset}");
                if text.is_char_boundary(clamped as usize) {
                    let wide = index.to_encoding(expected, PositionEncoding::Utf16);
                    assert_eq!(index.from_encoding(wide, PositionEncoding::Utf16), expected);
                }
            }
        }
        assert!(LineIndex::new("").heap_bytes() < LineIndex::new(&"x\n".repeat(1000)).heap_bytes());
        assert!(LineIndex::new(&"x\n".repeat(1000)).heap_bytes() < 1500);
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
