//! Fixture tests for extraction and resolution: a fixture is source text (several files
//! with `//- /path` headers), the expectation a compact rendering of what was extracted.

use expect_test::{expect, Expect};

use super::*;
use crate::lang::{parse, Lang};

fn extract_str(lang: Lang, text: &str) -> FileIndex {
    let tree = parse(lang, text, None);
    extract(lang, text, &tree)
}

fn render_symbols(file: &FileIndex, text: &str) -> String {
    let mut out = String::new();
    for s in &file.symbols {
        let depth = std::iter::successors(s.parent, |p| file.symbols[*p as usize].parent).count();
        let name_text = &text[s.name_range.as_usize()];
        out.push_str(&format!("{}{} {}", "  ".repeat(depth), s.kind, s.name));
        if name_text != s.name {
            out.push_str(&format!(" (name node {name_text:?})"));
        }
        if let Some(container) = &s.container {
            out.push_str(&format!(" in {container}"));
        }
        out.push_str(&format!(" | {}", s.signature()));
        if let Some(doc) = s.doc() {
            out.push_str(&format!(" | doc: {}", doc.replace('\n', "\\n")));
        }
        out.push('\n');
    }
    out
}

fn check_symbols(lang: Lang, text: &str, expect: Expect) {
    let file = extract_str(lang, text);
    expect.assert_eq(&render_symbols(&file, text));
}

fn check_references(lang: Lang, text: &str, expect: Expect) {
    let file = extract_str(lang, text);
    let rendered: Vec<String> =
        file.references.iter().map(|r| format!("{}:{}", file.reference_name(r), r.role)).collect();
    expect.assert_eq(&rendered.join(" "));
}

fn check_imports(lang: Lang, text: &str, expect: Expect) {
    let file = extract_str(lang, text);
    let mut out = String::new();
    for import in &file.imports {
        let names: Vec<String> = import
            .names
            .iter()
            .map(|n| match &n.alias {
                Some(alias) => format!("{} as {alias}", n.name),
                None => n.name.to_string(),
            })
            .collect();
        out.push_str(&format!(
            "{} {:?} [{}]{}\n",
            import.kind,
            import.source,
            names.join(", "),
            if import.glob { " glob" } else { "" }
        ));
    }
    expect.assert_eq(&out);
}

