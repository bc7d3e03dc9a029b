//! The providers' wire formats: how a `Request` becomes an HTTP call, and how the streamed
//! answer becomes text. Each provider's quirks stay here.

use serde_json::{json, Value};

use crate::config::{ModelSettings, ProviderKind};
use crate::llm::fim::FimTemplate;
use crate::llm::{FinishReason, Message, Prompt, Request, Role};

/// An HTTP call, before a key is attached.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpCall {
    pub url: String,
    pub body: Value,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamFormat {
    Sse,
    Ndjson,
}

/// One decoded piece of a streamed answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Decoded {
    Text(String),
    Done(FinishReason),
    /// The last piece of text and the end together (llama.cpp and Ollama can send both
    /// in one item).
    Last(String, FinishReason),
    /// Nothing for the user (pings, role announcements).
    Nothing,
    /// The provider reported an error inside the stream.
    Error(String),
}

/// The seam between ctxls and a provider's API.
pub trait LlmProvider: Send + Sync {
    fn kind(&self) -> ProviderKind;
    fn stream_format(&self) -> StreamFormat;
    fn build(&self, request: &Request, settings: &ModelSettings) -> HttpCall;
    /// Headers carrying the key (none for keyless local servers).
    fn auth_headers(&self, key: Option<&str>) -> Vec<(&'static str, String)>;
    /// Decodes one stream item: an SSE event's data (with its event name) or an NDJSON line.
    fn decode(&self, event: &str, data: &Value) -> Decoded;
    /// The URL listing the models, and the model names in its answer.
    fn models_url(&self, settings: &ModelSettings) -> String;
    fn model_names(&self, body: &Value) -> Vec<String>;
}

pub fn for_kind(kind: ProviderKind) -> Box<dyn LlmProvider> {
    match kind {
        ProviderKind::Ollama => Box::new(Ollama),
        ProviderKind::OpenAi => Box::new(OpenAi),
        ProviderKind::Anthropic => Box::new(Anthropic),
        ProviderKind::LlamaCpp => Box::new(LlamaCpp),
    }
}

/// A temperature as JSON: the `f32` of the configuration widened to `f64` through its
/// shortest decimal form, so that 0.2 is sent as `0.2` and not `0.20000000298023224`.
pub fn temperature(value: f32) -> Value {
    let widened: f64 = value.to_string().parse().unwrap_or(f64::from(value));
    json!(widened)
}

/// Stop sequences for a completion when the model's family, and so its end-of-middle
/// tokens, is unknown: three blank lines end a completion, and the usual end-of-text and
/// file-separator tokens, should the server echo them as text, end it too.
pub const DEFAULT_FIM_STOP: &[&str] = &["\n\n\n", "<|endoftext|>", "<|file_sep|>", "</s>"];

/// The FIM template for these settings: the configured one (name or custom pattern), else
/// the model family's.
pub fn fim_template(settings: &ModelSettings) -> Option<FimTemplate> {
    match &settings.fim {
        Some(spec) if spec.contains("{prefix}") => FimTemplate::custom(spec, settings.fim_stop.clone()).ok(),
        Some(none) if none == crate::llm::fim::NO_TEMPLATE => None,
        Some(name) => FimTemplate::named(name),
        None => FimTemplate::for_model(&settings.model),
    }
}

fn stop_list(request: &Request, template: Option<&FimTemplate>) -> Vec<String> {
    let mut stop = request.stop.clone();
    if let Some(template) = template {
        stop.extend(template.stop.iter().cloned());
    }
    stop
}

/// The stop list of a fill-in-the-middle request sent without a template: the request's
/// own, then the defaults.
fn stop_list_unknown_family(request: &Request) -> Vec<String> {
    let mut stop = request.stop.clone();
    for s in DEFAULT_FIM_STOP {
        if !stop.iter().any(|have| have == s) {
            stop.push(s.to_string());
        }
    }
    stop
}

// ---- Ollama ----

struct Ollama;

impl LlmProvider for Ollama {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Ollama
    }

    fn stream_format(&self) -> StreamFormat {
        StreamFormat::Ndjson
    }

