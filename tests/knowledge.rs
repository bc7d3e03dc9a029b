//! Project knowledge through the built binary: documents (an OpenAPI spec, a guide) split
//! and retrieved, mentions resolved (a heading, a qualified symbol among namesakes, a
//! file) and diagnosed, prompt files rendered with every variable and applied as edits,
//! over the CLI and over LSP, against the scripted LLM server (OpenAI wire format).

mod support;
#[path = "support/llm_server.rs"]
mod llm_server;

use std::time::Duration;

use llm_server::{Reply, ScriptedServer};
use serde_json::{json, Value};
use support::{uri, LspClient, TempWorkspace};

const FIXTURE: &str = r##"//- /package.json
{"name": "shop", "private": true}
//- /.ctxls/instructions.md
All money amounts are integers in cents.
//- /docs/api.yaml
openapi: 3.0.3
info:
  title: Shop API
  version: "1.0"
paths:
  /orders/{orderId}:
    parameters:
      - name: orderId
        in: path
        required: true
        schema:
          type: string
    get:
      operationId: getOrder
      summary: Fetch one order by its id
      responses:
        "200":
          description: The order
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Order"
        "404":
          description: No such order
  /customers:
    post:
      operationId: createCustomer
      summary: Register a new customer account
      requestBody:
        content:
          application/json:
            schema:
              $ref: "#/components/schemas/NewCustomer"
      responses:
        "201":
          description: Created
components:
  schemas:
    Order:
      type: object
      required: [id, totalCents]
      properties:
        id:
          type: string
        totalCents:
          type: integer
    NewCustomer:
      type: object
      properties:
        email:
          type: string
//- /docs/guide.md
# Shop frontend guide

Conventions for the web client.

## Error handling

Throw an ApiError carrying the HTTP status; never return null.

## Caching

Orders are cached for 60 seconds in the OrderCache.
//- /src/http.ts
export class HttpClient {
  constructor(private base: string) {}
  /** Sends a request and parses the JSON body. */
  async send<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(this.base + path, { method, body: JSON.stringify(body) });
    return (await res.json()) as T;
  }
}
//- /src/socket.ts
export class Socket {
  /** Writes a frame to the socket. */
  send(frame: Uint8Array): void {}
}
//- /src/orders.ts
import { HttpClient } from "./http";

// AI: add fetchOrder(orderId) for the endpoint that fetches one order by its id,
// using @HttpClient::send; cache it as @docs/guide.md#caching says. See also @Nope.
export const client = new HttpClient("/api");
//- /.ctxls/prompts/api-client.md
---
title: API client function for an endpoint
applies_to: requirement
languages: [typescript]
---
Write the client function the requirement asks for: {{requirement}}
Context:
{{context}}
Extra wishes: {{input}}
Changes so far: {{diff}}
{{file}}
//- /.ctxls/prompts/explain-selection.md
---
title: Explain for a newcomer
applies_to: selection
output: message
---
Explain this for a newcomer: {{selection}}
//- /.ctxls/prompts/broken.md
---
title: Broken
applies_to: file
---
Uses {{selction}}, a typo.
"##;

/// The requirement's first line in src/orders.ts (1-based).
const REQUIREMENT_LINE: u32 = 3;

fn workspace(server_url: Option<&str>) -> TempWorkspace {
    let ws = TempWorkspace::new(FIXTURE);
    let url = server_url.unwrap_or("http://127.0.0.1:9");
    ws.write(".ctxls.toml", &format!("[llm]\nprovider = \"openai\"\nbase_url = \"{url}/v1\"\nmodel = \"gpt-4o-mini\"\nretries = 0\n[hover]\nexplain = false\n"));
    support::commit_all(&ws.root());
    ws
}

/// The user message of a `--dry-run` request (OpenAI chat format).
fn dry_run_user_message(stdout: &str) -> String {
    let body = &stdout[stdout.find('{').expect("a JSON body")..];
    let request: Value = serde_json::from_str(body.trim()).unwrap_or_else(|e| panic!("{e}: {body}"));
    let messages = request["messages"].as_array().expect("messages");
    messages.iter().filter(|m| m["role"] == "user").next_back().expect("a user message")["content"].as_str().unwrap().to_string()
}

