//! Whole-definition packing (`Packing::Whole`): fewer snippets, each a definition a model
//! can read as the file has it. A short definition goes whole (a struct with all its
//! fields, a short function with its body, an interface); a long one as its signature
//! (a type's first lines); both under the first sentence of its doc. A field, variant or
//! member brings its type when the type is short; a chunk is sent only when it holds
//! whole definitions (never a window of a long body); and what ranks far below the best
//! candidate is left out, the budget unfilled, rather than packed as one-line fragments.

use rustc_hash::FxHashMap as HashMap;

use super::{first_sentence, header_lines, snippet_lines, take_place, Fused, Snippet, Target};
use crate::index::{FileId, FileIndex, IndexSnapshot, SymbolKind};

/// A definition of at most this many lines is sent whole.
const WHOLE_LINES: u32 = 25;
/// Nor more than this share of the budget: a longer one goes as its signature.
const WHOLE_SHARE: usize = 3;
/// Candidates scoring below this share of the best one are left out. In the fusion a
/// definition the symbol graph ranks tenth scores about 0.85 of its first; one that only
/// the lexical or the vector generator proposes, 0.2-0.35 of a first the symbol graph
/// and another generator agree on.
const RELEVANCE_FLOOR: f32 = 0.3;

/// What a candidate is sent as: the lines (zero-based, inclusive) and the symbol whose
/// doc sentence heads them.
struct Unit {
    start_line: u32,
    end_line: u32,
    /// The lines to send when the whole is too long (a function's header, a type's first
    /// lines); `None` when only the whole will do.
    short_end: Option<u32>,
    symbol: Option<u32>,
}

fn symbol_unit(index: &FileIndex, symbol: u32, budget: usize) -> Option<Unit> {
    let lines = &index.line_index;
    let span = |i: u32| {
        let s = &index.symbols[i as usize];
        (lines.line_col(s.range.start).line, lines.line_col(s.range.end).line)
    };
    let s = index.symbols.get(symbol as usize)?;
    let mut chosen = symbol;
    // A field, variant or property: its type is sent instead when the type is short (a
    // namespace is no member's type).
    if s.kind.is_member() {
        if let Some(parent) = s.parent.filter(|&p| index.symbols.get(p as usize).is_some_and(|t| t.kind.is_type() && t.kind != SymbolKind::Namespace)) {
            let (start, end) = span(parent);
            if end - start < WHOLE_LINES {
                chosen = parent;
            }
        }
    }
    let (start_line, end_line) = span(chosen);
    let kind = index.symbols[chosen as usize].kind;
    let short_end = match kind {
        // The header: up to the line that opens the body (counted on the text later).
        SymbolKind::Function | SymbolKind::Method => None,
        _ => Some((start_line + snippet_lines(kind, budget) - 1).min(end_line)),
    };
    Some(Unit { start_line, end_line, short_end, symbol: Some(chosen) })
}

/// A chunk is sent when it is short and holds whole definitions (small neighbours merged
/// into one chunk); a window of a long body is a fragment.
fn chunk_unit(index: &FileIndex, chunk: u32) -> Option<Unit> {
    let c = index.chunks.get(chunk as usize)?;
    let whole = index.symbols.iter().any(|s| c.range.contains_range(s.range) && s.parent.is_none_or(|p| !c.range.contains_range(index.symbols[p as usize].range)));
    (whole && c.end_line - c.start_line < WHOLE_LINES).then_some(Unit { start_line: c.start_line, end_line: c.end_line, short_end: None, symbol: None })
}

