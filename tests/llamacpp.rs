//! llama.cpp's `llama-server` as the scripted server plays it (the exact wire format:
//! `/infill` with the retrieved excerpts as `input_extra`, native `{"content": ...}`
//! items, `/props`), and the defects a real server showed: a base URL without `/v1`,
//! a provider that does not match the server, stdout closed early, explanations written
//! where other users can read them, temperatures sent as `0.20000000298023224`.

mod support;
#[path = "support/llm_server.rs"]
mod llm_server;

use std::time::{Duration, Instant};

use llm_server::{Reply, with_server};
use serde_json::json;
use support::{LspClient, TempWorkspace};

/// llama-server's native stream (`/infill`, `/completion`): content items, then the end.
fn native(pieces: &[&str], stop_type: &str) -> Reply {
    let mut events: Vec<String> =
        pieces.iter().map(|p| format!("data: {}\n\n", json!({"content": p, "stop": false, "index": 0}))).collect();
    events.push(format!("data: {}\n\n", json!({"content": "", "stop": true, "stop_type": stop_type, "timings": {}})));
    let mut reply = Reply::status(200, "");
    reply.headers = vec![("content-type".into(), "text/event-stream".into())];
    reply.chunks = events.into_iter().map(|e| (Duration::ZERO, e.into_bytes())).collect();
    reply
}

const FIXTURE: &str = "//- /src/lib.rs\nmod geometry;\nuse geometry::Point;\npub fn add(a: Point, b: Point) -> Point {\n    \n}\n\
//- /src/geometry.rs\npub struct Point { pub x: i32, pub y: i32 }\n";

#[test]
fn llamacpp_completes_through_infill_with_the_excerpts_as_repository_files() {
    let (_runtime, server) = with_server(Vec::new());
    server.push(native(&["Point { x: a.x + b.x, ", "y: a.y + b.y }"], "eos"));
    let ws = TempWorkspace::new(FIXTURE);
    // A `/v1` copied from an OpenAI-style URL is dropped: llama.cpp's URLs start at the root.
    ws.write(".ctxls.toml", &format!("[llm]\nprovider = \"llamacpp\"\nbase_url = \"{}/v1/\"\nmodel = \"anything\"\n", server.url()));
    let started = Instant::now();
    let (status, stdout, stderr) = ws.ctxls(&["complete", "src/lib.rs:4:5"]);
    assert!(status.success(), "{stderr}");
    assert_eq!(stdout, "Point { x: a.x + b.x, y: a.y + b.y }\n");
    assert!(started.elapsed() < Duration::from_secs(8), "no wait for a timeout");
    let request = &server.requests()[0];
    assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", "/infill"));
    let body = request.json();
    assert_eq!(body["input_prefix"], "mod geometry;\nuse geometry::Point;\npub fn add(a: Point, b: Point) -> Point {\n    ");
    assert_eq!(body["input_suffix"], "\n}\n");
    assert_eq!(
        body["input_extra"],
        json!([{"filename": "src/geometry.rs", "text": "pub struct Point { pub x: i32, pub y: i32 }\n"}]),
        "the definition the code uses, as a file of the repository"
    );
    assert_eq!(body["stream"], true);
    assert!(body["n_predict"].as_u64().is_some_and(|n| n > 0));
    assert!(!request.body.contains("<|fim_prefix|>"), "no template guessed: the server applies the model's own tokens");
    assert!(request.body.contains("\"temperature\":0.2"), "0.2, not its f32 widening: {}", request.body);
}

