//! Model-backed features over stdio: the built binary, real frames, and the scripted LLM
//! server on 127.0.0.1 speaking Ollama's wire format.

mod support;
#[path = "support/llm_server.rs"]
mod llm_server;

use std::time::{Duration, Instant};

use llm_server::{Reply, ScriptedServer};
use serde_json::{json, Value};
use support::{uri, LspClient, TempWorkspace};

const FIXTURE: &str = "//- /src/lib.rs
mod geometry;
use geometry::Point;
/// Adds two points.
pub fn add(a: Point, b: Point) -> Point {
    
}
// Return the point at the origin.
pub fn origin() -> Point {
}
//- /src/geometry.rs
/// A point on the plane.
pub struct Point { pub x: i32, pub y: i32 }
";

/// `area` in src/lib.rs and one call of it in src/report.rs: the next-edit cases.
const AREA_AND_ITS_CALL: &str = "//- /src/lib.rs\nmod report;\npub fn area(width: u32, height: u32) -> u32 {\n    width * height\n}\n//- /src/report.rs\nuse crate::area;\npub fn report() -> String {\n    let small = area(1, 2);\n    format!(\"{small}\")\n}\n";

struct Setup {
    _runtime: tokio::runtime::Runtime,
    server: ScriptedServer,
    _ws: TempWorkspace,
    client: LspClient,
    lib: String,
}

fn setup() -> Setup {
    setup_with(None, 50)
}

/// A workspace whose model is the scripted server (or `base_url`), with this debounce.
fn setup_with(base_url: Option<String>, debounce_ms: u64) -> Setup {
    let (runtime, server) = llm_server::with_server(Vec::new());
    let ws = TempWorkspace::new(FIXTURE);
    let url = base_url.unwrap_or_else(|| server.url());
    ws.write(".ctxls.toml", &format!("[llm]\nbase_url = \"{url}\"\nretries = 0\n[completion]\ndebounce_ms = {debounce_ms}\n[hover]\nexplain = false\n"));
    let root = ws.root();
    let mut client = LspClient::start_indexed(&ws);
    let lib = client.open_file(&root, "src/lib.rs", "rust");
    Setup { _runtime: runtime, server, _ws: ws, client, lib }
}

fn inline_params(uri: &str, line: u32, character: u32, invoked: bool) -> Value {
    json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}, "context": {"triggerKind": if invoked { 1 } else { 2 }}})
}

fn items(response: &Value) -> Vec<String> {
    response["result"]["items"].as_array().map(|items| items.iter().map(|i| i["insertText"].as_str().unwrap().to_string()).collect()).unwrap_or_default()
}

