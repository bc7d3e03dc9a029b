//! `ctxls symbols QUERY`: fuzzy symbol search over the workspace index.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::index::fuzzy_symbols;
use crate::io::workspace::RefreshMode;

#[derive(Args, Debug)]
pub struct SymbolsArgs {
    /// What to look for: a fuzzy pattern; with `::` or `.` it matches qualified names.
    pub query: String,
    /// Workspace root (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Print a JSON array of matches.
    #[arg(long)]
    pub json: bool,
    /// At most this many results.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

pub fn run(args: SymbolsArgs, cache_dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let root = super::resolve_root(args.root.as_deref())?;
    let (mut index, _report) = super::open_and_refresh(&root, &super::load_config(&root), cache_dir, RefreshMode::Load);
    let snapshot = index.snapshot();
    let matches = fuzzy_symbols(&snapshot, &args.query, args.limit);
    let mut json = Vec::new();
    for m in &matches {
        let Some(entry) = snapshot.file(m.file) else { continue };
        let symbol = &entry.index().symbols[m.symbol as usize];
        let pos = entry.index().line_index.line_col(symbol.name_range.start);
        if args.json {
            json.push(serde_json::json!({
                "file": entry.path,
                "line": pos.line + 1,
                "column": pos.col + 1,
                "kind": symbol.kind,
                "name": symbol.name,
                "container": symbol.container,
            }));
        } else {
            println!("{}:{}:{} {} {}", entry.path, pos.line + 1, pos.col + 1, symbol.kind, entry.index().qualified_name(symbol));
        }
    }
    if args.json {
        println!("{}", serde_json::Value::Array(json));
    }
    if matches.is_empty() {
        eprintln!("no symbol matches `{}` in {}", args.query, root.display());
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
