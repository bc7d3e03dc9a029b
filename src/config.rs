//! Settings, from `.ctxls.toml`, then `initializationOptions`, then
//! `workspace/didChangeConfiguration` (the same structure as JSON). Each layer is applied
//! key by key: a key with an invalid value is reported (`ConfigIssue`) and keeps its
//! previous value, so one mistake never discards the rest. Pure: callers read the files.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::index::GeneratedFiles;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub index: IndexConfig,
    pub llm: LlmConfig,
    pub embedding: EmbeddingConfig,
    pub completion: CompletionConfig,
    pub hover: HoverConfig,
    pub requirements: RequirementsConfig,
    pub instructions: InstructionsConfig,
    pub documents: DocumentsConfig,
    pub mentions: MentionsConfig,
}

/// `[documents]`: the workspace's Markdown files and API specs (OpenAPI/Swagger JSON or
/// YAML, GraphQL schemas, `.proto` files) as context for generate, implement, explain,
/// answer and chat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DocumentsConfig {
    /// Index and retrieve documents at all.
    pub enabled: bool,
    /// Tokens of the prompt the retrieved sections may take, at most.
    pub max_tokens: usize,
    /// Retrieve sections for inline completions too (off: completions stay fast and code-only).
    pub in_completion: bool,
}

impl Default for DocumentsConfig {
    fn default() -> Self {
        DocumentsConfig { enabled: true, max_tokens: 1024, in_completion: false }
    }
}

/// `[mentions]`: `@path`, `@doc.md#heading`, `@Symbol` in requirements and questions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MentionsConfig {
    /// Tokens of the prompt the mentioned items may take, at most (beyond it they are
    /// summarized to their signatures, then left out).
    pub max_tokens: usize,
}

impl Default for MentionsConfig {
    fn default() -> Self {
        MentionsConfig { max_tokens: 4096 }
    }
}

/// `[instructions]`: project instructions (`.ctxls/instructions.md`, `AGENTS.md`,
/// `.github/copilot-instructions.md`) in chat, explain, generate and implement prompts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InstructionsConfig {
    /// Tokens of the prompt they may take, at most (0: none are sent).
    pub max_tokens: usize,
}

impl Default for InstructionsConfig {
    fn default() -> Self {
        InstructionsConfig { max_tokens: 1024 }
    }
}

/// `[requirements]`: which comments state intent for the model (see `reqs`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RequirementsConfig {
    /// A comment starting with one of these asks for code.
    pub act_prefixes: Vec<String>,
    /// A comment ending with one of these asks for code.
    pub act_suffixes: Vec<String>,
    /// A comment ending with one of these asks a question.
    pub ask_suffixes: Vec<String>,
}

impl Default for RequirementsConfig {
    fn default() -> Self {
        RequirementsConfig { act_prefixes: vec!["AI:".into(), "@ai".into()], act_suffixes: vec!["AI!".into()], ask_suffixes: vec!["AI?".into()] }
    }
}

/// `[completion]`: inline and list completions in the editor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CompletionConfig {
    /// Typing must pause this long before the model is asked.
    pub debounce_ms: u64,
    /// Tokens of workspace context sent with the code around the cursor.
    pub context_tokens: usize,
    /// Offer completions inside comments and strings when they were not asked for.
    pub in_comments: bool,
    /// Offer the model's completion as a `textDocument/completion` item too (editors that
    /// show inline completions can turn it off: one model call per pause, not two).
    pub items: bool,
    /// Put the session's recent edits (unified diffs: the editor's changes in the server,
    /// the working tree's diff against HEAD in the CLI) in completion prompts.
    pub recent_edits: bool,
    /// Tokens the recent edits take at most (and never more than half of
    /// `context_tokens`); retrieval gets the rest.
    pub recent_edits_tokens: usize,
    /// How the context is packed into `context_tokens`: `"compact"` (as many definitions
    /// as fit, each a signature or a type's first lines) or `"whole"` (fewer, whole short
    /// definitions, signatures of long ones, nothing ranked far below the best).
    pub packing: crate::retrieve::Packing,
}

impl Default for CompletionConfig {
    fn default() -> Self {
        CompletionConfig {
            debounce_ms: 150,
            context_tokens: 1024,
            in_comments: false,
            items: true,
            recent_edits: true,
            recent_edits_tokens: 1000,
            packing: crate::retrieve::Packing::Compact,
        }
    }
}

