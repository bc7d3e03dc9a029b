//! Extraction: one pass of the language's combined query over a syntax tree gives the
//! file's symbols, references and imports; chunks come from the top-level items.
//! Broken code is not an error: whatever the parser recovered is extracted.

use rustc_hash::FxHashMap as HashMap;

use tree_sitter::{Node, Tree};

use super::macros::{self, ItemTree};
use super::{
    chunks, separator, FileIndex, Import, ImportKind, ImportedName, RefRole, Reference, Symbol, SymbolText,
    SymbolKind,
};
use crate::base::{LineIndex, Name, TextRange};
use crate::lang::{count_errors, each_child_from, each_child_within, Capture, ChangedSpan, FlatTree, Lang, PatternMatch};

/// Signatures are folded to one line and cut at this many bytes.
const MAX_SIGNATURE: usize = 400;
/// Doc comments are cut at this many bytes.
const MAX_DOC: usize = 2000;

struct RawDef<'t> {
    kind: SymbolKind,
    node: Node<'t>,
    name: Node<'t>,
}

/// Parents and previous siblings of a tree's nodes. tree-sitter finds a parent by walking
/// down from the root and a previous sibling by walking the parent's children: in a file
/// of thousands of items, thousands of steps for each symbol. With the tree's flat listing
/// at hand both are array reads, once the node is found in it; without one (extraction
/// over part of a tree) tree-sitter answers.
#[derive(Clone, Copy)]
struct Nav<'a, 't> {
    flat: Option<&'a FlatTree<'t>>,
}

impl<'a, 't> Nav<'a, 't> {
    fn parent(self, node: Node<'t>) -> Option<Node<'t>> {
        match self.locate(node) {
            Some((flat, index)) => flat.parent(index).map(|p| flat.node(p)),
            None => node.parent(),
        }
    }

    fn prev_sibling(self, node: Node<'t>) -> Option<Node<'t>> {
        match self.locate(node) {
            Some((flat, index)) => flat.prev_sibling(index).map(|p| flat.node(p)),
            None => node.prev_sibling(),
        }
    }

    fn locate(self, node: Node<'t>) -> Option<(&'a FlatTree<'t>, usize)> {
        let flat = self.flat?;
        Some((flat, flat.find(node)?))
    }
}

/// A file of at least this many lines...
pub const GENERATED_MIN_LINES: u32 = 500;
/// ...with at least one definition for every this many lines is a generated declaration
/// file (see `is_generated`).
pub const GENERATED_LINES_PER_SYMBOL: u32 = 2;

/// Whether a file of `lines` lines defining `symbols` symbols is indexed as a generated
/// declaration file: big and flat, as bindings are (windows-sys, linux-raw-sys, libc,
/// openssl-sys: a definition on every line or two, nothing a reader follows inside
/// them). Such a file keeps its symbols (with signatures and docs), imports and line
/// index, and is indexed without identifier occurrences, chunks or terms: its
/// definitions are found by name, never by its words. The rule reads only the counts, so
/// the same text always gives the same facts, whichever way it was extracted.
pub fn is_generated(lines: u32, symbols: usize) -> bool {
    lines >= GENERATED_MIN_LINES && symbols as u64 * u64::from(GENERATED_LINES_PER_SYMBOL) >= u64::from(lines)
}

/// How files meeting `is_generated` are indexed (`[index] generated_files`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GeneratedFiles {
    /// Their symbols, imports and lines only (`FileIndex::generated`).
    #[default]
    Symbols,
    /// Like any other file: occurrences, chunks and terms too.
    Full,
}

impl GeneratedFiles {
    /// The setting's name, as written in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            GeneratedFiles::Symbols => "symbols",
            GeneratedFiles::Full => "full",
        }
    }

    /// The setting named `name` (`as_str`), if it is one.
    pub fn from_name(name: &str) -> Option<GeneratedFiles> {
        [GeneratedFiles::Symbols, GeneratedFiles::Full].into_iter().find(|g| g.as_str() == name)
    }

    /// Whether a file of `lines` lines defining `symbols` symbols is indexed by its
    /// declarations only under this setting.
    pub fn declarations_only(self, lines: u32, symbols: usize) -> bool {
        self == GeneratedFiles::Symbols && is_generated(lines, symbols)
    }
}

/// `extract_with` the default setting (generated declaration files by their symbols).
pub fn extract(lang: Lang, text: &str, tree: &Tree) -> FileIndex {
    extract_with(lang, text, tree, GeneratedFiles::default())
}