/// Waits until the scripted server has seen `n` requests.
fn wait_requests(server: &ScriptedServer, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.requests().len() < n {
        assert!(Instant::now() < deadline, "the model never got request {n}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn inline_completion_sends_the_context_cleans_the_answer_and_remembers_it() {
    let mut s = setup();
    s.server.push(Reply::ollama(&["Point { x: a.x + b.x, ", "y: a.y + b.y }\n}\n\npub fn extra() {}\n"], false));
    let response = s.client.request("textDocument/inlineCompletion", inline_params(&s.lib, 4, 4, true));
    assert_eq!(items(&response), ["Point { x: a.x + b.x, y: a.y + b.y }"], "cut where the function's block ends: {response}");
    let sent = s.server.requests()[0].json();
    let prompt = sent["prompt"].as_str().unwrap();
    // The definition with the first sentence of its doc comment.
    assert!(prompt.contains("// Path: src/geometry.rs (lines 2-2)\n// /// A point on the plane.\n// pub struct Point { pub x: i32, pub y: i32 }\n"), "{prompt}");
    assert!(prompt.ends_with("// Path: src/lib.rs\nmod geometry;\nuse geometry::Point;\n/// Adds two points.\npub fn add(a: Point, b: Point) -> Point {\n    "), "{prompt}");
    assert_eq!(sent["suffix"], "\n}\n// Return the point at the origin.\npub fn origin() -> Point {\n}\n");

    // Typing into the shown completion is answered from memory.
    s.client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": s.lib, "version": 2}, "contentChanges": [{"range": {"start": {"line": 4, "character": 4}, "end": {"line": 4, "character": 4}}, "text": "Point { x"}]}),
    );
    let response = s.client.request("textDocument/inlineCompletion", inline_params(&s.lib, 4, 13, false));
    assert_eq!(items(&response), [": a.x + b.x, y: a.y + b.y }"]);
    assert_eq!(s.server.requests().len(), 1, "no second model call");
    s.client.shutdown();
}

#[test]
fn newer_requests_and_cancel_requests_drop_the_model_call() {
    let mut s = setup();
    s.server.push(Reply::ollama(&["slow"], false).delay_first(Duration::from_secs(3)));
    s.server.push(Reply::ollama(&["b.x"], false));
    // An automatic request waits for the debounce, then asks the model...
    let first = s.client.send_request("textDocument/inlineCompletion", inline_params(&s.lib, 4, 4, false));
    wait_requests(&s.server, 1);
    // ...and a newer one for the same document supersedes it.
    let second = s.client.send_request("textDocument/inlineCompletion", inline_params(&s.lib, 4, 4, false));
    let superseded = s.client.response(first, Duration::from_secs(10)).unwrap();
    assert_eq!(superseded["error"]["code"], -32800, "{superseded}");
    let answered = s.client.response(second, Duration::from_secs(10)).unwrap();
    assert_eq!(items(&answered), ["b.x"], "{answered}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while s.server.hangups() < 1 {
        assert!(Instant::now() < deadline, "the superseded HTTP request was not dropped");
        std::thread::sleep(Duration::from_millis(10));
    }

    // `$/cancelRequest` drops it too (a new position, so nothing is remembered).
    s.server.push(Reply::ollama(&["never"], false).delay_first(Duration::from_secs(3)));
    let third = s.client.send_request("textDocument/inlineCompletion", inline_params(&s.lib, 8, 0, true));
    wait_requests(&s.server, 3);
    s.client.notify("$/cancelRequest", json!({"id": third}));
    let cancelled = s.client.response(third, Duration::from_secs(10)).unwrap();
    assert_eq!(cancelled["error"]["code"], -32800, "{cancelled}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while s.server.hangups() < 2 {
        assert!(Instant::now() < deadline, "the cancelled HTTP request was not dropped");
        std::thread::sleep(Duration::from_millis(10));
    }
    s.client.shutdown();
}

#[test]
fn a_cancelled_or_superseded_workflow_drops_its_model_call_and_proposes_nothing() {
    let mut s = setup();
    // A generate whose model answers late, with an edit that would apply.
    s.server.push(
        Reply::ollama(&["src/lib.rs\n<<<<<<< SEARCH\n// Return the point at the origin.\n=======\n// The origin.\n>>>>>>> REPLACE\n"], true)
            .delay_first(Duration::from_secs(3)),
    );
    let id = s.client.send_request(
        "workspace/executeCommand",
        json!({"command": "ctxls.generate", "arguments": [{"uri": s.lib, "position": {"line": 6, "character": 10}}]}),
    );
    // (The client answers the server's `$/progress` set-up while it waits.)
    let deadline = Instant::now() + Duration::from_secs(20);
    while s.server.requests().is_empty() {
        assert!(Instant::now() < deadline, "the model was never asked");
        assert!(s.client.wait_for_optional(Duration::from_millis(20), |m| m["id"] == id && m.get("method").is_none()).is_none(), "answered early");
    }
    // The workflow runs off the serving task: other requests are answered meanwhile.
    let started = Instant::now();
    let symbols = s.client.request("textDocument/documentSymbol", json!({"textDocument": {"uri": s.lib}}));
    assert!(symbols["result"].as_array().is_some_and(|s| !s.is_empty()), "{symbols}");
    assert!(started.elapsed() < Duration::from_secs(2), "a request waited for the workflow");
    s.client.notify("$/cancelRequest", json!({"id": id}));
    let cancelled = s.client.response(id, Duration::from_secs(10)).unwrap();
    assert_eq!(cancelled["error"]["code"], -32800, "{cancelled}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while s.server.hangups() < 1 {
        assert!(Instant::now() < deadline, "the cancelled workflow's HTTP request was not dropped");
        std::thread::sleep(Duration::from_millis(10));
    }
    // Past the time the answer would have come: no edit was proposed.
    let proposed = s.client.wait_for_optional(Duration::from_millis(3500), |m| m["method"] == "workspace/applyEdit");
    assert!(proposed.is_none(), "{proposed:?}");
    assert_eq!(s.server.requests().len(), 1, "nothing asked again");

    // The same command again on the same target supersedes a run still waiting on
    // the model: the older answers RequestCancelled and proposes nothing.
    s.server.push(Reply::ollama(&["src/lib.rs\n<<<<<<< SEARCH\n// Return the point at the origin.\n=======\n// Older.\n>>>>>>> REPLACE\n"], true).delay_first(Duration::from_secs(3)));
    s.server.push(Reply::ollama(&["src/lib.rs\n<<<<<<< SEARCH\n// Return the point at the origin.\n=======\n// Newer.\n>>>>>>> REPLACE\n"], true));
    let generate = json!({"command": "ctxls.generate", "arguments": [{"uri": s.lib, "position": {"line": 6, "character": 10}}]});
    let older = s.client.send_request("workspace/executeCommand", generate.clone());
    while s.server.requests().len() < 2 {
        assert!(s.client.wait_for_optional(Duration::from_millis(20), |m| m["id"] == older && m.get("method").is_none()).is_none(), "answered early");
    }
    let newer = s.client.request("workspace/executeCommand", generate);
    assert_eq!(newer["result"]["applied"], true, "{newer}");
    let superseded = s.client.response(older, Duration::from_secs(10)).unwrap();
    assert_eq!(superseded["error"]["code"], -32800, "{superseded}");
    let proposed = s.client.wait_for_optional(Duration::from_millis(3500), |m| m["method"] == "workspace/applyEdit" && m.to_string().contains("Older"));
    assert!(proposed.is_none(), "{proposed:?}");
    assert_eq!(s.client.notifications.iter().filter(|m| m["method"] == "workspace/applyEdit").count(), 1, "the newer run's edit only");

    // The same command on another target of the same document does not supersede: both
    // explanations come (the first one's model answers last).
    s.server.push(Reply::ollama(&["About add."], true).delay_first(Duration::from_secs(2)));
    s.server.push(Reply::ollama(&["About origin."], true));
    let explain = |line: u32| json!({"command": "ctxls.explain", "arguments": [{"uri": s.lib, "position": {"line": line, "character": 8}}]});
    let about_add = s.client.send_request("workspace/executeCommand", explain(3));
    while s.server.requests().len() < 4 {
        assert!(s.client.wait_for_optional(Duration::from_millis(20), |m| m["id"] == about_add && m.get("method").is_none()).is_none(), "answered early");
    }
    let about_origin = s.client.request("workspace/executeCommand", explain(7));
    assert_eq!(about_origin["result"]["markdown"], "About origin.", "{about_origin}");
    let about_add = s.client.response(about_add, Duration::from_secs(10)).unwrap();
    assert_eq!(about_add["result"]["markdown"], "About add.", "{about_add}");
    s.client.shutdown();
}

#[test]
fn typing_within_the_debounce_asks_the_model_once() {
    let mut s = setup_with(None, 400);
    s.server.fallback(Reply::ollama(&["b.y"], false));
    let ids: Vec<i64> = (0..5)
        .map(|i| {
            std::thread::sleep(Duration::from_millis(30));
            s.client.send_request("textDocument/inlineCompletion", inline_params(&s.lib, 4, 4 + (i % 2), false))
        })
        .collect();
    let responses: Vec<Value> = ids.iter().map(|id| s.client.response(*id, Duration::from_secs(10)).unwrap()).collect();
    assert!(responses[..4].iter().all(|r| r["error"]["code"] == -32800), "{responses:?}");
    assert_eq!(items(&responses[4]), ["b.y"]);
    assert_eq!(s.server.requests().len(), 1, "one model call for a burst of typing");
    s.client.shutdown();
}

#[test]
fn completion_items_never_wait_past_the_debounce() {
    let mut s = setup();
    s.server.push(Reply::ollama(&["a.x"], false).delay_first(Duration::from_millis(800)));
    let params = json!({"textDocument": {"uri": s.lib}, "position": {"line": 4, "character": 4}, "context": {"triggerKind": 1}});
    let started = Instant::now();
    let first = s.client.request("textDocument/completion", params.clone());
    assert!(started.elapsed() < Duration::from_millis(700), "answered within the debounce, not after the model");
    assert_eq!(first["result"]["isIncomplete"], true);
    assert_eq!(first["result"]["items"], json!([]));
    // The model's answer arrives in the background; the client's next request gets it.
    wait_requests(&s.server, 1);
    std::thread::sleep(Duration::from_millis(1000));
    let second = s.client.request("textDocument/completion", params);
    let item = &second["result"]["items"][0];
    assert_eq!(item["textEdit"]["newText"], "a.x", "{second}");
    assert_eq!(s.server.requests().len(), 1);
    s.client.shutdown();
}

#[test]
fn inline_and_list_completions_do_not_cancel_each_other() {
    let mut s = setup();
    s.server.fallback(Reply::ollama(&["b.x"], false).delay_first(Duration::from_millis(300)));
    let inline = s.client.send_request("textDocument/inlineCompletion", inline_params(&s.lib, 4, 4, false));
    let list = s.client.request("textDocument/completion", json!({"textDocument": {"uri": s.lib}, "position": {"line": 4, "character": 4}}));
    assert_eq!(list["result"]["isIncomplete"], true);
    let inline = s.client.response(inline, Duration::from_secs(10)).unwrap();
    assert_eq!(items(&inline), ["b.x"], "{inline}");
    s.client.shutdown();
}

#[test]
fn hover_shows_the_index_at_once_and_the_explanation_when_asked() {
    let mut s = setup();
    let at_point = json!({"textDocument": {"uri": s.lib}, "position": {"line": 3, "character": 15}});
    let hover = s.client.request("textDocument/hover", at_point.clone());
    let value = hover["result"]["contents"]["value"].as_str().unwrap_or_else(|| panic!("{hover}"));
    assert!(value.starts_with("```rust\npub struct Point\n```\n\nA point on the plane.\n"), "{value}");
    assert!(value.contains("*struct* in `src/geometry.rs:2`"), "{value}");
    assert!(s.server.requests().is_empty(), "explain is off: no model call");

    s.client.notify("workspace/didChangeConfiguration", json!({"settings": {"ctxls": {"hover": {"explain": true}}}}));
    std::thread::sleep(Duration::from_millis(300));
    s.server.push(Reply::ollama(&["A 2D point; ", "`add` sums two of them."], true));
    let hover = s.client.request("textDocument/hover", at_point.clone());
    let value = hover["result"]["contents"]["value"].as_str().unwrap().to_string();
    assert!(value.ends_with("---\n\nA 2D point; `add` sums two of them.\n"), "{value}");
    let request = &s.server.requests()[0];
    assert_eq!(request.path, "/api/chat");
    let asked = request.json()["messages"][1]["content"].as_str().unwrap().to_string();
    assert!(asked.contains("File src/geometry.rs, lines 2-2:\n```\npub struct Point"), "the definition: {asked}");
    assert!(asked.contains("src/lib.rs (lines"), "a use: {asked}");
    // Cached by content: no second call.
    let again = s.client.request("textDocument/hover", at_point);
    assert_eq!(again["result"]["contents"]["value"].as_str().unwrap(), value);
    assert_eq!(s.server.requests().len(), 1);
    s.client.shutdown();
}

#[test]
fn code_actions_and_commands() {
    let mut s = setup();
    let range = json!({"start": {"line": 4, "character": 4}, "end": {"line": 4, "character": 4}});
    let actions = s.client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": s.lib}, "range": range, "context": {"diagnostics": [{"range": range, "message": "mismatched types"}]}}),
    );
    let titles: Vec<&str> = actions["result"].as_array().unwrap().iter().map(|a| a["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["ctxls: Fix this", "ctxls: Explain", "ctxls: Add documentation comment", "ctxls: Write tests", "ctxls: Refactor with an instruction…"]);
    let fix = &actions["result"][0]["command"];
    assert_eq!(fix["arguments"][0]["diagnostics"], json!(["mismatched types"]));

    // Fix this: the diagnostics go to the model, the answer replaces the function.
    s.server.push(Reply::ollama(&["```rust\npub fn add(a: Point, b: Point) -> Point {\n    Point { x: a.x + b.x, y: a.y + b.y }\n}\n```"], true));
    let result = s.client.request("workspace/executeCommand", json!({"command": fix["command"], "arguments": fix["arguments"]}));
    assert_eq!(result["result"]["applied"], true, "{result}");
    let asked = s.server.requests()[0].json()["messages"][1]["content"].as_str().unwrap().to_string();
    assert!(asked.contains("- mismatched types"), "{asked}");
    let edit = s.client.notifications.iter().find(|m| m["method"] == "workspace/applyEdit").expect("an applyEdit request").clone();
    let change = &edit["params"]["edit"]["documentChanges"][0];
    assert_eq!(change["textDocument"]["version"], 1);
    assert_eq!(change["edits"][0]["range"], json!({"start": {"line": 3, "character": 0}, "end": {"line": 6, "character": 0}}));
    assert_eq!(change["edits"][0]["newText"], "pub fn add(a: Point, b: Point) -> Point {\n    Point { x: a.x + b.x, y: a.y + b.y }\n}\n");

    // Explain: returned, and shown as a message (this client opens no documents).
    s.server.push(Reply::ollama(&["It adds two points."], true));
    let args = json!([{"uri": s.lib, "range": range}]);
    let explained = s.client.request("workspace/executeCommand", json!({"command": "ctxls.explain", "arguments": args}));
    assert_eq!(explained["result"]["markdown"], "It adds two points.");
    s.client.wait_for(Duration::from_secs(5), |m| m["method"] == "window/showMessage" && m["params"]["message"] == "It adds two points.");

    // Refactor needs an instruction; with one, it is sent.
    let missing = s.client.request("workspace/executeCommand", json!({"command": "ctxls.refactor", "arguments": args}));
    assert!(missing["error"]["message"].as_str().unwrap().contains("instruction"), "{missing}");
    s.server.push(Reply::ollama(&["```rust\npub fn add(a: Point, b: Point) -> Point { todo!() }\n```"], true));
    let refactor = s.client.request(
        "workspace/executeCommand",
        json!({"command": "ctxls.refactor", "arguments": [{"uri": s.lib, "range": range, "instruction": "use todo"}]}),
    );
    assert_eq!(refactor["result"]["applied"], true, "{refactor}");
    assert!(s.server.requests()[2].json()["messages"][1]["content"].as_str().unwrap().contains("Rewrite this code: use todo"));

    // Generate from the comment at the position: SEARCH/REPLACE blocks, validated, applied
    // as one edit across files (a new file included); a block that matches nothing
    // changes nothing.
    s.server.push(Reply::ollama(
        &["src/lib.rs\n<<<<<<< SEARCH\n// Return the point at the origin.\npub fn origin() -> Point {\n}\n=======\npub fn origin() -> Point {\n    Point { x: 0, y: 0 }\n}\n>>>>>>> REPLACE\n\n\
           src/zero.rs\n<<<<<<< SEARCH\n=======\npub const ZERO: i32 = 0;\n>>>>>>> REPLACE\n"],
        true,
    ));
    let generated = s.client.request(
        "workspace/executeCommand",
        json!({"command": "ctxls.generate", "arguments": [{"uri": s.lib, "position": {"line": 6, "character": 10}}]}),
    );
    assert_eq!(generated["result"]["applied"], true, "{generated}");
    assert_eq!(generated["result"]["files"], json!(["src/lib.rs", "src/zero.rs"]));
    let asked = s.server.requests()[3].json()["messages"][1]["content"].as_str().unwrap().to_string();
    assert!(asked.ends_with("The requirement, in a comment in src/lib.rs: Return the point at the origin.\n\nImplement it."), "{asked}");
    let edit = s.client.notifications.iter().rev().find(|m| m["method"] == "workspace/applyEdit").unwrap().clone();
    let operations = edit["params"]["edit"]["documentChanges"].as_array().unwrap().clone();
    assert_eq!(operations[0]["edits"][0]["range"], json!({"start": {"line": 6, "character": 0}, "end": {"line": 8, "character": 0}}), "{operations:?}");
    assert_eq!(operations[0]["edits"][0]["newText"], "pub fn origin() -> Point {\n    Point { x: 0, y: 0 }\n");
    assert_eq!(operations[1]["kind"], "create");
    assert!(operations[2]["textDocument"]["uri"].as_str().unwrap().ends_with("/src/zero.rs"));
    s.server.push(Reply::ollama(&["src/lib.rs\n<<<<<<< SEARCH\nfn not_there() {}\n=======\nfn x() {}\n>>>>>>> REPLACE\n"], true));
    let refused = s.client.request(
        "workspace/executeCommand",
        json!({"command": "ctxls.generate", "arguments": [{"uri": s.lib, "position": {"line": 6, "character": 10}}]}),
    );
    let message = refused["error"]["message"].as_str().unwrap_or_else(|| panic!("{refused}"));
    assert!(message.contains("block 1 (src/lib.rs)") && message.contains("nothing was changed"), "{message}");

    // Documentation and tests.
    s.server.push(Reply::ollama(&["/// Sums the coordinates."], true));
    let documented = s.client.request("workspace/executeCommand", json!({"command": "ctxls.document", "arguments": args}));
    assert_eq!(documented["result"]["edit"]["newText"], "/// Sums the coordinates.\n", "{documented}");
    s.server.push(Reply::ollama(&["```rust\n#[cfg(test)]\nmod tests {}\n```"], true));
    let tests = s.client.request("workspace/executeCommand", json!({"command": "ctxls.tests", "arguments": args}));
    assert_eq!(tests["result"]["edit"]["newText"], "\n#[cfg(test)]\nmod tests {}\n", "{tests}");

    // The context that would be sent, for inspection; a reindex.
    let context = s.client.request(
        "workspace/executeCommand",
        json!({"command": "ctxls.showContext", "arguments": [{"uri": s.lib, "position": {"line": 4, "character": 4}, "budget": 256}]}),
    );
    let snippets = context["result"]["snippets"].as_array().unwrap_or_else(|| panic!("{context}"));
    assert_eq!(snippets[0]["path"], "src/geometry.rs", "{context}");
    assert!(context["result"]["tokens"].as_u64().unwrap() <= 256);
    let reindex = s.client.request("workspace/executeCommand", json!({"command": "ctxls.reindex", "arguments": []}));
    assert_eq!(reindex["result"]["roots"], 1);
    s.client.shutdown();
}

#[test]
fn a_provider_outage_shows_one_message_and_every_request_is_answered() {
    // Nothing listens on this port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut s = setup_with(Some(format!("http://{closed}")), 20);
    // A burst of 50 requests (completions, hovers, symbols) while the model is down.
    let mut ids = Vec::new();
    for i in 0..50u32 {
        let id = match i % 3 {
            0 => s.client.send_request("textDocument/inlineCompletion", inline_params(&s.lib, 4, 4, true)),
            1 => s.client.send_request("textDocument/hover", json!({"textDocument": {"uri": s.lib}, "position": {"line": 3, "character": 15}})),
            _ => s.client.send_request("textDocument/documentSymbol", json!({"textDocument": {"uri": s.lib}})),
        };
        ids.push(id);
    }
    for id in ids {
        let response = s.client.response(id, Duration::from_secs(20)).unwrap_or_else(|| panic!("request {id} unanswered"));
        assert!(response.get("result").is_some() || response["error"]["code"] == -32800, "{response}");
    }
    // Notifications and responses travel separately: wait for the message, then make
    // sure no second one follows.
    s.client.wait_for(Duration::from_secs(10), |m| m["method"] == "window/showMessage");
    s.client.request("textDocument/inlineCompletion", inline_params(&s.lib, 4, 4, true));
    std::thread::sleep(Duration::from_millis(200));
    s.client.request("textDocument/documentSymbol", json!({"textDocument": {"uri": s.lib}}));
    let messages: Vec<&Value> = s.client.notifications.iter().filter(|m| m["method"] == "window/showMessage").collect();
    assert_eq!(messages.len(), 1, "one message per burst: {messages:?}");
    let text = messages[0]["params"]["message"].as_str().unwrap();
    assert!(text.contains("not reachable"), "{text}");
    // Still alive and serving.
    let symbols = s.client.request("textDocument/documentSymbol", json!({"textDocument": {"uri": s.lib}}));
    assert!(symbols["result"].as_array().is_some_and(|a| !a.is_empty()));
    s.client.shutdown();
}

#[test]
fn requirement_comments_become_diagnostics_lenses_and_actions() {
    let mut s = setup();
    let published = |m: &Value, count: usize| m["method"] == "textDocument/publishDiagnostics" && m["params"]["diagnostics"].as_array().is_some_and(|d| d.len() == count);
    // The fixture's comment has no marker: nothing is published for it. Mark it.
    s.client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": s.lib, "version": 2}, "contentChanges": [{"range": {"start": {"line": 6, "character": 3}, "end": {"line": 6, "character": 3}}, "text": "AI: "}]}),
    );
    let diagnostics = s.client.wait_for(Duration::from_secs(10), |m| published(m, 1));
    let diagnostic = &diagnostics["params"]["diagnostics"][0];
    assert_eq!(diagnostic["message"], "AI requirement: Return the point at the origin.");
    assert_eq!((diagnostic["severity"].as_u64(), diagnostic["source"].as_str()), (Some(3), Some("ctxls")));
    assert_eq!(diagnostic["range"]["start"], json!({"line": 6, "character": 0}));
    // A question below the function.
    s.client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": s.lib, "version": 3}, "contentChanges": [{"range": {"start": {"line": 9, "character": 0}, "end": {"line": 9, "character": 0}}, "text": "// Should this be a const AI?\n"}]}),
    );
    s.client.wait_for(Duration::from_secs(10), |m| published(m, 2));
    let lenses = s.client.request("textDocument/codeLens", json!({"textDocument": {"uri": s.lib}}));
    let titles: Vec<&str> = lenses["result"].as_array().unwrap().iter().map(|l| l["command"]["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["ctxls: Generate", "ctxls: Answer"]);
    let range = json!({"start": {"line": 9, "character": 5}, "end": {"line": 9, "character": 5}});
    let actions = s.client.request("textDocument/codeAction", json!({"textDocument": {"uri": s.lib}, "range": range, "context": {"diagnostics": []}}));
    let first = &actions["result"][0];
    assert_eq!(first["title"], "ctxls: Answer", "{actions}");
    s.server.push(Reply::ollama(&["No: it is computed."], true));
    let answer = s.client.request("workspace/executeCommand", json!({"command": first["command"]["command"], "arguments": first["command"]["arguments"]}));
    assert_eq!(answer["result"]["markdown"], "No: it is computed.", "{answer}");
    let asked = s.server.requests()[0].json()["messages"][1]["content"].as_str().unwrap().to_string();
    assert!(asked.contains("A comment in this code asks: Should this be a const"), "{asked}");
    // Generate from the marked comment: the requirement's words are the instruction.
    s.server.push(Reply::ollama(&["src/lib.rs\n<<<<<<< SEARCH\npub fn origin() -> Point {\n}\n=======\npub fn origin() -> Point {\n    Point { x: 0, y: 0 }\n}\n>>>>>>> REPLACE\n"], true));
    let lens = &lenses["result"][0]["command"];
    let generated = s.client.request("workspace/executeCommand", json!({"command": lens["command"], "arguments": lens["arguments"]}));
    assert_eq!(generated["result"]["applied"], true, "{generated}");
    let asked = s.server.requests()[1].json()["messages"][1]["content"].as_str().unwrap().to_string();
    assert!(asked.contains("The requirement, in a comment in src/lib.rs: Return the point at the origin."), "{asked}");
    s.client.shutdown();
}

#[test]
fn implement_requirements_applies_one_edit_for_the_whole_diff() {
    let mut s = setup();
    let root = s._ws.root();
    support::commit_all(&root);
    s._ws.write("src/geometry.rs", "/// A point on the plane.\npub struct Point { pub x: i32, pub y: i32 }\n// AI: add a Point::new constructor\n");
    s.server.push(Reply::ollama(
        &["src/geometry.rs\n<<<<<<< SEARCH\n// AI: add a Point::new constructor\n=======\nimpl Point {\n    pub fn new(x: i32, y: i32) -> Point { Point { x, y } }\n}\n>>>>>>> REPLACE\n"],
        true,
    ));
    let result = s.client.request("workspace/executeCommand", json!({"command": "ctxls.implementRequirements", "arguments": []}));
    assert_eq!(result["result"]["applied"], true, "{result}");
    assert_eq!(result["result"]["files"], json!(["src/geometry.rs"]));
    let asked = s.server.requests()[0].json()["messages"][1]["content"].as_str().unwrap().to_string();
    assert!(asked.contains("+// AI: add a Point::new constructor"), "the diff: {asked}");
    assert!(asked.ends_with("1. src/geometry.rs (near line 3): add a Point::new constructor\n\nImplement them all."), "{asked}");
    let edit = s.client.notifications.iter().find(|m| m["method"] == "workspace/applyEdit").unwrap().clone();
    let change = &edit["params"]["edit"]["documentChanges"][0];
    assert_eq!(change["textDocument"]["version"], Value::Null, "not open: unversioned");
    assert_eq!(change["edits"][0]["newText"], "impl Point {\n    pub fn new(x: i32, y: i32) -> Point { Point { x, y } }\n}\n");
    // The diff summarized.
    s.server.push(Reply::ollama(&["Add a Point constructor request"], true));
    let summary = s.client.request("workspace/executeCommand", json!({"command": "ctxls.summarizeDiff", "arguments": []}));
    assert_eq!(summary["result"]["markdown"], "Add a Point constructor request", "{summary}");
    assert!(s.server.requests()[1].json()["messages"][1]["content"].as_str().unwrap().contains("+// AI: add a Point::new constructor"));
    s.client.shutdown();
}

#[test]
fn an_ignored_document_is_never_sent_to_a_model() {
    let mut s = setup();
    s._ws.write(".ctxlsignore", "src/secret.rs\n");
    s._ws.write("src/secret.rs", "pub fn key() -> &'static str {\n    \n}\n");
    let secret = uri(&s._ws.root().join("src/secret.rs"));
    let text = "pub fn key() -> &'static str {\n    \n}\n";
    s.client.notify("textDocument/didOpen", json!({"textDocument": {"uri": secret, "languageId": "rust", "version": 1, "text": text}}));
    s.server.fallback(Reply::ollama(&["\"hunter2\""], false));
    let inline = s.client.request("textDocument/inlineCompletion", inline_params(&secret, 1, 4, true));
    assert_eq!(inline["result"], Value::Null, "{inline}");
    let action = s.client.request("workspace/executeCommand", json!({"command": "ctxls.explain", "arguments": [{"uri": secret, "position": {"line": 0, "character": 0}}]}));
    assert!(action["error"]["message"].as_str().unwrap().contains("ignored"), "{action}");
    // Its text is no one else's context either.
    let context = s.client.request(
        "workspace/executeCommand",
        json!({"command": "ctxls.showContext", "arguments": [{"uri": s.lib, "position": {"line": 4, "character": 4}, "query": "key secret"}]}),
    );
    assert!(!context.to_string().contains("secret.rs"), "{context}");
    assert!(s.server.requests().is_empty(), "nothing was sent");
    s.client.shutdown();
}

#[test]
fn the_sessions_recent_edits_reach_the_completion_prompt_but_never_an_ignored_files() {
    let mut s = setup();
    s._ws.write(".ctxlsignore", "src/secret.rs\n");
    s._ws.write("src/secret.rs", "pub fn key() -> &'static str {\n    \"old\"\n}\n");
    let secret = uri(&s._ws.root().join("src/secret.rs"));
    s.client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": secret, "languageId": "rust", "version": 1, "text": "pub fn key() -> &'static str {\n    \"old\"\n}\n"}}),
    );
    // Typed into the secret file, then into lib.rs: the doc comment of `origin` rewritten,
    // keystroke by keystroke, and a line added below it.
    let change = |uri: &str, version: i32, (line, from, to): (u32, u32, u32), text: &str| {
        json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"range": {"start": {"line": line, "character": from}, "end": {"line": line, "character": to}}, "text": text}]})
    };
    s.client.notify("textDocument/didChange", change(&secret, 2, (1, 5, 8), "hunter2"));
    s.client.notify("textDocument/didChange", change(&s.lib, 2, (6, 3, 33), "The origin"));
    for (i, c) in ", (0, 0)".chars().enumerate() {
        s.client.notify("textDocument/didChange", change(&s.lib, 3 + i as i32, (6, 13 + i as u32, 13 + i as u32), &c.to_string()));
    }
    s.server.fallback(Reply::ollama(&["Point { x: 0, y: 0 }"], false));
    s.client.request("textDocument/inlineCompletion", inline_params(&s.lib, 4, 4, true));
    let prompt = s.server.requests()[0].json()["prompt"].as_str().unwrap().to_string();
    assert!(
        prompt.contains(
            "// Recent edits (unified diffs, oldest first):\n// --- a/src/lib.rs\n// +++ b/src/lib.rs\n// @@ -7 +7 @@\n// -// Return the point at the origin.\n// +// The origin, (0, 0).\n\n// Path: src/lib.rs\n"
        ),
        "one hunk for the keystrokes, just before the code: {prompt}"
    );
    assert!(!prompt.contains("secret") && !prompt.contains("hunter2"), "{prompt}");
    // A code action's chat prompt too.
    s.server.push(Reply::ollama(&["It returns the origin."], true));
    s.client.request("workspace/executeCommand", json!({"command": "ctxls.explain", "arguments": [{"uri": s.lib, "position": {"line": 7, "character": 8}}]}));
    let asked = s.server.requests().last().unwrap().json()["messages"][1]["content"].as_str().unwrap().to_string();
    assert!(asked.starts_with("Recent edits in the workspace (unified diffs, oldest first):\n```diff\n--- a/src/lib.rs\n"), "{asked}");
    assert!(!asked.contains("hunter2"), "{asked}");

    // Switched off: no section.
    s.client.notify("workspace/didChangeConfiguration", json!({"settings": {"ctxls": {"completion": {"recent_edits": false}}}}));
    s.client.notify("textDocument/didChange", change(&s.lib, 20, (4, 4, 4), " "));
    s.client.request("textDocument/inlineCompletion", inline_params(&s.lib, 4, 5, true));
    let prompt = s.server.requests().last().unwrap().json()["prompt"].as_str().unwrap().to_string();
    assert!(!prompt.contains("Recent edits"), "{prompt}");
    s.client.shutdown();
}

