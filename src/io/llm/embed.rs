//! Embeddings from a provider (Ollama `/api/embed`, OpenAI-compatible `/v1/embeddings`),
//! behind the `Embedder` seam that the built-in embedder also implements.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::time::{sleep, timeout_at, Instant};

use super::client::{backoff, error_chain, error_message, redact, shared_http};
use super::LlmError;
use crate::config::{EmbeddingSettings, ProviderKind};

pub type EmbedFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<Vec<f32>>, LlmError>> + Send + 'a>>;

/// Turns texts into vectors (one per text, in order, all of one dimension).
pub trait Embedder: Send + Sync {
    /// A stable name for the embedding space (vectors of different spaces never mix).
    fn space(&self) -> String;
    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a>;
}

pub struct ProviderEmbedder {
    settings: EmbeddingSettings,
    api_key: Option<String>,
    http: reqwest::Client,
}

impl ProviderEmbedder {
    pub fn new(settings: EmbeddingSettings, api_key: Option<String>) -> Result<ProviderEmbedder, String> {
        if settings.provider == ProviderKind::Anthropic {
            return Err("Anthropic has no embeddings API: set embedding.provider to \"ollama\" or \"openai\", or leave it unset for the built-in embedder".to_string());
        }
        let http = shared_http(settings.timeout_connect_ms);
        Ok(ProviderEmbedder { settings, api_key, http })
    }

    fn call(&self, texts: &[String]) -> (String, Value) {
        let base = &self.settings.base_url;
        match self.settings.provider {
            ProviderKind::Ollama => (format!("{base}/api/embed"), json!({"model": self.settings.model, "input": texts})),
            // llama-server's OpenAI-compatible route (its base URL is the server's root).
            ProviderKind::LlamaCpp => (format!("{base}/v1/embeddings"), json!({"model": self.settings.model, "input": texts})),
            _ => (format!("{base}/embeddings"), json!({"model": self.settings.model, "input": texts})),
        }
    }

    fn parse(&self, body: &Value, expected: usize) -> Option<Vec<Vec<f32>>> {
        let to_vec = |v: &Value| v.as_array().map(|a| a.iter().filter_map(Value::as_f64).map(|x| x as f32).collect::<Vec<f32>>());
        let vectors: Vec<Vec<f32>> = match self.settings.provider {
            ProviderKind::Ollama => body.get("embeddings")?.as_array()?.iter().filter_map(to_vec).collect(),
            _ => {
                let mut items: Vec<(u64, Vec<f32>)> = body
                    .get("data")?
                    .as_array()?
                    .iter()
                    .filter_map(|item| Some((item.get("index").and_then(Value::as_u64).unwrap_or(0), to_vec(item.get("embedding")?)?)))
                    .collect();
                items.sort_by_key(|(index, _)| *index);
                items.into_iter().map(|(_, v)| v).collect()
            }
        };
        let dimension = vectors.first().map_or(0, Vec::len);
        (vectors.len() == expected && dimension > 0 && vectors.iter().all(|v| v.len() == dimension)).then_some(vectors)
    }

    async fn embed_now(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, LlmError> {
        let provider = self.settings.provider.name();
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let redacted: Vec<String>;
        let texts = if self.settings.redact_secrets {
            // Chunks are cut from files (and to a size): each is a part of a text.
            redacted = texts.iter().map(|t| crate::llm::redact::redact_part(t).0).collect();
            &redacted[..]
        } else {
            texts
        };
        let (url, body) = self.call(texts);
        let deadline = Instant::now() + Duration::from_millis(self.settings.timeout_total_ms);
        let mut attempt = 0;
        loop {
            let mut builder = self.http.post(&url).json(&body);
            if let Some(key) = &self.api_key {
                builder = builder.header("authorization", format!("Bearer {key}"));
            }
            let result = match timeout_at(deadline, builder.send()).await {
                Err(_) => return Err(LlmError::TotalTimeout { provider, ms: self.settings.timeout_total_ms, partial: 0 }),
                Ok(Err(err)) => Err(LlmError::Unreachable {
                    provider,
                    url: url.clone(),
                    reason: error_chain(&err),
                    remedy: "Check embedding.base_url and that the server is running, or unset embedding.provider to use the built-in embedder".to_string(),
                }),
                Ok(Ok(response)) => {
                    let status = response.status().as_u16();
                    let text = timeout_at(deadline, response.text()).await.ok().and_then(Result::ok).unwrap_or_default();
                    if (200..300).contains(&status) {
                        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                        return self.parse(&value, texts.len()).ok_or_else(|| LlmError::Provider {
                            provider,
                            message: format!("the embeddings answer from {url} is malformed"),
                        });
                    }
                    let message = self.redact(&error_message(&text));
                    if status == 401 || status == 403 {
                        return Err(LlmError::Auth { provider, status, message, key_hint: "embedding.api_key_env".to_string() });
                    }
                    Err(LlmError::Status { provider, status, message })
                }
            };
            match result {
                Err(err) if err.retryable() && attempt < self.settings.retries => {
                    let wait = backoff(attempt);
                    if Instant::now() + wait >= deadline {
                        return Err(err);
                    }
                    sleep(wait).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    fn redact(&self, text: &str) -> String {
        redact(text, self.api_key.as_deref())
    }
}

impl Embedder for ProviderEmbedder {
    fn space(&self) -> String {
        format!("{}:{}", self.settings.provider.name(), self.settings.model)
    }

    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a> {
        Box::pin(self.embed_now(texts))
    }
}

/// The key for an embedder, by the one rule of `keys::resolve` (`embedding.api_key`,
/// `embedding.api_key_env`, the provider's usual variable).
pub fn resolve_embedding_key(settings: &EmbeddingSettings) -> Option<String> {
    super::keys::resolve(settings.provider, settings.api_key.as_ref(), settings.api_key_env.as_deref()).value
}

/// The built-in embedder (`retrieve::embed`): no model and no server.
pub struct BuiltinEmbedder;

impl Embedder for BuiltinEmbedder {
    fn space(&self) -> String {
        crate::retrieve::embed::SPACE.to_string()
    }

    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a> {
        use rayon::prelude::*;
        Box::pin(std::future::ready(Ok(texts.par_iter().map(|t| crate::retrieve::embed::embed(t)).collect())))
    }
}

/// The embedder the configuration asks for: a provider's when `[embedding]` names one,
/// else the built-in one.
pub fn configured_embedder(config: &crate::config::Config) -> Result<Box<dyn Embedder>, String> {
    match config.embedding.provider_settings(&config.llm) {
        None => Ok(Box::new(BuiltinEmbedder)),
        Some(settings) => {
            let key = resolve_embedding_key(&settings);
            Ok(Box::new(ProviderEmbedder::new(settings, key)?))
        }
    }
}
