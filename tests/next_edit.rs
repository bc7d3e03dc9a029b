//! `ctxls next-edit`, run as a user would: the built binary in a temporary git repository
//! whose working tree holds the edits so far.

mod support;
#[path = "support/llm_server.rs"]
mod llm_server;

use serde_json::Value;
use support::TempWorkspace;

/// Runs `ctxls next-edit ARGS --format json` and returns the parsed output and stderr.
fn next_edit(ws: &TempWorkspace, args: &[&str]) -> (Value, String) {
    let mut all = vec!["next-edit", "--format", "json"];
    all.extend_from_slice(args);
    let (status, stdout, stderr) = ws.ctxls(&all);
    assert!(status.success(), "{stderr}");
    let out: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (out, stderr)
}

fn places(out: &Value) -> Vec<(String, u64)> {
    out["candidates"].as_array().unwrap().iter().map(|c| (c["file"].as_str().unwrap().to_string(), c["line"].as_u64().unwrap())).collect()
}

#[test]
fn a_changed_signature_puts_its_call_sites_first() {
    let ws = TempWorkspace::new(
        r#"
//- /src/lib.rs
mod shapes;
mod report;
pub fn area(width: u32, height: u32) -> u32 {
    width * height
}
pub fn perimeter(width: u32, height: u32) -> u32 {
    2 * (width + height)
}
//- /src/report.rs
use crate::area;
pub fn report() -> String {
    let small = area(1, 2);
    let large = perimeter(3, 4);
    format!("{small} {large}")
}
//- /src/shapes.rs
pub fn tile() -> u32 {
    crate::area(5, 6) + crate::perimeter(1, 1)
}
pub fn unrelated(area_name: &str) -> usize {
    area_name.len()
}
"#,
    );
    support::commit_all(&ws.root());
    ws.write("src/lib.rs", "mod shapes;\nmod report;\npub fn area(width: u32, height: u32, depth: u32) -> u32 {\n    width * height * depth\n}\npub fn perimeter(width: u32, height: u32) -> u32 {\n    2 * (width + height)\n}\n");
    let (out, stderr) = next_edit(&ws, &["--locations-only"]);
    assert!(!stderr.contains("only locations"), "--locations-only asks for nothing more: {stderr}");
    let found = places(&out);
    let top: Vec<(String, u64)> = found.iter().take(2).cloned().collect();
    assert!(top.contains(&("src/report.rs".into(), 3)) && top.contains(&("src/shapes.rs".into(), 2)), "the two calls first: {out:#}");
    assert!(!found.contains(&("src/report.rs".into(), 1)), "the import needs no change for a new parameter: {out:#}");
    assert!(!found.iter().any(|(f, l)| f == "src/shapes.rs" && *l >= 4), "a parameter merely named like it is no use: {out:#}");
    assert!(!found.iter().any(|(f, l)| f == "src/lib.rs" && *l == 3), "the edit itself is not a candidate: {out:#}");
    let first = &out["candidates"][0];
    assert!(first["reason"].as_str().unwrap().contains("calls `area`"), "{first}");
    assert_eq!(first["end_line"], first["line"]);
    assert!(first["score"].as_f64().unwrap() > out["candidates"][found.len() - 1]["score"].as_f64().unwrap() - 1e-9);
    assert_eq!(out["edits"], 1);

    // Without --locations-only and without a model: the same places, and the rewrite of
    // the best one declined with the reason.
    ws.write(".ctxls.toml", "[llm]\nbase_url = \"http://127.0.0.1:9\"\nretries = 0\n");
    let (out_again, stderr) = next_edit(&ws, &[]);
    assert!(stderr.contains("no rewrite of src/"), "{stderr}");
    assert_eq!(out_again["locations_only"], false);
    assert_eq!(places(&out_again), found);
    assert_eq!(out_again["candidates"][0]["rewrite"]["status"], "declined");
    assert!(out_again["candidates"][0]["rewrite"]["why"].as_str().unwrap().contains("not reachable"), "{out_again}");
    assert!(out_again["candidates"][1].get("rewrite").is_none(), "one rewrite by default");
    // Text for people, and --limit.
    let (status, stdout, _) = ws.ctxls(&["next-edit", "--format", "text", "--limit", "1", "--locations-only"]);
    assert!(status.success());
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(stdout.lines().next().unwrap().contains("calls `area`"), "{stdout}");
}

