//! The LLM commands through the built binary against the scripted server.

mod support;
#[path = "support/llm_server.rs"]
mod llm_server;

use llm_server::{Reply, with_server};
use support::TempWorkspace;

const KEY: &str = "sk-cli-test-key-987654321";

fn workspace(config: &str) -> TempWorkspace {
    let ws = TempWorkspace::new("//- /src/lib.rs\npub fn add(a: i32, b: i32) -> i32 {\n    \n}\n");
    ws.write(".ctxls.toml", config);
    ws
}

fn ctxls_with_key(ws: &TempWorkspace, args: &[&str]) -> (std::process::ExitStatus, String, String) {
    let output = std::process::Command::new(support::bin())
        .args(args)
        .env("CTXLS_CACHE_DIR", ws.cache.path())
        .env("CTXLS_TEST_KEY", KEY)
        .env("CTXLS_LOG", "debug")
        .current_dir(ws.dir.path())
        .output()
        .unwrap();
    (output.status, String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn complete_streams_a_fill_in_the_middle_answer_with_workspace_context() {
    let (_runtime, server) = with_server(vec![Reply::ollama(&["a ", "+ b"], false)]);
    let ws = TempWorkspace::new(
        "//- /src/lib.rs\nmod geometry;\nuse geometry::Point;\npub fn add(a: Point, b: Point) -> Point {\n    \n}\n\
         //- /src/geometry.rs\npub struct Point { pub x: i32, pub y: i32 }\n//- /src/unrelated.rs\npub fn shout() {}\n",
    );
    ws.write(".ctxls.toml", &format!("[llm]\nbase_url = \"{}\"\n", server.url()));
    let (status, stdout, stderr) = ws.ctxls(&["complete", "src/lib.rs:4:5"]);
    assert!(status.success(), "{stderr}");
    assert_eq!(stdout, "a + b\n");
    let request = &server.requests()[0];
    assert_eq!(request.path, "/api/generate");
    assert_eq!(request.json()["model"], "qwen2.5-coder:1.5b", "the default model");
    assert_eq!(
        request.json()["prompt"],
        "// Path: src/geometry.rs (lines 1-1)\n// pub struct Point { pub x: i32, pub y: i32 }\n\n\
         // Path: src/lib.rs\nmod geometry;\nuse geometry::Point;\npub fn add(a: Point, b: Point) -> Point {\n    ",
        "the definition the code uses comes along, as a commented excerpt"
    );
    assert_eq!(request.json()["suffix"], "\n}\n");
}

#[test]
fn dry_run_sends_nothing_and_hides_the_key() {
    let (_runtime, server) = with_server(vec![]);
    let ws = workspace(&format!(
        "[llm]\nprovider = \"openai\"\nbase_url = \"{}/v1\"\nmodel = \"gpt-4o-mini\"\napi_key_env = \"CTXLS_TEST_KEY\"\n",
        server.url()
    ));
    let (status, stdout, _) = ctxls_with_key(&ws, &["complete", "src/lib.rs:2:5", "--dry-run"]);
    assert!(status.success());
    assert!(stdout.starts_with(&format!("POST {}/v1/completions", server.url())), "{stdout}");
    assert!(stdout.contains("authorization: <redacted>"));
    assert!(!stdout.contains(KEY));
    let (status, stdout, stderr) = ctxls_with_key(&ws, &["chat", "what does add do?", "--file", "src/lib.rs:1", "--dry-run"]);
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("/v1/chat/completions") && stdout.contains("what does add do?") && stdout.contains("pub fn add"));
    assert!(!stdout.contains(KEY) && !stderr.contains(KEY), "the key never appears, even in debug logs");
    assert!(server.requests().is_empty(), "nothing left the machine");
    // Nor in the cache (index, vectors) the runs wrote.
    let mut dirs = vec![ws.cache.path().to_path_buf()];
    let mut files = 0;
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            if entry.file_type().unwrap().is_dir() {
                dirs.push(entry.path());
            } else {
                files += 1;
                let bytes = std::fs::read(entry.path()).unwrap();
                assert!(!bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes()), "the key is in {}", entry.path().display());
            }
        }
    }
    assert!(files > 0, "the cache was written");
}