/// A file's facts from its syntax tree, generated declaration files indexed as
/// `generated` says.
pub fn extract_with(lang: Lang, text: &str, tree: &Tree, generated: GeneratedFiles) -> FileIndex {
    let root = tree.root_node();
    let line_index = LineIndex::new(text);
    let flat = FlatTree::new(root);
    let query = Query::All(&flat);
    let item_trees = macros::item_trees(lang, root, text, &line_index, None);
    let (mut defs, raw_refs, mut imports) = run_query(lang, root, text, query, &item_trees);
    let symbols = build_symbols(lang, &mut defs, text, query.nav());
    imports.sort_by_key(|import| import.range.start);
    if generated.declarations_only(line_index.line_count(), symbols.len()) {
        return declarations_only(lang, line_index, symbols, imports, count_errors(root));
    }
    let (names, references) = build_references(reference_ranges(raw_refs), &symbols, text);
    finish(lang, root, text, line_index, &item_trees, symbols, names, references, imports, count_errors(root))
}

/// The facts of a generated declaration file (`is_generated`).
fn declarations_only(lang: Lang, line_index: LineIndex, symbols: Vec<Symbol>, imports: Vec<Import>, error_count: u32) -> FileIndex {
    let by_name = super::symbols_by_name(&symbols);
    FileIndex {
        lang,
        symbols,
        names: Vec::new(),
        references: Vec::new(),
        imports,
        chunks: Vec::new(),
        terms: Vec::new(),
        by_name,
        line_index,
        error_count,
        generated: true,
    }
}

/// True when most of the file is one ERROR node: the grammar failed on it as a whole
/// (syntax newer than the grammar, say), so its tree says little.
pub fn mostly_error(tree: &Tree, text_len: usize) -> bool {
    let root = tree.root_node();
    if !root.has_error() {
        return false;
    }
    if root.is_error() {
        return true;
    }
    let mut cursor = root.walk();
    let mostly = root.children(&mut cursor).any(|c| c.is_error() && c.byte_range().len() * 2 > text_len);
    mostly
}

/// Extraction from a file parsed in top-level segments (`lang::top_level_segments`), for
/// files the grammar fails on as a whole: an error stays inside its segment.
pub fn extract_segmented(lang: Lang, text: &str, generated: GeneratedFiles) -> FileIndex {
    extract_segmented_counting(lang, text, generated).0
}

/// `extract_segmented`, and how many segments have syntax errors.
pub fn extract_segmented_counting(lang: Lang, text: &str, generated: GeneratedFiles) -> (FileIndex, usize) {
    let mut error_segments = 0;
    let line_index = LineIndex::new(text);
    let mut symbols: Vec<Symbol> = Vec::new();
    // Occurrences are read off each segment's tree and built once the symbols are all
    // known (a generated file builds none); the segments' trees carry the file's offsets.
    let mut raw_refs: Vec<(TextRange, RefRole)> = Vec::new();
    let mut imports: Vec<Import> = Vec::new();
    let mut chunks = Vec::new();
    let mut error_count = 0;
    for segment in crate::lang::top_level_segments(text, SEGMENT_BYTES) {
        let tree = crate::lang::parse_range(lang, text, segment, &line_index);
        let root = tree.root_node();
        let flat = FlatTree::new(root);
        let query = Query::All(&flat);
        let item_trees = macros::item_trees(lang, root, text, &line_index, None);
        let (mut defs, part_refs, mut part_imports) = run_query(lang, root, text, query, &item_trees);
        let part_symbols = build_symbols(lang, &mut defs, text, query.nav());
        raw_refs.extend(reference_ranges(part_refs));
        let offset = symbols.len() as u32;
        chunks.extend(chunks::chunk_file(lang, root, text, &line_index, &part_symbols, &item_trees).into_iter().map(|mut c| {
            c.symbol = c.symbol.map(|s| s + offset);
            c
        }));
        symbols.extend(part_symbols.into_iter().map(|mut s| {
            s.parent = s.parent.map(|p| p + offset);
            s
        }));
        part_imports.sort_by_key(|import| import.range.start);
        imports.extend(part_imports);
        let errors = count_errors(root);
        error_count += errors;
        error_segments += usize::from(errors > 0);
    }
    if generated.declarations_only(line_index.line_count(), symbols.len()) {
        return (declarations_only(lang, line_index, symbols, imports, error_count), error_segments);
    }
    let by_name = super::symbols_by_name(&symbols);
    let (names, references) = build_references(raw_refs, &symbols, text);
    let terms = super::terms::postings(&names, &references, &symbols, &chunks);
    (FileIndex { lang, symbols, names, references, imports, chunks, terms, by_name, line_index, error_count, generated: false }, error_segments)
}

/// Segments of a file parsed in pieces are merged up to this many bytes.
const SEGMENT_BYTES: usize = 4 * 1024;