#[test]
fn a_half_done_rename_points_at_the_remaining_old_names() {
    let ws = TempWorkspace::new(
        r#"
//- /src/config.ts
export interface Settings { verbose: boolean }
export function loadSettings(path: string): Settings {
  return { verbose: path.length > 3 };
}
//- /src/main.ts
import { loadSettings } from "./config";
export function start(): boolean {
  const first = loadSettings("a.json");
  const second = loadSettings("b.json");
  return first.verbose && second.verbose;
}
//- /src/other.ts
import { loadSettings } from "./config";
export const ready = loadSettings("c.json").verbose;
"#,
    );
    support::commit_all(&ws.root());
    // The definition and one call renamed; the rest still use the old name.
    ws.write("src/config.ts", "export interface Settings { verbose: boolean }\nexport function readSettings(path: string): Settings {\n  return { verbose: path.length > 3 };\n}\n");
    ws.write("src/main.ts", "import { loadSettings } from \"./config\";\nexport function start(): boolean {\n  const first = readSettings(\"a.json\");\n  const second = loadSettings(\"b.json\");\n  return first.verbose && second.verbose;\n}\n");
    let (out, _) = next_edit(&ws, &["--locations-only"]);
    let found = places(&out);
    let expected = [("src/main.ts", 1), ("src/main.ts", 4), ("src/other.ts", 1), ("src/other.ts", 2)];
    let reasons: Vec<&str> = out["candidates"].as_array().unwrap().iter().map(|c| c["reason"].as_str().unwrap()).collect();
    assert!(reasons[..expected.len()].iter().all(|r| r.contains("renamed")), "the remaining old names first: {out:#}");
    // (In the edited files: the windows next to the edits and the lines sharing their words.)
    let nearby = |r: &str| r.starts_with("near the edit") || r.starts_with("shares ");
    assert!(reasons[expected.len()..].iter().all(|r| nearby(r)), "then only the places next to the edits: {out:#}");
    let found = &found[..expected.len()];
    for (file, line) in expected {
        assert!(found.contains(&(file.to_string(), line)), "{file}:{line} in {out:#}");
    }
    assert!(out["candidates"][0]["reason"].as_str().unwrap().contains("`loadSettings`, renamed to `readSettings`"), "{out:#}");
    // Nearest first: the unchanged call next to the renamed one.
    assert_eq!(found[0], ("src/main.ts".to_string(), 4), "{out:#}");
}

#[test]
fn the_same_change_made_twice_points_at_the_third_place() {
    let ws = TempWorkspace::new(
        r#"
//- /src/counters.rs
pub struct Counters { pub hits: u64, pub misses: u64 }
pub fn record_hit(counters: &mut Counters) {
    counters.hits = counters.hits + 1;
}
pub fn record_again(counters: &mut Counters) {
    counters.hits = counters.hits + 1;
}
pub fn record_miss(counters: &mut Counters) {
    counters.misses = counters.misses + 1;
}
//- /src/more.rs
use crate::counters::Counters;
pub fn record_twice(counters: &mut Counters) {
    counters.hits = counters.hits + 1;
    counters.misses += 2;
}
"#,
    );
    support::commit_all(&ws.root());
    ws.write(
        "src/counters.rs",
        "pub struct Counters { pub hits: u64, pub misses: u64 }\npub fn record_hit(counters: &mut Counters) {\n    counters.hits += 1;\n}\npub fn record_again(counters: &mut Counters) {\n    counters.hits += 1;\n}\npub fn record_miss(counters: &mut Counters) {\n    counters.misses = counters.misses + 1;\n}\n",
    );
    let (out, _) = next_edit(&ws, &["--locations-only"]);
    let first = &out["candidates"][0];
    assert_eq!((first["file"].as_str().unwrap(), first["line"].as_u64().unwrap()), ("src/more.rs", 3), "{out:#}");
    assert!(first["reason"].as_str().unwrap().contains("replaced 2 times"), "{first}");
    assert_eq!(first["definition"]["name"], "record_twice", "{first}");
    assert!(!places(&out).iter().any(|(f, l)| f == "src/counters.rs" && (*l == 3 || *l == 6)), "the edits themselves are done: {out:#}");
}

