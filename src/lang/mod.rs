//! Languages ctxls understands, their tree-sitter grammars and queries, and parsing:
//! whole files, and incremental reparses of open documents (`Document`).
//! Parsers are cached one per grammar per thread; queries are compiled once per process.

mod errors;
mod flat;
pub mod kinds;
mod pattern;
mod queries;
mod spec;

pub use errors::{count_errors, each_child_from, each_child_within};
pub use flat::FlatTree;
pub use pattern::{PatternMatch, PatternSet};
pub use queries::{Capture, LangQueries};
pub use spec::{DocComments, DocStyle, LangSpec, LexerSyntax, ModuleSystem, TestFiles};

use std::cell::RefCell;
use std::path::Path;

use tree_sitter::{InputEdit, Parser, Point, Tree};

use crate::base::{LineIndex, TextRange};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[derive(bitcode::Encode, bitcode::Decode, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Rust,
    TypeScript,
    Tsx,
    JavaScript,
}

/// The grammars behind the languages: JavaScript (with JSX) is parsed with the TSX
/// grammar, which accepts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Grammar {
    Rust = 0,
    TypeScript = 1,
    Tsx = 2,
}

impl Grammar {
    const COUNT: usize = 3;
}

impl Lang {
    pub const ALL: [Lang; 4] = [Lang::Rust, Lang::TypeScript, Lang::Tsx, Lang::JavaScript];

    /// The language's entry in the language table: the one place that matches on `Lang`.
    pub const fn spec(self) -> &'static LangSpec {
        match self {
            Lang::Rust => &spec::RUST,
            Lang::TypeScript => &spec::TYPESCRIPT,
            Lang::Tsx => &spec::TSX,
            Lang::JavaScript => &spec::JAVASCRIPT,
        }
    }

    /// File extensions (without the dot) of each language.
    pub fn extensions(self) -> &'static [&'static str] {
        self.spec().extensions
    }

    pub fn from_path(path: &Path) -> Option<Lang> {
        let ext = path.extension()?.to_str()?;
        Lang::ALL.into_iter().find(|lang| lang.extensions().contains(&ext))
    }

    /// The language of a name (`Lang::name`) or one of its aliases (`rs`, `ts`, `js`).
    pub fn from_name(name: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|lang| lang.spec().name == name || lang.spec().aliases.contains(&name))
    }

    /// The language of an LSP `languageId`.
    pub fn from_language_id(id: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|lang| lang.spec().language_ids.contains(&id))
    }

    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// True for languages with ES modules (TypeScript, TSX, JavaScript): namespace
    /// imports and `export ... from` chains.
    pub fn is_js_family(self) -> bool {
        self.spec().modules == ModuleSystem::EcmaScript
    }

    fn grammar(self) -> Grammar {
        self.spec().grammar
    }

    pub fn queries(self) -> &'static LangQueries {
        queries::for_grammar(self.grammar())
    }
}

impl Grammar {
    fn language(self) -> tree_sitter::Language {
        match self {
            Grammar::Rust => tree_sitter_rust::LANGUAGE.into(),
            Grammar::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Grammar::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
        }
    }
}

/// Routes tree-sitter's allocations to mimalloc. Call once, first thing in `main`, before
/// any tree is created (trees must be freed by the allocator that made them). With the
/// `system-alloc` feature tree-sitter keeps the system allocator, as Rust does then.
pub fn use_mimalloc() {
    if cfg!(feature = "system-alloc") {
        return;
    }
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let allocator = tree_sitter::Allocator { malloc: ts_malloc, calloc: ts_calloc, realloc: ts_realloc, free: libmimalloc_sys::mi_free };
        // SAFETY: called before any tree-sitter object exists (see above), once.
        unsafe { tree_sitter::set_allocator(Some(allocator)) };
    });
}

/// mimalloc, with the allocations marked long-lived (`base::long_lived`) from a heap of
/// their own (see `base::memory`): the server's global allocator. mimalloc v3's heaps
/// serve any thread, and any block is freed with `mi_free`.
pub struct Allocator;