pub(super) fn pack(
    snapshot: &IndexSnapshot,
    candidates: Vec<Fused>,
    budget: usize,
    count_tokens: &dyn Fn(&str) -> usize,
    source_of: &dyn Fn(FileId) -> Option<String>,
) -> Vec<Snippet> {
    let best = candidates.iter().filter(|c| !c.filler).map(|c| c.score).fold(0.0f32, f32::max);
    let mut snippets: Vec<Snippet> = Vec::new();
    let mut used = 0usize;
    let mut texts: HashMap<FileId, Option<String>> = HashMap::default();
    for candidate in candidates {
        // Ranked best first, filler last: neither filler nor what ranks far below the best.
        if candidate.filler || candidate.score < best * RELEVANCE_FLOOR || budget.saturating_sub(used) < 8 {
            break;
        }
        let Some(entry) = snapshot.file(candidate.file) else { continue };
        let index = entry.light();
        let lines = &index.line_index;
        let unit = match candidate.target {
            Target::Symbol(symbol) => symbol_unit(index, symbol, budget),
            Target::Chunk(chunk) => chunk_unit(index, chunk),
        };
        let Some(unit) = unit else { continue };
        let overlapping: Vec<usize> = (0..snippets.len())
            .filter(|&i| snippets[i].file == candidate.file && snippets[i].start_line <= unit.end_line && unit.start_line <= snippets[i].end_line)
            .collect();
        // A definition around those taken (a type after its method, a chunk of small
        // definitions after one of them) takes their place; anything else overlapping
        // is already shown.
        let around = |s: &Snippet| unit.start_line <= s.start_line && s.end_line <= unit.end_line && (s.start_line, s.end_line) != (unit.start_line, unit.end_line);
        if !overlapping.iter().all(|&i| around(&snippets[i])) {
            continue;
        }
        let Some(text) = texts.entry(candidate.file).or_insert_with(|| source_of(candidate.file)).as_deref() else { continue };
        let slice = |from: u32, to: u32| {
            let a = lines.line_start(from) as usize;
            let b = (lines.line_end(to) as usize).min(text.len());
            text.get(a..b.max(a)).map(|t| t.trim_end_matches('\n').to_string())
        };
        let Some(whole) = slice(unit.start_line, unit.end_line) else { continue };
        let doc = unit.symbol.and_then(|s| entry.index().symbols.get(s as usize).and_then(|s| s.doc()).and_then(first_sentence));
        let headed = |body: String| match &doc {
            Some(sentence) => {
                let comment = index.lang.spec().doc.one_line(sentence);
                if body.trim_start().starts_with(comment.as_str()) { body } else { format!("{comment}\n{body}") }
            }
            None => body,
        };
        let freed: usize = overlapping.iter().map(|&i| snippets[i].tokens).sum();
        let left = budget + freed - used;
        let mut chosen = None;
        if unit.end_line - unit.start_line < WHOLE_LINES {
            let text = headed(whole.clone());
            let tokens = count_tokens(&text);
            if tokens <= left && tokens <= budget / WHOLE_SHARE {
                chosen = Some((text, unit.end_line, tokens));
            }
        }
        if chosen.is_none() {
            let short_end = unit.short_end.unwrap_or_else(|| (unit.start_line + header_lines(&whole) - 1).min(unit.end_line));
            if unit.symbol.is_some() {
                if let Some(short) = slice(unit.start_line, short_end) {
                    let text = headed(short);
                    let tokens = count_tokens(&text);
                    if tokens <= left {
                        chosen = Some((text, short_end, tokens));
                    }
                }
            }
        }
        let Some((text, end_line, tokens)) = chosen else { continue };
        used = used + tokens - freed;
        let snippet = Snippet {
            file: candidate.file,
            start_line: unit.start_line,
            end_line,
            text,
            score: candidate.score,
            sources: candidate.sources,
            why: candidate.why.join("; "),
            tokens,
        };
        take_place(&mut snippets, &overlapping, snippet);
    }
    snippets
}

#[cfg(test)]
mod tests {
    use super::super::tests::{fixture, Fixture};
    use super::super::*;
    use super::pack;

    fn packed(f: &Fixture, budget: usize, packing: Packing) -> Vec<(String, String)> {
        let file = f.snapshot.file_id(&f.cursor.0).unwrap();
        let request = ContextRequest { packing, ..ContextRequest::new(file, f.cursor.1, budget) };
        let snippets = retrieve(&f.snapshot, &request, &|t| t.len() / 4 + 1, &|id| f.snapshot.file(id).and_then(|e| f.texts.get(&e.path).cloned()));
        assert!(snippets.iter().map(|s| s.tokens).sum::<usize>() <= budget);
        snippets.into_iter().map(|s| (f.snapshot.file(s.file).unwrap().path.clone(), s.text)).collect()
    }

    const CODE: &str = r#"
//- /src/shape.rs
/// A point on the plane. Its coordinates are pixels.
pub struct Point {
    pub x: i32,
    pub y: i32,
}
/// Moves a point.
pub fn shift(p: Point, by: i32) -> Point {
    Point { x: p.x + by, y: p.y + by }
}
/// Draws a point. It takes long.
pub fn draw(p: Point) {
    let a = 1;
    let b = 2;
    let c = 3;
    let d = 4;
    let e = 5;
    let f = 6;
    let g = 7;
    let h = 8;
    let i = 9;
    let j = 10;
    let k = 11;
    let l = 12;
    let m = 13;
    let n = 14;
    let o = 15;
    let q = 16;
    let r = 17;
    let s = 18;
    let t = 19;
    let u = 20;
    let v = 21;
    let w = 22;
    let y = 23;
    let z = 24;
    println!("{a}{b}{c}{d}{e}{f}{g}{h}{i}{j}{k}{l}{m}{n}{o}{q}{r}{s}{t}{u}{v}{w}{y}{z}{}", p.x);
}
//- /src/main.rs
mod shape;
use shape::{draw, shift, Point};
fn main() {
    let p = Point { x: 1, y: 2 };
    draw(shift(p, 3));
    p.x$0
}
"#;