#[test]
fn ignored_files_are_neither_edits_nor_places_and_outside_git_is_an_error() {
    let ws = TempWorkspace::new(
        r#"
//- /.gitignore
generated.rs
//- /.ctxlsignore
vendor/
//- /src/lib.rs
pub fn fetch(url: &str) -> String { url.to_string() }
pub fn user() -> String { fetch("a") }
//- /vendor/copy.rs
pub fn vendored() -> String { crate::fetch("b") }
pub fn helper(x: u32) -> u32 { x }
"#,
    );
    ws.write("generated.rs", "pub fn g() -> String { crate::fetch(\"c\") }\n");
    let (status, _, stderr) = ws.ctxls(&["next-edit"]);
    assert!(!status.success());
    assert!(stderr.contains("not inside a git repository"), "{stderr}");

    support::commit_all(&ws.root());
    ws.write("src/lib.rs", "pub fn fetch(url: &str, retries: u32) -> String { url.repeat(retries as usize) }\npub fn user() -> String { fetch(\"a\") }\n");
    // An edit in an ignored (tracked) file is not followed up either.
    ws.write("vendor/copy.rs", "pub fn vendored() -> String { crate::fetch(\"b\") }\npub fn helper(x: u32, y: u32) -> u32 { x + y }\n");
    let (out, _) = next_edit(&ws, &["--locations-only"]);
    assert_eq!(out["edits"], 1, "{out:#}");
    assert_eq!(places(&out), vec![("src/lib.rs".to_string(), 2)], "{out:#}");
    let text = out.to_string();
    assert!(!text.contains("vendor") && !text.contains("generated"), "{text}");
}

#[test]
fn a_field_set_before_it_is_declared_points_at_the_struct_and_replaced_code_at_its_copies() {
    let ws = TempWorkspace::new(
        r#"
//- /src/walk.rs
pub struct Walker {
    pub root: String,
    pub max_filesize: Option<u64>,
}
pub fn walker(root: &str) -> Walker {
    Walker {
        root: root.to_string(),
        max_filesize: None,
    }
}
//- /src/pool.rs
pub fn pools() -> (Vec<u8>, Vec<u8>) {
    let first = Vec::with_capacity(16);
    let second = Vec::with_capacity(16);
    (first, second)
}
"#,
    );
    support::commit_all(&ws.root());
    ws.write("src/walk.rs", "pub struct Walker {\n    pub root: String,\n    pub max_filesize: Option<u64>,\n}\npub fn walker(root: &str) -> Walker {\n    Walker {\n        root: root.to_string(),\n        max_depth: None,\n        max_filesize: None,\n    }\n}\n");
    let (out, _) = next_edit(&ws, &["--locations-only"]);
    let found = places(&out);
    assert!(found.iter().take(2).any(|p| p == &("src/walk.rs".to_string(), 3) || p == &("src/walk.rs".to_string(), 2)), "the struct's fields: {out:#}");
    assert!(out["candidates"][0]["reason"].as_str().unwrap().contains("`max_depth` is used in the edit but defined nowhere"), "{out:#}");

    // Replaced code: its other copy, though the line around it differs.
    ws.write("src/walk.rs", "pub struct Walker {\n    pub root: String,\n    pub max_filesize: Option<u64>,\n}\npub fn walker(root: &str) -> Walker {\n    Walker {\n        root: root.to_string(),\n        max_filesize: None,\n    }\n}\n");
    ws.write("src/pool.rs", "pub fn pools() -> (Vec<u8>, Vec<u8>) {\n    let first = Vec::with_capacity(64);\n    let second = Vec::with_capacity(16);\n    (first, second)\n}\n");
    let (out, _) = next_edit(&ws, &["--locations-only"]);
    assert_eq!(places(&out).first(), Some(&("src/pool.rs".to_string(), 3)), "{out:#}");
    assert!(out["candidates"][0]["reason"].as_str().unwrap().contains("which the edit replaced"), "{out:#}");
}

