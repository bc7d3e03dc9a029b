//! `ctxls outline FILE...`: the definitions of files from their parse (no index): kind,
//! name, container and 1-based inclusive lines, in file order. The next-edit yardstick
//! uses it to find the definition a place lies in.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::lang::{parse, Lang};

#[derive(Args, Debug)]
pub struct OutlineArgs {
    /// Files to outline (Rust, TypeScript, TSX, JavaScript).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print one JSON object per file: `{"file", "definitions": [{"kind", "name",
    /// "container", "line", "end_line"}]}`.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: OutlineArgs) -> anyhow::Result<ExitCode> {
    let mut failed = false;
    for path in &args.files {
        let Some(lang) = Lang::from_path(path) else {
            eprintln!("ctxls: {}: not a language ctxls parses", path.display());
            failed = true;
            continue;
        };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) => {
                eprintln!("ctxls: {}: {err}", path.display());
                failed = true;
                continue;
            }
        };
        let file = crate::index::extract(lang, &text, &parse(lang, &text, None));
        let line = |offset: u32| file.line_index.line_col(offset).line + 1;
        if args.json {
            let definitions: Vec<serde_json::Value> = file
                .symbols
                .iter()
                .map(|s| {
                    serde_json::json!({
                        "kind": s.kind,
                        "name": s.name,
                        "container": s.container,
                        "line": line(s.range.start),
                        "end_line": line(s.range.end.saturating_sub(1).max(s.range.start)),
                    })
                })
                .collect();
            println!("{}", serde_json::json!({"file": path.display().to_string(), "definitions": definitions}));
        } else {
            for s in &file.symbols {
                println!("{}:{}-{} {} {}", path.display(), line(s.range.start), line(s.range.end.saturating_sub(1).max(s.range.start)), s.kind, file.qualified_name(s));
            }
        }
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
