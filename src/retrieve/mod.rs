//! Retrieval: for a cursor position (and an optional query), choose from the whole
//! workspace what the model needs and pack it into a token budget. Pure: an index
//! snapshot, the recency state and the vector store's answer in, ranked snippets out;
//! deterministic for the same inputs.
//!
//! Four generators, each usable alone (`Generators`):
//! - `symbol`: names around the cursor resolved through the index to their definitions
//!   (`symbol.rs`);
//! - `lexical`: BM25 over the chunks' identifier terms, queried with the names around
//!   the cursor and the query (`lexical.rs`);
//! - `vector`: the chunks nearest to the text around the cursor in the vector store (the
//!   caller searches the store with `query_text`; `embed.rs` is the built-in embedder);
//! - `recency`: definitions in the working tree's diff and in ranges edited this session
//!   (`recency.rs`).
//!
//! Their ranked lists are fused by weighted reciprocal rank (`fuse`), and the fused list
//! is packed greedily into the budget: as compact snippets (`pack`), or as fewer whole
//! definitions (`whole.rs`), by the request's `Packing`.

mod cache;
mod lexical;
mod recency;
mod symbol;
mod whole;

pub mod embed;

use rustc_hash::FxHashMap as HashMap;

pub use cache::{Cache, CacheStats};
pub use recency::{ChangedFile, Recency};

use crate::index::{FileId, FileIndex, IndexSnapshot, SymbolKind};

/// One of the candidate generators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Generator {
    Symbol,
    Lexical,
    Vector,
    Recency,
}

impl Generator {
    pub const ALL: [Generator; 4] = [Generator::Symbol, Generator::Lexical, Generator::Vector, Generator::Recency];

    pub fn name(self) -> &'static str {
        match self {
            Generator::Symbol => "symbol",
            Generator::Lexical => "lexical",
            Generator::Vector => "vector",
            Generator::Recency => "recency",
        }
    }

    /// Weight in the fusion: the symbol graph is the most precise signal, the others add
    /// what it cannot see (tuned on the yardstick, docs/context-quality.md).
    fn weight(self) -> f32 {
        match self {
            Generator::Symbol => 1.0,
            Generator::Lexical => 0.35,
            Generator::Vector => 0.25,
            Generator::Recency => 0.5,
        }
    }
}

/// A set of generators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Generators(u8);

impl Generators {
    pub const ALL: Generators = Generators(0b1111);

    pub fn contains(self, g: Generator) -> bool {
        self.0 & (1 << g as u8) != 0
    }

    pub fn only(g: Generator) -> Generators {
        Generators(1 << g as u8)
    }

    /// `symbol,lexical`; `all`.
    pub fn parse(text: &str) -> Result<Generators, String> {
        let mut set = 0u8;
        for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            if word == "all" {
                set |= Generators::ALL.0;
                continue;
            }
            let g = Generator::ALL.iter().find(|g| g.name() == word).ok_or_else(|| {
                format!("unknown generator `{word}` (expected symbol, lexical, vector, recency or all)")
            })?;
            set |= 1 << *g as u8;
        }
        if set == 0 {
            return Err("no generator named".to_string());
        }
        Ok(Generators(set))
    }
}

/// How the ranked candidates become snippets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Packing {
    /// As many definitions as the budget holds, each compact (a function's signature, a
    /// type's first lines, a chunk's first lines), then the budget's rest to doc
    /// sentences, short bodies and cut types (`pack`).
    #[default]
    Compact,
    /// Fewer, whole definitions: a short definition whole, a long one as its signature,
    /// each under its first doc sentence; nothing that ranks far below the best
    /// (`whole.rs`).
    Whole,
}

impl Packing {
    pub fn name(self) -> &'static str {
        match self {
            Packing::Compact => "compact",
            Packing::Whole => "whole",
        }
    }

    /// `compact` or `whole`.
    pub fn parse(text: &str) -> Result<Packing, String> {
        [Packing::Compact, Packing::Whole]
            .into_iter()
            .find(|p| p.name() == text.trim())
            .ok_or_else(|| format!("unknown packing `{text}` (expected compact or whole)"))
    }
}