    fn build(&self, request: &Request, settings: &ModelSettings) -> HttpCall {
        let base = &settings.base_url;
        let explicit_template = settings.fim.as_ref().and_then(|_| fim_template(settings));
        let mut options = json!({"num_predict": request.max_tokens, "temperature": temperature(request.temperature)});
        let (url, body) = match &request.prompt {
            Prompt::Chat(messages) => (
                format!("{base}/api/chat"),
                json!({"model": settings.model, "messages": messages, "stream": true}),
            ),
            // A template named in the settings: ctxls renders the prompt, sent raw.
            Prompt::Fim { prefix, suffix, .. } if explicit_template.is_some() => {
                let template = explicit_template.as_ref().expect("checked");
                options["stop"] = json!(stop_list(request, Some(template)));
                (
                    format!("{base}/api/generate"),
                    json!({"model": settings.model, "prompt": template.render(prefix, suffix), "raw": true, "stream": true}),
                )
            }
            // Otherwise Ollama applies the model's own FIM template to `suffix`.
            Prompt::Fim { prefix, suffix, .. } => (
                format!("{base}/api/generate"),
                json!({"model": settings.model, "prompt": prefix, "suffix": suffix, "stream": true}),
            ),
            Prompt::Raw(prompt) => (
                format!("{base}/api/generate"),
                json!({"model": settings.model, "prompt": prompt, "raw": true, "stream": true}),
            ),
        };
        if options.get("stop").is_none() && !request.stop.is_empty() {
            options["stop"] = json!(request.stop);
        }
        let mut body = body;
        body["options"] = options;
        HttpCall { url, body }
    }

    fn auth_headers(&self, key: Option<&str>) -> Vec<(&'static str, String)> {
        key.map(|k| vec![("authorization", format!("Bearer {k}"))]).unwrap_or_default()
    }

    fn decode(&self, _event: &str, data: &Value) -> Decoded {
        if let Some(error) = data.get("error") {
            return Decoded::Error(error.as_str().map_or_else(|| error.to_string(), str::to_string));
        }
        let text = data
            .get("response")
            .and_then(Value::as_str)
            .or_else(|| data.pointer("/message/content").and_then(Value::as_str));
        if data.get("done").and_then(Value::as_bool) == Some(true) {
            let reason = match data.get("done_reason").and_then(Value::as_str) {
                Some("length") => FinishReason::Length,
                Some("stop") | None => FinishReason::Stop,
                Some(other) => FinishReason::Other(other.to_string()),
            };
            return match text.filter(|t| !t.is_empty()) {
                // A last chunk can carry text and `done` together.
                Some(text) => Decoded::Last(text.to_string(), reason),
                None => Decoded::Done(reason),
            };
        }
        match text {
            Some(text) if !text.is_empty() => Decoded::Text(text.to_string()),
            _ => Decoded::Nothing,
        }
    }

    fn models_url(&self, settings: &ModelSettings) -> String {
        format!("{}/api/tags", settings.base_url)
    }

    fn model_names(&self, body: &Value) -> Vec<String> {
        names_at(body, "models", &["name", "model"])
    }
}

// ---- OpenAI-compatible ----

struct OpenAi;

impl LlmProvider for OpenAi {
    fn kind(&self) -> ProviderKind {
        ProviderKind::OpenAi
    }

    fn stream_format(&self) -> StreamFormat {
        StreamFormat::Sse
    }

    fn build(&self, request: &Request, settings: &ModelSettings) -> HttpCall {
        let base = &settings.base_url;
        let (url, mut body, template) = match &request.prompt {
            Prompt::Chat(messages) => {
                (format!("{base}/chat/completions"), json!({"model": settings.model, "messages": messages}), None)
            }
            Prompt::Fim { prefix, suffix, .. } => match fim_template(settings) {
                Some(template) => {
                    let prompt = template.render(prefix, suffix);
                    (format!("{base}/completions"), json!({"model": settings.model, "prompt": prompt}), Some(template))
                }
                // No known template: the server's own `suffix` support, and default stops.
                None => {
                    let mut body = json!({"model": settings.model, "prompt": prefix, "suffix": suffix});
                    body["stop"] = json!(stop_list_unknown_family(request).into_iter().take(4).collect::<Vec<_>>());
                    (format!("{base}/completions"), body, None)
                }
            },
            Prompt::Raw(prompt) => (format!("{base}/completions"), json!({"model": settings.model, "prompt": prompt}), None),
        };
        body["stream"] = json!(true);
        body["max_tokens"] = json!(request.max_tokens);
        body["temperature"] = temperature(request.temperature);
        let stop = stop_list(request, template.as_ref());
        if !stop.is_empty() && body.get("stop").is_none() {
            // The API takes at most four stop sequences.
            body["stop"] = json!(stop.into_iter().take(4).collect::<Vec<_>>());
        }
        HttpCall { url, body }
    }

