//! A model's answer is untrusted input: what `generate`, `implement` and prompt files may
//! write, through the built binary (CLI) and over stdio (LSP), against the scripted model.
//! Every test asserts on the file system: nothing outside, nothing protected, no
//! temporary file left, permission bits kept, all files or none.

mod support;
#[path = "support/llm_server.rs"]
mod llm_server;

use std::path::Path;
use std::time::{Duration, Instant};

use llm_server::{Reply, ScriptedServer, with_server};
use serde_json::{json, Value};
use support::{LspClient, TempWorkspace};

const LIB: &str = "pub fn add(a: i32, b: i32) -> i32 {\n    // AI: add them\n}\n";
const GIT_CONFIG: &str = "[core]\n\trepositoryformatversion = 0\n";

/// A workspace with `src/lib.rs` (a requirement on line 2), a `.git/config` and the model.
fn workspace(server: &ScriptedServer) -> TempWorkspace {
    let ws = TempWorkspace::new(&format!("//- /src/lib.rs\n{LIB}"));
    ws.write(".git/config", GIT_CONFIG);
    ws.write(".ctxls.toml", &format!("[llm]\nbase_url = \"{}\"\nretries = 0\n", server.url()));
    ws
}

/// The valid block every hostile answer carries along: if anything were written partly,
/// this is what would show.
const VALID: &str = "src/lib.rs\n<<<<<<< SEARCH\n    // AI: add them\n=======\n    a + b\n>>>>>>> REPLACE\n\n";

fn block(path: &str, search: &str, replace: &str) -> String {
    format!("{path}\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n\n")
}

/// Every file under `dir` whose name marks it as one of ctxls's temporary files.
fn temporary_files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().contains("ctxls-tmp") {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

fn read(ws: &TempWorkspace, rel: &str) -> String {
    std::fs::read_to_string(ws.root().join(rel)).unwrap()
}

#[test]
fn generate_never_writes_into_git_ctxls_configuration_secrets_or_ignored_files() {
    // Each hostile block comes with a valid one: the answer is refused whole, the
    // refusal names the block, and no file changes.
    let cases: &[(&str, &str)] = &[
        (".git/config", "inside `.git/`"),
        (".GIT/config", "inside `.git/`"),
        ("src/../.git/config", "leaves the workspace"),
        ("./.git/hooks/pre-commit", "inside `.git/`"),
        (".git./config", "inside `.git/`"),
        ("sub/.git/config", "inside `.git/`"),
        (".ctxls.toml", "ctxls's own configuration"),
        ("sub/.ctxls.toml", "ctxls's own configuration"),
        (".ctxls/prompts/evil.md", "ctxls's own configuration"),
        (".ctxlsignore", "hidden file"),
        (".vscode/tasks.json", "hidden file"),
        (".env", "secret"),
        ("certs/server.pem", "secret"),
        ("target/gen.rs", "ignored"),
        ("notes.txt", "does not name it"),
        ("/etc/passwd", "absolute path"),
        ("~/.bashrc", "home directory"),
        ("src", "is a directory"),
        ("src/lib.rs/inner.rs", "is a file, not a directory"),
    ];
    let (_runtime, server) = with_server(Vec::new());
    for (path, why) in cases {
        let answer = format!("{VALID}{}", block(path, "", "[core]\n\tfsmonitor = \"touch PWNED; false\"\n"));
        server.push(Reply::ollama(&[&answer], true));
        let ws = workspace(&server);
        ws.write(".gitignore", "target/\n");
        std::fs::create_dir_all(ws.root().join("src")).unwrap();
        let (status, stdout, stderr) = ws.ctxls(&["generate", "src/lib.rs:2", "--write"]);
        assert!(!status.success(), "{path}: {stdout}{stderr}");
        assert!(stderr.contains("block 2") && stderr.contains(why) && stderr.contains("nothing was changed"), "{path}: {stderr}");
        assert_eq!(read(&ws, "src/lib.rs"), LIB, "{path}: all or nothing");
        assert_eq!(read(&ws, ".git/config"), GIT_CONFIG, "{path}");
        assert!(!ws.root().join("PWNED").exists() && !ws.root().join(".ctxls/prompts/evil.md").exists() && !ws.root().join("notes.txt").exists(), "{path}");
        assert!(temporary_files(&ws.root()).is_empty(), "{path}");
    }
}

#[test]
fn a_file_of_another_language_is_written_when_the_requirement_names_it() {
    let comment = "    // AI: add them and describe add in NOTES.txt\n";
    let answer = format!("src/lib.rs\n<<<<<<< SEARCH\n{comment}=======\n    a + b\n>>>>>>> REPLACE\n\n{}", block("NOTES.txt", "", "add: sums two numbers\n"));
    let (_runtime, server) = with_server(vec![Reply::ollama(&[&answer], true)]);
    let ws = workspace(&server);
    ws.write("src/lib.rs", &format!("pub fn add(a: i32, b: i32) -> i32 {{\n{comment}}}\n"));
    let (status, _, stderr) = ws.ctxls(&["generate", "src/lib.rs:2", "--write"]);
    assert!(status.success(), "{stderr}");
    assert_eq!(read(&ws, "NOTES.txt"), "add: sums two numbers\n");
    assert!(read(&ws, "src/lib.rs").contains("a + b"));
}

#[cfg(unix)]
#[test]
fn writes_go_through_exclusive_temporary_files_keep_modes_and_edit_symlinks_through() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("victim.rs"), "untouched\n").unwrap();
    let answer = format!("{VALID}{}", block("src/alias.rs", "pub fn real() {}\n", "pub fn real() -> u8 { 1 }\n"));
    let (_runtime, server) = with_server(vec![Reply::ollama(&[&answer], true)]);
    let ws = workspace(&server);
    ws.write("src/real.rs", "pub fn real() {}\n");
    symlink("real.rs", ws.root().join("src/alias.rs")).unwrap();
    // The old, predictable temporary name, planted as a link leaving the workspace.
    symlink(outside.path().join("victim.rs"), ws.root().join("src/.lib.rs.ctxls-tmp")).unwrap();
    std::fs::set_permissions(ws.root().join("src/lib.rs"), std::fs::Permissions::from_mode(0o754)).unwrap();
    let (status, _, stderr) = ws.ctxls(&["generate", "src/lib.rs:2", "--write"]);
    assert!(status.success(), "{stderr}");
    assert_eq!(std::fs::read_to_string(outside.path().join("victim.rs")).unwrap(), "untouched\n");
    let lib = ws.root().join("src/lib.rs");
    assert!(std::fs::symlink_metadata(&lib).unwrap().file_type().is_file(), "lib.rs stays a regular file");
    assert_eq!(std::fs::metadata(&lib).unwrap().permissions().mode() & 0o777, 0o754, "mode kept");
    assert!(read(&ws, "src/lib.rs").contains("a + b"));
    assert!(std::fs::symlink_metadata(ws.root().join("src/alias.rs")).unwrap().file_type().is_symlink(), "the link is kept");
    assert_eq!(read(&ws, "src/real.rs"), "pub fn real() -> u8 { 1 }\n", "edited through the link");
    // The planted link is the only leftover, and it is not ours.
    assert_eq!(temporary_files(&ws.root()), [ws.root().join("src/.lib.rs.ctxls-tmp").display().to_string()]);
}

