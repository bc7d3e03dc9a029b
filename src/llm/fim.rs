//! Fill-in-the-middle prompt templates. Code models are trained with their own sentinel
//! tokens; sending the wrong ones gives nonsense, so the template follows the model
//! family (detected from the model name, or named in the configuration), and a custom
//! template can be written with `{prefix}` and `{suffix}` placeholders.

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FimTemplate {
    pub name: String,
    /// The prompt with `{prefix}` and `{suffix}` placeholders.
    pub pattern: String,
    /// Sequences that end the middle (the model's end-of-middle tokens).
    pub stop: Vec<String>,
}

struct BuiltIn {
    name: &'static str,
    /// Model name fragments that select this template (lower case).
    models: &'static [&'static str],
    pattern: &'static str,
    stop: &'static [&'static str],
}

const BUILT_INS: &[BuiltIn] = &[
    BuiltIn {
        name: "qwen",
        models: &["qwen"],
        pattern: "<|fim_prefix|>{prefix}<|fim_suffix|>{suffix}<|fim_middle|>",
        stop: &["<|endoftext|>", "<|fim_pad|>", "<|file_sep|>", "<|im_end|>"],
    },
    BuiltIn {
        name: "deepseek",
        models: &["deepseek"],
        pattern: "<｜fim▁begin｜>{prefix}<｜fim▁hole｜>{suffix}<｜fim▁end｜>",
        stop: &["<｜end▁of▁sentence｜>", "<｜EOT｜>"],
    },
    BuiltIn {
        name: "starcoder2",
        models: &["starcoder", "santacoder"],
        pattern: "<fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>",
        stop: &["<|endoftext|>", "<file_sep>"],
    },
    BuiltIn {
        name: "codellama",
        models: &["codellama", "code-llama"],
        pattern: "<PRE> {prefix} <SUF>{suffix} <MID>",
        stop: &["<EOT>"],
    },
    BuiltIn {
        name: "codestral",
        models: &["codestral", "mistral"],
        pattern: "[SUFFIX]{suffix}[PREFIX]{prefix}",
        stop: &["</s>"],
    },
];

/// The `fim` setting that sends no template: the prefix as the prompt and the suffix in
/// the server's own `suffix` field, as for a model family ctxls does not know.
pub const NO_TEMPLATE: &str = "none";

impl FimTemplate {
    pub fn built_in_names() -> Vec<&'static str> {
        BUILT_INS.iter().map(|b| b.name).collect()
    }

    /// Whether `spec` is a value the `fim` setting can take: a built-in name, `none`, or a
    /// custom pattern with both placeholders.
    pub fn check_spec(spec: &str) -> Result<(), String> {
        if spec.contains('{') {
            return FimTemplate::custom(spec, Vec::new()).map(|_| ());
        }
        if spec == NO_TEMPLATE || FimTemplate::named(spec).is_some() {
            return Ok(());
        }
        Err(format!(
            "unknown FIM template `{spec}`: one of {}, `{NO_TEMPLATE}`, or a pattern with {{prefix}} and {{suffix}}",
            FimTemplate::built_in_names().join(", ")
        ))
    }

    /// A built-in template by name.
    pub fn named(name: &str) -> Option<FimTemplate> {
        BUILT_INS.iter().find(|b| b.name == name).map(to_template)
    }

    /// The template for a model, from its name (`qwen2.5-coder:1.5b` -> qwen).
    pub fn for_model(model: &str) -> Option<FimTemplate> {
        let model = model.to_lowercase();
        BUILT_INS.iter().find(|b| b.models.iter().any(|m| model.contains(m))).map(to_template)
    }

    /// A user's template; it must hold both placeholders.
    pub fn custom(pattern: &str, stop: Vec<String>) -> Result<FimTemplate, String> {
        for placeholder in ["{prefix}", "{suffix}"] {
            if !pattern.contains(placeholder) {
                return Err(format!("a custom FIM template needs {placeholder}"));
            }
        }
        Ok(FimTemplate { name: "custom".to_string(), pattern: pattern.to_string(), stop })
    }

    /// The sentinel the pattern opens with (`<|fim_prefix|>`), empty when it opens with a
    /// placeholder: the token a model must have for the template to be its own.
    pub fn sentinel(&self) -> &str {
        self.pattern.split('{').next().unwrap_or("").trim()
    }

    pub fn render(&self, prefix: &str, suffix: &str) -> String {
        // One pass, so that a placeholder inside the code is never substituted.
        let mut out = String::with_capacity(self.pattern.len() + prefix.len() + suffix.len());
        let mut rest = self.pattern.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let tail = &rest[open..];
            if let Some(after) = tail.strip_prefix("{prefix}") {
                out.push_str(prefix);
                rest = after;
            } else if let Some(after) = tail.strip_prefix("{suffix}") {
                out.push_str(suffix);
                rest = after;
            } else {
                out.push('{');
                rest = &tail[1..];
            }
        }
        out.push_str(rest);
        out
    }
}

fn to_template(b: &BuiltIn) -> FimTemplate {
    FimTemplate {
        name: b.name.to_string(),
        pattern: b.pattern.to_string(),
        stop: b.stop.iter().map(|s| s.to_string()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_follow_the_model_family() {
        assert!(FimTemplate::check_spec("qwen").is_ok());
        assert!(FimTemplate::check_spec(NO_TEMPLATE).is_ok());
        assert!(FimTemplate::check_spec("<a>{prefix}<b>{suffix}").is_ok());
        let unknown = FimTemplate::check_spec("qwn").unwrap_err();
        assert!(unknown.contains("`qwn`") && unknown.contains("starcoder2") && unknown.contains("`none`"), "{unknown}");
        assert!(FimTemplate::check_spec("<a>{prefix}").unwrap_err().contains("{suffix}"));
        let qwen = FimTemplate::for_model("qwen2.5-coder:1.5b").unwrap();
        assert_eq!(qwen.render("fn a() {", "}"), "<|fim_prefix|>fn a() {<|fim_suffix|>}<|fim_middle|>");
        assert_eq!(FimTemplate::for_model("deepseek-coder-v2").unwrap().name, "deepseek");
        assert_eq!(FimTemplate::for_model("bigcode/starcoder2-3b").unwrap().name, "starcoder2");
        assert_eq!(FimTemplate::for_model("codellama:7b-code").unwrap().render("a", "b"), "<PRE> a <SUF>b <MID>");
        assert_eq!(FimTemplate::for_model("codestral-latest").unwrap().render("a", "b"), "[SUFFIX]b[PREFIX]a");
        assert_eq!(FimTemplate::for_model("gpt-4o"), None);
        assert_eq!(FimTemplate::built_in_names().len(), 5);
    }

    #[test]
    fn placeholders_in_code_are_left_alone() {
        let template = FimTemplate::custom("<p>{prefix}<s>{suffix}<m>", vec!["<e>".into()]).unwrap();
        assert_eq!(template.render("let s = \"{suffix}\";", "x {prefix}"), "<p>let s = \"{suffix}\";<s>x {prefix}<m>");
        assert!(FimTemplate::custom("{prefix} only", vec![]).is_err());
    }
}
