//! The workspace index: per-file facts extracted from syntax trees (symbols, references,
//! imports, chunks) and the workspace-wide view over them (`WorkspaceIndex`, immutable
//! `IndexSnapshot`s, import resolution, fuzzy symbol search). Pure: no IO.

mod chunks;
mod macros;
mod extract;
mod resolve;
mod search;
pub mod terms;
mod workspace;

pub use extract::{
    extract, extract_incremental, extract_segmented, extract_segmented_counting, extract_with, is_generated, GeneratedFiles, mostly_error, GENERATED_LINES_PER_SYMBOL,
    GENERATED_MIN_LINES,
};
pub use resolve::{ModuleResolver, ResolvedImport, TsConfig};
pub use search::{fuzzy_symbols, SymbolMatch};
pub use crate::base::Name;
pub use workspace::{defined_names, ChunkStats, FactSource, FactsVersion, FileEntry, FileId, FileSummary, IndexMemory, IndexSnapshot, IndexStats, ReferenceCounts, WorkspaceIndex};

pub use crate::lang::kinds::{ImportKind, RefRole, SymbolKind};

use crate::base::{LineIndex, TextRange};
use crate::lang::Lang;

/// A definition found in a file.
///
/// 48 bytes: its name and container are interned (`Name`), and encoded apart from it
/// (`FileIndex::fact_strings`): a workspace's million symbols repeat a few hundred
/// thousand strings.
#[derive(Clone, Debug, PartialEq, Eq, bitcode::Encode, bitcode::Decode)]
pub struct Symbol {
    #[bitcode(skip)]
    pub name: Name,
    pub kind: SymbolKind,
    /// The whole definition, without its doc comment and attributes.
    pub range: TextRange,
    pub name_range: TextRange,
    /// Index of the enclosing symbol in the file's symbol list.
    pub parent: Option<u32>,
    /// The path of enclosing containers, `a::b::Type` in Rust, `ns.Class` in TS.
    #[bitcode(skip)]
    pub container: Option<Name>,
    /// The signature and doc (`signature`, `doc`): details, `None` in a summary (see
    /// `FileIndex::split_details`), boxed so that a summary's symbols do not carry two
    /// empty fields (a million symbols on a large workspace).
    pub text: Option<Box<SymbolText>>,
}

/// The last segment of a container path: `Type` of `a::b::Type` or `ns.Type`.
pub fn last_segment(path: &str) -> &str {
    path.rsplit([':', '.']).next().unwrap_or(path)
}

/// A symbol's header and doc comment.
#[derive(Clone, Debug, Default, PartialEq, Eq, bitcode::Encode, bitcode::Decode)]
pub struct SymbolText {
    /// The definition's header: everything before its body, whitespace folded.
    pub signature: String,
    /// The doc comment, markers stripped.
    pub doc: Option<String>,
}

impl SymbolText {
    /// `None` for an empty header without a doc (what a summary's symbols hold).
    pub fn of(signature: String, doc: Option<String>) -> Option<Box<SymbolText>> {
        (!signature.is_empty() || doc.is_some()).then(|| Box::new(SymbolText { signature, doc }))
    }
}

impl Symbol {
    /// The definition's header: everything before its body, whitespace folded (empty in
    /// a summary).
    pub fn signature(&self) -> &str {
        self.text.as_ref().map_or("", |t| t.signature.as_str())
    }

    /// The doc comment, markers stripped (`None` in a summary).
    pub fn doc(&self) -> Option<&str> {
        self.text.as_ref().and_then(|t| t.doc.as_deref())
    }
}

/// An identifier occurrence. `name` indexes the file's `names` table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bitcode::Encode, bitcode::Decode)]
pub struct Reference {
    pub name: u32,
    pub range: TextRange,
    pub role: RefRole,
}

/// Interned, as symbols' names are (encoded apart: `FactStrings`).
#[derive(Clone, Debug, PartialEq, Eq, bitcode::Encode, bitcode::Decode)]
pub struct ImportedName {
    #[bitcode(skip)]
    pub name: Name,
    #[bitcode(skip)]
    pub alias: Option<Name>,
}