/// `[hover]`: the index's facts at once, then the model's explanation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HoverConfig {
    /// Add the model's short explanation of the symbol.
    pub explain: bool,
    /// Past this, the hover shows the index's facts alone; the explanation keeps coming
    /// and is shown on the next hover.
    pub timeout_ms: u64,
}

impl Default for HoverConfig {
    fn default() -> Self {
        HoverConfig { explain: true, timeout_ms: 4000 }
    }
}

/// Which wire format a provider speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// Ollama's own API (`/api/generate`, `/api/chat`, `/api/embed`).
    #[default]
    Ollama,
    /// Any OpenAI-compatible server (`/v1/chat/completions`, `/v1/completions`, ...):
    /// OpenAI, llama.cpp, vLLM, LM Studio, DeepSeek, OpenRouter, Mistral...
    #[serde(alias = "openai-compatible")]
    OpenAi,
    /// Anthropic's Messages API.
    Anthropic,
    /// llama.cpp's `llama-server`: fill-in-the-middle through `/infill` with the model's own
    /// FIM and repository tokens (the retrieved excerpts as `input_extra`), chat through
    /// `/v1/chat/completions`. `base_url` is the server's root (`http://127.0.0.1:8080`).
    #[serde(rename = "llamacpp", alias = "llama.cpp", alias = "llama-cpp")]
    LlamaCpp,
}

/// What ctxls knows of a provider besides its wire format (`io::llm::providers`): the one
/// table of names, default URLs and key variables, read by the configuration, the client,
/// the embedder and `doctor` alike.
#[derive(Debug)]
pub struct ProviderFacts {
    /// The name in the configuration (`provider = "..."`).
    pub name: &'static str,
    /// The server's name in messages.
    pub server_name: &'static str,
    pub default_base_url: &'static str,
    /// The environment variable that holds the key when `api_key_env` names none (None:
    /// a local server that needs no key).
    pub key_env: Option<&'static str>,
    /// A trailing `/v1` of a configured URL is dropped (the server's root is wanted).
    pub base_url_without_v1: bool,
}

impl ProviderKind {
    /// The provider's entry in the table of provider facts.
    pub const fn facts(self) -> &'static ProviderFacts {
        match self {
            ProviderKind::Ollama => &ProviderFacts {
                name: "ollama",
                server_name: "Ollama",
                default_base_url: "http://localhost:11434",
                key_env: None,
                base_url_without_v1: false,
            },
            ProviderKind::OpenAi => &ProviderFacts {
                name: "openai",
                server_name: "an OpenAI-compatible server",
                default_base_url: "https://api.openai.com/v1",
                key_env: Some("OPENAI_API_KEY"),
                base_url_without_v1: false,
            },
            ProviderKind::Anthropic => &ProviderFacts {
                name: "anthropic",
                server_name: "Anthropic's API",
                default_base_url: "https://api.anthropic.com",
                key_env: Some("ANTHROPIC_API_KEY"),
                base_url_without_v1: false,
            },
            ProviderKind::LlamaCpp => &ProviderFacts {
                name: "llamacpp",
                server_name: "llama.cpp's llama-server",
                default_base_url: "http://127.0.0.1:8080",
                key_env: None,
                base_url_without_v1: true,
            },
        }
    }

    pub fn default_base_url(self) -> &'static str {
        self.facts().default_base_url
    }

    /// The base URL to use: the configured one (else the default) without a trailing `/`;
    /// for llama.cpp the server's root, so a `/v1` copied from an OpenAI-style URL is dropped.
    pub fn normalize_base_url(self, configured: Option<&str>) -> String {
        let url = configured.unwrap_or(self.default_base_url()).trim_end_matches('/');
        if self.facts().base_url_without_v1 {
            url.strip_suffix("/v1").unwrap_or(url).to_string()
        } else {
            url.to_string()
        }
    }

    pub fn name(self) -> &'static str {
        self.facts().name
    }
}