#[cfg(unix)]
#[test]
fn a_symlink_inside_the_workspace_does_not_lead_into_git_or_outside() {
    use std::os::unix::fs::symlink;
    let outside = tempfile::tempdir().unwrap();
    let (_runtime, server) = with_server(Vec::new());
    for (link, to, path, why) in [
        ("src/cfg", "../.git", "src/cfg/config", "inside `.git/`"),
        ("src/conf.rs", "../.ctxls.toml", "src/conf.rs", "ctxls's own configuration"),
        ("src/out", outside.path().to_str().unwrap(), "src/out/x.rs", "outside the workspace"),
        ("src/gone.rs", "missing.rs", "src/gone.rs", "missing file"),
    ] {
        server.push(Reply::ollama(&[&format!("{VALID}{}", block(path, "", "evil = 1\n"))], true));
        let ws = workspace(&server);
        symlink(to, ws.root().join(link)).unwrap();
        let (status, _, stderr) = ws.ctxls(&["generate", "src/lib.rs:2", "--write"]);
        assert!(!status.success(), "{path}");
        assert!(stderr.contains(why), "{path}: {stderr}");
        assert_eq!(read(&ws, ".git/config"), GIT_CONFIG);
        assert_eq!(read(&ws, "src/lib.rs"), LIB);
        assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none());
    }
}

