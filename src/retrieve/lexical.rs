//! The lexical generator: BM25 over the chunks' identifier terms (`index::terms`: whole
//! identifiers and their sub-words), queried with the names used in the enclosing
//! function (or the lines around the cursor), its signature and doc, and the query text.
//! Finds code that talks about the same things even when no name resolves.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rustc_hash::FxHashMap as HashMap;

use super::{chunk_target, identifiers, innermost, ContextRequest, Hit, Score};
use crate::index::terms::{identifier_words, postings_of, term_of, TermTable};
use crate::index::{FileId, FileIndex, IndexSnapshot, SymbolKind};

const K1: f32 = 1.2;
const B: f32 = 0.75;
/// Lines around the cursor whose names make the query when there is no enclosing function.
const WINDOW_LINES: u32 = 25;
const MAX_HITS: usize = 40;
/// Query terms used, the most telling first.
const MAX_QUERY_TERMS: usize = 32;
/// Words of the query looked up at all.
const MAX_QUERY_WORDS: usize = 40;

pub(super) fn generate(snapshot: &IndexSnapshot, request: &ContextRequest) -> Vec<Hit> {
    generate_pruned(snapshot, request, true).0
}

/// The hits, and how many files' chunks were scored; `prune: false` scores every file's
/// (for tests: the same hits).
pub(super) fn generate_pruned(snapshot: &IndexSnapshot, request: &ContextRequest, prune: bool) -> (Vec<Hit>, usize) {
    let Some(entry) = snapshot.file(request.file) else { return (Vec::new(), 0) };
    let query = query_terms(entry.index(), request);
    if query.is_empty() {
        return (Vec::new(), 0);
    }
    let stats = snapshot.chunk_stats();
    let (chunks, lines) = (stats.chunks as usize, stats.lines);
    if chunks == 0 {
        return (Vec::new(), 0);
    }
    // The most telling terms only: words in a quarter of all chunks (`self`, `new`) add
    // cost, not signal.
    let max_df = if chunks >= 40 { (chunks / 4) as u32 } else { u32::MAX };
    let common = |df: u32| df > max_df;
    let (df, matches) = match snapshot.term_table() {
        Some(table) => matches_by_table(snapshot, table, request.file, &query, max_df),
        None => matches_by_scan(snapshot, snapshot.files().map(|(id, _)| id), request.file, &query),
    };
    let average = lines as f32 / chunks as f32;
    let idf: Vec<f32> = df.iter().map(|&d| (1.0 + (chunks as f32 - d as f32 + 0.5) / (d as f32 + 0.5)).ln()).collect();
    let mut useful: Vec<usize> = (0..query.len()).filter(|&q| df[q] > 0 && !common(df[q])).collect();
    useful.sort_by(|&a, &b| (query[b].weight * idf[b]).total_cmp(&(query[a].weight * idf[a])).then(a.cmp(&b)));
    useful.truncate(MAX_QUERY_TERMS);
    let mut is_useful = vec![false; query.len()];
    for &q in &useful {
        is_useful[q] = true;
    }

    // Matches come file by file (see `Matches`): a file's chunk scores add up in an array
    // of its chunks, not a hash map (on a large workspace a query's terms have hundreds
    // of thousands of postings). Each score adds its terms in the matches' order.
    // Files are taken by the most any of their chunks can score, highest first: a term
    // adds less than its weight x idf x (K1 + 1) to a chunk (tf / (tf + K1 x norm) < 1).
    // Once that bound is below the `MAX_HITS`th best score so far, no chunk of the file or
    // of the files after it can be among the best, and their postings are not read: the
    // same hits with the same scores as scoring every chunk.
    let useful_matches: Vec<(FileId, usize, u32, u32)> = matches.into_iter().filter(|m| is_useful[m.1]).collect();
    let mut files: Vec<(f32, usize, usize)> = Vec::new();
    let mut start = 0;
    while start < useful_matches.len() {
        let file = useful_matches[start].0;
        let end = start + useful_matches[start..].iter().take_while(|m| m.0 == file).count();
        let bound: f32 = useful_matches[start..end].iter().map(|&(_, q, _, _)| query[q].weight * idf[q] * (K1 + 1.0)).sum();
        files.push((bound, start, end));
        start = end;
    }
    files.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut least: BinaryHeap<Reverse<Score>> = BinaryHeap::with_capacity(MAX_HITS + 1);
    let mut ranked: Vec<((FileId, u32), f32)> = Vec::new();
    let mut scores: Vec<f32> = Vec::new();
    let mut touched: Vec<u16> = Vec::new();
    let mut scored = 0;
    for (bound, start, end) in files {
        // A margin for rounding: the bound and the scores add in different orders.
        if prune && least.len() == MAX_HITS && least.peek().is_some_and(|l| bound * 1.001 < l.0 .0) {
            break;
        }
        scored += 1;
        let file = useful_matches[start].0;
        let entry = snapshot.file(file).expect("from the snapshot");
        let chunks = entry.chunks();
        scores.clear();
        scores.resize(chunks.len(), f32::NAN);
        touched.clear();
        for &(_, q, from, to) in &useful_matches[start..end] {
            for posting in &entry.terms()[from as usize..to as usize] {
                let c = &chunks[posting.chunk as usize];
                let length = (c.end_line - c.start_line + 1) as f32;
                let tf = posting.tf as f32;
                let score = &mut scores[posting.chunk as usize];
                if score.is_nan() {
                    *score = 0.0;
                    touched.push(posting.chunk);
                }
                *score += query[q].weight * idf[q] * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * length / average));
            }
        }
        for &chunk in &touched {
            let score = scores[chunk as usize];
            ranked.push(((file, u32::from(chunk)), score));
            least.push(Reverse(Score(score)));
            if least.len() > MAX_HITS {
                least.pop();
            }
        }
    }
    let best_first = |a: &((FileId, u32), f32), b: &((FileId, u32), f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if ranked.len() > MAX_HITS {
        ranked.select_nth_unstable_by(MAX_HITS, best_first);
        ranked.truncate(MAX_HITS);
    }
    ranked.sort_unstable_by(best_first);
    // The most telling shared words, for `--explain`.
    useful.sort_by(|&a, &b| idf[b].total_cmp(&idf[a]).then(a.cmp(&b)));
    let hits = ranked
        .into_iter()
        .map(|((file, chunk), score)| {
            let entry = snapshot.file(file).expect("from the snapshot");
            let words: Vec<&str> = useful
                .iter()
                .filter(|&&q| postings_of(entry.terms(), query[q].term).iter().any(|p| u32::from(p.chunk) == chunk))
                .take(4)
                .map(|&q| query[q].word.as_str())
                .collect();
            Hit {
                filler: false,
                file,
                target: chunk_target(entry.light(), chunk),
                why: format!("BM25 {score:.1}: shares `{}` with the code around the cursor", words.join("`, `")),
            }
        })
        .collect();
    (hits, scored)
}