/// The heap of long-lived allocations, made on first use.
fn long_lived_heap() -> *mut libmimalloc_sys::mi_heap_t {
    use std::sync::atomic::{AtomicPtr, Ordering};
    static HEAP: AtomicPtr<libmimalloc_sys::mi_heap_t> = AtomicPtr::new(std::ptr::null_mut());
    let heap = HEAP.load(Ordering::Acquire);
    if !heap.is_null() {
        return heap;
    }
    // SAFETY: making a heap has no preconditions (and allocates no Rust memory).
    let made = unsafe { libmimalloc_sys::mi_heap_new() };
    match HEAP.compare_exchange(std::ptr::null_mut(), made, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => made,
        Err(first) => {
            // SAFETY: `made` is unused; deleting it moves nothing.
            unsafe { libmimalloc_sys::mi_heap_delete(made) };
            first
        }
    }
}

// SAFETY: every block comes from mimalloc with the layout's size and alignment, and is
// freed or resized by mimalloc, which finds its heap from the block.
unsafe impl std::alloc::GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        if crate::base::allocating_long_lived() {
            return libmimalloc_sys::mi_heap_malloc_aligned(long_lived_heap(), layout.size(), layout.align()).cast();
        }
        libmimalloc_sys::mi_malloc_aligned(layout.size(), layout.align()).cast()
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        if crate::base::allocating_long_lived() {
            return libmimalloc_sys::mi_heap_zalloc_aligned(long_lived_heap(), layout.size(), layout.align()).cast();
        }
        libmimalloc_sys::mi_zalloc_aligned(layout.size(), layout.align()).cast()
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: std::alloc::Layout) {
        libmimalloc_sys::mi_free(ptr.cast());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        if crate::base::allocating_long_lived() {
            return libmimalloc_sys::mi_heap_realloc_aligned(long_lived_heap(), ptr.cast(), new_size, layout.align()).cast();
        }
        libmimalloc_sys::mi_realloc_aligned(ptr.cast(), new_size, layout.align()).cast()
    }
}

unsafe extern "C" fn ts_malloc(size: usize) -> *mut std::ffi::c_void {
    if crate::base::allocating_long_lived() {
        return libmimalloc_sys::mi_heap_malloc(long_lived_heap(), size);
    }
    libmimalloc_sys::mi_malloc(size)
}

unsafe extern "C" fn ts_calloc(count: usize, size: usize) -> *mut std::ffi::c_void {
    if crate::base::allocating_long_lived() {
        return libmimalloc_sys::mi_heap_calloc(long_lived_heap(), count, size);
    }
    libmimalloc_sys::mi_calloc(count, size)
}

unsafe extern "C" fn ts_realloc(ptr: *mut std::ffi::c_void, size: usize) -> *mut std::ffi::c_void {
    if crate::base::allocating_long_lived() {
        return libmimalloc_sys::mi_heap_realloc(long_lived_heap(), ptr, size);
    }
    libmimalloc_sys::mi_realloc(ptr, size)
}

/// mimalloc's `mi_option_purge_delay` (v3's enum: just before `mi_option_use_numa_nodes`,
/// 16; libmimalloc-sys names no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long freed memory stays resident before mimalloc returns it to the system.
const PURGE_DELAY_MS: std::ffi::c_long = 100;

/// Freed memory goes back to the system after 100 ms instead of mimalloc's 1 s, unless
/// `MIMALLOC_PURGE_DELAY` says otherwise. A request's transient memory (retrieval, the
/// prompt, the edit history's diffs) is freed when it ends; with 1 s, a burst of requests
/// kept 15 MiB more resident after the last (the server benchmark on the 1.17M-line corpus:
/// 227-230 against 213-214 MiB; latencies unchanged). Purging happens on later allocator
/// calls; within a burst memory is reused before 100 ms pass.
pub fn purge_freed_memory_sooner() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: setting an option has no preconditions; mimalloc reads it at each purge.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    }
}

