//! The server over stdio, as an editor drives it: the built binary, real frames.

mod support;

use std::time::Duration;

use serde_json::{json, Value};
use support::{uri, LspClient, TempWorkspace};

const FIXTURE: &str = r#"
//- /src/lib.rs
pub mod shapes;
pub fn area_sum(items: &[shapes::Circle]) -> f64 { items.iter().map(|c| c.area()).sum() }
//- /src/shapes.rs
/// A circle.
pub struct Circle { pub radius: f64 }
impl Circle {
    pub fn area(&self) -> f64 { 3.14 * self.radius * self.radius }
}
//- /web/main.ts
export class Greeter { greet(name: string): string { return `hi ${name}`; } }
"#;

fn symbol_names(response: &Value) -> Vec<String> {
    response["result"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect()
}

#[test]
fn index_edit_and_query_over_stdio() {
    let ws = TempWorkspace::new(FIXTURE);
    let root = ws.root();
    let mut client = LspClient::start(ws.cache.path());
    let init = client.initialize(&root, json!({"index": {"max_file_size": 100000}}));
    let caps = &init["result"]["capabilities"];
    assert_eq!(caps["positionEncoding"], "utf-16");
    assert_eq!(caps["textDocumentSync"]["change"], 2, "incremental sync");
    assert_eq!(caps["documentSymbolProvider"], true);
    assert_eq!(caps["workspaceSymbolProvider"], true);
    client.wait_indexed();
    // The watcher was registered with the client.
    client.wait_for(Duration::from_secs(5), |m| {
        m["method"] == "client/registerCapability"
            && m["params"]["registrations"][0]["method"] == "workspace/didChangeWatchedFiles"
    });

    let found = client.request("workspace/symbol", json!({"query": "circle"}));
    assert_eq!(symbol_names(&found)[0], "Circle", "{found}");
    let location = &found["result"][0]["location"];
    assert_eq!(location["uri"], uri(&root.join("src/shapes.rs")));
    assert_eq!(location["range"]["start"], json!({"line": 1, "character": 11}));

    // Open a document, then edit it incrementally: rename `area` to `surface` and add a
    // method with a non-ASCII string before it on the same line.
    let shapes = client.open_file(&root, "src/shapes.rs", "rust");
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": shapes, "version": 2},
            "contentChanges": [
                {"range": {"start": {"line": 3, "character": 11}, "end": {"line": 3, "character": 15}}, "text": "surface"},
                {"range": {"start": {"line": 3, "character": 4}, "end": {"line": 3, "character": 4}}, "text": "pub fn é() -> &'static str { \"ü\" } "}
            ]
        }),
    );
    let symbols = client.request("textDocument/documentSymbol", json!({"textDocument": {"uri": shapes}}));
    let circle = &symbols["result"][0];
    assert_eq!(circle["name"], "Circle");
    assert_eq!(circle["detail"], "pub struct Circle");
    let imp = &symbols["result"][1];
    let methods: Vec<&str> = imp["children"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(methods, ["é", "surface"], "{symbols}");
    // `surface` starts after `pub fn é() -> &'static str { "ü" } pub fn `: UTF-16 columns.
    let prefix = "    pub fn é() -> &'static str { \"ü\" } pub fn ";
    let utf16_col = prefix.encode_utf16().count();
    assert_eq!(imp["children"][1]["selectionRange"]["start"], json!({"line": 3, "character": utf16_col}));

    // The edit reached the workspace index; the old name is gone.
    let renamed = client.request("workspace/symbol", json!({"query": "surface"}));
    assert_eq!(symbol_names(&renamed)[0], "surface");
    let old = client.request("workspace/symbol", json!({"query": "area"}));
    assert!(!symbol_names(&old).contains(&"area".to_string()), "{old}");

    // A version going backwards is refused; the document keeps its text.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": shapes, "version": 1}, "contentChanges": [{"text": "fn replaced() {}"}]}),
    );
    let still = client.request("textDocument/documentSymbol", json!({"textDocument": {"uri": shapes}}));
    assert_eq!(still["result"][0]["name"], "Circle");

    // A new file on disk, announced by the watcher, is indexed.
    ws.write("web/extra.ts", "export function freshlyAdded() {}\n");
    client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&root.join("web/extra.ts")), "type": 1}]}),
    );
    let mut found = Vec::new();
    for _ in 0..50 {
        found = symbol_names(&client.request("workspace/symbol", json!({"query": "freshlyAdded"})));
        if !found.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(found.first().map(String::as_str), Some("freshlyAdded"));

    // Unknown methods get an error, and the server keeps serving.
    let unknown = client.request("ctxls/noSuchMethod", json!({}));
    assert_eq!(unknown["error"]["code"], -32601);
    let status = client.shutdown();
    assert!(status.success());
}

