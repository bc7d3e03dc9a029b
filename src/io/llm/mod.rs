//! Talking to language models over HTTP: the providers' wire formats (`providers`) and the
//! client that sends, streams, retries and times out (`client`), and what answers at a base
//! URL (`probe`).

pub mod client;
pub mod embed;
pub mod keys;
pub mod probe;
pub mod providers;

pub use client::{resolve_api_key, Completion, LlmClient, LlmError};
pub use embed::{configured_embedder, resolve_embedding_key, BuiltinEmbedder, Embedder, ProviderEmbedder};
