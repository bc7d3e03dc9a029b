//! Fixture tests for retrieval: `//- /path` files, `$0` marks the cursor.

use std::collections::HashMap;
use std::sync::Arc;

use super::*;
use crate::index::{extract, FileEntry, IndexSnapshot, WorkspaceIndex};
use crate::lang::{parse, Lang};

pub(super) struct Fixture {
    pub(super) snapshot: Arc<IndexSnapshot>,
    pub(super) texts: HashMap<String, String>,
    pub(super) cursor: (String, u32),
}

pub(super) fn fixture(text: &str) -> Fixture {
    let mut index = WorkspaceIndex::new();
    let mut texts = HashMap::new();
    let mut cursor = None;
    for part in text.split("//- /").skip(1) {
        let (path, body) = part.split_once('\n').unwrap();
        let path = path.trim().to_string();
        let body = match body.find("$0") {
            Some(at) => {
                cursor = Some((path.clone(), at as u32));
                body.replacen("$0", "", 1)
            }
            None => body.to_string(),
        };
        let lang = Lang::from_path(std::path::Path::new(&path)).unwrap();
        let tree = parse(lang, &body, None);
        index.insert(FileEntry::new(path.clone(), 0, extract(lang, &body, &tree)));
        texts.insert(path, body);
    }
    Fixture { snapshot: index.snapshot(), texts, cursor: cursor.expect("a $0 cursor") }
}

/// A snippet's first line of code (the doc sentence packing may add above it skipped).
fn code_line(text: &str) -> String {
    text.lines().map(str::trim).find(|l| !l.starts_with("///") && !l.starts_with("/**")).unwrap_or("").to_string()
}

fn run(f: &Fixture, budget: usize) -> Vec<(String, String)> {
    let file = f.snapshot.file_id(&f.cursor.0).unwrap();
    let request = ContextRequest::new(file, f.cursor.1, budget);
    let snippets = retrieve(&f.snapshot, &request, &|t| t.len() / 4 + 1, &|id| {
        f.snapshot.file(id).and_then(|e| f.texts.get(&e.path).cloned())
    });
    snippets
        .iter()
        .map(|s| {
            let path = f.snapshot.file(s.file).unwrap().path.clone();
            (path, code_line(&s.text))
        })
        .collect()
}

const RUST: &str = r#"
//- /src/lib.rs
mod map;
mod error;
mod other;
//- /src/map.rs
/// An ordered map.
pub struct Map { inner: Vec<(String, u32)> }
impl Map {
    pub fn new() -> Map { Map { inner: Vec::new() } }
    pub fn insert(&mut self, k: String, v: u32) {}
}
//- /src/other.rs
pub struct Unrelated;
pub fn new() -> Unrelated { Unrelated }
//- /src/error.rs
pub enum Error { Eof, Syntax }
//- /src/de.rs
use crate::map::Map;
use crate::error::Error;
struct Deserializer;
impl Deserializer {
    fn parse_object(&mut self) -> Result<Map, Error> {$0}
    fn helper(&self) { let m = Map::new(); }
}
"#;

#[test]
fn definitions_reached_through_rust_imports() {
    let f = fixture(RUST);
    let got = run(&f, 2048);
    let files: Vec<&str> = got.iter().map(|(p, _)| p.as_str()).collect();
    assert!(got.contains(&("src/map.rs".to_string(), "pub struct Map { inner: Vec<(String, u32)> }".to_string())), "{got:?}");
    assert!(got.contains(&("src/error.rs".to_string(), "pub enum Error { Eof, Syntax }".to_string())), "{got:?}");
    // `Map::new` in a sibling method: the qualifier picks Map's `new`, not other.rs's.
    let new_map = got.iter().position(|(p, l)| p == "src/map.rs" && l.starts_with("pub fn new"));
    let new_other = got.iter().position(|(p, l)| p == "src/other.rs" && l.starts_with("pub fn new"));
    assert!(new_map.is_some(), "{got:?}");
    assert!(new_other.is_none_or(|o| o > new_map.unwrap()), "{got:?}");
    assert!(!files.contains(&"src/de.rs"), "the current file is already in the prompt");
}

#[test]
fn typescript_imports_and_budget() {
    let f = fixture(
        r#"
//- /src/types.ts
export interface Options { retries: number; timeout: number }
export function defaults(): Options { return { retries: 1, timeout: 2 }; }
//- /src/index.ts
export { defaults } from "./types";
//- /src/client.ts
import { Options } from "./types";
import { defaults } from "./index";
export class Client {
  constructor(private options: Options = defaults()) {}
  fetch(url: string): Promise<string> {$0}
}
"#,
    );
    let got = run(&f, 2048);
    assert!(got.iter().any(|(p, l)| p == "src/types.ts" && l.starts_with("export interface Options")), "{got:?}");
    assert!(got.iter().any(|(p, l)| p == "src/types.ts" && l.starts_with("export function defaults")), "{got:?}");
    // A tiny budget keeps the best snippet only, and never exceeds the budget.
    let file = f.snapshot.file_id("src/client.ts").unwrap();
    for budget in [0, 5, 12, 40] {
        let request = ContextRequest::new(file, f.cursor.1, budget);
        let snippets = retrieve(&f.snapshot, &request, &|t| t.len() / 4 + 1, &|id| f.snapshot.file(id).and_then(|e| f.texts.get(&e.path).cloned()));
        assert!(snippets.iter().map(|s| s.tokens).sum::<usize>() <= budget);
    }
}

#[test]
fn retrieval_is_deterministic() {
    let f = fixture(RUST);
    let first = run(&f, 2048);
    for _ in 0..5 {
        assert_eq!(run(&f, 2048), first);
    }
}

/// Snippets as (path, first line, sources) for `generators`, with `recency` and vector hits.
fn run_with(f: &Fixture, budget: usize, generators: Generators, recency: &Recency, vector_hits: &[(u64, f32)], query: Option<&str>) -> Vec<(String, String, Vec<&'static str>)> {
    let file = f.snapshot.file_id(&f.cursor.0).unwrap();
    let request = ContextRequest { file, offset: f.cursor.1, query, budget_tokens: budget, generators, recency, vector_hits, cache: None, packing: Packing::Compact };
    retrieve(&f.snapshot, &request, &|t| t.len() / 4 + 1, &|id| f.snapshot.file(id).and_then(|e| f.texts.get(&e.path).cloned()))
        .into_iter()
        .map(|s| (f.snapshot.file(s.file).unwrap().path.clone(), s.text, s.sources))
        .collect()
}

#[test]
fn a_typescript_re_export_chain_leads_to_the_definition() {
    let f = fixture(
        r#"
//- /src/core/options.ts
export function defaults(): Options { return { retries: 1 }; }
//- /src/core/index.ts
export { defaults } from "./options";
//- /src/index.ts
export * from "./core/index";
//- /src/legacy/defaults.ts
export function defaults(): string { return "legacy"; }
//- /src/legacy/more.ts
export function defaults(): number { return 0; }
//- /src/app/client.ts
import { defaults } from "../index";
export function connect() {
  const options = defaults();$0
}
"#,
    );
    let got = run(&f, 2048);
    let first = got.iter().position(|(_, l)| l.starts_with("export function defaults"));
    assert_eq!(first.map(|i| got[i].0.as_str()), Some("src/core/options.ts"), "{got:?}");
}

