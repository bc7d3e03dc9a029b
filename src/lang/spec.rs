//! The language table: every fact about a language that code outside its `.scm` queries
//! decides, one `LangSpec` per language (`Lang::spec`). Code asks the table instead of
//! comparing `Lang` values, so a new language is one more entry here, and the compiler
//! names every field it must fill (ARCHITECTURE.md has the checklist).

use super::Grammar;

/// What ctxls knows about one language beyond its grammar's queries.
#[derive(Debug)]
pub struct LangSpec {
    /// The language's name in logs, JSON output and the cache.
    pub name: &'static str,
    /// File extensions, without the dot.
    pub extensions: &'static [&'static str],
    /// The LSP `languageId`s of documents in this language (for documents without a
    /// path the extensions decide).
    pub language_ids: &'static [&'static str],
    /// The Markdown fence's language name for code of this language.
    pub fence: &'static str,
    /// Other names a prompt file's `languages` may give it (`rs`, `ts`, `js`).
    pub aliases: &'static [&'static str],
    /// The prompt file languages offered for this language's files: its name, and a
    /// language it extends (TSX files get `typescript` prompts).
    pub prompt_languages: &'static [&'static str],
    /// The tree-sitter grammar that parses it.
    pub(super) grammar: Grammar,
    /// The line comment prefix: excerpts and file names in a completion prompt are
    /// written as comments with it.
    pub line_comment: &'static str,
    /// How a documentation comment is written.
    pub doc: DocStyle,
    /// Which comment nodes right above an item are its documentation.
    pub doc_comments: DocComments,
    /// Node kinds that may stand before an item and belong to it (comments, attributes,
    /// decorators): kept with the item in chunks and incremental extraction.
    pub leading_trivia: &'static [&'static str],
    /// Node kinds whose members are chunked one by one when the item is long (impls,
    /// traits, modules; classes, interfaces, namespaces).
    pub containers: &'static [&'static str],
    /// Node kinds that wrap a declaration (`export`, `declare`): looked through for the
    /// container inside, and taken as the item a declaration's range and doc belong to.
    pub declaration_wrappers: &'static [&'static str],
    /// The macro invocation kind whose interior may hold items, parsed again as items
    /// (None: the language has no such macros).
    pub item_macro: Option<&'static str>,
    /// The symbol kind `Impl` names the implemented type (`impl<T> Trait for a::Foo<T>`
    /// is `Foo`).
    pub impl_names_type: bool,
    /// Separator between a container's name and a member's in qualified names.
    pub path_separator: &'static str,
    /// How a method names its own type's members besides `Type<separator>` (`self.`,
    /// `Self::`; `this.`): a call through one of them of a member the type lacks is a
    /// method still to write (next edit).
    pub own_member_prefixes: &'static [&'static str],
    /// Methods a type has without a definition of its own in the workspace (Rust's
    /// derives and blanket implementations: `clone`, `fmt`, `to_string`).
    pub implicit_methods: &'static [&'static str],
    /// Whether a class inherits members from a base class that may be any type of the
    /// workspace (TypeScript `extends`): then a member defined anywhere may be the one a
    /// call on the class reaches.
    pub inherits_members: bool,
    /// How imports name other files: the hook import resolution and the namespace and
    /// re-export rules follow.
    pub modules: ModuleSystem,
    /// Associated functions without `self` that return a type, and associated consts,
    /// are that type's constructors and constants (retrieval brings them with the type).
    pub associated_constructors: bool,
    /// Whether a function's signature names the types it returns after `->`, in the form
    /// retrieval reads (Rust's `-> Result<Self::Value, Error> where ...`): a returned
    /// workspace type's constructors rank with it. TypeScript's `): T` annotations are not
    /// read (false).
    pub returns_after_arrow: bool,
    /// What the post-processing lexer must know of literals and comments.
    pub lexer: LexerSyntax,
    /// Node kinds of string, char and template literals and block-only comments: a
    /// position strictly inside one is in text, not code.
    pub literal_kinds: &'static [&'static str],
    /// Node kinds of comments that may be line comments (text to the end of the line).
    pub comment_kinds: &'static [&'static str],
    /// The node kind of code inside a literal (`${...}` in a template literal).
    pub literal_code_kind: Option<&'static str>,
    /// Test files: file names and name endings and markers (beside the language-neutral
    /// test directories, see `is_test_path`).
    pub test_files: TestFiles,
    /// How unit tests are placed, in the words of a request for them.
    pub tests_placement: &'static str,
}

/// How a documentation comment is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocStyle {
    /// Every line starts with the marker (`///`).
    Lines { marker: &'static str },
    /// A `/** ... */` block with ` * ` continuation lines (JSDoc).
    Block,
}

