//! Lexical terms of chunks, for BM25 and the built-in embedder: every identifier a chunk
//! uses or defines, lower-cased whole and split into its sub-words (`parse_float`,
//! `parseFloat` -> `parsefloat`-like whole term, `parse`, `float`). Terms are 32-bit hashes
//! of the lower-cased word; per file, postings sorted by (term, chunk) so that a query
//! term is one binary search per file.

use super::{Chunk, Posting, Reference, Symbol};
use crate::base::{content_hash, TextRange};

/// Splits an identifier into lower-case words at `_`, `$`, digits and case changes
/// (`HTTPServer` -> `httpserver`; `parseHTTPResponse` -> `parse`, `httpresponse`).
pub fn subtokens(ident: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut previous_lower = false;
    for c in ident.chars() {
        if c == '_' || c == '$' || c.is_ascii_digit() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        previous_lower = c.is_lowercase();
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// The 32-bit term of a lower-case word.
pub fn term_of(word: &str) -> u32 {
    content_hash(word.as_bytes()) as u32
}

/// The words of one identifier that are terms: the whole identifier lower-cased, and its
/// sub-words of two or more characters when there are several. Chunks are indexed and
/// queries are split by this one function, so that both agree.
pub fn identifier_words(ident: &str) -> Vec<String> {
    let words = subtokens(ident);
    let mut out = vec![ident.to_lowercase()];
    if words.len() > 1 {
        out.extend(words.into_iter().filter(|w| w.len() > 1));
    }
    out
}

/// `identifier_words` as terms.
pub fn identifier_terms(ident: &str, out: &mut Vec<u32>) {
    out.extend(identifier_words(ident).iter().map(|w| term_of(w)));
}

/// Postings of a file: for each chunk, the terms of the references inside it and of the
/// names it defines (a definition's name counts twice: a chunk is about what it defines).
pub(super) fn postings(names: &[String], references: &[Reference], symbols: &[Symbol], chunks: &[Chunk]) -> Vec<Posting> {
    if chunks.is_empty() {
        return Vec::new();
    }
    let name_terms: Vec<Vec<u32>> = names
        .iter()
        .map(|name| {
            let mut terms = Vec::new();
            identifier_terms(name, &mut terms);
            terms
        })
        .collect();
    let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(references.len() * 2);
    for reference in references {
        if let Some(chunk) = chunk_of(chunks, reference.range) {
            pairs.extend(name_terms[reference.name as usize].iter().map(|&t| (t, chunk)));
        }
    }
    let mut terms = Vec::new();
    for symbol in symbols {
        if let Some(chunk) = chunk_of(chunks, symbol.name_range) {
            terms.clear();
            identifier_terms(&symbol.name, &mut terms);
            for &term in &terms {
                pairs.push((term, chunk));
                pairs.push((term, chunk));
            }
        }
    }
    pairs.sort_unstable();
    let mut out: Vec<Posting> = Vec::new();
    for (term, chunk) in pairs {
        match out.last_mut() {
            Some(last) if last.term == term && last.chunk == chunk => last.tf += 1,
            _ => out.push(Posting { term, chunk, tf: 1 }),
        }
    }
    out
}

/// The chunk containing `range`'s start (chunks are sorted and disjoint).
fn chunk_of(chunks: &[Chunk], range: TextRange) -> Option<u32> {
    let i = chunks.partition_point(|c| c.range.start <= range.start);
    let chunk = chunks.get(i.checked_sub(1)?)?;
    (range.start < chunk.range.end).then_some((i - 1) as u32)
}

/// The postings of `term` in a file's sorted postings.
pub fn postings_of(postings: &[Posting], term: u32) -> &[Posting] {
    let start = postings.partition_point(|p| p.term < term);
    let end = start + postings[start..].partition_point(|p| p.term == term);
    &postings[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_split_into_words() {
        assert_eq!(subtokens("parse_float"), ["parse", "float"]);
        assert_eq!(subtokens("parseFloatValue"), ["parse", "float", "value"]);
        assert_eq!(subtokens("HTTPServer"), ["httpserver"]);
        assert_eq!(subtokens("$el2x"), ["el", "x"]);
        let mut terms = Vec::new();
        identifier_terms("parseFloat", &mut terms);
        assert_eq!(terms, [term_of("parsefloat"), term_of("parse"), term_of("float")]);
        terms.clear();
        identifier_terms("Parser", &mut terms);
        assert_eq!(terms, [term_of("parser")], "one word: the whole identifier only");
    }
}