#[test]
fn a_method_of_the_receivers_type_comes_before_namesakes() {
    let f = fixture(
        r#"
//- /src/lib.rs
mod parser;
mod set;
//- /src/set.rs
pub struct Set;
impl Set {
    pub fn insert(&mut self, v: u32) -> bool { true }
}
//- /src/parser.rs
pub struct Parser;
impl Parser {
    pub fn insert(&mut self, token: Token) -> usize { 0 }
}
//- /src/driver.rs
use crate::parser::Parser;
fn drive(parser: &mut Parser) {
    parser.insert(next());$0
}
"#,
    );
    let got = run(&f, 2048);
    let parser = got.iter().position(|(p, l)| p == "src/parser.rs" && l.starts_with("pub fn insert"));
    let set = got.iter().position(|(p, l)| p == "src/set.rs" && l.starts_with("pub fn insert"));
    assert!(parser.is_some(), "{got:?}");
    assert!(set.is_none_or(|s| s > parser.unwrap()), "{got:?}");
}

const LEXICAL: &str = r#"
//- /src/backoff.rs
/// Delay before the next attempt.
pub fn jittered_backoff_delay(attempt: u32) -> u64 { 100 << attempt }
//- /src/parse.rs
pub fn unrelated_parse(input: &str) -> u32 { 0 }
pub fn other_parse(input: &str) -> u32 { 1 }
//- /src/client.rs
fn send(&self) {
    let backoff_delay = self.retry_backoff_delay;
    let attempt = 0;$0
}
"#;

#[test]
fn a_lexical_only_match_is_found_by_shared_words() {
    let f = fixture(LEXICAL);
    let symbol_only = run_with(&f, 2048, Generators::only(Generator::Symbol), &Recency::default(), &[], None);
    assert!(!symbol_only.iter().any(|(_, l, _)| l.contains("jittered_backoff_delay")), "no name resolves: {symbol_only:?}");
    let got = run_with(&f, 2048, Generators::ALL, &Recency::default(), &[], None);
    let hit = got.iter().find(|(_, l, _)| l.contains("pub fn jittered_backoff_delay"));
    assert_eq!(hit.map(|h| h.2.clone()), Some(vec!["lexical"]), "{got:?}");
    assert!(!got.iter().any(|(_, l, _)| l.contains("unrelated_parse")), "{got:?}");
}

#[test]
fn vector_hits_become_snippets() {
    let f = fixture(LEXICAL);
    let parse = f.snapshot.file(f.snapshot.file_id("src/parse.rs").unwrap()).unwrap();
    let chunk = parse.index().chunks.first().map(|c| c.hash).expect("a chunk for unrelated_parse");
    let got = run_with(&f, 2048, Generators::only(Generator::Vector), &Recency::default(), &[(chunk, 0.9)], None);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0].0.as_str(), got[0].2.clone()), ("src/parse.rs", vec!["vector"]));
    assert!(got[0].1.contains("pub fn unrelated_parse(input: &str) -> u32 { 0 }"), "{got:?}");
}

/// The vector generator finds a hit's chunks through the index's chunk table: the same
/// hits, in the same order, as a scan of every file's chunks (the way it was found
/// before): chunks shared by several files and twice in one, a hit below the
/// similarity floor, an unknown hash, the cursor's own file left out.
#[test]
fn vector_hits_through_the_chunk_table_are_those_of_a_scan() {
    // Items of 30 lines: each its own chunk (small neighbours are merged).
    let body: String = (0..28).map(|i| format!("    let v{i} = x + {i};\n")).collect();
    let shared = format!("pub fn shared_helper(x: u32) -> u32 {{\n{body}}}\n");
    let a_only = format!("pub fn a_only(x: u32) -> u32 {{\n{body}}}\n");
    let f = fixture(&format!(
        "//- /src/a.rs\n{shared}\n{a_only}\n{shared}//- /src/b.rs\n{shared}//- /src/empty.rs\n//- /src/c.rs\n{shared}\nfn here() {{ $0 }}\n"
    ));
    let hash_of = |path: &str, i: usize| f.snapshot.file(f.snapshot.file_id(path).unwrap()).unwrap().chunks()[i].hash;
    let (shared_hash, a_only) = (hash_of("src/b.rs", 0), hash_of("src/a.rs", 1));
    assert_eq!(hash_of("src/c.rs", 0), shared_hash);
    let file = f.snapshot.file_id("src/c.rs").unwrap();
    let scan = |request: &ContextRequest| {
        let wanted: HashMap<u64, usize> =
            request.vector_hits.iter().enumerate().filter(|(_, (_, s))| *s >= MIN_SIMILARITY).map(|(i, (h, _))| (*h, i)).collect();
        let mut found = Vec::new();
        for (id, entry) in f.snapshot.files() {
            for (i, chunk) in entry.chunks().iter().enumerate() {
                match wanted.get(&chunk.hash) {
                    Some(&rank) if id != request.file => found.push((rank, id, i as u32)),
                    _ => {}
                }
            }
        }
        found.sort();
        found
            .into_iter()
            .map(|(rank, id, chunk)| (id, chunk_target(f.snapshot.file(id).unwrap().light(), chunk), request.vector_hits[rank].1))
            .collect::<Vec<_>>()
    };
    for hits in [
        vec![(shared_hash, 0.9), (a_only, 0.5)],
        vec![(a_only, 0.95), (shared_hash, 0.3), (12345, 0.9)],
        vec![(shared_hash, 0.1), (a_only, 0.25)],
        vec![(shared_hash, 0.19)],
    ] {
        let request = ContextRequest { vector_hits: &hits, ..ContextRequest::new(file, f.cursor.1, 2048) };
        let got: Vec<_> = vector_hits(&f.snapshot, &request).into_iter().map(|h| (h.file, h.target, h.why)).collect();
        let expected = scan(&request);
        assert_eq!(got.len(), expected.len(), "{hits:?}");
        for ((file, target, why), (e_file, e_target, similarity)) in got.iter().zip(&expected) {
            assert_eq!((file, target), (e_file, e_target), "{hits:?}");
            assert!(why.contains(&format!("{similarity:.2}")), "{why}");
        }
        if hits[0] == (shared_hash, 0.9) {
            assert_eq!(got.len(), 4, "a.rs twice, b.rs, a.rs's own chunk; not c.rs: {got:?}");
        }
    }
}

#[test]
fn recent_changes_bring_the_definitions_they_touch() {
    let f = fixture(LEXICAL);
    let recency = Recency { changed: vec![ChangedFile { path: "src/parse.rs".into(), lines: vec![(0, 0)] }], ..Recency::default() };
    let got = run_with(&f, 2048, Generators::only(Generator::Recency), &recency, &[], None);
    assert_eq!(got, vec![("src/parse.rs".to_string(), "pub fn unrelated_parse(input: &str) -> u32 { 0 }".to_string(), vec!["recency"])], "only what the change touched");
    // An untracked file (no line ranges): its top-level definitions.
    let recency = Recency { changed: vec![ChangedFile { path: "src/parse.rs".into(), lines: vec![] }], ..Recency::default() };
    assert_eq!(run_with(&f, 2048, Generators::only(Generator::Recency), &recency, &[], None).len(), 2);
}

#[test]
fn the_query_names_what_is_wanted() {
    let f = fixture(LEXICAL);
    let got = run_with(&f, 2048, Generators::ALL, &Recency::default(), &[], Some("parse the input"));
    assert!(got.iter().any(|(_, l, _)| l.contains("unrelated_parse")), "{got:?}");
}

