//! What leaves the machine, through the built binary (CLI and LSP) against the scripted
//! model server: diffs never carry ignored or secret files (tracked or not), mentions of
//! them are refused with the reason, `chat --file` outside the workspace is refused,
//! instruction files, documents and prompt files that are symbolic links are followed
//! only to files the walk would read, and what redaction must catch is gone from every
//! request body, embeddings included. Each fixture secret is a distinctive value; the
//! tests assert on the recorded requests that it never appears.

mod support;
#[path = "support/llm_server.rs"]
mod llm_server;

use std::time::Duration;

use llm_server::{Reply, ScriptedServer, with_server};
use serde_json::{json, Value};
use support::{LspClient, TempWorkspace};

/// `[llm]` on the scripted server, OpenAI wire format (and `extra` appended).
fn config(server: &ScriptedServer, extra: &str) -> String {
    format!("[llm]\nprovider = \"openai\"\nbase_url = \"{}/v1\"\nmodel = \"gpt-4o-mini\"\nretries = 0\n[hover]\nexplain = false\n{extra}", server.url())
}

/// Every request body the model server received, one per line.
fn bodies(server: &ScriptedServer) -> String {
    server.requests().iter().map(|r| r.body.as_str()).collect::<Vec<_>>().join("\n")
}

fn assert_never_sent(server: &ScriptedServer, secrets: &[&str]) {
    let sent = bodies(server);
    for secret in secrets {
        assert!(!sent.contains(secret), "{secret} left the machine in:\n{sent}");
    }
}

