//! What answers at a base URL: Ollama (`/api/tags`), an OpenAI-compatible server
//! (`/v1/models`), llama.cpp's `llama-server` (`/props`, and whether `/infill` works with
//! its model), so that `doctor` can say which provider and base URL fit when the
//! configured ones do not. Only GETs and tiny requests (one token), with short timeouts.

use std::time::Duration;

use serde_json::{json, Value};

use super::client::shared_http;
use crate::config::{ModelSettings, ProviderKind};

/// What a server answered.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServerProbe {
    /// The server's root (the base URL without `/v1`, `/api`).
    pub root: String,
    pub ollama: bool,
    /// `/v1/models` answers with a model list.
    pub openai_models: bool,
    /// `/props` answers as llama.cpp's llama-server does: its model's path.
    pub llamacpp_model: Option<String>,
    /// llama.cpp: `/infill` works (the model has FIM tokens); `None` when not asked.
    pub infill: Option<bool>,
}

impl ServerProbe {
    pub fn detected(&self) -> Option<ProviderKind> {
        if self.llamacpp_model.is_some() {
            Some(ProviderKind::LlamaCpp)
        } else if self.ollama {
            Some(ProviderKind::Ollama)
        } else if self.openai_models {
            Some(ProviderKind::OpenAi)
        } else {
            None
        }
    }

    /// The base URL for `provider` on this server.
    pub fn base_url_for(&self, provider: ProviderKind) -> String {
        match provider {
            ProviderKind::OpenAi => format!("{}/v1", self.root),
            _ => self.root.clone(),
        }
    }

    /// The endpoints that answered, for people.
    pub fn endpoints(&self) -> String {
        let yes_no = |b: bool| if b { "answers" } else { "no" };
        let mut out = format!(
            "/api/tags (Ollama) {}, /v1/models (OpenAI-compatible) {}, /props (llama.cpp) {}",
            yes_no(self.ollama),
            yes_no(self.openai_models),
            yes_no(self.llamacpp_model.is_some())
        );
        if let Some(infill) = self.infill {
            out.push_str(if infill { ", /infill works (the model has FIM tokens)" } else { ", /infill refused (the model has no FIM tokens)" });
        }
        out
    }
}

/// The root of a base URL: without a trailing `/`, `/v1` or `/api`.
pub fn server_root(base_url: &str) -> String {
    let url = base_url.trim_end_matches('/');
    let url = url.strip_suffix("/v1").or_else(|| url.strip_suffix("/api")).unwrap_or(url);
    url.to_string()
}

/// Asks the server at `settings.base_url` what it is. Never fails: what does not answer
/// counts as absent.
pub async fn probe(settings: &ModelSettings) -> ServerProbe {
    let http = shared_http(settings.timeout_connect_ms);
    let root = server_root(&settings.base_url);
    let limit = Duration::from_millis(settings.timeout_first_token_ms.clamp(1_000, 5_000));
    let get = |path: &str| {
        let request = http.get(format!("{root}{path}")).timeout(limit);
        async move {
            let response = request.send().await.ok()?;
            if !response.status().is_success() {
                return None;
            }
            response.json::<Value>().await.ok()
        }
    };
    let ollama = get("/api/tags").await.is_some_and(|v| v.get("models").is_some_and(Value::is_array));
    let openai_models = get("/v1/models").await.is_some_and(|v| v.get("data").is_some_and(Value::is_array));
    let llamacpp_model = get("/props").await.and_then(|v| {
        let looks_like_llamacpp = v.get("default_generation_settings").is_some() || v.get("build_info").is_some();
        looks_like_llamacpp.then(|| v.get("model_path").and_then(Value::as_str).unwrap_or("unknown").to_string())
    });
    let infill = match llamacpp_model {
        Some(_) => {
            let body = json!({"input_prefix": "fn main() {", "input_suffix": "}", "n_predict": 1, "stream": false});
            match http.post(format!("{root}/infill")).json(&body).timeout(limit * 6).send().await {
                Ok(response) => Some(response.status().is_success()),
                Err(_) => None,
            }
        }
        None => None,
    };
    ServerProbe { root, ollama, openai_models, llamacpp_model, infill }
}

/// On llama.cpp: whether the model has `token` as one special token (`/tokenize` with
/// `parse_special`); `None` when the server cannot say.
pub async fn has_special_token(settings: &ModelSettings, token: &str) -> Option<bool> {
    let http = shared_http(settings.timeout_connect_ms);
    let root = server_root(&settings.base_url);
    let body = json!({"content": token, "parse_special": true});
    let response = http.post(format!("{root}/tokenize")).json(&body).timeout(Duration::from_secs(5)).send().await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    let value: Value = response.json().await.ok()?;
    Some(value.get("tokens")?.as_array()?.len() == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_and_suggestions() {
        assert_eq!(server_root("http://127.0.0.1:8080/v1/"), "http://127.0.0.1:8080");
        assert_eq!(server_root("http://localhost:11434/api"), "http://localhost:11434");
        let probe = ServerProbe { root: "http://h:1".into(), llamacpp_model: Some("m.gguf".into()), openai_models: true, ..Default::default() };
        assert_eq!(probe.detected(), Some(ProviderKind::LlamaCpp));
        assert_eq!(probe.base_url_for(ProviderKind::OpenAi), "http://h:1/v1");
        assert_eq!(probe.base_url_for(ProviderKind::LlamaCpp), "http://h:1");
        let openai = ServerProbe { root: "http://h:1".into(), openai_models: true, ..Default::default() };
        assert_eq!(openai.detected(), Some(ProviderKind::OpenAi));
        assert_eq!(ServerProbe::default().detected(), None);
    }
}