/// A workspace of `files` small Rust files over a small vocabulary (so that some words
/// are common and some rare), deterministic for a seed.
fn vocabulary_file(seed: u64, functions: usize) -> String {
    const WORDS: &[&str] = &["parse", "token", "span", "buffer", "read", "write", "error", "retry", "backoff", "cursor", "frame", "header", "stream", "limit", "window"];
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut next = |n: usize| {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((state >> 33) % n as u64) as usize
    };
    let mut text = String::new();
    for f in 0..functions {
        let name = format!("{}_{}_{f}", WORDS[next(WORDS.len())], WORDS[next(WORDS.len())]);
        let calls: Vec<String> = (0..1 + next(4)).map(|_| format!("{}{}()", WORDS[next(WORDS.len())], WORDS[next(3)].to_uppercase())).collect();
        text.push_str(&format!("pub fn {name}() {{\n    {};\n}}\n", calls.join(";\n    ")));
    }
    text
}

fn lexical_hits(snapshot: &IndexSnapshot, path: &str) -> Vec<String> {
    let file = snapshot.file_id(path).unwrap();
    let offset = snapshot.file(file).unwrap().index().symbols[0].range.start + 12;
    let request = ContextRequest::new(file, offset, 1024);
    lexical::generate(snapshot, &request).iter().map(|h| format!("{:?} {:?} {}", h.file, h.target, h.why)).collect()
}

#[test]
fn the_term_table_gives_what_the_scan_gives_as_files_change() {
    let insert = |index: &mut WorkspaceIndex, path: &str, text: &str| {
        let tree = parse(Lang::Rust, text, None);
        index.insert(FileEntry::new(path.to_string(), 0, extract(Lang::Rust, text, &tree)));
    };
    let (mut scanned, mut tabled) = (WorkspaceIndex::new(), WorkspaceIndex::new());
    for i in 0..30 {
        let text = vocabulary_file(i, 3);
        insert(&mut scanned, &format!("src/f{i}.rs"), &text);
        insert(&mut tabled, &format!("src/f{i}.rs"), &text);
    }
    let table = Arc::new(crate::index::terms::TermTable::build(&tabled.snapshot()));
    tabled.set_term_table(Arc::clone(&table));
    let compare = |scanned: &mut WorkspaceIndex, tabled: &mut WorkspaceIndex, step: &str| {
        let (a, b) = (scanned.snapshot(), tabled.snapshot());
        assert!(b.term_table().is_some());
        for path in ["src/f0.rs", "src/f7.rs", "src/f29.rs"] {
            let hits = lexical_hits(&a, path);
            assert!(!hits.is_empty(), "{step}: the fixture has shared words");
            assert_eq!(hits, lexical_hits(&b, path), "{step}: {path}");
        }
    };
    compare(&mut scanned, &mut tabled, "as built");
    assert_eq!(table.stale_files(&tabled.snapshot()), 0);
    // Changed, added and removed files: the table's old counts of them must not count.
    for i in [3, 7, 11] {
        let text = vocabulary_file(100 + i, 4);
        insert(&mut scanned, &format!("src/f{i}.rs"), &text);
        insert(&mut tabled, &format!("src/f{i}.rs"), &text);
    }
    for i in 30..33 {
        let text = vocabulary_file(i, 2);
        insert(&mut scanned, &format!("src/f{i}.rs"), &text);
        insert(&mut tabled, &format!("src/f{i}.rs"), &text);
    }
    assert!(scanned.remove("src/f5.rs") && tabled.remove("src/f5.rs"));
    assert_eq!(table.stale_files(&tabled.snapshot()), 3 + 3 + 1);
    compare(&mut scanned, &mut tabled, "after changes");
}

#[test]
fn a_namespace_member_resolves_through_a_two_level_barrel() {
    let f = fixture(
        r#"
//- /src/data/option.ts
/** Wraps a value. */
export const some = <A>(value: A): Option<A> => ({ _tag: "Some", value })
export const none = (): Option<never> => ({ _tag: "None" })
//- /src/data/index.ts
export * from "./option.js"
//- /src/index.ts
export * as Option from "./data/index.js"
export { some as just } from "./data/index.js"
//- /src/result.ts
export const some = (n: number) => n
//- /src/stream.ts
export const some = (s: string) => s
//- /src/other/some.ts
export function some(): void {}
//- /src/app/main.ts
import * as Direct from "../data/option.js"
import { Option, just } from "../index.js"
export function run(x: number) {
  return Option.some(x)$0
}
export function other() { return just(1) && Direct.none() }
"#,
    );
    let got = run(&f, 2048);
    assert!(got[0].0 == "src/data/option.ts" && got[0].1.starts_with("export const some"), "{got:?}");
    let graph = run_with(&f, 2048, Generators::only(Generator::Symbol), &Recency::default(), &[], None);
    let some: Vec<&str> = graph.iter().filter(|(_, l, _)| l.contains("some")).map(|(p, _, _)| p.as_str()).collect();
    assert_eq!(some, ["src/data/option.ts"], "the graph proposes the namespace's member, not its namesakes: {graph:?}");
    // A namespace import of the module itself, and a renamed re-export.
    assert!(got.iter().any(|(p, l)| p == "src/data/option.ts" && l.starts_with("export const none")), "{got:?}");
    let resolver = crate::index::ModuleResolver::new(&f.snapshot);
    let main = f.snapshot.file_id("src/app/main.ts").unwrap();
    let option = f.snapshot.file_id("src/data/option.ts").unwrap();
    let barrel = f.snapshot.file_id("src/index.ts").unwrap();
    assert_eq!(resolver.namespace_module(main, "Option"), f.snapshot.file_id("src/data/index.ts"));
    assert_eq!(resolver.exported_definitions(barrel, "just").iter().map(|d| d.0).collect::<Vec<_>>(), [option]);
}

#[test]
fn a_path_through_a_type_finds_its_impl_in_another_file() {
    let f = fixture(
        r#"
//- /src/lib.rs
mod error;
mod timeout;
mod driver;
mod other;
//- /src/error.rs
pub struct Error { kind: Kind }
pub enum Kind { Io, Timeout }
//- /src/timeout.rs
use super::*;
impl Error {
    /// A timeout error.
    pub(crate) fn new_timeout() -> Error { Error { kind: Kind::Timeout } }
}
//- /src/other.rs
pub struct Deadline;
impl Deadline {
    pub(crate) fn new_timeout() -> Deadline { Deadline }
}
pub enum Other { Io }
//- /src/registration.rs
pub struct Registration;
impl Registration {
    pub const CAPACITY: usize = 64;
}
//- /src/tests/support.rs
pub fn new_timeout() -> u32 { 0 }
//- /src/driver.rs
use crate::error::{Error, Kind};
use crate::registration::Registration;
impl Registration {
    fn poll(&self) -> Result<(), Error> {
        let cap = Self::CAPACITY;
        if cap == 0 { return Err(Error::new_timeout()); }
        Err(Kind::Io)$0
    }
}
"#,
    );
    let got = run(&f, 2048);
    let position = |path: &str, start: &str| got.iter().position(|(p, l)| p == path && l.starts_with(start));
    let error_impl = position("src/timeout.rs", "pub(crate) fn new_timeout").expect(&format!("{got:?}"));
    assert!(position("src/other.rs", "pub(crate) fn new_timeout").is_none_or(|o| o > error_impl), "{got:?}");
    assert!(position("src/registration.rs", "pub const CAPACITY").is_some(), "{got:?}");
    let io = position("src/error.rs", "pub enum Kind").expect(&format!("{got:?}"));
    assert!(position("src/other.rs", "pub enum Other").is_none_or(|o| o > io), "{got:?}");
    assert!(position("src/tests/support.rs", "pub fn new_timeout").is_none(), "library code never uses tests: {got:?}");
}

