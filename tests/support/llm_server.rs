//! A scripted LLM server on 127.0.0.1 (a random port) speaking the providers' wire formats
//! over real HTTP/1.1: it records every request, answers from a script (streamed in
//! chunks with delays), and can fail on purpose: any status with any headers, malformed
//! items, a stream cut mid-way, a slow first byte. It notices when a client hangs up.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Debug, Default)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Body pieces, each sent after its delay.
    pub chunks: Vec<(Duration, Vec<u8>)>,
    /// Close the connection before the end of the body.
    pub cut: bool,
}

impl Reply {
    pub fn status(status: u16, body: &str) -> Reply {
        Reply { status, headers: vec![("content-type".into(), "application/json".into())], chunks: vec![(Duration::ZERO, body.as_bytes().to_vec())], cut: false }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn stream(content_type: &str, pieces: Vec<String>) -> Reply {
        Reply {
            status: 200,
            headers: vec![("content-type".into(), content_type.into())],
            chunks: pieces.into_iter().map(|p| (Duration::ZERO, p.into_bytes())).collect(),
            cut: false,
        }
    }

    /// Ollama `/api/generate` (or `/api/chat` with `chat`): NDJSON.
    pub fn ollama(pieces: &[&str], chat: bool) -> Reply {
        let mut lines: Vec<String> = pieces
            .iter()
            .map(|p| {
                let item = if chat {
                    json!({"model": "m", "message": {"role": "assistant", "content": p}, "done": false})
                } else {
                    json!({"model": "m", "response": p, "done": false})
                };
                format!("{item}\n")
            })
            .collect();
        lines.push(format!("{}\n", json!({"model": "m", "response": "", "done": true, "done_reason": "stop"})));
        Reply::stream("application/x-ndjson", lines)
    }

    /// Like `ollama`, the answer cut at the token limit (`done_reason: "length"`).
    pub fn ollama_cut(pieces: &[&str], chat: bool) -> Reply {
        let mut reply = Reply::ollama(pieces, chat);
        let last = format!("{}\n", json!({"model": "m", "response": "", "done": true, "done_reason": "length"}));
        reply.chunks.last_mut().expect("the done line").1 = last.into_bytes();
        reply
    }

    /// OpenAI-compatible SSE: chat deltas or completion texts, then `[DONE]`.
    pub fn openai(pieces: &[&str], chat: bool) -> Reply {
        let mut events: Vec<String> = pieces
            .iter()
            .map(|p| {
                let choice = if chat {
                    json!({"index": 0, "delta": {"content": p}, "finish_reason": null})
                } else {
                    json!({"index": 0, "text": p, "finish_reason": null})
                };
                format!("data: {}\n\n", json!({"id": "x", "object": "chunk", "choices": [choice]}))
            })
            .collect();
        let last = if chat { json!({"index": 0, "delta": {}, "finish_reason": "stop"}) } else { json!({"index": 0, "text": "", "finish_reason": "stop"}) };
        events.push(format!("data: {}\n\n", json!({"id": "x", "choices": [last]})));
        events.push("data: [DONE]\n\n".to_string());
        Reply::stream("text/event-stream", events)
    }

    /// Anthropic Messages SSE.
    pub fn anthropic(pieces: &[&str]) -> Reply {
        let event = |name: &str, data: serde_json::Value| format!("event: {name}\ndata: {data}\n\n");
        let mut events = vec![
            event("message_start", json!({"type": "message_start", "message": {"id": "m", "role": "assistant", "content": []}})),
            event("content_block_start", json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})),
            event("ping", json!({"type": "ping"})),
        ];
        for p in pieces {
            events.push(event("content_block_delta", json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}})));
        }
        events.push(event("content_block_stop", json!({"type": "content_block_stop", "index": 0})));
        events.push(event("message_delta", json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}})));
        events.push(event("message_stop", json!({"type": "message_stop"})));
        Reply::stream("text/event-stream", events)
    }

    /// Waits before every chunk (the first one included).
    pub fn delay_each(mut self, delay: Duration) -> Reply {
        for chunk in &mut self.chunks {
            chunk.0 = delay;
        }
        self
    }

    pub fn delay_first(mut self, delay: Duration) -> Reply {
        if let Some(first) = self.chunks.first_mut() {
            first.0 = delay;
        }
        self
    }

    /// Sends only the first `n` chunks, then closes the connection.
    pub fn cut_after(mut self, n: usize) -> Reply {
        self.chunks.truncate(n);
        self.cut = true;
        self
    }

    /// Inserts a raw piece (a malformed item, say) before chunk `at`.
    pub fn insert_raw(mut self, at: usize, raw: &str) -> Reply {
        self.chunks.insert(at, (Duration::ZERO, raw.as_bytes().to_vec()));
        self
    }
}

#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