#[cfg(unix)]
fn symlink(target: &std::path::Path, link: &std::path::Path) {
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// Secrets in files the walk never reads; none is a shape redaction knows, so only
/// leaving the files out keeps them home.
const ENV_OLD: &str = "hello-SECRET-7f3a-env-committed";
const ENV_NEW: &str = "hello-SECRET-7f3a-env-changed";
const YAML_NEW: &str = "yaml-SECRET-7f3a-changed";
const PRODUCTION: &str = "prod-SECRET-7f3a-untracked";
const NPMRC: &str = "npmrc-SECRET-7f3a-untracked";
const KEY_FILE: &str = "keyfile-SECRET-7f3a-untracked";
const IGNORED: &str = "plan-SECRET-7f3a-ignored";
const EXCLUDED: &str = "vendored-SECRET-7f3a-excluded";
const OUTSIDE: &str = "outside-SECRET-7f3a-instructions";
const FILE_SECRETS: &[&str] = &[ENV_OLD, ENV_NEW, YAML_NEW, PRODUCTION, NPMRC, KEY_FILE, IGNORED, EXCLUDED, OUTSIDE, "SECRET-7f3a"];

/// A repository whose HEAD holds a `.env` and a `config/secrets.yaml` committed by
/// mistake; then both are changed, secrets and ignored files are added, `src/lib.rs`
/// gets a requirement, and the instruction files are links to a file outside the
/// workspace (`AGENTS.md`) and to an ignored one (`src/AGENTS.md`).
fn repository_with_secrets(server: &ScriptedServer) -> TempWorkspace {
    let ws = TempWorkspace::new(&format!(
        "//- /src/lib.rs\npub fn version() -> u32 {{ 1 }}\n//- /.env\nGREETING={ENV_OLD}\n//- /config/secrets.yaml\ngreeting: yaml-old\n\
         //- /.ctxls/prompts/review.md\n---\ntitle: Review the changes\napplies_to: file\noutput: message\n---\nReview these changes:\n{{{{diff}}}}\n"
    ));
    ws.write(".ctxls.toml", &config(server, "[index]\nexclude = [\"vendor/**\"]\n"));
    support::commit_all(&ws.root());
    ws.write(".env", &format!("GREETING={ENV_NEW}\n"));
    ws.write("config/secrets.yaml", &format!("greeting: {YAML_NEW}\n"));
    ws.write("config/.env.production", &format!("GREETING={PRODUCTION}\n"));
    ws.write(".npmrc", &format!("registry=https://npm.example.com/\n# {NPMRC}\n"));
    ws.write("deploy/id_ed25519", &format!("{KEY_FILE}\n"));
    ws.write(".ctxlsignore", "private/\n");
    ws.write("private/plan.rs", &format!("pub fn plan() -> &'static str {{ \"{IGNORED}\" }}\n"));
    ws.write("vendor/lib.rs", &format!("pub fn vendored() -> &'static str {{ \"{EXCLUDED}\" }}\n"));
    ws.write("src/lib.rs", "pub fn version() -> u32 { 2 }\n// AI: add a minor version\n");
    #[cfg(unix)]
    {
        let outside = ws.cache.path().join("AGENTS.md");
        std::fs::write(&outside, format!("Always greet with {OUTSIDE}.\n")).unwrap();
        symlink(&outside, &ws.root().join("AGENTS.md"));
        symlink(&ws.root().join("private/plan.rs"), &ws.root().join("src/AGENTS.md"));
    }
    ws
}

#[test]
fn summarize_implement_and_prompt_diffs_never_carry_ignored_or_secret_files() {
    let (_runtime, server) = with_server(Vec::new());
    let ws = repository_with_secrets(&server);
    server.push(Reply::openai(&["Bump the version"], true));
    let (status, stdout, stderr) = ws.ctxls(&["summarize"]);
    assert!(status.success(), "{stderr}");
    assert_eq!(stdout, "Bump the version\n");
    let summary = server.requests()[0].json()["messages"][1]["content"].as_str().unwrap().to_string();
    assert!(summary.contains("+pub fn version() -> u32 { 2 }"), "the code's change goes: {summary}");
    assert!(summary.contains("changed file(s) left out: ignored, hidden or secrets]"), "{summary}");
    assert!(!summary.contains(".env") && !summary.contains("secrets.yaml"), "not even named: {summary}");

    server.push(Reply::openai(&["src/lib.rs\n<<<<<<< SEARCH\n// AI: add a minor version\n=======\npub fn minor() -> u32 { 0 }\n>>>>>>> REPLACE\n"], true));
    let (status, stdout, stderr) = ws.ctxls(&["implement"]);
    assert!(status.success(), "{stderr}");
    assert!(stdout.contains("+pub fn minor() -> u32 { 0 }"), "{stdout}");
    let implement = server.requests()[1].json()["messages"][1]["content"].as_str().unwrap().to_string();
    assert!(implement.contains("+// AI: add a minor version"), "{implement}");

    server.push(Reply::openai(&["Looks fine."], true));
    let (status, stdout, stderr) = ws.ctxls(&["run-prompt", "review", "src/lib.rs"]);
    assert!(status.success(), "{stderr}");
    assert_eq!(stdout, "Looks fine.\n");
    let review = server.requests()[2].json()["messages"][1]["content"].as_str().unwrap().to_string();
    assert!(review.contains("Review these changes:\n") && review.contains("+pub fn version() -> u32 { 2 }"), "{review}");

    assert_eq!(server.requests().len(), 3);
    assert_never_sent(&server, FILE_SECRETS);
}

#[test]
fn mentions_of_secret_or_ignored_files_are_refused_with_the_reason() {
    let (_runtime, server) = with_server(Vec::new());
    let ws = repository_with_secrets(&server);
    ws.write("config/app.toml", "port = 8080\n");
    let query = "read @config/secrets.yaml, @.env, @private/plan.rs, @.npmrc and @config/app.toml";
    let (status, stdout, stderr) = ws.ctxls(&["context", "src/lib.rs:1:1", "--query", query]);
    assert!(status.success(), "{stderr}");
    let out: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let mentioned: Vec<&str> = out["mentions"].as_array().unwrap().iter().map(|m| m["path"].as_str().unwrap()).collect();
    assert_eq!(mentioned, ["config/app.toml"], "{out}");
    let unresolved: Vec<(String, String)> =
        out["unresolved"].as_array().unwrap().iter().map(|u| (u["mention"].as_str().unwrap().to_string(), u["reason"].as_str().unwrap().to_string())).collect();
    let secret = "a secret by its name (.env, keys, credentials, secrets.*)";
    assert_eq!(
        unresolved,
        [
            ("@config/secrets.yaml".to_string(), format!("`config/secrets.yaml` is not sent to a model: {secret}")),
            ("@.env".to_string(), format!("`.env` is not sent to a model: {secret}")),
            ("@private/plan.rs".to_string(), "`private/plan.rs` is not sent to a model: ignored (.gitignore, .ignore, .ctxlsignore, index.exclude or hidden)".to_string()),
            ("@.npmrc".to_string(), format!("`.npmrc` is not sent to a model: {secret}")),
        ],
        "{out}"
    );
    // The same mentions in a requirement sent to the model: nothing of the files goes,
    // and the warning says why.
    ws.write("src/lib.rs", &format!("pub fn version() -> u32 {{ 2 }}\n// AI: {query}\n"));
    server.push(Reply::openai(&["src/lib.rs\n<<<<<<< SEARCH\npub fn version() -> u32 { 2 }\n=======\npub fn version() -> u32 { 3 }\n>>>>>>> REPLACE\n"], true));
    let (status, _, stderr) = ws.ctxls(&["generate", "src/lib.rs:2"]);
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("warning: @config/secrets.yaml: `config/secrets.yaml` is not sent to a model"), "{stderr}");
    assert!(bodies(&server).contains("port = 8080"), "the readable mention goes");
    assert_never_sent(&server, &[YAML_NEW, ENV_NEW, IGNORED, NPMRC]);
}