/// Extraction after one edit, reusing `old` (the facts of the text before the edit) for
/// the top-level items the edit did not touch: only the items overlapping the changed span
/// are queried again; entries after them are shifted. Gives exactly what `extract_with`
/// gives with the same `generated` (`old` may have been extracted with another).
/// `change` is the `Document::last_change` that made `tree`: its error count is the tree's.
pub fn extract_incremental(lang: Lang, text: &str, tree: &Tree, old: &FileIndex, change: ChangedSpan, generated: GeneratedFiles) -> FileIndex {
    let root = tree.root_node();
    let region = affected_region(lang, root, change.changed);
    let delta = i64::from(change.new_end) - i64::from(change.old_end);
    let old_region_end = (i64::from(region.end) - delta) as u32;
    let shift = |range: TextRange| TextRange::new((i64::from(range.start) + delta) as u32, (i64::from(range.end) + delta) as u32);
    let before = |range: TextRange| range.end <= region.start && range.start < region.start;
    let after = |range: TextRange| range.start >= old_region_end;

    let query = Query::Region(region);
    let line_index = LineIndex::new(text);
    let item_trees = macros::item_trees(lang, root, text, &line_index, Some(region));
    let (mut defs, raw_refs, mut imports) = run_query(lang, root, text, query, &item_trees);
    let region_symbols = build_symbols(lang, &mut defs, text, query.nav());
    // Symbols: before, the region (parents offset), after (shifted, parents remapped).
    let first_after = old.symbols.iter().position(|s| after(s.range)).unwrap_or(old.symbols.len());
    let kept_before = old.symbols.iter().take_while(|s| before(s.range)).count();
    let mut symbols: Vec<Symbol> = Vec::with_capacity(kept_before + region_symbols.len() + old.symbols.len() - first_after);
    symbols.extend(old.symbols[..kept_before].iter().cloned());
    let offset = symbols.len() as u32;
    symbols.extend(region_symbols.into_iter().map(|mut s| {
        s.parent = s.parent.map(|p| p + offset);
        s
    }));
    let new_first_after = symbols.len() as u32;
    for s in &old.symbols[first_after..] {
        let mut s = s.clone();
        s.range = shift(s.range);
        s.name_range = shift(s.name_range);
        s.parent = s.parent.map(|p| if p as usize >= first_after { p - first_after as u32 + new_first_after } else { p });
        symbols.push(s);
    }

    imports.sort_by_key(|import| import.range.start);
    let mut all_imports: Vec<Import> = old.imports.iter().filter(|i| before(i.range)).cloned().collect();
    all_imports.extend(imports);
    all_imports.extend(old.imports.iter().filter(|i| after(i.range)).map(|i| Import { range: shift(i.range), ..i.clone() }));
    match (old.generated, generated.declarations_only(line_index.line_count(), symbols.len())) {
        (_, true) => return declarations_only(lang, line_index, symbols, all_imports, change.error_count),
        // The old facts have no occurrences to keep: the file is extracted whole.
        (true, false) => return extract_with(lang, text, tree, generated),
        (false, false) => {}
    }

    // References: re-interned in order, so that the names table is the one `extract` builds.
    let (region_names, region_refs) =
        build_references(reference_ranges(raw_refs), &symbols[offset as usize..new_first_after as usize], text);
    let mut names: Vec<String> = Vec::new();
    let mut ids: HashMap<&str, u32> = HashMap::default();
    let mut references = Vec::with_capacity(old.references.len() + region_refs.len());
    for r in old.references.iter().take_while(|r| before(r.range)) {
        let id = intern(old.reference_name(r), &mut ids, &mut names);
        references.push(Reference { name: id, ..*r });
    }
    for r in &region_refs {
        let id = intern(&region_names[r.name as usize], &mut ids, &mut names);
        references.push(Reference { name: id, ..*r });
    }
    for r in old.references.iter().filter(|r| after(r.range)) {
        let id = intern(old.reference_name(r), &mut ids, &mut names);
        references.push(Reference { name: id, range: shift(r.range), role: r.role });
    }
    finish(lang, root, text, line_index, &item_trees, symbols, names, references, all_imports, change.error_count)
}

fn intern<'a>(name: &'a str, ids: &mut HashMap<&'a str, u32>, names: &mut Vec<String>) -> u32 {
    *ids.entry(name).or_insert_with(|| {
        names.push(name.to_string());
        names.len() as u32 - 1
    })
}

/// The span of whole top-level items overlapping `changed`, plus the first item after it
/// (with the comments and attributes before that item): an item's doc comment depends on
/// what precedes it, down to the blank lines in between.
fn affected_region(lang: Lang, root: Node, changed: TextRange) -> TextRange {
    let mut start = changed.start;
    let mut end = changed.end;
    // Children ending before the change are not looked at.
    each_child_from(root, changed.start, |child| {
        let (s, e) = (child.start_byte() as u32, child.end_byte() as u32);
        // Touching counts: typing at an item's edge can change it.
        if s <= changed.end {
            start = start.min(s);
            end = end.max(e);
            return true;
        }
        // Past the change: take trivia up to and including the next item.
        end = end.max(e);
        is_trivia(lang, child)
    });
    TextRange::new(start, end.max(start))
}