/// Frees the pages that this thread's allocations emptied. mimalloc keeps a thread's
/// emptied pages with the thread until it allocates again; a blocking-pool thread that
/// ran a request's retrieval may then sit idle holding them (the server's resident memory
/// rose by about 150 MiB over the benchmark's requests on the large corpus, its live heap
/// by 30). Cheap: pages still in use are not visited. Call at the end of a request's
/// blocking job.
pub fn collect_thread_memory() {
    // SAFETY: mimalloc's collection has no preconditions; with another global allocator
    // it finds nothing to collect.
    unsafe { libmimalloc_sys::mi_collect(false) };
}

/// Returns memory freed since to the operating system (mimalloc keeps freed memory for
/// reuse for a while, and purges it only when allocations go on). Worth its cost only
/// after a burst of large allocations that will not come again soon.
pub fn release_free_memory() {
    // SAFETY: mimalloc's collection has no preconditions; with another global allocator
    // it finds nothing to collect.
    unsafe { libmimalloc_sys::mi_collect(true) };
}

thread_local! {
    static PARSERS: RefCell<[Option<Parser>; Grammar::COUNT]> = const { RefCell::new([None, None, None]) };
}

/// Parses `text`, reusing `old_tree` (already `edit`ed to match `text`) when given.
/// Parsing never fails: syntax errors become ERROR and MISSING nodes in the tree.
pub fn parse(lang: Lang, text: &str, old_tree: Option<&Tree>) -> Tree {
    // Without a progress callback that stops it, tree-sitter always returns a tree.
    with_parser(lang.grammar(), |parser| parser.parse(text, old_tree).expect("parse without a stop returns a tree"))
}

fn with_parser<T>(grammar: Grammar, f: impl FnOnce(&mut Parser) -> T) -> T {
    PARSERS.with(|parsers| {
        let mut parsers = parsers.borrow_mut();
        let parser = parsers[grammar as usize].get_or_insert_with(|| {
            let mut parser = Parser::new();
            parser.set_language(&grammar.language()).expect("grammar ABI matches tree-sitter");
            parser
        });
        f(parser)
    })
}

/// Parses only `range` of `text` (whole lines); node offsets stay those of `text`.
pub fn parse_range(lang: Lang, text: &str, range: TextRange, lines: &LineIndex) -> Tree {
    let grammar = lang.grammar();
    with_parser(grammar, |parser| {
        let point = |offset: u32| {
            let pos = lines.line_col(offset);
            Point { row: pos.line as usize, column: pos.col as usize }
        };
        let ts_range = tree_sitter::Range {
            start_byte: range.start as usize,
            end_byte: range.end as usize,
            start_point: point(range.start),
            end_point: point(range.end),
        };
        let tree = match parser.set_included_ranges(&[ts_range]) {
            Ok(()) => parser.parse(text, None),
            Err(_) => None,
        };
        parser.set_included_ranges(&[]).expect("the whole document is a valid range");
        tree.unwrap_or_else(|| parser.parse("", None).expect("parsing without a timeout gives a tree"))
    })
}

/// Top-level segments of a file, for parsing a file in pieces when the grammar fails on
/// it as a whole: a segment starts at a line that begins in column 0 after a blank line
/// or the end of a statement or block, so that doc comments stay with their items.
/// Segments are merged up to about `target` bytes.
pub fn top_level_segments(text: &str, target: usize) -> Vec<TextRange> {
    let mut starts = vec![0usize];
    let mut previous: &str = "";
    let mut offset = 0usize;
    for line in text.split_inclusive('\n') {
        let trimmed_previous = previous.trim_end();
        let starts_item = line
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '#' || c == '@' || c == '_' || c == '$' || (c == '/' && (line.starts_with("/*") || line.starts_with("//"))));
        let previous_ends = trimmed_previous.is_empty()
            || (!previous.starts_with(' ') && !previous.starts_with('\t') && trimmed_previous.ends_with(['}', ';']))
            || trimmed_previous == "}";
        let previous_is_comment = {
            let p = trimmed_previous.trim_start();
            p.starts_with("//") || p.starts_with('*') || p.starts_with("/*")
        };
        if offset > 0 && starts_item && previous_ends && !previous_is_comment {
            starts.push(offset);
        }
        previous = line;
        offset += line.len();
    }
    let mut segments: Vec<TextRange> = Vec::new();
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(text.len());
        match segments.last_mut() {
            Some(last) if (last.len() as usize) < target => last.end = end as u32,
            _ => segments.push(TextRange::new(start as u32, end as u32)),
        }
    }
    segments
}

