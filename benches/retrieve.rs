//! Retrieval for one request inside the server: the index in memory (as the server holds
//! it), the vector store open, `retrieve` timed per request, each generator alone and all
//! fused. Positions: the first line of the body of every 40th function of the workspace
//! (deterministic).
//! Usage: `cargo bench --bench retrieve [-- ROOT [REQUESTS]]`; ROOT defaults to
//! `$CTXLS_BENCH_CORPUS`, REQUESTS to 200. `CTXLS_BENCH_ONLY=NAME` runs one generator set;
//! `CTXLS_BENCH_NO_TERM_TABLE=1` leaves the term table out (lexical scans every file);
//! `CTXLS_BENCH_CHECK=1` answers every request without the cache too and compares.

use std::path::PathBuf;
use std::time::Instant;

use ctxls::config::Config;
use ctxls::index::terms::TermTable;
use ctxls::index::{FileId, SymbolKind, WorkspaceIndex};
use ctxls::io::embedding::Vectors;
use ctxls::io::llm::BuiltinEmbedder;
use ctxls::io::workspace::{Indexer, RefreshMode};
use ctxls::llm::tokens::TokenCounter;
use ctxls::retrieve::{query_text, retrieve, ContextRequest, Generator, Generators, Recency};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let root = args.first().map(PathBuf::from).or_else(|| std::env::var_os("CTXLS_BENCH_CORPUS").map(PathBuf::from));
    let Some(root) = root else {
        eprintln!("usage: cargo bench --bench retrieve -- ROOT [REQUESTS] (or set CTXLS_BENCH_CORPUS)");
        return;
    };
    let requests: usize = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(200);
    let root = root.canonicalize().expect("root exists");
    let cache = ctxls::io::store::Store::default_dir(&root, None);
    let mut indexer = Indexer::open(&root, Config::default(), Some(&cache));
    let mut index = WorkspaceIndex::new();
    let started = Instant::now();
    indexer.refresh(RefreshMode::Load, &|_, _| {}, &mut index);
    eprintln!("index of {} files loaded in {:.2} s", index.len(), started.elapsed().as_secs_f64());
    // The server builds the term table after indexing, off the request path.
    let started = Instant::now();
    let table = TermTable::build(&index.snapshot());
    eprintln!("term table built in {:.0} ms", started.elapsed().as_secs_f64() * 1000.0);
    if std::env::var_os("CTXLS_BENCH_NO_TERM_TABLE").is_none() {
        index.set_term_table(std::sync::Arc::new(table));
    }
    let snapshot = index.snapshot();

    let read = |id: FileId| snapshot.file(id).and_then(|e| std::fs::read_to_string(root.join(&e.path)).ok());
    let vectors = Vectors::new(Box::new(BuiltinEmbedder), Some(&cache));
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let started = Instant::now();
    let report = runtime.block_on(vectors.update(&snapshot, &read, &|_, _| {})).expect("built-in embedder");
    eprintln!("vectors up to date in {:.2} s ({} embedded)", started.elapsed().as_secs_f64(), report.embedded);

    let positions = positions(&snapshot, requests);
    let counter = TokenCounter::for_model("gpt-4o");
    let recency = Recency::default();
    let texts: Vec<String> = positions.iter().map(|(f, _)| read(*f).unwrap_or_default()).collect();
    let hits: Vec<Vec<(u64, f32)>> = positions
        .iter()
        .zip(&texts)
        .map(|((f, o), t)| runtime.block_on(vectors.query(&query_text(&snapshot, *f, *o, None, t), 40)).unwrap_or_default())
        .collect();
    println!("retrieval per request on {} ({} files, {} requests, budget 1024):", root.display(), index.len(), positions.len());
    let mut sets: Vec<(&str, Generators)> = Generator::ALL.iter().map(|g| (g.name(), Generators::only(*g))).collect();
    sets.push(("all", Generators::ALL));
    if let Ok(only) = std::env::var("CTXLS_BENCH_ONLY") {
        sets.retain(|(name, _)| *name == only);
    }
    // `CTXLS_BENCH_CHECK=1`: every request also answered without the cache, and compared.
    let check = std::env::var_os("CTXLS_BENCH_CHECK").is_some();
    for (name, generators) in sets {
        // The server keeps one per root between requests.
        let cache = ctxls::retrieve::Cache::new();
        let mut samples = Vec::new();
        for (i, (file, offset)) in positions.iter().enumerate() {
            let request = ContextRequest {
                file: *file,
                offset: *offset,
                query: None,
                budget_tokens: 1024,
                generators,
                recency: &recency,
                vector_hits: &hits[i],
                cache: Some(&cache),
                packing: ctxls::retrieve::Packing::Compact,
            };
            let started = Instant::now();
            let snippets = retrieve(&snapshot, &request, &|t| counter.count(t), &read);
            samples.push(started.elapsed().as_secs_f64() * 1000.0);
            if check {
                let fresh = retrieve(&snapshot, &ContextRequest { cache: None, ..request.clone() }, &|t| counter.count(t), &read);
                assert_eq!(snippets, fresh, "{name}, request {i}: the cache changed the answer");
            }
            std::hint::black_box(snippets);
        }
        samples.sort_by(f64::total_cmp);
        let median = samples[samples.len() / 2];
        let p90 = samples[samples.len() * 9 / 10];
        println!("  {name:<8} median {median:6.2} ms   p90 {p90:6.2} ms");
    }
    // Embedding the query text is part of a request too (built-in embedder).
    let started = Instant::now();
    for ((f, o), t) in positions.iter().zip(&texts) {
        std::hint::black_box(ctxls::retrieve::embed::embed(&query_text(&snapshot, *f, *o, None, t)));
    }
    println!("  query embedding: mean {:.3} ms", started.elapsed().as_secs_f64() * 1000.0 / positions.len() as f64);
    std::mem::forget(snapshot);
    std::mem::forget(index);
}

fn positions(snapshot: &ctxls::index::IndexSnapshot, wanted: usize) -> Vec<(FileId, u32)> {
    let mut files: Vec<_> = snapshot.files().collect();
    files.sort_by(|a, b| a.1.path.cmp(&b.1.path));
    let mut out = Vec::new();
    let mut seen = 0;
    for (id, entry) in files {
        for symbol in &entry.index().symbols {
            if matches!(symbol.kind, SymbolKind::Function | SymbolKind::Method) && symbol.range.len() > 200 {
                seen += 1;
                if seen % 40 == 0 && out.len() < wanted {
                    let lines = &entry.index().line_index;
                    let line = lines.line_col(symbol.range.start).line + 1;
                    out.push((id, lines.line_start(line)));
                }
            }
        }
    }
    out
}
