//! Settings, from `.ctxls.toml`, then `initializationOptions`, then
//! `workspace/didChangeConfiguration` (the same structure as JSON). Each layer is applied
//! key by key: a key with an invalid value is reported (`ConfigIssue`) and keeps its
//! previous value, so one mistake never discards the rest. Pure: callers read the files.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub index: IndexConfig,
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
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig { max_file_size: 1024 * 1024, max_line_length: 4000, exclude: Vec::new() }
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
                Ok(_) => current = candidate,
                Err(err) => issues.push(issue(source, &key, clean_serde_message(&err.to_string()))),
            }
        }
        *self = serde_json::from_value(current).expect("validated leaf by leaf");
        issues
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
