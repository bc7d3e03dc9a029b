//! `ctxls doctor`: the effective LLM configuration (keys shown as set or unset, never
//! their value), whether each endpoint answers and has the model, which kind of server
//! answers at the base URL (Ollama, OpenAI-compatible, llama.cpp) and, when the
//! configured provider or base URL does not fit it, a `fix:` line saying what does.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::config::{ModelSettings, Task};
use crate::io::llm::{resolve_api_key, LlmClient, LlmError};
use crate::io::llm::providers::fim_template;

#[derive(Args, Debug)]
pub struct DoctorArgs {
    /// Workspace root whose `.ctxls.toml` to read (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

pub fn run(args: DoctorArgs, _cache_dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let root = super::resolve_root(args.root.as_deref())?;
    let config = super::load_config(&root);
    println!("workspace: {}", root.display());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut healthy = true;
    let mut checked: Vec<(String, String)> = Vec::new();
    for (task, label) in [(Task::Completion, "completion"), (Task::Chat, "chat")] {
        let settings = config.llm.for_task(task);
        describe(label, &settings);
        let key = (settings.provider.name().to_string(), settings.base_url.clone());
        let already = checked.contains(&key);
        let client = LlmClient::new(settings.clone(), resolve_api_key(&settings));
        let listed = runtime.block_on(client.list_models());
        // Which server answers, when the endpoint failed or the provider's settings depend
        // on it (OpenAI-compatible servers, llama.cpp).
        let probe_server = listed.is_err() || settings.provider != crate::config::ProviderKind::Ollama;
        match listed {
            Ok(models) => {
                println!("  endpoint: answers ({} models)", models.len());
                if settings.provider == crate::config::ProviderKind::LlamaCpp {
                    // llama-server serves the one model it was started with, whatever the name.
                    println!("  model: the server's own ({})", models.first().map_or("unnamed", String::as_str));
                } else if models.iter().any(|m| model_matches(m, &settings.model)) {
                    println!("  model: {} is available", settings.model);
                } else {
                    healthy = false;
                    println!("  model: {} is NOT available at {}", settings.model, settings.base_url);
                    println!("  remedy: {}", missing_model_remedy(&settings, &models));
                }
            }
            Err(err) => {
                healthy = false;
                if !already {
                    println!("  endpoint: FAILED: {err}");
                    if let LlmError::Auth { .. } = err {
                        println!("  remedy: set the key in the environment variable named by llm.api_key_env");
                    }
                } else {
                    println!("  endpoint: FAILED (see above)");
                }
            }
        }
        if !already && probe_server {
            healthy &= check_server(&runtime, &settings);
        }
        checked.push(key);
    }
    if healthy {
        println!("All checks passed.");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("Some checks failed: LLM features will not work until they pass; the index features work regardless.");
        Ok(ExitCode::FAILURE)
    }
}

/// Which server answers at the base URL, and a `fix:` line when the provider or base URL
/// does not fit it. False when the configuration cannot work as it is.
fn check_server(runtime: &tokio::runtime::Runtime, settings: &ModelSettings) -> bool {
    use crate::config::ProviderKind;
    use crate::io::llm::probe;
    let found = runtime.block_on(probe::probe(settings));
    println!("  server: {}", found.endpoints());
    let Some(detected) = found.detected() else {
        return true; // Nothing recognised (a cloud API, or down): the endpoint check says.
    };
    if let Some(model) = &found.llamacpp_model {
        println!("  server: llama.cpp's llama-server, model {model}");
    }
    let mut ok = true;
    let configured = settings.provider;
    let fits = match (configured, detected) {
        (ProviderKind::Ollama, ProviderKind::Ollama) | (ProviderKind::LlamaCpp, ProviderKind::LlamaCpp) => true,
        // llama-server speaks OpenAI's API too.
        (ProviderKind::OpenAi, ProviderKind::OpenAi | ProviderKind::LlamaCpp) => true,
        _ => false,
    };
    if !fits {
        ok = false;
        println!(
            "  fix: the server is {}: set provider = \"{}\" and base_url = \"{}\" in [llm] of .ctxls.toml",
            server_name(detected),
            detected.name(),
            found.base_url_for(detected)
        );
    } else if configured == ProviderKind::OpenAi && detected == ProviderKind::LlamaCpp {
        println!(
            "  hint: for llama.cpp, provider = \"llamacpp\" with base_url = \"{}\" fills in the middle through /infill with the model's own FIM tokens and the retrieved code as repository files",
            found.root
        );
        if !settings.base_url.ends_with("/v1") {
            println!("  hint: OpenAI-compatible base URLs end in /v1: base_url = \"{}/v1\"", found.root);
        }
        // The FIM template chosen from the model's name must be the model's own tokens.
        if let Some(template) = crate::io::llm::providers::fim_template(settings) {
            let sentinel = template.sentinel();
            if !sentinel.is_empty() && runtime.block_on(probe::has_special_token(settings, sentinel)) == Some(false) {
                ok = false;
                println!(
                    "  fix: the model has no {sentinel} token, so the {} FIM template (chosen from the model's name) would reach it as text: use provider = \"llamacpp\" (the model's own tokens) or set llm.fim to the model's template",
                    template.name
                );
            }
        }
    }
    if configured == ProviderKind::LlamaCpp && found.infill == Some(false) {
        ok = false;
        println!("  fix: the server's model has no FIM tokens, so completions (/infill) fail: load a code model with FIM tokens (Qwen2.5-Coder, say); chat works");
    }
    ok
}

fn server_name(kind: crate::config::ProviderKind) -> &'static str {
    kind.facts().server_name
}

fn describe(label: &str, settings: &ModelSettings) {
    println!("{label}:");
    println!("  provider: {}", settings.provider.name());
    println!("  base_url: {}", settings.base_url);
    println!("  model: {}", settings.model);
    let key_state = crate::io::llm::keys::resolve(settings.provider, settings.api_key.as_ref(), settings.api_key_env.as_deref()).source.describe();
    println!("  api key: {key_state}");
    let fim = if settings.provider == crate::config::ProviderKind::LlamaCpp {
        "the model's own (llama.cpp /infill)".to_string()
    } else {
        fim_template(settings).map_or_else(|| "none (provider's own)".to_string(), |t| t.name)
    };
    println!("  fim template: {fim}");
    println!("  tokenizer for budgets: {}", crate::llm::tokens::TokenCounter::for_model(&settings.model).name());
    println!(
        "  timeouts: connect {} ms, first token {} ms, total {} ms; max_tokens {}, temperature {}",
        settings.timeout_connect_ms, settings.timeout_first_token_ms, settings.timeout_total_ms, settings.max_tokens, settings.temperature
    );
}

/// Ollama lists `name:tag`; a configured name without a tag means `:latest`.
fn model_matches(listed: &str, wanted: &str) -> bool {
    listed == wanted || (!wanted.contains(':') && listed == format!("{wanted}:latest"))
}

fn missing_model_remedy(settings: &ModelSettings, models: &[String]) -> String {
    let available = if models.is_empty() { "none".to_string() } else { models.iter().take(8).cloned().collect::<Vec<_>>().join(", ") };
    match settings.provider {
        crate::config::ProviderKind::Ollama => format!("run `ollama pull {}` (available: {available})", settings.model),
        _ => format!("set llm.model to one the server offers (available: {available})"),
    }
}