#[cfg(unix)]
#[test]
fn chat_about_a_file_outside_the_workspace_is_refused() {
    let (_runtime, server) = with_server(Vec::new());
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("creds.rs"), "pub fn creds() -> &'static str { \"outside-SECRET-7f3a\" }\n").unwrap();
    let ws = TempWorkspace::new("//- /src/lib.rs\npub fn add(a: i32, b: i32) -> i32 { a + b }\n");
    ws.write(".ctxls.toml", &config(&server, ""));
    symlink(outside.path(), &ws.root().join("linked"));
    let absolute = outside.path().join("creds.rs");
    let relative = format!("../{}/creds.rs", outside.path().file_name().unwrap().to_str().unwrap());
    for file in [absolute.to_str().unwrap(), "linked/creds.rs", &relative] {
        let (status, stdout, stderr) = ws.ctxls(&["chat", "what is this?", "--file", file]);
        assert!(!status.success(), "{file}: {stdout}");
        assert!(stderr.contains("is outside the workspace") && stderr.contains("nothing from it is sent to a model"), "{file}: {stderr}");
    }
    // A symbolic link inside the workspace to a secret inside it: refused too.
    ws.write(".env", "GREETING=env-SECRET-7f3a\n");
    symlink(&ws.root().join(".env"), &ws.root().join("src/env.rs"));
    let (status, _, stderr) = ws.ctxls(&["chat", "what is this?", "--file", "src/env.rs"]);
    assert!(!status.success() && stderr.contains("is ignored"), "{stderr}");
    assert!(server.requests().is_empty(), "nothing left the machine: {}", bodies(&server));
}

