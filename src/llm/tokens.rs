//! Token counting for budgets, with a real BPE tokenizer (tiktoken's encodings, compiled
//! into the binary: no download). The encoding follows the model: OpenAI models get their
//! own (`o200k_base` for GPT-4o and later, `cl100k_base` for GPT-4 and 3.5). Other
//! families (Qwen, DeepSeek, Llama, Mistral, Claude, StarCoder) ship tokenizers that are
//! not bundled; for them `cl100k_base` is used as an approximation of a modern code BPE,
//! and `TokenCounter::is_exact` says so.

use tiktoken_rs::tokenizer::{get_tokenizer, Tokenizer};
use tiktoken_rs::CoreBPE;

pub struct TokenCounter {
    bpe: &'static CoreBPE,
    name: &'static str,
    exact: bool,
}

impl TokenCounter {
    pub fn for_model(model: &str) -> TokenCounter {
        // Provider prefixes (`openai/gpt-4o` on OpenRouter) do not change the encoding.
        let bare = model.rsplit('/').next().unwrap_or(model);
        match get_tokenizer(bare) {
            Some(Tokenizer::O200kBase | Tokenizer::O200kHarmony) => {
                TokenCounter { bpe: tiktoken_rs::o200k_base_singleton(), name: "o200k_base", exact: true }
            }
            Some(Tokenizer::Cl100kBase) => TokenCounter { bpe: tiktoken_rs::cl100k_base_singleton(), name: "cl100k_base", exact: true },
            _ => TokenCounter { bpe: tiktoken_rs::cl100k_base_singleton(), name: "cl100k_base (approximation)", exact: false },
        }
    }

    pub fn count(&self, text: &str) -> usize {
        self.bpe.encode_ordinary(text).len()
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
