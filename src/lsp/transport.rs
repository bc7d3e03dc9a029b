//! A guard in front of tower-lsp-server, and the session's end. tower-lsp-server stops
//! reading its input after the first frame it cannot decode (tokio-util's `FramedRead`
//! ends the stream after a decoder error), which would end the session or leave the
//! editor talking to a deaf server. `filter_frames` reads stdin and passes on, with a
//! header of its own, only frames the library decodes: a JSON-RPC request, notification
//! or response in UTF-8 JSON. Every other frame is answered with the error it deserves
//! (`-32700` for bytes that are not JSON, `-32600` for JSON that is not a message, with
//! the frame's id when it has a usable one, else `null`) or, for a malformed response
//! or a broken header, dropped with a log line. An answer is not written to stdout by
//! the filter: it becomes a `$/ctxls/rejectedFrame` notification in the filtered stream,
//! which `Guard` (wrapping the service) turns into the error response, so every byte on
//! stdout goes through the server's one writer, frame by frame.
//!
//! `Lifecycle` records `shutdown` and the end of the session (`exit`, or stdin closed):
//! the server stops within moments of it even while a request to the client is
//! unanswered, which would otherwise keep tower-lsp-server's serving loop alive forever.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Id, Request, Response};
use tower_service::Service;

/// Bodies larger than this are discarded unread (no client sends 256 MiB messages).
const MAX_BODY: usize = 256 * 1024 * 1024;
/// A header never gets this long; without its end in sight it is garbage.
const MAX_HEADER: usize = 8192;
/// Room made at once for a frame's announced length, at most.
const MAX_RESERVED: usize = 64 * 1024 * 1024;
/// The read buffer's capacity kept between frames (a 30 MB frame does not pin 30 MB).
const KEPT_CAPACITY: usize = 1024 * 1024;

/// The notification that carries a rejected frame's error answer from the filter to
/// `Guard`. Clients cannot send it themselves: the filter rejects it.
const REJECTED_FRAME: &str = "$/ctxls/rejectedFrame";

/// What the session has seen of its end.
#[derive(Default)]
pub struct Lifecycle {
    shutdown: AtomicBool,
    ended: AtomicBool,
    notify: tokio::sync::Notify,
}