#[test]
fn llamacpp_chats_through_the_openai_route_and_says_when_the_model_cannot_fill_in() {
    let (_runtime, server) = with_server(Vec::new());
    server.push(Reply::openai(&["It adds ", "two points."], true));
    let ws = TempWorkspace::new(FIXTURE);
    ws.write(".ctxls.toml", &format!("[llm]\nprovider = \"llama.cpp\"\nbase_url = \"{}\"\nretries = 0\n", server.url()));
    let (status, stdout, stderr) = ws.ctxls(&["chat", "what does add do?", "--file", "src/lib.rs:3"]);
    assert!(status.success(), "{stderr}");
    assert_eq!(stdout, "It adds two points.\n");
    let request = &server.requests()[0];
    assert_eq!(request.path, "/v1/chat/completions");
    assert!(request.body.contains("\"temperature\":0.2"), "{}", request.body);

    // A model without FIM tokens: llama-server answers 501; the error says what to do.
    server.push(Reply::status(501, r#"{"error":{"code":501,"message":"Infill is not supported by this model: prefix token is missing. ","type":"not_supported_error"}}"#));
    let (status, _, stderr) = ws.ctxls(&["complete", "src/lib.rs:4:5"]);
    assert!(!status.success());
    assert!(stderr.contains("Infill is not supported") && stderr.contains("FIM tokens") && stderr.contains("/infill"), "{stderr}");
}

#[test]
fn openai_without_v1_reads_llama_servers_native_stream_at_once() {
    // `base_url = "http://127.0.0.1:8080"` with provider openai: llama-server answers
    // `/completions` in its own format; it is read, not waited out.
    let (_runtime, server) = with_server(Vec::new());
    server.push(native(&["a ", "+ b"], "limit"));
    let ws = TempWorkspace::new("//- /src/lib.rs\npub fn add(a: i32, b: i32) -> i32 {\n    \n}\n");
    ws.write(".ctxls.toml", &format!("[llm]\nprovider = \"openai\"\nbase_url = \"{}\"\nmodel = \"m\"\n", server.url()));
    let started = Instant::now();
    let (status, stdout, stderr) = ws.ctxls(&["complete", "src/lib.rs:2:5"]);
    assert!(status.success(), "{stderr}");
    assert_eq!(stdout, "a + b\n");
    assert!(started.elapsed() < Duration::from_secs(8));
    let body = server.requests()[0].json();
    assert_eq!(server.requests()[0].path, "/completions");
    // The model's family is unknown: default stops end the completion.
    let stop: Vec<&str> = body["stop"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert!(stop.contains(&"\n\n\n") && stop.len() <= 4, "{stop:?}");

    // A stream of items ctxls cannot read is said as such, with the URL, not waited out.
    let mut odd = Reply::status(200, "");
    odd.headers = vec![("content-type".into(), "text/event-stream".into())];
    odd.chunks = vec![(Duration::ZERO, b"data: {\"token\": \"x\"}\n\n".to_vec()), (Duration::ZERO, b"data: {\"token\": \"y\"}\n\n".to_vec())];
    server.push(odd);
    let started = Instant::now();
    let (status, _, stderr) = ws.ctxls(&["complete", "src/lib.rs:2:5"]);
    assert!(!status.success());
    assert!(stderr.contains("format ctxls does not read") && stderr.contains(&server.url()), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(8), "no silent wait for the first-token timeout");
}

#[test]
fn ollama_against_another_server_names_the_url_and_the_fix() {
    let (_runtime, server) = with_server(Vec::new());
    server.fallback(Reply::status(404, "File Not Found"));
    let ws = TempWorkspace::new("//- /src/lib.rs\npub fn add(a: i32, b: i32) -> i32 {\n    \n}\n");
    ws.write(".ctxls.toml", &format!("[llm]\nprovider = \"ollama\"\nbase_url = \"{}\"\nretries = 0\n", server.url()));
    let (status, _, stderr) = ws.ctxls(&["complete", "src/lib.rs:2:5"]);
    assert!(!status.success());
    let url = format!("{}/api/generate", server.url());
    assert!(stderr.contains(&url) && stderr.contains("404") && stderr.contains("provider = \"llamacpp\"") && stderr.contains("doctor"), "{stderr}");
}

#[test]
fn doctor_says_which_server_answers_and_how_to_configure_it() {
    let (_runtime, server) = with_server(Vec::new());
    let ws = TempWorkspace::new("//- /src/lib.rs\npub fn add() {}\n");
    ws.write(".ctxls.toml", &format!("[llm]\nprovider = \"ollama\"\nbase_url = \"{}\"\nretries = 0\n", server.url()));
    // Ollama's model list (doctor), then the probe: /api/tags, /v1/models, /props, /infill.
    server.push(Reply::status(404, "File Not Found"));
    server.push(Reply::status(404, "File Not Found"));
    server.push(Reply::status(200, r#"{"object":"list","data":[{"id":"/models/qwen.gguf","object":"model"}]}"#));
    server.push(Reply::status(200, r#"{"default_generation_settings":{"n_ctx":4096},"model_path":"/models/qwen.gguf","build_info":"b1"}"#));
    server.push(Reply::status(200, r#"{"content":"x","stop":true}"#));
    server.fallback(Reply::status(404, "File Not Found"));
    let (status, stdout, stderr) = ws.ctxls(&["doctor"]);
    assert!(!status.success(), "{stdout}");
    assert!(stdout.contains("/props (llama.cpp) answers") && stdout.contains("/infill works"), "{stdout}{stderr}");
    let fix = format!("fix: the server is llama.cpp's llama-server: set provider = \"llamacpp\" and base_url = \"{}\"", server.url());
    assert!(stdout.contains(&fix), "{stdout}");
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(&paths[..5], ["/api/tags", "/api/tags", "/v1/models", "/props", "/infill"]);
}

#[cfg(unix)]
#[test]
fn a_closed_stdout_ends_commands_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let (_runtime, server) = with_server(Vec::new());
    server.fallback(native(&["a ", "+ b"], "eos"));
    let ws = TempWorkspace::new("//- /src/lib.rs\npub fn add(a: i32, b: i32) -> i32 {\n    \n}\n");
    ws.write(".ctxls.toml", &format!("[llm]\nprovider = \"llamacpp\"\nbase_url = \"{}\"\n", server.url()));
    for args in [&["doctor"][..], &["complete", "src/lib.rs:2:5"], &["chat", "what is add?"]] {
        // The reading end is closed before the command starts: its first write fails.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let output = std::process::Command::new(support::bin())
            .args(args)
            .env("CTXLS_CACHE_DIR", ws.cache.path())
            .env("RUST_BACKTRACE", "1")
            .current_dir(ws.dir.path())
            .stdout(writer)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe") && !stderr.contains("backtrace"), "{args:?}: {stderr}");
        assert_eq!(output.status.signal(), Some(13), "{args:?}: ends as Unix tools do on SIGPIPE (exit 141 in a shell): {:?}", output.status);
    }
}

#[cfg(unix)]
#[test]
fn explanations_stay_in_the_users_cache_readable_by_the_user_alone() {
    use std::os::unix::fs::PermissionsExt;
    let (_runtime, server) = with_server(Vec::new());
    server.fallback(Reply::ollama(&["It adds two points."], true));
    let ws = TempWorkspace::new(FIXTURE);
    ws.write(".ctxls.toml", &format!("[llm]\nbase_url = \"{}\"\nretries = 0\n[hover]\nexplain = false\n", server.url()));
    let tmp = tempfile::tempdir().unwrap();
    let root = ws.root();
    // CTXLS_CACHE_DIR (set by LspClient) is the only hint where the cache is; TMPDIR is a
    // directory of its own, to see that nothing lands in the shared temporary directory.
    let mut client = LspClient::start_with_env(ws.cache.path(), &[("TMPDIR", tmp.path().to_str().unwrap())]);
    client.request(
        "initialize",
        json!({"processId": null, "rootUri": support::uri(&root), "capabilities": {"window": {"showDocument": {"support": true}, "workDoneProgress": true}}}),
    );
    client.notify("initialized", json!({}));
    client.wait_indexed();
    let lib = client.open_file(&root, "src/lib.rs", "rust");
    let range = json!({"start": {"line": 2, "character": 0}, "end": {"line": 4, "character": 1}});
    let explained = client.request("workspace/executeCommand", json!({"command": "ctxls.explain", "arguments": [{"uri": lib, "range": range}]}));
    assert_eq!(explained["result"]["markdown"], "It adds two points.", "{explained}");
    let shown = client.wait_for(Duration::from_secs(10), |m| m["method"] == "window/showDocument");
    let path = url_path(shown["params"]["uri"].as_str().unwrap());
    let dir = ws.cache.path().canonicalize().unwrap().join("explanations");
    assert_eq!(std::path::Path::new(&path).parent().unwrap().canonicalize().unwrap(), dir, "{path}");
    assert!(std::fs::read_to_string(&path).unwrap().contains("It adds two points."));
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777, 0o700);
    assert!(std::fs::read_dir(tmp.path()).unwrap().next().is_none(), "nothing in the temporary directory");
    client.shutdown();
}

fn url_path(uri: &str) -> String {
    let path = uri.strip_prefix("file://").unwrap();
    let mut out = Vec::new();
    let bytes = path.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&path[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