#[test]
fn a_value_changed_or_a_name_shared_by_many_definitions_calls_for_nothing_far_away() {
    let ws = TempWorkspace::new(
        r#"
//- /src/actions.ts
export const added = { type: "todo/added", payload: 1 };
export const removed = { type: "todo/removed", payload: 2 };
//- /src/reducer.ts
import { added } from "./actions";
export function reduce(action: { type: string }): number {
  return action.type === added.type ? 1 : 0;
}
//- /src/shapes.rs
pub struct Square;
pub struct Circle;
impl std::fmt::Display for Square {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result { write!(f, "square") }
}
impl std::fmt::Display for Circle {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result { write!(f, "circle") }
}
pub struct Label;
impl Label {
    pub fn fmt(&self) -> String { String::new() }
}
pub fn show(label: &Label) -> String { label.fmt() }
pub fn other(x: &Circle) -> String { format!("{x}") }
pub struct Edge;
impl Edge {
    pub fn fmt(&self) -> u32 { 0 }
}
"#,
    );
    support::commit_all(&ws.root());
    // A property's value: its uses by name are not touched by it.
    ws.write("src/actions.ts", "export const added = { type: \"todos/added\", payload: 1 };\nexport const removed = { type: \"todo/removed\", payload: 2 };\n");
    let (out, _) = next_edit(&ws, &["--locations-only"]);
    let text = out.to_string();
    assert!(!text.contains("src/reducer.ts"), "{out:#}");
    assert!(!text.contains("signature changed"), "{out:#}");

    // A method of an inherent impl whose name four definitions share: neither the other
    // definitions nor the uses by name are taken for its own.
    ws.write("src/actions.ts", "export const added = { type: \"todo/added\", payload: 1 };\nexport const removed = { type: \"todo/removed\", payload: 2 };\n");
    let shapes = std::fs::read_to_string(ws.root().join("src/shapes.rs")).unwrap();
    ws.write("src/shapes.rs", &shapes.replace("pub fn fmt(&self) -> String", "pub fn fmt(&self, upper: bool) -> String"));
    let (out, _) = next_edit(&ws, &["--locations-only"]);
    let text = out.to_string();
    assert!(!text.contains("another definition") && !text.contains("signature changed"), "{out:#}");
    assert!(
        out["candidates"].as_array().unwrap().iter().all(|c| c["file"] == "src/shapes.rs" && ["near the edit", "shares "].iter().any(|p| c["reason"].as_str().unwrap().starts_with(p))),
        "only the edited file's nearby places and lines sharing words: {out:#}"
    );
}

/// The model's rewrite of the best place, as minimal edits; nothing offered for an
/// unchanged region or one with new syntax errors; no file is written either way.
#[test]
fn a_root_below_the_repositorys_top_gets_its_own_paths() {
    let ws = TempWorkspace::new(
        r#"
//- /app/src/lib.rs
mod report;
pub fn area(width: u32, height: u32) -> u32 {
    width * height
}
//- /app/src/report.rs
pub fn report() -> u32 {
    crate::area(1, 2)
}
//- /other/src/lib.rs
pub fn unrelated() {}
"#,
    );
    support::commit_all(&ws.root());
    ws.write("app/src/lib.rs", "mod report;\npub fn area(width: u32, height: u32, depth: u32) -> u32 {\n    width * height * depth\n}\n");
    ws.write("other/src/lib.rs", "pub fn unrelated() -> u32 { 0 }\n");
    let (out, _) = next_edit(&ws, &["--locations-only", "--root", "app"]);
    assert_eq!(out["edits"], 1, "the edits under the root only: {out:#}");
    assert_eq!(places(&out)[0], ("src/report.rs".to_string(), 2), "{out:#}");
}

#[test]
fn code_moved_within_a_file_points_at_its_old_copy() {
    let ws = TempWorkspace::new(
        r#"
//- /src/buffer.rs
pub struct Buffer {
    end: usize,
    data: Vec<u8>,
}
impl Buffer {
    pub fn fill(&mut self, n: usize) -> usize {
        self.data.reserve(n);
        let total = self.data.len();
        // a comment
        let oldend = self.end;
        self.end += n;
        total + oldend
    }
}
"#,
    );
    support::commit_all(&ws.root());
    // `let oldend = self.end;` written again at the top: the old line is due to go.
    let moved = "pub struct Buffer {\n    end: usize,\n    data: Vec<u8>,\n}\nimpl Buffer {\n    pub fn fill(&mut self, n: usize) -> usize {\n        let oldend = self.end;\n        self.data.reserve(n);\n        let total = self.data.len();\n        // a comment\n        let oldend = self.end;\n        self.end += n;\n        total + oldend\n    }\n}\n";
    ws.write("src/buffer.rs", moved);
    let (out, _) = next_edit(&ws, &["--locations-only"]);
    assert_eq!(places(&out)[0], ("src/buffer.rs".into(), 11), "{out:#}");
    assert!(out["candidates"][0]["reason"].as_str().unwrap().contains("is still here"), "{out:#}");
    // A short or common line (`}`) added is no move.
    ws.write("src/buffer.rs", &moved.replace("        let oldend = self.end;\n        self.data", "        {}\n        self.data"));
    let (out, _) = next_edit(&ws, &["--locations-only"]);
    assert!(!out["candidates"].as_array().unwrap().iter().any(|c| c["reason"].as_str().unwrap().contains("is still here")), "{out:#}");
}

