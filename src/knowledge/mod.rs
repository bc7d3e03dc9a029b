//! Project knowledge: what a team wrote down once and wants in every prompt that needs
//! it. Documents (Markdown, OpenAPI/Swagger, GraphQL schemas, `.proto` files) are split
//! into sections (`split`) and searched by words (BM25 over section terms, titles
//! counting double) and by vectors (the built-in embedder, computed on first search),
//! the two rankings fused; a section taken brings the schemas it refers to. Mentions
//! (`mentions`) point at context explicitly; prompt files (`prompts`) are reusable,
//! templated requests. Pure: texts in, sections and rankings out.

pub mod mentions;
pub mod prompts;
pub mod sections;

use std::sync::OnceLock;

use rustc_hash::FxHashMap as HashMap;

pub use sections::{DocKind, Section, SectionKind};

/// The extensions of the files that may be documents (`DocKind::from_path`); JSON and
/// YAML files are documents only when they are OpenAPI or Swagger specs.
pub const DOC_EXTENSIONS: &[&str] = &["md", "markdown", "mdx", "graphql", "graphqls", "gql", "proto", "json", "yaml", "yml"];

/// One document of the workspace, split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// Relative to the workspace root.
    pub path: String,
    pub kind: DocKind,
    pub sections: Vec<Section>,
}

/// A section of a document of a `DocIndex`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SectionRef {
    pub doc: u32,
    pub section: u32,
}

/// A search hit: a section, its fused score and why it was found.
#[derive(Clone, Debug, PartialEq)]
pub struct DocHit {
    pub section: SectionRef,
    pub score: f32,
    pub why: String,
}

/// A section packed for a prompt.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DocExcerpt {
    pub path: String,
    /// The section's title (`GET /orders/{id}`, `Orders`), empty for a preamble.
    pub title: String,
    pub anchor: String,
    /// 1-based, inclusive.
    pub start_line: u32,
    pub end_line: u32,
    pub text: String,
    pub why: String,
    pub tokens: usize,
}

/// The workspace's documents with a word index over their sections.
#[derive(Debug, Default)]
pub struct DocIndex {
    docs: Vec<Document>,
    by_path: HashMap<String, usize>,
    /// Every section, in document order: the ids the postings use.
    sections: Vec<SectionRef>,
    /// Term -> (section id, term frequency).
    postings: HashMap<String, Vec<(u32, u32)>>,
    lengths: Vec<u32>,
    average_length: f32,
    /// The built-in embedder's vector of each section, computed on first search.
    vectors: OnceLock<Vec<Vec<f32>>>,
}

/// Sections less similar than this to the query are not vector hits.
const MIN_SIMILARITY: f32 = 0.3;
/// Hits scoring less than this share of the best one (BM25, cosine) are left out.
const LEXICAL_SHARE: f32 = 0.3;
const VECTOR_SHARE: f32 = 0.8;
/// BM25 parameters (the usual ones).
const K1: f32 = 1.2;
const B: f32 = 0.75;

impl DocIndex {
    pub fn new(mut docs: Vec<Document>) -> DocIndex {
        docs.sort_by(|a, b| a.path.cmp(&b.path));
        let mut index = DocIndex::default();
        for (d, doc) in docs.iter().enumerate() {
            index.by_path.insert(doc.path.clone(), d);
            for (s, section) in doc.sections.iter().enumerate() {
                let id = index.sections.len() as u32;
                index.sections.push(SectionRef { doc: d as u32, section: s as u32 });
                let mut counts: HashMap<String, u32> = HashMap::default();
                let mut length = 0;
                // The title counts double: it says what the section is about.
                for word in terms(&section.title).chain(terms(&section.title)).chain(terms(&section.text)) {
                    *counts.entry(word).or_default() += 1;
                    length += 1;
                }
                for name in &section.names {
                    *counts.entry(name.to_lowercase()).or_default() += 2;
                }
                index.lengths.push(length);
                for (term, tf) in counts {
                    index.postings.entry(term).or_default().push((id, tf));
                }
            }
        }
        let total: u64 = index.lengths.iter().map(|&l| l as u64).sum();
        index.average_length = if index.lengths.is_empty() { 1.0 } else { (total as f32 / index.lengths.len() as f32).max(1.0) };
        index.docs = docs;
        index
    }