fn dry_run_system_message(stdout: &str) -> String {
    let body = &stdout[stdout.find('{').expect("a JSON body")..];
    let request: Value = serde_json::from_str(body.trim()).unwrap();
    request["messages"][0]["content"].as_str().unwrap().to_string()
}

#[test]
fn context_shows_the_instructions_mentions_and_documents_a_request_would_include() {
    let ws = workspace(None);
    let (status, stdout, stderr) = ws.ctxls(&["context", &format!("src/orders.ts:{REQUIREMENT_LINE}:5"), "--explain"]);
    assert!(status.success(), "{stderr}");
    let out: Value = serde_json::from_str(&stdout).unwrap();
    assert!(out["query"].as_str().unwrap().starts_with("add fetchOrder(orderId)"), "the requirement at the position is the query: {out}");
    assert_eq!(out["instructions"][0]["path"], ".ctxls/instructions.md");
    let mentions: Vec<(String, String, String)> = out["mentions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["mention"].as_str().unwrap().into(), m["path"].as_str().unwrap().into(), m["what"].as_str().unwrap().into()))
        .collect();
    assert_eq!(
        mentions,
        [
            ("@HttpClient::send".into(), "src/http.ts".into(), "method HttpClient.send".into()),
            ("@docs/guide.md#caching".into(), "docs/guide.md".into(), "section Caching".into()),
        ],
        "the qualified mention picks HttpClient's send, not Socket's"
    );
    assert!(out["mentions"][0]["text"].as_str().unwrap().contains("Sends a request and parses the JSON body."));
    assert_eq!(out["unresolved"], json!([{"mention": "@Nope", "reason": "no file, document section or symbol named `Nope` in the workspace"}]));
    let documents: Vec<&str> = out["documents"].as_array().unwrap().iter().map(|d| d["title"].as_str().unwrap()).collect();
    assert_eq!(documents.first(), Some(&"GET /orders/{orderId}"), "the endpoint the requirement describes: {out}");
    assert!(documents.contains(&"Order"), "with the schema it returns: {documents:?}");
    assert!(!documents.contains(&"Caching"), "a mentioned section is not repeated: {documents:?}");
    let operation = &out["documents"][0];
    assert!(operation["text"].as_str().unwrap().contains("operationId: getOrder"));
    assert_eq!(operation["path"], "docs/api.yaml");
    assert!(operation["why"].as_str().unwrap().contains("words"), "{operation}");

    let (status, text, _) = ws.ctxls(&["context", &format!("src/orders.ts:{REQUIREMENT_LINE}:5"), "--format", "text"]);
    assert!(status.success());
    assert!(text.contains("instructions: .ctxls/instructions.md"), "{text}");
    assert!(text.contains("mention @docs/guide.md#caching -> docs/guide.md:9-11 (section Caching"), "{text}");
    assert!(text.contains("mention @Nope -> nothing: no file"), "{text}");
    assert!(text.contains("document docs/api.yaml:"), "{text}");
}

#[test]
fn generate_sends_the_spec_operation_the_mentioned_items_and_the_instructions() {
    let ws = workspace(None);
    let (status, stdout, stderr) = ws.ctxls(&["generate", &format!("src/orders.ts:{REQUIREMENT_LINE}"), "--dry-run"]);
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("warning: @Nope: no file, document section or symbol named `Nope`"), "{stderr}");
    let user = dry_run_user_message(&stdout);
    let mentioned = user.find("Context the user pointed at (use it):").expect("mentions first");
    let documents = user.find("From the project's documents (for reference):").expect("documents");
    assert!(mentioned < documents && documents < user.find("The requirement, in a comment").unwrap(), "{user}");
    assert!(user.contains("@HttpClient::send = src/http.ts (method HttpClient.send, lines 3-7):"), "{user}");
    assert!(user.contains("Orders are cached for 60 seconds in the OrderCache."), "{user}");
    assert!(user.contains("docs/api.yaml — GET /orders/{orderId}"), "{user}");
    assert!(user.contains("$ref: \"#/components/schemas/Order\""), "{user}");
    assert!(user.contains("totalCents:"), "the referred schema: {user}");
    assert!(!user.contains("createCustomer"), "an unrelated operation stays out: {user}");
    assert!(dry_run_system_message(&stdout).contains("All money amounts are integers in cents."));

    // Documents can be turned off; mentions still count.
    ws.write(".ctxls.toml", "[llm]\nprovider = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\nmodel = \"gpt-4o-mini\"\n[documents]\nenabled = false\n");
    let (_, stdout, _) = ws.ctxls(&["generate", &format!("src/orders.ts:{REQUIREMENT_LINE}"), "--dry-run"]);
    let user = dry_run_user_message(&stdout);
    assert!(!user.contains("From the project's documents"), "{user}");
    assert!(user.contains("@HttpClient::send = src/http.ts"), "{user}");
}