#[test]
fn lines_inserted_before_one_line_point_at_the_lines_like_it() {
    let ws = TempWorkspace::new(
        r#"
//- /tests/compressed.rs
macro_rules! rgtest {
    ($name:ident, $body:expr) => {
        #[test]
        fn $name() {
            $body
        }
    };
}

rgtest!(compressed_lz4, {
    assert!(true);
});

rgtest!(compressed_brotli, {
    assert!(true);
});

fn helper() -> u32 {
    1
}

rgtest!(compressed_zstd, {
    assert!(true);
});
"#,
    );
    support::commit_all(&ws.root());
    let text = std::fs::read_to_string(ws.root().join("tests/compressed.rs")).unwrap();
    ws.write("tests/compressed.rs", &text.replacen("rgtest!(compressed_lz4", "// not under emulation\n#[cfg(not(target_arch = \"riscv64\"))]\nrgtest!(compressed_lz4", 1));
    let (out, _) = next_edit(&ws, &["--locations-only", "--limit", "3"]);
    let found = places(&out);
    // 1-based lines after the insertion: brotli at 16, zstd at 24.
    assert_eq!(found[..2], [("tests/compressed.rs".to_string(), 16), ("tests/compressed.rs".to_string(), 24)], "{out:#}");
    assert!(out["candidates"][0]["reason"].as_str().unwrap().contains("starting `rgtest!(`"), "{out:#}");
    // Where the insertion is there already, the line is not offered again.
    let done = std::fs::read_to_string(ws.root().join("tests/compressed.rs")).unwrap().replacen("rgtest!(compressed_zstd", "#[cfg(not(target_arch = \"riscv64\"))]\nrgtest!(compressed_zstd", 1);
    ws.write("tests/compressed.rs", &done);
    let (out, _) = next_edit(&ws, &["--locations-only", "--limit", "3"]);
    let found = places(&out);
    assert_eq!(found[0], ("tests/compressed.rs".to_string(), 16), "{out:#}");
    assert!(!found.contains(&("tests/compressed.rs".to_string(), 26)), "{out:#}");
}

#[test]
fn a_comment_fixed_points_at_the_same_words_elsewhere_in_the_file_only() {
    let ws = TempWorkspace::new(
        r#"
//- /src/searcher.rs
/// Note that `0` is legal. This will cause the searcher to
/// immediately quick without searching anything.
pub fn heap_limit(limit: usize) -> usize {
    limit
}

pub fn other() -> u32 {
    1
}

/// Note that `0` is legal. This will cause the searcher to
/// immediately quick without searching anything.
pub fn memory_limit(limit: usize) -> usize {
    limit
}
//- /src/other.rs
/// This will cause the searcher to
/// immediately quick without searching anything.
pub fn unrelated() {}
"#,
    );
    support::commit_all(&ws.root());
    let text = std::fs::read_to_string(ws.root().join("src/searcher.rs")).unwrap();
    ws.write("src/searcher.rs", &text.replacen("immediately quick", "immediately quit", 1));
    let (out, _) = next_edit(&ws, &["--locations-only", "--limit", "3"]);
    let found = places(&out);
    assert_eq!(found[0], ("src/searcher.rs".to_string(), 12), "{out:#}");
    assert!(out["candidates"][0]["reason"].as_str().unwrap().contains("immediatelyquickwithout"), "{out:#}");
    assert!(!found.iter().any(|(f, _)| f == "src/other.rs"), "words of a comment are looked for in the edited file only: {out:#}");
}

