//! `ctxls context FILE:LINE:COL`: the context that would be sent to the model at a
//! position, from the persistent index (refreshed first, so one changed file costs one
//! parse). JSON for tools (the yardstick calls exactly this), text for people.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, ValueEnum};

use crate::config::Config;
use crate::ide::knowledge::Knowledge;
use crate::ide::prompt::Excerpt;
use crate::index::{IndexSnapshot, SymbolKind};
use crate::io::workspace::RefreshMode;
use crate::llm::tokens::TokenCounter;
use crate::retrieve::{query_text, retrieve, ContextRequest, Generator, Generators, Packing, Recency, Snippet};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Json,
    Text,
}

#[derive(Args, Debug)]
pub struct ContextArgs {
    /// Position: FILE:LINE:COL, 1-based (COL in characters); FILE relative to ROOT or absolute.
    pub position: String,
    /// Workspace root (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Token budget for the snippets.
    #[arg(long, default_value_t = 2048)]
    pub budget: usize,
    /// What the user asks for (a requirement or a question); its names are looked up too.
    #[arg(long)]
    pub query: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Tell why each snippet was chosen.
    #[arg(long)]
    pub explain: bool,
    /// Candidate generators to use, comma-separated: symbol, lexical, vector, recency, or
    /// all (for comparing them; the yardstick's ablation sets CTXLS_GENERATORS).
    #[arg(long, env = "CTXLS_GENERATORS", default_value = "all", value_parser = parse_generators)]
    pub generators: Generators,
    /// How the snippets are packed: compact (as many definitions as fit) or whole (fewer,
    /// whole short definitions); default: the configuration's `completion.packing`.
    #[arg(long, value_parser = parse_packing)]
    pub packing: Option<Packing>,
}

pub(super) fn parse_packing(text: &str) -> Result<Packing, String> {
    Packing::parse(text)
}

fn parse_generators(text: &str) -> Result<Generators, String> {
    Generators::parse(text)
}

pub fn run(args: ContextArgs, cache_dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let root = super::resolve_root(args.root.as_deref())?;
    let config = super::load_config(&root);
    let super::Position { rel, text, offset, line, col, .. } = super::read_position(&root, &args.position)?;
    // The requirement comment at the position is the query when none is given.
    let query = args.query.clone().or_else(|| requirement_at(&rel, &text, offset, &config));
    let gathered = gather(&root, &config, cache_dir, &rel, &text, offset, query.as_deref(), args.budget, args.generators, args.packing.unwrap_or(config.completion.packing))?;
    let (snapshot, snippets, elapsed_ms) = (&gathered.snapshot, &gathered.snippets, gathered.retrieval_ms);
    // What a chat request (generate, answer, chat) would add: instructions, mentions, documents.
    let knowledge = match &query {
        Some(query) => knowledge(&root, &config, snapshot, query, query),
        None => Knowledge::default(),
    };
    let tokens: usize = snippets.iter().map(|s| s.tokens).sum();
    let prefix_lines = line;
    let suffix_lines = text.lines().count().saturating_sub(line);
    match args.format {
        Format::Json => {
            let items: Vec<serde_json::Value> = snippets
                .iter()
                .map(|s| {
                    let mut item = serde_json::json!({
                        "file": snapshot.file(s.file).map(|e| e.path.clone()).unwrap_or_default(),
                        "start_line": s.start_line + 1,
                        "end_line": s.end_line + 1,
                        "text": s.text,
                        "score": (s.score * 1000.0).round() / 1000.0,
                        "sources": s.sources,
                    });
                    if args.explain {
                        item["why"] = serde_json::json!(s.why);
                    }
                    item
                })
                .collect();
            let mut out = serde_json::json!({
                "snippets": items,
                "prefix_lines": prefix_lines,
                "suffix_lines": suffix_lines,
                "tokens": tokens,
            });
            if query.is_some() {
                let instructions = crate::io::instructions::listed(&root, &rel, &config);
                out["query"] = serde_json::json!(query);
                out["instructions"] = instructions.iter().map(|(path, tokens)| serde_json::json!({"path": path, "tokens": tokens})).collect();
                out["mentions"] = serde_json::json!(knowledge.mentions);
                out["unresolved"] = knowledge.unresolved.iter().map(|u| serde_json::json!({"mention": format!("@{}", u.mention.raw), "reason": u.reason})).collect();
                out["documents"] = serde_json::json!(knowledge.documents);
            }
            println!("{out}");
        }
        Format::Text => {
            println!("{}", header(snapshot, &rel, line, col, offset, args.budget));
            // Fused scores are small numbers that only compare within one answer: shown
            // as a share of the best snippet's.
            let best = snippets.iter().map(|s| s.score).fold(0.0, f32::max);
            for (rank, s) in snippets.iter().enumerate() {
                let file = snapshot.file(s.file).map(|e| e.path.as_str()).unwrap_or("?");
                let relevance = if best > 0.0 { 100.0 * s.score / best } else { 0.0 };
                println!(
                    "── {}. {file}:{}-{} · relevance {relevance:.0}% of the best · {} tokens · from {}",
                    rank + 1,
                    s.start_line + 1,
                    s.end_line + 1,
                    s.tokens,
                    s.sources.join("+")
                );
                if args.explain {
                    println!("   why: {}", s.why);
                }
                println!("{}\n", s.text);
            }
            println!("{} snippets, {tokens} of {} tokens ({}), retrieval {elapsed_ms:.1} ms", snippets.len(), args.budget, gathered.tokenizer);
            if let Some(query) = &query {
                print_knowledge(query, &crate::io::instructions::listed(&root, &rel, &config), &knowledge, args.explain);
            }
        }
    }
    // The process ends here: freeing a large index costs more than the OS reclaiming it.
    std::mem::forget(gathered);
    Ok(ExitCode::SUCCESS)
}