/// One change to a document: replace `range` (in the text before the change) by `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextEdit {
    pub range: TextRange,
    pub text: String,
}

impl TextEdit {
    /// The byte range the edit replaces in `text`, on character boundaries and within it
    /// (as editors' edits are applied).
    pub fn byte_range(&self, text: &str) -> (usize, usize) {
        let start = floor_char_boundary(text, self.range.start as usize);
        (start, ceil_char_boundary(text, (self.range.end as usize).max(start)))
    }
}

/// An open document: its text and its syntax tree, kept in step edit by edit.
///
/// A document too large to parse (over `[index] max_file_size`) is kept as text only
/// (`Document::text_only`): its text and line index follow the edits, its tree stays the
/// empty tree of an empty text, and nothing is parsed until `set_parsed(true)`.
///
/// An incremental reparse of valid code gives the same tree as a fresh parse; on code
/// with syntax errors, tree-sitter's error recovery may settle differently. Such a tree is
/// marked unsettled, and `settle` (called by the server once typing pauses) replaces it
/// with a fresh parse, so that the index always converges to the from-scratch result.
pub struct Document {
    pub lang: Lang,
    text: String,
    tree: Tree,
    line_index: LineIndex,
    unsettled: bool,
    last_change: Option<ChangedSpan>,
    /// False for a text-only document.
    parsed: bool,
    /// The tree's syntax errors (`count_errors`), counted around each edit only.
    error_count: u32,
}

/// What the last `apply_edits` changed, for incremental extraction: the edit (one edit
/// only) and the span of the new text whose syntax may differ, in new coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChangedSpan {
    /// Start of the edit (the same in old and new text).
    pub start: u32,
    /// End of the replaced text, in the old text.
    pub old_end: u32,
    /// End of the inserted text, in the new text.
    pub new_end: u32,
    /// The union of the edit and tree-sitter's changed ranges, in the new text.
    pub changed: TextRange,
    /// The new tree's syntax errors (`count_errors` of it, counted around the edit only).
    pub error_count: u32,
}

impl Document {
    pub fn new(lang: Lang, text: String) -> Document {
        let tree = parse(lang, &text, None);
        let line_index = LineIndex::new(&text);
        let error_count = count_errors(tree.root_node());
        Document { lang, text, tree, line_index, unsettled: false, last_change: None, parsed: true, error_count }
    }

    /// A document kept as text only: no parse, now or on edits.
    pub fn text_only(lang: Lang, text: String) -> Document {
        let tree = parse(lang, "", None);
        let line_index = LineIndex::new(&text);
        Document { lang, text, tree, line_index, unsettled: false, last_change: None, parsed: false, error_count: 0 }
    }

    /// False for a text-only document (its tree is empty).
    pub fn is_parsed(&self) -> bool {
        self.parsed
    }

    /// Parses a text-only document afresh (`true`), or drops a parsed document's tree and
    /// keeps its text only (`false`).
    pub fn set_parsed(&mut self, parsed: bool) {
        if parsed == self.parsed {
            return;
        }
        self.tree = parse(self.lang, if parsed { &self.text } else { "" }, None);
        self.error_count = count_errors(self.tree.root_node());
        self.parsed = parsed;
        self.unsettled = false;
        self.last_change = None;
    }

    /// True when the tree came from an incremental reparse of code with syntax errors.
    pub fn is_unsettled(&self) -> bool {
        self.unsettled
    }