#[test]
fn a_change_to_tested_code_points_at_the_end_of_its_tests() {
    let ws = TempWorkspace::new(
        r#"
//- /src/types.rs
pub fn aliases() -> Vec<&'static str> {
    vec!["proto", "protobuf"]
}

pub fn count() -> usize {
    aliases().len()
}

pub fn first() -> &'static str {
    aliases()[0]
}

pub fn last() -> &'static str {
    aliases()[1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted() {
        assert_eq!(count(), 2);
    }
}
//- /src/batch.ts
export function batch(timeout: number): number {
  return timeout * 2
}
//- /src/tests/batch.test.ts
import { batch } from '../batch'

test('doubles', () => {
  expect(batch(1)).toBe(2)
})
"#,
    );
    support::commit_all(&ws.root());
    let text = std::fs::read_to_string(ws.root().join("src/types.rs")).unwrap();
    ws.write("src/types.rs", &text.replacen("vec![\"proto\", \"protobuf\"]", "vec![\"proto\", \"protobuf\", \"pb\"]", 1));
    let (out, _) = next_edit(&ws, &["--locations-only", "--limit", "5"]);
    let found = places(&out);
    // The window next to the edit (none above it), then the end of `mod tests` (line 25).
    assert_eq!(found[..2], [("src/types.rs".to_string(), 6), ("src/types.rs".to_string(), 25)], "{out:#}");
    assert!(out["candidates"][1]["reason"].as_str().unwrap().contains("the end of the tests"), "{out:#}");

    std::process::Command::new("git").args(["checkout", "--", "."]).current_dir(ws.root()).status().unwrap();
    ws.write("src/batch.ts", "export function batch(timeout: number): number {\n  return timeout * 3\n}\n");
    let (out, _) = next_edit(&ws, &["--locations-only", "--limit", "5"]);
    let found = places(&out);
    assert!(found.contains(&("src/tests/batch.test.ts".to_string(), 5)), "the end of the test file named after it: {out:#}");
    // An edit of a test itself does not send to other tests.
    std::process::Command::new("git").args(["checkout", "--", "."]).current_dir(ws.root()).status().unwrap();
    ws.write("src/tests/batch.test.ts", "import { batch } from '../batch'\n\ntest('doubles', () => {\n  expect(batch(2)).toBe(4)\n})\n");
    let (out, _) = next_edit(&ws, &["--locations-only", "--limit", "5"]);
    assert!(!out["candidates"].as_array().unwrap().iter().any(|c| c["reason"].as_str().unwrap().contains("the end of")), "{out:#}");
}

#[test]
fn a_call_of_an_undefined_method_replacing_several_names_points_at_no_definition() {
    let ws = TempWorkspace::new(
        r#"
//- /src/search.rs
pub struct Stats;
impl Stats {
    pub fn clone_it(&self) -> Stats {
        Stats
    }
}
pub fn map_it(stats: Option<&Stats>) -> Option<Stats> {
    stats.map(|s| s.clone_it())
}
pub fn again(stats: Option<&Stats>) -> Option<Stats> {
    stats.map(|s| s.clone_it())
}
"#,
    );
    support::commit_all(&ws.root());
    let text = std::fs::read_to_string(ws.root().join("src/search.rs")).unwrap();
    ws.write("src/search.rs", &text.replacen("stats.map(|s| s.clone_it())", "stats.cloned_it()", 1));
    let (out, _) = next_edit(&ws, &["--locations-only", "--limit", "3"]);
    let found = places(&out);
    assert_eq!(found[0], ("src/search.rs".to_string(), 11), "the other copy first: {out:#}");
    assert!(!out["candidates"].as_array().unwrap().iter().any(|c| c["reason"].as_str().unwrap().contains("defined nowhere")), "{out:#}");
}