    fn auth_headers(&self, key: Option<&str>) -> Vec<(&'static str, String)> {
        key.map(|k| vec![("authorization", format!("Bearer {k}"))]).unwrap_or_default()
    }

    fn decode(&self, _event: &str, data: &Value) -> Decoded {
        if let Some(error) = data.get("error") {
            let message = error.get("message").and_then(Value::as_str).map_or_else(|| error.to_string(), str::to_string);
            return Decoded::Error(message);
        }
        let Some(choice) = data.get("choices").and_then(|c| c.get(0)) else {
            // llama-server's native `/completion(s)` items (`{"content": ..., "stop": ...}`),
            // which it also serves for a base URL without `/v1`.
            return decode_llamacpp_native(data);
        };
        let text = choice
            .pointer("/delta/content")
            .and_then(Value::as_str)
            .or_else(|| choice.get("text").and_then(Value::as_str));
        if let Some(text) = text.filter(|t| !t.is_empty()) {
            return Decoded::Text(text.to_string());
        }
        match choice.get("finish_reason").and_then(Value::as_str) {
            Some("stop") => Decoded::Done(FinishReason::Stop),
            Some("length") => Decoded::Done(FinishReason::Length),
            Some(other) => Decoded::Done(FinishReason::Other(other.to_string())),
            None => Decoded::Nothing,
        }
    }

    fn models_url(&self, settings: &ModelSettings) -> String {
        format!("{}/models", settings.base_url)
    }

    fn model_names(&self, body: &Value) -> Vec<String> {
        names_at(body, "data", &["id"])
    }
}

// ---- Anthropic ----

struct Anthropic;

pub const ANTHROPIC_VERSION: &str = "2023-06-01";

const FIM_SYSTEM: &str = "You complete code. You are given the code before and after a gap; \
answer with exactly the code that fills the gap, no explanations and no code fences.";

impl LlmProvider for Anthropic {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Anthropic
    }

    fn stream_format(&self) -> StreamFormat {
        StreamFormat::Sse
    }

    fn build(&self, request: &Request, settings: &ModelSettings) -> HttpCall {
        let messages: Vec<Message> = match &request.prompt {
            Prompt::Chat(messages) => messages.clone(),
            Prompt::Fim { prefix, suffix, .. } => vec![
                Message::system(FIM_SYSTEM),
                Message::user(format!("<before>\n{prefix}</before>\n<after>\n{suffix}</after>\nThe code for the gap:")),
            ],
            Prompt::Raw(prompt) => vec![Message::user(prompt.clone())],
        };
        let system: Vec<&str> =
            messages.iter().filter(|m| m.role == Role::System).map(|m| m.content.as_str()).collect();
        let turns: Vec<Value> = messages
            .iter()
            .filter(|m| m.role != Role::System)
            .map(|m| json!({"role": m.role, "content": m.content}))
            .collect();
        let mut body = json!({
            "model": settings.model,
            "max_tokens": request.max_tokens,
            "temperature": temperature(request.temperature),
            "messages": turns,
            "stream": true,
        });
        if !system.is_empty() {
            body["system"] = json!(system.join("\n\n"));
        }
        if !request.stop.is_empty() {
            body["stop_sequences"] = json!(request.stop);
        }
        HttpCall { url: format!("{}/v1/messages", settings.base_url), body }
    }

    fn auth_headers(&self, key: Option<&str>) -> Vec<(&'static str, String)> {
        let mut headers = vec![("anthropic-version", ANTHROPIC_VERSION.to_string())];
        if let Some(key) = key {
            headers.push(("x-api-key", key.to_string()));
        }
        headers
    }

    fn decode(&self, event: &str, data: &Value) -> Decoded {
        let kind = data.get("type").and_then(Value::as_str).unwrap_or(event);
        match kind {
            "content_block_delta" => match data.pointer("/delta/text").and_then(Value::as_str) {
                Some(text) if !text.is_empty() => Decoded::Text(text.to_string()),
                _ => Decoded::Nothing,
            },
            "message_delta" => match data.pointer("/delta/stop_reason").and_then(Value::as_str) {
                Some("end_turn" | "stop_sequence") => Decoded::Done(FinishReason::Stop),
                Some("max_tokens") => Decoded::Done(FinishReason::Length),
                Some(other) => Decoded::Done(FinishReason::Other(other.to_string())),
                None => Decoded::Nothing,
            },
            "error" => Decoded::Error(
                data.pointer("/error/message").and_then(Value::as_str).map_or_else(|| data.to_string(), str::to_string),
            ),
            _ => Decoded::Nothing,
        }
    }

    fn models_url(&self, settings: &ModelSettings) -> String {
        format!("{}/v1/models", settings.base_url)
    }

    fn model_names(&self, body: &Value) -> Vec<String> {
        names_at(body, "data", &["id"])
    }
}

