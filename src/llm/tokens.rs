//! Token counting for budgets, with a real BPE tokenizer: tiktoken's encodings, serialized
//! into the binary at build time by `bpe-openai` (no download; loading one costs tens of
//! milliseconds where building tiktoken-rs's tables cost 100-200 ms of every CLI call).
//! The encoding follows the model: OpenAI models get their own (`o200k_base` for GPT-4o
//! and later, `cl100k_base` for GPT-4 and 3.5). Other families (Qwen, DeepSeek, Llama,
//! Mistral, Claude, StarCoder) ship tokenizers that are not bundled; for them
//! `cl100k_base` is used as an approximation of a modern code BPE, and
//! `TokenCounter::is_exact` says so.

use bpe_openai::Tokenizer;

pub struct TokenCounter {
    bpe: &'static Tokenizer,
    name: &'static str,
    exact: bool,
}

/// OpenAI model families by name prefix, newest encodings first.
const O200K_PREFIXES: &[&str] = &["gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o", "gpt-oss", "codex-"];
const CL100K_PREFIXES: &[&str] = &["gpt-4", "gpt-3.5", "gpt-35", "text-embedding-3", "text-embedding-ada-002"];

impl TokenCounter {
    pub fn for_model(model: &str) -> TokenCounter {
        // Provider prefixes (`openai/gpt-4o` on OpenRouter) do not change the encoding.
        let bare = model.rsplit('/').next().unwrap_or(model);
        let starts = |prefixes: &[&str]| prefixes.iter().any(|p| bare.starts_with(p));
        if starts(O200K_PREFIXES) {
            TokenCounter { bpe: bpe_openai::o200k_base(), name: "o200k_base", exact: true }
        } else if starts(CL100K_PREFIXES) {
            TokenCounter { bpe: bpe_openai::cl100k_base(), name: "cl100k_base", exact: true }
        } else {
            TokenCounter { bpe: bpe_openai::cl100k_base(), name: "cl100k_base (approximation)", exact: false }
        }
    }

    pub fn count(&self, text: &str) -> usize {
        self.bpe.count(text)
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// True when the encoding is the model's own.
    pub fn is_exact(&self) -> bool {
        self.exact
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_follow_the_model() {
        let gpt4o = TokenCounter::for_model("gpt-4o-mini");
        assert_eq!(gpt4o.name(), "o200k_base");
        assert!(gpt4o.is_exact());
        assert_eq!(TokenCounter::for_model("gpt-4").name(), "cl100k_base");
        assert_eq!(TokenCounter::for_model("openai/gpt-4o").name(), "o200k_base");
        assert_eq!(TokenCounter::for_model("gpt-4-turbo").name(), "cl100k_base");
        assert_eq!(TokenCounter::for_model("o3-mini").name(), "o200k_base");
        // The counts tiktoken gives for the same text.
        assert_eq!(gpt4o.count("fn main() {\n    println!(\"{}\", 1 + 2);\n}\n"), 14);
        let qwen = TokenCounter::for_model("qwen2.5-coder:1.5b");
        assert!(!qwen.is_exact());
        // Real BPE counts, not characters / 4.
        assert_eq!(TokenCounter::for_model("gpt-4").count("hello world"), 2);
        let code = "fn main() {\n    println!(\"{}\", 1 + 2);\n}\n";
        let n = qwen.count(code);
        assert!((10..=25).contains(&n), "{n}");
        assert_eq!(qwen.count(""), 0);
    }
}
