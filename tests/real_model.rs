//! ctxls against a real model: llama.cpp's `llama-server` with Qwen2.5-Coder-0.5B-Instruct,
//! started by `scripts/test-real-model.sh`, which sets `CTXLS_REAL_MODEL_URL` (the
//! server's root) and `CTXLS_REAL_MODEL_REPORT` (a file this suite writes when it ran to
//! its end: the script fails without it). Without the URL the suite says loudly that it
//! was skipped. It asserts protocol and safety, not the quality of a 0.5B model's code:
//! every command answers within its time, stops, and leaves files byte-identical unless
//! it wrote a valid edit, which must then parse without new syntax errors.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{LspClient, TempWorkspace};

const LIB: &str = "/// The n-th Fibonacci number.
pub fn fib(n: u64) -> u64 {
    match n {
        0 => 0,
        1 => 1,
        _ => fib(n - 1) + fib(n - 2),
    }
}

/// The sum of the values.
pub fn total(values: &[u64]) -> u64 {
    
}

// AI: add a function `double` that returns its argument times two
";

/// The line of the requirement comment (1-based) and of the cursor in `total`.
const REQUIREMENT_LINE: usize = 15;
const TOTAL_BODY: (usize, usize) = (12, 5);

fn config(url: &str) -> String {
    format!(
        "[llm]\nprovider = \"llamacpp\"\nbase_url = \"{url}\"\nmodel = \"qwen2.5-coder-0.5b-instruct\"\n\
         max_tokens = 160\ntemperature = 0.0\ntimeout_first_token_ms = 120000\ntimeout_total_ms = 240000\nretries = 0\n\
         [llm.completion]\nmax_tokens = 24\n[completion]\ncontext_tokens = 256\n[hover]\nexplain = true\ntimeout_ms = 120000\n"
    )
}

fn workspace(url: &str) -> TempWorkspace {
    let ws = TempWorkspace::new(&format!("//- /src/lib.rs\n{LIB}//- /Cargo.toml\n[package]\nname = \"numbers\"\nversion = \"0.1.0\"\n"));
    ws.write(".ctxls.toml", &config(url));
    ws
}