#[test]
fn secrets_in_the_code_are_redacted_before_anything_is_sent() {
    let (_runtime, server) = with_server(vec![Reply::openai(&["ok"], true)]);
    let ws = workspace(&format!("[llm]\nprovider = \"openai\"\nbase_url = \"{}/v1\"\nmodel = \"gpt-4o-mini\"\n", server.url()));
    let aws = "AKIAIOSFODNN7EXAMPLE";
    let openai = "sk-proj-4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c";
    ws.write("src/config.rs", &format!("pub const AWS_KEY: &str = \"{aws}\";\npub fn client() -> String {{ String::from(\"{openai}\") }}\n/// -----BEGIN PRIVATE KEY-----\n/// MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n/// -----END PRIVATE KEY-----\npub fn key() {{}}\n"));
    let (status, stdout, stderr) = ws.ctxls(&["chat", "is the client configured?", "--file", "src/config.rs", "--dry-run"]);
    assert!(status.success(), "{stderr}");
    assert!(!stdout.contains(aws) && !stdout.contains(openai) && !stdout.contains("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"), "{stdout}");
    assert!(stdout.contains("[REDACTED:aws-access-key]") && stdout.contains("[REDACTED:api-key]") && stdout.contains("[REDACTED:private-key]"), "{stdout}");
    let (status, _, stderr) = ws.ctxls(&["chat", "is the client configured?", "--file", "src/config.rs"]);
    assert!(status.success(), "{stderr}");
    let sent = server.requests()[0].body.clone();
    assert!(!sent.contains(aws) && !sent.contains(openai) && sent.contains("[REDACTED:api-key]"), "{sent}");
    // Turned off, the text goes as it is (the test above is what the setting changes).
    ws.write(".ctxls.toml", &format!("[llm]\nprovider = \"openai\"\nbase_url = \"{}/v1\"\nmodel = \"gpt-4o-mini\"\nredact_secrets = false\n", server.url()));
    let (_, stdout, _) = ws.ctxls(&["chat", "is the client configured?", "--file", "src/config.rs", "--dry-run"]);
    assert!(stdout.contains(aws), "{stdout}");
}

#[test]
fn secret_files_are_never_indexed_nor_sent() {
    let ws = workspace("");
    ws.write("id_rsa.ts", "export const k = 1;\n");
    ws.write("src/app.ts", "export const app = 1;\n");
    let (status, stdout, stderr) = ws.ctxls(&["index", "--json"]);
    assert!(status.success(), "{stderr}");
    let out: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(out["skipped"], 1, "{out}");
    let (status, _, stderr) = ws.ctxls(&["chat", "what is k?", "--file", "id_rsa.ts", "--dry-run"]);
    assert!(!status.success() && stderr.contains("is ignored"), "{stderr}");
}

#[test]
fn chat_streams_an_answer() {
    let (_runtime, server) = with_server(vec![Reply::anthropic(&["It adds", " two numbers."])]);
    let ws = workspace(&format!(
        "[llm]\nprovider = \"anthropic\"\nbase_url = \"{}\"\nmodel = \"claude-test\"\napi_key_env = \"CTXLS_TEST_KEY\"\n",
        server.url()
    ));
    let (status, stdout, stderr) = ctxls_with_key(&ws, &["chat", "what does add do?", "--file", "src/lib.rs"]);
    assert!(status.success(), "{stderr}");
    assert_eq!(stdout, "It adds two numbers.\n");
    let request = &server.requests()[0];
    assert_eq!(request.header("x-api-key"), Some(KEY));
    assert!(request.json()["messages"][0]["content"].as_str().unwrap().contains("File src/lib.rs"));
    assert!(!stderr.contains(KEY));
}