#[test]
fn items_inside_item_macros_are_retrieved() {
    let f = fixture(
        r#"
//- /src/lib.rs
cfg_net! {
    pub mod net;
}
//- /src/net/tcp.rs
cfg_net! {
    /// A TCP stream.
    pub struct TcpStream { inner: u32 }
}
pin_project! {
    pub struct Connecting<F> {
        #[pin]
        future: F,
    }
}
//- /src/driver.rs
use crate::net::tcp::{Connecting, TcpStream};
fn connect(stream: TcpStream) -> Connecting<u32> {$0}
"#,
    );
    let got = run(&f, 2048);
    assert!(got.iter().any(|(p, l)| p == "src/net/tcp.rs" && l.starts_with("pub struct TcpStream")), "{got:?}");
    assert!(got.iter().any(|(p, l)| p == "src/net/tcp.rs" && l.starts_with("pub struct Connecting")), "{got:?}");
}

#[test]
fn snippets_carry_the_first_doc_sentence_and_short_bodies_when_the_budget_allows() {
    let f = fixture(
        r#"
//- /src/util.rs
/// Clamps a value. Values above the limit become the limit.
pub fn clamp(v: u32, limit: u32) -> u32 {
    v.min(limit)
}
/// Sums four numbers.
pub fn long_one() -> u32 {
    let a = 1;
    let b = 2;
    let c = 3;
    let d = 4;
    a + b + c + d
}
//- /src/main.rs
use crate::util::{clamp, long_one};
fn main() { clamp(1, 2); long_one();$0 }
"#,
    );
    let texts = |budget| {
        let mut got: Vec<String> = run_with(&f, budget, Generators::only(Generator::Symbol), &Recency::default(), &[], None).into_iter().map(|s| s.1).collect();
        got.sort();
        got
    };
    assert_eq!(
        texts(2048),
        [
            "/// Clamps a value.\npub fn clamp(v: u32, limit: u32) -> u32 {\n    v.min(limit)\n}",
            "/// Sums four numbers.\npub fn long_one() -> u32 {",
        ]
    );
    // Signatures first: with no budget left, nothing is added.
    assert_eq!(texts(20), ["pub fn clamp(v: u32, limit: u32) -> u32 {", "pub fn long_one() -> u32 {"]);
}

#[test]
fn parameters_declare_their_types() {
    assert_eq!(
        super::symbol::parameter_types("fn drive(&mut self, parser: &mut Parser<'a>, buf: &'a [u8], mut set: crate::set::Set, cb: impl Fn(u32) -> bool)"),
        [("parser", "Parser"), ("set", "Set"), ("cb", "Fn")]
    );
    assert_eq!(super::symbol::parameter_types("function f(o: ns.Opts, n: number)"), [("o", "Opts")]);
    assert_eq!(super::symbol::parameter_types("fn none()"), []);
}

#[test]
fn a_type_of_the_same_name_in_another_module_is_another_type() {
    let f = fixture(
        r#"
//- /src/dense.rs
pub struct DFA;
impl DFA { pub fn write_to(&self) {} }
//- /src/ext.rs
impl crate::sparse::DFA { pub fn extra(&self) {} }
//- /src/user.rs
use crate::dense::DFA;
fn f(d: DFA) {}
//- /src/sparse.rs
pub struct DFA;
impl DFA {
    fn g(&self) { Self::write_to(self); }$0
}
"#,
    );
    let id = |p: &str| f.snapshot.file_id(p).unwrap();
    let none = rustc_hash::FxHashMap::default();
    let same = |from: &str, def: &str| super::symbol::same_type(&f.snapshot, id(from), &none, "DFA", id(def));
    assert!(!same("src/sparse.rs", "src/dense.rs"), "sparse's DFA is its own");
    assert!(same("src/sparse.rs", "src/ext.rs"), "an impl in a file without a DFA of its own");
    let mut imported = rustc_hash::FxHashMap::default();
    imported.insert("DFA", vec![id("src/dense.rs")]);
    assert!(super::symbol::same_type(&f.snapshot, id("src/user.rs"), &imported, "DFA", id("src/dense.rs")), "the imported DFA");
    assert!(!super::symbol::same_type(&f.snapshot, id("src/user.rs"), &imported, "DFA", id("src/sparse.rs")));
}

#[test]
fn a_name_also_used_without_its_qualifier_keeps_its_other_definitions() {
    let f = fixture(
        r#"
//- /src/styled.rs
pub struct StyledStr(String);
//- /src/context.rs
pub enum ContextValue { StyledStr(u8), None }
//- /src/format.rs
use crate::styled::StyledStr;
use crate::context::ContextValue;
fn usage(v: &ContextValue) -> Option<&StyledStr> {
    if let ContextValue::StyledStr(u) = v { None } else { None }
}
fn format(usage: Option<&StyledStr>) -> StyledStr {$0}
"#,
    );
    let got = run_with(&f, 2048, Generators::only(Generator::Symbol), &Recency::default(), &[], None);
    assert!(got.iter().any(|(p, l, _)| p == "src/styled.rs" && l.starts_with("pub struct StyledStr")), "{got:?}");
}

#[test]
fn a_type_brings_its_constructors_and_constants() {
    let text = r#"
//- /src/udp.rs
pub struct UdpSocket { fd: i32 }
impl UdpSocket {
    pub fn from_raw_fd(fd: i32) -> UdpSocket { UdpSocket { fd } }
    pub fn bind(addr: u32) -> io::Result<UdpSocket> { todo!() }
    pub const INVALID: Self = UdpSocket { fd: -1 };
    pub fn send(&self, buf: &[u8]) -> usize { 0 }
    pub fn try_clone(&self) -> UdpSocket { todo!() }
}
impl From<i32> for UdpSocket {
    fn from(fd: i32) -> Self { UdpSocket { fd } }
}
//- /src/sys.rs
use crate::udp::UdpSocket;
fn open(s: UdpSocket) -> UdpSocket {$0}
"#;
    let f = fixture(text);
    let got = run_with(&f, 2048, Generators::only(Generator::Symbol), &Recency::default(), &[], None);
    let has = |start: &str| got.iter().any(|(p, l, _)| p == "src/udp.rs" && code_line(l).starts_with(start));
    assert!(has("pub fn from_raw_fd") && has("pub fn bind") && has("pub const INVALID"), "{got:?}");
    assert!(!has("pub fn send") && !has("pub fn try_clone"), "methods taking self are not constructors: {got:?}");
    assert!(has("fn from"), "a trait's constructor is called by path too (UdpSocket::from_raw_fd): {got:?}");
    // They are filler (packed in what the budget has left) unless the function returns
    // the type: then its body builds one, and they rank with the type.
    let filler = |f: &Fixture| {
        let file = f.snapshot.file_id("src/sys.rs").unwrap();
        let hits = super::symbol::generate(&f.snapshot, &ContextRequest::new(file, f.cursor.1, 2048), f.texts.get(&f.cursor.0).map(String::as_str));
        let udp = f.snapshot.file_id("src/udp.rs").unwrap();
        let light = f.snapshot.file(udp).unwrap().light();
        let hit = hits.iter().find(|h| h.file == udp && matches!(h.target, Target::Symbol(s) if light.symbols[s as usize].name == "from_raw_fd"));
        hit.expect("from_raw_fd is proposed").filler
    };
    assert!(!filler(&f), "open returns a UdpSocket");
    let f = fixture(&text.replace("fn open(s: UdpSocket) -> UdpSocket", "fn open(s: UdpSocket) -> usize"));
    assert!(filler(&f), "open does not return a UdpSocket");
}