/// The first line of the text format: the position and the definition around it, which
/// the context is for.
fn header(snapshot: &IndexSnapshot, rel: &str, line: usize, col: usize, offset: usize, budget: usize) -> String {
    let around = snapshot.file_id(rel).and_then(|id| snapshot.file(id)).and_then(|entry| {
        let file = entry.index();
        let wanted = |kind: SymbolKind| kind != SymbolKind::Impl && kind != SymbolKind::Module;
        let symbol = file
            .symbols
            .iter()
            .filter(|s| wanted(s.kind) && s.range.contains_inclusive(offset as u32))
            .min_by_key(|s| s.range.len())?;
        let (start, end) = (file.line_index.line_col(symbol.range.start).line + 1, file.line_index.line_col(symbol.range.end).line + 1);
        Some(format!("in {} {} (lines {start}-{end})", symbol.kind, file.qualified_name(symbol)))
    });
    let around = around.unwrap_or_else(|| "outside any definition".to_string());
    format!("Context for {rel}:{line}:{col}, {around}; budget {budget} tokens, best first\n")
}

/// The requirement comment at `offset` of the file, if any.
fn requirement_at(rel: &str, text: &str, offset: usize, config: &Config) -> Option<String> {
    let lang = crate::lang::Lang::from_path(Path::new(rel))?;
    if !crate::reqs::Markers::from(&config.requirements).may_occur_in(text) {
        return None;
    }
    crate::workflows::actions::requirement_at(text, &crate::lang::parse(lang, text, None), offset, config)
}

/// What a chat request for `query` would add to the snippets, for people.
fn print_knowledge(query: &str, instructions: &[(String, usize)], knowledge: &Knowledge, explain: bool) {
    println!("\nFor a chat request about: {query}");
    if instructions.is_empty() {
        println!("instructions: none");
    }
    for (path, tokens) in instructions {
        println!("instructions: {path} ({tokens} tokens; applies to this file)");
    }
    for m in &knowledge.mentions {
        let summarized = if m.summarized { ", summarized to fit" } else { "" };
        println!("mention {} -> {}:{}-{} ({}, {} tokens{summarized})", m.mention, m.path, m.start_line, m.end_line, m.what, m.tokens);
    }
    for u in &knowledge.unresolved {
        println!("mention @{} -> nothing: {}", u.mention.raw, u.reason);
    }
    for d in &knowledge.documents {
        let title = if d.title.is_empty() { "(preamble)" } else { &d.title };
        println!("document {}:{}-{} {title} ({} tokens)", d.path, d.start_line, d.end_line, d.tokens);
        if explain {
            println!("   why: {}", d.why);
        }
    }
    if knowledge.mentions.is_empty() && knowledge.unresolved.is_empty() && knowledge.documents.is_empty() {
        println!("mentions and documents: none");
    }
}

/// Retrieved context at a position, with what it was retrieved from.
pub(super) struct Gathered {
    pub snapshot: Arc<IndexSnapshot>,
    pub snippets: Vec<Snippet>,
    pub tokenizer: &'static str,
    pub retrieval_ms: f64,
}

impl Gathered {
    /// The snippets as prompt excerpts (1-based lines).
    pub fn excerpts(&self) -> Vec<Excerpt<'_>> {
        self.snippets
            .iter()
            .map(|s| Excerpt {
                path: self.snapshot.file(s.file).map_or("?", |e| e.path.as_str()),
                start_line: s.start_line + 1,
                end_line: s.end_line + 1,
                text: &s.text,
            })
            .collect()
    }
}

