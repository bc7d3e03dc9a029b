//! A guard in front of the LSP codec. tower-lsp-server stops reading its input after the
//! first frame it cannot decode (tokio-util's `FramedRead` ends the stream after a decoder
//! error), which would leave the editor talking to a deaf server. This filter reads
//! stdin, passes every well-formed frame through unchanged, and drops (with a log line)
//! frames with a bad header or a body that is not JSON, so the session goes on.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Bodies larger than this are discarded unread (no client sends 256 MiB messages).
const MAX_BODY: usize = 256 * 1024 * 1024;

/// Copies frames from `input` to `output` until `input` ends, dropping malformed ones.
pub async fn filter_frames(mut input: impl AsyncRead + Unpin, mut output: impl AsyncWrite + Unpin) {
    let mut buffer: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut chunk = vec![0u8; 64 * 1024];
    let mut eof = false;
    loop {
        // Frames already in the buffer.
        loop {
            match next_frame(&buffer) {
                Frame::Incomplete => break,
                Frame::Garbage(skip) => {
                    tracing::warn!("dropped {skip} bytes of malformed LSP header");
                    buffer.drain(..skip);
                }
                Frame::Complete { header_len, body_len } => {
                    let total = header_len + body_len;
                    let body = &buffer[header_len..total];
                    if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() {
                        if output.write_all(&buffer[..total]).await.is_err() {
                            return;
                        }
                    } else {
                        tracing::warn!("dropped a message whose body is not JSON ({body_len} bytes)");
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
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        left -= n;
                    }
                }
            }
        }
        if eof {
            let _ = output.shutdown().await;
            return;
        }
        match input.read(&mut chunk).await {
            Ok(0) | Err(_) => eof = true,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Frame {
    Incomplete,
    /// Bytes to drop before the next possible header.
    Garbage(usize),
    Complete { header_len: usize, body_len: usize },
    TooLarge { header_len: usize, body_len: usize },
}

fn next_frame(buffer: &[u8]) -> Frame {
    let Some(end) = memchr::memmem::find(buffer, b"\r\n\r\n") else {
        // A header never gets this long; without its end in sight it is garbage.
        if buffer.len() > 8192 {
            return Frame::Garbage(skip_to_next_header(buffer, 1));
        }
        return Frame::Incomplete;
    };
    let header_len = end + 4;
    let header = String::from_utf8_lossy(&buffer[..end]);
    let mut length = None;
    for line in header.split("\r\n") {
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse::<usize>().ok();
            }
        }
    }
    match length {
        None => Frame::Garbage(skip_to_next_header(buffer, 1).min(header_len).max(1)),
        Some(body_len) if body_len > MAX_BODY => Frame::TooLarge { header_len, body_len },
        Some(body_len) if buffer.len() < header_len + body_len => Frame::Incomplete,
        Some(body_len) => Frame::Complete { header_len, body_len },
    }
}

/// The offset of the next `Content-Length` at or after `from`, or the buffer's length.
fn skip_to_next_header(buffer: &[u8], from: usize) -> usize {
    memchr::memmem::find(&buffer[from.min(buffer.len())..], b"Content-Length")
        .map_or(buffer.len(), |i| i + from)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn filtered(input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        filter_frames(input, &mut out).await;
        out
    }

    #[tokio::test]
    async fn malformed_frames_are_dropped_and_good_ones_kept() {
        let good = b"Content-Length: 2\r\n\r\n{}";
        let mut input = Vec::new();
        input.extend_from_slice(b"Content-Length: 12\r\n\r\n{not json!!}");
        input.extend_from_slice(good);
        input.extend_from_slice(b"Content-Length: abc\r\n\r\n");
        input.extend_from_slice(good);
        input.extend_from_slice(b"garbage");
        input.extend_from_slice(good);
        let out = filtered(&input).await;
        assert_eq!(out, [good.as_slice(), good, good].concat());
    }

    #[test]
    fn frames_split_across_reads_wait_for_the_rest() {
        assert_eq!(next_frame(b"Content-Length: 10\r\n\r\n{\"a\""), Frame::Incomplete);
        assert_eq!(next_frame(b"Content-Len"), Frame::Incomplete);
        assert_eq!(
            next_frame(b"Content-Length: 999999999999\r\n\r\n"),
            Frame::TooLarge { header_len: 32, body_len: 999_999_999_999 }
        );
    }
}