#[derive(Clone, Debug)]
pub struct ContextRequest<'a> {
    pub file: FileId,
    pub offset: u32,
    pub query: Option<&'a str>,
    pub budget_tokens: usize,
    pub generators: Generators,
    pub recency: &'a Recency,
    /// The vector store's answer to `query_text`: (chunk hash, similarity), best first.
    pub vector_hits: &'a [(u64, f32)],
    /// What earlier requests computed from the index (the server's, per root): the same
    /// answer, sooner.
    pub cache: Option<&'a Cache>,
    pub packing: Packing,
}

impl<'a> ContextRequest<'a> {
    /// A request with every generator, no recency state and no vector hits.
    pub fn new(file: FileId, offset: u32, budget_tokens: usize) -> ContextRequest<'static> {
        static NO_RECENCY: std::sync::OnceLock<Recency> = std::sync::OnceLock::new();
        ContextRequest {
            file,
            offset,
            query: None,
            budget_tokens,
            generators: Generators::ALL,
            recency: NO_RECENCY.get_or_init(Recency::default),
            vector_hits: &[],
            cache: None,
            packing: Packing::Compact,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Snippet {
    pub file: FileId,
    /// Zero-based, inclusive.
    pub start_line: u32,
    pub end_line: u32,
    pub text: String,
    pub score: f32,
    pub sources: Vec<&'static str>,
    /// Why it was chosen, for `--explain`.
    pub why: String,
    pub tokens: usize,
}

/// What a hit points at: a symbol (shown compactly) or a chunk without one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Target {
    Symbol(u32),
    Chunk(u32),
}

/// One generator's candidate.
struct Hit {
    file: FileId,
    target: Target,
    why: String,
    /// What is worth its tokens only when everything ranked has been packed (a chosen
    /// type's other constructors and constants).
    filler: bool,
}

/// A chunk hit points at the chunk's symbol when it defines exactly one (outermost)
/// item, else at the chunk itself (small neighbours merged into one chunk, or a window of
/// a long body).
fn chunk_target(file: &FileIndex, chunk: u32) -> Target {
    let Some(c) = file.chunks.get(chunk as usize) else { return Target::Chunk(chunk) };
    let Some(first) = c.symbol else { return Target::Chunk(chunk) };
    let outermost = file
        .symbols
        .iter()
        .filter(|s| c.range.contains_range(s.name_range))
        .filter(|s| s.parent.is_none_or(|p| !c.range.contains_range(file.symbols[p as usize].name_range)))
        .count();
    if outermost == 1 {
        Target::Symbol(first)
    } else {
        Target::Chunk(chunk)
    }
}

pub fn retrieve(
    snapshot: &IndexSnapshot,
    request: &ContextRequest,
    count_tokens: &dyn Fn(&str) -> usize,
    source_of: &dyn Fn(FileId) -> Option<String>,
) -> Vec<Snippet> {
    if snapshot.file(request.file).is_none() {
        return Vec::new();
    }
    let wants = |g| request.generators.contains(g);
    // The symbol graph reads the file's text (which names follow a dot in TS/JS, which
    // imports are re-exports in Rust).
    let text = wants(Generator::Symbol).then(|| source_of(request.file)).flatten();
    // The symbol graph costs about what the others cost together: they run side by side.
    let (symbol, (lexical, vector, recency)) = rayon::join(
        || wants(Generator::Symbol).then(|| symbol::generate(snapshot, request, text.as_deref())),
        || {
            (
                wants(Generator::Lexical).then(|| lexical::generate(snapshot, request)),
                wants(Generator::Vector).then(|| vector_hits(snapshot, request)),
                wants(Generator::Recency).then(|| recency::generate(snapshot, request)),
            )
        },
    );
    let lists: Vec<(Generator, Vec<Hit>)> = [
        (Generator::Symbol, symbol),
        (Generator::Lexical, lexical),
        (Generator::Vector, vector),
        (Generator::Recency, recency),
    ]
    .into_iter()
    .filter_map(|(g, hits)| Some((g, hits?)))
    .collect();
    let mut fused = fuse(lists, snapshot, request.recency);
    // Library code cannot use tests, benchmarks or examples: whatever names they share
    // with it, they are not what its body needs.
    let from = snapshot.file(request.file).map_or("", |e| e.path.as_str());
    if !symbol::is_test_path(from) {
        fused.retain(|c| snapshot.file(c.file).is_none_or(|e| !symbol::is_test_path(&e.path)));
    }
    match request.packing {
        Packing::Compact => pack(snapshot, fused, request.budget_tokens, count_tokens, source_of),
        Packing::Whole => whole::pack(snapshot, fused, request.budget_tokens, count_tokens, source_of),
    }
}

/// A score ordered by `total_cmp`, for heaps of the best ones.
#[derive(Clone, Copy, PartialEq)]
struct Score(f32);

impl Eq for Score {}

impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Score {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// A candidate after fusion.
struct Fused {
    file: FileId,
    target: Target,
    score: f32,
    sources: Vec<&'static str>,
    why: Vec<String>,
    /// Every generator that proposed it proposed it as filler (see `Hit`).
    filler: bool,
}

/// Reciprocal rank fusion: a candidate scores `weight / (RRF_K + rank)` per generator.
/// 60 is the usual constant; on the yardstick it beat 5, 10, 20 and 30 at 512 tokens
/// (docs/context-quality.md).
const RRF_K: f32 = 60.0;

/// Weighted reciprocal rank fusion of the generators' lists; candidates in files open
/// in the editor or changed in the working tree get a small boost.
fn fuse(lists: Vec<(Generator, Vec<Hit>)>, snapshot: &IndexSnapshot, recency: &Recency) -> Vec<Fused> {
    let mut fused: Vec<Fused> = Vec::new();
    let mut at: HashMap<(FileId, Target), usize> = HashMap::default();
    for (g, hits) in lists {
        let mut rank = 0;
        let mut scored: rustc_hash::FxHashSet<usize> = rustc_hash::FxHashSet::default();
        for hit in hits {
            let key = (hit.file, hit.target);
            let i = *at.entry(key).or_insert_with(|| {
                fused.push(Fused { file: hit.file, target: hit.target, score: 0.0, sources: Vec::new(), why: Vec::new(), filler: true });
                fused.len() - 1
            });
            let entry = &mut fused[i];
            entry.filler &= hit.filler;
            // Filler takes no rank from what follows it and gives no score: proposed
            // by another generator too, a definition ranks as that one ranks it.
            if !entry.sources.contains(&g.name()) {
                entry.sources.push(g.name());
                entry.why.push(format!("{}: {}", g.name(), hit.why));
            }
            if hit.filler || !scored.insert(i) {
                continue; // a generator counts once per candidate, at its best rank
            }
            entry.score += g.weight() / (RRF_K + rank as f32);
            rank += 1;
        }
    }
    for entry in &mut fused {
        let path = snapshot.file(entry.file).map_or("", |e| e.path.as_str());
        if recency.is_open(path) || recency.is_changed(path) {
            entry.score *= 1.1;
        }
    }
    fused.sort_by(|a, b| a.filler.cmp(&b.filler).then(b.score.total_cmp(&a.score)).then(a.file.cmp(&b.file)).then(a.target.cmp(&b.target)));
    fused
}

/// Nearest neighbours less similar than this are noise (unrelated code sits near 0).
const MIN_SIMILARITY: f32 = 0.2;

/// Vector-store hits mapped to the chunks that have that content (outside the current
/// file), nearest first.
fn vector_hits(snapshot: &IndexSnapshot, request: &ContextRequest) -> Vec<Hit> {
    if request.vector_hits.is_empty() {
        return Vec::new();
    }
    let wanted: HashMap<u64, usize> = request
        .vector_hits
        .iter()
        .enumerate()
        .filter(|(_, (_, similarity))| *similarity >= MIN_SIMILARITY)
        .map(|(i, (hash, _))| (*hash, i))
        .collect();
    // The files holding each hit's chunk, from the index's chunk table.
    let mut found: Vec<(usize, FileId, u32)> = Vec::new();
    for (&hash, &rank) in &wanted {
        for &file in snapshot.files_with_chunk(hash).iter().filter(|&&file| file != request.file) {
            let Some(entry) = snapshot.file(file) else { continue };
            for (i, _) in entry.chunks().iter().enumerate().filter(|(_, chunk)| chunk.hash == hash) {
                found.push((rank, file, i as u32));
            }
        }
    }
    found.sort();
    found
        .into_iter()
        .map(|(rank, file, chunk)| {
            let similarity = request.vector_hits[rank].1;
            let index = snapshot.file(file).expect("from the snapshot").light();
            Hit { file, target: chunk_target(index, chunk), why: format!("similar to the code around the cursor (cosine {similarity:.2})"), filler: false }
        })
        .collect()
}

/// The text the vector store is queried with: the lines around the cursor (mostly
/// before it), the enclosing function's signature and doc, and the query.
pub fn query_text(snapshot: &IndexSnapshot, file: FileId, offset: u32, query: Option<&str>, text: &str) -> String {
    let mut out = String::new();
    if let Some(entry) = snapshot.file(file) {
        let index = entry.index();
        if let Some(i) = innermost(index, offset, |k| matches!(k, SymbolKind::Function | SymbolKind::Method)) {
            out.push_str(index.symbols[i].signature());
            out.push('\n');
            if let Some(doc) = index.symbols[i].doc() {
                out.push_str(doc);
                out.push('\n');
            }
        }
    }
    let (before, after) = text.split_at(crate::lang::floor_char_boundary(text, (offset as usize).min(text.len())));
    let lines_before: Vec<&str> = before.lines().collect();
    let from = lines_before.len().saturating_sub(20);
    out.push_str(&lines_before[from..].join("\n"));
    let after: String = after.lines().take(3).collect::<Vec<_>>().join("\n");
    out.push('\n');
    out.push_str(&after);
    if let Some(query) = query {
        out.push('\n');
        out.push_str(query);
    }
    out
}

/// How many lines of a definition a snippet shows at most, by kind and budget: what
/// matters most (the fields of a type, a function's signature), fewer when the budget is
/// small so that more definitions fit.
fn snippet_lines(kind: SymbolKind, budget: usize) -> u32 {
    let scale = (budget as f32 / 2048.0).clamp(0.25, 1.0);
    let lines = match kind {
        SymbolKind::Struct | SymbolKind::Enum | SymbolKind::Class | SymbolKind::Interface | SymbolKind::Trait => 12.0 * scale,
        SymbolKind::Macro => 8.0 * scale,
        SymbolKind::TypeAlias | SymbolKind::Const | SymbolKind::Static | SymbolKind::Variable => 4.0 * scale,
        SymbolKind::Impl | SymbolKind::Module | SymbolKind::Namespace => 2.0 * scale,
        // Functions: the signature (see `header_lines`), at most this many lines.
        _ => 4.0,
    };
    lines.round().max(1.0) as u32
}

/// Lines of a function's header: up to the line that opens its body.
fn header_lines(text: &str) -> u32 {
    let mut count = 0;
    for line in text.lines() {
        count += 1;
        let trimmed = line.trim_end();
        if trimmed.ends_with('{') || trimmed.ends_with(';') || trimmed.contains("=>") || trimmed.ends_with('}') {
            break;
        }
    }
    count.max(1)
}

/// Packs fused candidates, best first, into the budget: each one as a compact snippet
/// (a function's signature, a type's first lines, a chunk's first lines); a candidate
/// whose snippet shows definitions already taken (a type after its variant) takes their
/// place; others overlapping one already taken, or too big for what is left, are
/// skipped. What the
/// budget has left then goes, best snippet first, to what a model needs to use a
/// definition (`enrich`): the first sentence of its doc, a short function's body.
fn pack(
    snapshot: &IndexSnapshot,
    candidates: Vec<Fused>,
    budget: usize,
    count_tokens: &dyn Fn(&str) -> usize,
    source_of: &dyn Fn(FileId) -> Option<String>,
) -> Vec<Snippet> {
    let mut snippets: Vec<Snippet> = Vec::new();
    let mut symbols: Vec<Option<u32>> = Vec::new();
    let mut used = 0usize;
    let mut texts: HashMap<FileId, Option<String>> = HashMap::default();
    for candidate in candidates {
        if budget.saturating_sub(used) < 8 {
            break;
        }
        let Some(entry) = snapshot.file(candidate.file) else { continue };
        // Ranges and lines only: the text comes from the file.
        let index = entry.light();
        let lines = &index.line_index;
        let (start_line, last_line, kind) = match candidate.target {
            Target::Symbol(symbol) => {
                let Some(symbol) = index.symbols.get(symbol as usize) else { continue };
                (lines.line_col(symbol.range.start).line, lines.line_col(symbol.range.end).line, Some(symbol.kind))
            }
            Target::Chunk(chunk) => {
                let Some(chunk) = index.chunks.get(chunk as usize) else { continue };
                (chunk.start_line, chunk.end_line, None)
            }
        };
        // A chunk without a symbol shows as many lines as a type would.
        let shown = snippet_lines(kind.unwrap_or(SymbolKind::Struct), budget);
        let mut end_line = (start_line + shown - 1).min(last_line);
        let overlapping: Vec<usize> =
            (0..snippets.len()).filter(|&i| snippets[i].file == candidate.file && snippets[i].start_line <= end_line && start_line <= snippets[i].end_line).collect();
        // Definitions taken earlier inside this one's snippet (a variant, a field, a
        // method of this type) are shown by it: it takes their place instead of being
        // left out (the variant `Future` ranked first must not hide its enum
        // `MaybeDone`). A chunk (a window of lines) does not: the definitions it would
        // swallow were chosen for themselves. Anything else overlapping already shows
        // these lines.
        let inside = |s: &Snippet| start_line < s.start_line && s.end_line <= end_line;
        let definition = matches!(candidate.target, Target::Symbol(_));
        if !overlapping.is_empty() && !(definition && overlapping.iter().all(|&i| inside(&snippets[i]))) {
            continue;
        }
        let Some(text) = texts.entry(candidate.file).or_insert_with(|| source_of(candidate.file)).as_deref() else { continue };
        let from = lines.line_start(start_line) as usize;
        let to = (lines.line_end(end_line) as usize).min(text.len());
        let Some(mut body) = text.get(from..to) else { continue };
        if matches!(kind, Some(SymbolKind::Function | SymbolKind::Method)) {
            // A function's signature is what the model needs of it; bodies cost budget.
            let header = header_lines(body);
            end_line = end_line.min(start_line + header - 1);
            let cut = (lines.line_end(end_line) as usize).min(text.len());
            body = text.get(from..cut.max(from)).unwrap_or(body);
        }
        let snippet_text = body.trim_end_matches('\n').to_string();
        let tokens = count_tokens(&snippet_text);
        let freed: usize = overlapping.iter().map(|&i| snippets[i].tokens).sum();
        if used + tokens > budget + freed {
            continue;
        }
        used = used + tokens - freed;
        let symbol = match candidate.target {
            Target::Symbol(symbol) => Some(symbol),
            Target::Chunk(_) => None,
        };
        let snippet = Snippet {
            file: candidate.file,
            start_line,
            end_line,
            text: snippet_text,
            score: candidate.score,
            sources: candidate.sources,
            why: candidate.why.join("; "),
            tokens,
        };
        for &i in overlapping.iter().rev() {
            symbols.remove(i);
        }
        let at = take_place(&mut snippets, &overlapping, snippet);
        symbols.insert(at, symbol);
    }
    enrich(snapshot, &mut snippets, &symbols, budget.saturating_sub(used), count_tokens, &texts);
    snippets
}

/// Puts `snippet` in the place of the packed snippets at `overlapping` (ascending), which
/// it shows: where the first of them was in the order, with their best score, their
/// sources and their reasons; at the end when there are none. Returns where it went.
fn take_place(snippets: &mut Vec<Snippet>, overlapping: &[usize], mut snippet: Snippet) -> usize {
    let Some(&first) = overlapping.first() else {
        snippets.push(snippet);
        return snippets.len() - 1;
    };
    for &i in overlapping.iter().rev() {
        let absorbed = snippets.remove(i);
        snippet.score = snippet.score.max(absorbed.score);
        for source in absorbed.sources {
            if !snippet.sources.contains(&source) {
                snippet.sources.push(source);
            }
        }
        snippet.why = format!("{}; {}", absorbed.why, snippet.why);
    }
    snippets.insert(first, snippet);
    first
}

/// A function this short (in lines) is shown whole when the budget allows: its body
/// says more than its signature for about the same tokens.
const SHORT_FUNCTION_LINES: u32 = 5;
/// A type (struct, enum, class, interface, trait, type alias) of at most this many lines
/// that packing cut short is shown whole when the budget allows: a model needs all its
/// fields or variants, and a type cut after three lines, closing brace missing, reads as
/// a type that has only those.
const WHOLE_TYPE_LINES: u32 = 40;

/// Adds to the packed snippets, best first and within `left` tokens, the first sentence
/// of a definition's doc comment (as a comment line above it), the body of a short
/// function and the rest of a type packing cut short. The snippets chosen and their
/// order stay what packing decided.
fn enrich(
    snapshot: &IndexSnapshot,
    snippets: &mut [Snippet],
    symbols: &[Option<u32>],
    mut left: usize,
    count_tokens: &dyn Fn(&str) -> usize,
    texts: &HashMap<FileId, Option<String>>,
) {
    for i in 0..snippets.len() {
        if left < 4 {
            return;
        }
        let Some(symbol_index) = symbols[i] else { continue };
        let file = snippets[i].file;
        let Some(entry) = snapshot.file(file) else { continue };
        let Some(Some(text)) = texts.get(&file) else { continue };
        let light = entry.light();
        let Some(symbol) = light.symbols.get(symbol_index as usize) else { continue };
        let lines = &light.line_index;
        let mut new_text = snippets[i].text.clone();
        let mut end_line = snippets[i].end_line;
        let last_line = lines.line_col(symbol.range.end).line;
        let short_function = matches!(symbol.kind, SymbolKind::Function | SymbolKind::Method)
            && last_line > end_line
            && last_line - snippets[i].start_line < SHORT_FUNCTION_LINES;
        let cut_type = matches!(symbol.kind, SymbolKind::Struct | SymbolKind::Enum | SymbolKind::Class | SymbolKind::Interface | SymbolKind::Trait | SymbolKind::TypeAlias)
            && last_line > end_line
            && last_line - snippets[i].start_line < WHOLE_TYPE_LINES;
        let free = |from: u32, to: u32| !snippets.iter().enumerate().any(|(j, s)| j != i && s.file == file && s.start_line <= to && from <= s.end_line);
        if (short_function || cut_type) && free(snippets[i].start_line, last_line) {
            let from = lines.line_start(snippets[i].start_line) as usize;
            let to = (lines.line_end(last_line) as usize).min(text.len());
            if let Some(body) = text.get(from..to) {
                new_text = body.trim_end_matches('\n').to_string();
                end_line = last_line;
            }
        }
        // Docs are details: decoded for the few files shown.
        let doc = entry.index().symbols.get(symbol_index as usize).and_then(|s| s.doc()).and_then(first_sentence);
        if let Some(sentence) = doc {
            let comment = light.lang.spec().doc.one_line(&sentence);
            if !new_text.trim_start().starts_with(comment.as_str()) {
                new_text = format!("{comment}\n{new_text}");
            }
        }
        if new_text == snippets[i].text {
            continue;
        }
        let tokens = count_tokens(&new_text);
        let extra = tokens.saturating_sub(snippets[i].tokens);
        if extra > left {
            continue;
        }
        left -= extra;
        let snippet = &mut snippets[i];
        snippet.text = new_text;
        snippet.end_line = end_line;
        snippet.tokens = tokens;
    }
}

/// The first sentence of a doc comment (up to a full stop followed by a space or the end
/// of a line, or the first blank line), on one line, at most 200 bytes.
fn first_sentence(doc: &str) -> Option<String> {
    let paragraph = doc.split("\n\n").next().unwrap_or(doc).trim();
    let mut end = paragraph.len();
    for (at, _) in paragraph.match_indices('.') {
        let next = paragraph[at + 1..].chars().next();
        if next.is_none_or(char::is_whitespace) {
            end = at + 1;
            break;
        }
    }
    let sentence = paragraph[..end].split_whitespace().collect::<Vec<_>>().join(" ");
    if sentence.is_empty() || sentence.starts_with('@') || sentence.starts_with("```") {
        return None;
    }
    Some(if sentence.len() > 200 {
        format!("{}…", &sentence[..crate::lang::floor_char_boundary(&sentence, 200)])
    } else {
        sentence
    })
}

fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')).filter(|w| w.len() > 1 && !w.chars().next().is_some_and(|c| c.is_ascii_digit()))
}

fn innermost(file: &FileIndex, offset: u32, want: impl Fn(SymbolKind) -> bool) -> Option<usize> {
    file.symbols
        .iter()
        .enumerate()
        .filter(|(_, s)| want(s.kind) && s.range.contains_inclusive(offset))
        .min_by_key(|(_, s)| s.range.len())
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests;
