//! `ctxls next-edit`: where the next edit likely goes, from the working tree's changes
//! against HEAD (the edits so far) and the persistent index (refreshed first), and, unless
//! `--locations-only`, what it is: the completion model rewrites a region around the best
//! places (`ide::edit_rewrite`), shown as minimal line edits; no file is written. Ignored
//! and secret files are never among the edits, the places or the prompt.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::ide::edit_rewrite::{check_answer, region_around, rewrite_prompt, rewrite_request, LineEdit};
use crate::ide::next_edit::{old_text, parse_unified_diff, rank, Edit, Limits, OldFacts};
use crate::io::workspace::RefreshMode;

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Format {
    Json,
    Text,
}

#[derive(Args, Debug)]
pub struct NextEditArgs {
    /// Workspace root (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// At most this many places, best first.
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    /// Only the places; ask no model.
    #[arg(long)]
    pub locations_only: bool,
    /// How many of the best places the model rewrites (without --locations-only).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub rewrites: usize,
}

/// The diff is read up to this size; a larger change is cut (the edits past it are not
/// used).
const DIFF_BYTES: usize = 4 << 20;

const NO_REWRITE: &str = "only locations are given (--locations-only)";

pub fn run(args: NextEditArgs, cache_dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let root = super::resolve_root(args.root.as_deref())?;
    let config = super::load_config(&root);
    // The refresh parses the edited files again; the cache's facts of their previous
    // version are kept: when that version is the text before the edits (the cache was
    // brought up to date before editing), the ranking needs no parse of it.
    let mut indexer = super::open_indexer(&root, &config, cache_dir);
    indexer.keep_replaced();
    let (edits, (mut index, _report)) = std::thread::scope(|scope| {
        let edits = scope.spawn(|| working_tree_edits(&root, &config));
        let index = super::refresh(&mut indexer, RefreshMode::Lazy);
        (edits.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), index)
    });
    let edits = edits?;
    let snapshot = index.snapshot();
    std::mem::forget(index); // the snapshot holds it all; the process ends soon
    tracing::debug!("index and edits in {:.1} ms", started.elapsed().as_secs_f64() * 1000.0);
    let read = |id| snapshot.file(id).and_then(|e| std::fs::read_to_string(root.join(&e.path)).ok());
    let mut old_facts = OldFacts::new(config.index.generated_files);
    for (path, (hash, facts)) in indexer.take_replaced() {
        let file_edits: Vec<&Edit> = edits.iter().filter(|e| e.path == path).collect();
        let Some(id) = snapshot.file_id(&path).filter(|_| !file_edits.is_empty()) else { continue };
        let (Some(entry), Some(new_text)) = (snapshot.file(id), read(id)) else { continue };
        let old = old_text(&new_text, &file_edits);
        if crate::base::content_hash(old.as_bytes()) == hash {
            old_facts.insert(&path, entry.lang(), &old, facts);
        }
    }
    let ranking = std::time::Instant::now();
    let candidates = rank(&snapshot, &edits, &read, &mut old_facts, args.limit, Limits::default());
    tracing::debug!("old facts from the cache: {}, parsed: {}", old_facts.len().saturating_sub(old_facts.parsed), old_facts.parsed);
    let rank_ms = ranking.elapsed().as_secs_f64() * 1000.0;
    let rewrites: Vec<Option<Rewrite>> = if args.locations_only || edits.is_empty() {
        Vec::new()
    } else {
        candidates.iter().take(args.rewrites).map(|c| Some(rewrite(&root, &config, cache_dir, c))).collect()
    };
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    if edits.is_empty() {
        eprintln!("ctxls: no changes against HEAD in supported, indexed files: nothing to follow up");
    }
    match args.format {
        Format::Json => {
            let items: Vec<serde_json::Value> = candidates
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let mut item = serde_json::json!({
                        "file": c.path,
                        "line": c.start_line + 1,
                        "end_line": c.end_line + 1,
                        "reason": c.reason,
                        "score": (f64::from(c.score) * 1000.0).round() / 1000.0,
                    });
                    if let Some((name, start, end)) = &c.definition {
                        item["definition"] = serde_json::json!({"name": name, "line": start + 1, "end_line": end + 1});
                    }
                    if let Some(Some(rewrite)) = rewrites.get(i) {
                        item["rewrite"] = rewrite.json();
                    }
                    item
                })
                .collect();
            let mut out = serde_json::json!({
                "candidates": items,
                "edits": edits.len(),
                "locations_only": args.locations_only,
                "elapsed_ms": (elapsed_ms * 10.0).round() / 10.0,
                "rank_ms": (rank_ms * 10.0).round() / 10.0,
                // The edited files' text before the edits: facts the cache held for it
                // (the index was up to date before editing), or parsed now.
                "old_facts": {"from_cache": old_facts.len().saturating_sub(old_facts.parsed), "parsed": old_facts.parsed},
            });
            if args.locations_only {
                out["note"] = serde_json::json!(NO_REWRITE);
            }
            println!("{out}");
        }
        Format::Text => {
            for (i, c) in candidates.iter().enumerate() {
                let lines = if c.end_line == c.start_line { format!("{}", c.start_line + 1) } else { format!("{}-{}", c.start_line + 1, c.end_line + 1) };
                println!("{}:{lines}  {:.2}  {}", c.path, c.score, c.reason);
                if let Some(Some(rewrite)) = rewrites.get(i) {
                    print!("{}", rewrite.text());
                }
            }
            let note = if args.locations_only { format!("; {NO_REWRITE}") } else { String::new() };
            println!("{} place(s) from {} edit(s) in {elapsed_ms:.1} ms ({rank_ms:.1} ms ranking){note}", candidates.len(), edits.len());
        }
    }
    std::mem::forget(snapshot);
    Ok(ExitCode::SUCCESS)
}

