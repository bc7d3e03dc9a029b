//! The `.scm` query files, compiled once per grammar into one combined query (one pass over
//! the tree extracts symbols, references and imports), with capture names resolved to
//! `Capture` values at load time.

use std::sync::OnceLock;

use tree_sitter::Query;

use super::Grammar;
use crate::index::{ImportKind, RefRole, SymbolKind};

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
    pub query: Query,
    /// `Capture` for each capture index of `query`.
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
    static QUERIES: [OnceLock<LangQueries>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    QUERIES[grammar as usize].get_or_init(|| {
        let sources = match grammar {
            Grammar::Rust => RUST,
            Grammar::TypeScript => TYPESCRIPT,
            Grammar::Tsx => TSX,
        };
        compile(grammar, &sources.concat())
    })
}

fn compile(grammar: Grammar, source: &str) -> LangQueries {
    // The query files ship inside the binary and are checked by tests: an error here is a
    // bug in ctxls, not bad input.
    let query = Query::new(&grammar.language(), source)
        .unwrap_or_else(|err| panic!("query for {grammar:?} does not compile: {err}"));
    let captures = query
        .capture_names()
        .iter()
        .map(|name| {
            parse_capture(name).unwrap_or_else(|| panic!("unknown capture @{name} in {grammar:?} queries"))
        })
        .collect();
    LangQueries { query, captures }
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

    #[test]
    fn every_query_compiles() {
        for grammar in [Grammar::Rust, Grammar::TypeScript, Grammar::Tsx] {
            let queries = for_grammar(grammar);
            assert!(queries.query.pattern_count() > 10);
        }
    }
}
