//! The CLI, run as a user would: the built binary in a temporary workspace.

mod support;

use serde_json::Value;
use support::TempWorkspace;

const FIXTURE: &str = r#"
//- /Cargo.toml
[package]
name = "demo"
//- /src/lib.rs
mod parser;
/// Parses everything.
pub fn parse_all(input: &str) -> Vec<parser::Token> { parser::tokenize(input) }
//- /src/parser.rs
pub struct Token { pub text: String }
pub fn tokenize(input: &str) -> Vec<Token> { input.split(' ').map(|t| Token { text: t.into() }).collect() }
//- /web/app.ts
import { render } from "./view";
export class App { start(): void { render(this); } }
//- /web/view.tsx
export function render(app: unknown) { return <div>{String(app)}</div>; }
//- /web/ignored/gen.ts
export const generated = 1;
//- /web/.ctxlsignore
ignored/
//- /.gitignore
/target
//- /target/debug/build.rs
fn not_indexed() {}
"#;

fn index_json(ws: &TempWorkspace) -> Value {
    let (status, stdout, stderr) = ws.ctxls(&["index", "--json"]);
    assert!(status.success(), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "exactly one JSON object: {stdout}");
    serde_json::from_str(lines[0]).unwrap()
}

#[test]
fn index_summary_and_warm_restart() {
    let ws = TempWorkspace::new(FIXTURE);
    ws.write("web/bundle.min.js", "var a=1;");
    ws.write("src/blob.rs", "fn a() {}\0\0\0");
    let cold = index_json(&ws);
    let keys: Vec<&str> = cold.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["bytes", "chunks", "files", "generated", "references", "reparsed", "seconds", "skipped", "symbols"]);
    assert_eq!(cold["files"], 4, "{cold}");
    assert_eq!(cold["generated"], 0, "{cold}");
    assert_eq!(cold["reparsed"], 4);
    assert_eq!(cold["skipped"], 2, "a minified and a binary file: {cold}");
    assert!(cold["symbols"].as_u64().unwrap() >= 7);
    assert!(cold["references"].as_u64().unwrap() > 5);

    let warm = index_json(&ws);
    assert_eq!(warm["reparsed"], 0, "a warm restart parses nothing: {warm}");
    for key in ["files", "symbols", "references", "chunks", "bytes", "skipped"] {
        assert_eq!(warm[key], cold[key], "{key}");
    }

    // One changed file is the only one parsed; a touched file is not parsed.
    ws.write("src/parser.rs", "pub struct Token;\npub struct Extra;\n");
    let lib = ws.dir.path().join("src/lib.rs");
    std::fs::write(&lib, std::fs::read(&lib).unwrap()).unwrap();
    let changed = index_json(&ws);
    assert_eq!(changed["reparsed"], 1, "{changed}");

    // A deleted file leaves the index.
    std::fs::remove_file(ws.dir.path().join("web/view.tsx")).unwrap();
    let after_delete = index_json(&ws);
    assert_eq!(after_delete["files"], 3);
    assert_eq!(after_delete["reparsed"], 0);
}

#[test]
fn human_summary_names_what_was_skipped() {
    let ws = TempWorkspace::new(FIXTURE);
    ws.write(".ctxls.toml", "[index]\nmax_file_size = 40\n");
    let (status, stdout, _) = ws.ctxls(&["index"]);
    assert!(status.success());
    assert!(stdout.starts_with("Indexed "), "{stdout}");
    assert!(stdout.contains("over the size limit"), "{stdout}");
}

#[test]
fn invalid_configuration_is_reported_and_defaults_are_used() {
    let ws = TempWorkspace::new(FIXTURE);
    ws.write(".ctxls.toml", "[index]\nmax_file_size = \"huge\"\n");
    let (status, stdout, stderr) = ws.ctxls(&["index", "--json"]);
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("index.max_file_size"), "{stderr}");
    let summary: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["files"], 4);
    // Read once per command, so reported once.
    let (status, _, stderr) = ws.ctxls(&["context", "src/lib.rs:3:60"]);
    assert!(status.success(), "{stderr}");
    assert_eq!(stderr.matches("index.max_file_size").count(), 1, "{stderr}");
}

#[test]
fn corrupt_and_foreign_caches_are_rebuilt() {
    let ws = TempWorkspace::new(FIXTURE);
    index_json(&ws);
    let db = find_db(ws.cache.path());
    // Garbage in place of the database.
    std::fs::write(&db, b"this is not a database").unwrap();
    let _ = std::fs::remove_file(db.with_extension("sqlite-wal"));
    let (status, stdout, stderr) = ws.ctxls(&["index", "--json"]);
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("set aside and rebuilt"), "{stderr}");
    let rebuilt: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(rebuilt["reparsed"], 4);
    assert_eq!(index_json(&ws)["reparsed"], 0, "the rebuilt cache works");

    // A truncated file.
    let bytes = std::fs::read(&db).unwrap();
    std::fs::write(&db, &bytes[..bytes.len().min(1000)]).unwrap();
    let _ = std::fs::remove_file(db.with_extension("sqlite-wal"));
    let again = index_json(&ws);
    assert_eq!(again["files"], 4);

    // Another schema version.
    let conn = rusqlite_free_version_bump(&db);
    assert!(conn);
    let foreign = index_json(&ws);
    assert_eq!(foreign["reparsed"], 4, "a cache of another version is rebuilt: {foreign}");
}

