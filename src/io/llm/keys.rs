//! The one rule for finding a provider's API key, for the chat and completion client, the
//! embedder and `doctor`: the key from the editor's settings, else the variable named by
//! `api_key_env`, else the provider's usual variable (`ProviderFacts::key_env`); empty
//! values count as unset. Keys are never logged; `KeySource` names where one comes from.

use crate::config::{ProviderKind, Secret};

/// Where a key comes from (or would come from).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// The editor's settings (`api_key`).
    Settings,
    /// An environment variable, named by `api_key_env` (`named`) or the provider's usual
    /// one; `set` when it holds a non-empty value.
    Env { var: String, named: bool, set: bool },
    /// The provider needs no key and none is configured.
    NotNeeded,
}

/// A key found by the rule, and where it was looked for.
pub struct ApiKey {
    pub value: Option<String>,
    pub source: KeySource,
}

/// The key for a provider with these settings.
pub fn resolve(provider: ProviderKind, api_key: Option<&Secret>, api_key_env: Option<&str>) -> ApiKey {
    if let Some(key) = api_key.filter(|k| !k.0.is_empty()) {
        return ApiKey { value: Some(key.0.clone()), source: KeySource::Settings };
    }
    let (var, named) = match (api_key_env, provider.facts().key_env) {
        (Some(var), _) => (var, true),
        (None, Some(var)) => (var, false),
        (None, None) => return ApiKey { value: None, source: KeySource::NotNeeded },
    };
    let value = std::env::var(var).ok().filter(|k| !k.is_empty());
    ApiKey { source: KeySource::Env { var: var.to_string(), named, set: value.is_some() }, value }
}

impl KeySource {
    /// What to do when the key is refused or missing.
    pub fn hint(&self) -> String {
        match self {
            KeySource::Settings => "the api_key of the editor's settings".to_string(),
            KeySource::Env { var, named: true, .. } => format!("the variable {var} named by llm.api_key_env"),
            KeySource::Env { var, named: false, .. } => format!("set {var} or llm.api_key_env"),
            KeySource::NotNeeded => "llm.api_key_env".to_string(),
        }
    }

    /// The key's state for `doctor`, without its value.
    pub fn describe(&self) -> String {
        match self {
            KeySource::Settings => "set (editor settings)".to_string(),
            KeySource::Env { var, set, .. } => format!("{} (from ${var})", if *set { "set" } else { "unset" }),
            KeySource::NotNeeded => "not needed".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_then_the_named_variable_then_the_providers_own() {
        let from_settings = resolve(ProviderKind::OpenAi, Some(&Secret("sk-1".into())), Some("CTXLS_TEST_KEYS_UNSET"));
        assert_eq!((from_settings.value.as_deref(), from_settings.source), (Some("sk-1"), KeySource::Settings));
        // An empty key in the settings counts as unset.
        let empty = resolve(ProviderKind::OpenAi, Some(&Secret(String::new())), Some("CTXLS_TEST_KEYS_UNSET"));
        assert_eq!(empty.value, None);
        assert_eq!(empty.source, KeySource::Env { var: "CTXLS_TEST_KEYS_UNSET".into(), named: true, set: false });
        let usual = resolve(ProviderKind::Anthropic, None, None);
        assert!(matches!(usual.source, KeySource::Env { ref var, named: false, .. } if var == "ANTHROPIC_API_KEY"));
        assert_eq!(resolve(ProviderKind::Ollama, None, None).source, KeySource::NotNeeded);
        assert_eq!(resolve(ProviderKind::LlamaCpp, None, None).source.describe(), "not needed");
        assert_eq!(KeySource::Env { var: "K".into(), named: false, set: false }.hint(), "set K or llm.api_key_env");
    }
}