#[test]
fn bad_configuration_is_shown_and_the_server_goes_on() {
    let ws = TempWorkspace::new(FIXTURE);
    ws.write(".ctxls.toml", "[index]\nmax_file_size = -3\n");
    let root = ws.root();
    let mut client = LspClient::start(ws.cache.path());
    client.initialize(&root, json!({"index": {"nonsense": true}}));
    let first = client.wait_for(Duration::from_secs(10), |m| {
        m["method"] == "window/showMessage" && m["params"]["message"].as_str().unwrap().contains("index.max_file_size")
    });
    assert_eq!(first["params"]["type"], 2, "a warning");
    client.wait_for(Duration::from_secs(10), |m| {
        m["method"] == "window/showMessage" && m["params"]["message"].as_str().unwrap().contains("index.nonsense")
    });
    client.wait_indexed();
    let found = client.request("workspace/symbol", json!({"query": "Greeter"}));
    assert_eq!(symbol_names(&found)[0], "Greeter");
    client.notify("workspace/didChangeConfiguration", json!({"settings": {"index": {"max_line_length": "long"}}}));
    client.wait_for(Duration::from_secs(10), |m| {
        m["method"] == "window/showMessage" && m["params"]["message"].as_str().unwrap().contains("index.max_line_length")
    });
    assert!(client.shutdown().success());
}

#[test]
fn malformed_frames_do_not_stop_the_server() {
    let ws = TempWorkspace::new(FIXTURE);
    let root = ws.root();
    let mut client = LspClient::start(ws.cache.path());
    client.initialize(&root, json!(null));
    client.send_raw(b"Content-Length: 12\r\n\r\n{not json!!}");
    client.notify("textDocument/didChange", json!({"textDocument": {"uri": "file:///nowhere.rs", "version": 3}, "contentChanges": []}));
    let found = client.request("workspace/symbol", json!({"query": "Greeter"}));
    assert!(found.get("result").is_some(), "{found}");
    assert!(client.shutdown().success());
}