/// `ctxls index --json` with its stderr.
fn index_json_with_log(ws: &TempWorkspace) -> (Value, String) {
    let (status, stdout, stderr) = ws.ctxls(&["index", "--json"]);
    assert!(status.success(), "{stderr}");
    (serde_json::from_str(stdout.trim()).unwrap_or_else(|err| panic!("{err}: {stdout}")), stderr)
}

/// A workspace of `files` small Rust files, indexed once: its cache.
fn indexed_workspace(files: usize) -> (TempWorkspace, std::path::PathBuf) {
    let ws = TempWorkspace::new("");
    for i in 0..files {
        ws.write(&format!("src/m{i}.rs"), &format!("/// Module {i}.\npub struct Item{i} {{ pub value: u64 }}\nimpl Item{i} {{\n    pub fn get_{i}(&self) -> u64 {{ self.value + {i} }}\n}}\n"));
    }
    assert_eq!(index_json(&ws)["reparsed"], files as u64);
    let db = find_db(ws.cache.path());
    assert!(!db.with_extension("sqlite-wal").exists() || std::fs::metadata(db.with_extension("sqlite-wal")).unwrap().len() == 0, "the WAL was folded in on close");
    (ws, db)
}

/// Damaged pages in the middle of the cache (opening it works; a query reaches them):
/// the cache is set aside once and rebuilt, and the next run is warm and says nothing.
#[test]
fn a_cache_with_corrupt_middle_pages_is_set_aside_once_and_rebuilt() {
    let (ws, db) = indexed_workspace(400);
    let mut bytes = std::fs::read(&db).unwrap();
    let page_size = match u16::from_be_bytes([bytes[16], bytes[17]]) {
        1 => 65536,
        size => size as usize,
    };
    let pages = bytes.len() / page_size;
    assert!(pages >= 20, "a cache of {pages} pages");
    // Garbage (xorshift) over a few pages in the middle.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for page in pages / 2 - 2..pages / 2 + 2 {
        for byte in &mut bytes[page * page_size..(page + 1) * page_size] {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *byte = state as u8;
        }
    }
    std::fs::write(&db, &bytes).unwrap();

    let (rebuilt, stderr) = index_json_with_log(&ws);
    assert_eq!(stderr.matches("set aside and rebuilt").count(), 1, "{stderr}");
    assert_eq!(rebuilt["reparsed"], 400, "{rebuilt}");
    assert_eq!(std::fs::read(db.with_extension("sqlite.bad")).unwrap(), bytes, "the damaged file is kept aside, as it was");
    let (warm, stderr) = index_json_with_log(&ws);
    assert_eq!(warm["reparsed"], 0, "{warm}");
    assert_eq!(warm["files"], 400, "{warm}");
    assert!(stderr.trim().is_empty(), "a warm run says nothing: {stderr}");
}

/// Another program's SQLite database under the cache's file name is never written to:
/// it is set aside (intact) once, and the cache is built beside it.
#[test]
fn a_foreign_database_with_the_cache_name_is_set_aside_once_and_left_intact() {
    let (ws, db) = indexed_workspace(3);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep me');").unwrap();
    }
    let foreign = std::fs::read(&db).unwrap();
    let (rebuilt, stderr) = index_json_with_log(&ws);
    assert_eq!(stderr.matches("set aside and rebuilt").count(), 1, "{stderr}");
    assert!(stderr.contains("another program's database"), "{stderr}");
    assert_eq!(rebuilt["reparsed"], 3, "{rebuilt}");
    assert_eq!(std::fs::read(db.with_extension("sqlite.bad")).unwrap(), foreign, "the foreign database is untouched");
    let (warm, stderr) = index_json_with_log(&ws);
    assert_eq!(warm["reparsed"], 0, "{warm}");
    assert!(stderr.trim().is_empty(), "a warm run says nothing: {stderr}");
}

/// Sets the cache's `user_version` to a version ctxls never wrote, with the sqlite3 CLI
/// when present, else by patching the header bytes (offset 60, big-endian).
fn rusqlite_free_version_bump(db: &std::path::Path) -> bool {
    // Fold the WAL into the main file first by running ctxls once more (it checkpoints on
    // close), then patch the header.
    let mut bytes = std::fs::read(db).unwrap();
    if bytes.len() < 100 {
        return false;
    }
    bytes[60..64].copy_from_slice(&999u32.to_be_bytes());
    std::fs::write(db, bytes).unwrap();
    let _ = std::fs::remove_file(db.with_extension("sqlite-wal"));
    let _ = std::fs::remove_file(db.with_extension("sqlite-shm"));
    true
}