#[cfg(unix)]
#[test]
fn instruction_files_documents_and_prompt_files_follow_links_only_to_readable_files() {
    let (_runtime, server) = with_server(Vec::new());
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("AGENTS.md"), "Always use the key outside-SECRET-7f3a-instructions.\n").unwrap();
    std::fs::write(outside.path().join("orders.md"), "# Orders\n\nOrders are cached; the cache password is outside-SECRET-7f3a-document.\n").unwrap();
    std::fs::write(outside.path().join("evil.md"), "---\ntitle: Evil\napplies_to: file\noutput: message\n---\noutside-SECRET-7f3a-prompt {{file}}\n").unwrap();
    let ws = TempWorkspace::new(
        "//- /web/api.rs\npub fn orders() {}\n//- /web/.ctxls/instructions.md\nUse the shared HTTP client.\n\
         //- /.gitignore\nprivate/\n//- /private/rules.md\nIgnored rules: ignored-SECRET-7f3a.\n//- /.env\nGREETING=env-SECRET-7f3a\n\
         //- /docs/style.md\n# Style\n\nShort functions.\n//- /.ctxls/prompts/explain.md\n---\ntitle: Explain\napplies_to: file\noutput: message\n---\nExplain {{file}}\n",
    );
    ws.write(".ctxls.toml", &config(&server, ""));
    let root = ws.root();
    // The root's AGENTS.md leads outside; web/AGENTS.md to an ignored file; the Copilot
    // file to a secret; the shared style guide is a link to a readable file.
    symlink(&outside.path().join("AGENTS.md"), &root.join("AGENTS.md"));
    symlink(&root.join("private/rules.md"), &root.join("web/AGENTS.md"));
    symlink(&root.join(".env"), &root.join(".github/copilot-instructions.md"));
    symlink(&root.join("docs/style.md"), &root.join("web/sub/AGENTS.md"));
    symlink(&outside.path().join("orders.md"), &root.join("docs/orders.md"));
    symlink(&outside.path().join("evil.md"), &root.join(".ctxls/prompts/evil.md"));
    std::fs::write(root.join("web/sub/page.rs"), "pub fn page() {}\n").unwrap();

    server.push(Reply::openai(&["It fetches orders."], true));
    let (status, _, stderr) = ws.ctxls(&["chat", "how are orders cached?", "--file", "web/sub/page.rs"]);
    assert!(status.success(), "{stderr}");
    let system = server.requests()[0].json()["messages"][0]["content"].as_str().unwrap().to_string();
    assert!(system.contains("From web/sub/AGENTS.md:\n# Style\n\nShort functions."), "a link to a readable file is followed: {system}");
    assert!(system.contains("From web/.ctxls/instructions.md:\nUse the shared HTTP client."), "{system}");
    assert!(!system.contains("From AGENTS.md") && !system.contains("From web/AGENTS.md") && !system.contains("copilot"), "{system}");

    let (status, stdout, stderr) = ws.ctxls(&["run-prompt", "--list"]);
    assert!(!status.success(), "a prompt file that does not load fails the listing: {stdout}");
    assert!(stdout.contains("explain\tExplain") && !stdout.contains("evil"), "{stdout}");
    assert!(stderr.contains(".ctxls/prompts/evil.md") && stderr.contains("a symbolic link to a file that is outside the workspace"), "{stderr}");
    let (status, _, stderr) = ws.ctxls(&["run-prompt", "evil", "web/api.rs"]);
    assert!(!status.success(), "{stderr}");

    assert_eq!(server.requests().len(), 1);
    assert_never_sent(&server, &["SECRET-7f3a"]);
}

