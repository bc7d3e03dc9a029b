//! The server in the editor's seat, on a large workspace: the built binary over stdio, the
//! model a scripted server on 127.0.0.1 answering at once (Ollama's wire format). Prints
//! medians and ratios:
//! - inline completion round trip (request in, answer out) at distinct positions, against
//!   the bare model call (the same HTTP request sent straight to the scripted server);
//!   the difference is the server's overhead;
//! - hover without the explanation;
//! - a `didChange` (followed by a `documentSymbol` that shows it) while a completion waits
//!   2 s on the model, against the same pair with nothing waiting;
//! - resident memory with the workspace indexed and embedded.
//!
//! Usage: `cargo bench --bench lsp -- ROOT [POSITIONS]` (ROOT defaults to
//! `$CTXLS_BENCH_CORPUS`); the cache is kept in `target/bench-lsp-cache` between runs.
//! `CTXLS_BENCH_HOLD_SECS=N` keeps the server running N seconds after the memory figure,
//! for a heap profiler's snapshot of it (see ARCHITECTURE.md, "mimalloc, and the system
//! allocator for heap profiles").

#[path = "../tests/support/mod.rs"]
mod support;
#[path = "../tests/support/llm_server.rs"]
mod llm_server;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use llm_server::{Reply, ScriptedServer};
use serde_json::{json, Value};
use support::{uri, LspClient};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let root = args.first().map(PathBuf::from).or_else(|| std::env::var_os("CTXLS_BENCH_CORPUS").map(PathBuf::from));
    let Some(root) = root else {
        eprintln!("usage: cargo bench --bench lsp -- ROOT [POSITIONS] (or set CTXLS_BENCH_CORPUS)");
        return;
    };
    let wanted: usize = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(40);
    let root = root.canonicalize().expect("root exists");
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let server = runtime.block_on(ScriptedServer::start());
    server.fallback(Reply::ollama(&["x"], false));
    let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-lsp-cache");
    std::fs::create_dir_all(&cache).unwrap();

    let mut client = LspClient::start(&cache);
    let started = Instant::now();
    let options = json!({
        "llm": {"base_url": server.url(), "retries": 0},
        "completion": {"debounce_ms": 0},
        "hover": {"explain": false}
    });
    client.initialize(&root, options);
    client.wait_for(Duration::from_secs(600), |m| m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end");
    let indexed = started.elapsed();
    // Embedding reports its own progress only when there is something to embed.
    let embedded = client.wait_for_optional(Duration::from_secs(5), |m| {
        m["method"] == "$/progress" && m["params"]["token"].as_str().is_some_and(|t| t.contains("embed")) && m["params"]["value"]["kind"] == "begin"
    });
    if embedded.is_some() {
        client.wait_for(Duration::from_secs(900), |m| {
            m["method"] == "$/progress" && m["params"]["token"].as_str().is_some_and(|t| t.contains("embed")) && m["params"]["value"]["kind"] == "end"
        });
    }
    println!("ctxls serve on {} ({:.1} s to index{})", root.display(), indexed.as_secs_f64(), if embedded.is_some() { ", then embedding" } else { "" });

    let positions = positions(&root, wanted);
    for (path, text, _, _) in &positions {
        client.notify("textDocument/didOpen", json!({"textDocument": {"uri": uri(path), "languageId": "rust", "version": 1, "text": text}}));
    }
    // Warm-up: the first request loads the tokenizer (slow under a heap profiler).
    let (path, _, line, col) = &positions[0];
    let warm_up = client.send_request("textDocument/inlineCompletion", inline(path, *line, *col));
    client.response(warm_up, Duration::from_secs(600)).expect("the warm-up completion is answered");

    // The bare model call: the request the server would send, straight to the model.
    let http = reqwest::Client::new();
    let body = json!({"model": "m", "prompt": "fn main() {", "suffix": "}", "stream": true});
    let mut bare = Vec::new();
    for _ in 0..positions.len() {
        let t = Instant::now();
        runtime.block_on(async {
            let response = http.post(format!("{}/api/generate", server.url())).json(&body).send().await.unwrap();
            let _ = response.bytes().await.unwrap();
        });
        bare.push(ms(t));
    }

    let mut completions = Vec::new();
    for (path, _, line, col) in &positions {
        let t = Instant::now();
        let response = client.request("textDocument/inlineCompletion", inline(path, *line, *col + 1));
        completions.push(ms(t));
        assert!(response.get("error").is_none(), "{response}");
    }
    // The same places again, a column to the left (not answered from memory): the files
    // retrieval reads were read once, their details decoded within the budget.
    let mut again = Vec::new();
    for (path, _, line, col) in &positions {
        let t = Instant::now();
        let response = client.request("textDocument/inlineCompletion", inline(path, *line, *col));
        again.push(ms(t));
        assert!(response.get("error").is_none(), "{response}");
    }
    // As typing pauses: an automatic request waits for the debounce, during which the
    // context is gathered; the overhead is what is left beyond the debounce and the model.
    client.notify("workspace/didChangeConfiguration", json!({"settings": {"completion": {"debounce_ms": DEBOUNCE_MS}}}));
    std::thread::sleep(Duration::from_millis(500));
    let mut automatic = Vec::new();
    for (path, _, line, col) in &positions {
        let params = json!({"textDocument": {"uri": uri(path)}, "position": {"line": line, "character": col + 2}, "context": {"triggerKind": 2}});
        let t = Instant::now();
        let response = client.request("textDocument/inlineCompletion", params);
        automatic.push(ms(t) - DEBOUNCE_MS as f64);
        assert!(response.get("error").is_none(), "{response}");
    }
    let mut hovers = Vec::new();
    for (path, text, line, _) in &positions {
        let (hover_line, hover_col) = name_position(text, *line);
        let t = Instant::now();
        let response = client.request("textDocument/hover", json!({"textDocument": {"uri": uri(path)}, "position": {"line": hover_line, "character": hover_col}}));
        hovers.push(ms(t));
        assert!(response.get("error").is_none(), "{response}");
    }

    // An edit while a completion waits 2 s on the model, and the same with nothing waiting.
    let mut edit_waiting = Vec::new();
    let mut edit_idle = Vec::new();
    let rounds = positions.len().min(10);
    for (i, (path, _, line, col)) in positions.iter().take(rounds).enumerate() {
        let version = 10 + 2 * i as i64;
        edit_idle.push(edit_and_symbols(&mut client, path, version));
        server.push(Reply::ollama(&["late"], false).delay_first(Duration::from_secs(2)));
        let seen = server.requests().len();
        let pending = client.send_request("textDocument/inlineCompletion", inline(path, *line + 1, *col));
        let deadline = Instant::now() + Duration::from_secs(10);
        while server.requests().len() == seen && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        edit_waiting.push(edit_and_symbols(&mut client, path, version + 1));
        client.response(pending, Duration::from_secs(10)).expect("the slow completion is answered");
    }
    // Where the next edit goes after those edits (`ctxls/nextEdit`, places only: the
    // session's edits diffed against the files' first texts, then ranked).
    let mut next_edit = Vec::new();
    for (path, _, line, col) in positions.iter().take(rounds) {
        let t = Instant::now();
        let response = client.request("ctxls/nextEdit", json!({"textDocument": {"uri": uri(path)}, "position": {"line": line, "character": col}, "rewrite": false, "invoked": true}));
        next_edit.push(ms(t));
        assert!(response.get("error").is_none(), "{response}");
    }
    let (rss, peak, anon) = memory(client.pid());

    let bare_median = median(&mut bare);
    let completion_median = median(&mut completions);
    println!("  inline completion round trip   median {completion_median:7.2} ms   p90 {:7.2} ms", p90(&completions));
    println!("  bare model call (reference)    median {bare_median:7.2} ms   ratio {:5.2} x", completion_median / bare_median);
    println!("  server overhead per completion median {:7.2} ms (invoked: no debounce, retrieval included)", completion_median - bare_median);
    println!("  the same places again          median {:7.2} ms overhead (the files retrieval reads read before)", median(&mut again) - bare_median);
    let automatic_median = median(&mut automatic);
    println!(
        "  automatic, beyond the {DEBOUNCE_MS} ms debounce median {automatic_median:7.2} ms   p90 {:7.2} ms; overhead {:7.2} ms (target < 5 ms)",
        p90(&automatic),
        automatic_median - bare_median
    );
    println!("  hover (no explanation)         median {:7.2} ms   p90 {:7.2} ms (target < 5 ms)", median(&mut hovers), p90(&hovers));
    let waiting = median(&mut edit_waiting);
    let idle = median(&mut edit_idle);
    println!("  didChange + documentSymbol while a completion waits 2 s: median {waiting:7.2} ms, idle {idle:7.2} ms, ratio {:5.2} x (target < 5 ms)", waiting / idle);
    println!("  ctxls/nextEdit, places only, after {rounds} files' edits: median {:7.2} ms   p90 {:7.2} ms", median(&mut next_edit), p90(&next_edit));
    println!("  resident memory {rss} MiB, peak {peak} MiB, of which anonymous {anon} MiB (the rest: the binary and memory-mapped files, such as the vectors) (target <= 250 MiB, 400 on the large corpus)");
    if let Some(seconds) = std::env::var("CTXLS_BENCH_HOLD_SECS").ok().and_then(|s| s.parse().ok()) {
        // Time for a heap profiler's snapshot of the server as measured (see ARCHITECTURE.md).
        std::thread::sleep(Duration::from_secs(seconds));
    }
    client.shutdown();
}