#[test]
fn doctor_reports_healthy_and_broken_setups() {
    let (_runtime, server) = with_server(vec![
        Reply::status(200, "{\"models\":[{\"name\":\"qwen2.5-coder:1.5b\"}]}"),
        Reply::status(200, "{\"models\":[{\"name\":\"qwen2.5-coder:1.5b\"}]}"),
    ]);
    let ws = workspace(&format!("[llm]\nbase_url = \"{}\"\n", server.url()));
    let (status, stdout, _) = ws.ctxls(&["doctor"]);
    assert!(status.success(), "{stdout}");
    assert!(stdout.contains("model: qwen2.5-coder:1.5b is available"), "{stdout}");
    assert!(stdout.contains("api key: not needed"));
    assert!(stdout.contains("tokenizer for budgets: cl100k_base (approximation)"), "{stdout}");

    // The model is missing.
    server.push(Reply::status(200, "{\"models\":[{\"name\":\"llama3:latest\"}]}"));
    server.push(Reply::status(200, "{\"models\":[{\"name\":\"llama3:latest\"}]}"));
    let (status, stdout, _) = ws.ctxls(&["doctor"]);
    assert!(!status.success());
    assert!(stdout.contains("ollama pull qwen2.5-coder:1.5b"), "{stdout}");

    // Nothing listens.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let ws = workspace(&format!("[llm]\nbase_url = \"http://127.0.0.1:{port}\"\nretries = 0\n"));
    let (status, stdout, _) = ws.ctxls(&["doctor"]);
    assert!(!status.success());
    assert!(stdout.contains("not reachable") && stdout.contains("ollama serve"), "{stdout}");
}

#[test]
fn an_unreachable_provider_is_one_clear_sentence() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let ws = workspace(&format!("[llm]\nbase_url = \"http://127.0.0.1:{port}\"\nretries = 0\n"));
    let (status, stdout, stderr) = ws.ctxls(&["complete", "src/lib.rs:2:5"]);
    assert!(!status.success());
    assert!(stdout.is_empty());
    assert_eq!(stderr.lines().filter(|l| l.starts_with("ctxls:")).count(), 1, "{stderr}");
    assert!(stderr.contains("not reachable") && stderr.contains("ollama"), "{stderr}");
}