    /// A short definition goes whole, a long function as its signature, each under its
    /// first doc sentence; compact packing sends the short function's signature first.
    #[test]
    fn short_definitions_go_whole_and_long_ones_as_their_signature() {
        let f = fixture(CODE);
        let got = packed(&f, 1024, Packing::Whole);
        let text = |start: &str| got.iter().find(|(_, t)| t.lines().nth(1).is_some_and(|l| l.starts_with(start))).map(|(_, t)| t.as_str());
        assert_eq!(text("pub struct Point"), Some("/// A point on the plane.\npub struct Point {\n    pub x: i32,\n    pub y: i32,\n}"), "{got:?}");
        assert_eq!(text("pub fn shift"), Some("/// Moves a point.\npub fn shift(p: Point, by: i32) -> Point {\n    Point { x: p.x + by, y: p.y + by }\n}"), "{got:?}");
        assert_eq!(text("pub fn draw"), Some("/// Draws a point.\npub fn draw(p: Point) {"), "a long body is left out: {got:?}");
        assert_eq!(got.len(), 3, "one snippet per definition: {got:?}");
    }

    /// A field that ranks brings its whole (short) type, once; a definition already sent
    /// is not sent again in part.
    #[test]
    fn a_member_brings_its_short_type_once() {
        let f = fixture(CODE);
        let got = packed(&f, 1024, Packing::Whole);
        let points: Vec<&String> = got.iter().map(|(_, t)| t).filter(|t| t.contains("pub x: i32")).collect();
        assert_eq!(points.len(), 1, "{got:?}");
        assert!(points[0].contains("pub struct Point {") && points[0].ends_with('}'), "{got:?}");
    }

    /// What ranks far below the best (here a lexical-only match at a fifth of the best
    /// score) is left out and the budget left unfilled; compact packing fills it.
    #[test]
    fn what_ranks_far_below_the_best_is_left_out() {
        let f = fixture(
            r#"
//- /src/parse.rs
pub fn parse_header(input: &str) -> usize {
    input.len()
}
//- /src/other.rs
pub fn header_checksum(header_bytes: &[u8]) -> u32 {
    header_bytes.len() as u32
}
//- /src/main.rs
fn main() {$0}
"#,
        );
        let candidate = |path: &str, score: f32| {
            let file = f.snapshot.file_id(path).unwrap();
            Fused { file, target: Target::Symbol(0), score, sources: vec!["symbol"], why: Vec::new(), filler: false }
        };
        let read = |id| f.snapshot.file(id).and_then(|e| f.texts.get(&e.path).cloned());
        let count = |t: &str| t.len() / 4 + 1;
        let texts = |snippets: Vec<Snippet>| snippets.into_iter().map(|s| s.text).collect::<Vec<_>>();
        let candidates = || vec![candidate("src/parse.rs", 0.02), candidate("src/other.rs", 0.004)];
        let whole = texts(pack(&f.snapshot, candidates(), 1024, &count, &read));
        assert_eq!(whole, ["pub fn parse_header(input: &str) -> usize {\n    input.len()\n}"]);
        let compact = texts(super::super::pack(&f.snapshot, candidates(), 1024, &count, &read));
        assert_eq!(compact.len(), 2, "{compact:?}");
        let close = || vec![candidate("src/parse.rs", 0.02), candidate("src/other.rs", 0.007)];
        assert_eq!(texts(pack(&f.snapshot, close(), 1024, &count, &read)).len(), 2, "above the floor");
    }

    /// A definition too big for its share of the budget goes as its signature.
    #[test]
    fn a_small_budget_takes_signatures() {
        let f = fixture(CODE);
        let got = packed(&f, 60, Packing::Whole);
        let functions: Vec<&String> = got.iter().map(|(_, t)| t).filter(|t| t.contains("pub fn")).collect();
        assert!(!functions.is_empty() && functions.iter().all(|t| t.lines().count() == 2 && t.ends_with('{')), "{got:?}");
    }

    #[test]
    fn packing_names_parse() {
        assert_eq!(Packing::parse("whole"), Ok(Packing::Whole));
        assert_eq!(Packing::parse("compact"), Ok(Packing::Compact));
        assert!(Packing::parse("fragments").unwrap_err().contains("expected compact or whole"));
    }
}
