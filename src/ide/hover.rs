//! What a hover shows at once, from the index alone: the symbol under the cursor (its
//! definition, or the definition a name resolves to), with its signature, doc, location
//! and how many references to its name the workspace holds. A name defined in several
//! places resolves to the current file's definition, then to one in a file the current
//! file imports, then to the nearest by path.

use crate::base::TextRange;
use crate::index::terms::term_of;
use crate::index::{FileId, IndexSnapshot, SymbolKind};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoverInfo {
    pub name: String,
    pub kind: SymbolKind,
    pub signature: String,
    pub doc: Option<String>,
    /// The defining file and the definition's range in it.
    pub file: FileId,
    pub path: String,
    pub range: TextRange,
    /// Zero-based line of the definition.
    pub line: u32,
    /// References to the name in the workspace (every occurrence with that exact name,
    /// the definition's own name excluded).
    pub references: usize,
    /// The range under the cursor that the hover is about.
    pub hovered: TextRange,
}

/// The hover at `offset` of `file`, if a known symbol is there.
pub fn hover(snapshot: &IndexSnapshot, file: FileId, offset: u32) -> Option<HoverInfo> {
    let entry = snapshot.file(file)?;
    let index = entry.index();
    // A definition's own name, else a reference.
    let (name, hovered, target) = match index.symbols.iter().position(|s| s.name_range.contains_inclusive(offset)) {
        Some(i) => (index.symbols[i].name.to_string(), index.symbols[i].name_range, Some((file, i as u32))),
        None => {
            let reference = index.references.iter().find(|r| r.range.contains_inclusive(offset))?;
            (index.reference_name(reference).to_string(), reference.range, None)
        }
    };
    let (def_file, symbol) = match target {
        Some(target) => target,
        None => resolve(snapshot, file, &name)?,
    };
    let def_entry = snapshot.file(def_file)?;
    let symbol = &def_entry.index().symbols[symbol as usize];
    Some(HoverInfo {
        name: name.clone(),
        kind: symbol.kind,
        signature: symbol.signature().to_string(),
        doc: symbol.doc().map(str::to_string),
        file: def_file,
        path: def_entry.path.clone(),
        range: symbol.range,
        line: def_entry.index().line_index.line_col(symbol.range.start).line,
        references: reference_count(snapshot, &name),
        hovered,
    })
}

/// The definition `name` most likely means in `from`.
///
/// Reads the candidates' summaries only (`light`): a common name is defined in thousands
/// of files, and decoding their details would hold them all at once (on the 4.34M-line
/// corpus the benchmark's hovers had 100 MiB of transient details, which the allocator
/// kept resident after).
fn resolve(snapshot: &IndexSnapshot, from: FileId, name: &str) -> Option<(FileId, u32)> {
    let here = snapshot.file(from)?;
    if let Some(i) = here.light().symbols_named(name).next() {
        return Some((from, i));
    }
    let imported: Vec<FileId> = here
        .light()
        .imports
        .iter()
        .filter(|import| import.glob || import.names.iter().any(|n| n.local_name() == name))
        .filter_map(|import| snapshot.resolve_import(from, import).map(|r| r.file))
        .collect();
    let mut best: Option<(u32, usize, FileId, u32)> = None; // (not imported, distance, file, symbol)
    for &file in snapshot.files_defining(name) {
        let Some(entry) = snapshot.file(file) else { continue };
        let light = entry.light();
        let Some(symbol) = light.symbols_named(name).find(|&i| light.symbols[i as usize].kind != SymbolKind::Impl) else {
            continue;
        };
        let key = (u32::from(!imported.contains(&file)), path_distance(&here.path, &entry.path), file, symbol);
        if best.is_none_or(|b| key < b) {
            best = Some(key);
        }
    }
    best.map(|(_, _, file, symbol)| (file, symbol))
}

fn path_distance(a: &str, b: &str) -> usize {
    let common = a.split('/').zip(b.split('/')).take_while(|(x, y)| x == y).count();
    a.split('/').count() + b.split('/').count() - 2 * common
}