/// A secret (an API key from the editor's settings). Its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// `[llm]`: the model for completions and chat. Per-task overrides in `[llm.completion]`
/// and `[llm.chat]` (a small fast model for completion, a larger one for chat).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmConfig {
    pub provider: ProviderKind,
    /// Default: the provider's (`http://localhost:11434` for Ollama).
    pub base_url: Option<String>,
    pub model: String,
    /// The environment variable holding the API key (local servers need none).
    pub api_key_env: Option<String>,
    /// The key itself, from editor settings; never logged.
    pub api_key: Option<Secret>,
    /// FIM template: a built-in name (qwen, deepseek, starcoder2, codellama, codestral) or
    /// a custom pattern with `{prefix}` and `{suffix}`; default: from the model name.
    pub fim: Option<String>,
    /// Stop sequences for a custom FIM template.
    pub fim_stop: Vec<String>,
    pub timeout_connect_ms: u64,
    pub timeout_first_token_ms: u64,
    pub timeout_total_ms: u64,
    pub max_tokens: u32,
    pub temperature: f32,
    /// Requests in flight per provider at most; more wait their turn.
    pub max_in_flight: u32,
    /// Retries on connection errors, 429 and 5xx (never after the first token).
    pub retries: u32,
    /// Replace secrets (private keys, provider keys and tokens, quoted values of
    /// secret-named settings) in everything sent to a model or an embedder.
    pub redact_secrets: bool,
    pub completion: TaskOverride,
    pub chat: TaskOverride,
}

impl Default for LlmConfig {
    fn default() -> Self {
        LlmConfig {
            provider: ProviderKind::Ollama,
            base_url: None,
            model: "qwen2.5-coder:1.5b".to_string(),
            api_key_env: None,
            api_key: None,
            fim: None,
            fim_stop: Vec::new(),
            timeout_connect_ms: 2_000,
            timeout_first_token_ms: 10_000,
            timeout_total_ms: 60_000,
            max_tokens: 256,
            temperature: 0.2,
            max_in_flight: 4,
            retries: 2,
            redact_secrets: true,
            completion: TaskOverride::default(),
            chat: TaskOverride::default(),
        }
    }
}

/// Settings of one task that differ from `[llm]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TaskOverride {
    pub provider: Option<ProviderKind>,
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub api_key_env: Option<String>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
    pub fim: Option<String>,
}

/// `[embedding]`: provider embeddings for the vector index (the built-in embedder needs
/// no configuration).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmbeddingConfig {
    /// `None`: the built-in embedder.
    pub provider: Option<ProviderKind>,
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub api_key_env: Option<String>,
    pub api_key: Option<Secret>,
}

/// `[embedding]` resolved for a provider embedder.
#[derive(Clone, Debug, PartialEq)]
pub struct EmbeddingSettings {
    pub provider: ProviderKind,
    pub base_url: String,
    pub model: String,
    pub api_key_env: Option<String>,
    pub api_key: Option<Secret>,
    pub timeout_connect_ms: u64,
    pub timeout_total_ms: u64,
    pub retries: u32,
    pub redact_secrets: bool,
}

impl EmbeddingConfig {
    /// Settings for a provider embedder, or `None` for the built-in one. Timeouts and
    /// retries follow `[llm]`.
    pub fn provider_settings(&self, llm: &LlmConfig) -> Option<EmbeddingSettings> {
        let provider = self.provider?;
        let default_model = match provider {
            ProviderKind::Ollama => "nomic-embed-text",
            ProviderKind::OpenAi => "text-embedding-3-small",
            ProviderKind::Anthropic | ProviderKind::LlamaCpp => "",
        };
        Some(EmbeddingSettings {
            provider,
            base_url: provider.normalize_base_url(self.base_url.as_deref()),
            model: self.model.clone().unwrap_or_else(|| default_model.to_string()),
            api_key_env: self.api_key_env.clone(),
            api_key: self.api_key.clone(),
            timeout_connect_ms: llm.timeout_connect_ms,
            timeout_total_ms: llm.timeout_total_ms,
            retries: llm.retries,
            redact_secrets: llm.redact_secrets,
        })
    }
}

/// The task an LLM call serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    Completion,
    Chat,
}