fn is_trivia(lang: Lang, node: Node) -> bool {
    lang.spec().leading_trivia.contains(&node.kind())
}

type QueryOutput<'t> = (Vec<RawDef<'t>>, Vec<(Node<'t>, RefRole)>, Vec<Import>);

/// Where `run_query` looks.
#[derive(Clone, Copy)]
enum Query<'a, 't> {
    /// The whole tree, listed.
    All(&'a FlatTree<'t>),
    /// The nodes inside a region.
    Region(TextRange),
}

impl<'a, 't> Query<'a, 't> {
    /// Steps between the nodes found: through the listing when there is one.
    fn nav(self) -> Nav<'a, 't> {
        match self {
            Query::All(flat) => Nav { flat: Some(flat) },
            Query::Region(_) => Nav { flat: None },
        }
    }
}

/// Runs the language's combined query over the tree, or over the nodes inside a region,
/// and over the items found inside macro invocations there (`item_trees`).
fn run_query<'t>(lang: Lang, root: Node<'t>, text: &str, query: Query<'_, 't>, item_trees: &'t [ItemTree]) -> QueryOutput<'t> {
    let queries = lang.queries();
    let bytes = text.as_bytes();
    let mut defs: Vec<RawDef> = Vec::new();
    let mut raw_refs: Vec<(Node, RefRole)> = Vec::new();
    let mut imports: Vec<Import> = Vec::new();
    let inside = |node: Node| match query {
        Query::Region(r) => node.start_byte() as u32 >= r.start && node.end_byte() as u32 <= r.end,
        Query::All(_) => true,
    };
    let nav = query.nav();

    let mut all_matches: Vec<PatternMatch> = Vec::new();
    match query {
        Query::All(flat) => queries.patterns.matches_in(flat, bytes, &mut |m| all_matches.push(m)),
        Query::Region(region) => {
            // Patterns rooted at the file node itself, then the items in the region.
            queries.patterns.matches_at_node(root, bytes, &mut |m| all_matches.push(m));
            each_child_within(root, region, |child| queries.patterns.matches(child, bytes, &mut |m| all_matches.push(m)));
        }
    }
    for item_tree in item_trees {
        let flat = FlatTree::new(item_tree.tree.root_node());
        queries.patterns.matches_in(&flat, bytes, &mut |m| all_matches.push(m));
    }
    for m in &all_matches {
        if !m.captures.iter().all(|(_, node)| inside(*node)) {
            continue;
        }
        let mut def: Option<(SymbolKind, Node)> = None;
        let mut name: Option<Node> = None;
        let mut statement: Option<(ImportKind, Node)> = None;
        let mut source: Option<Node> = None;
        for &(capture, node) in &m.captures {
            match queries.captures[capture as usize] {
                Capture::Name => name = Some(node),
                Capture::Def(kind) => def = Some((kind, node)),
                Capture::Ref(role) => raw_refs.push((node, role)),
                Capture::UseTree => {
                    let range = nav.parent(node).map_or(node, |p| p).byte_range();
                    flatten_use_tree(node, String::new(), text, TextRange::from_usize(range), &mut imports);
                }
                Capture::ModDecl => imports.push(Import {
                    kind: ImportKind::Mod,
                    source: Name::default(),
                    names: vec![ImportedName { name: Name::new(node_text(node, text)), alias: None }],
                    glob: false,
                    range: TextRange::from_usize(nav.parent(node).map_or(node, |p| p).byte_range()),
                }),
                Capture::ExternCrate => imports.push(Import {
                    kind: ImportKind::ExternCrate,
                    source: Name::default(),
                    names: vec![ImportedName { name: Name::new(node_text(node, text)), alias: None }],
                    glob: false,
                    range: TextRange::from_usize(nav.parent(node).map_or(node, |p| p).byte_range()),
                }),
                Capture::ImportStatement(kind) => statement = Some((kind, node)),
                Capture::ImportSource => source = Some(node),
                Capture::Ignored => {}
            }
        }
        if let (Some((kind, node)), Some(name)) = (def, name) {
            defs.push(RawDef { kind, node, name });
        }
        if let (Some((kind, node)), Some(source)) = (statement, source) {
            imports.push(ts_import(kind, node, node_text(source, text), text, nav));
        }
    }
    (defs, raw_refs, imports)
}

#[allow(clippy::too_many_arguments)]
fn finish(
    lang: Lang,
    root: Node,
    text: &str,
    line_index: LineIndex,
    item_trees: &[ItemTree],
    symbols: Vec<Symbol>,
    names: Vec<String>,
    references: Vec<Reference>,
    imports: Vec<Import>,
    error_count: u32,
) -> FileIndex {
    let chunks = chunks::chunk_file(lang, root, text, &line_index, &symbols, item_trees);
    let terms = super::terms::postings(&names, &references, &symbols, &chunks);
    let by_name = super::symbols_by_name(&symbols);
    FileIndex { lang, symbols, names, references, imports, chunks, terms, by_name, line_index, error_count, generated: false }
}

fn build_symbols<'t>(lang: Lang, defs: &mut [RawDef<'t>], text: &str, nav: Nav<'_, 't>) -> Vec<Symbol> {
    // Outer definitions first, so that a stack of open ranges gives each one its parent.
    defs.sort_by_cached_key(|d| (d.node.start_byte(), std::cmp::Reverse(d.node.end_byte())));
    let mut symbols: Vec<Symbol> = Vec::with_capacity(defs.len());
    // Each symbol's qualified name, and (once a child asked for it) that name interned.
    let mut qualified: Vec<(String, Option<Name>)> = Vec::with_capacity(defs.len());
    let mut stack: Vec<usize> = Vec::new();
    let mut last_node: Option<(usize, usize)> = None;
    for def in defs.iter() {
        let node_key = (def.node.start_byte(), def.node.end_byte());
        if last_node == Some(node_key) {
            continue; // the same definition matched by two patterns
        }
        last_node = Some(node_key);
        let range = TextRange::from_usize(def.node.byte_range());
        while let Some(&top) = stack.last() {
            if symbols[top].range.contains_range(range) {
                break;
            }
            stack.pop();
        }
        let parent = stack.last().copied();
        let parent_kind = parent.map(|p| symbols[p].kind);
        let kind = refine_kind(def, parent_kind);
        let name = symbol_name(lang, def, text);
        let container = parent.map(|p| {
            let (path, interned) = &mut qualified[p];
            *interned.get_or_insert_with(|| Name::new(path))
        });
        let outer = outer_item(lang, def.node, nav);
        let full_range = TextRange::from_usize(outer.byte_range());
        let symbol = Symbol {
            text: SymbolText::of(signature(def.node, outer, kind, text), doc_comment(lang, outer, text, nav)),
            name: Name::new(&name),
            kind,
            range: full_range,
            name_range: TextRange::from_usize(def.name.byte_range()),
            parent: parent.map(|p| p as u32),
            container,
        };
        qualified.push((
            match &symbol.container {
                Some(c) => format!("{c}{}{name}", separator(lang)),
                None => name,
            },
            None,
        ));
        symbols.push(symbol);
        if kind.is_container() || matches!(kind, SymbolKind::Function | SymbolKind::Method | SymbolKind::Variant) {
            stack.push(symbols.len() - 1);
        }
    }
    symbols
}

