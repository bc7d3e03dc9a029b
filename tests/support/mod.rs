//! Test support: temp workspaces written from fixtures, and an LSP client that drives the
//! built `ctxls` binary over stdio with real `Content-Length` frames.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ctxls"))
}

/// The server's stderr: the file `$CTXLS_SERVER_STDERR` names (appended to; for reading a
/// benchmark's server logs with `CTXLS_LOG`), else nowhere.
fn server_stderr() -> Stdio {
    let Some(path) = std::env::var_os("CTXLS_SERVER_STDERR") else { return Stdio::null() };
    std::fs::OpenOptions::new().create(true).append(true).open(path).map_or_else(|_| Stdio::null(), Stdio::from)
}

/// A temporary workspace and cache directory.
pub struct TempWorkspace {
    pub dir: tempfile::TempDir,
    pub cache: tempfile::TempDir,
}

impl TempWorkspace {
    /// Writes a fixture: files separated by `//- /path` headers.
    pub fn new(fixture: &str) -> TempWorkspace {
        let dir = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        for part in fixture.split("//- /").skip(1) {
            let (path, text) = part.split_once('\n').unwrap();
            let file = dir.path().join(path.trim());
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, text).unwrap();
        }
        TempWorkspace { dir, cache }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().canonicalize().unwrap()
    }

    pub fn write(&self, path: &str, text: &str) {
        let file = self.dir.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }

    /// Runs `ctxls ARGS` with this workspace's cache; returns (status, stdout, stderr).
    pub fn ctxls(&self, args: &[&str]) -> (std::process::ExitStatus, String, String) {
        let output = Command::new(bin())
            .args(args)
            .env("CTXLS_CACHE_DIR", self.cache.path())
            .env_remove("CTXLS_LOG")
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        (
            output.status,
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }
}

/// An LSP client speaking to a child `ctxls` process.
pub struct LspClient {
    child: Child,
    /// `None` once closed (`close_stdin`).
    stdin: Option<ChildStdin>,
    incoming: mpsc::Receiver<Value>,
    next_id: i64,
    /// Notifications and server requests seen while waiting for responses.
    pub notifications: Vec<Value>,
    /// Responses that arrived while another was awaited, by id.
    responses: std::collections::HashMap<i64, Value>,
    /// Server-to-client requests get an answer (true unless a test wants them unanswered).
    pub answer_server_requests: bool,
}

impl LspClient {
    pub fn start(cache_dir: &Path) -> LspClient {
        LspClient::start_with_env(cache_dir, &[])
    }

    /// A server on `ws`, initialized without options, its initial indexing done.
    pub fn start_indexed(ws: &TempWorkspace) -> LspClient {
        let mut client = LspClient::start(ws.cache.path());
        client.initialize(&ws.root(), Value::Null);
        client.wait_indexed();
        client
    }

    /// Opens `rel` of `root` with the text on disk, as version 1; its URI.
    pub fn open_file(&mut self, root: &Path, rel: &str, language: &str) -> String {
        let file = uri(&root.join(rel));
        let text = std::fs::read_to_string(root.join(rel)).unwrap();
        self.notify("textDocument/didOpen", json!({"textDocument": {"uri": file, "languageId": language, "version": 1, "text": text}}));
        file
    }

