//! Fixture tests for retrieval: `//- /path` files, `$0` marks the cursor.

use std::collections::HashMap;
use std::sync::Arc;

use super::*;
use crate::index::{extract, FileEntry, IndexSnapshot, WorkspaceIndex};
use crate::lang::{parse, Lang};

struct Fixture {
    snapshot: Arc<IndexSnapshot>,
    texts: HashMap<String, String>,
    cursor: (String, u32),
}

fn fixture(text: &str) -> Fixture {
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
        index.insert(FileEntry { path: path.clone(), hash: 0, index: extract(lang, &body, &tree) });
        texts.insert(path, body);
    }
    Fixture { snapshot: index.snapshot(), texts, cursor: cursor.expect("a $0 cursor") }
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
            (path, s.text.lines().next().unwrap_or("").trim().to_string())
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
