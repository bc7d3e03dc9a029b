//! The HTTP side of LLM calls: one shared `reqwest` client, connect / first-token / total
//! timeouts, retries with exponential backoff and jitter on connection errors, 429 and 5xx
//! (honouring `Retry-After`, and never once a token has arrived), a bounded number of
//! requests in flight per provider, and streaming through the providers' decoders.
//! Dropping the future of `complete` drops the connection: that is how cancellation
//! reaches the network. Keys are sent in headers and never appear in errors or logs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::Semaphore;
use tokio::time::{sleep, timeout_at, Instant};

use super::providers::{self, Decoded, HttpCall, LlmProvider, StreamFormat};
use crate::config::ModelSettings;
use crate::llm::stream::{NdjsonParser, SseParser};
use crate::llm::{FinishReason, Message, Prompt, Request};

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("{provider} at {url} is not reachable ({reason}). {remedy}")]
    Unreachable { provider: &'static str, url: String, reason: String, remedy: String },
    #[error("{provider} refused the request with HTTP {status} ({message}): check the API key ({key_hint})")]
    Auth { provider: &'static str, status: u16, message: String, key_hint: String },
    #[error("{provider} answered HTTP {status}: {message}")]
    Status { provider: &'static str, status: u16, message: String },
    #[error("{provider} at {url} answered HTTP {status} ({message}): {remedy}")]
    WrongEndpoint { provider: &'static str, url: String, status: u16, message: String, remedy: String },
    #[error("{provider} at {url} answers in a format ctxls does not read for this provider (first item: {excerpt}): {remedy}")]
    UnreadableStream { provider: &'static str, url: String, excerpt: String, remedy: String },
    #[error("no answer from {provider} within {ms} ms (first-token timeout)")]
    FirstTokenTimeout { provider: &'static str, ms: u64 },
    #[error("the answer from {provider} took longer than {ms} ms (total timeout); {partial} characters arrived")]
    TotalTimeout { provider: &'static str, ms: u64, partial: usize },
    #[error("{provider}'s answer stopped before its end ({reason}); {partial} characters arrived")]
    Cut { provider: &'static str, reason: String, partial: usize },
    #[error("{provider} reported an error: {message}")]
    Provider { provider: &'static str, message: String },
}

impl LlmError {
    /// Errors worth another attempt when no token has arrived yet.
    pub(super) fn retryable(&self) -> bool {
        match self {
            LlmError::Unreachable { .. } | LlmError::Cut { .. } => true,
            LlmError::Status { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    pub text: String,
    pub finish: FinishReason,
}

pub struct LlmClient {
    settings: ModelSettings,
    provider: Box<dyn LlmProvider>,
    api_key: Option<String>,
    http: reqwest::Client,
    permits: Arc<Semaphore>,
}

pub(super) fn shared_http(connect_ms: u64) -> reqwest::Client {
    static CLIENTS: OnceLock<Mutex<HashMap<u64, reqwest::Client>>> = OnceLock::new();
    let clients = CLIENTS.get_or_init(Default::default);
    let mut clients = clients.lock().unwrap_or_else(|p| p.into_inner());
    clients
        .entry(connect_ms)
        .or_insert_with(|| {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_millis(connect_ms))
                .user_agent(concat!("ctxls/", env!("CARGO_PKG_VERSION")))
                .build()
                .expect("a TLS backend is compiled in")
        })
        .clone()
}

fn shared_permits(key: &str, limit: u32) -> Arc<Semaphore> {
    static PERMITS: OnceLock<Mutex<HashMap<String, Arc<Semaphore>>>> = OnceLock::new();
    let permits = PERMITS.get_or_init(Default::default);
    let mut permits = permits.lock().unwrap_or_else(|p| p.into_inner());
    permits.entry(key.to_string()).or_insert_with(|| Arc::new(Semaphore::new(limit as usize))).clone()
}

/// The API key for these settings, by the one rule of `keys::resolve`.
pub fn resolve_api_key(settings: &ModelSettings) -> Option<String> {
    super::keys::resolve(settings.provider, settings.api_key.as_ref(), settings.api_key_env.as_deref()).value
}

impl LlmClient {
    pub fn new(settings: ModelSettings, api_key: Option<String>) -> LlmClient {
        let provider = providers::for_kind(settings.provider);
        let http = shared_http(settings.timeout_connect_ms);
        let permits = shared_permits(&format!("{}|{}", settings.provider.name(), settings.base_url), settings.max_in_flight);
        LlmClient { settings, provider, api_key, http, permits }
    }

    pub fn settings(&self) -> &ModelSettings {
        &self.settings
    }

    fn provider_name(&self) -> &'static str {
        self.settings.provider.name()
    }

    /// The HTTP call for `request`, secrets in its text redacted (`llm.redact_secrets`).
    pub fn call(&self, request: &Request) -> HttpCall {
        self.call_with(request, &self.settings)
    }

    fn call_with(&self, request: &Request, settings: &ModelSettings) -> HttpCall {
        if !settings.redact_secrets {
            return self.provider.build(request, settings);
        }
        let (redacted, count) = redact_request(request);
        if count > 0 {
            tracing::info!("{count} secret(s) redacted from the request");
        }
        self.provider.build(&redacted, settings)
    }

    /// The settings without the FIM template when the template was chosen from the model's
    /// name and the model does not have it: on an OpenAI-compatible server of this machine
    /// or the local network (where the model's name is whatever its owner called it), the
    /// template's first sentinel must be one special token of the served model, which
    /// llama.cpp's `/tokenize` tells. Asked once per server and model in a process; a
    /// server that cannot tell keeps the template. `None`: send as configured.
    async fn without_foreign_template(&self, request: &Request) -> Option<ModelSettings> {
        let settings = &self.settings;
        if settings.provider != crate::config::ProviderKind::OpenAi
            || settings.fim.is_some()
            || !matches!(request.prompt, Prompt::Fim { .. })
            || !is_local_url(&settings.base_url)
        {
            return None;
        }
        let template = crate::llm::fim::FimTemplate::for_model(&settings.model)?;
        let sentinel = template.sentinel().to_string();
        if sentinel.is_empty() {
            return None;
        }
        static CHECKED: OnceLock<Mutex<HashMap<String, bool>>> = OnceLock::new();
        let key = format!("{}|{}", settings.base_url, settings.model);
        let known = CHECKED.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner()).get(&key).copied();
        let own = match known {
            Some(own) => own,
            None => {
                let own = super::probe::has_special_token(settings, &sentinel).await != Some(false);
                if !own {
                    tracing::warn!(
                        "the model at {} has no {sentinel} token: the {} FIM template (chosen from the model name {:?}) is not used; completions go without a template (set llm.fim, or provider = \"llamacpp\" for the model's own tokens)",
                        settings.base_url,
                        template.name,
                        settings.model
                    );
                }
                CHECKED.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner()).insert(key, own);
                own
            }
        };
        (!own).then(|| ModelSettings { fim: Some(crate::llm::fim::NO_TEMPLATE.to_string()), ..settings.clone() })
    }

    /// The exact HTTP request `complete` would send, key redacted.
    pub fn dry_run(&self, request: &Request) -> String {
        let call = self.call(request);
        let mut out = format!("POST {}\ncontent-type: application/json\n", call.url);
        for (name, value) in self.provider.auth_headers(self.api_key.as_deref()) {
            let shown = if name == "anthropic-version" { value } else { "<redacted>".to_string() };
            out.push_str(&format!("{name}: {shown}\n"));
        }
        out.push('\n');
        out.push_str(&serde_json::to_string_pretty(&call.body).unwrap_or_default());
        out.push('\n');
        out
    }

    fn redact(&self, text: &str) -> String {
        redact(text, self.api_key.as_deref())
    }

    fn key_hint(&self) -> String {
        // Where a key would come from besides the editor's settings.
        super::keys::resolve(self.settings.provider, None, self.settings.api_key_env.as_deref()).source.hint()
    }

    fn unreachable(&self, url: &str, err: &reqwest::Error) -> LlmError {
        let reason = if err.is_connect() {
            "connection refused or failed".to_string()
        } else if err.is_timeout() {
            format!("no connection within {} ms", self.settings.timeout_connect_ms)
        } else {
            self.redact(&error_chain(err))
        };
        let remedy = match self.settings.provider {
            crate::config::ProviderKind::Ollama => format!(
                "Start Ollama (`ollama serve`) and pull the model (`ollama pull {}`), or set llm.base_url / llm.provider in .ctxls.toml",
                self.settings.model
            ),
            _ => "Check llm.base_url and that the server is running, or set llm.provider".to_string(),
        };
        LlmError::Unreachable { provider: self.provider_name(), url: url.to_string(), reason, remedy }
    }

    /// What to do when the endpoint is not there: usually the provider or the base URL
    /// does not match the server.
    fn endpoint_remedy(&self, status: u16) -> String {
        use crate::config::ProviderKind;
        let fix = match self.settings.provider {
            ProviderKind::Ollama => "this is not an Ollama server? For llama.cpp's llama-server set llm.provider = \"llamacpp\"; for another OpenAI-compatible server set llm.provider = \"openai\" and llm.base_url to its URL ending in /v1",
            ProviderKind::OpenAi => "check llm.base_url (OpenAI-compatible servers usually end in /v1; for llama.cpp's llama-server use llm.provider = \"llamacpp\" with the server's root URL) and llm.model",
            ProviderKind::LlamaCpp if status == 501 => "the server's model cannot fill in the middle (no FIM tokens): load a code model with FIM tokens (Qwen2.5-Coder, say) for completions",
            ProviderKind::LlamaCpp => "is this llama.cpp's llama-server? llm.base_url is its root URL (http://127.0.0.1:8080); for Ollama use llm.provider = \"ollama\", for other servers \"openai\"",
            ProviderKind::Anthropic => "check llm.base_url (https://api.anthropic.com) and llm.provider",
        };
        format!("{fix}; `ctxls doctor` tells what the server at {} answers", self.settings.base_url)
    }

    /// Streams a completion, calling `on_text` with each piece as it arrives; the answer
    /// ends at [`answer_cap`] bytes (finish reason `Length`).
    pub async fn complete(&self, request: &Request, on_text: &mut (dyn FnMut(&str) + Send)) -> Result<Completion, LlmError> {
        let call = match self.without_foreign_template(request).await {
            Some(settings) => self.call_with(request, &settings),
            None => self.call(request),
        };
        let started = Instant::now();
        let deadline = started + Duration::from_millis(self.settings.timeout_total_ms);
        let first_deadline = (started + Duration::from_millis(self.settings.timeout_first_token_ms)).min(deadline);
        let mut attempt = 0u32;
        loop {
            let mut text = String::new();
            let result = self.attempt(&call, first_deadline, deadline, answer_cap(request.max_tokens), &mut text, on_text).await;
            match result {
                Ok(finish) => return Ok(Completion { text, finish }),
                // Never retry once the user has seen tokens.
                Err((err, _)) if !text.is_empty() || !err.retryable() || attempt >= self.settings.retries => {
                    return Err(err)
                }
                Err((err, retry_after)) => {
                    let backoff = retry_after.unwrap_or_else(|| backoff(attempt));
                    if Instant::now() + backoff >= first_deadline {
                        return Err(err);
                    }
                    tracing::debug!("{err}; retrying in {backoff:?}");
                    sleep(backoff).await;
                    attempt += 1;
                }
            }
        }
    }

    /// One attempt. On failure, the error and the server's `Retry-After`, if any.
    async fn attempt(
        &self,
        call: &HttpCall,
        first_deadline: Instant,
        deadline: Instant,
        cap: usize,
        text: &mut String,
        on_text: &mut (dyn FnMut(&str) + Send),
    ) -> Result<FinishReason, (LlmError, Option<Duration>)> {
        let provider = self.provider_name();
        let _permit = self.permits.acquire().await.expect("the semaphore is never closed");
        let mut builder = self.http.post(&call.url).json(&call.body);
        for (name, value) in self.provider.auth_headers(self.api_key.as_deref()) {
            builder = builder.header(name, value);
        }
        // The first-token deadline is capped by the total one: a silent model is reported
        // with the limit that actually stopped it.
        let silent = || {
            if first_deadline < deadline {
                LlmError::FirstTokenTimeout { provider, ms: self.settings.timeout_first_token_ms }
            } else {
                LlmError::TotalTimeout { provider, ms: self.settings.timeout_total_ms, partial: 0 }
            }
        };
        let response = match timeout_at(first_deadline, builder.send()).await {
            Err(_) => return Err((silent(), None)),
            Ok(Err(err)) => return Err((self.unreachable(&call.url, &err), None)),
            Ok(Ok(response)) => response,
        };
        let status = response.status().as_u16();
        if !response.status().is_success() {
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(|s| Duration::from_secs(s.min(60)));
            let body = match timeout_at(first_deadline, response.text()).await {
                Ok(Ok(body)) => body,
                _ => String::new(),
            };
            let message = self.redact(&error_message(&body));
            let err = if status == 401 || status == 403 {
                LlmError::Auth { provider, status, message, key_hint: self.key_hint() }
            } else if status == 404 || status == 405 || status == 501 {
                LlmError::WrongEndpoint { provider, url: call.url.clone(), status, message, remedy: self.endpoint_remedy(status) }
            } else {
                LlmError::Status { provider, status, message }
            };
            return Err((err, retry_after));
        }

        let format = self.provider.stream_format();
        let mut sse = SseParser::default();
        let mut ndjson = NdjsonParser::default();
        let mut bytes = response.bytes_stream();
        let mut finish: Option<FinishReason> = None;
        // The first item that carried nothing ctxls reads: a stream of nothing but those
        // is another provider's format, said as such rather than waited out.
        let mut unread: Option<String> = None;
        let mut unread_count = 0usize;
        loop {
            let limit = if text.is_empty() { first_deadline } else { deadline };
            let next = match timeout_at(limit, bytes.next()).await {
                Err(_) if text.is_empty() && unread_count > 2 => {
                    let excerpt = unread.unwrap_or_default();
                    let remedy = self.endpoint_remedy(200);
                    return Err((LlmError::UnreadableStream { provider, url: call.url.clone(), excerpt, remedy }, None));
                }
                Err(_) if text.is_empty() => return Err((silent(), None)),
                Err(_) => {
                    let ms = self.settings.timeout_total_ms;
                    return Err((LlmError::TotalTimeout { provider, ms, partial: text.len() }, None));
                }
                Ok(next) => next,
            };
            let (chunk, ended) = match next {
                Some(Ok(chunk)) => (chunk, false),
                Some(Err(err)) => {
                    let reason = self.redact(&error_chain(&err));
                    return Err((LlmError::Cut { provider, reason, partial: text.len() }, None));
                }
                None => (bytes::Bytes::new(), true),
            };
            let mut items: Vec<(String, Result<serde_json::Value, String>)> = Vec::new();
            match format {
                StreamFormat::Sse => {
                    let mut events = sse.push(&chunk);
                    if ended {
                        events.extend(sse.finish());
                    }
                    for event in events {
                        if event.data.trim() == "[DONE]" {
                            finish.get_or_insert(FinishReason::Stop);
                            continue;
                        }
                        items.push((event.event, serde_json::from_str(&event.data).map_err(|_| event.data)));
                    }
                }
                StreamFormat::Ndjson => {
                    let mut values = ndjson.push(&chunk);
                    if ended {
                        values.extend(ndjson.finish());
                    }
                    items.extend(values.into_iter().map(|v| (String::new(), v)));
                }
            }
            for (event, value) in items {
                let value = match value {
                    Ok(value) => value,
                    Err(line) => {
                        let excerpt: String = self.redact(&line).chars().take(120).collect();
                        tracing::warn!("{provider}: ignoring a malformed stream item: {excerpt}");
                        continue;
                    }
                };
                match self.provider.decode(&event, &value) {
                    Decoded::Text(piece) => {
                        // A model that never stops, or one 10 MB "token", ends the answer at
                        // the cap: what came so far is kept, as if it had said `length`.
                        if take_capped(text, &piece, cap, on_text) {
                            tracing::warn!("{provider}: the answer reached {} bytes, its cap; cut there", text.len());
                            return Ok(FinishReason::Length);
                        }
                    }
                    Decoded::Done(reason) => {
                        finish = Some(reason);
                    }
                    Decoded::Last(piece, reason) => {
                        let capped = take_capped(text, &piece, cap, on_text);
                        finish = Some(if capped { FinishReason::Length } else { reason });
                    }
                    Decoded::Nothing => {
                        if text.is_empty() {
                            unread_count += 1;
                            unread.get_or_insert_with(|| self.redact(&value.to_string()).chars().take(120).collect());
                        }
                    }
                    Decoded::Error(message) => {
                        let message = self.redact(&message);
                        return Err((LlmError::Provider { provider, message }, None));
                    }
                }
            }
            if ended {
                return match finish {
                    Some(reason) => Ok(reason),
                    None if text.is_empty() && unread.is_some() => {
                        let excerpt = unread.unwrap_or_default();
                        let remedy = self.endpoint_remedy(200);
                        Err((LlmError::UnreadableStream { provider, url: call.url.clone(), excerpt, remedy }, None))
                    }
                    None => Err((
                        LlmError::Cut { provider, reason: "the connection closed".to_string(), partial: text.len() },
                        None,
                    )),
                };
            }
        }
    }

    /// The models the endpoint offers (Ollama `/api/tags`, OpenAI `/v1/models`).
    pub async fn list_models(&self) -> Result<Vec<String>, LlmError> {
        let provider = self.provider_name();
        let url = self.provider.models_url(&self.settings);
        let mut builder = self.http.get(&url);
        for (name, value) in self.provider.auth_headers(self.api_key.as_deref()) {
            builder = builder.header(name, value);
        }
        let limit = Instant::now() + Duration::from_millis(self.settings.timeout_first_token_ms);
        let response = match timeout_at(limit, builder.send()).await {
            Err(_) => return Err(LlmError::FirstTokenTimeout { provider, ms: self.settings.timeout_first_token_ms }),
            Ok(Err(err)) => return Err(self.unreachable(&url, &err)),
            Ok(Ok(response)) => response,
        };
        let status = response.status().as_u16();
        let body = timeout_at(limit, response.text()).await.ok().and_then(Result::ok).unwrap_or_default();
        match status {
            200..=299 => {
                let value: serde_json::Value = serde_json::from_str(&body).map_err(|_| LlmError::Provider {
                    provider,
                    message: format!("the model list at {url} is not JSON"),
                })?;
                Ok(self.provider.model_names(&value))
            }
            401 | 403 => Err(LlmError::Auth { provider, status, message: self.redact(&error_message(&body)), key_hint: self.key_hint() }),
            404 | 405 | 501 => Err(LlmError::WrongEndpoint {
                provider,
                url: url.clone(),
                status,
                message: self.redact(&error_message(&body)),
                remedy: self.endpoint_remedy(status),
            }),
            _ => Err(LlmError::Status { provider, status, message: self.redact(&error_message(&body)) }),
        }
    }
}

/// Exponential backoff with jitter: about 250 ms, 500 ms, 1 s, ... (+/- 50 %), at most 8 s.
pub(super) fn backoff(attempt: u32) -> Duration {
    let base = 250u64.saturating_mul(1 << attempt.min(5)).min(8_000);
    let noise = crate::base::content_hash(&std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos().to_le_bytes());
    let jitter = (noise % (base + 1)) as i64 - (base / 2) as i64;
    Duration::from_millis((base as i64 + jitter).max(10) as u64)
}

/// The useful part of an error body: a JSON `error.message` / `error`, else its start.
pub(super) fn error_message(body: &str) -> String {
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(body) {
        let found = value
            .pointer("/error/message")
            .or_else(|| value.get("error"))
            .or_else(|| value.get("message"))
            .and_then(|v| v.as_str().map(str::to_string).or_else(|| Some(v.to_string())));
        if let Some(message) = found {
            return message;
        }
    }
    let trimmed: String = body.trim().chars().take(200).collect();
    if trimmed.is_empty() {
        "no details".to_string()
    } else {
        trimmed
    }
}

/// `text` with every occurrence of the key replaced.
pub(super) fn redact(text: &str, key: Option<&str>) -> String {
    match key.filter(|k| k.len() >= 4) {
        Some(key) => text.replace(key, "<redacted>"),
        None => text.to_string(),
    }
}

pub(super) fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        out.push_str(": ");
        out.push_str(&inner.to_string());
        source = inner.source();
    }
    out
}

/// `request` with the secrets in its texts replaced, and how many were. A FIM prefix and
/// suffix are parts of one text cut at the cursor: each is redacted as a part (a key
/// block cut there goes from both).
fn redact_request(request: &Request) -> (Request, usize) {
    use crate::llm::redact::{redact, redact_part};
    let mut count = 0;
    let mut clean = |text: &str, redact: fn(&str) -> (String, usize)| {
        let (out, n) = redact(text);
        count += n;
        out
    };
    let prompt = match &request.prompt {
        Prompt::Chat(messages) => Prompt::Chat(messages.iter().map(|m| Message { content: clean(&m.content, redact), ..m.clone() }).collect()),
        // The excerpts are cut from their files as the prefix is: redacted as parts too.
        Prompt::Fim { prefix, suffix, repo } => {
            let repo = repo.as_ref().map(|repo| crate::llm::FimRepo {
                files: repo.files.iter().map(|f| crate::llm::FimFile { filename: f.filename.clone(), text: clean(&f.text, redact_part) }).collect(),
                code_prefix: clean(&repo.code_prefix, redact_part),
            });
            Prompt::Fim { prefix: clean(prefix, redact_part), suffix: clean(suffix, redact_part), repo }
        }
        Prompt::Raw(text) => Prompt::Raw(clean(text, redact)),
    };
    (Request { prompt, ..request.clone() }, count)
}

/// The most bytes of answer taken for `max_tokens` tokens: 32 bytes a token (a token is
/// 3-4 characters of code; this leaves room for long identifiers and wide Unicode), at
/// least 16 KiB, at most a little over the 4 MiB an edit may be.
/// Whether `base_url` names this machine or the local network (loopback, private and
/// link-local addresses, `localhost`, `*.local`, `*.lan`, a name without dots).
pub fn is_local_url(base_url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(base_url) else { return false };
    let Some(host) = url.host_str() else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => ip.is_loopback() || ip.is_private() || ip.is_link_local(),
        Ok(std::net::IpAddr::V6(ip)) => {
            ip.is_loopback() || (ip.segments()[0] & 0xfe00) == 0xfc00 || (ip.segments()[0] & 0xffc0) == 0xfe80
        }
        Err(_) => {
            let name = host.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost") || name.ends_with(".local") || name.ends_with(".lan") || !name.contains('.')
        }
    }
}

pub fn answer_cap(max_tokens: u32) -> usize {
    (max_tokens as usize).saturating_mul(32).clamp(16 * 1024, 4 * 1024 * 1024 + 64 * 1024)
}

/// Appends `piece` to `text` up to `cap` bytes in all (cut at a char boundary) and passes
/// on what was taken; true when the cap is reached.
fn take_capped(text: &mut String, piece: &str, cap: usize, on_text: &mut (dyn FnMut(&str) + Send)) -> bool {
    let room = cap.saturating_sub(text.len());
    let taken = if piece.len() > room { &piece[..crate::lang::floor_char_boundary(piece, room)] } else { piece };
    text.push_str(taken);
    on_text(taken);
    room <= taken.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_urls() {
        let local = [
            "http://127.0.0.1:8080/v1",
            "http://localhost:8080",
            "http://[::1]:9/v1",
            "http://10.1.2.3/v1",
            "http://192.168.0.7:8000/v1",
            "http://gpu-box:8080/v1",
            "http://llm.lan/v1",
            "http://[fd00::1]/v1",
        ];
        for url in local {
            assert!(is_local_url(url), "{url}");
        }
        for url in ["https://api.openai.com/v1", "https://api.deepseek.com/v1", "http://8.8.8.8/v1", "not a url"] {
            assert!(!is_local_url(url), "{url}");
        }
    }
}
