//! The tokens of protobuf sources (names, punctuation, strings, comments with their byte
//! ranges; no maintained Rust parser gives spans), and a definition's lines or exact span,
//! which GraphQL's sections share.

use super::{to_u32, Lines};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum TokenKind {
    Name,
    Str,
    Comment,
    Number,
    Punct,
    /// A run of non-ASCII characters outside strings and comments.
    Other,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Token {
    pub(super) kind: TokenKind,
    pub(super) start: usize,
    pub(super) end: usize,
}

/// Splits a proto text into tokens. Every token starts and ends at an ASCII
/// byte or the end of the text, so slicing the text with a token never fails.
pub(super) fn tokenize(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let is_name_byte =
        |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'.';
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let start = i;
        let next = bytes.get(i + 1).copied();
        let kind = match byte {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'/' if next == Some(b'/') => {
                i = line_end(bytes, i);
                TokenKind::Comment
            }
            b'/' if next == Some(b'*') => {
                i = text[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |end| i + 2 + end + 2);
                TokenKind::Comment
            }
            b'"' | b'\'' => {
                i += 1;
                loop {
                    match bytes.get(i) {
                        None | Some(b'\n') => break,
                        Some(b'\\') => i += 2,
                        Some(&b) if b == byte => {
                            i += 1;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
                TokenKind::Str
            }
            b'0'..=b'9' => {
                while bytes.get(i).is_some_and(|&b| is_name_byte(b) || b == b'.') {
                    i += 1;
                }
                TokenKind::Number
            }
            _ if is_name_byte(byte) => {
                while bytes.get(i).is_some_and(|&b| is_name_byte(b)) {
                    i += 1;
                }
                TokenKind::Name
            }
            0x80..=0xFF => {
                while bytes.get(i).is_some_and(|&b| b >= 0x80) {
                    i += 1;
                }
                TokenKind::Other
            }
            _ => {
                i += 1;
                TokenKind::Punct
            }
        };
        tokens.push(Token {
            kind,
            start,
            end: i.min(bytes.len()),
        });
    }
    tokens
}

pub(super) fn line_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| from + p)
}

/// Token text, lines and the comment-gathering rule shared by GraphQL and proto.
pub(super) struct TokenText<'a> {
    pub(super) text: &'a str,
    pub(super) lines: Lines<'a>,
    pub(super) tokens: Vec<Token>,
}

impl<'a> TokenText<'a> {
    pub(super) fn new(text: &'a str) -> TokenText<'a> {
        TokenText {
            text,
            lines: Lines::new(text),
            tokens: tokenize(text),
        }
    }

    pub(super) fn str(&self, index: usize) -> &'a str {
        self.tokens
            .get(index)
            .and_then(|t| self.text.get(t.start..t.end))
            .unwrap_or("")
    }

    pub(super) fn kind(&self, index: usize) -> Option<TokenKind> {
        self.tokens.get(index).map(|t| t.kind)
    }

    pub(super) fn first_line(&self, index: usize) -> usize {
        self.tokens
            .get(index)
            .map_or(0, |t| self.lines.line_of(t.start))
    }

    pub(super) fn last_line(&self, index: usize) -> usize {
        self.tokens.get(index).map_or(0, |t| {
            self.lines.line_of(t.end.saturating_sub(1).max(t.start))
        })
    }

    /// The first token of the comments that belong to the definition at `keyword`:
    /// directly above it, no blank line between, and not sharing a line with an earlier
    /// token. Never goes below `floor`.
    pub(super) fn leading_trivia(&self, keyword: usize, floor: usize) -> usize {
        let mut first = keyword;
        while first > floor {
            let previous = first - 1;
            match self.kind(previous) {
                Some(TokenKind::Comment) if self.last_line(previous) + 1 >= self.first_line(first) => first = previous,
                _ => break,
            }
        }
        while first < keyword && first > 0 && self.first_line(first) <= self.last_line(first - 1) {
            first += 1;
        }
        first
    }

    /// The lines and text of a section from token `first` to token `last` (see
    /// [`span_section`]).
    pub(super) fn section(&self, first: usize, last: usize) -> (u32, u32, String) {
        match (self.tokens.get(first), self.tokens.get(last)) {
            (Some(first), Some(last)) => span_section(self.text, &self.lines, first.start, last.end),
            _ => (0, 0, String::new()),
        }
    }
}

/// The lines and text of a section spanning bytes `start..end`. When other definitions
/// share its first or last line (a one-line schema), the text is the exact span instead,
/// so that long shared lines are not copied into every section.
pub(super) fn span_section(text: &str, lines: &Lines, start: usize, end: usize) -> (u32, u32, String) {
    let (first_line, last_line) = (lines.line_of(start), lines.line_of(end.saturating_sub(1).max(start)));
    let body = match shares_lines(text, start, end) {
        true => text.get(start..end).map(|span| span.trim_end().replace("\r\n", "\n")),
        false => None,
    };
    let body = body.unwrap_or_else(|| lines.slice(first_line, last_line));
    (to_u32(first_line), to_u32(last_line), body)
}

/// Whether code other than whitespace or a trailing comment shares a line with the span
/// `start..end`. Scans only the whitespace next to the span.
fn shares_lines(text: &str, start: usize, end: usize) -> bool {
    let bytes = text.as_bytes();
    let before = bytes.get(..start).unwrap_or_default();
    let after = bytes.get(end..).unwrap_or_default();
    let code_before = before.iter().rev().take_while(|&&b| b != b'\n').any(|b| !b.is_ascii_whitespace());
    let code_after = after
        .iter()
        .take_while(|&&b| b != b'\n')
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| !matches!(b, b'#' | b'/' | b';' | b','));
    code_before || code_after
}