/// Occurrences of exactly `name` as a reference anywhere in the workspace. With a term
/// table, only the files whose chunks use the name's term are looked at.
pub fn reference_count(snapshot: &IndexSnapshot, name: &str) -> usize {
    let count_in = |file: FileId| snapshot.file(file).map_or(0, |entry| entry.reference_count(name));
    match snapshot.term_table() {
        Some(table) => {
            let term = term_of(&name.to_lowercase());
            let (files, _) = table.lookup(term);
            // Files the table holds as they are, plus every file changed since it was built.
            let held: usize = files
                .iter()
                .filter(|f| snapshot.entry(f.file).is_some_and(|e| table.is_current(f.file, e)))
                .map(|f| count_in(f.file))
                .sum();
            let changed: usize =
                snapshot.entries().filter(|(id, e)| !table.is_current(*id, e)).map(|(id, _)| count_in(id)).sum();
            held + changed
        }
        None => snapshot.files().map(|(id, _)| count_in(id)).sum(),
    }
}

/// The hover as markdown: the signature in a code block, the doc, then where it is
/// defined and how often its name is used (by name: a count, not a resolved list).
pub fn markdown(info: &HoverInfo, language: &str) -> String {
    let mut out = format!("```{language}\n{}\n```\n", info.signature.trim());
    if let Some(doc) = info.doc.as_deref().filter(|d| !d.trim().is_empty()) {
        out.push('\n');
        out.push_str(doc.trim());
        out.push('\n');
    }
    let uses = match info.references {
        1 => "used once".to_string(),
        n => format!("used {n} times"),
    };
    out.push_str(&format!("\n*{}* in `{}:{}` · the name `{}` is {uses} in the workspace\n", info.kind.as_str(), info.path, info.line + 1, info.name));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{extract, FileEntry, WorkspaceIndex};
    use crate::lang::{parse, Lang};

    fn workspace(files: &[(&str, &str)]) -> std::sync::Arc<IndexSnapshot> {
        let mut index = WorkspaceIndex::new();
        for (path, text) in files {
            let lang = Lang::from_path(std::path::Path::new(path)).unwrap();
            index.insert(FileEntry::new(path.to_string(), 0, extract(lang, text, &parse(lang, text, None))));
        }
        index.snapshot()
    }

    const FILES: &[(&str, &str)] = &[
        ("src/map.rs", "/// An ordered map.\npub struct Map { inner: Vec<u32> }\nimpl Map {\n    pub fn new() -> Map { Map { inner: Vec::new() } }\n}\n"),
        ("src/other.rs", "pub struct Map;\n"),
        ("src/main.rs", "use crate::map::Map;\nfn main() {\n    let m = Map::new();\n    let n: Map = m;\n}\n"),
    ];

    #[test]
    fn a_used_name_resolves_through_the_import() {
        let snapshot = workspace(FILES);
        let main = snapshot.file_id("src/main.rs").unwrap();
        let text = FILES[2].1;
        let offset = text.find("Map::new").unwrap() as u32 + 1;
        let info = hover(&snapshot, main, offset).expect("a hover");
        assert_eq!((info.name.as_str(), info.path.as_str(), info.line), ("Map", "src/map.rs", 1), "the imported Map, not src/other.rs");
        assert_eq!(info.doc.as_deref(), Some("An ordered map."));
        // `Map` in the use, in `Map::new`, in the type annotation, and in map.rs's impl,
        // `-> Map`, `Map {` — every occurrence that is a reference.
        assert!(info.references >= 5, "{}", info.references);
        let md = markdown(&info, "rust");
        assert!(md.starts_with("```rust\npub struct Map"), "{md}");
        assert!(md.contains("*struct* in `src/map.rs:2`"), "{md}");
    }

    /// Resolving a name reads the candidates' summaries: of a lazily loaded workspace, only
    /// the hovered file and the definition shown are decoded, however many files define
    /// the name.
    #[test]
    fn a_hover_decodes_only_the_hovered_file_and_the_definition() {
        use crate::index::{FactSource, FileIndex, FileSummary};
        struct Source(std::collections::HashMap<String, FileIndex>);
        impl FactSource for Source {
            fn load(&self, path: &str, _hash: u64, _summary: &FileSummary) -> Option<FileIndex> {
                self.0.get(path).cloned()
            }
        }
        let others: Vec<(String, &str)> = (0..20).map(|i| (format!("src/other{i}.rs"), "/// Another map.\npub struct Map;\n")).collect();
        let files: Vec<(&str, &str)> = FILES.iter().copied().chain(others.iter().map(|(p, t)| (p.as_str(), *t))).collect();
        let facts = files.iter().map(|(path, text)| (path.to_string(), extract(Lang::Rust, text, &parse(Lang::Rust, text, None)))).collect();
        let source = std::sync::Arc::new(Source(facts));
        let mut index = WorkspaceIndex::new();
        for (path, facts) in &source.0 {
            let source = std::sync::Arc::clone(&source) as std::sync::Arc<dyn FactSource>;
            index.insert(FileEntry::lazy(path.clone(), 0, FileSummary::of(facts.clone()), source));
        }
        let snapshot = index.snapshot();
        assert_eq!(snapshot.files_defining("Map").len(), 22);
        let main = snapshot.file_id("src/main.rs").unwrap();
        let offset = FILES[2].1.find("Map::new").unwrap() as u32 + 1;
        let info = hover(&snapshot, main, offset).expect("a hover");
        assert_eq!((info.path.as_str(), info.doc.as_deref()), ("src/map.rs", Some("An ordered map.")));
        let mut decoded: Vec<&str> = snapshot.files().filter(|(_, e)| e.is_loaded()).map(|(_, e)| e.path.as_str()).collect();
        decoded.sort_unstable();
        assert_eq!(decoded, ["src/main.rs", "src/map.rs"]);
    }

    #[test]
    fn a_definition_hovers_as_itself_and_nothing_elsewhere() {
        let snapshot = workspace(FILES);
        let map = snapshot.file_id("src/map.rs").unwrap();
        let offset = FILES[0].1.find("fn new").unwrap() as u32 + 4;
        let info = hover(&snapshot, map, offset).unwrap();
        assert_eq!((info.name.as_str(), info.kind), ("new", SymbolKind::Method));
        assert_eq!(info.references, 2, "by name: Map::new in main.rs and Vec::new in map.rs");
        assert_eq!(hover(&snapshot, map, 1), None, "inside the doc comment");
    }

    #[test]
    fn a_struct_inside_an_item_macro_hovers_with_its_doc() {
        let files = [
            ("src/net.rs", "cfg_net! {\n    /// A TCP stream.\n    pub struct TcpStream { inner: u32 }\n}\n"),
            ("src/main.rs", "use crate::net::TcpStream;\nfn main(s: TcpStream) {}\n"),
        ];
        let snapshot = workspace(&files);
        let main = snapshot.file_id("src/main.rs").unwrap();
        let offset = files[1].1.find("TcpStream)").unwrap() as u32 + 2;
        let info = hover(&snapshot, main, offset).expect("a hover");
        assert_eq!((info.name.as_str(), info.path.as_str(), info.line), ("TcpStream", "src/net.rs", 2));
        assert_eq!(info.doc.as_deref(), Some("A TCP stream."));
        assert_eq!(info.kind, SymbolKind::Struct);
    }

    #[test]
    fn reference_counts_agree_with_and_without_the_term_table() {
        let mut index = WorkspaceIndex::new();
        for (path, text) in FILES {
            index.insert(FileEntry::new(path.to_string(), 0, extract(Lang::Rust, text, &parse(Lang::Rust, text, None))));
        }
        let without = reference_count(&index.snapshot(), "Map");
        let table = crate::index::terms::TermTable::build(&index.snapshot());
        index.set_term_table(std::sync::Arc::new(table));
        let text = "fn f() -> Map { Map::new() }\n";
        index.insert(FileEntry::new("src/f.rs".into(), 1, extract(Lang::Rust, text, &parse(Lang::Rust, text, None))));
        assert_eq!(reference_count(&index.snapshot(), "Map"), without + 2, "a file added after the table counts");
    }
}
