//! The built-in embedder: no model, no server, no download. A text becomes a bag of
//! features (identifiers whole, their sub-words, and the character trigrams of the
//! sub-words, so that `parser` lands near `parse` and `tokenize` near `token`), weighted
//! by sub-linear term frequency and a fixed inverse frequency for the words every
//! program is full of, then hashed with random signs into `DIMENSIONS` buckets and
//! normalized (the "hashing trick"). Deterministic; a pure function of the text, so a
//! chunk's vector is keyed by its content hash and never recomputed.

use rustc_hash::FxHashMap as HashMap;

use crate::base::content_hash;
use crate::index::terms::subtokens;

pub const DIMENSIONS: usize = 256;
/// Names the embedding space; bump the version when features or weights change.
pub const SPACE: &str = "builtin-hash-256-v1";

/// Words so common in code that they say nothing about what a piece of code is about.
const COMMON: &[&str] = &[
    "fn", "let", "mut", "pub", "use", "impl", "self", "struct", "enum", "trait", "match", "return", "if", "else", "for",
    "while", "loop", "in", "as", "where", "type", "const", "static", "crate", "super", "mod", "ref", "true", "false",
    "some", "none", "ok", "err", "result", "option", "string", "str", "vec", "box", "new", "the", "and", "or", "to", "of",
    "is", "a", "an", "it", "this", "function", "var", "import", "export", "from", "default", "async", "await", "null",
    "undefined", "void", "number", "boolean", "any", "unknown", "class", "interface", "extends", "implements", "private",
    "public", "protected", "readonly", "get", "set", "value", "u8", "u16", "u32", "u64", "usize", "i32", "i64", "f32",
    "f64", "bool", "unwrap", "clone", "into", "from", "be", "with", "not", "that", "by", "on", "at",
];

/// The vector of `text`, L2-normalized (all zeros for a text without words).
pub fn embed(text: &str) -> Vec<f32> {
    let mut counts: HashMap<u64, f32> = HashMap::default();
    for ident in words(text) {
        let lower = ident.to_lowercase();
        let common = COMMON.contains(&lower.as_str());
        let weight = if common { 0.15 } else { 1.0 };
        *counts.entry(feature(b'w', &lower)).or_default() += weight;
        let parts = subtokens(ident);
        for part in &parts {
            if parts.len() > 1 && part.len() > 1 {
                let common = COMMON.contains(&part.as_str());
                *counts.entry(feature(b's', part)).or_default() += if common { 0.15 } else { 0.8 };
            }
            if !common && part.len() > 3 {
                let padded: Vec<char> = std::iter::once('^').chain(part.chars()).chain(std::iter::once('$')).collect();
                for gram in padded.windows(3) {
                    let gram: String = gram.iter().collect();
                    *counts.entry(feature(b'g', &gram)).or_default() += 0.25;
                }
            }
        }
    }
    let mut vector = vec![0.0f32; DIMENSIONS];
    for (hash, count) in counts {
        let weight = 1.0 + count.ln_1p();
        let bucket = (hash % DIMENSIONS as u64) as usize;
        let sign = if (hash >> 63) == 1 { -1.0 } else { 1.0 };
        vector[bucket] += sign * weight;
    }
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for x in &mut vector {
            *x /= norm;
        }
    }
    vector
}

fn feature(kind: u8, word: &str) -> u64 {
    let mut bytes = Vec::with_capacity(word.len() + 1);
    bytes.push(kind);
    bytes.extend_from_slice(word.as_bytes());
    content_hash(&bytes)
}

/// Identifier-like words of a text (letters, digits, `_`, `$`; not starting with a digit).
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .filter(|w| !w.is_empty() && !w.starts_with(|c: char| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cosine similarity of two normalized vectors.
    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn related_code_is_nearer_than_unrelated_code() {
        let query = embed("let tokens = tokenize(input); parse_tokens(&tokens)");
        let related = embed("fn tokenize(input: &str) -> Vec<Token> { let mut tokens = Vec::new(); tokens }");
        let unrelated = embed("fn open_socket(addr: SocketAddr) -> io::Result<TcpStream> { TcpStream::connect(addr) }");
        assert!(cosine(&query, &related) > cosine(&query, &unrelated) + 0.1, "{} vs {}", cosine(&query, &related), cosine(&query, &unrelated));
        let norm: f32 = related.iter().map(|x| x * x).sum();
        assert!((norm - 1.0).abs() < 1e-4);
        assert_eq!(embed("fn tokenize()"), embed("fn tokenize()"), "deterministic");
        assert!(embed("  ;; 123 ").iter().all(|x| *x == 0.0));
    }
}
