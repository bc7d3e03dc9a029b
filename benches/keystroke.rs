//! One keystroke in a 2,000-line file: `didChange` to index updated, as the server does it
//! (incremental reparse, extraction of the file, replacement of its index entry).
//! Usage: `cargo bench --bench keystroke [-- FILE]`; without FILE, the first 2,000 lines
//! of the biggest Rust file of `$CTXLS_BENCH_CORPUS` (or a generated file).

use std::time::Instant;

use ctxls::base::{content_hash, TextRange};
use ctxls::index::{extract, extract_incremental, FileEntry, GeneratedFiles, WorkspaceIndex};
use ctxls::lang::{Document, Lang, TextEdit};

fn main() {
    let (name, lang, text) = input();
    let lines = text.lines().count();
    let mut doc = Document::new(lang, text);
    let mut index = WorkspaceIndex::new();
    let path = "bench.rs".to_string();
    index.insert(FileEntry::new(path.clone(), 0, extract(lang, doc.text(), doc.tree())));

    // Type into the middle of an identifier-rich line, one character at a time, then
    // delete what was typed: every edit keeps the code valid.
    let anchor = doc.text().find("let ").or_else(|| doc.text().find("const ")).unwrap_or(doc.text().len() / 2) as u32 + 4;
    let typed = "renamed_variable_";
    let mut samples = Vec::new();
    for round in 0..20 {
        for (i, ch) in typed.chars().enumerate() {
            let at = anchor + i as u32;
            samples.push(keystroke(&mut doc, &mut index, &path, TextEdit { range: TextRange::new(at, at), text: ch.to_string() }, round));
        }
        for i in (0..typed.len()).rev() {
            let at = anchor + i as u32;
            samples.push(keystroke(&mut doc, &mut index, &path, TextEdit { range: TextRange::new(at, at + 1), text: String::new() }, round));
        }
    }
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = samples[samples.len() / 2];
    let p90 = samples[samples.len() * 9 / 10];
    println!("keystroke: {name} ({lines} lines), {} edits: median {median:.3} ms, p90 {p90:.3} ms", samples.len());
}

fn keystroke(doc: &mut Document, index: &mut WorkspaceIndex, path: &str, edit: TextEdit, _round: usize) -> f64 {
    let started = Instant::now();
    doc.apply_edits(&[edit]);
    let previous = index.get(path).expect("indexed").clone();
    let file_index = match doc.last_change() {
        Some(change) => extract_incremental(doc.lang, doc.text(), doc.tree(), previous.index(), change, GeneratedFiles::Symbols),
        None => extract(doc.lang, doc.text(), doc.tree()),
    };
    index.insert(FileEntry::new(path.to_string(), content_hash(doc.text().as_bytes()), file_index));
    started.elapsed().as_secs_f64() * 1000.0
}

fn input() -> (String, Lang, String) {
    if let Some(file) = std::env::args().skip(1).find(|a| !a.starts_with('-')) {
        let text = std::fs::read_to_string(&file).expect("readable file");
        let lang = Lang::from_path(std::path::Path::new(&file)).expect("a supported language");
        return (file, lang, first_lines(&text, 2000));
    }
    if let Ok(corpus) = std::env::var("CTXLS_BENCH_CORPUS") {
        let mut best: Option<(u64, std::path::PathBuf)> = None;
        for entry in ignore::WalkBuilder::new(&corpus).build().flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "rs") {
                let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
                if size < 1 << 20 && best.as_ref().is_none_or(|(s, _)| size > *s) {
                    best = Some((size, path.to_path_buf()));
                }
            }
        }
        if let Some((_, path)) = best {
            let text = std::fs::read_to_string(&path).expect("readable file");
            return (path.display().to_string(), Lang::Rust, first_lines(&text, 2000));
        }
    }
    let mut text = String::new();
    for i in 0..200 {
        text.push_str(&format!(
            "/// Item {i}.\npub fn item_{i}(input: &[u32]) -> u32 {{\n    let total = input.iter().sum::<u32>();\n    let doubled = total * 2;\n    helper(doubled, {i})\n}}\n\npub struct S{i} {{ a: u32 }}\n\n"
        ));
    }
    ("generated.rs".to_string(), Lang::Rust, first_lines(&text, 2000))
}

fn first_lines(text: &str, n: usize) -> String {
    text.split_inclusive('\n').take(n).collect()
}