#[test]
fn chat_questions_resolve_mentions_without_a_file() {
    let ws = workspace(None);
    let (status, stdout, stderr) = ws.ctxls(&["chat", "How should @Socket.send report errors? Compare with @docs/guide.md", "--dry-run"]);
    assert!(status.success(), "{stderr}");
    let user = dry_run_user_message(&stdout);
    assert!(user.contains("@Socket.send = src/socket.ts (method Socket.send, lines 2-3):"), "{user}");
    assert!(user.contains("@docs/guide.md = docs/guide.md (document, lines 1-11):"), "{user}");
    assert!(user.ends_with("How should @Socket.send report errors? Compare with @docs/guide.md"), "{user}");
}

#[test]
fn prompt_files_run_from_the_cli_with_every_variable_and_apply_their_edit() {
    let (_runtime, server) = llm_server::with_server(Vec::new());
    let ws = workspace(Some(&server.url()));
    let (status, listed, stderr) = ws.ctxls(&["run-prompt", "--list"]);
    assert!(!status.success(), "a broken prompt file makes --list fail");
    assert!(listed.contains("api-client\tAPI client function for an endpoint\t(applies to requirement; typescript; output edit)"), "{listed}");
    assert!(listed.contains("explain-selection\tExplain for a newcomer\t(applies to selection; all languages; output message)"), "{listed}");
    assert!(stderr.contains("prompt file .ctxls/prompts/broken.md: unknown variable `{{selction}}`"), "{stderr}");

    let target = format!("src/orders.ts:{REQUIREMENT_LINE}");
    let (status, _, stderr) = ws.ctxls(&["run-prompt", "api-client", &target, "--dry-run"]);
    assert!(!status.success());
    assert!(stderr.contains("the prompt `api-client` needs `input`, and there is none here: give it with --input TEXT"), "{stderr}");

    // A change in the working tree shows in {{diff}}.
    ws.write("src/http.ts", &std::fs::read_to_string(ws.root().join("src/http.ts")).unwrap().replace("parses the JSON body", "parses the JSON reply"));
    server.push(Reply::openai(
        &["src/orders.ts\n<<<<<<< SEARCH\n// AI: add fetchOrder(orderId) for the endpoint that fetches one order by its id,\n// using @HttpClient::send; cache it as @docs/guide.md#caching says. See also @Nope.\n=======\n",
          "export async function fetchOrder(orderId: string): Promise<Order> {\n  return client.send(\"GET\", `/orders/${orderId}`);\n}\n>>>>>>> REPLACE\n"],
        true,
    ));
    let (status, _, stderr) = ws.ctxls(&["run-prompt", "api-client", &target, "--input", "use async/await", "--write"]);
    assert!(status.success(), "{stderr}");
    let orders = std::fs::read_to_string(ws.root().join("src/orders.ts")).unwrap();
    assert_eq!(
        orders,
        "import { HttpClient } from \"./http\";\n\nexport async function fetchOrder(orderId: string): Promise<Order> {\n  return client.send(\"GET\", `/orders/${orderId}`);\n}\nexport const client = new HttpClient(\"/api\");\n"
    );
    let sent = server.requests().pop().expect("the model was asked").json();
    let user = sent["messages"][1]["content"].as_str().unwrap().to_string();
    assert!(user.starts_with("Write the client function the requirement asks for: add fetchOrder(orderId) for the endpoint"), "{user}");
    assert!(user.contains("Context:\nContext the user pointed at (use it):"), "{{context}} holds the mentions: {user}");
    assert!(user.contains("docs/api.yaml — GET /orders/{orderId}"), "and the documents: {user}");
    assert!(user.contains("src/http.ts (lines"), "and the retrieved code: {user}");
    assert!(user.contains("Extra wishes: use async/await"), "{user}");
    assert!(user.contains("Changes so far: ```diff\ndiff --git a/src/http.ts b/src/http.ts"), "{user}");
    assert!(user.contains("File src/orders.ts:\n```typescript\nimport { HttpClient }"), "{{file}}: {user}");
    assert!(sent["messages"][0]["content"].as_str().unwrap().contains("SEARCH/REPLACE"), "an edit prompt asks for blocks");
    assert!(sent["messages"][0]["content"].as_str().unwrap().contains("All money amounts are integers in cents."));

    // A message prompt on a selection prints the answer.
    server.push(Reply::openai(&["It is the shared HTTP client."], true));
    let (status, stdout, stderr) = ws.ctxls(&["run-prompt", "explain-selection", "src/orders.ts:6-6"]);
    assert!(status.success(), "{stderr}");
    assert_eq!(stdout, "It is the shared HTTP client.\n");
    let sent = server.requests().pop().unwrap().json();
    assert_eq!(sent["messages"][1]["content"], "Explain this for a newcomer: src/orders.ts (lines 6-6):\n```typescript\nexport const client = new HttpClient(\"/api\");\n```");
}