impl ImportedName {
    /// The name the importing file uses.
    pub fn local_name(&self) -> &str {
        self.alias.unwrap_or(self.name).as_str()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, bitcode::Encode, bitcode::Decode)]
pub struct Import {
    pub kind: ImportKind,
    /// Rust: the module path before the imported names (`crate::a::b`, empty for a bare
    /// name). TS/JS: the module specifier (`./x`, `@scope/pkg`). Interned (encoded apart:
    /// `FactStrings`).
    #[bitcode(skip)]
    pub source: Name,
    /// Imported names; TS default imports are named `default`, namespace imports `*`.
    pub names: Vec<ImportedName>,
    /// `use a::*`, `export * from`, `import * as ns`.
    pub glob: bool,
    pub range: TextRange,
}

/// A piece of a file for retrieval: a top-level item or a method, long bodies split and
/// small neighbours merged.
#[derive(Clone, Debug, PartialEq, Eq, bitcode::Encode, bitcode::Decode)]
pub struct Chunk {
    pub range: TextRange,
    /// Zero-based, inclusive.
    pub start_line: u32,
    pub end_line: u32,
    /// The outermost symbol defined in the chunk, if any.
    pub symbol: Option<u32>,
    /// Hash of the chunk's text: its stable identity.
    pub hash: u64,
}

/// `tf` occurrences of a term in a chunk (an index into `FileIndex::chunks`). Eight
/// bytes: a file's postings are a fifth of the summaries a large workspace keeps in
/// memory. A file's chunks past the 65,536th have no postings (a file that size is far
/// over `index.max_file_size`'s default), and `tf` stops counting at 65,535.
#[derive(Clone, Copy, Debug, PartialEq, Eq, bitcode::Encode, bitcode::Decode)]
pub struct Posting {
    pub term: u32,
    pub chunk: u16,
    pub tf: u16,
}

/// Everything extracted from one file. Equal inputs give equal values.
#[derive(Clone, Debug, PartialEq, Eq, bitcode::Encode, bitcode::Decode)]
pub struct FileIndex {
    pub lang: Lang,
    pub symbols: Vec<Symbol>,
    /// Identifier strings referenced by `references`, deduplicated.
    pub names: Vec<String>,
    pub references: Vec<Reference>,
    pub imports: Vec<Import>,
    pub chunks: Vec<Chunk>,
    /// Lexical terms of the chunks, sorted by (term, chunk) (see `terms`).
    pub terms: Vec<Posting>,
    /// `symbols` by the 32-bit hash of their name (then index): a name's definitions in
    /// a file are one binary search over contiguous keys away.
    pub by_name: Vec<NameKey>,
    pub line_index: LineIndex,
    /// Syntax errors and missing nodes in the file (parsing never fails).
    pub error_count: u32,
    /// A generated declaration file (`is_generated`): symbols, imports and line index
    /// only; `names`, `references`, `chunks` and `terms` are empty.
    pub generated: bool,
}

/// Heap bytes of facts by part (see `FileIndex::heap_parts`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FactsMemory {
    /// Symbols with their names and containers.
    pub symbols: usize,
    /// Signatures, docs, identifier names and occurrences (`Details`).
    pub details: usize,
    pub imports: usize,
    pub chunks: usize,
    pub terms: usize,
    pub by_name: usize,
    pub lines: usize,
}

impl FactsMemory {
    pub fn total(&self) -> usize {
        self.symbols + self.details + self.imports + self.chunks + self.terms + self.by_name + self.lines
    }

    pub fn add(&mut self, other: &FactsMemory) {
        self.symbols += other.symbols;
        self.details += other.details;
        self.imports += other.imports;
        self.chunks += other.chunks;
        self.terms += other.terms;
        self.by_name += other.by_name;
        self.lines += other.lines;
    }
}

/// What `FileIndex::split_details` takes out of the facts: what retrieval reads of the
/// few files it shows or starts from, and most of what the facts weigh.
#[derive(Clone, Debug, Default, PartialEq, Eq, bitcode::Encode, bitcode::Decode)]
pub struct Details {
    pub signatures: Vec<String>,
    pub docs: Vec<Option<String>>,
    pub names: Vec<String>,
    pub references: Vec<Reference>,
}