/// What redaction misses no more, in a file sent with a question; the code around the
/// secrets is kept.
#[test]
fn secrets_of_every_shape_are_redacted_from_what_is_sent() {
    let (_runtime, server) = with_server(Vec::new());
    let ws = TempWorkspace::new("//- /src/lib.rs\npub mod settings;\n");
    ws.write(".ctxls.toml", &config(&server, ""));
    let secrets = [
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCY7f3aSECRET",
        "pg-SECRET-7f3a",
        "tok9SECRET7f3aTOKEN0123456789",
        "npm_SECRET7f3aAbCdEfGhIjKlMnOpQrStUvWxYz012",
        "Kx9-SECRET-7f3a-Qz",
        "correct horse SECRET 7f3a staple",
        "lQOYBF0pSECRET7f3aQBCAC7mWnC3Yq9bK1Q2sV8kXh4pPpG2d9LmQzR4tYb8vN1cXwE",
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCSECRET7f3a",
    ];
    let settings = format!(
        "pub const AWS_SECRET_ACCESS_KEY: &str = \"{}\";\n\
         pub const DATABASE_URL: &str = \"postgres://app:{}@db.internal:5432/shop\";\n\
         // curl -H \"Authorization: Bearer {}\" https://api.example.com\n\
         // NPM_TOKEN={}\n\
         pub fn api_key() -> String {{\n    let api_key = String::from(\"{}\");\n    api_key\n}}\n\
         pub const PASSWORD: &str = \"{}\";\n\
         /// -----BEGIN PGP PRIVATE KEY BLOCK-----\n///\n/// {}\n/// =Xk2L\n/// -----END PGP PRIVATE KEY BLOCK-----\n\
         pub fn signed() {{}}\n\
         /// -----BEGIN RSA PRIVATE KEY-----\n/// {}\n/// BKcwggSjAgEAAoIBAQC7\n\
         pub fn after_the_key() -> u32 {{ 7 }}\n",
        secrets[0], secrets[1], secrets[2], secrets[3], secrets[4], secrets[5], secrets[6], secrets[7]
    );
    ws.write("src/settings.rs", &settings);
    server.push(Reply::openai(&["ok"], true));
    let (status, _, stderr) = ws.ctxls(&["chat", "is the database configured?", "--file", "src/settings.rs"]);
    assert!(status.success(), "{stderr}");
    let sent = bodies(&server);
    assert_never_sent(&server, &secrets);
    for kept in [
        "postgres://app:[REDACTED:url-password]@db.internal:5432/shop",
        "Authorization: Bearer [REDACTED:authorization]",
        "pub fn api_key() -> String",
        "pub fn signed() {}",
        // The key without its END line takes only its own lines.
        "pub fn after_the_key() -> u32 { 7 }",
    ] {
        assert!(sent.contains(kept), "{kept} is kept: {sent}");
    }
}

const EC_KEY: [&str; 3] = [
    "MHcCAQEEIBkXw3Yq9bK1Q2sV8kXh4SECRET7f3aG2d9LmQzR4tYb8vN1cXwoAoGCCqGSM49",
    "AwEHoUQDQgAE7aHfPk4Zs2LmN9qT5vYxSECRET7f3aG6hJ0kL4mN7oP2qR5sT8uV1",
    "wX4yZ7aB0cD3eF6gSECRET7f3a==",
];

/// A file with a key in a string, the cursor in the middle of its second line.
fn key_file() -> String {
    format!(
        "pub fn before() {{}}\npub const KEY: &str = \"-----BEGIN EC PRIVATE KEY-----\n{}\n{}\n{}\n-----END EC PRIVATE KEY-----\";\npub fn after() {{}}\n",
        EC_KEY[0], EC_KEY[1], EC_KEY[2]
    )
}

/// No fragment of the key's lines (12 characters or more) in `sent`.
fn assert_no_key_fragment(sent: &str) {
    for line in EC_KEY {
        for piece in line.as_bytes().windows(12) {
            let piece = std::str::from_utf8(piece).unwrap();
            assert!(!sent.contains(piece), "{piece:?} of the key left the machine in:\n{sent}");
        }
    }
}

#[test]
fn a_key_cut_by_the_cursor_is_redacted_from_the_prefix_and_the_suffix() {
    let (_runtime, server) = with_server(Vec::new());
    let ws = TempWorkspace::new("//- /src/lib.rs\npub mod keys;\n");
    ws.write(".ctxls.toml", &format!("[llm]\nbase_url = \"{}\"\nretries = 0\n", server.url()));
    ws.write("src/keys.rs", &key_file());
    server.push(Reply::ollama(&["x"], false));
    let (status, _, stderr) = ws.ctxls(&["complete", "src/keys.rs:4:30"]);
    assert!(status.success(), "{stderr}");
    let sent = server.requests()[0].json();
    let (prefix, suffix) = (sent["prompt"].as_str().unwrap(), sent["suffix"].as_str().unwrap());
    assert!(prefix.contains("pub fn before() {}") && prefix.ends_with("[REDACTED:private-key]"), "{prefix}");
    assert!(suffix.starts_with("[REDACTED:private-key]") && suffix.contains("pub fn after() {}"), "{suffix}");
    assert_no_key_fragment(&bodies(&server));
}