    /// Replaces an unsettled tree with a fresh parse. Returns whether it did.
    pub fn settle(&mut self) -> bool {
        if !self.unsettled || !self.parsed {
            return false;
        }
        self.tree = parse(self.lang, &self.text, None);
        self.error_count = count_errors(self.tree.root_node());
        self.unsettled = false;
        self.last_change = None;
        true
    }

    /// The tree's syntax errors: ERROR nodes (not looked into) and MISSING nodes, as
    /// `count_errors` counts them.
    pub fn error_count(&self) -> u32 {
        self.error_count
    }

    /// The span the last `apply_edits` changed, when it applied exactly one edit.
    pub fn last_change(&self) -> Option<ChangedSpan> {
        self.last_change
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    pub fn line_index(&self) -> &LineIndex {
        &self.line_index
    }

    /// Applies edits in order (each one's range refers to the text left by the previous
    /// one), then reparses once, incrementally. Ranges past the end are clamped, and a
    /// range that would split a character is widened to the character's boundaries.
    pub fn apply_edits(&mut self, edits: &[TextEdit]) {
        if edits.is_empty() {
            return;
        }
        if !self.parsed {
            self.apply_edits_to_text(edits);
            return;
        }
        let mut single: Option<(u32, u32, u32)> = None;
        for edit in edits {
            let (start, end) = edit.byte_range(&self.text);
            let start_position = point_at(&self.line_index, start);
            let old_end_position = point_at(&self.line_index, end);
            let new_end_position = advance(start_position, &edit.text);
            self.text.replace_range(start..end, &edit.text);
            self.tree.edit(&InputEdit {
                start_byte: start,
                old_end_byte: end,
                new_end_byte: start + edit.text.len(),
                start_position,
                old_end_position,
                new_end_position,
            });
            self.line_index = LineIndex::new(&self.text);
            single = Some((start as u32, end as u32, (start + edit.text.len()) as u32));
        }
        let new_tree = parse(self.lang, &self.text, Some(&self.tree));
        self.last_change = match (edits.len(), single) {
            (1, Some((start, old_end, new_end))) => {
                let mut changed = TextRange::new(start, new_end);
                for range in self.tree.changed_ranges(&new_tree) {
                    changed.start = changed.start.min(range.start_byte as u32);
                    changed.end = changed.end.max(range.end_byte as u32);
                }
                let error_count = errors::count_after_edit(self.error_count, self.tree.root_node(), new_tree.root_node(), changed);
                Some(ChangedSpan { start, old_end, new_end, changed, error_count })
            }
            _ => None,
        };
        self.error_count = match self.last_change {
            Some(change) => change.error_count,
            None => count_errors(new_tree.root_node()),
        };
        self.tree = new_tree;
        self.unsettled = self.tree.root_node().has_error();
    }

    /// A text-only document's edits: the text and, once, its line index.
    fn apply_edits_to_text(&mut self, edits: &[TextEdit]) {
        let mut single = None;
        for edit in edits {
            let (start, end) = edit.byte_range(&self.text);
            self.text.replace_range(start..end, &edit.text);
            single = Some((start as u32, end as u32, (start + edit.text.len()) as u32));
        }
        self.line_index = LineIndex::new(&self.text);
        self.last_change = match (edits.len(), single) {
            (1, Some((start, old_end, new_end))) => {
                Some(ChangedSpan { start, old_end, new_end, changed: TextRange::new(start, new_end), error_count: 0 })
            }
            _ => None,
        };
    }

    /// Replaces the whole text (full sync) and parses from scratch (unless text only).
    pub fn replace_text(&mut self, text: String) {
        if self.parsed {
            self.tree = parse(self.lang, &text, None);
            self.error_count = count_errors(self.tree.root_node());
        }
        self.line_index = LineIndex::new(&text);
        self.text = text;
        self.unsettled = false;
        self.last_change = None;
    }
}

fn point_at(index: &LineIndex, offset: usize) -> Point {
    let pos = index.line_col(offset as u32);
    Point { row: pos.line as usize, column: pos.col as usize }
}

fn advance(start: Point, inserted: &str) -> Point {
    match inserted.rfind('\n') {
        None => Point { row: start.row, column: start.column + inserted.len() },
        Some(last) => Point {
            row: start.row + memchr::memchr_iter(b'\n', inserted.as_bytes()).count(),
            column: inserted.len() - last - 1,
        },
    }
}

pub(crate) fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

pub(crate) fn ceil_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset += 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    extern "C" {
        fn mi_heap_contains(heap: *const libmimalloc_sys::mi_heap_t, p: *const std::ffi::c_void) -> bool;
    }