impl Lifecycle {
    /// True once the client asked for `shutdown` (the exit status is then 0, else 1).
    pub fn shutdown_requested(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    fn end(&self, why: &str) {
        if !self.ended.swap(true, Ordering::SeqCst) {
            tracing::info!("session ends: {why}");
        }
        self.notify.notify_one();
    }

    /// Resolves once the client sent `exit` or closed stdin.
    pub async fn ended(&self) {
        while !self.ended.load(Ordering::SeqCst) {
            self.notify.notified().await;
        }
    }
}

/// Copies frames from `input` to `output` until `input` ends, each well-formed message
/// under a clean header, each rejected one as a `$/ctxls/rejectedFrame` notification.
pub async fn filter_frames(mut input: impl AsyncRead + Unpin, mut output: impl AsyncWrite + Unpin, lifecycle: Arc<Lifecycle>) {
    let mut buffer: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        // Frames already in the buffer.
        loop {
            match next_frame(&buffer) {
                Frame::Incomplete => {
                    // A large body is read into room made for it once, not by doublings
                    // (up to a bound: the length is only announced).
                    if let Some(total) = announced_length(&buffer).filter(|&t| t <= MAX_RESERVED) {
                        buffer.reserve_exact(total.saturating_sub(buffer.len()));
                    }
                    break;
                }
                Frame::Garbage { skip, why } => {
                    tracing::warn!("dropped {skip} bytes of input: {why}");
                    buffer.drain(..skip);
                }
                Frame::Complete { header_len, body_len } => {
                    let total = header_len + body_len;
                    let forwarded = match classify(&buffer[header_len..total]) {
                        Verdict::Forward => write_frame(&mut output, &buffer[header_len..total]).await,
                        Verdict::Answer { id, code, message } => {
                            tracing::warn!("rejected a message ({body_len} bytes) with {}: {message}", code.code());
                            let params = serde_json::json!({ "id": id, "code": code.code(), "message": message });
                            let notification = serde_json::json!({ "jsonrpc": "2.0", "method": REJECTED_FRAME, "params": params });
                            write_frame(&mut output, notification.to_string().as_bytes()).await
                        }
                        Verdict::Drop(why) => {
                            tracing::warn!("dropped a message ({body_len} bytes): {why}");
                            Ok(())
                        }
                    };
                    if forwarded.is_err() {
                        // The server stopped reading: the session is over.
                        lifecycle.end("the server stopped reading its input");
                        return;
                    }
                    buffer.drain(..total);
                }
                Frame::TooLarge { header_len, body_len } => {
                    tracing::warn!("dropping a {body_len}-byte message, over the {MAX_BODY}-byte limit");
                    buffer.drain(..header_len.min(buffer.len()));
                    let mut left = body_len;
                    let in_buffer = left.min(buffer.len());
                    buffer.drain(..in_buffer);
                    left -= in_buffer;
                    while left > 0 {
                        let want = left.min(chunk.len());
                        let n = match input.read(&mut chunk[..want]).await {
                            Ok(0) | Err(_) => {
                                lifecycle.end("stdin closed inside an oversized message");
                                return;
                            }
                            Ok(n) => n,
                        };
                        left -= n;
                    }
                }
            }
        }
        if buffer.capacity() > KEPT_CAPACITY && buffer.len() < KEPT_CAPACITY / 2 {
            buffer.shrink_to(KEPT_CAPACITY);
        }
        match input.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
    if buffer.iter().any(|b| !b.is_ascii_whitespace()) {
        tracing::warn!("stdin closed in the middle of a message; {} bytes dropped", buffer.len());
    }
    let _ = output.shutdown().await;
    lifecycle.end("stdin closed");
}

async fn write_frame(output: &mut (impl AsyncWrite + Unpin), body: &[u8]) -> std::io::Result<()> {
    output.write_all(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes()).await?;
    output.write_all(body).await
}

#[derive(Debug, PartialEq, Eq)]
enum Frame {
    Incomplete,
    /// Bytes to drop before the next possible header.
    Garbage { skip: usize, why: &'static str },
    Complete { header_len: usize, body_len: usize },
    TooLarge { header_len: usize, body_len: usize },
}

fn next_frame(buffer: &[u8]) -> Frame {
    let Some(end) = memchr::memmem::find(buffer, b"\r\n\r\n") else {
        if buffer.len() > MAX_HEADER {
            return Frame::Garbage { skip: skip_to_next_header(buffer, 1), why: "no header end in sight" };
        }
        return Frame::Incomplete;
    };
    let header_len = end + 4;
    // Without a Content-Length line, the bytes up to the next `Content-Length` go (a real
    // header may follow garbage on the same line); a header with a bad or doubled length
    // goes whole. Either way the body of a rejected header is skipped as garbage up to
    // the next header.
    let garbage = |why| Frame::Garbage { skip: skip_to_next_header(buffer, 1).min(header_len).max(1), why };
    let bad_header = |why| Frame::Garbage { skip: header_len, why };
    let header = String::from_utf8_lossy(&buffer[..end]);
    let mut lengths = header
        .split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .map(|(_, value)| value.trim().parse::<usize>().ok());
    let length = match (lengths.next(), lengths.next()) {
        (None, _) => return garbage("a header without Content-Length"),
        // Which one is right is unknown: trusting either could swallow the next frames.
        (Some(_), Some(_)) => return bad_header("a header with more than one Content-Length"),
        (Some(None), None) => return bad_header("a Content-Length that is not a number"),
        (Some(Some(length)), None) => length,
    };
    match length {
        body_len if body_len > MAX_BODY => Frame::TooLarge { header_len, body_len },
        body_len if buffer.len() < header_len + body_len => Frame::Incomplete,
        body_len => Frame::Complete { header_len, body_len },
    }
}

/// The whole length (header and body) of the frame whose header is complete at the start
/// of `buffer`.
fn announced_length(buffer: &[u8]) -> Option<usize> {
    let end = memchr::memmem::find(buffer, b"\r\n\r\n")?;
    let header = std::str::from_utf8(&buffer[..end]).ok()?;
    let length = header.split("\r\n").find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim().eq_ignore_ascii_case("content-length").then(|| value.trim().parse::<usize>().ok())?
    })?;
    Some(end + 4 + length.min(MAX_BODY))
}