// ---- llama.cpp ----

/// llama.cpp's `llama-server`. Fill-in-the-middle goes to `/infill`, which lays the prompt
/// out with the model's own FIM tokens (and, when the model has them, its repository and
/// file-separator tokens, the retrieved excerpts as files of the repository): no template
/// is guessed from the model's name. Chat goes to the OpenAI-compatible
/// `/v1/chat/completions`, raw prompts to the native `/completion`.
struct LlamaCpp;

impl LlmProvider for LlamaCpp {
    fn kind(&self) -> ProviderKind {
        ProviderKind::LlamaCpp
    }

    fn stream_format(&self) -> StreamFormat {
        StreamFormat::Sse
    }

    fn build(&self, request: &Request, settings: &ModelSettings) -> HttpCall {
        let base = &settings.base_url;
        let (url, mut body) = match &request.prompt {
            Prompt::Chat(messages) => {
                let mut body = json!({"model": settings.model, "messages": messages, "stream": true, "max_tokens": request.max_tokens});
                if !request.stop.is_empty() {
                    body["stop"] = json!(request.stop);
                }
                (format!("{base}/v1/chat/completions"), body)
            }
            Prompt::Fim { prefix, suffix, repo } => {
                let (code_prefix, files) = match repo {
                    Some(repo) => (repo.code_prefix.as_str(), repo.files.as_slice()),
                    None => (prefix.as_str(), &[][..]),
                };
                let extra: Vec<Value> = files.iter().map(|f| json!({"filename": f.filename, "text": f.text})).collect();
                let mut body = json!({
                    "input_prefix": code_prefix,
                    "input_suffix": suffix,
                    "input_extra": extra,
                    "n_predict": request.max_tokens,
                    "stream": true,
                    "cache_prompt": true,
                });
                if !request.stop.is_empty() {
                    body["stop"] = json!(request.stop);
                }
                (format!("{base}/infill"), body)
            }
            Prompt::Raw(prompt) => {
                let mut body = json!({"prompt": prompt, "n_predict": request.max_tokens, "stream": true, "cache_prompt": true});
                if !request.stop.is_empty() {
                    body["stop"] = json!(request.stop);
                }
                (format!("{base}/completion"), body)
            }
        };
        body["temperature"] = temperature(request.temperature);
        HttpCall { url, body }
    }

    fn auth_headers(&self, key: Option<&str>) -> Vec<(&'static str, String)> {
        // llama-server started with `--api-key`.
        key.map(|k| vec![("authorization", format!("Bearer {k}"))]).unwrap_or_default()
    }

    fn decode(&self, event: &str, data: &Value) -> Decoded {
        // Chat chunks are OpenAI's; `/infill` and `/completion` items are native.
        OpenAi.decode(event, data)
    }

    fn models_url(&self, settings: &ModelSettings) -> String {
        format!("{}/v1/models", settings.base_url)
    }

    fn model_names(&self, body: &Value) -> Vec<String> {
        names_at(body, "data", &["id"])
    }
}