/// Loads and refreshes the persistent index, brings the vector store up to date, reads
/// the working tree's changes, and retrieves the context at `offset` of `rel`.
#[allow(clippy::too_many_arguments)]
pub(super) fn gather(
    root: &Path,
    config: &Config,
    cache_dir: Option<&Path>,
    rel: &str,
    text: &str,
    offset: usize,
    query: Option<&str>,
    budget: usize,
    generators: Generators,
    packing: Packing,
) -> anyhow::Result<Gathered> {
    let phase = std::time::Instant::now();
    // The tokenizer's tables take tens of milliseconds to build: meanwhile, the index loads.
    let model = config.llm.for_task(crate::config::Task::Completion).model;
    let counter = std::thread::spawn(move || TokenCounter::for_model(&model));
    std::thread::scope(|scope| -> anyhow::Result<Gathered> {
        // So does the vector store, and the working tree's changes are listed.
        let vectors = generators.contains(Generator::Vector).then(|| scope.spawn(|| super::open_vectors(root, cache_dir, config)));
        let recency = generators.contains(Generator::Recency).then(|| scope.spawn(|| working_tree_recency(root, &config.index)));
        let (mut index, _report) = super::open_and_refresh(root, config, cache_dir, RefreshMode::Lazy);
        tracing::debug!("index loaded in {:.1} ms", phase.elapsed().as_secs_f64() * 1000.0);
        let snapshot = index.snapshot();
        std::mem::forget(index); // the snapshot holds it all; the process ends soon
        let file_id = snapshot.file_id(rel).with_context(|| format!("{rel} is not indexed (ignored, skipped or not a supported language)"))?;
        let read = |id| snapshot.file(id).and_then(|e| std::fs::read_to_string(root.join(&e.path)).ok());

        let recency = recency.map_or_else(Recency::default, |thread| thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        tracing::debug!("recency in {:.1} ms", phase.elapsed().as_secs_f64() * 1000.0);
        let vector_hits = match vectors {
            Some(thread) => {
                let vectors = thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                let text_query = query_text(&snapshot, file_id, offset as u32, query, text);
                super::vector_search(vectors, &snapshot, &read, &text_query)
            }
            None => Vec::new(),
        };
        tracing::debug!("vectors in {:.1} ms", phase.elapsed().as_secs_f64() * 1000.0);
        let request = ContextRequest {
            file: file_id,
            offset: offset as u32,
            query,
            budget_tokens: budget,
            generators,
            recency: &recency,
            vector_hits: &vector_hits,
            cache: None,
            packing,
        };
        let counter = counter.join().map_err(|_| anyhow::anyhow!("the tokenizer failed to build"))?;
        let started = std::time::Instant::now();
        let snippets = retrieve(&snapshot, &request, &|t| counter.count(t), &read);
        let retrieval_ms = started.elapsed().as_secs_f64() * 1000.0;
        tracing::debug!("retrieval in {retrieval_ms:.1} ms, total {:.1} ms", phase.elapsed().as_secs_f64() * 1000.0);
        Ok(Gathered { snapshot, snippets, tokenizer: counter.name(), retrieval_ms })
    })
}

/// The project knowledge for a request: the mentions in `mention_text` resolved and
/// included, the document sections for `query` (none when empty), within the
/// configuration's budgets and the chat model's tokenizer. Unknown mentions are warned
/// about on stderr.
pub(super) fn knowledge(root: &Path, config: &Config, snapshot: &IndexSnapshot, mention_text: &str, query: &str) -> Knowledge {
    let mentioned = !crate::knowledge::mentions::parse(mention_text).is_empty();
    if !mentioned && (query.trim().is_empty() || !config.documents.enabled) {
        return Knowledge::default();
    }
    let docs = crate::io::knowledge::load_documents(root, config);
    let knowledge = crate::io::knowledge::gather(root, config, snapshot, &docs, &|_| None, mention_text, query);
    for unresolved in &knowledge.unresolved {
        eprintln!("ctxls: warning: @{}: {}", unresolved.mention.raw, unresolved.reason);
    }
    knowledge
}

/// The working tree's changes (nothing outside a git repository; a git error is logged).
pub(super) fn working_tree_recency(root: &Path, config: &crate::config::IndexConfig) -> Recency {
    match crate::io::git::working_tree_changes(root, config) {
        Ok(changes) => Recency { changed: changes.unwrap_or_default(), ..Recency::default() },
        Err(err) => {
            tracing::warn!("{err}; recent changes are not used");
            Recency::default()
        }
    }
}