#[test]
fn protocol_abuse_gets_errors_or_is_ignored_and_the_server_goes_on() {
    let ws = TempWorkspace::new(FIXTURE);
    let root = ws.root();
    let mut client = LspClient::start_indexed(&ws);
    // Broken frames: a length that is not a number, one far too large, invalid JSON.
    client.send_raw(b"Content-Length: abc\r\n\r\n{}");
    client.send_raw(b"Content-Length: 12\r\n\r\n{not json!!}");
    // Unknown method, wrong parameter types.
    let unknown = client.request("textDocument/teleport", json!({}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    let wrong = client.request("textDocument/hover", json!({"textDocument": 42, "position": "here"}));
    assert_eq!(wrong["error"]["code"], -32602, "{wrong}");
    let wrong = client.request("workspace/executeCommand", json!({"command": "ctxls.explain", "arguments": ["not an object"]}));
    assert_eq!(wrong["error"]["code"], -32602, "{wrong}");
    // Documents: other schemes, outside the workspace, unopened, versions going back.
    let lib = uri(&root.join("src/lib.rs"));
    let text = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
    client.notify("textDocument/didOpen", json!({"textDocument": {"uri": "untitled:Untitled-1", "languageId": "rust", "version": 1, "text": "fn x() {}"}}));
    client.notify("textDocument/didOpen", json!({"textDocument": {"uri": "file:///etc/elsewhere.rs", "languageId": "rust", "version": 1, "text": "fn y() {}"}}));
    client.notify("textDocument/didChange", json!({"textDocument": {"uri": "file:///never/opened.rs", "version": 2}, "contentChanges": [{"text": "x"}]}));
    client.notify("textDocument/didOpen", json!({"textDocument": {"uri": lib, "languageId": "rust", "version": 5, "text": text}}));
    client.notify("textDocument/didChange", json!({"textDocument": {"uri": lib, "version": 4}, "contentChanges": [{"text": "pub fn stale() {}"}]}));
    // Positions past the end of the document and of a line.
    let hover = client.request("textDocument/hover", json!({"textDocument": {"uri": lib}, "position": {"line": 9999, "character": 9999}}));
    assert!(hover.get("error").is_none() || hover["error"]["code"] == -32602, "{hover}");
    let symbols = client.request("textDocument/documentSymbol", json!({"textDocument": {"uri": lib}}));
    let names: Vec<&str> = symbols["result"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"area_sum") && !names.contains(&"stale"), "the change with an older version was refused: {names:?}");
    let outside = client.request("textDocument/documentSymbol", json!({"textDocument": {"uri": "untitled:Untitled-1"}}));
    assert!(outside.get("error").is_none(), "a document of another scheme is served too: {outside}");
    let found = client.request("workspace/symbol", json!({"query": "Greeter"}));
    assert_eq!(symbol_names(&found), ["Greeter"], "the server still serves: {found}");
    assert!(client.shutdown().success());
}

#[test]
fn a_panicking_handler_is_answered_with_an_internal_error_and_the_server_goes_on() {
    let ws = TempWorkspace::new(FIXTURE);
    let root = ws.root();
    let mut client = LspClient::start_with_env(ws.cache.path(), &[("CTXLS_DEBUG_COMMANDS", "1")]);
    client.initialize(&root, json!(null));
    client.wait_indexed();
    for _ in 0..3 {
        let answer = client.request("workspace/executeCommand", json!({"command": "ctxls.debug.panic", "arguments": []}));
        assert_eq!(answer["error"]["code"], -32603, "{answer}");
        assert_eq!(answer["error"]["message"], "ctxls: internal error in workspace/executeCommand: ctxls.debug.panic was run");
    }
    let found = client.request("workspace/symbol", json!({"query": "Circle"}));
    assert_eq!(symbol_names(&found), ["Circle", "Circle"], "the server still serves (the struct and its impl): {found}");
    assert!(client.shutdown().success());
}

#[test]
fn chunks_are_embedded_in_the_background_with_progress() {
    let ws = TempWorkspace::new(FIXTURE);
    let root = ws.root();
    let mut client = LspClient::start(ws.cache.path());
    client.initialize(&root, json!({}));
    let begin = client.wait_for(Duration::from_secs(60), |m| {
        m["method"] == "$/progress" && m["params"]["value"]["kind"] == "begin" && m["params"]["value"]["title"].as_str().is_some_and(|t| t.starts_with("Embedding"))
    });
    let token = begin["params"]["token"].clone();
    // Requests are answered while it runs.
    let symbols = client.request("workspace/symbol", json!({"query": "Circle"}));
    assert!(symbols.get("result").is_some(), "{symbols}");
    let end = client.wait_for(Duration::from_secs(60), |m| m["method"] == "$/progress" && m["params"]["token"] == token && m["params"]["value"]["kind"] == "end");
    assert!(end["params"]["value"]["message"].as_str().unwrap().contains("chunks embedded"), "{end}");
    let stored = std::fs::read_dir(ws.cache.path())
        .unwrap()
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .any(|f| f.path().to_string_lossy().ends_with("vectors-builtin-hash-256-v1.usearch"));
    assert!(stored, "the vectors are kept next to the cache");
    assert!(client.shutdown().success());
}

/// A frame around `body` (any bytes).
fn frame(body: &[u8]) -> Vec<u8> {
    [format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes(), body].concat()
}

/// Valid JSON that is not JSON-RPC, and bytes that are not JSON (or not UTF-8), each get
/// the JSON-RPC error they deserve on stdout, in a frame of their own; the next request
/// is answered every time.
#[test]
fn frames_that_are_not_json_rpc_are_answered_with_errors_and_the_session_goes_on() {
    let ws = TempWorkspace::new(FIXTURE);
    let mut client = LspClient::start_indexed(&ws);
    let cases: &[(&[u8], i64, Value)] = &[
        (b"{}", -32600, Value::Null),
        (b"[]", -32600, Value::Null),
        (br#""x""#, -32600, Value::Null),
        (b"42", -32600, Value::Null),
        (br#"[{"jsonrpc":"2.0","id":900,"method":"workspace/symbol","params":{"query":"x"}},{"jsonrpc":"2.0","method":"initialized","params":{}}]"#, -32600, Value::Null),
        (br#"{"jsonrpc":"2.0","id":901,"method":42}"#, -32600, json!(901)),
        (br#"{"jsonrpc":"2.0","id":1.5,"method":"workspace/symbol","params":{"query":"x"}}"#, -32600, Value::Null),
        (br#"{"jsonrpc":"2.0","id":{"a":1},"method":"workspace/symbol","params":{"query":"x"}}"#, -32600, Value::Null),
        (b"{\"jsonrpc\":\"2.0\",\"id\":902,\"method\":\"workspace/symbol\",\"params\":{\"query\":\"\xff\xfe\"}}", -32700, Value::Null),
        (b"{not json!!}", -32700, Value::Null),
    ];
    for (body, code, id) in cases {
        let shown = String::from_utf8_lossy(body);
        client.notifications.clear();
        client.send_raw(&frame(body));
        let answer = match id.as_i64() {
            Some(id) => client.response(id, Duration::from_secs(5)).unwrap_or_else(|| panic!("{shown}: no answer")),
            None => client.wait_for(Duration::from_secs(5), |m| m.get("error").is_some() && m["id"].is_null()),
        };
        assert_eq!(answer["error"]["code"], *code, "{shown}: {answer}");
        assert_eq!(answer["id"], *id, "{shown}: {answer}");
        let id = client.send_request("workspace/symbol", json!({"query": "Greeter"}));
        let found = client.response(id, Duration::from_secs(5)).unwrap_or_else(|| panic!("the server went deaf after {shown}"));
        assert_eq!(symbol_names(&found), ["Greeter"], "after {shown}: {found}");
    }
    // Neither element of the batch was run: no answer to its request 900.
    assert!(client.response(900, Duration::from_millis(200)).is_none());
    assert!(client.shutdown().success());
}

/// Two `Content-Length` headers: the frame is dropped (neither length is trusted), and
/// the frames after it are read as they were sent.
#[test]
fn a_duplicate_content_length_does_not_swallow_the_next_frames() {
    let ws = TempWorkspace::new(FIXTURE);
    let mut client = LspClient::start_indexed(&ws);
    let body = br#"{"jsonrpc":"2.0","id":950,"method":"workspace/symbol","params":{"query":"Circle"}}"#;
    for header in [format!("Content-Length: {}\r\nContent-Length: 4000\r\n\r\n", body.len()), format!("Content-Length: {0}\r\nContent-Length: {0}\r\n\r\n", body.len())] {
        client.send_raw(&[header.as_bytes(), body].concat());
        let id = client.send_request("workspace/symbol", json!({"query": "Greeter"}));
        let found = client.response(id, Duration::from_secs(5)).expect("the next request is read and answered");
        assert_eq!(symbol_names(&found), ["Greeter"], "{found}");
    }
    assert!(client.response(950, Duration::from_millis(200)).is_none(), "the rejected frame was not run");
    assert!(client.shutdown().success());
}

/// A server that sent `client/registerCapability` (after `initialized`) and never got an
/// answer still ends at once on `exit` or at the end of its input, half a frame
/// included, with status 0 after `shutdown` and 1 without.
#[test]
fn exit_and_end_of_input_end_the_server_while_a_request_to_the_client_is_unanswered() {
    let ws = TempWorkspace::new(FIXTURE);
    let root = ws.root();
    let start = || {
        let mut client = LspClient::start(ws.cache.path());
        client.answer_server_requests = false;
        client.initialize(&root, Value::Null);
        client.wait_for(Duration::from_secs(10), |m| m["method"] == "client/registerCapability");
        client
    };
    type Ending = fn(&mut LspClient);
    let endings: [(&str, Ending, i32); 4] = [
        ("shutdown, exit", |c| {
            let answer = c.request("shutdown", Value::Null);
            assert!(answer.get("error").is_none(), "{answer}");
            c.notify("exit", Value::Null);
        }, 0),
        ("exit without shutdown", |c| c.notify("exit", Value::Null), 1),
        ("stdin closed in the middle of a frame", |c| {
            c.send_raw(b"Content-Length: 100\r\n\r\n{\"jsonrpc\":\"2.0\",");
            c.close_stdin();
        }, 1),
        ("shutdown, then stdin closed", |c| {
            c.request("shutdown", Value::Null);
            c.close_stdin();
        }, 0),
    ];
    for (name, end, code) in endings {
        let mut client = start();
        end(&mut client);
        let started = std::time::Instant::now();
        let status = client.wait_exit(Duration::from_secs(2)).unwrap_or_else(|| panic!("{name}: the server is still running after 2 s"));
        assert_eq!(status.code(), Some(code), "{name}");
        assert!(started.elapsed() < Duration::from_millis(1500), "{name}: {:?}", started.elapsed());
    }
}

/// The server runs without transparent huge pages (a 2 MiB page stays resident while any
/// part of it is used: with them the server kept 110 MiB more after the benchmark's
/// requests). Linux reports the process's setting in /proc/PID/status.
#[cfg(target_os = "linux")]
#[test]
fn the_server_runs_without_transparent_huge_pages() {
    let ws = TempWorkspace::new(FIXTURE);
    let mut client = LspClient::start(ws.cache.path());
    client.initialize(&ws.root(), Value::Null);
    client.wait_indexed();
    let status = std::fs::read_to_string(format!("/proc/{}/status", client.pid())).expect("/proc/PID/status is readable");
    let thp = status.lines().find_map(|l| l.strip_prefix("THP_enabled:")).expect("the kernel reports THP_enabled (Linux 5.0 and later)");
    assert_eq!(thp.trim(), "0", "transparent huge pages are off for the server");
    assert!(client.shutdown().success());
}

/// The server's resident memory in bytes, from /proc (the test fails where it cannot be
/// read rather than pass unmeasured).
fn resident_bytes(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status must be readable to measure memory");
    let field = |name: &str| {
        let line = status.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"));
        let kb: u64 = line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("unreadable {line}"));
        kb * 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// A request that must be answered within `limit`; the answer.
fn timed(client: &mut LspClient, method: &str, params: Value, limit: Duration) -> Value {
    let started = std::time::Instant::now();
    let id = client.send_request(method, params);
    let answer = client.response(id, Duration::from_secs(30)).unwrap_or_else(|| panic!("{method}: no answer in 30 s"));
    assert!(started.elapsed() < limit, "{method} took {:?}", started.elapsed());
    answer
}

/// Documents over `[index] max_file_size` (1 MiB by default) open as text only: not
/// parsed, not indexed; requests stay fast, edits keep the text, and once it is small
/// again it is parsed and indexed. A 30 MB document leaves the server small.
#[test]
fn documents_over_the_size_limit_open_as_text_only_and_the_server_keeps_answering() {
    let ws = TempWorkspace::new(FIXTURE);
    let root = ws.root();
    let mut client = LspClient::start_indexed(&ws);
    let limit = Duration::from_secs(2);
    let big_text = |bytes: usize| {
        let mut text = String::from("pub fn keep_me() {}\n");
        let mut i = 0;
        while text.len() < bytes {
            text.push_str(&format!("pub fn filler_{i}(x: u32) -> u32 {{ let y = x * 2; y + {i} }}\n"));
            i += 1;
        }
        text
    };

    // 3 MB.
    let big = uri(&root.join("src/big.rs"));
    client.notify("textDocument/didOpen", json!({"textDocument": {"uri": big, "languageId": "rust", "version": 1, "text": big_text(3_000_000)}}));
    let symbols = timed(&mut client, "textDocument/documentSymbol", json!({"textDocument": {"uri": big}}), limit);
    assert_eq!(symbols["result"], json!([]), "not parsed: {symbols}");
    let found = timed(&mut client, "workspace/symbol", json!({"query": "filler_1"}), limit);
    assert!(found["result"].as_array().unwrap().is_empty(), "not indexed: {found}");
    let hover = timed(&mut client, "textDocument/hover", json!({"textDocument": {"uri": big}, "position": {"line": 0, "character": 8}}), limit);
    assert_eq!(hover["result"], Value::Null, "{hover}");
    let inline = timed(
        &mut client,
        "textDocument/inlineCompletion",
        json!({"textDocument": {"uri": big}, "position": {"line": 1, "character": 0}, "context": {"triggerKind": 1}}),
        limit,
    );
    assert_eq!(inline["result"], Value::Null, "{inline}");
    let completion = timed(
        &mut client,
        "textDocument/completion",
        json!({"textDocument": {"uri": big}, "position": {"line": 1, "character": 0}, "context": {"triggerKind": 1}}),
        limit,
    );
    assert_eq!(completion["result"], Value::Null, "{completion}");
    // Edits apply to the text (a line inserted at the top, then all but two lines
    // deleted): small again, it is parsed and indexed, and holds exactly what it should.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": big, "version": 2}, "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "pub fn inserted() {}\n"}]}),
    );
    let symbols = timed(&mut client, "textDocument/documentSymbol", json!({"textDocument": {"uri": big}}), limit);
    assert_eq!(symbols["result"], json!([]), "still text only: {symbols}");
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": big, "version": 3}, "contentChanges": [{"range": {"start": {"line": 2, "character": 0}, "end": {"line": 999999, "character": 0}}, "text": ""}]}),
    );
    let symbols = timed(&mut client, "textDocument/documentSymbol", json!({"textDocument": {"uri": big}}), limit);
    let names: Vec<&str> = symbols["result"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["inserted", "keep_me"], "{symbols}");
    let found = timed(&mut client, "workspace/symbol", json!({"query": "inserted"}), limit);
    assert_eq!(symbol_names(&found), ["inserted"], "{found}");
    // Large again in one full change: text only before it would be parsed, out of the index.
    client.notify("textDocument/didChange", json!({"textDocument": {"uri": big, "version": 4}, "contentChanges": [{"text": big_text(3_000_000)}]}));
    let symbols = timed(&mut client, "textDocument/documentSymbol", json!({"textDocument": {"uri": big}}), limit);
    assert_eq!(symbols["result"], json!([]), "{symbols}");
    let found = timed(&mut client, "workspace/symbol", json!({"query": "inserted"}), limit);
    assert!(found["result"].as_array().unwrap().is_empty(), "{found}");

    // 30 MB.
    let huge = uri(&root.join("src/huge.rs"));
    client.notify("textDocument/didOpen", json!({"textDocument": {"uri": huge, "languageId": "rust", "version": 1, "text": big_text(30_000_000)}}));
    let symbols = timed(&mut client, "textDocument/documentSymbol", json!({"textDocument": {"uri": huge}}), Duration::from_secs(10));
    assert_eq!(symbols["result"], json!([]), "open, not parsed: {symbols}");
    let found = timed(&mut client, "workspace/symbol", json!({"query": "Circle"}), limit);
    assert_eq!(symbol_names(&found)[0], "Circle", "{found}");
    let hover = timed(&mut client, "textDocument/hover", json!({"textDocument": {"uri": huge}, "position": {"line": 5, "character": 8}}), limit);
    assert_eq!(hover["result"], Value::Null, "{hover}");
    let (resident, peak) = resident_bytes(client.pid());
    eprintln!("after a 30 MB didOpen: {} MB resident, peak {} MB", resident >> 20, peak >> 20);
    assert!(resident < 300 << 20, "{} MB resident after a 30 MB document (peak {} MB)", resident >> 20, peak >> 20);
    assert!(peak < 400 << 20, "{} MB at the peak for a 30 MB document", peak >> 20);
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": huge, "version": 2}, "contentChanges": [{"range": {"start": {"line": 3, "character": 0}, "end": {"line": 3, "character": 0}}, "text": "// typed\n"}]}),
    );
    let found = timed(&mut client, "workspace/symbol", json!({"query": "Greeter"}), limit);
    assert_eq!(symbol_names(&found), ["Greeter"], "{found}");
    assert!(client.shutdown().success());
}

#[test]
fn aider_style_requirements_with_the_marker_first_are_diagnostics() {
    let ws = TempWorkspace::new(FIXTURE);
    ws.write("src/calls.rs", "pub fn call() {\n    // AI! log the call\n}\n// AI? why is this slow\npub fn slow() {}\n");
    let root = ws.root();
    let mut client = LspClient::start_indexed(&ws);
    let calls = client.open_file(&root, "src/calls.rs", "rust");
    let published = client.wait_for(Duration::from_secs(10), |m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == calls.as_str());
    let found: Vec<(Value, Value, Value)> = published["params"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["message"].clone(), d["code"].clone(), d["range"]["start"]["line"].clone()))
        .collect();
    assert_eq!(
        found,
        [
            (json!("AI requirement: log the call"), json!("requirement"), json!(1)),
            (json!("AI question: why is this slow"), json!("question"), json!(3)),
        ],
        "{published}"
    );
    client.shutdown();
}

/// Waits for the end of a root's `n`th indexing (from 0: `$/progress` of an `index`
/// token) and returns its message.
fn indexing_ended(client: &mut LspClient, n: usize) -> String {
    let is_end = |m: &Value| {
        m["method"] == "$/progress"
            && m["params"]["token"].as_str().is_some_and(|t| t.starts_with("ctxls/index/"))
            && m["params"]["value"]["kind"] == "end"
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(end) = client.notifications.iter().filter(|m| is_end(m)).nth(n) {
            return end["params"]["value"]["message"].as_str().unwrap_or_default().to_string();
        }
        assert!(std::time::Instant::now() < deadline, "indexing {n} never ended");
        // Messages received meanwhile are kept in `notifications`.
        client.wait_for_optional(Duration::from_millis(100), |_| false);
    }
}

/// `[index] generated_files` over LSP: changed in `.ctxls.toml` or by
/// `workspace/didChangeConfiguration`, the server extracts again only the generated
/// declaration files (on disk: one file parsed, shown with `$/progress`; open: from the
/// editor's text, keystrokes included), and a hover's count of a name's uses follows.
#[test]
fn generated_files_setting_is_applied_to_the_index_and_the_open_documents() {
    let bindings: String = (0..600).map(|i| format!("pub const WM_{i}: u32 = BASE + {i};\n")).collect();
    let ws = TempWorkspace::new(&format!(
        "//- /src/lib.rs\npub mod sys;\n/// The base.\npub const BASE: u32 = 1;\npub fn close() -> u32 {{ sys::WM_16 + BASE }}\n//- /src/sys.rs\n{bindings}"
    ));
    let root = ws.root();
    let mut client = LspClient::start(ws.cache.path());
    client.initialize(&root, json!({"hover": {"explain": false}}));
    let message = indexing_ended(&mut client, 0);
    assert!(message.contains("(2 parsed, 0 skipped, 1 generated: symbols only)"), "{message}");
    let lib = client.open_file(&root, "src/lib.rs", "rust");
    let uses = |client: &mut LspClient| {
        let hover = client.request("textDocument/hover", json!({"textDocument": {"uri": lib}, "position": {"line": 2, "character": 11}}));
        let value = hover["result"]["contents"]["value"].as_str().unwrap_or_else(|| panic!("{hover}")).to_string();
        let count = value.split("the name `BASE` is ").nth(1).unwrap_or_else(|| panic!("{value}"));
        count.split(" in the workspace").next().unwrap().to_string()
    };
    assert_eq!(uses(&mut client), "used once");

    // "full" in .ctxls.toml: sys.rs alone is parsed again, its uses of BASE counted.
    ws.write(".ctxls.toml", "[index]\ngenerated_files = \"full\"\n");
    client.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": uri(&root.join(".ctxls.toml")), "type": 2}]}));
    let message = indexing_ended(&mut client, 1);
    assert!(message.contains("(1 parsed, 0 skipped)"), "{message}");
    assert_eq!(uses(&mut client), "used 601 times");

    // With sys.rs open: "symbols" from the client's settings (over the file's) applies to
    // the open document at once and to the cache's row.
    let sys = client.open_file(&root, "src/sys.rs", "rust");
    assert_eq!(uses(&mut client), "used 601 times");
    client.notify("workspace/didChangeConfiguration", json!({"settings": {"ctxls": {"index": {"generated_files": "symbols"}}}}));
    let message = indexing_ended(&mut client, 2);
    assert!(message.contains("(1 parsed, 0 skipped, 1 generated: symbols only)"), "{message}");
    assert_eq!(uses(&mut client), "used once");

    // A value that is neither is shown and changes nothing.
    client.notify("workspace/didChangeConfiguration", json!({"settings": {"index": {"generated_files": "all"}}}));
    let shown = client.wait_for(Duration::from_secs(10), |m| m["method"] == "window/showMessage");
    let shown = shown["params"]["message"].as_str().unwrap();
    assert!(shown.contains("`index.generated_files`: unknown variant `all`, expected `symbols` or `full`"), "{shown}");
    assert_eq!(uses(&mut client), "used 601 times", "the client's settings were replaced: the file's \"full\" again");
    let message = indexing_ended(&mut client, 3);
    assert!(message.contains("(1 parsed, 0 skipped)"), "{message}");

    // A keystroke in the open generated file is extracted with the setting.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": sys, "version": 2}, "contentChanges": [{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "pub const WM_NEW: u32 = BASE;\n"}]}),
    );
    assert_eq!(uses(&mut client), "used 602 times");
    assert!(client.shutdown().success());
}