fn refine_kind(def: &RawDef, parent: Option<SymbolKind>) -> SymbolKind {
    match def.kind {
        SymbolKind::Function if matches!(parent, Some(SymbolKind::Impl | SymbolKind::Trait)) => SymbolKind::Method,
        SymbolKind::Variable => match def.node.child_by_field_name("value").map(|v| v.kind()) {
            Some("arrow_function" | "function_expression" | "function" | "generator_function") => {
                SymbolKind::Function
            }
            _ => SymbolKind::Variable,
        },
        kind => kind,
    }
}

fn symbol_name(lang: Lang, def: &RawDef, text: &str) -> String {
    if lang.spec().impl_names_type && def.kind == SymbolKind::Impl {
        return impl_type_name(def.name, text).to_string();
    }
    let name = node_text(def.name, text);
    // TS string-named members and modules (`'foo'`, `"pkg"`) lose their quotes.
    name.trim_matches(|c| c == '"' || c == '\'' || c == '`').to_string()
}

/// `Foo` for `impl<T> Trait for a::Foo<T>`.
fn impl_type_name<'a>(mut node: Node, text: &'a str) -> &'a str {
    loop {
        let next = match node.kind() {
            "generic_type" => node.child_by_field_name("type"),
            "scoped_type_identifier" => node.child_by_field_name("name"),
            "reference_type" | "pointer_type" => node.child_by_field_name("type"),
            _ => None,
        };
        match next {
            Some(next) => node = next,
            None => return node_text(node, text),
        }
    }
}

/// The node a definition's range and doc comment belong to: an exported declaration's
/// `export` statement, a declarator's whole declaration (TS/JS; in Rust, the node).
fn outer_item<'t>(lang: Lang, node: Node<'t>, nav: Nav<'_, 't>) -> Node<'t> {
    // `parent` walks down from the root: not asked when the answer is known.
    // Class and interface members are never exported or declared on their own.
    let kind = node.kind();
    let member = kind.ends_with("_definition") || (kind.ends_with("_signature") && kind != "function_signature");
    if lang.spec().declaration_wrappers.is_empty() || member {
        return node;
    }
    let mut item = node;
    if item.kind() == "variable_declarator" {
        if let Some(declaration) = nav.parent(item) {
            if declaration.named_child_count() == 1 {
                item = declaration;
            }
        }
    }
    while let Some(parent) = nav.parent(item) {
        if lang.spec().declaration_wrappers.contains(&parent.kind()) {
            item = parent;
        } else {
            break;
        }
    }
    item
}

