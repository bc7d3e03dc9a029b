//! Fuzzy symbol search over a snapshot (`workspace/symbol`, `ctxls symbols`): nucleo's
//! matcher scores names (qualified names when the query has `::` or `.`), then ties are
//! broken by exactness, kind, length and path so that the order is deterministic.

use nucleo_matcher::pattern::{AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

use super::{FileId, IndexSnapshot, SymbolKind};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolMatch {
    pub file: FileId,
    /// Index into the file's symbols.
    pub symbol: u32,
    pub score: u32,
}

/// Lower is better: what a user most likely searches for.
fn kind_rank(kind: SymbolKind) -> u8 {
    match kind {
        SymbolKind::Struct
        | SymbolKind::Enum
        | SymbolKind::Trait
        | SymbolKind::Class
        | SymbolKind::Interface
        | SymbolKind::TypeAlias => 0,
        SymbolKind::Function | SymbolKind::Macro | SymbolKind::Module | SymbolKind::Namespace => 1,
        SymbolKind::Method | SymbolKind::Const | SymbolKind::Static | SymbolKind::Variable => 2,
        SymbolKind::Variant | SymbolKind::Field | SymbolKind::Property => 3,
        SymbolKind::Impl => 4,
    }
}

pub fn fuzzy_symbols(snapshot: &IndexSnapshot, query: &str, limit: usize) -> Vec<SymbolMatch> {
    let query = query.trim();
    let qualified = query.contains("::") || query.contains('.');
    let pattern = Pattern::new(query, CaseMatching::Smart, Normalization::Smart, AtomKind::Fuzzy);
    let mut matcher = Matcher::new(Config::DEFAULT);
    let mut buf = Vec::new();
    struct Candidate<'a> {
        m: SymbolMatch,
        exact: bool,
        kind: u8,
        name_len: usize,
        path: &'a str,
        start: u32,
    }
    let mut candidates: Vec<Candidate> = Vec::new();
    for (file, entry) in snapshot.files() {
        for (i, symbol) in entry.index().symbols.iter().enumerate() {
            let haystack_owned;
            let haystack: &str = if qualified {
                haystack_owned = entry.index().qualified_name(symbol);
                &haystack_owned
            } else {
                &symbol.name
            };
            let score = if query.is_empty() {
                0
            } else {
                match pattern.score(Utf32Str::new(haystack, &mut buf), &mut matcher) {
                    Some(score) => score,
                    None => continue,
                }
            };
            candidates.push(Candidate {
                exact: haystack.eq_ignore_ascii_case(query),
                m: SymbolMatch { file, symbol: i as u32, score },
                kind: kind_rank(symbol.kind),
                name_len: haystack.len(),
                path: &entry.path,
                start: symbol.name_range.start,
            });
        }
    }
    candidates.sort_by(|a, b| {
        b.exact
            .cmp(&a.exact)
            .then(b.m.score.cmp(&a.m.score))
            .then(a.kind.cmp(&b.kind))
            .then(a.name_len.cmp(&b.name_len))
            .then(a.path.cmp(b.path))
            .then(a.start.cmp(&b.start))
    });
    candidates.truncate(limit);
    candidates.into_iter().map(|c| c.m).collect()
}