/// The interned strings of a file's facts (symbols' names and containers, imports'
/// sources, names and aliases), as the cache encodes them: the facts do not encode them.
#[derive(Clone, Debug, Default, PartialEq, Eq, bitcode::Encode, bitcode::Decode)]
pub struct FactStrings {
    /// The distinct strings, in order of first use.
    pub strings: Vec<String>,
    /// Per symbol, its name's index in `strings`.
    pub names: Vec<u32>,
    /// Per symbol, its container's index in `strings` plus one (0: none).
    pub containers: Vec<u32>,
    /// Per import, its source's index.
    pub sources: Vec<u32>,
    /// Per imported name (of every import, in order), its index.
    pub imported: Vec<u32>,
    /// Per imported name, its alias's index plus one (0: none).
    pub aliases: Vec<u32>,
}

impl FileIndex {
    /// The facts' interned strings, for encoding beside them.
    pub fn fact_strings(&self) -> FactStrings {
        let mut out = FactStrings::default();
        let mut seen: rustc_hash::FxHashMap<Name, u32> = Default::default();
        let mut index_of = |name: Name, strings: &mut Vec<String>| {
            *seen.entry(name).or_insert_with(|| {
                strings.push(name.to_string());
                strings.len() as u32 - 1
            })
        };
        for symbol in &self.symbols {
            let name = index_of(symbol.name, &mut out.strings);
            out.names.push(name);
            let container = symbol.container.map_or(0, |c| index_of(c, &mut out.strings) + 1);
            out.containers.push(container);
        }
        for import in &self.imports {
            let source = index_of(import.source, &mut out.strings);
            out.sources.push(source);
            for imported in &import.names {
                let name = index_of(imported.name, &mut out.strings);
                out.imported.push(name);
                let alias = imported.alias.map_or(0, |a| index_of(a, &mut out.strings) + 1);
                out.aliases.push(alias);
            }
        }
        out
    }

    /// Gives the facts the strings of `strings` (the inverse of `fact_strings`); false
    /// (and nothing changed) when they are not of these facts.
    pub fn set_fact_strings(&mut self, strings: &FactStrings) -> bool {
        let count = self.symbols.len();
        let imported = self.imports.iter().map(|i| i.names.len()).sum::<usize>();
        let fits = |i: u32, offset: u32| (i as usize) < strings.strings.len() + offset as usize;
        if strings.names.len() != count
            || strings.containers.len() != count
            || strings.sources.len() != self.imports.len()
            || strings.imported.len() != imported
            || strings.aliases.len() != imported
            || ![&strings.names, &strings.sources, &strings.imported].iter().all(|v| v.iter().all(|&i| fits(i, 0)))
            || ![&strings.containers, &strings.aliases].iter().all(|v| v.iter().all(|&i| fits(i, 1)))
        {
            return false;
        }
        let names: Vec<Name> = strings.strings.iter().map(|s| Name::new(s)).collect();
        for ((symbol, &name), &container) in self.symbols.iter_mut().zip(&strings.names).zip(&strings.containers) {
            symbol.name = names[name as usize];
            symbol.container = container.checked_sub(1).map(|c| names[c as usize]);
        }
        let mut imported = strings.imported.iter().zip(&strings.aliases);
        for (import, &source) in self.imports.iter_mut().zip(&strings.sources) {
            import.source = names[source as usize];
            for (name, (&at, &alias)) in import.names.iter_mut().zip(imported.by_ref()) {
                name.name = names[at as usize];
                name.alias = alias.checked_sub(1).map(|a| names[a as usize]);
            }
        }
        true
    }

    /// Moves the symbols' signatures and docs and the identifier occurrences out (they
    /// are left empty); `join_details` puts them back.
    pub fn split_details(&mut self) -> Details {
        let (signatures, docs) = self
            .symbols
            .iter_mut()
            .map(|s| s.text.take().map_or((String::new(), None), |t| (t.signature, t.doc)))
            .unzip();
        Details {
            signatures,
            docs,
            names: std::mem::take(&mut self.names),
            references: std::mem::take(&mut self.references),
        }
    }