/// The working tree's changes against HEAD as edits, paths relative to `root`; files the
/// workspace ignores (`.gitignore`, `.ctxlsignore`, hidden, `index.exclude`, secrets by
/// their name) are left out. One diff of the working tree (it is what a call spends most
/// of its time on outside the index).
fn working_tree_edits(root: &Path, config: &crate::config::Config) -> anyhow::Result<Vec<Edit>> {
    let Some(prefix) = crate::io::git::root_prefix(root)? else {
        anyhow::bail!("{} is not inside a git repository: `next-edit` follows up the working tree's changes", root.display());
    };
    let diff = crate::io::git::working_tree_diff(root, &config.index, DIFF_BYTES)?.unwrap_or_default();
    let mut rules = crate::io::vfs::IgnoreRules::new(root, &config.index);
    let mut edits = Vec::new();
    for mut edit in parse_unified_diff(&diff) {
        // The diff's paths are relative to the repository; the edits' to the root.
        if !prefix.is_empty() {
            let Some(path) = edit.path.strip_prefix(&format!("{prefix}/")) else { continue };
            edit.path = path.to_string();
        }
        if rules.is_ignored(&root.join(&edit.path)) {
            continue;
        }
        edits.push(edit);
    }
    Ok(edits)
}

/// What the model made of one place.
enum Rewrite {
    /// Minimal edits of the file, lines 0-based.
    Offered(Vec<LineEdit>),
    /// Nothing offered, and why.
    Declined(String),
}

impl Rewrite {
    fn json(&self) -> serde_json::Value {
        match self {
            Rewrite::Offered(edits) => serde_json::json!({
                "status": "offered",
                "edits": edits.iter().map(|e| serde_json::json!({"line": e.start_line + 1, "replaces": e.end_line - e.start_line, "text": e.text})).collect::<Vec<_>>(),
            }),
            Rewrite::Declined(why) => serde_json::json!({"status": "declined", "why": why}),
        }
    }

    fn text(&self) -> String {
        match self {
            Rewrite::Offered(edits) => edits
                .iter()
                .map(|e| {
                    let replaced = if e.end_line == e.start_line { "insert before".to_string() } else { format!("replace {}-{} with", e.start_line + 1, e.end_line) };
                    let body: String = e.text.lines().map(|l| format!("    | {l}\n")).collect();
                    format!("  line {}: {replaced}\n{body}", e.start_line + 1)
                })
                .collect(),
            Rewrite::Declined(why) => format!("  no edit offered: {why}\n"),
        }
    }
}

/// Asks the completion model to rewrite the region around `place`: the recent edits (the
/// working tree's diff), the context retrieved there, the region; the answer diffed to
/// minimal edits, declined when it changes nothing, adds syntax errors or fails.
fn rewrite(root: &Path, config: &crate::config::Config, cache_dir: Option<&Path>, place: &crate::ide::next_edit::Candidate) -> Rewrite {
    use crate::config::Task;
    let Ok(text) = std::fs::read_to_string(root.join(&place.path)) else { return Rewrite::Declined(format!("{} could not be read", place.path)) };
    let Some(lang) = crate::lang::Lang::from_path(Path::new(&place.path)) else { return Rewrite::Declined("not a language ctxls parses".into()) };
    let region = region_around(&text, place.start_line as usize, place.end_line as usize);
    let settings = config.llm.for_task(Task::Completion);
    let recent = super::recent_edits(root, config, &config.llm.for_task(Task::Completion).model, config.completion.recent_edits_tokens);
    let offset = text.split_inclusive('\n').take(place.start_line as usize).map(str::len).sum::<usize>();
    let gathered = super::context::gather(root, config, cache_dir, &place.path, &text, offset, None, config.completion.context_tokens, crate::retrieve::Generators::ALL, crate::retrieve::Packing::Compact)
        .map_err(|err| tracing::warn!("no workspace context for the rewrite: {err:#}"))
        .ok();
    let excerpts = gathered.as_ref().map(|g| g.excerpts()).unwrap_or_default();
    let prompt = rewrite_prompt(&place.path, lang, &region, &place.reason, &recent, &excerpts);
    let counter = crate::llm::tokens::TokenCounter::for_model(&settings.model);
    let request = rewrite_request(prompt, &region, &settings, |t| counter.count(t));
    let client = crate::io::llm::LlmClient::new(settings.clone(), crate::io::llm::resolve_api_key(&settings));
    let answer = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(client.complete(&request, &mut |_| {})),
        Err(err) => return Rewrite::Declined(format!("no runtime: {err}")),
    };
    let answer = match answer {
        Ok(answer) => answer,
        Err(err) => {
            eprintln!("ctxls: no rewrite of {}:{}: {err}", place.path, place.start_line + 1);
            return Rewrite::Declined(format!("the model failed: {err}"));
        }
    };
    match check_answer(lang, &text, &region, &answer.text, answer.finish, request.max_tokens) {
        Ok(edits) => Rewrite::Offered(edits),
        Err(why) => Rewrite::Declined(why),
    }
}
