//! Lexical terms of chunks, for BM25 and the built-in embedder: every identifier a chunk
//! uses or defines, lower-cased whole and split into its sub-words (`parse_float`,
//! `parseFloat` -> `parsefloat`-like whole term, `parse`, `float`). Terms are 32-bit hashes
//! of the lower-cased word; per file, postings sorted by (term, chunk) so that a query
//! term is one binary search per file.

use std::sync::Arc;

use super::workspace::FactsVersion;
use super::{Chunk, FileEntry, FileId, IndexSnapshot, Posting, Reference, Symbol};
use crate::base::{content_hash, TextRange};

/// Splits an identifier into lower-case words at `_`, `$`, digits and case changes
/// (`HTTPServer` -> `httpserver`; `parseHTTPResponse` -> `parse`, `httpresponse`).
pub fn subtokens(ident: &str) -> Vec<String> {
    word_ranges(ident).map(|(start, end)| ident[start..end].chars().flat_map(char::to_lowercase).collect()).collect()
}

/// The byte ranges of `subtokens`' words in the identifier: a word ends at `_`, `$` or a
/// digit, and before an upper-case letter that follows a lower-case one.
fn word_ranges(ident: &str) -> impl Iterator<Item = (usize, usize)> + Clone + '_ {
    let mut chars = ident.char_indices();
    let mut start: Option<usize> = None;
    let mut previous_lower = false;
    std::iter::from_fn(move || {
        for (i, c) in chars.by_ref() {
            let separator = c == '_' || c == '$' || c.is_ascii_digit();
            let ended = if separator || (c.is_uppercase() && previous_lower) { start.take() } else { None };
            previous_lower = c.is_lowercase();
            if !separator {
                start.get_or_insert(i);
            }
            if let Some(ended) = ended {
                return Some((ended, i));
            }
        }
        start.take().map(|s| (s, ident.len()))
    })
}

/// The 32-bit term of a lower-case word.
pub fn term_of(word: &str) -> u32 {
    term_of_bytes(word.as_bytes())
}

fn term_of_bytes(word: &[u8]) -> u32 {
    content_hash(word) as u32
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
    if !ascii_identifier_terms(ident, out) {
        out.extend(identifier_words(ident).iter().map(|w| term_of(w)));
    }
}

/// `identifier_terms` for the common case, an ASCII identifier of at most 64 bytes,
/// without allocating: lower-casing keeps ASCII byte offsets, so each word is a slice of
/// the identifier lower-cased in a stack buffer. False, and nothing added, for any other
/// identifier. Indexing computes these for every reference.
fn ascii_identifier_terms(ident: &str, out: &mut Vec<u32>) -> bool {
    const MAX_LEN: usize = 64;
    if ident.len() > MAX_LEN || !ident.is_ascii() {
        return false;
    }
    let mut buffer = [0u8; MAX_LEN];
    let lower = &mut buffer[..ident.len()];
    lower.copy_from_slice(ident.as_bytes());
    lower.make_ascii_lowercase();
    out.push(term_of_bytes(lower));
    let words = word_ranges(ident);
    if words.clone().nth(1).is_some() {
        out.extend(words.filter(|(start, end)| end - start > 1).map(|(start, end)| term_of_bytes(&lower[start..end])));
    }
    true
}