#[test]
fn rust_symbols() {
    check_symbols(
        Lang::Rust,
        r#"
/// A point.
#[derive(Debug)]
pub struct Point<T> { pub x: T, y: T }

pub enum Shape { Circle(f64), Square { side: f64 } }

pub trait Area {
    /// The area.
    fn area(&self) -> f64;
}

impl<T: Copy> Area for crate::geo::Point<T> where T: Into<f64> {
    fn area(&self) -> f64 { 0.0 }
}

mod inner {
    pub const MAX: usize = 10;
    static NAME: &str = "x";
    pub type Id = u64;
    macro_rules! m { () => {} }
    pub fn helper(
        a: u32,
        b: u32,
    ) -> u32 { a + b }
}
"#,
        expect![[r#"
            struct Point | pub struct Point<T> | doc: A point.
              field x in Point | pub x: T
              field y in Point | y: T
            enum Shape | pub enum Shape
              variant Circle in Shape | Circle(f64)
              variant Square in Shape | Square { side: f64 }
                field side in Shape::Square | side: f64
            trait Area | pub trait Area
              method area in Area | fn area(&self) -> f64; | doc: The area.
            impl Point (name node "crate::geo::Point<T>") | impl<T: Copy> Area for crate::geo::Point<T> where T: Into<f64>
              method area in Point | fn area(&self) -> f64
            module inner | mod inner
              const MAX in inner | pub const MAX: usize = 10;
              static NAME in inner | static NAME: &str = "x";
              type Id in inner | pub type Id = u64;
              macro m in inner | macro_rules! m { () => {} }
              function helper in inner | pub fn helper( a: u32, b: u32, ) -> u32
        "#]],
    );
}

#[test]
fn typescript_symbols() {
    check_symbols(
        Lang::TypeScript,
        r#"
/** Options for a client. */
export interface Options { timeout?: number; retry(n: number): void }
export type Id = string | number;
export enum Color { Red, Green = 2 }
export class Client<T> extends Base implements I {
  private cache = new Map<string, T>();
  constructor(readonly options: Options) { super(); }
  /** Fetch one. */
  async get(id: Id): Promise<T> { return this.cache.get(id)!; }
}
export const create = (o: Options): Client<unknown> => new Client(o);
export function helper(a: number) { return a; }
const local = 1;
namespace NS { export function inner() {} }
"#,
        expect![[r#"
            interface Options | export interface Options | doc: Options for a client.
              property timeout in Options | timeout?: number
              method retry in Options | retry(n: number): void
            type Id | export type Id = string | number;
            enum Color | export enum Color
              property Red in Color | Red
              property Green in Color | Green = 2
            class Client | export class Client<T> extends Base implements I
              property cache in Client | private cache = new Map<string, T>()
              method constructor in Client | constructor(readonly options: Options)
              method get in Client | async get(id: Id): Promise<T> | doc: Fetch one.
            function create | export const create = (o: Options): Client<unknown> => new Client(o)
            function helper | export function helper(a: number)
            variable local | const local = 1
            namespace NS | namespace NS
              function inner in NS | export function inner()
        "#]],
    );
}

/// Syntax the published grammar failed on (grammars/tree-sitter-typescript/PATCHES.md):
/// the interface and the overloaded constant used to be lost in ERROR nodes.
#[test]
fn typescript_symbols_behind_variance_and_overloads() {
    check_symbols(
        Lang::TypeScript,
        r#"
export interface Effect<out A, in E = never> {
  readonly value: A
  map<B>(f: (a: A) => B): Effect<B, E>
}
export const map: {
  <A, B>(f: (a: A) => B): (self: Effect<A>) => Effect<B>
  <A, B>(self: Effect<A>, f: (a: A) => B): Effect<B>
} = dual(2, impl)
export function after() {}
"#,
        expect![[r#"
            interface Effect | export interface Effect<out A, in E = never>
              property value in Effect | readonly value: A
              method map in Effect | map<B>(f: (a: A) => B): Effect<B, E>
            variable map | export const map: { <A, B>(f: (a: A) => B): (self: Effect<A>) => Effect<B> <A, B>(self: Effect<A>, f: (a: A) => B): Effect<B> } = dual(2, impl)
            function after | export function after()
        "#]],
    );
}

#[test]
fn broken_code_still_yields_symbols() {
    check_symbols(
        Lang::Rust,
        "fn ok() {}\nfn broken( {\nstruct After { a: u8 }\n",
        expect![[r#"
            function ok | fn ok()
            struct After | struct After
              field a in After | a: u8
        "#]],
    );
    let file = extract_str(Lang::Rust, "fn broken( {\n");
    assert!(file.error_count > 0);
    check_symbols(
        Lang::Tsx,
        "export function App() { return <div>{x}</div>; }\nfunction broken( {\nclass K { m() {} }\n",
        expect![[r#"
            function App | export function App()
            method m | m()
        "#]],
    );
}

#[test]
fn rust_items_in_each_branch_of_cfg_if() {
    // `cfg_if!`: every braced branch holds items (nested invocations too); the
    // conditions' attributes and a branch of non-items stay token trees.
    check_symbols(
        Lang::Rust,
        r#"
cfg_if::cfg_if! {
    if #[cfg(unix)] {
        /// Unix selector.
        pub struct Selector { fd: RawFd }
        mod unix;
    } else if #[cfg(windows)] {
        cfg_net! { pub(crate) struct Selector { port: Port } }
    } else {
        pub fn unsupported() -> ! { panic!() }
    }
}
cfg_if! { if #[cfg(x)] { a + b } }
impl Selector {
    cfg_if! {
        if #[cfg(unix)] { pub fn select(&self) {} } else { pub fn select(&self) { todo!() } }
    }
}
"#,
        expect![[r#"
            struct Selector | pub struct Selector | doc: Unix selector.
              field fd in Selector | fd: RawFd
            module unix | mod unix;
            struct Selector | pub(crate) struct Selector
              field port in Selector | port: Port
            function unsupported | pub fn unsupported() -> !
            impl Selector | impl Selector
              method select in Selector | pub fn select(&self)
              method select in Selector | pub fn select(&self)
        "#]],
    );
}

#[test]
fn rust_items_inside_item_macros() {
    // Items in `cfg_*!` and `pin_project!` invocations, nested ones, in a module and in an
    // impl; a macro's expression arguments and `macro_rules!` bodies stay token trees.
    let text = r#"
cfg_net! {
    /// A TCP stream.
    pub struct TcpStream { inner: IoSource<net::TcpStream> }
    use crate::io_source::IoSource;
}
pin_project! {
    /// A timeout.
    #[derive(Debug)]
    pub struct Timeout<F> { #[pin] inner: F, delay: Sleep }
}
cfg_rt! {
    cfg_unstable! {
        pub fn spawn_local() -> JoinHandle { todo() }
    }
}
mod inner {
    define_error! { pub enum Failure { Io(io::Error), Closed } }
}
impl Registration {
    cfg_io! {
        /// Registers.
        pub fn register(&self, token: Token) -> Result<()> { Ok(()) }
    }
}
macro_rules! cfg_io {
    ($($item:item)*) => { $( #[cfg(feature = "io")] $item )* }
}
fn body() {
    println!("{}", x);
    format! { "{}", y };
}
not_items! { a + b }
"#;
    check_symbols(
        Lang::Rust,
        text,
        expect![[r#"
            struct TcpStream | pub struct TcpStream | doc: A TCP stream.
              field inner in TcpStream | inner: IoSource<net::TcpStream>
            struct Timeout | pub struct Timeout<F> | doc: A timeout.
              field inner in Timeout | inner: F
              field delay in Timeout | delay: Sleep
            function spawn_local | pub fn spawn_local() -> JoinHandle
            module inner | mod inner
              enum Failure in inner | pub enum Failure
                variant Io in inner::Failure | Io(io::Error)
                variant Closed in inner::Failure | Closed
            impl Registration | impl Registration
              method register in Registration | pub fn register(&self, token: Token) -> Result<()> | doc: Registers.
            macro cfg_io | macro_rules! cfg_io { ($($item:item)*) => { $( #[cfg(feature = "io")] $item )* } }
            function body | fn body()
        "#]],
    );
    check_imports(Lang::Rust, text, expect![[r#"
        use "crate::io_source" [IoSource]
    "#]]);
    let file = extract_str(Lang::Rust, text);
    let roles: Vec<String> = file
        .references
        .iter()
        .filter(|r| ["IoSource", "Sleep", "JoinHandle", "todo", "a", "x"].contains(&file.reference_name(r)))
        .map(|r| format!("{}:{}", file.reference_name(r), r.role))
        .collect();
    assert_eq!(roles.join(" "), "IoSource:type IoSource:path Sleep:type JoinHandle:type todo:call x:other a:other");
    // The items are chunks of their own when the invocation is too long for one.
    let mut long = String::from("cfg_net! {\n");
    for i in 0..40 {
        long.push_str(&format!("    pub fn f{i}() {{\n        body();\n    }}\n"));
    }
    long.push_str("}\n");
    let file = extract_str(Lang::Rust, &long);
    assert_eq!(file.symbols.len(), 40);
    assert!(file.chunks.len() > 2, "{:?}", file.chunks);
    for chunk in &file.chunks {
        assert!(chunk.end_line - chunk.start_line < 60);
        assert_eq!(chunk.hash, crate::base::content_hash(long[chunk.range.as_usize()].as_bytes()));
    }
    let f39 = file.symbols.iter().position(|s| s.name == "f39").unwrap() as u32;
    assert!(file.chunks.iter().any(|c| c.symbol == Some(f39)), "{:?}", file.chunks);
}

#[test]
fn rust_references() {
    check_references(
        Lang::Rust,
        "fn f(p: Point) { let v = Vec::new(); p.x.len(); helper(); println!(\"{}\", v); a::b::c(); }",
        expect!["p:other Point:type v:other Vec:path new:call p:other x:member len:call helper:call println:macro v:other a:path b:path c:call"],
    );
}

#[test]
fn typescript_references() {
    check_references(
        Lang::Tsx,
        "function f(o: Opts) { const c = new Client(o); c.fetch(o.id); ns.run(); return <View x={c} />; }",
        expect!["o:other Opts:type c:other Client:call o:other c:path fetch:call o:path id:member ns:path run:call View:call c:other"],
    );
}

#[test]
fn rust_imports() {
    check_imports(
        Lang::Rust,
        "use std::collections::{HashMap, hash_map::Entry as E};\nuse crate::a::b::*;\nuse super::{self, x};\nuse foo;\nmod m;\nmod inline {}\nextern crate alloc;\n",
        expect![[r#"
            use "std::collections" [HashMap]
            use "std::collections::hash_map" [Entry as E]
            use "crate::a::b" [] glob
            use "" [super]
            use "super" [x]
            use "" [foo]
            mod "" [m]
            extern crate "" [alloc]
        "#]],
    );
}

#[test]
fn typescript_imports() {
    check_imports(
        Lang::TypeScript,
        r#"import def, { a, b as c } from "./x";
import * as ns from '../y';
import type { T } from "@app/types";
import "./side-effect";
export { d, e as f } from "./z";
export * from "./all";
export * as all2 from "./all2";
const { g, h: i } = require("./req");
const lazy = import("./lazy");
"#,
        expect![[r#"
            import "./x" [default as def, a, b as c]
            import "../y" [* as ns] glob
            import "@app/types" [T]
            import "./side-effect" []
            export from "./z" [d, e as f]
            export from "./all" [] glob
            export from "./all2" [* as all2] glob
            require "./req" [g, h as i]
            dynamic import "./lazy" []
        "#]],
    );
}

#[test]
fn chunks_cover_items_and_split_long_ones() {
    let mut text = String::from("use a::b;\nuse c::d;\n\n/// Doc.\nfn small() {}\n\nimpl Big {\n");
    for i in 0..40 {
        text.push_str(&format!("    fn m{i}() {{\n        body();\n    }}\n"));
    }
    text.push_str("}\n\nfn long() {\n");
    for _ in 0..130 {
        text.push_str("    step();\n");
    }
    text.push_str("}\n");
    let file = extract_str(Lang::Rust, &text);
    let spans: Vec<(u32, u32)> = file.chunks.iter().map(|c| (c.start_line, c.end_line)).collect();
    // Imports and the small function merge; the impl splits into its header and merged
    // methods; the long function splits into windows.
    assert_eq!(spans[0], (0, 4));
    assert_eq!(spans[1].0, 6, "the impl header starts a chunk: {spans:?}");
    assert!(spans.windows(2).all(|w| w[0].1 < w[1].0), "sorted, no overlap: {spans:?}");
    let long_start = text.lines().position(|l| l == "fn long() {").unwrap() as u32;
    let long: Vec<_> = spans.iter().filter(|s| s.0 >= long_start).collect();
    assert_eq!(long.len(), 3, "{long:?}");
    assert!(file.chunks.iter().all(|c| c.end_line - c.start_line < chunks::MAX_CHUNK_LINES));
    for chunk in &file.chunks {
        assert_eq!(chunk.hash, crate::base::content_hash(text[chunk.range.as_usize()].as_bytes()));
    }
}

/// Builds a snapshot from a multi-file fixture.
fn snapshot(fixture: &str) -> std::sync::Arc<IndexSnapshot> {
    let mut index = WorkspaceIndex::new();
    let mut configs = Vec::new();
    for part in fixture.split("//- /").skip(1) {
        let (path, text) = part.split_once('\n').unwrap();
        let path = path.trim();
        if path.ends_with("tsconfig.json") {
            let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
            configs.extend(TsConfig::parse(dir, text));
            continue;
        }
        let lang = Lang::from_path(std::path::Path::new(path)).unwrap();
        index.insert(FileEntry::new(path.to_string(), 0, extract_str(lang, text)));
    }
    index.set_ts_configs(configs);
    index.snapshot()
}

fn check_resolution(fixture: &str, from: &str, expect: Expect) {
    let snapshot = snapshot(fixture);
    let id = snapshot.file_id(from).unwrap();
    let entry = snapshot.file(id).unwrap();
    let mut out = String::new();
    for import in &entry.index().imports {
        let target = match snapshot.resolve_import(id, import) {
            Some(resolved) => {
                let path = &snapshot.file(resolved.file).unwrap().path;
                format!("{path} {:?}", resolved.item_path)
            }
            None => "unresolved".to_string(),
        };
        let name = import.names.first().map_or("*", |n| n.name.as_str());
        out.push_str(&format!("{}::{name} -> {target}\n", import.source));
    }
    expect.assert_eq(&out);
}

#[test]
fn rust_resolution() {
    let fixture = r#"
//- /crate/src/lib.rs
mod net;
pub mod util;
//- /crate/src/net/mod.rs
mod tcp;
use crate::util::Helper;
use self::tcp::Conn;
use super::util;
use util::helper_fn;
use std::io::Read;
//- /crate/src/net/tcp.rs
use super::super::util::Helper as H;
use crate::net::Missing;
pub struct Conn;
//- /crate/src/util.rs
pub struct Helper;
pub fn helper_fn() {}
"#;
    check_resolution(fixture, "crate/src/lib.rs", expect![[r#"
        ::net -> crate/src/net/mod.rs []
        ::util -> crate/src/util.rs []
    "#]]);
    check_resolution(fixture, "crate/src/net/mod.rs", expect![[r#"
        ::tcp -> crate/src/net/tcp.rs []
        crate::util::Helper -> crate/src/util.rs ["Helper"]
        self::tcp::Conn -> crate/src/net/tcp.rs ["Conn"]
        super::util -> crate/src/util.rs []
        util::helper_fn -> crate/src/util.rs ["helper_fn"]
        std::io::Read -> unresolved
    "#]]);
    check_resolution(fixture, "crate/src/net/tcp.rs", expect![[r#"
        super::super::util::Helper -> crate/src/util.rs ["Helper"]
        crate::net::Missing -> crate/src/net/mod.rs ["Missing"]
    "#]]);
}

#[test]
fn typescript_resolution() {
    let fixture = r#"
//- /web/tsconfig.json
{ "compilerOptions": { "baseUrl": ".", "paths": { "@lib/*": ["src/lib/*"] } } }
//- /web/src/app.ts
import { a } from "./util";
import { b } from "./components";
import { c } from "./esm.js";
import { d } from "@lib/d";
import { e } from "src/lib/d";
import React from "react";
export * from "../../outside";
//- /web/src/util.ts
export const a = 1;
//- /web/src/components/index.tsx
export const b = 2;
//- /web/src/esm.ts
export const c = 3;
//- /web/src/lib/d.ts
export const d = 4;
"#;
    check_resolution(fixture, "web/src/app.ts", expect![[r#"
        ./util::a -> web/src/util.ts []
        ./components::b -> web/src/components/index.tsx []
        ./esm.js::c -> web/src/esm.ts []
        @lib/d::d -> web/src/lib/d.ts []
        src/lib/d::e -> web/src/lib/d.ts []
        react::default -> unresolved
        ../../outside::* -> unresolved
    "#]]);
}

#[test]
fn fuzzy_search_ranks_exact_names_first() {
    let snapshot = snapshot(
        "//- /a.rs\nstruct Parser;\nfn parse_all() {}\nfn parser_for() {}\n//- /b.ts\nexport class ParserError {}\n",
    );
    let names: Vec<String> = fuzzy_symbols(&snapshot, "parser", 10)
        .iter()
        .map(|m| snapshot.file(m.file).unwrap().index().symbols[m.symbol as usize].name.to_string())
        .collect();
    assert_eq!(names[0], "Parser");
    assert!(names.contains(&"ParserError".to_string()) && names.contains(&"parser_for".to_string()));
    let qualified = fuzzy_symbols(&snapshot, "Parser::", 10);
    assert!(qualified.is_empty() || qualified.len() <= 10);
}

mod random_edits {
    //! The index after any sequence of incremental edits equals the index built from
    //! scratch on the final text.

    use proptest::prelude::*;

    use super::extract_str;
    use crate::base::TextRange;
    use crate::index::extract;
    use crate::lang::{Document, Lang, TextEdit};

    const RUST_SEED: &str = "use crate::a::{b, c as d};\n/// Doc.\npub struct S { x: u32 }\nimpl S {\n    fn new() -> Self { S { x: 1 } }\n    cfg_io! { pub fn io(&self) {} }\n}\ncfg_net! {\n    /// Net.\n    pub struct T(u8);\n    cfg_rt! { use b::c; fn g() {} }\n}\nfn main() { let s = S::new(); println!(\"{}\", s.x); }\n";
    const TS_SEED: &str = "import { a } from './a';\n/** Doc. */\nexport class C {\n  m(x: number): string { return `${x}é`; }\n}\nexport const f = (y: C) => y.m(1);\n";
    const FRAGMENTS: &[&str] = &[
        "fn ", "{", "}", "\n", "struct X;", "use a::b;", "é", "𝕏", "let x = 1;", "(", ")", "//", "/*", "*/", "\"",
        "impl Y { fn z(&self) {} }", "m! {", "pub ", "class K {}", "export ", "import { q } from './q';", " ", "=>", "<T>", ";",
    ];

    fn edit_strategy() -> impl Strategy<Value = (usize, usize, usize)> {
        (0usize..10_000, 0usize..12, 0usize..FRAGMENTS.len() + 1)
    }

    fn run(lang: Lang, seed: &str, edits: Vec<Vec<(usize, usize, usize)>>) -> Result<(), TestCaseError> {
        let mut doc = Document::new(lang, seed.to_string());
        let mut previous = extract(lang, doc.text(), doc.tree());
        for batch in edits {
            let mut shadow = doc.text().to_string();
            let mut text_edits = Vec::new();
            for (pos, delete, fragment) in batch {
                let start = pos % (shadow.len() + 1);
                let end = (start + delete).min(shadow.len());
                let insert = FRAGMENTS.get(fragment).copied().unwrap_or("");
                let edit = TextEdit { range: TextRange::new(start as u32, end as u32), text: insert.to_string() };
                // The document widens ranges that split a character; so does the shadow.
                let s = crate::lang::floor_char_boundary(&shadow, start);
                let e = crate::lang::ceil_char_boundary(&shadow, end.max(s));
                shadow.replace_range(s..e, insert);
                text_edits.push(edit);
            }
            doc.apply_edits(&text_edits);
            prop_assert_eq!(doc.text(), shadow.as_str());
            // Incremental extraction after one edit equals extraction of the whole tree.
            let whole = extract(lang, doc.text(), doc.tree());
            if let Some(change) = doc.last_change() {
                let incremental = crate::index::extract_incremental(lang, doc.text(), doc.tree(), &previous, change, crate::index::GeneratedFiles::Symbols);
                prop_assert_eq!(&incremental, &whole);
            }
            let fresh_tree = crate::lang::parse(lang, doc.text(), None);
            let fresh = extract_str(lang, doc.text());
            if !doc.is_unsettled() {
                // Valid code: the incremental tree is the fresh tree.
                prop_assert_eq!(doc.tree().root_node().to_sexp(), fresh_tree.root_node().to_sexp());
                prop_assert_eq!(&extract(lang, doc.text(), doc.tree()), &fresh);
            }
            // With syntax errors, settling (what the server does when typing pauses)
            // converges to the from-scratch index.
            doc.settle();
            prop_assert_eq!(doc.tree().root_node().to_sexp(), fresh_tree.root_node().to_sexp());
            previous = extract(lang, doc.text(), doc.tree());
            prop_assert_eq!(&previous, &fresh);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

        #[test]
        fn rust_edits(edits in prop::collection::vec(prop::collection::vec(edit_strategy(), 1..4), 1..25)) {
            run(Lang::Rust, RUST_SEED, edits)?;
        }

        #[test]
        fn typescript_edits(edits in prop::collection::vec(prop::collection::vec(edit_strategy(), 1..4), 1..25)) {
            run(Lang::Tsx, TS_SEED, edits)?;
        }
    }
}

#[test]
fn files_the_grammar_fails_on_are_extracted_in_segments() {
    // A half-written function at the top: the whole-file parse turns everything after it
    // into one ERROR node (as syntax newer than the grammar does in real files).
    let mut text = String::from("export function unfinished( {\n\n");
    for i in 0..200 {
        text.push_str(&format!("/** Doc {i}. */\nexport const fn{i} = <A>(self: Effect<A>): Effect<A> => self\n\n"));
    }
    let whole = crate::lang::parse(Lang::TypeScript, &text, None);
    assert!(mostly_error(&whole, text.len()), "the whole-file parse fails: {}", whole.root_node().to_sexp());
    let whole_index = extract(Lang::TypeScript, &text, &whole);
    let segmented = extract_segmented(Lang::TypeScript, &text, GeneratedFiles::Symbols);
    let names = |f: &FileIndex| f.symbols.iter().map(|s| s.name.to_string()).collect::<Vec<_>>();
    // The error stays in the first segment; the rest is extracted as if it were alone.
    assert!(names(&segmented).contains(&"fn199".to_string()), "{:?}", names(&segmented));
    assert!(segmented.symbols.len() > whole_index.symbols.len() + 100, "{} vs {}", segmented.symbols.len(), whole_index.symbols.len());
    let fn150 = segmented.symbols.iter().find(|s| s.name == "fn150").unwrap();
    assert_eq!(fn150.doc(), Some("Doc 150."));
    assert_eq!(&text[fn150.name_range.as_usize()], "fn150", "offsets are the file's");
    // Chunks and references point into the whole file too.
    for chunk in &segmented.chunks {
        assert_eq!(chunk.hash, crate::base::content_hash(text[chunk.range.as_usize()].as_bytes()));
    }
    assert!(segmented.references.iter().all(|r| text[r.range.as_usize()] == *segmented.reference_name(r)));
}

#[test]
fn top_level_segments_keep_docs_with_items() {
    let text = "use a;\n\n/// Doc.\nfn f() {\n}\n#[test]\nfn g() {}\nconst X: u8 = 1;\n";
    let segments = crate::lang::top_level_segments(text, 0);
    let starts: Vec<&str> = segments.iter().map(|s| text[s.as_usize()].lines().next().unwrap()).collect();
    assert_eq!(starts, ["use a;", "/// Doc.", "#[test]", "const X: u8 = 1;"]);
    assert_eq!(segments.last().unwrap().end as usize, text.len());
}

#[test]
fn the_name_table_follows_inserts_replacements_and_removals() {
    let mut index = WorkspaceIndex::new();
    let file = |path: &str, text: &str| FileEntry::new(path.into(), 0, extract_str(Lang::Rust, text));
    index.insert(file("a.rs", "fn parse() {}\nmacro_rules! m { () => {} }\n"));
    index.insert(file("b.rs", "fn parse() {}\nstruct Token;\n"));
    let before = index.snapshot();
    let (a, b) = (before.file_id("a.rs").unwrap(), before.file_id("b.rs").unwrap());
    assert_eq!(before.files_defining("parse"), [a, b]);
    assert_eq!(before.files_with_macros(), [a]);
    // Replacing a file with other names; the earlier snapshot keeps what it saw.
    index.insert(file("a.rs", "fn render() {}\n"));
    let after = index.snapshot();
    assert_eq!(after.files_defining("parse"), [b]);
    assert_eq!(after.files_defining("render"), [a]);
    assert!(after.files_with_macros().is_empty());
    assert_eq!(before.files_defining("parse"), [a, b], "snapshots are immutable");
    index.remove("b.rs");
    let last = index.snapshot();
    assert!(last.files_defining("parse").is_empty() && last.files_defining("Token").is_empty());
    // The same names again (a keystroke inside a body): nothing to change.
    index.insert(file("a.rs", "fn render() {\n    let x = 1;\n}\n"));
    let now = index.snapshot();
    assert_eq!(now.files_defining("render"), [a]);
    // The corpus statistics follow too.
    let chunks: u64 = now.files().map(|(_, e)| e.index().chunks.len() as u64).sum();
    let lines: u64 = now.files().flat_map(|(_, e)| e.index().chunks.iter().map(|c| u64::from(c.end_line - c.start_line + 1))).sum();
    assert_eq!((now.chunk_stats().chunks, now.chunk_stats().lines), (chunks, lines));
    assert_eq!(lines, 3);
}

/// `lines` lines of bindings: a constant on every line but every `gap`-th, which is blank.
fn bindings(lines: usize, gap: usize) -> String {
    (0..lines).map(|i| if gap > 0 && i % gap == gap - 1 { "\n".to_string() } else { format!("pub const C_{i}: u32 = BASE + {i};\n") }).collect()
}

/// Big and flat (500+ lines, a definition every two lines or less) is a generated
/// declaration file: its symbols (with signatures), imports and lines, no occurrences,
/// chunks or terms; anything smaller or less dense is indexed whole.
#[test]
fn generated_declaration_files_keep_their_symbols_only() {
    let mut text = String::from("use crate::base::BASE;\n");
    text.push_str(&bindings(GENERATED_MIN_LINES as usize - 2, 0));
    let file = extract_str(Lang::Rust, &text);
    assert_eq!(file.line_index.line_count(), GENERATED_MIN_LINES, "the last line is empty");
    assert!(file.generated);
    assert_eq!(file.symbols.len(), GENERATED_MIN_LINES as usize - 2);
    assert_eq!(file.symbols[7].signature(), "pub const C_7: u32 = BASE + 7;");
    assert_eq!(file.symbols_named("C_42").count(), 1, "found by name");
    assert_eq!(file.imports.len(), 1);
    assert!(file.names.is_empty() && file.references.is_empty() && file.chunks.is_empty() && file.terms.is_empty());
    assert_eq!(IndexStats::of(&file).generated, 1);

    // One line short of the size, or below the density: indexed whole.
    let short = extract_str(Lang::Rust, &bindings(GENERATED_MIN_LINES as usize - 2, 0));
    assert_eq!(short.line_index.line_count(), GENERATED_MIN_LINES - 1);
    assert!(!short.generated && !short.chunks.is_empty() && !short.terms.is_empty());
    assert!(short.references.iter().any(|r| short.reference_name(r) == "BASE"));
    // Two definitions in every three lines is dense enough; one in every three is not.
    assert!(extract_str(Lang::Rust, &bindings(900, 3)).generated);
    let code: String = (0..300).map(|i| format!("pub fn f{i}(a: u32) -> u32 {{\n    a + {i}\n}}\n")).collect();
    let code = extract_str(Lang::Rust, &code);
    assert_eq!(code.line_index.line_count(), 901);
    assert!(!code.generated && code.references.len() > 300 && !code.chunks.is_empty());
    assert_eq!(IndexStats::of(&code).generated, 0);
    // The same rule in TypeScript.
    let ts: String = (0..600).map(|i| format!("export declare const c{i}: number;\n")).collect();
    let ts = extract_str(Lang::TypeScript, &ts);
    assert!(ts.generated && ts.symbols.len() == 600 && ts.chunks.is_empty());
}

/// Parsed in segments (files of 64 KiB and more), a generated file gives the facts of one
/// parse; so does a big file that is not generated.
#[test]
fn generated_files_parsed_in_segments_give_the_facts_of_one_parse() {
    let code: String = (0..1500).map(|i| format!("pub fn f{i}(a: u32) -> u32 {{\n    a + BASE\n}}\n")).collect();
    for (text, generated) in [(bindings(3000, 0), true), (code, false)] {
        assert!(text.len() >= 64 * 1024);
        let whole = extract_str(Lang::Rust, &text);
        let segmented = extract_segmented(Lang::Rust, &text, GeneratedFiles::Symbols);
        assert_eq!(whole.generated, generated);
        assert_eq!(segmented.generated, whole.generated);
        assert_eq!(segmented.symbols, whole.symbols);
        assert_eq!(segmented.names, whole.names);
        assert_eq!(segmented.references, whole.references);
        assert_eq!(segmented.imports, whole.imports);
        assert_eq!(segmented.chunks.is_empty(), whole.generated);
    }
}

/// An edit in a generated file updates its symbols incrementally, equal to a full
/// extraction, and an edit that takes a file across the rule either way too.
#[test]
fn edits_in_generated_files_update_their_symbols_incrementally() {
    use crate::lang::{Document, TextEdit};
    let text = bindings(600, 0);
    let mut doc = Document::new(Lang::Rust, text.clone());
    let mut previous = extract(Lang::Rust, doc.text(), doc.tree());
    assert!(previous.generated);
    let at = |doc: &Document, needle: &str| doc.text().find(needle).unwrap() as u32;
    let edit = |doc: &mut Document, previous: &mut FileIndex, start: u32, end: u32, insert: &str| {
        doc.apply_edits(&[TextEdit { range: TextRange::new(start, end), text: insert.to_string() }]);
        let change = doc.last_change().expect("one edit");
        let incremental = extract_incremental(Lang::Rust, doc.text(), doc.tree(), previous, change, GeneratedFiles::Symbols);
        assert_eq!(incremental, extract(Lang::Rust, doc.text(), doc.tree()));
        *previous = incremental;
    };
    // A renamed constant, then a new one typed in the middle.
    let start = at(&doc, "C_300:") + 2;
    edit(&mut doc, &mut previous, start, start + 3, "RENAMED");
    assert!(previous.generated);
    assert_eq!(previous.symbols_named("C_RENAMED").count(), 1);
    assert_eq!(previous.symbols_named("C_300").count(), 0);
    let start = at(&doc, "pub const C_301");
    edit(&mut doc, &mut previous, start, start, "pub static TYPED: u8 = 0;\n");
    assert_eq!(previous.symbols.len(), 601);
    assert_eq!(previous.symbols_named("TYPED").count(), 1);
    assert!(previous.references.is_empty());
    // Half the constants turned into a function body: no longer flat, indexed whole.
    let (start, end) = (at(&doc, "pub const C_0:"), at(&doc, "pub const C_400:"));
    let body: String = (0..400).map(|i| format!("    let v{i} = BASE + {i};\n")).collect();
    edit(&mut doc, &mut previous, start, end, &format!("pub fn f() {{\n{body}}}\n"));
    assert!(!previous.generated);
    assert!(previous.references.iter().any(|r| previous.reference_name(r) == "BASE"));
    // And back.
    let (start, end) = (at(&doc, "pub fn f()"), at(&doc, "pub const C_400:"));
    edit(&mut doc, &mut previous, start, end, &bindings(400, 0));
    assert!(previous.generated);
}

/// With `generated_files = "full"` a generated declaration file is indexed like any
/// other, by whole, segmented and incremental extraction alike; an edit extracted
/// incrementally from facts of either setting gives exactly the facts of the setting
/// asked for (the server's open documents after the setting changed).
#[test]
fn generated_files_in_full_are_indexed_like_any_other() {
    use crate::lang::{Document, TextEdit};
    let text = bindings(600, 0);
    let tree = parse(Lang::Rust, &text, None);
    let full = extract_with(Lang::Rust, &text, &tree, GeneratedFiles::Full);
    let symbols_only = extract_with(Lang::Rust, &text, &tree, GeneratedFiles::Symbols);
    assert_eq!(symbols_only, extract(Lang::Rust, &text, &tree), "symbols only is the default");
    assert!(symbols_only.generated && symbols_only.references.is_empty() && symbols_only.chunks.is_empty());
    assert!(!full.generated);
    assert_eq!(full.symbols, symbols_only.symbols);
    assert_eq!(full.imports, symbols_only.imports);
    assert_eq!(full.references.iter().filter(|r| full.reference_name(r) == "BASE").count(), 600);
    assert!(!full.chunks.is_empty() && !full.terms.is_empty());
    assert_eq!(IndexStats::of(&full).generated, 0);

    // Parsed in segments (64 KiB and more): the facts of one parse.
    let big = bindings(3000, 0);
    let whole = extract_with(Lang::Rust, &big, &parse(Lang::Rust, &big, None), GeneratedFiles::Full);
    let segmented = extract_segmented(Lang::Rust, &big, GeneratedFiles::Full);
    assert!(big.len() >= 64 * 1024 && !whole.generated && !segmented.generated);
    assert_eq!(segmented.symbols, whole.symbols);
    assert_eq!(segmented.names, whole.names);
    assert_eq!(segmented.references, whole.references);
    assert!(!segmented.chunks.is_empty());
    assert!(extract_segmented(Lang::Rust, &big, GeneratedFiles::Symbols).generated);

    for base in [&symbols_only, &full] {
        for setting in [GeneratedFiles::Full, GeneratedFiles::Symbols] {
            let mut doc = Document::new(Lang::Rust, text.clone());
            let start = doc.text().find("C_300:").unwrap() as u32 + 2;
            doc.apply_edits(&[TextEdit { range: TextRange::new(start, start + 3), text: "RENAMED".to_string() }]);
            let change = doc.last_change().expect("one edit");
            let incremental = extract_incremental(Lang::Rust, doc.text(), doc.tree(), base, change, setting);
            assert_eq!(incremental, extract_with(Lang::Rust, doc.text(), doc.tree(), setting), "{setting:?} from generated: {}", base.generated);
            assert_eq!(incremental.generated, setting == GeneratedFiles::Symbols);
            assert_eq!(incremental.symbols_named("C_RENAMED").count(), 1);
        }
    }
}