/// The default debounce.
const DEBOUNCE_MS: u64 = 150;

fn inline(path: &Path, line: u32, character: u32) -> Value {
    json!({"textDocument": {"uri": uri(path)}, "position": {"line": line, "character": character}, "context": {"triggerKind": 1}})
}

/// Inserts a comment line at the top of the file and asks for its symbols: the time until
/// the answer (which reflects the edit).
fn edit_and_symbols(client: &mut LspClient, path: &Path, version: i64) -> f64 {
    let t = Instant::now();
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri(path), "version": version}, "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "// edit\n"}]}),
    );
    let response = client.request("textDocument/documentSymbol", json!({"textDocument": {"uri": uri(path)}}));
    assert!(response.get("error").is_none(), "{response}");
    ms(t)
}

/// Positions on the first body line of the first function of every 25th Rust file over
/// 4 KB (sorted paths): (path, text, zero-based line, column).
fn positions(root: &Path, wanted: usize) -> Vec<(PathBuf, String, u32, u32)> {
    let mut files = Vec::new();
    collect(root, &mut files);
    files.sort();
    let mut out = Vec::new();
    for path in files.iter().step_by(25) {
        let Ok(text) = std::fs::read_to_string(path) else { continue };
        if text.len() < 4096 {
            continue;
        }
        let Some(line) = text.lines().position(|l| {
            let t = l.trim_start();
            (t.starts_with("fn ") || t.starts_with("pub fn ")) && t.trim_end().ends_with('{')
        }) else {
            continue;
        };
        let indent = text.lines().nth(line + 1).map_or(4, |l| l.len() - l.trim_start().len()) as u32;
        out.push((path.clone(), text, line as u32 + 1, indent));
        if out.len() == wanted {
            break;
        }
    }
    assert!(!out.is_empty(), "no Rust functions under {}", root.display());
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') || name == "target" || name == "node_modules" {
            continue;
        }
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The name of the function declared on the line before `body_line`.
fn name_position(text: &str, body_line: u32) -> (u32, u32) {
    let line = body_line - 1;
    let declaration = text.lines().nth(line as usize).unwrap_or("");
    let at = declaration.find("fn ").map_or(0, |i| i + 3);
    (line, declaration[..at].encode_utf16().count() as u32 + 1)
}

fn memory(pid: u32) -> (u64, u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status.lines().find(|l| l.starts_with(name)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) / 1024
    };
    (field("VmRSS:"), field("VmHWM:"), field("RssAnon:"))
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn p90(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[(sorted.len() * 9 / 10).min(sorted.len() - 1)]
}