    pub fn docs(&self) -> &[Document] {
        &self.docs
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    pub fn section_count(&self) -> usize {
        self.sections.len()
    }

    /// The document at `path` (relative to the root).
    pub fn document(&self, path: &str) -> Option<usize> {
        self.by_path.get(path).copied()
    }

    /// A document named `stem` without its extension (`README`), the shortest path first.
    pub fn document_by_stem(&self, stem: &str) -> Option<usize> {
        self.docs
            .iter()
            .enumerate()
            .filter(|(_, d)| {
                let name = d.path.rsplit('/').next().unwrap_or(&d.path);
                name.rsplit_once('.').is_some_and(|(s, _)| s.eq_ignore_ascii_case(stem))
            })
            .min_by_key(|(_, d)| d.path.len())
            .map(|(i, _)| i)
    }

    pub fn get(&self, r: SectionRef) -> (&Document, &Section) {
        let doc = &self.docs[r.doc as usize];
        (doc, &doc.sections[r.section as usize])
    }

    /// The section of `doc` an anchor names: its anchor exactly, else the anchor or the
    /// title compared as slugs (`#Orders API` finds `orders-api`), else a name it defines.
    pub fn section_by_anchor(&self, doc: usize, anchor: &str) -> Option<SectionRef> {
        let sections = &self.docs.get(doc)?.sections;
        let wanted = slug(anchor);
        let found = sections
            .iter()
            .position(|s| s.anchor == anchor)
            .or_else(|| sections.iter().position(|s| slug(&s.anchor) == wanted || slug(&s.title) == wanted))
            .or_else(|| sections.iter().position(|s| s.names.iter().any(|n| n == anchor || n.eq_ignore_ascii_case(anchor))))?;
        Some(SectionRef { doc: doc as u32, section: found as u32 })
    }

    /// Sections defining `name` (an operationId, a schema, a type, a message).
    pub fn sections_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = SectionRef> + 'a {
        self.docs.iter().enumerate().flat_map(move |(d, doc)| {
            doc.sections
                .iter()
                .enumerate()
                .filter(move |(_, s)| s.names.iter().any(|n| n == name))
                .map(move |(s, _)| SectionRef { doc: d as u32, section: s as u32 })
        })
    }

    /// The sections of `r`'s document that `r` refers to (the schemas of an operation).
    pub fn referred(&self, r: SectionRef) -> Vec<SectionRef> {
        let (doc, section) = self.get(r);
        section
            .refs
            .iter()
            .filter_map(|name| {
                let s = doc.sections.iter().position(|s| s.names.iter().any(|n| n == name))?;
                Some(SectionRef { doc: r.doc, section: s as u32 })
            })
            .filter(|&other| other != r)
            .collect()
    }