fn find_db(cache: &std::path::Path) -> std::path::PathBuf {
    for entry in std::fs::read_dir(cache).unwrap() {
        let candidate = entry.unwrap().path().join("index.sqlite");
        if candidate.exists() {
            return candidate;
        }
    }
    panic!("no cache database under {}", cache.display());
}

#[test]
fn symbols_are_found_fuzzily() {
    let ws = TempWorkspace::new(FIXTURE);
    let (status, stdout, stderr) = ws.ctxls(&["symbols", "tokenize"]);
    assert!(status.success(), "{stderr}");
    assert_eq!(stdout.lines().next(), Some("src/parser.rs:2:8 function tokenize"));
    let (_, stdout, _) = ws.ctxls(&["symbols", "App.start"]);
    assert_eq!(stdout.lines().next(), Some("web/app.ts:2:20 method App.start"));
    let (_, stdout, _) = ws.ctxls(&["symbols", "generated"]);
    assert!(stdout.is_empty(), ".ctxlsignore is honoured: {stdout}");
    let (_, stdout, _) = ws.ctxls(&["symbols", "not_indexed"]);
    assert!(stdout.is_empty(), ".gitignore is honoured: {stdout}");
    let (status, stdout, _) = ws.ctxls(&["symbols", "rendr", "--json"]);
    assert!(status.success());
    let json: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(json[0]["name"], "render");
    assert_eq!(json[0]["file"], "web/view.tsx");
    assert_eq!(json[0]["line"], 1);
}

#[test]
fn symbols_inside_item_macros_are_found() {
    let ws = TempWorkspace::new(
        r#"
//- /Cargo.toml
[package]
name = "demo"
//- /src/lib.rs
cfg_net! {
    /// A TCP stream.
    pub struct TcpStream { inner: u32 }
    cfg_unstable! {
        impl TcpStream {
            pub fn peek(&self) -> usize { 0 }
        }
    }
}
fn main() { println!("{}", TcpListener); }
"#,
    );
    let (status, stdout, stderr) = ws.ctxls(&["symbols", "TcpStream"]);
    assert!(status.success(), "{stderr}");
    assert_eq!(stdout.lines().next(), Some("src/lib.rs:3:16 struct TcpStream"), "{stdout}");
    let (_, stdout, _) = ws.ctxls(&["symbols", "TcpStream::peek"]);
    assert_eq!(stdout.lines().next(), Some("src/lib.rs:6:20 method TcpStream::peek"), "{stdout}");
    let (_, stdout, _) = ws.ctxls(&["symbols", "TcpListener"]);
    assert!(stdout.is_empty(), "a macro's argument is not a definition: {stdout}");
}

#[test]
fn help_describes_every_command() {
    let ws = TempWorkspace::new(FIXTURE);
    let (status, stdout, _) = ws.ctxls(&["--help"]);
    assert!(status.success());
    for command in ["serve", "index", "symbols"] {
        assert!(stdout.contains(command), "{command} in {stdout}");
    }
}

#[test]
fn a_missing_root_is_a_clear_error() {
    let ws = TempWorkspace::new(FIXTURE);
    let (status, _, stderr) = ws.ctxls(&["index", "--root", "/does/not/exist"]);
    assert!(!status.success());
    assert!(stderr.contains("workspace root /does/not/exist"), "{stderr}");
}

#[test]
fn a_file_the_grammar_fails_on_is_still_indexed() {
    let ws = TempWorkspace::new(FIXTURE);
    let mut text = String::from("export function unfinished( {\n\n");
    for i in 0..200 {
        text.push_str(&format!("/** Doc {i}. */\nexport const handler{i} = (a: number): number => a + {i}\n\n"));
    }
    ws.write("web/big.ts", &text);
    let (status, stdout, stderr) = ws.ctxls(&["symbols", "handler199"]);
    assert!(status.success(), "{stderr}");
    assert!(stdout.starts_with("web/big.ts:"), "{stdout}");
}