    /// The server's allocator serves blocks allocated inside `base::long_lived` (Rust's and
    /// tree-sitter's) from the long-lived heap, others from mimalloc's main heap; a block
    /// grown inside moves there; every block keeps its contents and alignment and is freed.
    #[test]
    fn long_lived_allocations_come_from_their_own_heap() {
        use std::alloc::{GlobalAlloc, Layout};
        let in_long_lived = |p: *mut u8| unsafe { mi_heap_contains(long_lived_heap(), p.cast()) };
        let layout = Layout::from_size_align(48, 16).unwrap();
        let wide = Layout::from_size_align(1 << 12, 64).unwrap();
        unsafe {
            let short = Allocator.alloc(layout);
            let (kept, kept_zeroed, kept_wide) =
                crate::base::long_lived(|| (Allocator.alloc(layout), Allocator.alloc_zeroed(layout), Allocator.alloc(wide)));
            assert!(!in_long_lived(short));
            assert!(in_long_lived(kept) && in_long_lived(kept_zeroed) && in_long_lived(kept_wide));
            assert_eq!(kept_wide as usize % 64, 0);
            assert!(std::slice::from_raw_parts(kept_zeroed, 48).iter().all(|&b| b == 0));
            short.write_bytes(7, 48);
            let moved = crate::base::long_lived(|| Allocator.realloc(short, layout, 1 << 16));
            assert!(in_long_lived(moved), "grown inside: moved to the long-lived heap");
            assert!(std::slice::from_raw_parts(moved, 48).iter().all(|&b| b == 7));
            let tree = crate::base::long_lived(|| ts_malloc(100));
            let tree_zeroed = crate::base::long_lived(|| ts_calloc(4, 25));
            let other = ts_malloc(100);
            assert!(in_long_lived(tree.cast()) && in_long_lived(tree_zeroed.cast()) && !in_long_lived(other.cast()));
            let tree = crate::base::long_lived(|| ts_realloc(tree, 1 << 16));
            assert!(in_long_lived(tree.cast()));
            for block in [kept, kept_zeroed, moved] {
                Allocator.dealloc(block, layout);
            }
            Allocator.dealloc(kept_wide, wide);
            for block in [tree, tree_zeroed, other] {
                libmimalloc_sys::mi_free(block);
            }
        }
    }

