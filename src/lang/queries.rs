//! The `.scm` query files, compiled once per grammar into one combined pattern set (one
//! walk over the tree extracts symbols, references and imports; see `pattern`), with
//! capture names resolved to `Capture` values at load time.

use std::sync::OnceLock;

use super::pattern::PatternSet;
use super::Grammar;
use super::kinds::{ImportKind, RefRole, SymbolKind};

/// What a capture means, resolved from its name once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capture {
    /// The name node of a definition.
    Name,
    /// A definition node of the given kind.
    Def(SymbolKind),
    /// An identifier occurrence with its role.
    Ref(RefRole),
    /// The argument of a Rust `use` declaration (a use tree).
    UseTree,
    /// The name of an out-of-line Rust `mod foo;`.
    ModDecl,
    /// The name of a Rust `extern crate`.
    ExternCrate,
    /// A TS/JS statement or call that imports, of the given kind.
    ImportStatement(ImportKind),
    /// The module specifier of a TS/JS import (the string's contents).
    ImportSource,
    /// Captures used only by predicates.
    Ignored,
}

pub struct LangQueries {
    pub patterns: PatternSet,
    /// `Capture` for each capture index of `patterns`.
    pub captures: Vec<Capture>,
}

const RUST: &[&str] = &[
    include_str!("queries/rust/symbols.scm"),
    include_str!("queries/rust/references.scm"),
    include_str!("queries/rust/imports.scm"),
];
const TYPESCRIPT: &[&str] = &[
    include_str!("queries/typescript/symbols.scm"),
    include_str!("queries/typescript/references.scm"),
    include_str!("queries/typescript/imports.scm"),
];
const TSX: &[&str] = &[
    include_str!("queries/typescript/symbols.scm"),
    include_str!("queries/typescript/references.scm"),
    include_str!("queries/typescript/references-jsx.scm"),
    include_str!("queries/typescript/imports.scm"),
];

pub(super) fn for_grammar(grammar: Grammar) -> &'static LangQueries {
    static QUERIES: [OnceLock<LangQueries>; Grammar::COUNT] = [const { OnceLock::new() }; Grammar::COUNT];
    QUERIES[grammar as usize].get_or_init(|| compile(grammar, &sources(grammar)))
}

/// The query files of a grammar, concatenated.
pub(super) fn sources(grammar: Grammar) -> String {
    match grammar {
        Grammar::Rust => RUST,
        Grammar::TypeScript => TYPESCRIPT,
        Grammar::Tsx => TSX,
    }
    .concat()
}

fn compile(grammar: Grammar, source: &str) -> LangQueries {
    // The query files ship inside the binary and are checked by tests: an error here is a
    // bug in ctxls, not bad input.
    let patterns = PatternSet::new(&grammar.language(), source)
        .unwrap_or_else(|err| panic!("queries for {grammar:?} do not compile: {err}"));
    let captures = patterns
        .capture_names()
        .iter()
        .map(|name| {
            parse_capture(name).unwrap_or_else(|| panic!("unknown capture @{name} in {grammar:?} queries"))
        })
        .collect();
    LangQueries { patterns, captures }
}

fn parse_capture(name: &str) -> Option<Capture> {
    if name.starts_with('_') {
        return Some(Capture::Ignored);
    }
    let capture = match name {
        "name" => Capture::Name,
        "import.use" => Capture::UseTree,
        "import.mod" => Capture::ModDecl,
        "import.crate" => Capture::ExternCrate,
        "import.source" => Capture::ImportSource,
        "import.import" => Capture::ImportStatement(ImportKind::Import),
        "import.reexport" => Capture::ImportStatement(ImportKind::ReExport),
        "import.require" => Capture::ImportStatement(ImportKind::Require),
        "import.dynamic" => Capture::ImportStatement(ImportKind::Dynamic),
        _ => {
            if let Some(kind) = name.strip_prefix("def.") {
                Capture::Def(SymbolKind::from_capture(kind)?)
            } else if let Some(role) = name.strip_prefix("ref.") {
                Capture::Ref(RefRole::from_capture(role)?)
            } else {
                return None;
            }
        }
    };
    Some(capture)
}

#[cfg(test)]
mod tests {
    use super::*;

    use tree_sitter::{Query, QueryCursor, StreamingIterator};

    #[test]
    fn every_query_compiles() {
        for grammar in [Grammar::Rust, Grammar::TypeScript, Grammar::Tsx] {
            let queries = for_grammar(grammar);
            assert!(queries.patterns.pattern_count() > 10);
            // tree-sitter accepts the same text: the files stay real queries.
            let query = Query::new(&grammar.language(), &sources(grammar)).unwrap();
            assert_eq!(query.pattern_count(), queries.patterns.pattern_count());
        }
    }

    /// Matches as (pattern, [(capture name, byte range)]).
    type Matches = Vec<(usize, Vec<(String, (usize, usize))>)>;