#[test]
fn context_json_contract() {
    let ws = TempWorkspace::new(FIXTURE);
    let (status, stdout, stderr) = ws.ctxls(&["context", "src/lib.rs:3:60", "--budget", "512", "--format", "json", "--explain"]);
    assert!(status.success(), "{stderr}");
    let out: Value = serde_json::from_str(stdout.trim()).unwrap();
    for key in ["snippets", "prefix_lines", "suffix_lines", "tokens"] {
        assert!(out.get(key).is_some(), "{key} in {out}");
    }
    let snippets = out["snippets"].as_array().unwrap();
    let token = snippets.iter().find(|s| s["text"].as_str().unwrap().starts_with("pub struct Token")).expect("Token's definition");
    assert_eq!(token["file"], "src/parser.rs");
    assert_eq!(token["start_line"], 1, "1-based");
    assert!(token["end_line"].as_u64().unwrap() >= 1);
    assert!(token["sources"].as_array().unwrap().contains(&Value::from("symbol")));
    assert!(token["why"].as_str().unwrap().contains("Token"));
    assert!(out["tokens"].as_u64().unwrap() <= 512);
    // The second call loads the cache's summaries and decodes details on demand (the
    // first parsed every file): the same answer.
    let (status, again, stderr) = ws.ctxls(&["context", "src/lib.rs:3:60", "--budget", "512", "--format", "json", "--explain"]);
    assert!(status.success(), "{stderr}");
    assert_eq!(again, stdout);
    // An absolute path works too, and the text format is for people.
    let abs = format!("{}:3:60", ws.root().join("src/lib.rs").display());
    let (status, stdout, _) = ws.ctxls(&["context", &abs, "--format", "text"]);
    assert!(status.success());
    assert!(stdout.contains(" src/parser.rs:1-1 · relevance "), "{stdout}");
}

#[test]
fn context_text_names_the_position_and_ranks_the_snippets() {
    let ws = TempWorkspace::new(FIXTURE);
    let (status, stdout, stderr) = ws.ctxls(&["context", "src/lib.rs:3:60", "--format", "text", "--budget", "512"]);
    assert!(status.success(), "{stderr}");
    assert_eq!(stdout.lines().next(), Some("Context for src/lib.rs:3:60, in function parse_all (lines 3-3); budget 512 tokens, best first"), "{stdout}");
    // Ranks in order, and each score as a share of the best one's: the first is 100 %.
    let heads: Vec<&str> = stdout.lines().filter(|l| l.starts_with("── ")).collect();
    assert!(heads.len() >= 2, "{stdout}");
    for (i, head) in heads.iter().enumerate() {
        assert!(head.starts_with(&format!("── {}. ", i + 1)), "{head}");
    }
    assert!(heads[0].contains(" · relevance 100% of the best · "), "{stdout}");
    let shares: Vec<u32> = heads.iter().map(|h| h.split("relevance ").nth(1).unwrap().split('%').next().unwrap().parse().unwrap()).collect();
    assert!(shares.iter().all(|&s| s <= 100), "{shares:?}");
    // Outside every definition, the header says so.
    let (_, stdout, _) = ws.ctxls(&["context", "src/lib.rs:1:1", "--format", "text"]);
    assert!(stdout.starts_with("Context for src/lib.rs:1:1, outside any definition;"), "{stdout}");
}

#[test]
fn a_column_past_the_end_of_its_line_is_reported_and_means_its_end() {
    let ws = TempWorkspace::new(FIXTURE);
    let (status, at_end, stderr) = ws.ctxls(&["context", "src/lib.rs:3:80", "--format", "json"]);
    assert!(status.success() && stderr.is_empty(), "one past the last character is the line's end: {stderr}");
    let (status, past, stderr) = ws.ctxls(&["context", "src/lib.rs:3:500", "--format", "json"]);
    assert!(status.success(), "{stderr}");
    assert_eq!(stderr.trim(), "ctxls: warning: src/lib.rs:3:500: line 3 has 79 characters; using its end (column 80)");
    assert_eq!(past, at_end);
    let (_, stdout, _) = ws.ctxls(&["context", "src/lib.rs:3:500", "--format", "text"]);
    assert!(stdout.starts_with("Context for src/lib.rs:3:80, "), "{stdout}");
    // A line past the end of the file is an error.
    let (status, _, stderr) = ws.ctxls(&["context", "src/lib.rs:30:1"]);
    assert!(!status.success() && stderr.contains("src/lib.rs:30:1 is past the end of the file"), "{stderr}");
}

#[test]
fn symbols_says_when_nothing_matches() {
    let ws = TempWorkspace::new(FIXTURE);
    let (status, stdout, stderr) = ws.ctxls(&["symbols", "zzzqqq"]);
    assert_eq!(status.code(), Some(1));
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.starts_with("no symbol matches `zzzqqq` in "), "{stderr}");
}

#[test]
fn chat_help_describes_the_question() {
    let ws = TempWorkspace::new(FIXTURE);
    let (status, stdout, _) = ws.ctxls(&["chat", "-h"]);
    assert!(status.success());
    let question = stdout.lines().find(|l| l.trim_start().starts_with("<QUESTION>")).unwrap_or_else(|| panic!("{stdout}"));
    assert!(question.contains("What to ask"), "{stdout}");
}