/// `[llm]` with a task's overrides applied.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelSettings {
    pub provider: ProviderKind,
    pub base_url: String,
    pub model: String,
    pub api_key_env: Option<String>,
    pub api_key: Option<Secret>,
    pub fim: Option<String>,
    pub fim_stop: Vec<String>,
    pub max_tokens: u32,
    pub temperature: f32,
    pub timeout_connect_ms: u64,
    pub timeout_first_token_ms: u64,
    pub timeout_total_ms: u64,
    pub max_in_flight: u32,
    pub retries: u32,
    pub redact_secrets: bool,
}

impl LlmConfig {
    pub fn for_task(&self, task: Task) -> ModelSettings {
        let o = match task {
            Task::Completion => &self.completion,
            Task::Chat => &self.chat,
        };
        let provider = o.provider.unwrap_or(self.provider);
        // A task on another provider does not inherit the main base URL.
        let base_url = o.base_url.clone().or_else(|| {
            if provider == self.provider { self.base_url.clone() } else { None }
        });
        ModelSettings {
            provider,
            base_url: provider.normalize_base_url(base_url.as_deref()),
            model: o.model.clone().unwrap_or_else(|| self.model.clone()),
            api_key_env: o.api_key_env.clone().or_else(|| self.api_key_env.clone()),
            api_key: self.api_key.clone(),
            fim: o.fim.clone().or_else(|| self.fim.clone()),
            fim_stop: self.fim_stop.clone(),
            max_tokens: o.max_tokens.unwrap_or(self.max_tokens),
            temperature: o.temperature.unwrap_or(self.temperature),
            timeout_connect_ms: self.timeout_connect_ms,
            timeout_first_token_ms: self.timeout_first_token_ms,
            timeout_total_ms: self.timeout_total_ms,
            max_in_flight: self.max_in_flight.max(1),
            retries: self.retries,
            redact_secrets: self.redact_secrets,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndexConfig {
    /// Files larger than this many bytes are skipped.
    pub max_file_size: u64,
    /// Files with a line longer than this many bytes are taken as minified or generated
    /// and skipped.
    pub max_line_length: u64,
    /// Extra gitignore-style patterns to leave out, on top of `.gitignore`, `.ignore` and
    /// `.ctxlsignore`.
    pub exclude: Vec<String>,
    /// How generated declaration files (`index::is_generated`) are indexed: `"symbols"`
    /// (their definitions only) or `"full"` (like any other file).
    pub generated_files: GeneratedFiles,
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig { max_file_size: 1024 * 1024, max_line_length: 4000, exclude: Vec::new(), generated_files: GeneratedFiles::Symbols }
    }
}

/// A setting that could not be applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigIssue {
    /// Where it came from (`.ctxls.toml`, `initializationOptions`, ...).
    pub source: String,
    /// The dotted key (`index.max_file_size`), or empty for the whole document.
    pub key: String,
    pub message: String,
}

impl std::fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.source, self.message)
        } else {
            write!(f, "{}: `{}`: {}", self.source, self.key, self.message)
        }
    }
}

impl Config {
    /// Applies a TOML document on top of the current settings.
    pub fn apply_toml(&mut self, source: &str, text: &str) -> Vec<ConfigIssue> {
        match toml::from_str::<toml::Value>(text) {
            Ok(value) => match serde_json::to_value(value) {
                Ok(json) => self.apply_json(source, &json),
                Err(err) => vec![issue(source, "", err.to_string())],
            },
            Err(err) => vec![issue(source, "", format!("not valid TOML: {}", err.message()))],
        }
    }

    /// Applies a JSON object on top of the current settings, leaf by leaf.
    pub fn apply_json(&mut self, source: &str, layer: &Value) -> Vec<ConfigIssue> {
        let mut issues = Vec::new();
        match layer {
            Value::Null => return issues,
            Value::Object(_) => {}
            _ => return vec![issue(source, "", "expected a table of settings".to_string())],
        }
        let mut leaves = Vec::new();
        collect_leaves(layer, String::new(), &mut leaves);
        let mut current = serde_json::to_value(&*self).expect("Config serializes");
        for (key, value) in leaves {
            let mut candidate = current.clone();
            if let Err(message) = set_path(&mut candidate, &key, value.clone()) {
                issues.push(issue(source, &key, message));
                continue;
            }
            match serde_json::from_value::<Config>(candidate.clone()) {
                Ok(_) => match unusable_value(&key, &value) {
                    Some(message) => issues.push(issue(source, &key, message)),
                    None => current = candidate,
                },
                // Never echo what was given for a key: it may be the secret itself.
                Err(_) if key.ends_with("api_key") => {
                    issues.push(issue(source, &key, "expected a string (the value is not shown)".to_string()))
                }
                Err(err) => issues.push(issue(source, &key, clean_serde_message(&err.to_string()))),
            }
        }
        *self = serde_json::from_value(current).expect("validated leaf by leaf");
        issues
    }
}