#[test]
fn next_edit_offers_places_inside_the_sessions_earlier_edits_but_not_inside_the_latest() {
    let ws = TempWorkspace::new(AREA_AND_ITS_CALL);
    let root = ws.root();
    let mut client = LspClient::start_indexed(&ws);
    let lib = client.open_file(&root, "src/lib.rs", "rust");
    let report = client.open_file(&root, "src/report.rs", "rust");
    // First a call written (line 3), then the signature changed: the new call needs the
    // new parameter as much as the old one does.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": report, "version": 2}, "contentChanges": [{"range": {"start": {"line": 3, "character": 0}, "end": {"line": 3, "character": 0}}, "text": "    let large = area(3, 4);\n"}]}),
    );
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": lib, "version": 2}, "contentChanges": [{"range": {"start": {"line": 1, "character": 35}, "end": {"line": 1, "character": 35}}, "text": ", depth: u32"}]}),
    );
    let places = |client: &mut LspClient| -> Vec<(String, u64, String)> {
        let response = client.request("ctxls/nextEdit", json!({"textDocument": {"uri": lib}, "position": {"line": 1, "character": 46}, "rewrite": false, "invoked": true}));
        response["result"]["candidates"]
            .as_array()
            .unwrap_or_else(|| panic!("{response}"))
            .iter()
            .map(|c| (c["uri"].as_str().unwrap().to_string(), c["range"]["start"]["line"].as_u64().unwrap(), c["reason"].as_str().unwrap().to_string()))
            .collect()
    };
    let found = places(&mut client);
    let calls: Vec<u64> = found.iter().take(2).filter(|(uri, _, reason)| uri == report.as_str() && reason.contains("calls `area`")).map(|(_, line, _)| *line).collect();
    assert_eq!(calls.len(), 2, "both calls first, the one written this session too: {found:?}");
    assert!(calls.contains(&2) && calls.contains(&3), "{found:?}");
    // The latest edit's own line is never offered.
    assert!(!found.iter().any(|(uri, line, _)| uri == lib.as_str() && *line == 1), "{found:?}");
    // Asked again (the first texts' facts kept), the same places.
    assert_eq!(places(&mut client), found);
    client.shutdown();
}

