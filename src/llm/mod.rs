//! What ctxls asks of a language model, independent of any provider: requests (chat
//! messages or a raw fill-in-the-middle prompt), fill-in-the-middle templates for the
//! common code models, and incremental parsers for the two streaming wire formats
//! (server-sent events and newline-delimited JSON). Pure: the HTTP side is `io::llm`.

pub mod fim;
pub mod redact;
pub mod stream;
pub mod tokens;

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

impl Message {
    pub fn system(content: impl Into<String>) -> Message {
        Message { role: Role::System, content: content.into() }
    }

    pub fn user(content: impl Into<String>) -> Message {
        Message { role: Role::User, content: content.into() }
    }
}

/// What to generate.
#[derive(Clone, Debug, PartialEq)]
pub enum Prompt {
    /// A conversation (system messages first).
    Chat(Vec<Message>),
    /// Fill in the middle between `prefix` and `suffix`; the provider may do it natively
    /// (Ollama `suffix`, OpenAI-compatible `/v1/completions` `suffix`) or the prompt is
    /// rendered with a template.
    Fim { prefix: String, suffix: String },
    /// A prompt sent as is, without any template (already rendered).
    Raw(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub prompt: Prompt,
    pub max_tokens: u32,
    pub temperature: f32,
    pub stop: Vec<String>,
}

/// Why a generation ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FinishReason {
    Stop,
    Length,
    Other(String),
}