#[test]
fn answers_over_the_size_limits_are_refused_with_a_message() {
    let huge_file = format!("{VALID}{}", block("src/big.rs", "", &"// padding line of a generated file\n".repeat(40_000)));
    let huge_answer = format!("{VALID}{}", "x".repeat(5 * 1024 * 1024));
    let (_runtime, server) = with_server(vec![Reply::ollama(&[&huge_file], true), Reply::ollama(&[&huge_answer], true)]);
    let ws = workspace(&server);
    // Room for the whole answer (the client's own cap is 32 bytes a token).
    ws.write(".ctxls.toml", &format!("[llm]\nbase_url = \"{}\"\nretries = 0\nmax_tokens = 1000000\n", server.url()));
    let (status, _, stderr) = ws.ctxls(&["generate", "src/lib.rs:2", "--write"]);
    assert!(!status.success() && stderr.contains("src/big.rs") && stderr.contains("over the limit"), "{stderr}");
    let (status, _, stderr) = ws.ctxls(&["generate", "src/lib.rs:2", "--write"]);
    assert!(!status.success() && stderr.contains("over the limit"), "{stderr}");
    assert_eq!(read(&ws, "src/lib.rs"), LIB);
    assert!(!ws.root().join("src/big.rs").exists());
}

#[test]
fn run_prompt_and_implement_follow_the_same_rules() {
    let answer = format!("{VALID}{}", block(".git/config", "", "[core]\n\tfsmonitor = \"touch PWNED\"\n"));
    let (_runtime, server) = with_server(vec![Reply::ollama(&[&answer], true), Reply::ollama(&[&answer], true)]);
    let ws = workspace(&server);
    ws.write(".ctxls/prompts/fix.md", "---\ntitle: Fix it\napplies_to: file\noutput: edit\n---\nFix {{file}}\n");
    let (status, _, stderr) = ws.ctxls(&["run-prompt", "fix", "src/lib.rs", "--write"]);
    assert!(!status.success() && stderr.contains("inside `.git/`"), "{stderr}");
    support::commit_all(&ws.root());
    ws.write("src/lib.rs", "pub fn add(a: i32, b: i32) -> i32 {\n    // AI: add them\n}\n// AI: add a sub\n");
    let (status, _, stderr) = ws.ctxls(&["implement", "--write"]);
    assert!(!status.success() && stderr.contains("inside `.git/`"), "{stderr}");
    assert!(read(&ws, ".git/config").contains("repositoryformatversion") && !read(&ws, ".git/config").contains("PWNED"));
    assert!(read(&ws, "src/lib.rs").contains("// AI: add them"));
}

#[test]
fn ctrl_c_while_the_model_answers_cancels_and_changes_nothing() {
    // The model would answer after 4 s with an edit that applies.
    let (_runtime, server) = with_server(vec![Reply::ollama(&[VALID], true).delay_first(Duration::from_secs(4))]);
    let ws = workspace(&server);
    let started = Instant::now();
    let child = std::process::Command::new(support::bin())
        .args(["generate", "src/lib.rs:2", "--write"])
        .env("CTXLS_CACHE_DIR", ws.cache.path())
        .env_remove("CTXLS_LOG")
        .current_dir(ws.dir.path())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    while server.requests().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(30), "the model was never asked");
        std::thread::sleep(Duration::from_millis(20));
    }
    let interrupted = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(interrupted.success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("cancelled; nothing was changed"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(4), "waited for the model's answer");
    // Past the time the answer would have come: the file is as it was, no temporary left.
    std::thread::sleep(Duration::from_millis(4500).saturating_sub(started.elapsed()));
    assert_eq!(read(&ws, "src/lib.rs"), LIB);
    assert!(temporary_files(ws.dir.path()).is_empty());
}

// Over LSP: the `ctxls.generate` command.

fn lsp_generate(client: &mut LspClient, uri: &str) -> Value {
    client.request("workspace/executeCommand", json!({"command": "ctxls.generate", "arguments": [{"uri": uri, "position": {"line": 1, "character": 8}}]}))
}