/// Every file of the workspace (`.git` and the cache aside) and its bytes.
fn snapshot(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((path.strip_prefix(root).unwrap().display().to_string(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn syntax_errors(text: &str) -> usize {
    let tree = ctxls::lang::parse(ctxls::lang::Lang::Rust, text, None);
    let mut cursor = tree.walk();
    let mut count = 0;
    'walk: loop {
        let node = cursor.node();
        if node.is_error() || node.is_missing() {
            count += 1;
        }
        if cursor.goto_first_child() {
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    count
}

/// The outcome of a command that may edit: a valid edit of `src/lib.rs` alone, or a
/// failure that said why and left every file as it was.
fn check_edit_or_refusal(step: &str, root: &Path, before: &[(String, Vec<u8>)], success: bool, stderr: &str) {
    let after = snapshot(root);
    if success && after != before {
        let changed: Vec<&String> = after.iter().filter(|f| !before.contains(f)).map(|(p, _)| p).collect();
        assert_eq!(changed, ["src/lib.rs"], "{step}: only the file of the requirement changes");
        let text = std::fs::read_to_string(root.join("src/lib.rs")).unwrap();
        assert!(syntax_errors(&text) <= syntax_errors(LIB), "{step}: the edit adds syntax errors:\n{text}");
        eprintln!("real-model: {step}: applied a valid edit:\n{text}");
    } else {
        assert_eq!(after, before, "{step}: files byte-identical when nothing was applied ({stderr})");
        if !success {
            assert!(!stderr.trim().is_empty() && !stderr.contains("panicked"), "{step}: a failure says why: {stderr}");
        }
        eprintln!("real-model: {step}: nothing applied; said: {}", stderr.trim());
    }
}

struct Steps {
    started: Instant,
    done: Vec<String>,
}

impl Steps {
    fn run(&mut self, name: &str, body: impl FnOnce()) {
        let at = Instant::now();
        eprintln!("real-model: step {name} ...");
        body();
        let line = format!("{name} ok in {:.1} s", at.elapsed().as_secs_f64());
        eprintln!("real-model: {line}");
        self.done.push(line);
    }
}

#[test]
fn real_model_suite() {
    let Ok(url) = std::env::var("CTXLS_REAL_MODEL_URL") else {
        // Written to the stderr stream itself, past the test harness's capture: a skip is
        // never silent.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "\n*** real_model_suite SKIPPED: CTXLS_REAL_MODEL_URL is not set. It runs against a real llama-server \
             started by scripts/test-real-model.sh (run by scripts/test.sh). ***\n"
        );
        return;
    };
    let url = url.trim_end_matches('/').to_string();
    let mut steps = Steps { started: Instant::now(), done: Vec::new() };
    let ws = workspace(&url);
    let root = ws.root();

    steps.run("doctor", || {
        let (status, stdout, stderr) = ws.ctxls(&["doctor"]);
        assert!(status.success(), "{stdout}{stderr}");
        assert!(stdout.contains("llama.cpp's llama-server") && stdout.contains("/infill works"), "{stdout}");
        // The wrong provider: doctor names the right one.
        let other = TempWorkspace::new("//- /src/lib.rs\nfn a() {}\n");
        other.write(".ctxls.toml", &format!("[llm]\nprovider = \"ollama\"\nbase_url = \"{url}\"\nretries = 0\n"));
        let (status, stdout, _) = other.ctxls(&["doctor"]);
        assert!(!status.success());
        assert!(stdout.contains(&format!("fix: the server is llama.cpp's llama-server: set provider = \"llamacpp\" and base_url = \"{url}\"")), "{stdout}");
    });

    steps.run("complete", || {
        let at = format!("src/lib.rs:{}:{}", TOTAL_BODY.0, TOTAL_BODY.1);
        let started = Instant::now();
        let (status, stdout, stderr) = ws.ctxls(&["complete", &at]);
        assert!(status.success(), "{stderr}");
        assert!(!stdout.trim().is_empty(), "a completion streamed");
        assert!(started.elapsed() < Duration::from_secs(120), "it stops");
        eprintln!("real-model: complete: {stdout:?}");
        // The same with the OpenAI-compatible provider and a base URL without /v1: the
        // native stream is read (no first-token timeout).
        let plain = workspace(&url);
        plain.write(".ctxls.toml", &config(&url).replace("provider = \"llamacpp\"", "provider = \"openai\"").replace("qwen2.5-coder-0.5b-instruct", "unknown-model"));
        let (status, stdout, stderr) = plain.ctxls(&["complete", &at]);
        assert!(status.success(), "openai without /v1: {stderr}");
        eprintln!("real-model: complete (openai, no /v1): {stdout:?}");
        // A model name of another family: its FIM tokens are not this model's, so they are
        // not sent (llama-server's /tokenize tells); the Qwen name keeps the Qwen template.
        let v1 = format!("{url}/v1");
        let named = |model: &str| config(&url).replace("provider = \"llamacpp\"", "provider = \"openai\"").replace(&format!("\"{url}\""), &format!("\"{v1}\"")).replace("qwen2.5-coder-0.5b-instruct", model);
        plain.write(".ctxls.toml", &named("starcoder2-3b"));
        let (status, _, stderr) = plain.ctxls(&["complete", &at]);
        assert!(status.success(), "{stderr}");
        assert!(stderr.contains("has no <fim_prefix> token") && stderr.contains("starcoder2 FIM template"), "{stderr}");
        plain.write(".ctxls.toml", &named("qwen2.5-coder-0.5b-instruct"));
        let (status, _, stderr) = plain.ctxls(&["complete", &at]);
        assert!(status.success(), "{stderr}");
        assert!(!stderr.contains("FIM template"), "{stderr}");
    });

    steps.run("chat", || {
        let (status, stdout, stderr) = ws.ctxls(&["chat", "What does fib return for 10? One sentence.", "--file", "src/lib.rs:2"]);
        assert!(status.success(), "{stderr}");
        assert!(!stdout.trim().is_empty());
        eprintln!("real-model: chat: {}", stdout.trim());
    });

    steps.run("generate", || {
        let before = snapshot(&root);
        let (status, _, stderr) = ws.ctxls(&["generate", &format!("src/lib.rs:{REQUIREMENT_LINE}"), "--write"]);
        check_edit_or_refusal("generate", &root, &before, status.success(), &stderr);
    });

    steps.run("implement", || {
        let repo = TempWorkspace::new(&format!("//- /src/lib.rs\n{}", LIB.replace("// AI: add a function `double` that returns its argument times two\n", "")));
        repo.write(".ctxls.toml", &config(&url));
        support::commit_all(&repo.root());
        repo.write("src/lib.rs", LIB);
        let before = snapshot(&repo.root());
        let (status, _, stderr) = repo.ctxls(&["implement", "--write"]);
        check_edit_or_refusal("implement", &repo.root(), &before, status.success(), &stderr);
    });

    steps.run("lsp", || {
        let mut client = LspClient::start_indexed(&ws);
        let lib = client.open_file(&root, "src/lib.rs", "rust");
        let position = json!({"line": TOTAL_BODY.0 - 1, "character": TOTAL_BODY.1 - 1});
        let params = json!({"textDocument": {"uri": lib}, "position": position, "context": {"triggerKind": 1}});
        let id = client.send_request("textDocument/inlineCompletion", params);
        let inline = client.response(id, Duration::from_secs(150)).expect("an inline completion answer");
        assert!(inline.get("error").is_none(), "{inline}");
        eprintln!("real-model: inline completion: {}", inline["result"]);
        // Hover over `fib`: the index's facts and the model's explanation.
        let id = client.send_request("textDocument/hover", json!({"textDocument": {"uri": lib}, "position": {"line": 1, "character": 8}}));
        let hover = client.response(id, Duration::from_secs(150)).expect("a hover answer");
        let contents = hover["result"]["contents"].to_string();
        assert!(contents.contains("fib"), "{hover}");
        eprintln!("real-model: hover: {contents}");
        // The requirement's code action, and its command.
        let line = REQUIREMENT_LINE as u32 - 1;
        let range = json!({"start": {"line": line, "character": 3}, "end": {"line": line, "character": 3}});
        let actions = client.request("textDocument/codeAction", json!({"textDocument": {"uri": lib}, "range": range, "context": {"diagnostics": []}}));
        let generate = actions["result"]
            .as_array()
            .and_then(|a| a.iter().find(|a| a["command"]["command"] == "ctxls.generate").cloned())
            .unwrap_or_else(|| panic!("a Generate action: {actions}"));
        let before = snapshot(&root);
        let id = client.send_request("workspace/executeCommand", json!({"command": generate["command"]["command"], "arguments": generate["command"]["arguments"]}));
        let result = client.response(id, Duration::from_secs(240)).expect("the command's answer");
        eprintln!("real-model: code action command: {result}");
        assert!(result.get("result").is_some() || result["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{result}");
        assert_eq!(snapshot(&root), before, "the server edits through the editor (workspace/applyEdit), never the disk");
        if let Some(edit) = client.notifications.iter().find(|m| m["method"] == "workspace/applyEdit") {
            let new_text = edit["params"]["edit"].to_string();
            eprintln!("real-model: applyEdit: {new_text}");
        }
        client.shutdown();
    });

    steps.run("neovim-generate", || {
        let nvim = std::env::var("NVIM_BIN").expect("NVIM_BIN: scripts/test-real-model.sh sets it");
        let nvim_ws = workspace(&url);
        let result = nvim_ws.cache.path().join("nvim-result.json");
        let plugin = Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/nvim");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/real-model/nvim-generate.lua");
        let before = snapshot(&nvim_ws.root());
        let output = std::process::Command::new(&nvim)
            .args(["--headless", "--clean", "-n", "-i", "NONE", "--cmd", &format!("set rtp^={}", plugin.display())])
            .arg("-c")
            .arg(format!("luafile {}", script.display()))
            .env("CTXLS_BIN", support::bin())
            .env("CTXLS_CACHE_DIR", nvim_ws.cache.path())
            .env("LINE", REQUIREMENT_LINE.to_string())
            .env("RESULT", &result)
            .current_dir(nvim_ws.dir.path())
            .output()
            .unwrap();
        let report: Value = serde_json::from_str(&std::fs::read_to_string(&result).unwrap_or_default())
            .unwrap_or_else(|_| panic!("no result from Neovim: {}", String::from_utf8_lossy(&output.stderr)));
        eprintln!("real-model: neovim: {report}");
        assert!(report.get("error").is_none(), "{report}");
        assert_eq!(report["finished"], true, ":CtxlsGenerate ended with a message: {report}");
        assert_eq!(snapshot(&nvim_ws.root()), before, "the buffer changes, the disk does not");
        if report["changed"] == true {
            let after = report["after"].as_str().unwrap();
            assert!(syntax_errors(after) <= syntax_errors(LIB), "the edit adds syntax errors:\n{after}");
        } else {
            let said: Vec<&str> = report["notes"].as_array().unwrap().iter().filter_map(|n| n["message"].as_str()).collect();
            assert!(!said.is_empty(), "a failure says why");
        }
    });

    let total = steps.started.elapsed().as_secs_f64();
    if let Ok(path) = std::env::var("CTXLS_REAL_MODEL_REPORT") {
        std::fs::write(path, format!("{}\nall {} steps in {total:.1} s\n", steps.done.join("\n"), steps.done.len())).unwrap();
    }
}