impl DocStyle {
    /// How a request for documentation names the style.
    pub fn described(self) -> &'static str {
        match self {
            DocStyle::Lines { marker: "///" } => "`///` lines",
            DocStyle::Lines { .. } => "documentation comment lines",
            DocStyle::Block => "a `/** ... */` JSDoc block",
        }
    }

    /// One sentence as a documentation comment of one line.
    pub fn one_line(self, sentence: &str) -> String {
        match self {
            DocStyle::Lines { marker } => format!("{marker} {sentence}"),
            DocStyle::Block => format!("/** {sentence} */"),
        }
    }
}

/// Which comment nodes above an item are documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DocComments {
    /// Line comment kind and the prefixes that make it documentation (and the longer
    /// prefixes that do not, as `////`).
    pub line: Option<(&'static str, &'static [&'static str], &'static [&'static str])>,
    /// Block comment kind and its documentation prefix.
    pub block: Option<(&'static str, &'static str)>,
    /// Kinds skipped between a doc comment and its item (attributes).
    pub skipped: &'static [&'static str],
    /// A line ending with this closes an attribute: a doc comment may be above it.
    pub attribute_end: Option<char>,
}

impl DocComments {
    /// Whether a node of `kind` with text `raw` is a documentation comment; None when the
    /// node is skipped over (an attribute).
    pub fn is_doc(&self, kind: &str, raw: &str) -> Option<bool> {
        if self.skipped.contains(&kind) {
            return None;
        }
        let line = self.line.is_some_and(|(k, prefixes, not)| {
            k == kind && prefixes.iter().any(|p| raw.starts_with(p)) && !not.iter().any(|p| raw.starts_with(p))
        });
        let block = self.block.is_some_and(|(k, prefix)| k == kind && raw.starts_with(prefix));
        Some(line || block)
    }
}

/// How imports name other files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModuleSystem {
    /// `use` paths over `mod` declarations and crates (index::resolve's Rust rules).
    Rust,
    /// ES module specifiers, tsconfig paths, `export ... from` chains and namespace
    /// imports (index::resolve's TS/JS rules).
    EcmaScript,
}

/// What the post-processing lexer must know of a language's literals and comments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LexerSyntax {
    /// `/* */` comments nest.
    pub nested_block_comments: bool,
    /// `'` starts a string (else a char literal, a lifetime or a label).
    pub single_quoted_strings: bool,
    /// A `"` string ends at the end of its line when unclosed.
    pub strings_end_at_newline: bool,
    /// Backquoted template literals with `${ }` substitutions.
    pub template_literals: bool,
    /// `r"…"`, `r#"…"#`, `br"…"` raw strings.
    pub raw_strings: bool,
}

/// Test files of a language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TestFiles {
    /// Whole file names.
    pub names: &'static [&'static str],
    /// Endings of file names.
    pub suffixes: &'static [&'static str],
    /// Parts of file names.
    pub markers: &'static [&'static str],
}

impl TestFiles {
    pub fn matches(&self, file: &str) -> bool {
        self.names.contains(&file)
            || self.suffixes.iter().any(|s| file.ends_with(s))
            || self.markers.iter().any(|m| file.contains(m))
    }
}

pub(super) const RUST: LangSpec = LangSpec {
    name: "rust",
    extensions: &["rs"],
    language_ids: &["rust"],
    fence: "rust",
    aliases: &["rs"],
    prompt_languages: &["rust"],
    grammar: Grammar::Rust,
    line_comment: "//",
    doc: DocStyle::Lines { marker: "///" },
    doc_comments: DocComments {
        line: Some(("line_comment", &["///"], &["////"])),
        block: Some(("block_comment", "/**")),
        skipped: &["attribute_item"],
        attribute_end: Some(']'),
    },
    leading_trivia: &["line_comment", "block_comment", "attribute_item", "inner_attribute_item"],
    containers: &["impl_item", "trait_item", "mod_item"],
    declaration_wrappers: &[],
    item_macro: Some("macro_invocation"),
    impl_names_type: true,
    path_separator: "::",
    own_member_prefixes: &["self.", "Self::"],
    implicit_methods: &[
        "clone", "clone_from", "fmt", "default", "eq", "ne", "partial_cmp", "lt", "le", "gt", "ge", "cmp", "max", "min",
        "clamp", "hash", "serialize", "deserialize", "into", "try_into", "from", "try_from", "to_owned", "to_string",
        "borrow", "borrow_mut", "type_id",
    ],
    inherits_members: false,
    modules: ModuleSystem::Rust,
    associated_constructors: true,
    returns_after_arrow: true,
    lexer: LexerSyntax {
        nested_block_comments: true,
        single_quoted_strings: false,
        strings_end_at_newline: false,
        template_literals: false,
        raw_strings: true,
    },
    literal_kinds: &["string_literal", "raw_string_literal", "char_literal", "block_comment"],
    comment_kinds: &["line_comment"],
    literal_code_kind: None,
    // Rust compiles tests, benches and examples as crates of their own; `tests.rs` and
    // `*_test(s).rs` are test modules. `.test.` / `.spec.` names are kept for all
    // languages, as before the table.
    test_files: TestFiles { names: &["tests.rs"], suffixes: &["_test.rs", "_tests.rs"], markers: &[".test.", ".spec."] },
    tests_placement: " as a `#[cfg(test)] mod tests` module to append to the file",
};