fn signature(node: Node, outer: Node, kind: SymbolKind, text: &str) -> String {
    let start = outer.start_byte();
    if kind.is_member() {
        return fold_whitespace(&text[start..node.end_byte()], MAX_SIGNATURE);
    }
    let body = match kind {
        SymbolKind::Variable | SymbolKind::Function if node.kind() == "variable_declarator" => node
            .child_by_field_name("value")
            .and_then(|value| value.child_by_field_name("body").or(Some(value))),
        _ => node.child_by_field_name("body"),
    };
    let end = match body {
        // An arrow function with an expression body keeps the expression's first line.
        Some(body) if body.kind() != "statement_block" && node.kind() == "variable_declarator" => {
            let line_end = text[body.start_byte()..].find('\n').map_or(text.len(), |i| body.start_byte() + i);
            line_end.min(node.end_byte())
        }
        Some(body) => body.start_byte(),
        None => node.end_byte(),
    };
    fold_whitespace(&text[start..end.max(start)], MAX_SIGNATURE)
}

fn fold_whitespace(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max));
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
        if out.len() >= max {
            let cut = crate::lang::floor_char_boundary(&out, max);
            out.truncate(cut);
            out.push('…');
            break;
        }
    }
    out
}

/// False when the text before an item shows that no comment or attribute ends right
/// above it (a blank line in between, or a line without `//`, `*/` or a closing `]`):
/// `prev_sibling` walks all earlier siblings, so it is asked only when this is true.
fn may_follow_doc(lang: Lang, before: &str) -> bool {
    let code = before.trim_end();
    let gap = &before[code.len()..];
    if code.is_empty() || gap.bytes().filter(|&b| b == b'\n').count() > 1 {
        return false;
    }
    let line = &code[code.rfind('\n').map_or(0, |i| i + 1)..];
    line.contains("//") || line.contains("*/") || lang.spec().doc_comments.attribute_end.is_some_and(|end| line.ends_with(end))
}

/// The doc comment right above `item` (attributes in between are skipped):
/// `///` and `/** */` in Rust; `/** */` or a run of `//` lines in TS/JS.
fn doc_comment<'t>(lang: Lang, item: Node<'t>, text: &str, nav: Nav<'_, 't>) -> Option<String> {
    if !may_follow_doc(lang, &text[..item.start_byte()]) {
        return None;
    }
    let mut lines: Vec<&str> = Vec::new();
    let mut next_start_row = item.start_position().row;
    let mut sibling = nav.prev_sibling(item);
    while let Some(node) = sibling {
        if node.end_position().row + 1 < next_start_row {
            break; // a blank line separates it from the item
        }
        let raw = node_text(node, text);
        let Some(is_doc) = lang.spec().doc_comments.is_doc(node.kind(), raw) else {
            // An attribute between the doc comment and the item.
            next_start_row = node.start_position().row;
            sibling = nav.prev_sibling(node);
            continue;
        };
        if !is_doc {
            break;
        }
        lines.push(raw);
        if raw.starts_with("/*") {
            break; // one block comment is the whole doc
        }
        next_start_row = node.start_position().row;
        sibling = nav.prev_sibling(node);
    }
    if lines.is_empty() {
        return None;
    }
    lines.reverse();
    let mut doc = String::new();
    for raw in lines {
        for line in strip_comment_markers(raw) {
            if !doc.is_empty() {
                doc.push('\n');
            }
            doc.push_str(line);
        }
    }
    let doc = doc.trim().to_string();
    if doc.is_empty() {
        return None;
    }
    Some(if doc.len() > MAX_DOC {
        let cut = crate::lang::floor_char_boundary(&doc, MAX_DOC);
        format!("{}…", &doc[..cut])
    } else {
        doc
    })
}

fn strip_comment_markers(raw: &str) -> Vec<&str> {
    if let Some(body) = raw.strip_prefix("/*") {
        let body = body.strip_suffix("*/").unwrap_or(body);
        let body = body.trim_start_matches(['*', '!']);
        body.lines()
            .map(|line| {
                let line = line.trim();
                line.strip_prefix("* ").or_else(|| line.strip_prefix('*')).unwrap_or(line)
            })
            .collect()
    } else {
        let line = raw.trim_start_matches('/').trim_start_matches('!');
        vec![line.strip_prefix(' ').unwrap_or(line).trim_end()]
    }
}