#[test]
fn the_model_rewrites_the_best_place_and_only_a_real_change_is_offered() {
    let (_runtime, server) = llm_server::with_server(Vec::new());
    let ws = TempWorkspace::new(
        r#"
//- /src/lib.rs
mod report;
pub fn area(width: u32, height: u32) -> u32 {
    width * height
}
//- /src/report.rs
use crate::area;
pub fn report() -> String {
    let small = area(1, 2);
    format!("{small}")
}
"#,
    );
    ws.write(".ctxls.toml", &format!("[llm]\nprovider = \"openai\"\nbase_url = \"{}/v1\"\nmodel = \"m\"\nretries = 0\n", server.url()));
    support::commit_all(&ws.root());
    let changed = "mod report;\npub fn area(width: u32, height: u32, depth: u32) -> u32 {\n    width * height * depth\n}\n";
    ws.write("src/lib.rs", changed);
    let report = std::fs::read_to_string(ws.root().join("src/report.rs")).unwrap();
    let rewritten = report.replace("area(1, 2)", "area(1, 2, 1)");
    server.push(llm_server::Reply::openai(&[&format!("Here it is:\n```rust\n{rewritten}```\n")], true));
    let (out, _) = next_edit(&ws, &[]);
    let best = &out["candidates"][0];
    assert_eq!((best["file"].as_str(), best["line"].as_u64()), (Some("src/report.rs"), Some(3)), "{out:#}");
    assert_eq!(best["rewrite"], serde_json::json!({"status": "offered", "edits": [{"line": 3, "replaces": 1, "text": "    let small = area(1, 2, 1);\n"}]}), "{out:#}");
    // What the model was told: the edit so far, the region with the reason.
    let request = server.requests()[0].json();
    let user = request["messages"][1]["content"].as_str().unwrap();
    assert!(user.contains("+pub fn area(width: u32, height: u32, depth: u32) -> u32 {"), "{user}");
    assert!(user.contains("src/report.rs lines 1-5 (why the next edit may be here: calls `area`"), "{user}");
    assert_eq!(std::fs::read_to_string(ws.root().join("src/report.rs")).unwrap(), report, "nothing is written");

    // Unchanged, or broken: nothing offered.
    server.push(llm_server::Reply::openai(&[&format!("```rust\n{report}```")], true));
    let (out, _) = next_edit(&ws, &[]);
    assert_eq!(out["candidates"][0]["rewrite"], serde_json::json!({"status": "declined", "why": "the model changed nothing"}));
    server.push(llm_server::Reply::openai(&[&format!("```rust\n{}```", report.replace("area(1, 2);", "area(1, 2, ;"))], true));
    let (out, _) = next_edit(&ws, &[]);
    assert_eq!(out["candidates"][0]["rewrite"], serde_json::json!({"status": "declined", "why": "the rewrite adds syntax errors"}));
    // Text for people shows the edit.
    server.push(llm_server::Reply::openai(&[&format!("```rust\n{rewritten}```")], true));
    let (status, stdout, _) = ws.ctxls(&["next-edit", "--format", "text", "--limit", "1"]);
    assert!(status.success());
    assert!(stdout.contains("  line 3: replace 3-3 with\n    |     let small = area(1, 2, 1);\n"), "{stdout}");
}

#[test]
fn the_old_text_comes_from_the_cache_when_the_index_was_current_before_the_edit() {
    let ws = TempWorkspace::new(
        r#"
//- /src/lib.rs
mod report;
pub fn area(width: u32, height: u32) -> u32 {
    width * height
}
//- /src/report.rs
pub fn report() -> u32 {
    crate::area(2, 3)
}
"#,
    );
    support::commit_all(&ws.root());
    let (status, _, stderr) = ws.ctxls(&["index"]);
    assert!(status.success(), "{stderr}");
    ws.write("src/lib.rs", "mod report;\npub fn area(width: u32, height: u32, depth: u32) -> u32 {\n    width * height * depth\n}\n");
    let (warm, _) = next_edit(&ws, &["--locations-only"]);
    assert_eq!(warm["old_facts"]["from_cache"], 1, "the cache held the text before the edit: {warm:#}");
    assert_eq!(warm["old_facts"]["parsed"], 0, "{warm:#}");
    assert!(places(&warm).contains(&("src/report.rs".into(), 2)), "{warm:#}");

    // A cache that never saw the old text: it is rebuilt from the diff and parsed, and the
    // places are the same.
    let fresh_cache = tempfile::tempdir().unwrap();
    let cache = fresh_cache.path().to_str().unwrap();
    let (status, stdout, stderr) = ws.ctxls(&["--cache-dir", cache, "next-edit", "--format", "json", "--locations-only"]);
    assert!(status.success(), "{stderr}");
    let cold: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(cold["old_facts"]["from_cache"], 0, "{cold:#}");
    assert_eq!(cold["old_facts"]["parsed"], 1, "{cold:#}");
    assert_eq!(places(&cold), places(&warm));
}