struct Editor {
    _runtime: tokio::runtime::Runtime,
    server: ScriptedServer,
    ws: TempWorkspace,
    client: LspClient,
    orders: String,
}

/// The workspace open in the server, with src/orders.ts open, once the documents are
/// loaded (the unknown mention is diagnosed then).
fn editor() -> Editor {
    let (runtime, server) = llm_server::with_server(Vec::new());
    let ws = workspace(Some(&server.url()));
    let root = ws.root();
    let mut client = LspClient::start_indexed(&ws);
    let orders = client.open_file(&root, "src/orders.ts", "typescript");
    Editor { _runtime: runtime, server, ws, client, orders }
}

#[test]
fn mentions_are_completed_and_an_unknown_one_is_diagnosed() {
    let mut e = editor();
    let orders = e.orders.clone();
    let published = e.client.wait_for(Duration::from_secs(30), |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == orders
            && m["params"]["diagnostics"].as_array().is_some_and(|d| d.iter().any(|d| d["code"] == "unknown-mention"))
    });
    let unknown: Vec<&Value> = published["params"]["diagnostics"].as_array().unwrap().iter().filter(|d| d["code"] == "unknown-mention").collect();
    assert_eq!(unknown.len(), 1, "only @Nope: {published}");
    assert_eq!(unknown[0]["message"], "@Nope: no file, document section or symbol named `Nope` in the workspace");
    assert_eq!(unknown[0]["range"], json!({"start": {"line": 3, "character": 78}, "end": {"line": 3, "character": 83}}));
    assert_eq!(unknown[0]["severity"], 2);

    // Typing `@HttpC` in a comment.
    let edit = |client: &mut LspClient, version: i32, line: u32, character: u32, text: &str| {
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": orders, "version": version}, "contentChanges": [{"range": {"start": {"line": line, "character": character}, "end": {"line": line, "character": character}}, "text": text}]}),
        );
    };
    edit(&mut e.client, 2, 0, 0, "// see @HttpC\n");
    let completion = e.client.request("textDocument/completion", json!({"textDocument": {"uri": orders}, "position": {"line": 0, "character": 13}, "context": {"triggerKind": 1}}));
    let items = completion["result"]["items"].as_array().unwrap_or_else(|| panic!("{completion}"));
    assert_eq!(items[0]["label"], "HttpClient", "{completion}");
    assert_eq!(items[0]["textEdit"]["range"], json!({"start": {"line": 0, "character": 8}, "end": {"line": 0, "character": 13}}));
    assert_eq!(items[0]["kind"], 7, "a class");
    // After `#`, the document's sections.
    edit(&mut e.client, 3, 1, 0, "// and @docs/guide.md#\n");
    let completion = e.client.request("textDocument/completion", json!({"textDocument": {"uri": orders}, "position": {"line": 1, "character": 22}, "context": {"triggerKind": 2, "triggerCharacter": "#"}}));
    let labels: Vec<&str> = completion["result"]["items"].as_array().unwrap().iter().map(|i| i["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["docs/guide.md#shop-frontend-guide", "docs/guide.md#error-handling", "docs/guide.md#caching"]);
    // `@` outside a comment asks nothing of anyone.
    let completion = e.client.request("textDocument/completion", json!({"textDocument": {"uri": orders}, "position": {"line": 2, "character": 0}, "context": {"triggerKind": 2, "triggerCharacter": "@"}}));
    assert_eq!(completion["result"], Value::Null, "{completion}");
    assert!(e.server.requests().is_empty(), "mentions never call the model");
    drop(e.ws);
}

#[test]
fn prompt_files_are_code_actions_and_commands_in_the_editor() {
    let mut e = editor();
    let broken = e.client.wait_for(Duration::from_secs(30), |m| m["method"] == "window/showMessage" && m["params"]["message"].as_str().is_some_and(|t| t.contains("broken.md")));
    assert_eq!(broken["params"]["message"], "ctxls: prompt file .ctxls/prompts/broken.md is not used: unknown variable `{{selction}}` (known: {{selection}}, {{symbol}}, {{file}}, {{context}}, {{diff}}, {{requirement}}, {{input}})");
    let orders = e.orders.clone();
    e.client.wait_for(Duration::from_secs(30), |m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["diagnostics"].as_array().is_some_and(|d| d.iter().any(|d| d["code"] == "unknown-mention")));

    let listed = e.client.request("workspace/executeCommand", json!({"command": "ctxls.listPrompts", "arguments": [{"uri": orders}]}));
    let names: Vec<&str> = listed["result"]["prompts"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["api-client", "explain-selection"]);
    assert_eq!(listed["result"]["prompts"][0]["needsInput"], true);

    let on_requirement = json!({"start": {"line": 2, "character": 3}, "end": {"line": 2, "character": 3}});
    let actions = e.client.request("textDocument/codeAction", json!({"textDocument": {"uri": orders}, "range": on_requirement, "context": {"diagnostics": []}}));
    let titles: Vec<&str> = actions["result"].as_array().unwrap().iter().map(|a| a["title"].as_str().unwrap()).collect();
    assert!(titles.contains(&"ctxls: API client function for an endpoint…"), "{titles:?}");
    assert!(!titles.iter().any(|t| t.contains("newcomer")), "a selection prompt needs a selection: {titles:?}");
    let action = actions["result"].as_array().unwrap().iter().find(|a| a["title"] == "ctxls: API client function for an endpoint…").unwrap().clone();
    let on_selection = json!({"start": {"line": 4, "character": 0}, "end": {"line": 4, "character": 20}});
    let actions = e.client.request("textDocument/codeAction", json!({"textDocument": {"uri": orders}, "range": on_selection, "context": {"diagnostics": []}}));
    assert!(actions["result"].as_array().unwrap().iter().any(|a| a["title"] == "ctxls: Explain for a newcomer"), "{actions}");

    // Without the input it needs: an error naming it.
    let command = action["command"].clone();
    let refused = e.client.request("workspace/executeCommand", json!({"command": command["command"], "arguments": command["arguments"]}));
    assert_eq!(refused["error"]["code"], -32602);
    assert!(refused["error"]["message"].as_str().unwrap().contains("needs an `input` argument"), "{refused}");

    e.server.push(Reply::openai(
        &["src/orders.ts\n<<<<<<< SEARCH\nexport const client = new HttpClient(\"/api\");\n=======\nexport const client = new HttpClient(\"/api\");\n\nexport function fetchOrder(orderId: string) {\n  return client.send(\"GET\", `/orders/${orderId}`);\n}\n>>>>>>> REPLACE\n"],
        true,
    ));
    let mut arguments = command["arguments"].clone();
    arguments[0]["input"] = json!("keep it short");
    let ran = e.client.request("workspace/executeCommand", json!({"command": "ctxls.runPrompt", "arguments": arguments}));
    assert_eq!(ran["result"]["applied"], true, "{ran}");
    assert_eq!(ran["result"]["files"], json!(["src/orders.ts"]));
    let applied = e.client.wait_for(Duration::from_secs(5), |m| m["method"] == "workspace/applyEdit");
    let edit = &applied["params"]["edit"]["documentChanges"][0]["edits"][0];
    assert!(edit["newText"].as_str().unwrap().contains("export function fetchOrder(orderId: string)"), "{applied}");
    let sent = e.server.requests().pop().unwrap().json();
    let user = sent["messages"][1]["content"].as_str().unwrap();
    assert!(user.contains("Extra wishes: keep it short") && user.contains("docs/api.yaml — GET /orders/{orderId}"), "{user}");
    // The status item saw the model busy, then ready (the status is its own notification,
    // sent apart from the command's answer: it may come after it).
    e.client.wait_for(Duration::from_secs(5), |m| m["method"] == "ctxls/status" && m["params"]["model"] == "ready");
    let statuses: Vec<Value> = e.client.notifications.iter().filter(|m| m["method"] == "ctxls/status").map(|m| m["params"].clone()).collect();
    assert_eq!(statuses, [json!({"model": "busy"}), json!({"model": "ready"})]);

    // showContext tells what a request at the requirement would include.
    let shown = e.client.request("workspace/executeCommand", json!({"command": "ctxls.showContext", "arguments": [{"uri": orders, "position": {"line": 2, "character": 5}}]}));
    let result = &shown["result"];
    assert_eq!(result["instructions"][0]["path"], ".ctxls/instructions.md", "{shown}");
    assert_eq!(result["mentions"][1]["mention"], "@docs/guide.md#caching");
    assert_eq!(result["unresolved"][0]["mention"], "@Nope");
    assert_eq!(result["documents"][0]["title"], "GET /orders/{orderId}", "{shown}");
}

#[test]
fn inline_completions_take_documents_only_when_configured() {
    let mut e = editor();
    let orders = e.orders.clone();
    // Typing a call to the endpoint the spec describes, on the last line.
    let add = "\nexport async function fetchOrder(orderId: string) {\n  return client.send(\"GET\", `/orders/${orderId}`);\n";
    e.client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": orders, "version": 2}, "contentChanges": [{"range": {"start": {"line": 5, "character": 0}, "end": {"line": 5, "character": 0}}, "text": add}]}),
    );
    let complete = |client: &mut LspClient, character: u32| {
        client.request("textDocument/inlineCompletion", json!({"textDocument": {"uri": orders}, "position": {"line": 7, "character": character}, "context": {"triggerKind": 1}}))
    };
    e.server.push(Reply::openai(&["}"], false));
    let answer = complete(&mut e.client, 50);
    assert!(answer.get("error").is_none(), "{answer}");
    let prompt = e.server.requests().pop().expect("the model was asked").json()["prompt"].as_str().unwrap_or("").to_string();
    assert!(!prompt.contains("operationId: getOrder"), "documents stay out of completions by default: {prompt}");

    e.ws.write(".ctxls.toml", &format!("[llm]\nprovider = \"openai\"\nbase_url = \"{}/v1\"\nmodel = \"gpt-4o-mini\"\nretries = 0\n[documents]\nin_completion = true\n", e.server.url()));
    e.client.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": uri(&e.ws.root().join(".ctxls.toml")), "type": 2}]}));
    std::thread::sleep(Duration::from_millis(300));
    // Another prefix (the last answer is remembered for the old one).
    e.client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": orders, "version": 3}, "contentChanges": [{"range": {"start": {"line": 7, "character": 50}, "end": {"line": 7, "character": 50}}, "text": " "}]}),
    );
    e.server.push(Reply::openai(&["}"], false));
    let answer = complete(&mut e.client, 51);
    assert!(answer.get("error").is_none(), "{answer}");
    assert_eq!(e.server.requests().len(), 2, "both completions asked the model");
    let prompt = e.server.requests().pop().expect("the model was asked").json()["prompt"].as_str().unwrap_or("").to_string();
    assert!(prompt.contains("docs/api.yaml") && prompt.contains("operationId: getOrder"), "with in_completion, the spec's operation: {prompt}");
}