/// A key longer than a chunk's window: it is cut between two chunks, and the provider
/// embedder gets each chunk redacted.
#[test]
fn a_key_cut_between_chunks_is_redacted_from_each_embedding_input() {
    let (_runtime, server) = with_server(Vec::new());
    let ws = TempWorkspace::new("//- /src/lib.rs\npub mod bundle;\npub fn start() {}\n");
    ws.write(".ctxls.toml", &config(&server, &format!("[embedding]\nprovider = \"openai\"\nbase_url = \"{}/v1\"\n", server.url())));
    // One 90-line item: windows of 60 lines, the key across lines 50-80.
    let mut bundle = String::from("pub const BUNDLE: &str = \"\n");
    for i in 1..49 {
        bundle.push_str(&format!("filler line {i}\n"));
    }
    bundle.push_str("-----BEGIN PRIVATE KEY-----\n");
    let material: Vec<String> = (0..30).map(|i| format!("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC{i:02}SECRET7f3aBKcwggSjAgEAAoIBAQC7hW1dzd")).collect();
    for line in &material {
        bundle.push_str(line);
        bundle.push('\n');
    }
    bundle.push_str("-----END PRIVATE KEY-----\n");
    for i in 0..8 {
        bundle.push_str(&format!("trailer line {i}\n"));
    }
    bundle.push_str("\";\n");
    ws.write("src/bundle.rs", &bundle);
    server.fallback(Reply::status(500, "{\"error\":\"no vectors today\"}"));
    let (status, _, stderr) = ws.ctxls(&["context", "src/lib.rs:2:1", "--query", "bundle"]);
    assert!(status.success(), "{stderr}");
    let embeddings: Vec<String> = server.requests().iter().filter(|r| r.path == "/v1/embeddings").map(|r| r.body.clone()).collect();
    assert!(!embeddings.is_empty(), "the chunks were sent to the embedder");
    let sent = embeddings.join("\n");
    assert!(sent.contains("filler line 1") && sent.contains("trailer line 7"), "{sent}");
    assert!(sent.matches("[REDACTED:private-key]").count() >= 2, "the key is in two chunks, each redacted: {sent}");
    for line in &material {
        assert!(!sent.contains(&line[32..]), "{line} left the machine");
    }
}

// ----------------------------------------------------------------------------------------
// Over LSP.

struct Editor {
    _runtime: tokio::runtime::Runtime,
    server: ScriptedServer,
    ws: TempWorkspace,
    client: LspClient,
}

/// The repository with secrets, open in the server (OpenAI wire format).
fn editor(ws_of: impl FnOnce(&ScriptedServer) -> TempWorkspace) -> Editor {
    let (runtime, server) = with_server(Vec::new());
    let ws = ws_of(&server);
    let client = LspClient::start_indexed(&ws);
    Editor { _runtime: runtime, server, ws, client }
}