#[test]
fn next_edit_points_at_the_call_of_a_changed_signature_and_offers_the_models_rewrite() {
    let (_runtime, server) = llm_server::with_server(Vec::new());
    let ws = TempWorkspace::new(AREA_AND_ITS_CALL);
    ws.write(".ctxls.toml", &format!("[llm]\nbase_url = \"{}\"\nretries = 0\n[completion]\ndebounce_ms = 20\n[hover]\nexplain = false\n", server.url()));
    let root = ws.root();
    let mut client = LspClient::start_indexed(&ws);
    let lib = client.open_file(&root, "src/lib.rs", "rust");
    let report = client.open_file(&root, "src/report.rs", "rust");
    // A parameter added to `area`, typed in the editor (not saved).
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": lib, "version": 2}, "contentChanges": [{"range": {"start": {"line": 1, "character": 35}, "end": {"line": 1, "character": 35}}, "text": ", depth: u32"}]}),
    );
    let report_text = std::fs::read_to_string(root.join("src/report.rs")).unwrap();
    server.push(Reply::ollama(&[&format!("```rust\n{}```", report_text.replace("area(1, 2)", "area(1, 2, 1)"))], true));
    let response = client.request("ctxls/nextEdit", json!({"textDocument": {"uri": lib}, "position": {"line": 1, "character": 46}, "invoked": true}));
    let result = &response["result"];
    assert_eq!(result["candidates"][0]["uri"], report.as_str(), "{response}");
    assert_eq!(result["candidates"][0]["range"]["start"]["line"], 2, "{response}");
    assert!(result["candidates"][0]["reason"].as_str().unwrap().contains("calls `area`"), "{response}");
    assert_eq!(
        result["rewrite"],
        json!({"status": "offered", "uri": report, "version": 1, "edits": [{"range": {"start": {"line": 2, "character": 0}, "end": {"line": 3, "character": 0}}, "newText": "    let small = area(1, 2, 1);\n"}]}),
        "{response}"
    );
    let prompt = server.requests()[0].json()["messages"][1]["content"].as_str().unwrap().to_string();
    assert!(prompt.contains("+pub fn area(width: u32, height: u32, depth: u32) -> u32 {"), "the session's edit: {prompt}");

    // The same in Copilot's shape; a rewrite that changes nothing offers nothing.
    server.push(Reply::ollama(&[&format!("```rust\n{}```", report_text.replace("area(1, 2)", "area(1, 2, 1)"))], true));
    let copilot = client.request("textDocument/copilotInlineEdit", json!({"textDocument": {"uri": lib, "version": 2}, "position": {"line": 1, "character": 46}}));
    assert_eq!(copilot["result"]["edits"][0]["textDocument"], json!({"uri": report, "version": 1}), "{copilot}");
    assert_eq!(copilot["result"]["edits"][0]["text"], "    let small = area(1, 2, 1);\n");
    server.push(Reply::ollama(&[&format!("```rust\n{report_text}```")], true));
    let copilot = client.request("textDocument/copilotInlineEdit", json!({"textDocument": {"uri": lib, "version": 2}, "position": {"line": 1, "character": 46}}));
    assert_eq!(copilot["result"], json!({"edits": []}), "{copilot}");
    // Places only, no model.
    let before = server.requests().len();
    let places = client.request("ctxls/nextEdit", json!({"textDocument": {"uri": lib}, "position": {"line": 1, "character": 46}, "rewrite": false, "invoked": true}));
    assert!(places["result"].get("rewrite").is_none() && places["result"]["candidates"][0]["uri"] == report.as_str(), "{places}");
    assert_eq!(server.requests().len(), before);
    assert_eq!(std::fs::read_to_string(root.join("src/report.rs")).unwrap(), report_text, "nothing written");
    let bad = client.request("ctxls/nextEdit", json!({"position": 3}));
    assert!(bad["error"]["message"].as_str().unwrap().contains("expected {textDocument, position}"), "{bad}");
    client.shutdown();
}