/// The offset of the next `Content-Length` at or after `from`, or the buffer's length.
fn skip_to_next_header(buffer: &[u8], from: usize) -> usize {
    memchr::memmem::find(&buffer[from.min(buffer.len())..], b"Content-Length").map_or(buffer.len(), |i| i + from)
}

/// What becomes of a frame's body.
#[derive(Debug, PartialEq)]
enum Verdict {
    /// A message tower-lsp-server decodes.
    Forward,
    /// Answered with this error.
    Answer { id: Id, code: ErrorCode, message: String },
    /// Dropped with a log line (a malformed response: responses are never answered).
    Drop(String),
}

/// Any JSON value, checked as parsing it into a `serde_json::Value` checks it (UTF-8,
/// escapes and surrogates, number ranges, depth) but not kept: a 30 MB document's text is
/// neither copied nor allocated.
struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Checked, D::Error> {
        struct CheckedVisitor;
        impl<'de> Visitor<'de> for CheckedVisitor {
            type Value = Checked;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
                while map.next_entry::<Checked, Checked>()?.is_some() {}
                Ok(Checked)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
                while seq.next_element::<Checked>()?.is_some() {}
                Ok(Checked)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_str<E>(self, _: &str) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_unit<E>(self) -> Result<Checked, E> {
                Ok(Checked)
            }
        }
        deserializer.deserialize_any(CheckedVisitor)
    }
}

/// The top level of a body: an object's members in order (values parsed, so that the
/// checks see what tower-lsp-server's decoder would; `params`, which may be a whole
/// document, only checked and kept as `null`), or the kind of anything else.
enum TopLevel {
    Object(Vec<(String, Value)>),
    Array(usize),
    Scalar,
}

impl<'de> Deserialize<'de> for TopLevel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TopLevel, D::Error> {
        struct TopVisitor;
        impl<'de> Visitor<'de> for TopVisitor {
            type Value = TopLevel;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopLevel, A::Error> {
                let mut members = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value = if key == "params" {
                        map.next_value::<Checked>()?;
                        Value::Null
                    } else {
                        map.next_value::<Value>()?
                    };
                    members.push((key, value));
                }
                Ok(TopLevel::Object(members))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TopLevel, A::Error> {
                let mut count = 0;
                while seq.next_element::<Checked>()?.is_some() {
                    count += 1;
                }
                Ok(TopLevel::Array(count))
            }
            fn visit_bool<E>(self, _: bool) -> Result<TopLevel, E> {
                Ok(TopLevel::Scalar)
            }
            fn visit_i64<E>(self, _: i64) -> Result<TopLevel, E> {
                Ok(TopLevel::Scalar)
            }
            fn visit_u64<E>(self, _: u64) -> Result<TopLevel, E> {
                Ok(TopLevel::Scalar)
            }
            fn visit_f64<E>(self, _: f64) -> Result<TopLevel, E> {
                Ok(TopLevel::Scalar)
            }
            fn visit_str<E>(self, _: &str) -> Result<TopLevel, E> {
                Ok(TopLevel::Scalar)
            }
            fn visit_unit<E>(self) -> Result<TopLevel, E> {
                Ok(TopLevel::Scalar)
            }
        }
        deserializer.deserialize_any(TopVisitor)
    }
}

