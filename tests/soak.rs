//! The soak: a long editing session against the built server and the scripted model —
//! 30,000 keystrokes (`didChange`) and 3,000 inline completion requests, a third of them
//! cancelled by the client and most superseded by the next keystroke's request. Every
//! request must be answered (a result, or `RequestCancelled`), nothing may panic, and the
//! server's memory after the soak must be within 10% of what it was once warmed up. The
//! figures are printed (docs/reliability.md quotes them).

mod support;
#[path = "support/llm_server.rs"]
mod llm_server;

use std::time::{Duration, Instant};

use llm_server::Reply;
use serde_json::json;
use support::{LspClient, TempWorkspace};

const KEYSTROKES: usize = 30_000;
/// A completion request every this many keystrokes (3,000 in all).
const EVERY: usize = 10;

/// The server's resident memory. The memory check cannot pass without it: a machine
/// without a readable `/proc` fails the test rather than skipping the check.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_else(|err| panic!("/proc/{pid}/status: {err}"));
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok()).unwrap_or_else(|| panic!("no VmRSS in /proc/{pid}/status"))
}

#[test]
fn a_long_session_answers_everything_and_keeps_its_memory() {
    let (_runtime, server) = llm_server::with_server(Vec::new());
    server.fallback(Reply::ollama(&["x + 1"], false));
    let ws = TempWorkspace::new("//- /src/lib.rs\npub fn base() -> u32 {\n    1\n}\n\npub fn grow(x: u32) -> u32 {\n    \n}\n");
    ws.write(".ctxls.toml", &format!("[llm]\nbase_url = \"{}\"\nretries = 0\n[completion]\ndebounce_ms = 0\n[hover]\nexplain = false\n", server.url()));
    let root = ws.root();
    // glibc gives each thread that allocates at once an arena of its own: how many depends
    // on the machine's load (blocking-pool threads busy together), not on what the server
    // keeps. Two arenas make the resident size measure what is kept.
    let mut client = LspClient::start_with_env(ws.cache.path(), &[("MALLOC_ARENA_MAX", "2")]);
    client.initialize(&root, serde_json::Value::Null);
    client.wait_indexed();
    let lib = client.open_file(&root, "src/lib.rs", "rust");

    let started = Instant::now();
    let mut version = 1;
    let mut pending: Vec<i64> = Vec::new();
    let mut baseline = 0;
    let mut column = 4u32;
    for stroke in 0..KEYSTROKES {
        // Type into the empty body of `grow`; every 40 characters, take them back out.
        version += 1;
        let change = if column < 44 {
            column += 1;
            json!({"range": {"start": {"line": 6, "character": column - 1}, "end": {"line": 6, "character": column - 1}}, "text": "a"})
        } else {
            column = 4;
            json!({"range": {"start": {"line": 6, "character": 4}, "end": {"line": 6, "character": 44}}, "text": ""})
        };
        client.notify("textDocument/didChange", json!({"textDocument": {"uri": lib, "version": version}, "contentChanges": [change]}));
        if stroke % EVERY == EVERY - 1 {
            let id = client.send_request(
                "textDocument/inlineCompletion",
                json!({"textDocument": {"uri": lib}, "position": {"line": 6, "character": column}, "context": {"triggerKind": 2}}),
            );
            if stroke % (3 * EVERY) == EVERY - 1 {
                client.notify("$/cancelRequest", json!({"id": id}));
            }
            pending.push(id);
        }
        if stroke == KEYSTROKES / 10 {
            // Warmed up: the first tenth is done; collect what is in flight and measure.
            for id in std::mem::take(&mut pending) {
                client.response(id, Duration::from_secs(60)).expect("answered");
            }
            std::thread::sleep(Duration::from_millis(300));
            baseline = rss_kib(client.pid());
        }
    }
    let mut cancelled = 0;
    let mut completed = 0;
    let mut answered = (KEYSTROKES / 10 + 1) / EVERY;
    for id in pending {
        let response = client.response(id, Duration::from_secs(60)).unwrap_or_else(|| panic!("request {id} was never answered"));
        answered += 1;
        match response.get("error") {
            Some(error) => {
                assert_eq!(error["code"], -32800, "only cancellations: {response}");
                cancelled += 1;
            }
            None => completed += 1,
        }
    }
    let elapsed = started.elapsed();
    std::thread::sleep(Duration::from_millis(500));
    let after = rss_kib(client.pid());
    // The server still serves, and its document is what the keystrokes made it.
    let symbols = client.request("textDocument/documentSymbol", json!({"textDocument": {"uri": lib}}));
    assert!(symbols["result"].as_array().is_some_and(|s| s.len() == 2), "{symbols}");
    println!(
        "soak: {KEYSTROKES} didChange + {} inline completions in {:.1} s; answered {answered}: {completed} completed, {cancelled} cancelled or superseded (after warm-up); model requests {}; RSS warmed up {} KiB, after {} KiB ({:+.1}%)",
        KEYSTROKES / EVERY,
        elapsed.as_secs_f64(),
        server.requests().len(),
        baseline,
        after,
        (after as f64 - baseline as f64) * 100.0 / baseline as f64
    );
    assert_eq!(answered, KEYSTROKES / EVERY, "every request answered");
    assert!(cancelled > 0 && completed > 0);
    assert!(after as f64 <= baseline as f64 * 1.10, "memory grew more than 10%: {baseline} -> {after} KiB");
    assert!(client.shutdown().success());
}