#[test]
fn over_lsp_diffs_completions_and_mentions_never_carry_secret_files() {
    let mut e = editor(repository_with_secrets);
    let root = e.ws.root();
    // A requirement naming secrets, in the open document.
    let lib = e.client.open_file(&root, "src/lib.rs", "rust");
    e.client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": lib, "version": 2}, "contentChanges": [{"text": "pub fn version() -> u32 { 2 }\n// AI: add a minor version, see @config/secrets.yaml and @.env\n"}]}),
    );
    let published = e.client.wait_for(Duration::from_secs(30), |m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == lib
            && m["params"]["diagnostics"].as_array().is_some_and(|d| d.iter().filter(|d| d["code"] == "unknown-mention").count() == 2)
    });
    let messages: Vec<&str> = published["params"]["diagnostics"].as_array().unwrap().iter().filter(|d| d["code"] == "unknown-mention").map(|d| d["message"].as_str().unwrap()).collect();
    assert!(messages[0].starts_with("@config/secrets.yaml: `config/secrets.yaml` is not sent to a model: a secret by its name"), "{messages:?}");

    // Inline completion (recency: the changed files; the ignored one is not indexed).
    e.server.push(Reply::openai(&["0"], false));
    let completion = e.client.request(
        "textDocument/inlineCompletion",
        json!({"textDocument": {"uri": lib}, "position": {"line": 0, "character": 26}, "context": {"triggerKind": 1}}),
    );
    assert!(completion.get("error").is_none(), "{completion}");
    // Generate at the requirement: its mentions and the file's diff.
    e.server.push(Reply::openai(&["src/lib.rs\n<<<<<<< SEARCH\npub fn version() -> u32 { 2 }\n=======\npub fn version() -> u32 { 3 }\n>>>>>>> REPLACE\n"], true));
    let generated = e.client.request("workspace/executeCommand", json!({"command": "ctxls.generate", "arguments": [{"uri": lib, "position": {"line": 1, "character": 5}}]}));
    assert!(generated.get("error").is_none(), "{generated}");
    // Summarize and implement the diff; a prompt file with {{diff}}.
    e.server.push(Reply::openai(&["A minor version."], true));
    let summary = e.client.request("workspace/executeCommand", json!({"command": "ctxls.summarizeDiff", "arguments": []}));
    assert_eq!(summary["result"]["markdown"], "A minor version.", "{summary}");
    e.server.push(Reply::openai(&["src/lib.rs\n<<<<<<< SEARCH\npub fn version() -> u32 { 2 }\n=======\npub fn version() -> u32 { 4 }\n>>>>>>> REPLACE\n"], true));
    let implemented = e.client.request("workspace/executeCommand", json!({"command": "ctxls.implementRequirements", "arguments": []}));
    assert!(implemented.get("error").is_none(), "{implemented}");
    e.server.push(Reply::openai(&["Fine."], true));
    let reviewed = e.client.request("workspace/executeCommand", json!({"command": "ctxls.runPrompt", "arguments": [{"name": "review", "uri": lib}]}));
    assert!(reviewed.get("error").is_none(), "{reviewed}");

    let requests = e.server.requests();
    assert_eq!(requests.len(), 5, "every feature asked the model once");
    let with_diff = requests.iter().filter(|r| r.body.contains("+pub fn version() -> u32 { 2 }") && r.body.contains("left out: ignored, hidden or secrets")).count();
    assert_eq!(with_diff, 3, "summarize, implement and the prompt file sent the code's diff, without the secrets");
    assert_never_sent(&e.server, FILE_SECRETS);
    e.client.shutdown();
}

#[test]
fn over_lsp_a_key_under_the_cursor_is_redacted_from_the_prefix_and_the_suffix() {
    let mut e = editor(|server| {
        let ws = TempWorkspace::new("//- /src/lib.rs\npub mod keys;\n");
        ws.write(".ctxls.toml", &config(server, ""));
        ws.write("src/keys.rs", &key_file());
        ws
    });
    let root = e.ws.root();
    let keys = e.client.open_file(&root, "src/keys.rs", "rust");
    e.server.push(Reply::openai(&["x"], false));
    let completion = e.client.request("textDocument/inlineCompletion", json!({"textDocument": {"uri": keys}, "position": {"line": 3, "character": 29}, "context": {"triggerKind": 1}}));
    assert!(completion.get("error").is_none(), "{completion}");
    let sent = e.server.requests()[0].json();
    assert!(sent["prompt"].as_str().unwrap().ends_with("[REDACTED:private-key]"), "{sent}");
    assert!(sent["suffix"].as_str().unwrap().starts_with("[REDACTED:private-key]"), "{sent}");
    assert_no_key_fragment(&bodies(&e.server));
    e.client.shutdown();
}