/// The ranges of the captured occurrences: each node's range asked once (a call into
/// tree-sitter), not at every comparison.
fn reference_ranges(raw: Vec<(Node, RefRole)>) -> Vec<(TextRange, RefRole)> {
    raw.into_iter().map(|(node, role)| (TextRange::from_usize(node.byte_range()), role)).collect()
}

fn build_references(mut raw: Vec<(TextRange, RefRole)>, symbols: &[Symbol], text: &str) -> (Vec<String>, Vec<Reference>) {
    // The most specific role wins when patterns overlap: roles are ordered by specificity.
    raw.sort_by_key(|(range, role)| (range.start, *role));
    raw.dedup_by_key(|(range, _)| range.start);
    let mut definition_names: Vec<u32> = symbols.iter().map(|s| s.name_range.start).collect();
    definition_names.sort_unstable();
    let mut names: Vec<String> = Vec::new();
    let mut name_ids: HashMap<&str, u32> = HashMap::default();
    let mut references = Vec::with_capacity(raw.len());
    for (range, role) in raw {
        if definition_names.binary_search(&range.start).is_ok() {
            continue;
        }
        let name = text.get(range.as_usize()).unwrap_or("");
        if name.is_empty() {
            continue;
        }
        let id = *name_ids.entry(name).or_insert_with(|| {
            names.push(name.to_string());
            names.len() as u32 - 1
        });
        references.push(Reference { name: id, range, role });
    }
    (names, references)
}

/// Flattens a Rust use tree into one import per leaf.
fn flatten_use_tree(node: Node, prefix: String, text: &str, range: TextRange, out: &mut Vec<Import>) {
    let join = |prefix: &str, path: &str| -> String {
        if prefix.is_empty() {
            path.to_string()
        } else if path.is_empty() {
            prefix.to_string()
        } else {
            format!("{prefix}::{path}")
        }
    };
    let leaf = |path: String, alias: Option<String>, out: &mut Vec<Import>| {
        let (source, name) = match path.rsplit_once("::") {
            Some((source, name)) => (source.to_string(), name.to_string()),
            None => (String::new(), path),
        };
        // `use a::b::{self}` imports the module `b` itself.
        let (source, name) = if name == "self" {
            match source.rsplit_once("::") {
                Some((s, n)) => (s.to_string(), n.to_string()),
                None => (String::new(), source),
            }
        } else {
            (source, name)
        };
        out.push(Import {
            kind: ImportKind::Use,
            source: Name::new(&source),
            names: vec![ImportedName { name: Name::new(&name), alias: alias.map(Name::from) }],
            glob: false,
            range,
        });
    };
    match node.kind() {
        "use_list" => {
            let mut cursor = node.walk();
            for child in node.named_children(&mut cursor) {
                flatten_use_tree(child, prefix.clone(), text, range, out);
            }
        }
        "scoped_use_list" => {
            let path = node.child_by_field_name("path").map_or("", |p| node_text(p, text));
            let prefix = join(&prefix, path);
            if let Some(list) = node.child_by_field_name("list") {
                flatten_use_tree(list, prefix, text, range, out);
            }
        }
        "use_as_clause" => {
            let path = node.child_by_field_name("path").map_or("", |p| node_text(p, text));
            let alias = node.child_by_field_name("alias").map(|a| node_text(a, text).to_string());
            leaf(join(&prefix, path), alias, out);
        }
        "use_wildcard" => {
            let path = node.named_child(0).map_or("", |p| node_text(p, text));
            out.push(Import {
                kind: ImportKind::Use,
                source: Name::new(&join(&prefix, path)),
                names: Vec::new(),
                glob: true,
                range,
            });
        }
        "ERROR" => {}
        _ => leaf(join(&prefix, node_text(node, text)), None, out),
    }
}