/// The README's first command, the main job, stays true: its position is on code (a
/// non-blank line inside a function, not a comment), and the command, run as written on
/// this repository, answers with a header naming that function.
#[test]
fn the_readme_main_job_points_at_code() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(repo.join("README.md")).unwrap();
    let command = readme.lines().map(str::trim).find(|l| l.starts_with("cargo run --release -- context ")).expect("the main job in README.md");
    let args: Vec<&str> = command.split_whitespace().skip(4).collect();
    let position = *args.iter().find(|a| a.split(':').count() == 3).expect("FILE:LINE:COL");
    let mut parts = position.split(':');
    let (file, line, col) = (parts.next().unwrap(), parts.next().unwrap().parse::<usize>().unwrap(), parts.next().unwrap().parse::<usize>().unwrap());
    let text = std::fs::read_to_string(repo.join(file)).unwrap();
    let line_text = text.lines().nth(line - 1).unwrap_or_else(|| panic!("{position}: no line {line}"));
    assert!(!line_text.trim().is_empty(), "{position} is a blank line");
    assert!(col <= line_text.chars().count(), "{position}: column past the line `{line_text}`");
    let code = line_text.trim_start();
    assert!(!code.starts_with("//") && !code.starts_with("/*") && !code.starts_with('*'), "{position} is a comment: {line_text}");
    let lang = ctxls::lang::Lang::from_path(std::path::Path::new(file)).unwrap();
    let tree = ctxls::lang::parse(lang, &text, None);
    let index = ctxls::index::extract(lang, &text, &tree);
    let offset = text.split('\n').take(line - 1).map(|l| l.len() + 1).sum::<usize>() + line_text.char_indices().nth(col - 1).unwrap().0;
    let function = index
        .symbols
        .iter()
        .filter(|s| matches!(s.kind, ctxls::index::SymbolKind::Function | ctxls::index::SymbolKind::Method) && s.range.contains_inclusive(offset as u32))
        .min_by_key(|s| s.range.len())
        .unwrap_or_else(|| panic!("{position} is in no function"));

    let cache = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(support::bin()).args(&args).env("CTXLS_CACHE_DIR", cache.path()).current_dir(repo).output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    let header = format!("Context for {position}, in {} {}", function.kind, index.qualified_name(function));
    assert!(stdout.starts_with(&header), "{header}\n{stdout}");
    assert!(stdout.contains("── 1. ") && stdout.contains("   why: "), "{stdout}");
}

/// Every `cargo install` a reader copies installs what was tested: the locked versions.
#[test]
fn documented_installs_use_the_lock_file() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for doc in ["README.md", "editors/vscode/README.md", "editors/nvim/README.md"] {
        let text = std::fs::read_to_string(repo.join(doc)).unwrap();
        for (i, line) in text.lines().enumerate().filter(|(_, l)| l.contains("cargo install")) {
            assert!(line.contains("cargo install --locked"), "{doc}:{}: {line}", i + 1);
        }
    }
}