/// Decides a body's fate. What it forwards, tower-lsp-server's decoder accepts (a test
/// checks this against the library's own types).
fn classify(body: &[u8]) -> Verdict {
    let answer = |id: Option<Id>, code, message: &str| Verdict::Answer { id: id.unwrap_or(Id::Null), code, message: message.to_string() };
    if let Err(err) = std::str::from_utf8(body) {
        return answer(None, ErrorCode::ParseError, &format!("Parse error: the message is not valid UTF-8 ({err})"));
    }
    let members = match serde_json::from_slice::<TopLevel>(body) {
        Err(err) => return answer(None, ErrorCode::ParseError, &format!("Parse error: the message is not JSON ({err})")),
        Ok(TopLevel::Object(members)) => members,
        Ok(TopLevel::Array(0)) => return answer(None, ErrorCode::InvalidRequest, "Invalid Request: an empty array"),
        Ok(TopLevel::Array(_)) => {
            return answer(None, ErrorCode::InvalidRequest, "Invalid Request: batches are not part of LSP; send each message in a frame of its own")
        }
        Ok(TopLevel::Scalar) => return answer(None, ErrorCode::InvalidRequest, "Invalid Request: a message must be a JSON object"),
    };
    let member = |name: &str| members.iter().find(|(key, _)| key == name).map(|(_, value)| value);
    let id = member("id");
    let usable_id = match id {
        Some(Value::Number(n)) => n.as_i64().map(Id::Number),
        Some(Value::String(s)) => Some(Id::String(s.clone())),
        _ => None,
    };
    for name in ["jsonrpc", "method", "params", "id", "result", "error"] {
        if members.iter().filter(|(key, _)| key == name).count() > 1 {
            return answer(usable_id, ErrorCode::InvalidRequest, &format!("Invalid Request: \"{name}\" appears more than once"));
        }
    }
    let version_ok = member("jsonrpc").and_then(Value::as_str) == Some("2.0");
    // The library reads a message as a response first, as long as it is one.
    if member("result").is_some() || member("error").is_some() {
        let object = Value::Object(members.iter().filter(|(key, _)| key != "params" && key != "method").cloned().collect());
        if Response::deserialize(&object).is_ok() {
            return Verdict::Forward;
        }
        if member("method").is_none() {
            return Verdict::Drop("a response that is not a JSON-RPC response".to_string());
        }
    }
    if !version_ok {
        return answer(usable_id, ErrorCode::InvalidRequest, "Invalid Request: \"jsonrpc\" must be \"2.0\"");
    }
    match member("method") {
        Some(Value::String(method)) if method == REJECTED_FRAME => {
            return answer(usable_id, ErrorCode::MethodNotFound, &format!("Method not found: {REJECTED_FRAME} is the server's own"))
        }
        Some(Value::String(_)) => {}
        Some(_) => return answer(usable_id, ErrorCode::InvalidRequest, "Invalid Request: \"method\" must be a string"),
        None => return answer(usable_id, ErrorCode::InvalidRequest, "Invalid Request: no \"method\""),
    }
    match id {
        None | Some(Value::Null) => {}
        Some(_) if usable_id.is_some() => {}
        Some(_) => return answer(None, ErrorCode::InvalidRequest, "Invalid Request: \"id\" must be an integer or a string"),
    }
    Verdict::Forward
}

/// The service wrapped: answers the filter's rejected frames, and records `shutdown` and
/// `exit` in the `Lifecycle`.
pub struct Guard<S> {
    pub inner: S,
    pub lifecycle: Arc<Lifecycle>,
}

#[derive(serde::Deserialize)]
struct Rejected {
    id: Id,
    code: i64,
    message: String,
}