/// A type cut short by a small budget is shown whole when what is left allows (a
/// TypeScript interface kept three lines at 512 tokens, losing its last field and brace).
#[test]
fn a_type_cut_by_a_small_budget_is_shown_whole_when_it_fits() {
    let f = fixture(
        r#"
//- /src/types.ts
export interface Options {
  retries: number;
  timeout: number;
  baseUrl: string;
  headers: Record<string, string>;
}
//- /src/client.ts
import { Options } from "./types";
export function connect(options: Options): void {$0}
"#,
    );
    let file = f.snapshot.file_id("src/client.ts").unwrap();
    let request = ContextRequest::new(file, f.cursor.1, 512);
    let snippets = retrieve(&f.snapshot, &request, &|t| t.len() / 4 + 1, &|id| f.snapshot.file(id).and_then(|e| f.texts.get(&e.path).cloned()));
    let options = snippets.iter().find(|s| s.text.contains("interface Options")).expect("the interface is retrieved");
    assert!(options.text.ends_with("headers: Record<string, string>;\n}"), "{}", options.text);
    assert!(snippets.iter().map(|s| s.tokens).sum::<usize>() <= 512);
}

/// Filler (a type's other constructors) takes no place in its generator's order and
/// gives no score: a definition another generator proposes too ranks as that one ranks
/// it, and the ranked hits after the filler keep their ranks.
#[test]
fn filler_gives_no_rank_and_no_score_in_fusion() {
    let f = fixture("//- /src/a.rs\nfn a() {$0}\n");
    let file = f.snapshot.file_id("src/a.rs").unwrap();
    let hit = |symbol: u32, filler: bool| Hit { file, target: Target::Symbol(symbol), why: String::new(), filler };
    let lists = vec![
        (Generator::Symbol, vec![hit(0, false), hit(1, true), hit(2, false)]),
        (Generator::Lexical, vec![hit(1, false), hit(3, true)]),
    ];
    let fused = fuse(lists, &f.snapshot, &Recency::default());
    let score = |symbol: u32| fused.iter().find(|c| c.target == Target::Symbol(symbol)).map(|c| (c.score, c.filler)).unwrap();
    assert_eq!(score(0), (Generator::Symbol.weight() / RRF_K, false));
    assert_eq!(score(2), (Generator::Symbol.weight() / (RRF_K + 1.0), false), "the filler before it took no rank");
    assert_eq!(score(1), (Generator::Lexical.weight() / RRF_K, false), "ranked as lexical ranks it, no score from the filler");
    assert_eq!(score(3), (0.0, true));
    assert_eq!(fused.last().map(|c| c.target), Some(Target::Symbol(3)), "filler last");
}

/// The types a function returns, for ranking their constructors: associated types
/// (`Self::Value`, `V::Error` with a type parameter `V`) are not workspace types.
#[test]
fn returned_type_names_leave_out_associated_types() {
    let names = super::symbol::returned_type_names;
    assert_eq!(names("fn interests_from_event(events: EventMask) -> Option<Interest>"), ["Option", "Interest"]);
    assert_eq!(names("fn visit_map<V>(self, mut visitor: V) -> Result<Self::Value, V::Error> where V: de::MapAccess<'de>"), ["Result"]);
    assert_eq!(names("pub fn bind(addr: SocketAddr) -> io::Result<net::UdpSocket>"), ["Result", "UdpSocket"]);
    assert_eq!(names("fn parse_ref(&self, cmd: &crate::Command) -> Result<Self::Value, crate::Error>"), ["Result", "Error"]);
    assert_eq!(names("fn new() -> Self"), Vec::<&str>::new());
    assert_eq!(names("fn drop(&mut self)"), Vec::<&str>::new());
}

/// The symbol graph's hits: (file, symbol name, filler), in its order.
fn graph_hits(f: &Fixture) -> Vec<(String, String, bool)> {
    let file = f.snapshot.file_id(&f.cursor.0).unwrap();
    let hits = super::symbol::generate(&f.snapshot, &ContextRequest::new(file, f.cursor.1, 2048), f.texts.get(&f.cursor.0).map(String::as_str));
    hits.iter()
        .map(|h| {
            let entry = f.snapshot.file(h.file).unwrap();
            let Target::Symbol(s) = h.target else { panic!("the graph proposes symbols") };
            (entry.path.clone(), entry.light().symbols[s as usize].name.to_string(), h.filler)
        })
        .collect()
}

/// A namespace's members that the body does not name yet: the ones the files naming the
/// namespace use most come first, and a namespace the signature names (also by its
/// module's name, `Stream` for `Stream_`) before one it does not.
#[test]
fn namespace_members_rank_by_their_use_in_the_files_naming_the_namespace() {
    let f = fixture(
        r#"
//- /src/Stream.ts
export const drain = (n: number) => n
export const rechunk = (n: number) => n
export const succeed = (n: number) => n
export const empty = 0
//- /src/Option.ts
export const fromNullable = (n: number) => n
export const some = (n: number) => n
//- /src/a.ts
import * as Stream from "./Stream.ts"
import * as Option from "./Option.ts"
export const a = () => Option.some(Stream.succeed(1))
//- /src/b.ts
import * as Stream from "./Stream.ts"
import * as Option from "./Option.ts"
export const b = () => Option.some(Stream.empty) && Stream.succeed(2)
//- /src/c.ts
import * as Stream from "./Stream.ts"
export const c = () => Stream.empty
//- /src/main.ts
import * as Stream_ from "./Stream.ts"
import * as Option from "./Option.ts"
export const options = Option
export function make(n: number): Stream<number> {$0}
"#,
    );
    let hits = graph_hits(&f);
    let place = |path: &str, name: &str| hits.iter().position(|(p, n, _)| p == path && n == name).unwrap_or_else(|| panic!("{name}: {hits:?}"));
    let (succeed, empty) = (place("src/Stream.ts", "succeed"), place("src/Stream.ts", "empty"));
    let unused = place("src/Stream.ts", "drain").min(place("src/Stream.ts", "rechunk"));
    assert!(succeed < unused && empty < unused, "used members first: {hits:?}");
    assert!(succeed.max(empty) < place("src/Option.ts", "some"), "the namespace the signature names first: {hits:?}");
    assert!(place("src/Option.ts", "some") < place("src/Option.ts", "fromNullable"), "{hits:?}");
}

/// A returned type with many constructors (an error type) ranks only the few that the
/// files naming it use most; the others are filler.
#[test]
fn a_returned_type_ranks_its_most_used_constructors() {
    let f = fixture(
        r#"
//- /src/error.rs
pub struct Error { kind: u8 }
impl Error {
    pub fn raw(kind: u8) -> Error { Error { kind } }
    pub fn empty_value() -> Error { Error::raw(1) }
    pub fn no_equals() -> Error { Error::raw(2) }
    pub fn too_many_values() -> Error { Error::raw(3) }
    pub fn invalid_utf8() -> Error { Error::raw(4) }
    pub fn invalid_value() -> Error { Error::raw(5) }
    pub fn value_validation() -> Error { Error::raw(6) }
}
//- /src/parser.rs
use crate::error::Error;
fn check(s: &str) -> Result<(), Error> { if s.is_empty() { Err(Error::invalid_value()) } else { Err(Error::value_validation()) } }
//- /src/validate.rs
use crate::error::Error;
fn utf8(s: &[u8]) -> Result<(), Error> { Err(Error::invalid_utf8()) }
fn validate(s: &str) -> Result<(), Error> { Err(Error::value_validation()) }
//- /src/value.rs
use crate::error::Error;
fn parse(s: &str) -> Result<u32, Error> {$0}
"#,
    );
    let hits = graph_hits(&f);
    let constructors: Vec<(&str, bool)> =
        hits.iter().filter(|(p, n, _)| p == "src/error.rs" && n != "Error").map(|(_, n, filler)| (n.as_str(), *filler)).collect();
    assert_eq!(constructors.len(), 7, "{hits:?}");
    let ranked: Vec<&str> = constructors.iter().filter(|(_, filler)| !filler).map(|(n, _)| *n).collect();
    assert_eq!(ranked.len(), 4, "{constructors:?}");
    for used in ["invalid_value", "value_validation", "invalid_utf8"] {
        assert!(ranked.contains(&used), "{used}: {constructors:?}");
    }
}