#[test]
fn context_uses_the_working_tree_changes_and_keeps_vectors() {
    let ws = TempWorkspace::new(FIXTURE);
    support::commit_all(&ws.root());
    std::thread::sleep(std::time::Duration::from_millis(1100)); // a later mtime for the edit
    // A change elsewhere, to a function the position never names.
    ws.write(
        "src/parser.rs",
        "pub struct Token { pub text: String }\npub fn tokenize(input: &str) -> Vec<Token> { input.split(' ').map(|t| Token { text: t.into() }).collect() }\n\n\n\npub fn render_report(lines: &[String]) -> String { lines.join(\"\\n\") }\n",
    );
    let (status, stdout, stderr) = ws.ctxls(&["context", "src/lib.rs:3:60", "--format", "json", "--explain"]);
    assert!(status.success(), "{stderr}");
    let out: Value = serde_json::from_str(stdout.trim()).unwrap();
    let changed = out["snippets"].as_array().unwrap().iter().find(|s| s["text"].as_str().unwrap().contains("render_report")).unwrap_or_else(|| panic!("the changed function in {out:#}\n{stderr}"));
    assert!(changed["sources"].as_array().unwrap().contains(&Value::from("recency")), "{changed}");
    assert!(changed["why"].as_str().unwrap().contains("changed in the working tree"), "{changed}");

    // Vectors are stored next to the cache and used again by the next call.
    let stored: Vec<_> = walk(ws.cache.path()).into_iter().filter(|p| p.to_string_lossy().ends_with(".usearch")).collect();
    assert_eq!(stored.len(), 1, "one vector store: {stored:?}");
    let (status, stdout, stderr) = ws.ctxls(&["context", "src/lib.rs:3:60", "--generators", "vector", "--format", "json"]);
    assert!(status.success(), "{stderr}");
    let out: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert!(out["snippets"].as_array().unwrap().iter().all(|s| s["sources"] == serde_json::json!(["vector"])), "{out}");
    let (status, _, stderr) = ws.ctxls(&["context", "src/lib.rs:3:60", "--generators", "bogus"]);
    assert!(!status.success() && stderr.contains("unknown generator `bogus`"), "{stderr}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn requirements_are_listed_and_those_in_the_diff_picked_out() {
    let ws = TempWorkspace::new(
        "//- /src/auth.rs\npub fn login(token: &str) -> u16 {\n    // AI: validate the token\n    // and return 401 on failure\n    200\n}\n\
         //- /src/text.rs\npub const NOTE: &str = \"// AI: not a comment\";\n// Why is this a const AI?\n\
         //- /web/app.ts\nexport function f() {\n  /* @ai memoize this */\n  return 1;\n}\n",
    );
    let (status, stdout, stderr) = ws.ctxls(&["requirements"]);
    assert!(status.success(), "{stderr}");
    assert_eq!(
        stdout,
        "src/auth.rs:2 act validate the token and return 401 on failure\nsrc/text.rs:2 ask Why is this a const\nweb/app.ts:2 act memoize this\n"
    );
    let (_, stdout, _) = ws.ctxls(&["requirements", "--json"]);
    let items: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(items[0], serde_json::json!({"file": "src/auth.rs", "line": 2, "end_line": 3, "kind": "act", "text": "validate the token and return 401 on failure"}));

    // Outside a repository, --diff says what it needs.
    let (status, _, stderr) = ws.ctxls(&["requirements", "--diff"]);
    assert!(!status.success() && stderr.contains("not inside a git repository"), "{stderr}");
    // Committed requirements are not in the diff; one added since (unstaged) and one in
    // an untracked file are.
    let repo = support::commit_all(&ws.root());
    ws.write("src/auth.rs", "pub fn login(token: &str) -> u16 {\n    // AI: validate the token\n    // and return 401 on failure\n    200\n}\n// log failed logins AI!\npub fn logout() {}\n");
    ws.write("src/new.rs", "// @ai write a rate limiter\n");
    // And one staged (the working tree then matches the index).
    ws.write("web/app.ts", "export function f() {\n  /* @ai memoize this */\n  return 1;\n}\n// AI: export a g too\n");
    let mut index = repo.index().unwrap();
    index.add_path(std::path::Path::new("web/app.ts")).unwrap();
    index.write().unwrap();
    let (status, stdout, stderr) = ws.ctxls(&["requirements", "--diff"]);
    assert!(status.success(), "{stderr}");
    assert_eq!(stdout, "src/auth.rs:6 act log failed logins\nsrc/new.rs:1 act write a rate limiter\nweb/app.ts:5 act export a g too\n");
}

#[test]
fn requirements_with_the_marker_first_as_aider_writes_them() {
    let ws = TempWorkspace::new(
        "//- /src/calls.rs\npub fn call() {\n    // AI! log the call\n}\n// AI? why is this slow\n// on big inputs\npub fn slow() {}\n\
         //- /web/app.ts\n// ai! export a default too\nexport const x = 1;\n",
    );
    let (status, stdout, stderr) = ws.ctxls(&["requirements"]);
    assert!(status.success(), "{stderr}");
    assert_eq!(stdout, "src/calls.rs:2 act log the call\nsrc/calls.rs:4 ask why is this slow on big inputs\nweb/app.ts:1 act export a default too\n");
}

#[test]
fn workspace_faults_are_survived() {
    let ws = TempWorkspace::new(FIXTURE);
    let root = ws.root();
    // A symlink loop, a dangling symlink, a 20 MB minified bundle, binary and invalid UTF-8.
    std::os::unix::fs::symlink(root.join("loop/b"), root.join("loop_a")).unwrap();
    std::fs::create_dir_all(root.join("loop")).unwrap();
    std::os::unix::fs::symlink(root.join("loop_a"), root.join("loop/b")).unwrap();
    std::os::unix::fs::symlink(root.join("nowhere.rs"), root.join("src/dangling.rs")).unwrap();
    let bundle = format!("var a={};", "x".repeat(20 * 1024 * 1024));
    std::fs::write(root.join("web/bundle.min.js"), bundle).unwrap();
    std::fs::write(root.join("web/blob.ts"), b"export const a = 1;\0\x01\x02").unwrap();
    std::fs::write(root.join("src/latin1.rs"), b"pub fn caf\xe9() -> u8 { 1 }\n").unwrap();
    let out = index_json(&ws);
    assert_eq!(out["files"], 5, "the fixture's four code files and latin1.rs: {out}");
    assert!(out["skipped"].as_u64().unwrap() >= 3, "bundle, binary, symlink: {out}");
    let (status, stdout, stderr) = ws.ctxls(&["symbols", "caf"]);
    assert!(status.success(), "invalid UTF-8 is read lossily: {stderr}");
    assert!(stdout.contains("src/latin1.rs"), "{stdout}");

    // A file deleted after the walk saw it (between two runs here) is dropped from the index.
    std::fs::remove_file(root.join("src/latin1.rs")).unwrap();
    let out = index_json(&ws);
    assert_eq!(out["files"], 4, "{out}");

    // A git repository with no commits: the changes are every file; nothing breaks.
    let git = |args: &[&str]| assert!(std::process::Command::new("git").args(args).current_dir(&root).status().unwrap().success());
    git(&["init", "-q"]);
    let (status, stdout, stderr) = ws.ctxls(&["context", "src/lib.rs:3:5", "--budget", "256"]);
    assert!(status.success(), "{stderr}");
    assert!(serde_json::from_str::<Value>(&stdout).is_ok());
    let (status, _, stderr) = ws.ctxls(&["requirements", "--diff"]);
    assert!(status.success() || stderr.contains("no requirement"), "{stderr}");
    // In the middle of a rebase: the same.
    git(&["add", "-A"]);
    git(&["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "start"]);
    std::fs::create_dir_all(root.join(".git/rebase-merge")).unwrap();
    std::fs::write(root.join(".git/rebase-merge/head-name"), "refs/heads/main\n").unwrap();
    std::fs::write(root.join("src/parser.rs"), "pub struct Token { pub text: String, pub at: usize }\n").unwrap();
    let (status, stdout, stderr) = ws.ctxls(&["context", "src/lib.rs:3:5", "--budget", "256", "--explain"]);
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("recency"), "the working tree's change is still seen: {stdout}");
}

#[test]
fn fifty_thousand_files() {
    let ws = TempWorkspace::new("");
    let root = ws.root();
    for d in 0..500 {
        let dir = root.join(format!("m{d}"));
        std::fs::create_dir_all(&dir).unwrap();
        for f in 0..100 {
            std::fs::write(dir.join(format!("f{f}.rs")), format!("pub fn f{d}_{f}(x: u32) -> u32 {{ x + {f} }}\n")).unwrap();
        }
    }
    let started = std::time::Instant::now();
    let cold = index_json(&ws);
    let cold_seconds = started.elapsed().as_secs_f64();
    assert_eq!((cold["files"].as_u64(), cold["symbols"].as_u64()), (Some(50_000), Some(50_000)), "{cold}");
    let warm = index_json(&ws);
    assert_eq!(warm["reparsed"], 0, "a restart parses nothing: {warm}");
    let (status, stdout, _) = ws.ctxls(&["symbols", "f499_99"]);
    assert!(status.success() && stdout.starts_with("m499/f99.rs:1:8 function f499_99"), "{stdout}");
    println!("50,000 files: cold index {cold_seconds:.1} s (debug build), warm {} s", warm["seconds"]);
}

#[test]
fn a_directory_that_cannot_be_read_is_reported_and_the_rest_indexed() {
    use std::os::unix::fs::PermissionsExt;
    let ws = TempWorkspace::new(FIXTURE);
    let root = ws.root();
    std::fs::create_dir_all(root.join("locked")).unwrap();
    std::fs::write(root.join("locked/hidden.rs"), "pub fn hidden() {}\n").unwrap();
    std::fs::set_permissions(root.join("locked"), std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root reads everything: the server runs as `nobody` then, as a user's would.
    let as_root = std::process::Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(false);
    let mut command = if as_root {
        for dir in [ws.dir.path(), ws.cache.path()] {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]).arg(support::bin());
        c
    } else {
        std::process::Command::new(support::bin())
    };
    let output = command.args(["index", "--json"]).env("CTXLS_CACHE_DIR", ws.cache.path()).current_dir(&root).output().unwrap();
    std::fs::set_permissions(root.join("locked"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let out: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"));
    assert_eq!(out["files"], 4, "the readable code files: {out}");
    assert!(stderr.contains("locked") && stderr.to_lowercase().contains("permission denied"), "the unreadable directory is named: {stderr}");
}

#[test]
fn outline_gives_each_definitions_lines_from_the_parse() {
    let ws = TempWorkspace::new(
        r#"
//- /src/shapes.rs
pub struct Point {
    x: u32,
}
impl Point {
    pub fn norm(&self) -> u32 {
        self.x
    }
}
//- /notes.txt
not code
"#,
    );
    let (status, stdout, stderr) = ws.ctxls(&["outline", "--json", "src/shapes.rs"]);
    assert!(status.success(), "{stderr}");
    let out: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let defs: Vec<(String, String, u64, u64)> = out["definitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["kind"].as_str().unwrap().to_string(), d["name"].as_str().unwrap().to_string(), d["line"].as_u64().unwrap(), d["end_line"].as_u64().unwrap()))
        .collect();
    assert!(defs.contains(&("struct".into(), "Point".into(), 1, 3)), "{defs:?}");
    assert!(defs.contains(&("impl".into(), "Point".into(), 4, 8)), "{defs:?}");
    assert!(defs.contains(&("method".into(), "norm".into(), 5, 7)), "{defs:?}");
    // Text: `path:line-end_line kind name`; a file no language parses is an error, the
    // others are still outlined.
    let (status, stdout, stderr) = ws.ctxls(&["outline", "notes.txt", "src/shapes.rs"]);
    assert_eq!(status.code(), Some(1), "{stdout}");
    assert!(stderr.contains("notes.txt: not a language ctxls parses"), "{stderr}");
    assert!(stdout.contains("src/shapes.rs:5-7 method Point::norm"), "{stdout}");
}

/// A big, flat file of bindings is indexed as a generated declaration file: `ctxls index`
/// says so and counts it, its symbols are found by `symbols` and retrieved by name for a
/// use elsewhere, its identifier uses and text are not indexed.
#[test]
fn generated_declaration_files_are_counted_and_their_symbols_found() {
    let bindings: String = (0..600).map(|i| format!("pub const WM_{i}: u32 = 0x{i:04x};\n")).collect();
    let ws = TempWorkspace::new(&format!(
        "//- /src/lib.rs\npub mod sys;\n\npub fn close_message() -> u32 {{\n    sys::WM_16 + 1\n}}\n//- /src/sys.rs\n{bindings}"
    ));
    let (status, stdout, stderr) = ws.ctxls(&["index"]);
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("\n1 of them generated declaration files (500+ lines, a definition every 2 lines or less): their symbols indexed, not their references or text."), "{stdout}");
    let (json, _) = index_json_with_log(&ws);
    assert_eq!((json["files"].as_u64(), json["generated"].as_u64(), json["symbols"].as_u64()), (Some(2), Some(1), Some(602)), "{json}");
    // lib.rs's uses only, `sys` and `WM_16`: the generated file's `u32`s are not counted.
    assert_eq!(json["references"].as_u64(), Some(2), "{json}");
    let (status, stdout, stderr) = ws.ctxls(&["symbols", "WM_42"]);
    assert!(status.success(), "{stderr}");
    assert!(stdout.starts_with("src/sys.rs:43:11 "), "{stdout}");
    let (status, stdout, stderr) = ws.ctxls(&["context", "src/lib.rs:5:10", "--budget", "512", "--format", "json"]);
    assert!(status.success(), "{stderr}");
    let out: Value = serde_json::from_str(stdout.trim()).unwrap();
    let texts: Vec<&str> = out["snippets"].as_array().unwrap().iter().map(|s| s["text"].as_str().unwrap()).collect();
    assert!(texts.iter().any(|t| t.starts_with("pub const WM_16: u32 = 0x0010;")), "{texts:?}");
}

/// `[index] generated_files = "full"` indexes generated declaration files like any
/// other; switching the setting on a cache extracts those files again and only them,
/// both ways; a value that is neither is reported and the default kept.
#[test]
fn generated_files_full_indexes_them_whole_and_a_switch_extracts_only_them_again() {
    let bindings: String = (0..600).map(|i| format!("pub const WM_{i}: Msg = Msg(0x{i:04x});\n")).collect();
    let ws = TempWorkspace::new(&format!(
        "//- /src/lib.rs\npub mod sys;\n\npub struct Msg(pub u32);\n\npub fn close_message() -> u32 {{\n    sys::WM_16.0 + 1\n}}\n//- /src/other.rs\npub fn other() -> u8 {{ 1 }}\n//- /src/sys.rs\nuse crate::Msg;\n{bindings}"
    ));
    let cold = index_json(&ws);
    assert_eq!((cold["reparsed"].as_u64(), cold["generated"].as_u64()), (Some(3), Some(1)), "{cold}");
    let counts = |json: &Value| ["files", "symbols", "references", "chunks", "bytes", "generated"].map(|k| json[k].as_u64().unwrap());

    ws.write(".ctxls.toml", "[index]\ngenerated_files = \"full\"\n");
    let full = index_json(&ws);
    assert_eq!((full["reparsed"].as_u64(), full["generated"].as_u64()), (Some(1), Some(0)), "sys.rs only: {full}");
    // Each binding's `Msg` twice, and its uses are indexed, chunked, searchable.
    assert!(full["references"].as_u64().unwrap() >= cold["references"].as_u64().unwrap() + 1200, "{full}");
    assert!(full["chunks"].as_u64().unwrap() > cold["chunks"].as_u64().unwrap(), "{full}");
    assert_eq!(full["symbols"], cold["symbols"]);
    let (status, stdout, _) = ws.ctxls(&["index"]);
    assert!(status.success() && !stdout.contains("generated declaration files"), "{stdout}");
    let warm = index_json(&ws);
    assert_eq!(warm["reparsed"], 0, "{warm}");
    assert_eq!(counts(&warm), counts(&full));

    ws.write(".ctxls.toml", "[index]\ngenerated_files = \"symbols\"\n");
    let back = index_json(&ws);
    assert_eq!(back["reparsed"], 1, "sys.rs only: {back}");
    assert_eq!(counts(&back), counts(&cold));

    ws.write(".ctxls.toml", "[index]\ngenerated_files = \"everything\"\n");
    let (status, stdout, stderr) = ws.ctxls(&["index", "--json"]);
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("`index.generated_files`: unknown variant `everything`, expected `symbols` or `full`; using the default"), "{stderr}");
    let bad: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(bad["reparsed"], 0, "the default, as cached: {bad}");
    assert_eq!(counts(&bad), counts(&cold));
}
