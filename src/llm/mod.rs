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
    /// rendered with a template. `repo`: the same prompt in parts, for servers that lay it
    /// out themselves with the model's own repository-level tokens (llama.cpp `/infill`).
    Fim { prefix: String, suffix: String, repo: Option<FimRepo> },
    /// A prompt sent as is, without any template (already rendered).
    Raw(String),
}

/// A fill-in-the-middle prompt's parts: the retrieved excerpts as files of their own and
/// the code before the cursor alone (`Prompt::Fim`'s `prefix` holds both, the excerpts as
/// comments).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FimRepo {
    /// The excerpts, the least relevant first (the best sits nearest the code).
    pub files: Vec<FimFile>,
    /// The code before the cursor, without the excerpts.
    pub code_prefix: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FimFile {
    /// The path, and the excerpt's lines (`src/map.rs (lines 2-3)`).
    pub filename: String,
    pub text: String,
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