/// One item of llama-server's native stream: `{"content": "...", "stop": false}`, the last
/// one with `"stop": true` and its `stop_type` (`eos`, `word`, `limit`).
fn decode_llamacpp_native(data: &Value) -> Decoded {
    let text = data.get("content").and_then(Value::as_str).filter(|t| !t.is_empty()).map(str::to_string);
    if data.get("stop").and_then(Value::as_bool) == Some(true) {
        let reason = match data.get("stop_type").and_then(Value::as_str) {
            Some("limit") => FinishReason::Length,
            Some("eos" | "word") | None => FinishReason::Stop,
            Some(other) => FinishReason::Other(other.to_string()),
        };
        return match text {
            Some(text) => Decoded::Last(text, reason),
            None => Decoded::Done(reason),
        };
    }
    match text {
        Some(text) => Decoded::Text(text),
        None => Decoded::Nothing,
    }
}

fn names_at(body: &Value, list: &str, keys: &[&str]) -> Vec<String> {
    body.get(list)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|item| keys.iter().find_map(|k| item.get(*k).and_then(Value::as_str)).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{LlmConfig, Task};

    fn settings(provider: ProviderKind, model: &str, fim: Option<&str>) -> ModelSettings {
        let mut config = LlmConfig { provider, model: model.to_string(), ..LlmConfig::default() };
        config.fim = fim.map(str::to_string);
        config.for_task(Task::Completion)
    }

    fn fim_request() -> Request {
        Request {
            prompt: Prompt::Fim { prefix: "fn a() {".into(), suffix: "}".into(), repo: None },
            max_tokens: 64,
            temperature: 0.1,
            stop: vec!["\n\n".into()],
        }
    }

    #[test]
    fn ollama_requests() {
        let native = Ollama.build(&fim_request(), &settings(ProviderKind::Ollama, "qwen2.5-coder:1.5b", None));
        assert_eq!(native.url, "http://localhost:11434/api/generate");
        assert_eq!(native.body["suffix"], "}");
        assert_eq!(native.body["prompt"], "fn a() {");
        assert_eq!(native.body["options"]["num_predict"], 64);
        assert_eq!(native.body["options"]["stop"], json!(["\n\n"]));
        let raw = Ollama.build(&fim_request(), &settings(ProviderKind::Ollama, "my-model", Some("qwen")));
        assert_eq!(raw.body["raw"], true);
        assert_eq!(raw.body["prompt"], "<|fim_prefix|>fn a() {<|fim_suffix|>}<|fim_middle|>");
        assert!(raw.body["options"]["stop"].as_array().unwrap().contains(&json!("<|endoftext|>")));
        let chat = Request { prompt: Prompt::Chat(vec![Message::user("hi")]), ..fim_request() };
        let chat = Ollama.build(&chat, &settings(ProviderKind::Ollama, "llama3", None));
        assert_eq!(chat.url, "http://localhost:11434/api/chat");
        assert_eq!(chat.body["messages"], json!([{"role": "user", "content": "hi"}]));
    }

    #[test]
    fn ollama_stream_items() {
        assert_eq!(Ollama.decode("", &json!({"response": "ab", "done": false})), Decoded::Text("ab".into()));
        assert_eq!(Ollama.decode("", &json!({"message": {"content": "c"}, "done": false})), Decoded::Text("c".into()));
        assert_eq!(Ollama.decode("", &json!({"response": "", "done": true, "done_reason": "length"})), Decoded::Done(FinishReason::Length));
        assert_eq!(Ollama.decode("", &json!({"error": "model not found"})), Decoded::Error("model not found".into()));
        assert_eq!(Ollama.model_names(&json!({"models": [{"name": "a:1"}, {"model": "b"}]})), ["a:1", "b"]);
    }

    #[test]
    fn openai_requests_and_stream_items() {
        let s = settings(ProviderKind::OpenAi, "deepseek-coder", None);
        let call = OpenAi.build(&fim_request(), &s);
        assert_eq!(call.url, "https://api.openai.com/v1/completions");
        assert!(call.body["prompt"].as_str().unwrap().starts_with("<｜fim▁begin｜>fn a() {"));
        assert!(call.body["stop"].as_array().unwrap().len() <= 4);
        let unknown = OpenAi.build(&fim_request(), &settings(ProviderKind::OpenAi, "gpt-4o-mini", None));
        assert_eq!(unknown.body["suffix"], "}");
        assert_eq!(OpenAi.decode("", &json!({"choices": [{"delta": {"content": "x"}, "finish_reason": null}]})), Decoded::Text("x".into()));
        assert_eq!(OpenAi.decode("", &json!({"choices": [{"text": "y"}]})), Decoded::Text("y".into()));
        assert_eq!(OpenAi.decode("", &json!({"choices": [{"delta": {}, "finish_reason": "length"}]})), Decoded::Done(FinishReason::Length));
        assert!(OpenAi.auth_headers(None).is_empty(), "local servers need no key");
        assert_eq!(OpenAi.auth_headers(Some("k"))[0].1, "Bearer k");
    }

    #[test]
    fn anthropic_requests_and_stream_items() {
        let chat = Request {
            prompt: Prompt::Chat(vec![Message::system("be brief"), Message::user("hi")]),
            ..fim_request()
        };
        let call = Anthropic.build(&chat, &settings(ProviderKind::Anthropic, "claude-x", None));
        assert_eq!(call.url, "https://api.anthropic.com/v1/messages");
        assert_eq!(call.body["system"], "be brief");
        assert_eq!(call.body["messages"], json!([{"role": "user", "content": "hi"}]));
        assert_eq!(call.body["stop_sequences"], json!(["\n\n"]));
        let headers = Anthropic.auth_headers(Some("k"));
        assert!(headers.contains(&("anthropic-version", ANTHROPIC_VERSION.to_string())));
        assert!(headers.contains(&("x-api-key", "k".to_string())));
        let delta = json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hé"}});
        assert_eq!(Anthropic.decode("content_block_delta", &delta), Decoded::Text("hé".into()));
        let stop = json!({"type": "message_delta", "delta": {"stop_reason": "max_tokens"}});
        assert_eq!(Anthropic.decode("message_delta", &stop), Decoded::Done(FinishReason::Length));
        let error = json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
        assert_eq!(Anthropic.decode("error", &error), Decoded::Error("Overloaded".into()));
        assert_eq!(Anthropic.decode("ping", &json!({"type": "ping"})), Decoded::Nothing);
    }

    #[test]
    fn temperatures_are_sent_as_written() {
        assert_eq!(serde_json::to_string(&temperature(0.2)).unwrap(), "0.2");
        assert_eq!(serde_json::to_string(&temperature(0.0)).unwrap(), "0.0");
        let call = OpenAi.build(&fim_request(), &settings(ProviderKind::OpenAi, "gpt-4o-mini", None));
        assert!(serde_json::to_string(&call.body).unwrap().contains("\"temperature\":0.1"));
    }

    #[test]
    fn an_unknown_family_gets_default_stops_and_no_template() {
        let call = OpenAi.build(&fim_request(), &settings(ProviderKind::OpenAi, "my-model", None));
        assert_eq!(call.body["prompt"], "fn a() {");
        assert_eq!(call.body["stop"], json!(["\n\n", "\n\n\n", "<|endoftext|>", "<|file_sep|>"]));
    }

    #[test]
    fn llamacpp_native_items() {
        assert_eq!(LlamaCpp.decode("", &json!({"content": "ab", "stop": false})), Decoded::Text("ab".into()));
        assert_eq!(LlamaCpp.decode("", &json!({"content": "", "stop": true, "stop_type": "limit"})), Decoded::Done(FinishReason::Length));
        assert_eq!(LlamaCpp.decode("", &json!({"content": "c", "stop": true, "stop_type": "eos"})), Decoded::Last("c".into(), FinishReason::Stop));
        assert_eq!(LlamaCpp.decode("", &json!({"choices": [{"delta": {"content": "x"}}]})), Decoded::Text("x".into()));
        let raw = Request { prompt: Prompt::Raw("p".into()), ..fim_request() };
        let call = LlamaCpp.build(&raw, &settings(ProviderKind::LlamaCpp, "m", None));
        assert_eq!(call.url, "http://127.0.0.1:8080/completion");
        assert_eq!(call.body["n_predict"], 64);
    }
}