/// Reads the imported names of a TS/JS import, re-export or `require`.
fn ts_import<'t>(kind: ImportKind, statement: Node<'t>, source: &str, text: &str, nav: Nav<'_, 't>) -> Import {
    let mut names = Vec::new();
    let mut glob = false;
    let mut cursor = statement.walk();
    for child in statement.named_children(&mut cursor) {
        match child.kind() {
            "import_clause" => {
                let mut inner = child.walk();
                for part in child.named_children(&mut inner) {
                    match part.kind() {
                        "identifier" => names.push(ImportedName {
                            name: "default".into(),
                            alias: Some(node_text(part, text).into()),
                        }),
                        "namespace_import" => {
                            glob = true;
                            let alias = part.named_child(0).map(|n| Name::new(node_text(n, text)));
                            names.push(ImportedName { name: "*".into(), alias });
                        }
                        "named_imports" => specifiers(part, "import_specifier", text, &mut names),
                        _ => {}
                    }
                }
            }
            "export_clause" => specifiers(child, "export_specifier", text, &mut names),
            "namespace_export" => {
                glob = true;
                let alias = child.named_child(0).map(|n| Name::new(node_text(n, text)));
                names.push(ImportedName { name: "*".into(), alias });
            }
            _ => {}
        }
    }
    if kind == ImportKind::ReExport && names.is_empty() {
        glob = true; // `export * from "x"`
    }
    if kind == ImportKind::Require {
        // `const { a, b: c } = require("x")` or `const x = require("x")`.
        if let Some(declarator) = nav.parent(statement).filter(|p| p.kind() == "variable_declarator") {
            match declarator.child_by_field_name("name") {
                Some(n) if n.kind() == "identifier" => {
                    names.push(ImportedName { name: "*".into(), alias: Some(node_text(n, text).into()) });
                    glob = true;
                }
                Some(pattern) if pattern.kind() == "object_pattern" => {
                    let mut inner = pattern.walk();
                    for prop in pattern.named_children(&mut inner) {
                        match prop.kind() {
                            "shorthand_property_identifier_pattern" => {
                                names.push(ImportedName { name: node_text(prop, text).into(), alias: None })
                            }
                            "pair_pattern" => {
                                let key = prop.child_by_field_name("key").map(|k| node_text(k, text));
                                let value = prop.child_by_field_name("value").map(|v| node_text(v, text));
                                if let Some(key) = key {
                                    names.push(ImportedName {
                                        name: key.into(),
                                        alias: value.map(Name::new),
                                    });
                                }
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
    }
    Import { kind, source: Name::new(source), names, glob, range: TextRange::from_usize(statement.byte_range()) }
}

fn specifiers(list: Node, kind: &str, text: &str, out: &mut Vec<ImportedName>) {
    let mut cursor = list.walk();
    for spec in list.named_children(&mut cursor) {
        if spec.kind() != kind {
            continue;
        }
        let Some(name) = spec.child_by_field_name("name") else { continue };
        let unquote = |s: &str| s.trim_matches(|c| c == '"' || c == '\'').to_string();
        out.push(ImportedName {
            name: Name::new(&unquote(node_text(name, text))),
            alias: spec.child_by_field_name("alias").map(|a| Name::new(&unquote(node_text(a, text)))),
        });
    }
}

pub(crate) fn node_text<'a>(node: Node, text: &'a str) -> &'a str {
    text.get(node.byte_range()).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The children a keystroke looks at, found by byte, are those a walk over every child
    /// finds: from every offset of a file (items, comments, an unfinished item at the end).
    #[test]
    fn children_found_by_byte_are_those_a_walk_finds() {
        let mut text = String::new();
        for i in 0..40 {
            text.push_str(&format!("/// Doc {i}.\npub const C{i}: u32 = {i};\n\nfn f{i}() {{ g({i}) }}\n"));
        }
        text.push_str("pub struct Unfinished {");
        let tree = crate::lang::parse(Lang::Rust, &text, None);
        let root = tree.root_node();
        let mut cursor = root.walk();
        let all: Vec<Node> = root.children(&mut cursor).collect();
        assert!(all.len() > 100, "{}", all.len());
        for from in 0..=text.len() as u32 + 1 {
            let mut found = Vec::new();
            each_child_from(root, from, |child| {
                found.push(child);
                true
            });
            let expected: Vec<Node> = all.iter().copied().filter(|c| c.end_byte() as u32 >= from).collect();
            assert_eq!(found, expected, "from {from}");
            let len = text.len() as u32;
            let region = TextRange::new(from.min(len), (from + 90).min(len));
            let mut within = Vec::new();
            each_child_within(root, region, |child| within.push(child));
            let expected: Vec<Node> =
                all.iter().copied().filter(|c| c.start_byte() as u32 >= region.start && c.end_byte() as u32 <= region.end).collect();
            assert_eq!(within, expected, "within {region:?}");
        }
    }

    #[test]
    fn doc_lookups_are_skipped_only_where_no_comment_or_attribute_can_end_above() {
        let rust = |before: &str| may_follow_doc(Lang::Rust, before);
        assert!(rust("/// Doc.\n"));
        assert!(rust("/** Doc. */ "));
        assert!(rust("/// Doc.\n#[derive(Debug)]\n"));
        assert!(rust("let x = 1; // note\n"), "a trailing comment is a sibling too");
        assert!(!rust(""));
        assert!(!rust("   \n"));
        assert!(!rust("/// Doc.\n\n"), "a blank line in between");
        assert!(!rust("/// Doc.\r\n\r\n"));
        assert!(!rust("fn a() {}\n"));
        assert!(!rust("{\n    "));
        let ts = |before: &str| may_follow_doc(Lang::TypeScript, before);
        assert!(ts("/** Doc. */\n"));
        assert!(ts("// Doc.\n"));
        assert!(!ts("const a = [1];\n"), "`]` ends an attribute in Rust only");
    }
}