#[test]
fn a_type_packed_after_its_variant_takes_the_variants_place() {
    let f = fixture(
        r#"
//- /src/state.rs
pub enum State {
    Idle,
    Pending(u32),
    Done,
}
//- /src/other.rs
pub fn unrelated() -> u32 { 0 }
//- /src/machine.rs
fn step() {$0}
"#,
    );
    let state = f.snapshot.file_id("src/state.rs").unwrap();
    let other = f.snapshot.file_id("src/other.rs").unwrap();
    let symbol = |file: FileId, name: &str| f.snapshot.file(file).unwrap().light().symbols_named(name).next().unwrap();
    let candidate = |file: FileId, name: &str, score: f32| Fused {
        file,
        target: Target::Symbol(symbol(file, name)),
        score,
        sources: vec!["symbol"],
        why: vec![format!("`{name}`")],
        filler: false,
    };
    // The variant ranks first, then an unrelated function, then the enum.
    let candidates = vec![candidate(state, "Pending", 3.0), candidate(other, "unrelated", 2.0), candidate(state, "State", 1.0)];
    let snippets = pack(&f.snapshot, candidates, 2048, &|t| t.len() / 4 + 1, &|id| {
        f.snapshot.file(id).and_then(|e| f.texts.get(&e.path).cloned())
    });
    let shown: Vec<(FileId, u32, u32)> = snippets.iter().map(|s| (s.file, s.start_line, s.end_line)).collect();
    assert_eq!(shown.len(), 2, "the enum shows its variant: {shown:?}");
    assert_eq!((shown[0].0, shown[0].1), (state, 0), "the enum, at its variant's place: {shown:?}");
    assert!(shown[0].2 >= 2, "{shown:?}");
    assert_eq!(shown[1].0, other, "{shown:?}");
    assert!(snippets[0].why.contains("`Pending`") && snippets[0].why.contains("`State`"), "{}", snippets[0].why);
    assert_eq!(snippets[0].tokens, snippets[0].text.len() / 4 + 1, "the variant's tokens were given back");
}

#[test]
fn items_of_a_module_the_file_declares_are_candidates() {
    let f = fixture(
        r#"
//- /src/lib.rs
mod token;
//- /src/token.rs
mod tree_node;
pub struct Token { node: u32 }
impl Token {
    pub fn child_token(&self) -> Token {$0}
    pub fn cancel(&self) { tree_node::cancel(self.node) }
}
//- /src/token/tree_node.rs
pub fn cancel(node: u32) {}
pub fn child_node(parent: u32) -> u32 { parent }
"#,
    );
    let got = run_with(&f, 2048, Generators::only(Generator::Symbol), &Recency::default(), &[], None);
    assert!(got.iter().any(|(p, l, _)| p == "src/token/tree_node.rs" && l.contains("pub fn child_node")), "{got:?}");
}

#[test]
fn a_typescript_modules_own_names_do_not_match_other_modules_definitions() {
    let f = fixture(
        r#"
//- /src/net/dns.ts
export interface A { address: string }
//- /src/schedule.ts
export const cron = (expression: string) => expression
//- /src/store.ts
export interface Store { dispatch(action: string): void }
//- /src/globals.d.ts
declare function assertNever(value: never): never
//- /src/util.ts
export const helper = <A>(value: A): A => value
//- /src/cron.ts
import { helper } from "./util.js"
import type { Store } from "./store.js"
export const parse = <A>(cron: string, value: A, store: Store): A => {
  store.dispatch(cron)
  if (!cron) assertNever(value as never)
  return helper(value)$0
}
"#,
    );
    let graph = run_with(&f, 2048, Generators::only(Generator::Symbol), &Recency::default(), &[], None);
    let files: Vec<&str> = graph.iter().map(|(p, _, _)| p.as_str()).collect();
    assert!(!files.contains(&"src/net/dns.ts"), "a type parameter is not another module's interface: {graph:?}");
    assert!(!files.contains(&"src/schedule.ts"), "a parameter is not another module's function: {graph:?}");
    for wanted in ["src/util.ts", "src/store.ts", "src/globals.d.ts"] {
        assert!(files.contains(&wanted), "{wanted}: imported, after a dot, a global: {graph:?}");
    }
    // The query's names are looked up wherever they are defined.
    let asked = run_with(&f, 2048, Generators::only(Generator::Symbol), &Recency::default(), &[], Some("use cron"));
    assert!(asked.iter().any(|(p, _, _)| p == "src/schedule.ts"), "{asked:?}");
}

/// In a TS/JS module a name's bare uses are its own (a type parameter `A`, a parameter
/// `value`): another module's definition of that name (`Dns_.A`, the `value` of `o.value`)
/// weighs only what its uses after a dot weigh, while a name both imported and used as a
/// namespace member (`Simplify`, `Struct_.Simplify`) keeps its import's weight.
#[test]
fn a_namespace_member_weighs_its_uses_after_a_dot() {
    let padding = |lines: usize| "// ...\n".repeat(lines);
    let text = format!(
        r#"
//- /src/net/Dns.ts
export interface A {{ address: string }}
//- /src/Option.ts
export const none = 0
//- /src/Struct.ts
export type Simplify<A> = {{ [K in keyof A]: A[K] }}
//- /src/Redacted.ts
export const value = (secret: string) => secret
//- /src/main.ts
import * as Dns_ from "./net/Dns.ts"
import * as Option from "./Option.ts"
import * as Struct_ from "./Struct.ts"
import type {{ Simplify }} from "./Struct.ts"
export type Record = Dns_.A
export type Plain<B> = Struct_.Simplify<B>
export const read = (o: {{ value: number }}) => o.value
{}export const empty = () => Option.none
{}export const f = <A>(value: () => A, b: A): Simplify<A> => {{
  const x: A = value()
  const y: A = b ?? value()
  $0
}}
"#,
        padding(170),
        padding(30)
    );
    let f = fixture(&text);
    let hits = graph_hits(&f);
    let place = |path: &str, name: &str| hits.iter().position(|(p, n, _)| p == path && n == name).unwrap_or(usize::MAX);
    let none = place("src/Option.ts", "none");
    assert!(none < place("src/net/Dns.ts", "A"), "a member used nearer first, not the type parameter's namesake: {hits:?}");
    assert!(none < place("src/Redacted.ts", "value"), "nor the parameter's: {hits:?}");
    assert!(place("src/Struct.ts", "Simplify") < none, "an imported name keeps its weight: {hits:?}");
}

/// Whole facts by path, for lazy entries (as the server's index loads them from its cache).
struct Facts(HashMap<String, crate::index::FileIndex>);

impl crate::index::FactSource for Facts {
    fn load(&self, path: &str, _hash: u64, _summary: &crate::index::FileSummary) -> Option<crate::index::FileIndex> {
        self.0.get(path).cloned()
    }
}

/// A Rust file with `fns` functions, `new` among them at `at`, its body calling `call`.
fn defines_new(fns: usize, at: usize, call: &str) -> String {
    let mut text = String::from("pub struct Thing;\nimpl Thing {\n");
    for i in 0..fns {
        if i == at {
            text.push_str(&format!("    pub fn new() -> Thing {{ {call}(); Thing }}\n"));
        } else {
            text.push_str(&format!("    pub fn other_{i}(&self) -> u32 {{ {i} }}\n"));
        }
    }
    text.push_str("}\n");
    text
}