    /// The inverse of `split_details`; false (and nothing changed) when `details` are not
    /// of these facts' symbols.
    pub fn join_details(&mut self, details: Details) -> bool {
        if details.signatures.len() != self.symbols.len() || details.docs.len() != self.symbols.len() {
            return false;
        }
        for ((symbol, signature), doc) in self.symbols.iter_mut().zip(details.signatures).zip(details.docs) {
            symbol.text = SymbolText::of(signature, doc);
        }
        self.names = details.names;
        self.references = details.references;
        true
    }

    /// The bytes these facts hold on the heap (capacities; allocator overhead aside):
    /// what the server's memory accounting and its bound on decoded details count.
    pub fn heap_bytes(&self) -> usize {
        self.heap_parts().total()
    }

    /// `heap_bytes` by part.
    pub fn heap_parts(&self) -> FactsMemory {
        use std::mem::size_of;
        fn vec<T>(v: &Vec<T>) -> usize {
            v.capacity() * size_of::<T>()
        }
        fn opt(s: &Option<String>) -> usize {
            s.as_ref().map_or(0, String::capacity)
        }
        FactsMemory {
            // Names and containers are interned: the interner counts their strings.
            symbols: vec(&self.symbols),
            details: self
                .symbols
                .iter()
                .filter_map(|s| s.text.as_ref())
                .map(|t| size_of::<SymbolText>() + t.signature.capacity() + opt(&t.doc))
                .sum::<usize>()
                + vec(&self.names)
                + self.names.iter().map(String::capacity).sum::<usize>()
                + vec(&self.references),
            imports: vec(&self.imports)
                + self
                    .imports
                    .iter()
                    .map(|i| vec(&i.names))
                    .sum::<usize>(),
            chunks: vec(&self.chunks),
            terms: vec(&self.terms),
            by_name: vec(&self.by_name),
            lines: self.line_index.heap_bytes(),
        }
    }

    /// Indices of the symbols named `name`, in index order.
    pub fn symbols_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = u32> + 'a {
        let hash = name_hash(name);
        let start = self.by_name.partition_point(|k| k.hash < hash);
        self.by_name[start..]
            .iter()
            .take_while(move |k| k.hash == hash)
            .map(|k| k.symbol)
            .filter(move |&i| self.symbols[i as usize].name == name)
    }

    pub fn reference_name(&self, reference: &Reference) -> &str {
        &self.names[reference.name as usize]
    }

    /// The symbol with the smallest range containing `offset`.
    pub fn symbol_at(&self, offset: u32) -> Option<usize> {
        self.symbols
            .iter()
            .enumerate()
            .filter(|(_, s)| s.range.contains_inclusive(offset))
            .min_by_key(|(_, s)| s.range.len())
            .map(|(i, _)| i)
    }

    /// The qualified name `container::name` (or `container.name` in TS).
    pub fn qualified_name(&self, symbol: &Symbol) -> String {
        match &symbol.container {
            Some(container) => format!("{container}{}{}", separator(self.lang), symbol.name),
            None => symbol.name.to_string(),
        }
    }
}

/// A symbol under the hash of its name (see `FileIndex::by_name`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, bitcode::Encode, bitcode::Decode)]
pub struct NameKey {
    pub hash: u32,
    pub symbol: u32,
}

fn name_hash(name: &str) -> u32 {
    crate::base::content_hash(name.as_bytes()) as u32
}

/// `FileIndex::by_name` of `symbols`.
pub(crate) fn symbols_by_name(symbols: &[Symbol]) -> Vec<NameKey> {
    let mut keys: Vec<NameKey> = symbols.iter().enumerate().map(|(i, s)| NameKey { hash: name_hash(&s.name), symbol: i as u32 }).collect();
    keys.sort_unstable();
    keys
}

pub(crate) fn separator(lang: Lang) -> &'static str {
    lang.spec().path_separator
}

#[cfg(test)]
mod tests;