#[test]
fn generate_prints_the_change_and_writes_it_on_request() {
    let answer = "src/lib.rs\n<<<<<<< SEARCH\npub fn add(a: i32, b: i32) -> i32 {\n    // AI: add them\n}\n=======\npub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n>>>>>>> REPLACE\n";
    let (_runtime, server) = with_server(vec![Reply::ollama(&[answer], true), Reply::ollama(&[answer], true)]);
    let ws = TempWorkspace::new("//- /src/lib.rs\npub fn add(a: i32, b: i32) -> i32 {\n    // AI: add them\n}\n");
    ws.write(".ctxls.toml", &format!("[llm]\nbase_url = \"{}\"\n", server.url()));
    let (status, stdout, stderr) = ws.ctxls(&["generate", "src/lib.rs:2"]);
    assert!(status.success(), "{stderr}");
    assert_eq!(stdout, "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1,3 +1,3 @@\n pub fn add(a: i32, b: i32) -> i32 {\n-    // AI: add them\n+    a + b\n }\n");
    let asked = server.requests()[0].json()["messages"][1]["content"].as_str().unwrap().to_string();
    assert!(asked.ends_with("The requirement, in a comment in src/lib.rs: add them\n\nImplement it."), "{asked}");
    assert!(std::fs::read_to_string(ws.root().join("src/lib.rs")).unwrap().contains("// AI: add them"), "printed, not written");
    let (status, _, stderr) = ws.ctxls(&["generate", "src/lib.rs:2", "--write"]);
    assert!(status.success(), "{stderr}");
    assert_eq!(std::fs::read_to_string(ws.root().join("src/lib.rs")).unwrap(), "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n");
    // No requirement there: a clear error, nothing asked.
    let (status, _, stderr) = ws.ctxls(&["generate", "src/lib.rs:1"]);
    assert!(!status.success() && stderr.contains("no requirement comment there"), "{stderr}");
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn generate_changes_nothing_when_a_block_does_not_match() {
    let answer = "src/lib.rs\n<<<<<<< SEARCH\nfn elsewhere() {}\n=======\nfn x() {}\n>>>>>>> REPLACE\n\nsrc/new.rs\n<<<<<<< SEARCH\n=======\npub fn created() {}\n>>>>>>> REPLACE\n";
    let (_runtime, server) = with_server(vec![Reply::ollama(&[answer], true)]);
    let ws = TempWorkspace::new("//- /src/lib.rs\npub fn add(a: i32, b: i32) -> i32 {\n    // add them AI!\n}\n");
    ws.write(".ctxls.toml", &format!("[llm]\nbase_url = \"{}\"\n", server.url()));
    let (status, stdout, stderr) = ws.ctxls(&["generate", "src/lib.rs:2", "--write"]);
    assert!(!status.success(), "{stdout}");
    assert!(stderr.contains("block 1 (src/lib.rs)") && stderr.contains("nothing was changed"), "{stderr}");
    assert!(!ws.root().join("src/new.rs").exists(), "all or nothing");
}

#[cfg(unix)]
#[test]
fn generate_never_writes_through_a_symlink_that_leaves_the_workspace() {
    let outside = tempfile::tempdir().unwrap();
    let answer = "src/lib.rs\n<<<<<<< SEARCH\n    // AI: add them\n=======\n    a + b\n>>>>>>> REPLACE\n\nlinked/evil.rs\n<<<<<<< SEARCH\n=======\npub fn evil() {}\n>>>>>>> REPLACE\n";
    let (_runtime, server) = with_server(vec![Reply::ollama(&[answer], true)]);
    let ws = TempWorkspace::new("//- /src/lib.rs\npub fn add(a: i32, b: i32) -> i32 {\n    // AI: add them\n}\n");
    std::os::unix::fs::symlink(outside.path(), ws.root().join("linked")).unwrap();
    ws.write(".ctxls.toml", &format!("[llm]\nbase_url = \"{}\"\n", server.url()));
    let (status, _, stderr) = ws.ctxls(&["generate", "src/lib.rs:2", "--write"]);
    assert!(!status.success());
    assert!(stderr.contains("outside the workspace"), "{stderr}");
    assert!(!outside.path().join("evil.rs").exists());
    assert!(std::fs::read_to_string(ws.root().join("src/lib.rs")).unwrap().contains("// AI: add them"), "nothing written");
}

#[test]
fn implement_does_every_requirement_of_the_diff_in_one_request() {
    let ws = TempWorkspace::new("//- /src/lib.rs\npub mod auth;\npub fn version() -> u32 { 1 }\n//- /src/auth.rs\npub fn login() {}\n");
    support::commit_all(&ws.root());
    // Requirements added since: one in a tracked file, one in a new file; a question is not acted on.
    ws.write("src/auth.rs", "pub fn login() {}\n// AI: add a logout that clears the session\n");
    ws.write("src/rate.rs", "// write a rate limiter AI!\n// is this needed AI?\n");
    let answer = "src/auth.rs\n<<<<<<< SEARCH\n// AI: add a logout that clears the session\n=======\npub fn logout() {}\n>>>>>>> REPLACE\n\n\
                  src/rate.rs\n<<<<<<< SEARCH\n// write a rate limiter AI!\n=======\npub struct RateLimiter;\n>>>>>>> REPLACE\n";
    let (_runtime, server) = with_server(vec![Reply::ollama(&[answer], true)]);
    ws.write(".ctxls.toml", &format!("[llm]\nbase_url = \"{}\"\n", server.url()));
    let (status, _, stderr) = ws.ctxls(&["implement", "--write"]);
    assert!(status.success(), "{stderr}");
    assert_eq!(server.requests().len(), 1, "one request for all of them");
    let asked = server.requests()[0].json()["messages"][1]["content"].as_str().unwrap().to_string();
    assert!(asked.contains("The working tree's changes so far:\n```diff\n"), "{asked}");
    assert!(asked.contains("+// AI: add a logout that clears the session"), "{asked}");
    assert!(asked.ends_with("1. src/auth.rs (near line 2): add a logout that clears the session\n2. src/rate.rs (near line 1): write a rate limiter\n\nImplement them all."), "{asked}");
    assert_eq!(std::fs::read_to_string(ws.root().join("src/auth.rs")).unwrap(), "pub fn login() {}\npub fn logout() {}\n");
    assert_eq!(std::fs::read_to_string(ws.root().join("src/rate.rs")).unwrap(), "pub struct RateLimiter;\n// is this needed AI?\n");
}

#[test]
fn summarize_describes_the_working_tree_changes() {
    let ws = TempWorkspace::new("//- /src/lib.rs\npub fn version() -> u32 { 1 }\n");
    support::commit_all(&ws.root());
    let (_runtime, server) = with_server(vec![Reply::ollama(&["Bump the version\n\n- version() now returns 2"], true)]);
    std::fs::write(ws.root().join(".git/info/exclude"), ".ctxls.toml\n").unwrap();
    ws.write(".ctxls.toml", &format!("[llm]\nbase_url = \"{}\"\n", server.url()));
    let (status, stdout, _) = ws.ctxls(&["summarize"]);
    assert!(!status.success(), "no changes yet: {stdout}");
    ws.write("src/lib.rs", "pub fn version() -> u32 { 2 }\n");
    let (status, stdout, stderr) = ws.ctxls(&["summarize"]);
    assert!(status.success(), "{stderr}");
    assert_eq!(stdout, "Bump the version\n\n- version() now returns 2\n");
    let asked = server.requests()[0].json()["messages"][1]["content"].as_str().unwrap().to_string();
    assert!(asked.contains("-pub fn version() -> u32 { 1 }\n+pub fn version() -> u32 { 2 }"), "{asked}");
}

#[test]
fn a_change_with_syntax_errors_is_sent_back_once_then_only_offered() {
    let broken = "src/lib.rs\n<<<<<<< SEARCH\n    // AI: add them\n=======\n    a + b +\n>>>>>>> REPLACE\n";
    let fixed = "src/lib.rs\n<<<<<<< SEARCH\n    // AI: add them\n=======\n    a + b\n>>>>>>> REPLACE\n";
    let (_runtime, server) = with_server(vec![
        Reply::ollama(&[broken], true),
        Reply::ollama(&[fixed], true),
        Reply::ollama(&[broken], true),
        Reply::ollama(&[broken], true),
    ]);
    let ws = TempWorkspace::new("//- /src/lib.rs\npub fn add(a: i32, b: i32) -> i32 {\n    // AI: add them\n}\n");
    ws.write(".ctxls.toml", &format!("[llm]\nbase_url = \"{}\"\n", server.url()));
    let (status, _, stderr) = ws.ctxls(&["generate", "src/lib.rs:2", "--write"]);
    assert!(status.success(), "{stderr}");
    assert_eq!(std::fs::read_to_string(ws.root().join("src/lib.rs")).unwrap(), "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n");
    let repair = server.requests()[1].json();
    let messages = repair["messages"].as_array().unwrap();
    assert_eq!(messages[2]["role"], "assistant");
    assert!(messages[3]["content"].as_str().unwrap().contains("src/lib.rs: syntax errors at line(s) "), "{repair}");

    // Broken twice: offered with a warning, not written.
    ws.write("src/lib.rs", "pub fn add(a: i32, b: i32) -> i32 {\n    // AI: add them\n}\n");
    let (status, stdout, stderr) = ws.ctxls(&["generate", "src/lib.rs:2", "--write"]);
    assert!(!status.success());
    assert!(stderr.contains("warning: the change to src/lib.rs adds syntax errors"), "{stderr}");
    assert!(stdout.contains("+    a + b +"), "the change is shown: {stdout}");
    assert!(std::fs::read_to_string(ws.root().join("src/lib.rs")).unwrap().contains("// AI: add them"), "not written");
}

#[test]
fn project_instructions_go_with_the_prompt_most_specific_first() {
    let answer = "web/api.rs\n<<<<<<< SEARCH\n// AI: fetch the orders\n=======\npub fn orders() {}\n>>>>>>> REPLACE\n";
    let (_runtime, server) = with_server(vec![Reply::ollama(&[answer], true), Reply::ollama(&["Yes."], true)]);
    let ws = TempWorkspace::new(
        "//- /AGENTS.md\nWrite tests for everything.\n//- /web/.ctxls/instructions.md\nUse the shared HTTP client.\n\
         //- /web/api.rs\n// AI: fetch the orders\n//- /other/.ctxls/instructions.md\nNot for web.\n//- /.gitignore\nsecret/\n\
         //- /secret/.ctxls/instructions.md\nIgnored: never sent.\n//- /secret/x.rs\npub fn x() {}\n",
    );
    ws.write(".ctxls.toml", &format!("[llm]\nbase_url = \"{}\"\n", server.url()));
    let (status, _, stderr) = ws.ctxls(&["generate", "web/api.rs:1"]);
    assert!(status.success(), "{stderr}");
    let system = server.requests()[0].json()["messages"][0]["content"].as_str().unwrap().to_string();
    assert!(
        system.ends_with("Project instructions (follow them):\n\nFrom web/.ctxls/instructions.md:\nUse the shared HTTP client.\n\nFrom AGENTS.md:\nWrite tests for everything."),
        "{system}"
    );
    // An ignored file is never sent, not even when named.
    let (status, _, stderr) = ws.ctxls(&["chat", "Is x used?", "--file", "secret/x.rs"]);
    assert!(!status.success() && stderr.contains("secret/x.rs is ignored"), "{stderr}");
    let (status, _, stderr) = ws.ctxls(&["complete", "secret/x.rs:1:1", "--dry-run"]);
    assert!(!status.success() && stderr.contains("is ignored"), "{stderr}");
    let (status, _, stderr) = ws.ctxls(&["chat", "Anything?"]);
    assert!(status.success(), "{stderr}");
    let system = server.requests()[1].json()["messages"][0]["content"].as_str().unwrap().to_string();
    assert!(system.ends_with("Project instructions (follow them):\n\nFrom AGENTS.md:\nWrite tests for everything."), "the root's only: {system}");
}

#[test]
fn complete_puts_the_working_trees_diff_in_the_prompt_but_never_an_ignored_files() {
    let ws = TempWorkspace::new("//- /src/lib.rs\npub fn add(a: i32, b: i32) -> i32 {\n    \n}\n//- /src/scale.rs\npub fn scale(x: i32) -> i32 {\n    x * 2\n}\n");
    ws.write(".gitignore", "local.rs\n");
    ws.write("local.rs", "const TOKEN: &str = \"old\";\n");
    ws.write(".ctxls.toml", "[llm]\nprovider = \"openai\"\nmodel = \"unknown-model\"\nbase_url = \"http://127.0.0.1:9/v1\"\n");
    support::commit_all(&ws.root());
    ws.write("src/scale.rs", "pub fn scale(x: i32, by: i32) -> i32 {\n    x * by\n}\n");
    ws.write("local.rs", "const TOKEN: &str = \"hunter2\";\n");
    let (status, stdout, stderr) = ws.ctxls(&["complete", "src/lib.rs:2:5", "--dry-run"]);
    assert!(status.success(), "{stderr}");
    let body: serde_json::Value = serde_json::from_str(&stdout[stdout.find('{').unwrap()..]).unwrap();
    let prompt = body["prompt"].as_str().unwrap();
    assert!(
        prompt.contains("// Recent edits (unified diffs, oldest first):\n// --- a/src/scale.rs\n// +++ b/src/scale.rs\n// @@ -1,3 +1,3 @@\n// -pub fn scale(x: i32) -> i32 {\n// -    x * 2\n// +pub fn scale(x: i32, by: i32) -> i32 {\n// +    x * by\n//  }\n\n// Path: src/lib.rs\n"),
        "{prompt}"
    );
    assert!(!prompt.contains("hunter2") && !prompt.contains("local.rs"), "{prompt}");
    // A question gets them too, ahead of it.
    let (status, stdout, stderr) = ws.ctxls(&["chat", "what changed?", "--dry-run"]);
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("Recent edits in the workspace (unified diffs, oldest first):\\n```diff\\n--- a/src/scale.rs"), "{stdout}");
    assert!(!stdout.contains("hunter2"), "{stdout}");
    ws.write(".ctxls.toml", "[llm]\nprovider = \"openai\"\nmodel = \"unknown-model\"\nbase_url = \"http://127.0.0.1:9/v1\"\n[completion]\nrecent_edits = false\n");
    let (_, stdout, _) = ws.ctxls(&["complete", "src/lib.rs:2:5", "--dry-run"]);
    assert!(!stdout.contains("Recent edits"), "{stdout}");
    let (_, stdout, _) = ws.ctxls(&["chat", "what changed?", "--dry-run"]);
    assert!(!stdout.contains("Recent edits"), "{stdout}");
}