    /// The `limit` sections best matching `query`: BM25 over the sections' words and the
    /// built-in embedder's cosine similarity, fused by reciprocal rank. A section needs a
    /// query word or a close vector to be a hit at all.
    pub fn search(&self, query: &str, limit: usize) -> Vec<DocHit> {
        if self.sections.is_empty() || limit == 0 {
            return Vec::new();
        }
        // Mentions are included by name elsewhere; their words would only add noise here.
        let mut cleaned = query.to_string();
        for m in mentions::parse(query).iter().rev() {
            cleaned.replace_range(m.range.clone(), " ");
        }
        let query = cleaned.as_str();
        let mut query_terms: Vec<String> = terms(query).collect();
        query_terms.sort();
        query_terms.dedup();
        let n = self.sections.len() as f32;
        let mut bm25: HashMap<u32, (f32, Vec<String>)> = HashMap::default();
        for term in &query_terms {
            let Some(postings) = self.postings.get(term) else { continue };
            let idf = ((n - postings.len() as f32 + 0.5) / (postings.len() as f32 + 0.5) + 1.0).ln();
            for &(id, tf) in postings {
                let length = self.lengths[id as usize] as f32;
                let tf = tf as f32;
                let score = idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * length / self.average_length));
                let entry = bm25.entry(id).or_default();
                entry.0 += score;
                entry.1.push(term.clone());
            }
        }
        let mut lexical: Vec<(u32, f32, Vec<String>)> = bm25.into_iter().map(|(id, (score, words))| (id, score, words)).collect();
        lexical.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        // A section matching a word or two of a long request is noise next to one that
        // matches what the request is about.
        let best = lexical.first().map_or(0.0, |l| l.1);
        lexical.retain(|l| l.1 >= LEXICAL_SHARE * best);

        let query_vector = crate::retrieve::embed::embed(query);
        let vectors = self.vectors.get_or_init(|| {
            self.sections
                .iter()
                .map(|&r| {
                    let (_, section) = self.get(r);
                    crate::retrieve::embed::embed(&format!("{}\n{}", section.title, section.text))
                })
                .collect()
        });
        let mut similar: Vec<(u32, f32)> = vectors
            .iter()
            .enumerate()
            .map(|(id, v)| (id as u32, v.iter().zip(&query_vector).map(|(a, b)| a * b).sum::<f32>()))
            .filter(|&(_, similarity)| similarity >= MIN_SIMILARITY)
            .collect();
        similar.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let closest = similar.first().map_or(0.0, |s| s.1);
        similar.retain(|s| s.1 >= VECTOR_SHARE * closest);

        const RRF_K: f32 = 60.0;
        let mut fused: HashMap<u32, (f32, Vec<String>)> = HashMap::default();
        for (rank, (id, _, words)) in lexical.iter().enumerate() {
            let entry = fused.entry(*id).or_default();
            entry.0 += 1.0 / (RRF_K + rank as f32);
            entry.1.push(format!("words {}", words.join(", ")));
        }
        for (rank, (id, similarity)) in similar.iter().enumerate() {
            let entry = fused.entry(*id).or_default();
            entry.0 += 0.5 / (RRF_K + rank as f32);
            entry.1.push(format!("similar to the request (cosine {similarity:.2})"));
        }
        let mut hits: Vec<DocHit> = fused
            .into_iter()
            .map(|(id, (score, why))| DocHit { section: self.sections[id as usize], score, why: why.join("; ") })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.section.cmp(&b.section)));
        hits.truncate(limit);
        hits
    }

    /// The best sections for `query` packed into `budget` tokens, each followed by the
    /// sections it refers to (an operation's schemas) while they fit. A section larger
    /// than what is left is cut at a line when at least a third of it fits.
    pub fn retrieve(&self, query: &str, budget: usize, count_tokens: &dyn Fn(&str) -> usize) -> Vec<DocExcerpt> {
        let mut out: Vec<DocExcerpt> = Vec::new();
        let mut taken: Vec<SectionRef> = Vec::new();
        let mut used = 0;
        for hit in self.search(query, 12) {
            let mut queue = vec![(hit.section, hit.why.clone())];
            let (_, section) = self.get(hit.section);
            for referred in self.referred(hit.section) {
                queue.push((referred, format!("referred to by {}", section.title)));
            }
            for (r, why) in queue {
                if taken.contains(&r) || budget.saturating_sub(used) < 16 {
                    continue;
                }
                if let Some(excerpt) = self.excerpt(r, why, budget - used, count_tokens) {
                    used += excerpt.tokens;
                    taken.push(r);
                    out.push(excerpt);
                }
            }
        }
        out
    }

    /// Section `r` as an excerpt within `budget` tokens (cut at a line when at least a
    /// third of it fits), or `None`.
    pub fn excerpt(&self, r: SectionRef, why: String, budget: usize, count_tokens: &dyn Fn(&str) -> usize) -> Option<DocExcerpt> {
        let (doc, section) = self.get(r);
        let (text, tokens) = fit(&section.text, budget, count_tokens)?;
        let end_line = if text.len() < section.text.len() { section.start_line + text.lines().count().saturating_sub(1) as u32 } else { section.end_line };
        Some(DocExcerpt {
            path: doc.path.clone(),
            title: section.title.clone(),
            anchor: section.anchor.clone(),
            start_line: section.start_line + 1,
            end_line: end_line + 1,
            text,
            why,
            tokens,
        })
    }
}

/// `text` whole when it fits `budget`, else its first lines that do with a note, when
/// that is at least a third of it; with its token count.
pub fn fit(text: &str, budget: usize, count_tokens: &dyn Fn(&str) -> usize) -> Option<(String, usize)> {
    let whole = count_tokens(text);
    if whole <= budget {
        return Some((text.to_string(), whole));
    }
    let note = "[... cut to fit the budget]";
    let mut kept = String::new();
    let mut used = count_tokens(note);
    for line in text.lines() {
        let cost = count_tokens(line) + 1;
        if used + cost > budget {
            break;
        }
        kept.push_str(line);
        kept.push('\n');
        used += cost;
    }
    if kept.trim().is_empty() || used * 3 < whole {
        return None;
    }
    kept.push_str(note);
    Some((kept, used))
}

/// Words so common in prose that they say nothing about a section.
const STOPWORDS: &[&str] = &[
    "a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "with", "by", "at", "as", "is", "are", "be", "was", "it",
    "its", "this", "that", "these", "those", "from", "into", "if", "then", "else", "when", "we", "you", "our", "your", "can",
    "will", "should", "must", "may", "not", "no", "do", "does", "use", "using", "all", "any", "each", "which", "what", "how",
    "add", "make", "new", "return", "returns", "get", "set", "also", "so", "but", "there", "here", "has", "have", "one",
    "ai", "type", "string", "object", "data", "value",
];

