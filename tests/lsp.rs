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