    /// A server with these extra environment variables.
    pub fn start_with_env(cache_dir: &Path, env: &[(&str, &str)]) -> LspClient {
        let mut child = Command::new(bin())
            .arg("serve")
            .env("CTXLS_CACHE_DIR", cache_dir)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(server_stderr())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, incoming) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(value) = line.strip_prefix("Content-Length: ") {
                        length = value.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; length.expect("Content-Length header")];
                reader.read_exact(&mut body).unwrap();
                if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                    return;
                }
            }
        });
        LspClient {
            child,
            stdin: Some(stdin),
            incoming,
            next_id: 1,
            notifications: Vec::new(),
            responses: Default::default(),
            answer_server_requests: true,
        }
    }

    /// The server process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn send(&mut self, message: &Value) {
        let body = serde_json::to_string(message).unwrap();
        self.send_raw(format!("Content-Length: {}\r\n\r\n{body}", body.len()).as_bytes());
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    /// Closes the server's stdin (end of input).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// The server's exit status, if it exits within `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if std::time::Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and waits for its response, answering server requests meanwhile.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        self.response(id, Duration::from_secs(30)).unwrap_or_else(|| panic!("no response to {method}"))
    }

    /// Sends a request without waiting; returns its id.
    pub fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// Waits for the response to request `id` (other responses are kept for later).
    pub fn response(&mut self, id: i64, timeout: Duration) -> Option<Value> {
        if let Some(found) = self.responses.remove(&id) {
            return Some(found);
        }
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let message = self.recv(deadline.saturating_duration_since(std::time::Instant::now()))?;
            if message.get("method").is_none() {
                if let Some(got) = message.get("id").and_then(Value::as_i64) {
                    if got == id {
                        return Some(message);
                    }
                    self.responses.insert(got, message);
                    continue;
                }
            }
            self.handle_incoming(message);
        }
    }

    fn handle_incoming(&mut self, message: Value) {
        // Server-to-client requests get an empty success (edits are applied).
        if let (Some(id), Some(method), true) = (message.get("id"), message.get("method"), self.answer_server_requests) {
            let result = if method == "workspace/applyEdit" { json!({"applied": true}) } else { Value::Null };
            let reply = json!({"jsonrpc": "2.0", "id": id, "result": result});
            self.send(&reply);
        }
        self.notifications.push(message);
    }

    pub fn recv(&mut self, timeout: Duration) -> Option<Value> {
        self.incoming.recv_timeout(timeout).ok()
    }

    /// Waits until a notification matching `predicate` arrives (or was already seen).
    pub fn wait_for(&mut self, timeout: Duration, predicate: impl Fn(&Value) -> bool) -> Value {
        self.wait_for_optional(timeout, predicate).expect("the awaited message never came")
    }

    /// Like `wait_for`, but `None` when nothing matching arrives in time.
    pub fn wait_for_optional(&mut self, timeout: Duration, predicate: impl Fn(&Value) -> bool) -> Option<Value> {
        if let Some(found) = self.notifications.iter().find(|m| predicate(m)) {
            return Some(found.clone());
        }
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let message = self.recv(deadline.saturating_duration_since(std::time::Instant::now()))?;
            let matched = predicate(&message);
            if let (None, Some(id)) = (message.get("method"), message.get("id").and_then(Value::as_i64)) {
                self.responses.insert(id, message.clone());
            } else {
                self.handle_incoming(message.clone());
            }
            if matched {
                return Some(message);
            }
        }
    }

    pub fn initialize(&mut self, root: &Path, options: Value) -> Value {
        let response = self.request(
            "initialize",
            json!({
                "processId": null,
                "rootUri": uri(root),
                "workspaceFolders": [{"uri": uri(root), "name": "root"}],
                "initializationOptions": options,
                "capabilities": {
                    "general": {"positionEncodings": ["utf-16"]},
                    "window": {"workDoneProgress": true},
                    "workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}, "workspaceFolders": true},
                    "textDocument": {"documentSymbol": {"hierarchicalDocumentSymbolSupport": true}}
                }
            }),
        );
        self.notify("initialized", json!({}));
        response
    }

    /// Waits for the end of initial indexing (`$/progress` with kind `end`).
    pub fn wait_indexed(&mut self) {
        self.wait_for(Duration::from_secs(60), |m| {
            m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end"
        });
    }

    pub fn shutdown(mut self) -> std::process::ExitStatus {
        let response = self.request("shutdown", Value::Null);
        assert!(response.get("error").is_none(), "{response}");
        self.notify("exit", Value::Null);
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("the server did not exit after `exit`");
    }
}

impl Drop for LspClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// Makes `root` a git repository whose HEAD holds every file now in it.
pub fn commit_all(root: &Path) -> git2::Repository {
    let repo = git2::Repository::init(root).unwrap();
    let mut index = repo.index().unwrap();
    index.add_all(["*"], git2::IndexAddOption::DEFAULT, None).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("t", "t@example.com").unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, "initial", &tree, &[]).unwrap();
    drop(tree);
    repo
}

pub fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}