/// Every snippet, whole (file, lines, text, score, sources, why, tokens), with the cache
/// and without.
fn with_and_without(index: &mut WorkspaceIndex, texts: &HashMap<String, String>, cache: &Cache) -> (Vec<Snippet>, Vec<Snippet>) {
    let snapshot = index.snapshot();
    let file = snapshot.file_id("src/main.rs").unwrap();
    let source = |id: FileId| snapshot.file(id).and_then(|e| texts.get(&e.path).cloned());
    let fresh = retrieve(&snapshot, &ContextRequest::new(file, 60, 4096), &|t| t.len() / 4 + 1, &source);
    let cached = retrieve(&snapshot, &ContextRequest { cache: Some(cache), ..ContextRequest::new(file, 60, 4096) }, &|t| t.len() / 4 + 1, &source);
    (fresh, cached)
}

/// The kept definitions of a name defined in many files are used only while the files
/// that define it hold the same facts: the answer with the cache is the answer without it
/// after every edit, addition, removal, a new index, and a trim of decoded details (which
/// keeps them: the trimmed copy shares its facts).
#[test]
fn kept_definitions_are_those_a_fresh_lookup_finds_as_the_workspace_changes() {
    let mut texts: HashMap<String, String> = HashMap::new();
    for i in 0..24 {
        let dir = if i % 5 == 0 { "tests" } else { "src" };
        texts.insert(format!("{dir}/thing{i}.rs"), defines_new(3 + i % 4, i % 3, "start"));
    }
    texts.insert("src/main.rs".into(), "use crate::thing1::Thing;\nfn main() {\n    let t = Thing::new();\n    let u = new();\n    start();\n}\n".into());
    let facts: HashMap<String, crate::index::FileIndex> = texts
        .iter()
        .map(|(path, text)| (path.clone(), extract(Lang::Rust, text, &parse(Lang::Rust, text, None))))
        .collect();
    let source: Arc<dyn crate::index::FactSource> = Arc::new(Facts(facts.clone()));
    let lazy = |path: &str| FileEntry::lazy(path.to_string(), 1, crate::index::FileSummary::of(facts[path].clone()), Arc::clone(&source));
    let mut index = WorkspaceIndex::new();
    let mut paths: Vec<&String> = texts.keys().collect();
    paths.sort();
    for path in paths {
        index.insert(lazy(path));
    }
    let cache = Cache::new();
    let (fresh, cached) = with_and_without(&mut index, &texts, &cache);
    assert!(fresh.iter().any(|s| s.text.contains("pub fn new")), "{fresh:?}");
    assert_eq!(cached, fresh);
    let first = cache.stats();
    assert!(first.misses >= 1 && first.names >= 1, "`new` is defined in 24 files: kept ({first:?})");

    // The same snapshot again: from the cache.
    let (fresh, cached) = with_and_without(&mut index, &texts, &cache);
    assert_eq!(cached, fresh);
    let again = cache.stats();
    assert_eq!(again.misses, first.misses, "{again:?}");
    assert!(again.hits > first.hits, "{again:?}");

    // A defining file decoded, then its details trimmed: a new entry sharing its facts.
    let before = index.snapshot();
    let id = before.file_id("src/thing3.rs").unwrap();
    before.file(id).unwrap().index();
    // The most recently used entry is kept whatever the budget: another one after it.
    before.file(before.file_id("src/main.rs").unwrap()).unwrap().index();
    index.set_detail_budget(Some(0));
    let trimmed = index.snapshot();
    assert!(!Arc::ptr_eq(before.entry(id).unwrap(), trimmed.entry(id).unwrap()), "trimming made a copy");
    let (fresh, cached) = with_and_without(&mut index, &texts, &cache);
    assert_eq!(cached, fresh);
    assert_eq!(cache.stats().misses, first.misses, "a trimmed copy holds the same facts: still kept");

    // An edit that keeps the file's names but moves `new` to another symbol and changes
    // its body; then a file added, then one removed; each time the answer of a fresh
    // lookup, and the kept definitions computed again.
    type Change = Box<dyn Fn(&mut WorkspaceIndex, &mut HashMap<String, String>)>;
    let changes: Vec<Change> = vec![
        Box::new(|index, texts| {
            let text = defines_new(6, 5, "start");
            let facts = extract(Lang::Rust, &text, &parse(Lang::Rust, &text, None));
            texts.insert("src/thing1.rs".into(), text);
            index.insert(FileEntry::new("src/thing1.rs".into(), 2, facts));
        }),
        Box::new(|index, texts| {
            let text = defines_new(2, 0, "start");
            let facts = extract(Lang::Rust, &text, &parse(Lang::Rust, &text, None));
            texts.insert("src/main_thing.rs".into(), text);
            index.insert(FileEntry::new("src/main_thing.rs".into(), 3, facts));
        }),
        Box::new(|index, texts| {
            texts.remove("src/thing2.rs");
            index.remove("src/thing2.rs");
        }),
    ];
    for (i, change) in changes.iter().enumerate() {
        let stale = cache.stats().misses;
        change(&mut index, &mut texts);
        let (fresh, cached) = with_and_without(&mut index, &texts, &cache);
        assert_eq!(cached, fresh, "change {i}");
        assert!(cache.stats().misses > stale, "change {i}: computed again");
    }

    // Another index of other files under the same ids: nothing kept is taken for it.
    let mut other = WorkspaceIndex::new();
    let mut other_texts = HashMap::new();
    for i in 0..24 {
        let text = defines_new(4, 3, "finish");
        other.insert(FileEntry::new(format!("lib/t{i}.rs"), 9, extract(Lang::Rust, &text, &parse(Lang::Rust, &text, None))));
        other_texts.insert(format!("lib/t{i}.rs"), text);
    }
    let main = texts["src/main.rs"].clone();
    other.insert(FileEntry::new("src/main.rs".into(), 9, extract(Lang::Rust, &main, &parse(Lang::Rust, &main, None))));
    other_texts.insert("src/main.rs".into(), main);
    let (fresh, cached) = with_and_without(&mut other, &other_texts, &cache);
    assert!(fresh.iter().any(|s| s.text.contains("finish")), "{fresh:?}");
    assert_eq!(cached, fresh);
}