#[derive(Default)]
struct State {
    script: VecDeque<Reply>,
    /// Answer when the script is empty.
    fallback: Option<Reply>,
    requests: Vec<Recorded>,
    hangups: usize,
    /// What `/tokenize` (llama.cpp's) answers: `None` a 404; else the model's special
    /// tokens (each one token; any other text a token per character). Its requests are
    /// counted apart and never take a scripted reply.
    special_tokens: Option<Vec<String>>,
    tokenize_calls: usize,
}

/// A scripted server on a runtime of its own (one worker), for the synchronous tests that
/// drive the built binary: keep the runtime alive as long as the server is used.
pub fn with_server(replies: Vec<Reply>) -> (tokio::runtime::Runtime, ScriptedServer) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let server = runtime.block_on(ScriptedServer::start());
    for reply in replies {
        server.push(reply);
    }
    (runtime, server)
}

pub struct ScriptedServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl ScriptedServer {
    /// Starts on 127.0.0.1 with a random port, on the current tokio runtime.
    pub async fn start() -> ScriptedServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else { return };
                tokio::spawn(serve(socket, shared.clone()));
            }
        });
        ScriptedServer { addr, state }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn push(&self, reply: Reply) {
        self.state.lock().unwrap().script.push_back(reply);
    }

    pub fn fallback(&self, reply: Reply) {
        self.state.lock().unwrap().fallback = Some(reply);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Answer llama.cpp's `/tokenize` as a model with these special tokens would.
    pub fn special_tokens(&self, tokens: &[&str]) {
        self.state.lock().unwrap().special_tokens = Some(tokens.iter().map(|t| t.to_string()).collect());
    }

    /// `/tokenize` requests so far.
    pub fn tokenize_calls(&self) -> usize {
        self.state.lock().unwrap().tokenize_calls
    }

    /// Connections the client closed before the answer was complete.
    pub fn hangups(&self) -> usize {
        self.state.lock().unwrap().hangups
    }
}

async fn serve(mut socket: TcpStream, state: Arc<Mutex<State>>) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':').map(|(n, v)| (n.trim().to_lowercase(), v.trim().to_string())))
        .collect();
    let length: usize = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    while buffer.len() < head_end + length {
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
    let body = String::from_utf8_lossy(&buffer[head_end..head_end + length]).into_owned();
    let tokenize = {
        let mut state = state.lock().unwrap();
        if path.ends_with("/tokenize") {
            state.tokenize_calls += 1;
            let reply = match &state.special_tokens {
                None => Reply::status(404, "{\"error\":\"File Not Found\"}"),
                Some(special) => {
                    let content = serde_json::from_str::<serde_json::Value>(&body)
                        .ok()
                        .and_then(|v| v.get("content").and_then(|c| c.as_str()).map(str::to_string))
                        .unwrap_or_default();
                    let count = if special.contains(&content) { 1 } else { content.chars().count() };
                    Reply::status(200, &serde_json::json!({"tokens": vec![7; count]}).to_string())
                }
            };
            Some(reply)
        } else {
            None
        }
    };
    if let Some(reply) = tokenize {
        return answer(socket, reply, None).await;
    }
    let reply = {
        let mut state = state.lock().unwrap();
        state.requests.push(Recorded { method, path, headers, body });
        state.script.pop_front().or_else(|| state.fallback.clone()).unwrap_or_else(|| Reply::status(404, "{\"error\":\"no script\"}"))
    };
    answer(socket, reply, Some(state)).await;
}

/// Writes `reply`; hangups are counted in `state` when given.
async fn answer(mut socket: TcpStream, reply: Reply, state: Option<Arc<Mutex<State>>>) {
    let hangup = |state: &Option<Arc<Mutex<State>>>| {
        if let Some(state) = state {
            state.lock().unwrap().hangups += 1;
        }
    };
    let mut head = format!("HTTP/1.1 {} X\r\nconnection: close\r\ntransfer-encoding: chunked\r\n", reply.status);
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    if socket.write_all(head.as_bytes()).await.is_err() {
        hangup(&state);
        return;
    }
    for (delay, piece) in &reply.chunks {
        if !delay.is_zero() {
            // Wait, but notice a client that hangs up meanwhile.
            let mut probe = [0u8; 1];
            tokio::select! {
                _ = tokio::time::sleep(*delay) => {}
                read = socket.read(&mut probe) => {
                    if matches!(read, Ok(0) | Err(_)) {
                        hangup(&state);
                        return;
                    }
                }
            }
        }
        let framed = [format!("{:x}\r\n", piece.len()).into_bytes(), piece.clone(), b"\r\n".to_vec()].concat();
        if socket.write_all(&framed).await.is_err() || socket.flush().await.is_err() {
            hangup(&state);
            return;
        }
    }
    if reply.cut {
        let _ = socket.shutdown().await;
        return;
    }
    let _ = socket.write_all(b"0\r\n\r\n").await;
    let _ = socket.shutdown().await;
}