/// Retrieval keeps the definitions of names defined in many files between requests
/// (`retrieve::Cache`): an edit of a file defining one (its `new` moved after a new
/// method, its signature changed) reaches the next completion's context.
#[test]
fn an_edit_of_a_file_defining_a_popular_name_reaches_the_next_completion() {
    let (_runtime, server) = llm_server::with_server(Vec::new());
    let mut fixture = String::from("//- /src/lib.rs\nmod thing1;\nuse thing1::Thing;\npub fn make() -> Thing {\n    Thing::new()\n}\n");
    for i in 0..20 {
        fixture.push_str(&format!("//- /src/thing{i}.rs\npub struct Thing;\nimpl Thing {{\n    pub fn new() -> Thing {{ Thing }}\n}}\n"));
    }
    let ws = TempWorkspace::new(&fixture);
    ws.write(".ctxls.toml", &format!("[llm]\nbase_url = \"{}\"\nretries = 0\n[hover]\nexplain = false\n", server.url()));
    let root = ws.root();
    let mut client = LspClient::start_indexed(&ws);
    let lib = client.open_file(&root, "src/lib.rs", "rust");
    let thing = client.open_file(&root, "src/thing1.rs", "rust");
    let prompt = |server: &ScriptedServer, n: usize| server.requests()[n].json()["prompt"].as_str().unwrap().to_string();
    // The context section of `src/thing1.rs` in a prompt.
    let section = |prompt: &str| {
        let start = prompt.find("// Path: src/thing1.rs ").unwrap_or_else(|| panic!("{prompt}"));
        prompt[start..].split("\n\n").next().unwrap().to_string()
    };

    server.push(Reply::ollama(&["x"], false));
    client.request("textDocument/inlineCompletion", inline_params(&lib, 3, 4, true));
    let first = section(&prompt(&server, 0));
    assert!(first.ends_with("//     pub fn new() -> Thing { Thing }"), "{first}");

    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": thing, "version": 2}, "contentChanges": [{"text": "pub struct Thing;\nimpl Thing {\n    pub fn helper(&self) {}\n    pub fn new(seed: u64) -> Thing { Thing }\n}\n"}]}),
    );
    server.push(Reply::ollama(&["x"], false));
    client.request("textDocument/inlineCompletion", inline_params(&lib, 3, 5, true));
    let second = prompt(&server, 1);
    let second = section(&second);
    assert!(second.ends_with("//     pub fn new(seed: u64) -> Thing { Thing }"), "{second}");
    // Nothing uses `helper`: it is no one's definition (kept definitions of the old text
    // would point at it: it took `new`'s place among the file's symbols).
    assert!(!second.contains("helper"), "{second}");
    client.shutdown();
}