/// The lowercase index terms of a text: words and identifiers, identifiers also as their
/// sub-words (`getOrderById` gives `getorderbyid`, `get`, `order`, `by`, `id`); stopwords
/// and one-letter words left out.
pub fn terms(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .flat_map(|word| {
            let whole = word.to_lowercase();
            let parts = crate::index::terms::subtokens(word);
            let mut out = vec![whole.clone()];
            if parts.len() > 1 {
                out.extend(parts.into_iter().filter(|p| *p != whole));
            }
            out
        })
        .filter(|w| w.chars().count() > 1 && !STOPWORDS.contains(&w.as_str()) && !w.chars().all(|c| c.is_ascii_digit()))
}

/// GitHub's heading slug: lowercase, punctuation except `-` and `_` dropped, spaces to `-`.
pub fn slug(text: &str) -> String {
    text.trim()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_lowercase().next().unwrap_or(c)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> usize {
        text.split_whitespace().count()
    }

    fn index() -> DocIndex {
        let api = "openapi: 3.0.0\ninfo:\n  title: Shop\n  version: '1'\npaths:\n  /orders/{id}:\n    get:\n      operationId: getOrder\n      summary: Fetch one order by its id\n      responses:\n        '200':\n          content:\n            application/json:\n              schema:\n                $ref: '#/components/schemas/Order'\n  /customers:\n    post:\n      operationId: createCustomer\n      summary: Register a customer\n      responses:\n        '201':\n          description: created\ncomponents:\n  schemas:\n    Order:\n      type: object\n      properties:\n        id:\n          type: string\n        total_cents:\n          type: integer\n";
        let guide = "# Contributing\n\nRun the tests.\n\n## Error handling\n\nErrors are values: return a Result, never panic in library code.\n\n## Release process\n\nTag and publish.\n";
        DocIndex::new(vec![
            Document { path: "docs/api.yaml".into(), kind: DocKind::OpenApi, sections: sections::split(DocKind::OpenApi, api).unwrap() },
            Document { path: "CONTRIBUTING.md".into(), kind: DocKind::Markdown, sections: sections::split(DocKind::Markdown, guide).unwrap() },
        ])
    }

    #[test]
    fn a_request_naming_an_endpoint_finds_its_operation_and_schema() {
        let index = index();
        let hits = index.search("fetch the order by id from the API", 3);
        let (_, best) = index.get(hits[0].section);
        assert_eq!(best.title, "GET /orders/{id}", "{hits:?}");
        let packed = index.retrieve("write a client function for getOrder", 400, &words);
        let titles: Vec<&str> = packed.iter().map(|e| e.title.as_str()).collect();
        assert_eq!(&titles[..2], ["GET /orders/{id}", "Order"], "{packed:?}");
        assert!(packed[1].why.contains("referred to by GET /orders/{id}"));
        assert!(packed[1].text.contains("total_cents"));
    }

    #[test]
    fn prose_sections_by_their_words() {
        let index = index();
        let hits = index.search("how should errors be handled: panic or Result?", 2);
        assert_eq!(index.get(hits[0].section).1.title, "Error handling");
        assert!(index.search("zzz qqq", 5).is_empty());
    }

    #[test]
    fn anchors_names_and_stems() {
        let index = index();
        let doc = index.document("CONTRIBUTING.md").unwrap();
        assert_eq!(index.get(index.section_by_anchor(doc, "error-handling").unwrap()).1.title, "Error handling");
        assert_eq!(index.get(index.section_by_anchor(doc, "Release process").unwrap()).1.title, "Release process");
        assert!(index.section_by_anchor(doc, "nothing").is_none());
        assert_eq!(index.get(index.sections_named("getOrder").next().unwrap()).1.title, "GET /orders/{id}");
        assert_eq!(index.document_by_stem("contributing"), Some(doc));
    }

    #[test]
    fn fitting_cuts_at_lines() {
        let text = "one two\nthree four\nfive six\nseven eight\nnine ten\n";
        assert_eq!(fit(text, 100, &words).unwrap().0, text);
        // The note costs 6 words, each line its words and one.
        let (cut, tokens) = fit(text, 9, &words).unwrap();
        assert_eq!((cut.as_str(), tokens), ("one two\n[... cut to fit the budget]", 9));
        assert!(fit(text, 2, &words).is_none(), "not even the note fits");
    }
}