    /// All matches as sorted (pattern, [(capture name, byte range)]) lists.
    fn ours(grammar: Grammar, text: &str) -> Matches {
        let queries = for_grammar(grammar);
        let tree = crate::lang::parse(lang_of(grammar), text, None);
        let mut out = Vec::new();
        queries.patterns.matches(tree.root_node(), text.as_bytes(), &mut |m| {
            let mut captures: Vec<_> = m
                .captures
                .iter()
                .map(|(c, n)| (queries.patterns.capture_names()[*c as usize].clone(), (n.start_byte(), n.end_byte())))
                .collect();
            captures.sort();
            out.push((m.pattern, captures));
        });
        out.sort();
        out
    }

    fn tree_sitters(grammar: Grammar, text: &str) -> Matches {
        let query = Query::new(&grammar.language(), &sources(grammar)).unwrap();
        let tree = crate::lang::parse(lang_of(grammar), text, None);
        let mut cursor = QueryCursor::new();
        let mut matches = cursor.matches(&query, tree.root_node(), text.as_bytes());
        let mut out = Vec::new();
        while let Some(m) = matches.next() {
            let mut captures: Vec<_> = m
                .captures()
                .iter()
                .map(|c| (query.capture_names()[c.index as usize].to_string(), (c.node.start_byte(), c.node.end_byte())))
                .collect();
            captures.sort();
            out.push((m.pattern_index, captures));
        }
        out.sort();
        out
    }

    fn lang_of(grammar: Grammar) -> crate::lang::Lang {
        match grammar {
            Grammar::Rust => crate::lang::Lang::Rust,
            Grammar::TypeScript => crate::lang::Lang::TypeScript,
            Grammar::Tsx => crate::lang::Lang::Tsx,
        }
    }

    /// The walk-based matcher finds exactly what tree-sitter's query engine finds, on
    /// ctxls's own sources (Rust) and on TypeScript/TSX samples.
    #[test]
    fn matches_agree_with_tree_sitter() {
        let mut rust_files = Vec::new();
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut stack = vec![src];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    rust_files.push(std::fs::read_to_string(path).unwrap());
                }
            }
        }
        assert!(rust_files.len() > 10);
        for text in &rust_files {
            assert_eq!(ours(Grammar::Rust, text), tree_sitters(Grammar::Rust, text));
        }
        // A longer check on any tree: CTXLS_ORACLE_CORPUS=DIR cargo test matches_agree.
        if let Ok(dir) = std::env::var("CTXLS_ORACLE_CORPUS") {
            let mut stack = vec![std::path::PathBuf::from(dir)];
            let mut checked = 0;
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(dir).unwrap() {
                    let path = entry.unwrap().path();
                    if path.is_dir() {
                        stack.push(path);
                        continue;
                    }
                    let grammar = match path.extension().and_then(|e| e.to_str()) {
                        Some("rs") => Grammar::Rust,
                        Some("ts") => Grammar::TypeScript,
                        Some("tsx" | "js") => Grammar::Tsx,
                        _ => continue,
                    };
                    let Ok(text) = std::fs::read_to_string(&path) else { continue };
                    if text.len() > 300_000 {
                        continue;
                    }
                    assert_eq!(ours(grammar, &text), tree_sitters(grammar, &text), "{}", path.display());
                    checked += 1;
                }
            }
            eprintln!("checked {checked} files against tree-sitter's query engine");
        }
        for (grammar, text) in [
            (Grammar::TypeScript, TS_SAMPLE),
            (Grammar::Tsx, TS_SAMPLE),
            (Grammar::Tsx, "export const App = () => <View a={b}><Item /></View>;\nconst { x, y: z } = require('./m');"),
            (Grammar::TypeScript, "broken ( { class X { m() {"),
        ] {
            assert_eq!(ours(grammar, text), tree_sitters(grammar, text), "{text}");
        }
    }

    const TS_SAMPLE: &str = r#"
import def, { a, b as c } from "./x";
import * as ns from "../y";
export { d } from "./z";
export * from "./all";
const { g, h: i } = require("./req");
const lazy = import("./lazy");
/** Doc. */
export interface Options { timeout?: number; retry(n: number): void }
export type Id = string | number;
export enum Color { Red, Green = 2 }
export abstract class Client<T> extends Base implements I {
  private cache = new Map<string, T>();
  abstract close(): void;
  async get(id: Id): Promise<T> { return this.cache.get(id)!; }
}
export const create = (o: Options): Client<unknown> => new ns.Client(o), other = 1;
export function helper(a: number) { return a.toString(); }
declare function declared(x: number): void;
declare const ambient: number;
var old = 1, older = 2;
namespace NS { export function inner() {} }
declare module "pkg" { export const v: number; }
function* gen() { yield 1; }
"#;
}