/// Postings of a file: for each chunk, the terms of the references inside it and of the
/// names it defines (a definition's name counts twice: a chunk is about what it defines).
pub(super) fn postings(names: &[String], references: &[Reference], symbols: &[Symbol], chunks: &[Chunk]) -> Vec<Posting> {
    if chunks.is_empty() {
        return Vec::new();
    }
    // The terms of name `i` are `name_terms[name_ends[i]..name_ends[i + 1]]`.
    let mut name_terms: Vec<u32> = Vec::with_capacity(names.len() * 2);
    let mut name_ends: Vec<u32> = Vec::with_capacity(names.len() + 1);
    name_ends.push(0);
    for name in names {
        identifier_terms(name, &mut name_terms);
        name_ends.push(name_terms.len() as u32);
    }
    let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(references.len() * 2);
    for reference in references {
        if let Some(chunk) = chunk_of(chunks, reference.range) {
            let name = reference.name as usize;
            let terms = &name_terms[name_ends[name] as usize..name_ends[name + 1] as usize];
            pairs.extend(terms.iter().map(|&t| (t, chunk)));
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
        let Ok(chunk) = u16::try_from(chunk) else { continue };
        match out.last_mut() {
            Some(last) if last.term == term && last.chunk == chunk => last.tf = last.tf.saturating_add(1),
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

/// Where a term's postings are in one file: `FileIndex::terms[start..end]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TermFile {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

/// Term -> the files whose chunks use it, for the whole workspace: a query term costs one
/// lookup instead of a search in every file. Built from one snapshot (a few tens of ms on
/// a million lines) and valid for any later one: it remembers the file versions it was
/// built from, and `lookup` callers treat every file whose version changed since as
/// absent from the table (`is_current`) and search that file's own postings instead.
pub struct TermTable {
    /// Per file id, the version of the facts the table holds (weak: a replaced version
    /// is freed).
    versions: Vec<Option<FactsVersion>>,
    /// Distinct terms, sorted; `offsets[i]..offsets[i + 1]` indexes `files` for `terms[i]`,
    /// `chunks[i]` counts the chunks using it.
    terms: Vec<u32>,
    offsets: Vec<u32>,
    chunks: Vec<u32>,
    /// By term, then file id.
    files: Vec<TermFile>,
}

impl TermTable {
    pub fn build(snapshot: &IndexSnapshot) -> TermTable {
        let mut versions = Vec::new();
        let mut runs: Vec<(u32, TermFile)> = Vec::new();
        for (id, entry) in snapshot.entries() {
            let slot = id.0 as usize;
            if versions.len() <= slot {
                versions.resize_with(slot + 1, || None);
            }
            versions[slot] = Some(entry.version());
            let postings = entry.terms();
            let mut start = 0;
            while start < postings.len() {
                let term = postings[start].term;
                let end = start + postings[start..].partition_point(|p| p.term == term);
                runs.push((term, TermFile { file: id, start: start as u32, end: end as u32 }));
                start = end;
            }
        }
        runs.sort_unstable_by_key(|(term, f)| (*term, f.file));
        let mut terms = Vec::new();
        let mut offsets = Vec::new();
        let mut chunks: Vec<u32> = Vec::new();
        for (i, (term, found)) in runs.iter().enumerate() {
            if terms.last() != Some(term) {
                terms.push(*term);
                offsets.push(i as u32);
                chunks.push(0);
            }
            *chunks.last_mut().expect("pushed") += found.end - found.start;
        }
        offsets.push(runs.len() as u32);
        let files = runs.into_iter().map(|(_, f)| f).collect();
        TermTable { versions, terms, offsets, chunks, files }
    }

    /// Whether the table holds this version of the file (the same facts in memory).
    pub fn is_current(&self, file: FileId, entry: &Arc<FileEntry>) -> bool {
        let held = self.versions.get(file.0 as usize).and_then(Option::as_ref);
        held.is_some_and(|v| entry.is_version(v))
    }

    /// The bytes the table holds on the heap.
    pub fn heap_bytes(&self) -> usize {
        self.versions.capacity() * std::mem::size_of::<Option<FactsVersion>>()
            + (self.terms.capacity() + self.offsets.capacity() + self.chunks.capacity()) * 4
            + self.files.capacity() * std::mem::size_of::<TermFile>()
    }

    /// The files using `term` as the table was built, by file id (callers skip those that
    /// are not `is_current`), and how many chunks used it then.
    pub fn lookup(&self, term: u32) -> (&[TermFile], u32) {
        match self.terms.binary_search(&term) {
            Ok(i) => (&self.files[self.offsets[i] as usize..self.offsets[i + 1] as usize], self.chunks[i]),
            Err(_) => (&[], 0),
        }
    }

    /// The files the table holds a version of.
    pub fn held_files(&self) -> impl Iterator<Item = FileId> + '_ {
        self.versions.iter().enumerate().filter(|(_, v)| v.is_some()).map(|(i, _)| FileId(i as u32))
    }

    /// How many files were added, changed or removed since the table was built (a hint
    /// to build it again).
    pub fn stale_files(&self, snapshot: &IndexSnapshot) -> usize {
        let changed = snapshot.entries().filter(|(id, entry)| !self.is_current(*id, entry)).count();
        let removed = self.held_files().filter(|&id| snapshot.file(id).is_none()).count();
        changed + removed
    }
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

    #[test]
    fn postings_past_what_eight_bytes_hold_are_left_out_or_capped() {
        use crate::base::TextRange;
        use crate::index::{Chunk, RefRole};
        let chunks: Vec<Chunk> = (0..70_000u32)
            .map(|i| Chunk { range: TextRange::new(i * 10, i * 10 + 10), start_line: i, end_line: i, symbol: None, hash: u64::from(i) })
            .collect();
        let at = |offset: u32| Reference { name: 0, range: TextRange::new(offset, offset + 3), role: RefRole::Call };
        // 70,000 uses in chunk 0, one in chunk 65,535 (the last a posting holds), one past it.
        let mut references: Vec<Reference> = (0..70_000).map(|_| at(0)).collect();
        references.push(at(65_535 * 10));
        references.push(at(65_536 * 10));
        let postings = postings(&["foo".to_string()], &references, &[], &chunks);
        let term = term_of("foo");
        assert_eq!(postings, [Posting { term, chunk: 0, tf: u16::MAX }, Posting { term, chunk: u16::MAX, tf: 1 }]);
    }

    proptest::proptest! {
        /// The allocation-free path gives the terms of the general one.
        #[test]
        fn ascii_terms_are_the_general_terms(ident in "[a-zA-Z0-9_$#]{0,80}|[a-z]{1,3}([A-Z][a-z]{0,3}|_[a-z]{1,2}){0,20}|x[\\PC]{0,6}") {
            let mut fast = Vec::new();
            identifier_terms(&ident, &mut fast);
            let general: Vec<u32> = identifier_words(&ident).iter().map(|w| term_of(w)).collect();
            proptest::prop_assert_eq!(fast, general);
        }
    }
}