impl<S> Service<Request> for Guard<S>
where
    S: Service<Request, Response = Option<Response>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Option<Response>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Option<Response>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        match request.method() {
            REJECTED_FRAME => {
                let rejected = request.params().and_then(|p| Rejected::deserialize(p).ok());
                let response = rejected.map(|r| {
                    Response::from_error(r.id, Error { code: ErrorCode::from(r.code), message: r.message.into(), data: None })
                });
                return Box::pin(std::future::ready(Ok(response)));
            }
            "shutdown" if request.id().is_some() => self.lifecycle.shutdown.store(true, Ordering::SeqCst),
            "exit" => self.lifecycle.end("exit"),
            _ => {}
        }
        Box::pin(self.inner.call(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn filtered(input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let lifecycle = Arc::new(Lifecycle::default());
        filter_frames(input, &mut out, lifecycle.clone()).await;
        assert!(lifecycle.ended.load(Ordering::SeqCst), "the end of input ends the session");
        out
    }

    fn frame(body: &str) -> Vec<u8> {
        format!("Content-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
    }

    const GOOD: &str = r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;

    /// The bodies of the frames in `out`.
    fn bodies(out: &[u8]) -> Vec<Value> {
        let mut rest = out;
        let mut found = Vec::new();
        while !rest.is_empty() {
            let Frame::Complete { header_len, body_len } = next_frame(rest) else { panic!("not a frame: {rest:?}") };
            found.push(serde_json::from_slice(&rest[header_len..header_len + body_len]).unwrap());
            rest = &rest[header_len + body_len..];
        }
        found
    }

    #[tokio::test]
    async fn broken_headers_are_dropped_and_good_frames_kept() {
        let mut input = Vec::new();
        input.extend_from_slice(b"Content-Length: abc\r\n\r\n");
        input.extend(frame(GOOD));
        input.extend_from_slice(b"garbage");
        input.extend(frame(GOOD));
        // Two lengths: neither is trusted, the body is skipped up to the next header.
        input.extend_from_slice(b"Content-Length: 2\r\nContent-Length: 500\r\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"x\"}");
        input.extend(frame(GOOD));
        // Headers tower-lsp-server would refuse (a third header, another charset) are
        // replaced by a clean one.
        input.extend_from_slice(format!("Content-Length: {}\r\nContent-Type: text/plain; charset=latin1\r\nX-Other: 1\r\n\r\n{GOOD}", GOOD.len()).as_bytes());
        let out = filtered(&input).await;
        assert_eq!(out, [frame(GOOD), frame(GOOD), frame(GOOD), frame(GOOD)].concat());
    }

    #[tokio::test]
    async fn rejected_frames_become_notifications_in_order() {
        let mut input = frame("{not json!!}");
        input.extend(frame(GOOD));
        input.extend(frame(r#"{"jsonrpc":"2.0","id":7,"method":42}"#));
        let out = bodies(&filtered(&input).await);
        assert_eq!(out.len(), 3);
        assert_eq!(out[0]["method"], REJECTED_FRAME);
        assert_eq!(out[0]["params"]["code"], -32700);
        assert_eq!(out[0]["params"]["id"], Value::Null);
        assert_eq!(out[1], serde_json::from_str::<Value>(GOOD).unwrap());
        assert_eq!(out[2]["params"]["code"], -32600);
        assert_eq!(out[2]["params"]["id"], 7);
    }

    #[test]
    fn frames_split_across_reads_wait_for_the_rest() {
        assert_eq!(next_frame(b"Content-Length: 10\r\n\r\n{\"a\""), Frame::Incomplete);
        assert_eq!(next_frame(b"Content-Len"), Frame::Incomplete);
        assert_eq!(next_frame(b"Content-Length: 999999999999\r\n\r\n"), Frame::TooLarge { header_len: 32, body_len: 999_999_999_999 });
    }

    /// Every body the filter forwards decodes as tower-lsp-server decodes a message (a
    /// response, else a request); the others get the answer JSON-RPC prescribes.
    #[test]
    fn what_is_forwarded_is_what_the_library_decodes() {
        let decodes = |body: &[u8]| {
            let text = std::str::from_utf8(body).ok();
            text.is_some_and(|t| serde_json::from_str::<Response>(t).is_ok() || serde_json::from_str::<Request>(t).is_ok())
        };
        let forwarded: &[&[u8]] = &[
            br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#,
            br#"{"jsonrpc":"2.0","id":"a","method":"shutdown"}"#,
            br#"{"jsonrpc":"2.0","id":null,"method":"shutdown"}"#,
            br#"{"jsonrpc":"2.0","method":"exit"}"#,
            br#"{"jsonrpc":"2.0","id":3,"result":null}"#,
            br#"{"jsonrpc":"2.0","id":3,"error":{"code":-1,"message":"no"}}"#,
            br#"{"method":"m","jsonrpc":"2.0","params":[1,2.5,"\u00e9\ud83d\ude00"],"extra":true}"#,
        ];
        for body in forwarded {
            assert_eq!(classify(body), Verdict::Forward, "{}", String::from_utf8_lossy(body));
            assert!(decodes(body), "{}", String::from_utf8_lossy(body));
        }
        let refused: &[(&[u8], i64, Value)] = &[
            (b"{}", -32600, Value::Null),
            (b"[]", -32600, Value::Null),
            (br#""x""#, -32600, Value::Null),
            (b"42", -32600, Value::Null),
            (b"null", -32600, Value::Null),
            (br#"[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"b"}]"#, -32600, Value::Null),
            (br#"{"jsonrpc":"2.0","id":5,"method":42}"#, -32600, 5.into()),
            (br#"{"jsonrpc":"2.0","id":1.5,"method":"shutdown"}"#, -32600, Value::Null),
            (br#"{"jsonrpc":"2.0","id":{"a":1},"method":"shutdown"}"#, -32600, Value::Null),
            (br#"{"jsonrpc":"2.0","id":true,"method":"shutdown"}"#, -32600, Value::Null),
            (br#"{"jsonrpc":"1.0","id":2,"method":"shutdown"}"#, -32600, 2.into()),
            (br#"{"id":2,"method":"shutdown"}"#, -32600, 2.into()),
            (br#"{"jsonrpc":"2.0","id":2}"#, -32600, 2.into()),
            (br#"{"jsonrpc":"2.0","method":"a","method":"b"}"#, -32600, Value::Null),
            (br#"{"jsonrpc":"2.0","id":"r","method":"$/ctxls/rejectedFrame"}"#, -32601, "r".into()),
            (b"{\"jsonrpc\":\"2.0\",\"method\":\"a\",\"params\":{\"t\":\"\xff\xfe\"}}", -32700, Value::Null),
            (br#"{"jsonrpc":"2.0","method":"a","params":{"t":"\ud800"}}"#, -32700, Value::Null),
            (br#"{"jsonrpc":"2.0","method":"a","params":[1e400]}"#, -32700, Value::Null),
            (b"{not json}", -32700, Value::Null),
            (b"", -32700, Value::Null),
            (br#"{"jsonrpc":"2.0","method":"a"} {}"#, -32700, Value::Null),
        ];
        for (body, code, id) in refused {
            match classify(body) {
                Verdict::Answer { id: got_id, code: got, message } => {
                    assert_eq!(got.code(), *code, "{}: {message}", String::from_utf8_lossy(body));
                    assert_eq!(serde_json::to_value(&got_id).unwrap(), *id, "{}", String::from_utf8_lossy(body));
                }
                other => panic!("{}: {other:?}", String::from_utf8_lossy(body)),
            }
        }
        // A malformed response is dropped, never answered.
        assert!(matches!(classify(br#"{"jsonrpc":"2.0","id":3,"result":1,"error":{"code":1,"message":"x"}}"#), Verdict::Drop(_) | Verdict::Forward));
        assert!(matches!(classify(br#"{"jsonrpc":"2.0","id":1.5,"result":1}"#), Verdict::Drop(_)));
    }
}
