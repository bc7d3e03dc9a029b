//! `ctxls index`: build or refresh the persistent index and print a summary.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::io::workspace::RefreshMode;

#[derive(Args, Debug)]
pub struct IndexArgs {
    /// Workspace root (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Print exactly one JSON object on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: IndexArgs, cache_dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let root = super::resolve_root(args.root.as_deref())?;
    let (_index, report) = super::open_and_refresh(&root, &super::load_config(&root), cache_dir, RefreshMode::CacheOnly);
    if args.json {
        let summary = serde_json::json!({
            "files": report.stats.files,
            "skipped": report.skipped_total(),
            "symbols": report.stats.symbols,
            "references": report.stats.references,
            "chunks": report.stats.chunks,
            "bytes": report.stats.bytes,
            "generated": report.stats.generated,
            "reparsed": report.reparsed,
            "seconds": (report.seconds * 1000.0).round() / 1000.0,
        });
        println!("{summary}");
    } else {
        let stats = report.stats;
        println!(
            "Indexed {} files ({:.1} MB) in {:.2} s: {} symbols, {} references, {} chunks; {} parsed, {} unchanged.",
            stats.files,
            stats.bytes as f64 / 1e6,
            report.seconds,
            stats.symbols,
            stats.references,
            stats.chunks,
            report.reparsed,
            stats.files.saturating_sub(report.reparsed),
        );
        if stats.generated > 0 {
            println!(
                "{} of them generated declaration files ({}+ lines, a definition every {} lines or less): their symbols indexed, not their references or text.",
                stats.generated,
                crate::index::GENERATED_MIN_LINES,
                crate::index::GENERATED_LINES_PER_SYMBOL,
            );
        }
        if report.skipped_total() > 0 {
            let parts: Vec<String> =
                report.skipped.iter().map(|(reason, n)| format!("{n} {}", reason.describe())).collect();
            println!("Skipped {} files: {}.", report.skipped_total(), parts.join(", "));
        }
        if report.removed > 0 {
            println!("Dropped {} files no longer in the workspace.", report.removed);
        }
    }
    Ok(ExitCode::SUCCESS)
}
