//! House rules checked under `cargo test`: the core layers do no IO and know nothing of
//! LSP, and every module opens with a `//!` line stating its job.

use std::path::Path;

const CORE: &[&str] = &["src/base", "src/lang", "src/index", "src/reqs", "src/retrieve", "src/ide", "src/llm", "src/config.rs"];
const FORBIDDEN: &[&str] = &["tower_lsp_server", "ls_types", "reqwest", "git2", "tokio", "std::fs", "rusqlite", "std::net"];

fn rust_files(path: &Path, out: &mut Vec<std::path::PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            rust_files(&entry.unwrap().path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

#[test]
fn core_layers_do_no_io() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in CORE {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 5);
    let mut violations = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        // Unit tests may read fixtures: the rule covers the code above `#[cfg(test)]`.
        for (i, line) in text.lines().enumerate().take_while(|(_, l)| l.trim() != "#[cfg(test)]") {
            let code = line.split("//").next().unwrap_or("");
            for word in FORBIDDEN {
                if code.contains(word) {
                    violations.push(format!("{}:{}: {word}", file.display(), i + 1));
                }
            }
        }
    }
    assert!(violations.is_empty(), "IO or LSP in the core:\n{}", violations.join("\n"));
}

#[test]
fn every_module_states_its_job() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let missing: Vec<String> = files
        .iter()
        .filter(|f| !f.ends_with("tests.rs"))
        .filter(|f| !std::fs::read_to_string(f).unwrap().trim_start().starts_with("//!"))
        .map(|f| f.display().to_string())
        .collect();
    assert!(missing.is_empty(), "modules without a `//!` line: {missing:?}");
}
