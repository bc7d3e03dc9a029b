//! `ctxls doctor`: the effective LLM configuration (keys shown as set or unset, never
//! their value), and whether each endpoint answers and has the model.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::config::{ModelSettings, Task};
use crate::io::llm::client::default_key_env;
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
        match runtime.block_on(client.list_models()) {
            Ok(models) => {
                println!("  endpoint: answers ({} models)", models.len());
                if models.iter().any(|m| model_matches(m, &settings.model)) {
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

fn describe(label: &str, settings: &ModelSettings) {
    println!("{label}:");
    println!("  provider: {}", settings.provider.name());
    println!("  base_url: {}", settings.base_url);
    println!("  model: {}", settings.model);
    let key_state = match (&settings.api_key, &settings.api_key_env, default_key_env(settings)) {
        (Some(_), _, _) => "set (editor settings)".to_string(),
        (None, Some(var), _) => format!("{} (from ${var})", if std::env::var(var).is_ok_and(|v| !v.is_empty()) { "set" } else { "unset" }),
        (None, None, Some(var)) => format!("{} (from ${var})", if std::env::var(var).is_ok_and(|v| !v.is_empty()) { "set" } else { "unset" }),
        (None, None, None) => "not needed".to_string(),
    };
    println!("  api key: {key_state}");
    let fim = fim_template(settings).map_or_else(|| "none (provider's own)".to_string(), |t| t.name);
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