    /// The option set is mimalloc's purge delay: the one before the binding's named
    /// neighbour, with v3's documented default (1,000 ms) where nothing changed it.
    #[test]
    fn the_purge_delay_option_is_mimallocs() {
        assert_eq!(MI_OPTION_PURGE_DELAY + 1, libmimalloc_sys::mi_option_use_numa_nodes);
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            // SAFETY: reading an option has no preconditions.
            assert_eq!(unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) }, 1000);
        }
    }

    #[test]
    fn languages_from_extensions() {
        let lang = |p: &str| Lang::from_path(Path::new(p));
        assert_eq!(lang("a/b.rs"), Some(Lang::Rust));
        assert_eq!(lang("x.mts"), Some(Lang::TypeScript));
        assert_eq!(lang("x.tsx"), Some(Lang::Tsx));
        assert_eq!(lang("x.cjs"), Some(Lang::JavaScript));
        assert_eq!(lang("x.py"), None);
        assert_eq!(lang("Makefile"), None);
    }

    #[test]
    fn incremental_edits_match_a_fresh_parse() {
        let mut doc = Document::new(Lang::Rust, "fn main() {\n    let x = 1;\n}\n".to_string());
        doc.apply_edits(&[
            TextEdit { range: TextRange::new(24, 25), text: "42".into() },
            TextEdit { range: TextRange::new(0, 0), text: "// héllo\n".into() },
        ]);
        assert_eq!(doc.text(), "// héllo\nfn main() {\n    let x = 42;\n}\n");
        let fresh = parse(Lang::Rust, doc.text(), None);
        assert_eq!(doc.tree().root_node().to_sexp(), fresh.root_node().to_sexp());
    }

    #[test]
    fn a_text_only_document_follows_edits_without_parsing_until_asked() {
        let mut doc = Document::text_only(Lang::Rust, "fn a() {}\nfn b() {}\n".to_string());
        assert!(!doc.is_parsed());
        assert_eq!(doc.tree().root_node().end_byte(), 0, "the empty tree");
        doc.apply_edits(&[
            TextEdit { range: TextRange::new(3, 4), text: "é".into() },
            TextEdit { range: TextRange::new(0, 0), text: "// x\n".into() },
        ]);
        assert_eq!(doc.text(), "// x\nfn é() {}\nfn b() {}\n");
        assert_eq!(doc.line_index().line_col(doc.text().find('b').unwrap() as u32).line, 2);
        assert_eq!(doc.tree().root_node().end_byte(), 0, "still not parsed");
        doc.replace_text("fn c() {}\n".to_string());
        assert!(!doc.settle() && doc.tree().root_node().end_byte() == 0);
        doc.set_parsed(true);
        assert_eq!(doc.tree().root_node().to_sexp(), parse(Lang::Rust, doc.text(), None).root_node().to_sexp());
        doc.set_parsed(false);
        assert_eq!(doc.tree().root_node().end_byte(), 0);
    }

    /// The two fixes of grammars/tree-sitter-typescript/PATCHES.md, in both dialects.
    #[test]
    fn typescript_grammar_reads_variance_and_generic_call_signatures() {
        let text = r#"
export interface Effect<out A, in E = never, in out R = unknown> extends Pipeable {
  readonly value: A
}
type F<const in T, out U extends string> = (t: T) => U
class C<in T> { m(x: T) {} }
function named<out>(x: out): out { return x }
export const map: {
  <A, B>(f: (a: A) => B): (self: Array<A>) => Array<B>
  /** Data first. */
  <A, B>(self: Array<A>, f: (a: A) => B): Array<B>
} = dual(2, impl)
const out = [a
  < b]
"#;
        for lang in [Lang::TypeScript, Lang::Tsx] {
            let tree = parse(lang, text, None);
            let root = tree.root_node();
            assert!(!root.has_error(), "{lang:?}: {}", root.to_sexp());
            let mut names = Vec::new();
            let (mut call_signatures, mut comparisons) = (0, 0);
            let flat = FlatTree::new(root);
            for i in 0..flat.len() {
                let node = flat.node(i);
                match node.kind() {
                    "type_parameter" => {
                        let name = node.child_by_field_name("name").unwrap();
                        names.push(&text[name.byte_range()]);
                    }
                    "call_signature" => call_signatures += 1,
                    "binary_expression" => comparisons += 1,
                    _ => {}
                }
            }
            assert_eq!(names, ["A", "E", "R", "T", "U", "T", "out", "A", "B", "A", "B"], "{lang:?}");
            assert_eq!(call_signatures, 2, "{lang:?}: each overload is its own member");
            assert_eq!(comparisons, 1, "{lang:?}: in an expression, `<` on a new line still continues it");
        }
    }

    #[test]
    fn edits_are_clamped_to_the_text() {
        let mut doc = Document::new(Lang::TypeScript, "let é = 1;".to_string());
        // Starts inside 'é' and ends far past the end.
        doc.apply_edits(&[TextEdit { range: TextRange::new(5, 500), text: "a = 2;".into() }]);
        assert_eq!(doc.text(), "let a = 2;");
    }
}
