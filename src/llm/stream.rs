//! Incremental parsers for streamed responses. Bytes arrive in arbitrary pieces (a line,
//! or a UTF-8 character, may be split between two network reads); the parsers buffer
//! until a line is complete and never fail on bad input: a malformed line is reported as
//! such and the stream goes on.

/// One server-sent event (`event:` and `data:` lines up to a blank line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field; empty when absent (the default "message").
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// Splits a byte stream into complete lines (without `\n` or `\r\n`).
#[derive(Default)]
pub struct LineBuffer {
    buffer: Vec<u8>,
}

impl LineBuffer {
    pub fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.buffer.extend_from_slice(bytes);
        let mut lines = Vec::new();
        let mut start = 0;
        while let Some(newline) = memchr::memchr(b'\n', &self.buffer[start..]) {
            let end = start + newline;
            let line = &self.buffer[start..end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            lines.push(String::from_utf8_lossy(line).into_owned());
            start = end + 1;
        }
        self.buffer.drain(..start);
        lines
    }

    /// What is left when the stream ends (a last line without a newline).
    pub fn finish(&mut self) -> Option<String> {
        if self.buffer.is_empty() {
            return None;
        }
        let rest = std::mem::take(&mut self.buffer);
        let rest = rest.strip_suffix(b"\r").unwrap_or(&rest);
        Some(String::from_utf8_lossy(rest).into_owned())
    }
}

/// Parses `text/event-stream`.
#[derive(Default)]
pub struct SseParser {
    lines: LineBuffer,
    event: String,
    data: Vec<String>,
}

impl SseParser {
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut events = Vec::new();
        for line in self.lines.push(bytes) {
            self.line(line, &mut events);
        }
        events
    }

    /// Flushes an event not yet terminated by a blank line when the stream ends.
    pub fn finish(&mut self) -> Vec<SseEvent> {
        let mut events = Vec::new();
        if let Some(line) = self.lines.finish() {
            self.line(line, &mut events);
        }
        self.line(String::new(), &mut events);
        events
    }

    fn line(&mut self, line: String, events: &mut Vec<SseEvent>) {
        if line.is_empty() {
            if !self.data.is_empty() {
                events.push(SseEvent { event: std::mem::take(&mut self.event), data: self.data.join("\n") });
            }
            self.data.clear();
            self.event.clear();
            return;
        }
        if line.starts_with(':') {
            return; // a comment (keep-alive)
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_str(), ""),
        };
        match field {
            "data" => self.data.push(value.to_string()),
            "event" => self.event = value.to_string(),
            _ => {} // id, retry: not needed here
        }
    }
}

/// Parses newline-delimited JSON (Ollama's streams).
#[derive(Default)]
pub struct NdjsonParser {
    lines: LineBuffer,
}

impl NdjsonParser {
    /// Complete JSON values; a line that is not JSON comes back as `Err(line)`.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Result<serde_json::Value, String>> {
        self.lines.push(bytes).into_iter().filter(|l| !l.trim().is_empty()).map(parse_line).collect()
    }

    pub fn finish(&mut self) -> Vec<Result<serde_json::Value, String>> {
        self.lines.finish().into_iter().filter(|l| !l.trim().is_empty()).map(parse_line).collect()
    }
}

fn parse_line(line: String) -> Result<serde_json::Value, String> {
    serde_json::from_str(&line).map_err(|_| line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_events_split_anywhere() {
        let stream = "event: message_start\r\ndata: {\"a\":1}\r\n\r\n: keep-alive\n\ndata: x\ndata: é\n\ndata: [DONE]\n\n";
        // Feed one byte at a time: lines and characters split everywhere.
        let mut parser = SseParser::default();
        let mut events = Vec::new();
        for byte in stream.as_bytes() {
            events.extend(parser.push(std::slice::from_ref(byte)));
        }
        events.extend(parser.finish());
        assert_eq!(
            events,
            vec![
                SseEvent { event: "message_start".into(), data: "{\"a\":1}".into() },
                SseEvent { event: String::new(), data: "x\né".into() },
                SseEvent { event: String::new(), data: "[DONE]".into() },
            ]
        );
    }

    #[test]
    fn an_unterminated_last_event_is_flushed() {
        let mut parser = SseParser::default();
        assert!(parser.push(b"data: tail").is_empty());
        assert_eq!(parser.finish(), vec![SseEvent { event: String::new(), data: "tail".into() }]);
    }

    #[test]
    fn ndjson_lines_and_garbage() {
        let mut parser = NdjsonParser::default();
        let mut values = parser.push(b"{\"response\":\"a\"}\n{\"resp");
        values.extend(parser.push(b"onse\":\"b\"}\nnot json\n\n"));
        values.extend(parser.push(b"{\"done\":true}"));
        values.extend(parser.finish());
        assert_eq!(values.len(), 4);
        assert_eq!(values[1].as_ref().unwrap()["response"], "b");
        assert_eq!(values[2], Err("not json".to_string()));
        assert_eq!(values[3].as_ref().unwrap()["done"], true);
    }
}