/// BM25 reads the postings of the files that can still place a chunk among its best (by
/// a bound on what their chunks can score), and finds the hits, scores and order that
/// scoring every file gives; with the term table and with files changed since it.
#[test]
fn bm25_skips_files_that_cannot_reach_the_best_and_finds_the_same_hits() {
    let mut text = String::new();
    // Files sharing many of the function's words, some of them often; many sharing one
    // (no word in more than a quarter of the chunks: those are left out).
    let words = ["parse_header", "header_value", "content_length", "chunked_body", "read_buffer", "decode_frame"];
    for i in 0..60 {
        let body: Vec<String> = words.iter().take(1 + i % 6).map(|w| format!("{w}(x); ").repeat(1 + i % 3)).collect();
        text.push_str(&format!("//- /src/f{i}.rs\npub fn f{i}(x: u32) {{ {} }}\n\npub fn f{i}b(x: u32) {{ {} }}\n", body.concat(), body.concat()));
    }
    for i in 0..200 {
        text.push_str(&format!("//- /src/g{i}.rs\npub fn g{i}(x: u32) {{ weak_term_{}(x); }}\n", i % 8));
    }
    // Files with one rare word used often: a bound close to their score, below that of
    // files that share more words but score less (scored late, and still among the best).
    for i in 0..10 {
        text.push_str(&format!("//- /src/h{i}.rs\npub fn h{i}(x: u32) {{ {} }}\n", format!("rare_word_{i}(x); ").repeat(30)));
    }
    let weak: Vec<String> = (0..8).map(|k| format!("weak_term_{k}(x);")).chain((0..10).map(|i| format!("rare_word_{i}(x);"))).collect();
    text.push_str(&format!(
        "//- /src/main.rs\nfn handle(x: u32) {{\n    parse_header(x); header_value(x); content_length(x);\n    chunked_body(x); read_buffer(x); decode_frame(x);\n    {}$0\n}}\n",
        weak.join(" ")
    ));
    let f = fixture(&text);
    let file = f.snapshot.file_id("src/main.rs").unwrap();
    let request = ContextRequest::new(file, f.cursor.1, 2048);
    let show = |hits: Vec<Hit>| hits.iter().map(|h| format!("{:?} {:?} {}", h.file, h.target, h.why)).collect::<Vec<_>>();
    let (pruned, scored) = lexical::generate_pruned(&f.snapshot, &request, true);
    let (all, every) = lexical::generate_pruned(&f.snapshot, &request, false);
    assert!(every >= 200, "without pruning, every matching file is scored: {every}");
    assert!(scored < every / 2, "{scored} of {every} files scored");
    assert_eq!(pruned.len(), 40);
    let all = show(all);
    assert!(all.iter().any(|h| h.contains("rare_word")), "{all:?}");
    assert_eq!(show(pruned), all);

    // With a term table built before some files changed (their postings scanned).
    let mut index = WorkspaceIndex::new();
    for (path, body) in &f.texts {
        index.insert(FileEntry::new(path.clone(), 0, extract(Lang::Rust, body, &parse(Lang::Rust, body, None))));
    }
    let table = crate::index::terms::TermTable::build(&index.snapshot());
    index.set_term_table(Arc::new(table));
    for i in [3, 17, 41] {
        let body = format!("pub fn f{i}(x: u32) {{ {} }}\n", "parse_header(x); decode_frame(x); ".repeat(i % 4 + 1));
        index.insert(FileEntry::new(format!("src/f{i}.rs"), 1, extract(Lang::Rust, &body, &parse(Lang::Rust, &body, None))));
    }
    let snapshot = index.snapshot();
    let request = ContextRequest::new(snapshot.file_id("src/main.rs").unwrap(), f.cursor.1, 2048);
    let (pruned, scored) = lexical::generate_pruned(&snapshot, &request, true);
    let (all, every) = lexical::generate_pruned(&snapshot, &request, false);
    assert!(scored < every, "{scored} of {every} files scored");
    assert_eq!(show(pruned), show(all));
}

/// A namespace's member weighs its uses through that namespace: `Group.Top` used far from
/// the cursor does not take the weight of `Schema.Top` in the signature.
#[test]
fn a_namespace_member_weighs_its_uses_through_that_namespace() {
    let padding = |lines: usize| "// ...\n".repeat(lines);
    let text = format!(
        r#"
//- /src/Schema.ts
export interface Top {{ ast: string }}
//- /src/Group.ts
export interface Top {{ name: string }}
//- /src/Option.ts
export const none = 0
//- /src/main.ts
import * as Schema from "./Schema.ts"
import * as Group from "./Group.ts"
import * as Option from "./Option.ts"
export type AnyGroup = Group.Top
{}export const empty = () => Option.none
{}export const decode = (schema: Schema.Top): Schema.Top => {{
  $0
}}
"#,
        padding(170),
        padding(30)
    );
    let f = fixture(&text);
    let hits = graph_hits(&f);
    let place = |path: &str, name: &str| hits.iter().position(|(p, n, _)| p == path && n == name).unwrap_or(usize::MAX);
    assert!(place("src/Schema.ts", "Top") < place("src/Option.ts", "none"), "{hits:?}");
    assert!(place("src/Option.ts", "none") < place("src/Group.ts", "Top"), "the other namespace's `Top` is used far away: {hits:?}");
}

/// `import type * as ns`: the code can use the namespace's types, not its values.
#[test]
fn a_type_only_namespace_import_brings_only_types() {
    let f = fixture(
        r#"
//- /src/Graph.ts
export interface Graph { nodes: number }
export type Kind = "directed" | "undirected"
export const isGraph = (u: unknown): u is Graph => true
export const nodes = (graph: Graph) => graph.nodes
//- /src/internal/graph.ts
import type * as Graph from "../Graph.ts"
export const hydrate = (kind: Graph.Kind): Graph.Graph => {$0}
"#,
    );
    let hits = graph_hits(&f);
    let names: Vec<&str> = hits.iter().filter(|(p, _, _)| p == "src/Graph.ts").map(|(_, n, _)| n.as_str()).collect();
    assert!(names.contains(&"Graph") && names.contains(&"Kind"), "{hits:?}");
    assert!(!names.contains(&"isGraph") && !names.contains(&"nodes"), "values of a type-only import: {hits:?}");
}

/// An import the rest of the file does not use is for the code being written at the
/// cursor: its definition (a named import) or the namespace's most used members rank as
/// if the function used them; a Rust `pub use` (a re-export) is not such an import.
#[test]
fn an_import_the_file_uses_nowhere_else_is_for_the_code_at_the_cursor() {
    let padding = |lines: usize| "// ...\n".repeat(lines);
    let text = format!(
        r#"
//- /src/PlatformError.ts
export const badArgument = (message: string) => new Error(message)
//- /src/Cause.ts
export const pretty = (cause: unknown) => String(cause)
export const squash = (cause: unknown) => cause
//- /src/Option.ts
export const some = (n: number) => n
//- /src/a.ts
import * as Cause from "./Cause.ts"
export const a = (c: unknown) => Cause.pretty(c)
//- /src/main.ts
import {{ badArgument }} from "./PlatformError.ts"
import * as Cause from "./Cause.ts"
import * as Option from "./Option.ts"
{}export const one = () => Option.some(1)
export const check = (input: string) => {{
  $0
}}
"#,
        padding(60)
    );
    let f = fixture(&text);
    let hits = graph_hits(&f);
    let place = |path: &str, name: &str| hits.iter().position(|(p, n, _)| p == path && n == name).unwrap_or(usize::MAX);
    let some = place("src/Option.ts", "some");
    assert!(place("src/PlatformError.ts", "badArgument") < some, "{hits:?}");
    assert!(place("src/Cause.ts", "pretty") < some, "{hits:?}");

    let text = format!(
        r#"
//- /src/lib.rs
mod peek;
mod zip;
mod util;
mod stream;
//- /src/peek.rs
pub struct Peek {{ inner: u32 }}
//- /src/zip.rs
pub struct Zip {{ left: u32 }}
//- /src/util.rs
pub fn helper() -> u32 {{ 1 }}
//- /src/stream.rs
pub use crate::peek::Peek;
use crate::zip::Zip;
use crate::util::helper;
fn one() -> u32 {{ helper() }}
{}fn zip(a: u32) -> u32 {{$0}}
"#,
        padding(20)
    );
    let f = fixture(&text);
    let hits = graph_hits(&f);
    let place = |path: &str, name: &str| hits.iter().position(|(p, n, _)| p == path && n == name).unwrap_or(usize::MAX);
    let helper = place("src/util.rs", "helper");
    assert!(place("src/zip.rs", "Zip") < helper, "{hits:?}");
    assert!(helper < place("src/peek.rs", "Peek"), "a re-export is not for the cursor: {hits:?}");
}