/// The document frequency (chunks) of each query term, and where its postings are
/// outside `current`: (file, query term, postings start, end), by file then term (a
/// file's matches together).
type Matches = (Vec<u32>, Vec<(FileId, usize, u32, u32)>);

/// By a merge of the sorted query terms with each file's sorted postings.
fn matches_by_scan(snapshot: &IndexSnapshot, files: impl Iterator<Item = FileId>, current: FileId, query: &[QueryTerm]) -> Matches {
    let mut order: Vec<usize> = (0..query.len()).collect();
    order.sort_by_key(|&q| query[q].term);
    let mut df = vec![0u32; query.len()];
    let mut matches = Vec::new();
    for file in files {
        let Some(entry) = snapshot.file(file) else { continue };
        let postings = entry.terms();
        let mut at = 0;
        for &q in &order {
            let term = query[q].term;
            // Gallop to the term: postings are sorted by term.
            let mut step = 1;
            while at + step < postings.len() && postings[at + step].term < term {
                at += step;
                step *= 2;
            }
            let end = (at + step + 1).min(postings.len());
            at += postings[at..end].partition_point(|p| p.term < term);
            let start = at;
            while at < postings.len() && postings[at].term == term {
                at += 1;
            }
            df[q] += (at - start) as u32;
            if file != current && at > start {
                matches.push((file, q, start as u32, at as u32));
            }
            if at >= postings.len() {
                break;
            }
        }
    }
    (df, matches)
}