/// `--packing whole`, or `[completion] packing = "whole"`, sends a short definition
/// whole (the function the code calls, with its body) where compact packing sends its
/// signature; an unknown packing is an error that names the choices.
#[test]
fn complete_packs_whole_definitions_when_asked() {
    let ws = TempWorkspace::new(
        "//- /src/lib.rs\nmod scale;\nuse scale::scale;\npub fn twice(x: i32) -> i32 {\n    let y = scale(x, 2);\n    \n}\n\
         //- /src/scale.rs\n/// Scales a number. Saturates.\npub fn scale(x: i32, by: i32) -> i32 {\n    let a = x;\n    let b = by;\n    let c = a.saturating_mul(b);\n    let d = c;\n    let e = d;\n    e\n}\n",
    );
    let config = "[llm]\nprovider = \"openai\"\nmodel = \"unknown-model\"\nbase_url = \"http://127.0.0.1:9/v1\"\n[completion]\nrecent_edits = false\n";
    ws.write(".ctxls.toml", config);
    let prompt = |args: &[&str]| {
        let (status, stdout, stderr) = ws.ctxls(&[&["complete", "src/lib.rs:5:5", "--dry-run"], args].concat());
        assert!(status.success(), "{stderr}");
        let body: serde_json::Value = serde_json::from_str(&stdout[stdout.find('{').unwrap()..]).unwrap();
        body["prompt"].as_str().unwrap().to_string()
    };
    let compact = prompt(&[]);
    assert!(compact.contains("// pub fn scale(x: i32, by: i32) -> i32 {\n\n// Path: src/lib.rs"), "the signature: {compact}");
    let whole = prompt(&["--packing", "whole"]);
    assert!(
        whole.contains("// /// Scales a number.\n// pub fn scale(x: i32, by: i32) -> i32 {\n//     let a = x;\n//     let b = by;\n//     let c = a.saturating_mul(b);"),
        "the whole function under its doc sentence: {whole}"
    );
    assert!(whole.contains("//     e\n// }\n\n// Path: src/lib.rs"), "{whole}");
    ws.write(".ctxls.toml", &format!("{config}packing = \"whole\"\n"));
    assert_eq!(prompt(&[]), whole, "the configuration's packing");
    assert_eq!(prompt(&["--packing", "compact"]), compact, "the flag wins");
    let (status, _, stderr) = ws.ctxls(&["complete", "src/lib.rs:5:5", "--dry-run", "--packing", "fragments"]);
    assert!(!status.success() && stderr.contains("expected compact or whole"), "{stderr}");
}