/// TypeScript, TSX and JavaScript share everything but names, extensions and grammar.
const ECMASCRIPT: LangSpec = LangSpec {
    name: "typescript",
    extensions: &["ts", "mts", "cts"],
    language_ids: &["typescript"],
    fence: "typescript",
    aliases: &["ts"],
    prompt_languages: &["typescript"],
    grammar: Grammar::TypeScript,
    line_comment: "//",
    doc: DocStyle::Block,
    doc_comments: DocComments { line: Some(("comment", &["//"], &[])), block: Some(("comment", "/**")), skipped: &[], attribute_end: None },
    leading_trivia: &["comment", "decorator"],
    containers: &["class_declaration", "abstract_class_declaration", "interface_declaration", "internal_module", "module"],
    declaration_wrappers: &["export_statement", "ambient_declaration"],
    item_macro: None,
    impl_names_type: false,
    path_separator: ".",
    own_member_prefixes: &["this."],
    implicit_methods: &[],
    inherits_members: true,
    modules: ModuleSystem::EcmaScript,
    associated_constructors: false,
    returns_after_arrow: false,
    lexer: LexerSyntax {
        nested_block_comments: false,
        single_quoted_strings: true,
        strings_end_at_newline: true,
        template_literals: true,
        raw_strings: false,
    },
    literal_kinds: &["string", "template_string"],
    comment_kinds: &["comment"],
    literal_code_kind: Some("template_substitution"),
    test_files: TestFiles { names: &[], suffixes: &[], markers: &[".test.", ".spec."] },
    tests_placement: ", to append to the file",
};

pub(super) const TYPESCRIPT: LangSpec = ECMASCRIPT;

pub(super) const TSX: LangSpec = LangSpec {
    name: "tsx",
    extensions: &["tsx"],
    language_ids: &["typescriptreact"],
    fence: "tsx",
    aliases: &[],
    prompt_languages: &["tsx", "typescript"],
    grammar: Grammar::Tsx,
    ..ECMASCRIPT
};

/// JavaScript (with JSX) is parsed with the TSX grammar, which accepts it.
pub(super) const JAVASCRIPT: LangSpec = LangSpec {
    name: "javascript",
    extensions: &["js", "jsx", "mjs", "cjs"],
    language_ids: &["javascript", "javascriptreact"],
    fence: "javascript",
    aliases: &["js", "jsx"],
    prompt_languages: &["javascript"],
    grammar: Grammar::Tsx,
    ..ECMASCRIPT
};

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::lang::Lang;

    /// Every entry is reachable from its extensions and language ids, its name is the
    /// one the cache and JSON output use, and its grammar's queries compile.
    #[test]
    fn every_language_has_a_consistent_entry() {
        for lang in Lang::ALL {
            let spec = lang.spec();
            for ext in spec.extensions {
                assert_eq!(Lang::from_path(Path::new(&format!("a.{ext}"))), Some(lang), "{ext}");
            }
            for id in spec.language_ids {
                assert_eq!(Lang::from_language_id(id), Some(lang), "{id}");
            }
            assert_eq!(serde_json::to_value(lang).unwrap(), serde_json::json!(spec.name));
            for name in std::iter::once(&spec.name).chain(spec.aliases) {
                assert_eq!(Lang::from_name(name), Some(lang), "{name}");
            }
            assert!(spec.prompt_languages.contains(&spec.name), "{}", spec.name);
            assert!(!lang.queries().captures.is_empty(), "{}", spec.name);
            assert!(!spec.line_comment.is_empty() && !spec.leading_trivia.is_empty() && !spec.literal_kinds.is_empty());
        }
    }

    #[test]
    fn test_files_by_language() {
        let rust = Lang::Rust.spec().test_files;
        assert!(rust.matches("tests.rs") && rust.matches("parser_test.rs") && !rust.matches("testing.rs"));
        let ts = Lang::TypeScript.spec().test_files;
        assert!(ts.matches("cart.test.ts") && ts.matches("cart.spec.tsx") && !ts.matches("tests.rs"));
    }
}