/// By the workspace's term table, for the files it holds as they are; the files changed
/// since it was built are scanned. Gives what `matches_by_scan` gives, without the
/// postings of terms used in more than `max_df` chunks (they are not looked at).
fn matches_by_table(snapshot: &IndexSnapshot, table: &TermTable, current: FileId, query: &[QueryTerm], max_df: u32) -> Matches {
    let changed: Vec<FileId> = snapshot.entries().filter(|(id, entry)| !table.is_current(*id, entry)).map(|(id, _)| id).collect();
    let (mut df, mut matches) = matches_by_scan(snapshot, changed.iter().copied(), current, query);
    let mut stale: Vec<FileId> = changed;
    // Files the table holds that are gone or changed: their old counts come off.
    stale.extend(table.held_files().filter(|&id| snapshot.entry(id).is_none()));
    stale.sort_unstable();
    for (q, term) in query.iter().enumerate() {
        let (files, chunks) = table.lookup(term.term);
        let mut count = chunks;
        for file in &stale {
            if let Ok(i) = files.binary_search_by_key(file, |f| f.file) {
                count -= files[i].end - files[i].start;
            }
        }
        df[q] += count;
        if df[q] > max_df {
            continue;
        }
        for found in files.iter().filter(|f| f.file != current && stale.binary_search(&f.file).is_err()) {
            matches.push((found.file, q, found.start, found.end));
        }
    }
    matches.retain(|m| df[m.1] <= max_df);
    // The order of the scan: the same scores to the last bit.
    matches.sort_unstable_by_key(|&(file, q, _, _)| (file, query[q].term, q));
    (df, matches)
}

struct QueryTerm {
    term: u32,
    word: String,
    weight: f32,
}

/// The query's terms, weighted by sub-linear frequency, in a deterministic order.
fn query_terms(file: &FileIndex, request: &ContextRequest) -> Vec<QueryTerm> {
    let mut counts: HashMap<String, f32> = HashMap::default();
    let mut add = |ident: &str, times: f32| {
        if ident.chars().count() < 2 {
            return; // `i`, `x`: everywhere, about nothing
        }
        for word in identifier_words(ident) {
            *counts.entry(word).or_default() += times;
        }
    };
    let enclosing = innermost(file, request.offset, |k| matches!(k, SymbolKind::Function | SymbolKind::Method));
    let range = match enclosing {
        Some(i) => file.symbols[i].range,
        None => {
            let line = file.line_index.line_col(request.offset).line;
            let from = file.line_index.line_start(line.saturating_sub(WINDOW_LINES));
            let to = file.line_index.line_end(line + WINDOW_LINES);
            crate::base::TextRange::new(from, to)
        }
    };
    for reference in file.references.iter().filter(|r| range.contains_range(r.range)) {
        add(file.reference_name(reference), 1.0);
    }
    let mut words = String::new();
    if let Some(i) = enclosing {
        words.push_str(file.symbols[i].signature());
        words.push(' ');
        words.push_str(file.symbols[i].doc().unwrap_or(""));
    }
    words.push(' ');
    words.push_str(request.query.unwrap_or(""));
    for ident in identifiers(&words) {
        add(ident, 2.0);
    }
    let mut terms: Vec<QueryTerm> = counts
        .into_iter()
        .map(|(word, count)| QueryTerm { term: term_of(&word), word, weight: 1.0 + count.ln() })
        .collect();
    // The most frequent first; a long function's rarest names add cost, not signal.
    terms.sort_by(|a, b| b.weight.total_cmp(&a.weight).then(a.word.cmp(&b.word)));
    terms.truncate(MAX_QUERY_WORDS);
    terms
}