#[test]
fn the_server_refuses_the_same_writes_and_stays_responsive_while_matching() {
    let (_runtime, server) = with_server(Vec::new());
    let ws = workspace(&server);
    // Room for a 120 KB answer below (the client's own cap is 32 bytes a token).
    ws.write(".ctxls.toml", &format!("[llm]\nbase_url = \"{}\"\nretries = 0\nmax_tokens = 100000\n", server.url()));
    let mut client = LspClient::start_indexed(&ws);
    let lib = client.open_file(&ws.root(), "src/lib.rs", "rust");
    for (path, why) in [(".git/config", "inside `.git/`"), (".ctxls.toml", "ctxls's own configuration"), (".env", "secret")] {
        server.push(Reply::ollama(&[&format!("{VALID}{}", block(path, "", "x = 1\n"))], true));
        let refused = lsp_generate(&mut client, &lib);
        let message = refused["error"]["message"].as_str().unwrap_or_else(|| panic!("{refused}"));
        assert!(message.contains(why) && message.contains("nothing was changed"), "{message}");
    }
    assert!(!client.notifications.iter().any(|m| m["method"] == "workspace/applyEdit"), "no edit was ever proposed");

    // A 10,000-line SEARCH against a 20,000-line file of repeated lines: matched off the
    // serving task, quickly; `workspace/symbol` is answered meanwhile.
    let big: String = "    x += 1;\n".repeat(20_000);
    ws.write("src/big.rs", &format!("pub fn big() {{\n    let mut x = 0;\n{big}}}\n"));
    let search = format!("{}    x += 2;\n", "    x += 1;\n".repeat(9_999));
    server.push(Reply::ollama(&[&format!("{VALID}{}", block("src/big.rs", &search, "    x += 3;\n"))], true).delay_first(Duration::from_millis(300)));
    let id = client.send_request("workspace/executeCommand", json!({"command": "ctxls.generate", "arguments": [{"uri": lib, "position": {"line": 1, "character": 8}}]}));
    let started = Instant::now();
    let symbols = client.request("workspace/symbol", json!({"query": "add"}));
    assert!(symbols["result"].is_array(), "{symbols}");
    assert!(started.elapsed() < Duration::from_secs(2), "workspace/symbol took {:?}", started.elapsed());
    let answered = client.response(id, Duration::from_secs(20)).expect("generate answered");
    let message = answered["error"]["message"].as_str().unwrap_or_else(|| panic!("{answered}"));
    assert!(message.contains("block 2 (src/big.rs)") && message.contains("not in the file"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(5), "matching took {:?}", started.elapsed());
    assert_eq!(client.shutdown().code(), Some(0));
}

#[test]
fn a_ten_megabyte_token_is_capped_in_an_inline_completion() {
    let (_runtime, server) = with_server(Vec::new());
    let ws = workspace(&server);
    ws.write(".ctxls.toml", &format!("[llm]\nbase_url = \"{}\"\nretries = 0\n[completion]\ndebounce_ms = 0\n", server.url()));
    let mut client = LspClient::start_indexed(&ws);
    let lib = client.open_file(&ws.root(), "src/lib.rs", "rust");
    server.push(Reply::ollama(&[&"a".repeat(10 * 1024 * 1024)], false));
    let response = client.request(
        "textDocument/inlineCompletion",
        json!({"textDocument": {"uri": lib}, "position": {"line": 1, "character": 4}, "context": {"triggerKind": 1}}),
    );
    let items = response["result"]["items"].as_array().cloned().unwrap_or_default();
    let longest = items.iter().map(|i| i["insertText"].as_str().unwrap_or("").len()).max().unwrap_or(0);
    assert!(longest <= 16 * 1024, "an item of {longest} bytes");
    assert_eq!(client.shutdown().code(), Some(0));
}

#[test]
fn an_answer_that_does_not_apply_is_kept_and_a_cut_one_says_so() {
    let cut = "I will implement it.\n\nsrc/lib.rs\n<<<<<<< SEARCH\n    // AI: add them\n=======\n";
    let (_runtime, server) = with_server(vec![Reply::ollama_cut(&[cut], true)]);
    let ws = workspace(&server);
    let (status, _, stderr) = ws.ctxls(&["generate", "src/lib.rs:2", "--write"]);
    assert!(!status.success());
    assert!(stderr.contains("cut at its limit of 2048 tokens"), "{stderr}");
    let kept = stderr.lines().find_map(|line| line.strip_prefix("ctxls: the model's answer is kept in ")).unwrap_or_else(|| panic!("{stderr}"));
    assert_eq!(std::fs::read_to_string(kept).unwrap(), cut);
    assert!(kept.starts_with(&ws.cache.path().display().to_string()), "in the user's cache: {kept}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(kept).unwrap().permissions().mode() & 0o777, 0o600);
        let dir = std::path::Path::new(kept).parent().unwrap();
        assert_eq!(std::fs::metadata(dir).unwrap().permissions().mode() & 0o777, 0o700);
    }
    // The edit budget: at least 2048 tokens, though the configured default is 256.
    assert_eq!(server.requests()[0].json()["options"]["num_predict"], 2048);
    assert_eq!(read(&ws, "src/lib.rs"), LIB);
}