/// Why a value of the right type still cannot be used, if it cannot.
fn unusable_value(key: &str, value: &Value) -> Option<String> {
    match (key.rsplit('.').next(), value.as_str()) {
        (Some("fim"), Some(spec)) => crate::llm::fim::FimTemplate::check_spec(spec).err(),
        _ => None,
    }
}

fn issue(source: &str, key: &str, message: String) -> ConfigIssue {
    ConfigIssue { source: source.to_string(), key: key.to_string(), message }
}

fn clean_serde_message(message: &str) -> String {
    // serde_json appends " at line 1 column N", meaningless for a merged value.
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Leaves are non-object values (arrays count as leaves), keyed by dotted path.
fn collect_leaves(value: &Value, prefix: String, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) if !map.is_empty() || prefix.is_empty() => {
            for (key, child) in map {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                collect_leaves(child, path, out);
            }
        }
        other => out.push((prefix, other.clone())),
    }
}

fn set_path(root: &mut Value, dotted: &str, value: Value) -> Result<(), String> {
    let mut node = root;
    let parts: Vec<&str> = dotted.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let Value::Object(map) = node else {
            return Err(format!("`{}` is not a table", parts[..i].join(".")));
        };
        if !map.contains_key(*part) {
            return Err("unknown setting".to_string());
        }
        if i + 1 == parts.len() {
            map.insert(part.to_string(), value);
            return Ok(());
        }
        node = map.get_mut(*part).expect("checked above");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_fim_template_is_reported_and_not_taken() {
        let mut config = Config::default();
        let issues = config.apply_toml(".ctxls.toml", "[llm]\nfim = \"qwn\"\nmodel = \"m\"\n");
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(issues[0].key, "llm.fim");
        assert!(issues[0].message.contains("unknown FIM template `qwn`"), "{}", issues[0].message);
        assert_eq!(config.llm.fim, None);
        assert_eq!(config.llm.model, "m", "the other keys are taken");
        assert!(config.apply_toml(".ctxls.toml", "[llm]\nfim = \"none\"\n").is_empty());
        assert_eq!(config.llm.fim.as_deref(), Some("none"));
    }

    #[test]
    fn layers_apply_key_by_key() {
        let mut config = Config::default();
        let issues = config.apply_toml(
            ".ctxls.toml",
            "[index]\nmax_file_size = \"big\"\nmax_line_length = 100\nexclude = [\"gen/**\"]\nunknown = 1\n",
        );
        assert_eq!(config.index.max_file_size, IndexConfig::default().max_file_size);
        assert_eq!(config.index.max_line_length, 100);
        assert_eq!(config.index.exclude, vec!["gen/**".to_string()]);
        let keys: Vec<&str> = issues.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, vec!["index.max_file_size", "index.unknown"]);
        assert!(issues[0].message.contains("invalid type"), "{}", issues[0].message);

        let issues = config.apply_json("initializationOptions", &serde_json::json!({"index": {"max_file_size": 10}}));
        assert!(issues.is_empty());
        assert_eq!(config.index.max_file_size, 10);
        assert_eq!(config.index.max_line_length, 100, "earlier layers survive");
    }

    /// `[index] generated_files`: "symbols" (the default) or "full"; anything else is
    /// reported with the values it can take, and the previous value stays.
    #[test]
    fn generated_files_is_symbols_or_full() {
        let mut config = Config::default();
        assert_eq!(config.index.generated_files, GeneratedFiles::Symbols);
        let issues = config.apply_toml(".ctxls.toml", "[index]\ngenerated_files = \"all\"\nmax_line_length = 100\n");
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(issues[0].to_string(), ".ctxls.toml: `index.generated_files`: unknown variant `all`, expected `symbols` or `full`");
        assert_eq!(config.index.generated_files, GeneratedFiles::Symbols);
        assert_eq!(config.index.max_line_length, 100, "the other keys are taken");
        assert!(config.apply_toml(".ctxls.toml", "[index]\ngenerated_files = \"full\"\n").is_empty());
        assert_eq!(config.index.generated_files, GeneratedFiles::Full);
        let issues = config.apply_json("workspace/didChangeConfiguration", &serde_json::json!({"index": {"generated_files": true}}));
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert!(issues[0].message.contains("expected `symbols` or `full`") || issues[0].message.contains("invalid type"), "{}", issues[0].message);
        assert_eq!(config.index.generated_files, GeneratedFiles::Full, "the previous value stays");
        let issues = config.apply_json("x", &serde_json::json!({"index": {"generated_files": "symbols"}}));
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(config.index.generated_files, GeneratedFiles::Symbols);
    }

    /// `[completion] packing`: "compact" (the default) or "whole"; anything else is
    /// reported with the values it can take, and the previous value stays.
    #[test]
    fn completion_packing_is_compact_or_whole() {
        let mut config = Config::default();
        assert_eq!(config.completion.packing, crate::retrieve::Packing::Compact);
        assert!(config.apply_toml(".ctxls.toml", "[completion]\npacking = \"whole\"\n").is_empty());
        assert_eq!(config.completion.packing, crate::retrieve::Packing::Whole);
        let issues = config.apply_toml(".ctxls.toml", "[completion]\npacking = \"fragments\"\ncontext_tokens = 512\n");
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(issues[0].to_string(), ".ctxls.toml: `completion.packing`: unknown variant `fragments`, expected `compact` or `whole`");
        assert_eq!(config.completion.packing, crate::retrieve::Packing::Whole, "the previous value stays");
        assert_eq!(config.completion.context_tokens, 512, "the other keys are taken");
    }

    #[test]
    fn llm_settings_per_task() {
        let mut config = Config::default();
        let issues = config.apply_toml(
            ".ctxls.toml",
            "[llm]\nprovider = \"openai\"\nbase_url = \"http://127.0.0.1:8080/v1/\"\nmodel = \"big\"\n\
             [llm.completion]\nprovider = \"ollama\"\nmodel = \"qwen2.5-coder:1.5b\"\n\
             [llm.chat]\nmax_tokens = 2048\n",
        );
        assert!(issues.is_empty(), "{issues:?}");
        let chat = config.llm.for_task(Task::Chat);
        assert_eq!((chat.provider, chat.base_url.as_str(), chat.model.as_str(), chat.max_tokens), (ProviderKind::OpenAi, "http://127.0.0.1:8080/v1", "big", 2048));
        let completion = config.llm.for_task(Task::Completion);
        assert_eq!(completion.provider, ProviderKind::Ollama);
        assert_eq!(completion.base_url, "http://localhost:11434", "another provider keeps its own default");
        let issues = config.apply_json("x", &serde_json::json!({"llm": {"provider": "gemini", "temperature": "hot"}}));
        let keys: Vec<&str> = issues.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["llm.provider", "llm.temperature"]);
    }

    #[test]
    fn api_keys_never_show_in_debug_output() {
        let mut config = Config::default();
        config.apply_json("x", &serde_json::json!({"llm": {"api_key": "sk-secret-123"}}));
        assert_eq!(config.llm.api_key.as_ref().unwrap().0, "sk-secret-123");
        assert!(!format!("{config:?}").contains("sk-secret"));
        let issues = config.apply_json("x", &serde_json::json!({"llm": {"api_key": ["sk-array-secret"]}}));
        assert_eq!(issues.len(), 1);
        assert!(!issues[0].to_string().contains("sk-array"), "{}", issues[0]);
    }

    #[test]
    fn broken_documents_are_reported() {
        let mut config = Config::default();
        let issues = config.apply_toml(".ctxls.toml", "[index\n");
        assert_eq!(issues.len(), 1);
        assert!(issues[0].to_string().starts_with(".ctxls.toml: not valid TOML"));
        let issues = config.apply_json("x", &serde_json::json!(3));
        assert_eq!(issues.len(), 1);
        assert_eq!(config, Config::default());
    }
}
