//! House rules checked under `cargo test`: the core layers do no IO and know nothing of
//! LSP, and every module opens with a `//!` line stating its job.

use std::path::Path;

const CORE: &[&str] = &["src/base", "src/lang", "src/index", "src/reqs", "src/retrieve", "src/knowledge", "src/ide", "src/llm", "src/config.rs"];
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
    let violations = uses_of(&files, FORBIDDEN);
    assert!(violations.is_empty(), "IO or LSP in the core:\n{}", violations.join("\n"));
}

/// Each use of a `forbidden` word in the code of `files`, as `path:line: word`.
fn uses_of(files: &[std::path::PathBuf], forbidden: &[&str]) -> Vec<String> {
    let mut violations = Vec::new();
    for (path, line, code) in code_lines(files) {
        for word in forbidden.iter().filter(|word| code.contains(*word)) {
            violations.push(format!("{path}:{line}: {word}"));
        }
    }
    violations
}

/// Every line of code in `files` as (path, 1-based line, the text before any `//`). Unit
/// tests may read fixtures and name anything: the rules cover everything but the items
/// under `#[cfg(test)]` and the test modules kept in files of their own (`tests.rs`).
fn code_lines(files: &[std::path::PathBuf]) -> Vec<(String, usize, String)> {
    let mut out = Vec::new();
    for file in files.iter().filter(|f| !f.ends_with("tests.rs")) {
        let text = std::fs::read_to_string(file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate().filter(|(i, _)| !in_test_item(&lines, *i)) {
            let code = line.split("//").next().unwrap_or("");
            out.push((file.display().to_string(), i + 1, code.to_string()));
        }
    }
    out
}

/// The workflow layer orders steps; what touches the world goes through its `Host` (the
/// CLI's or the server's) or the `io` modules it calls: no protocol, no terminal, no
/// direct file, network, database or HTTP access.
#[test]
fn the_workflows_reach_the_world_through_the_host_and_io() {
    const FORBIDDEN_IN_WORKFLOWS: &[&str] =
        &["tower_lsp_server", "ls_types", "reqwest", "git2", "rusqlite", "std::fs", "std::net", "clap", "indicatif", "print!", "println!", "std::io::stdout"];
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src/workflows"), &mut files);
    assert!(files.iter().any(|f| f.ends_with("host.rs")), "the Host interface is in src/workflows");
    let violations = uses_of(&files, FORBIDDEN_IN_WORKFLOWS);
    assert!(violations.is_empty(), "the workflows reach the world only through the Host and io::\n{}", violations.join("\n"));
}

/// Language facts live in one table (`lang::spec`): outside `src/lang`, code asks
/// `lang.spec()` and never compares `Lang` values or matches on them, so that a new
/// language cannot silently inherit another's behaviour (ARCHITECTURE.md, "Adding a
/// language"). Tests may name languages.
#[test]
fn no_language_fact_is_decided_outside_the_table() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.retain(|f| !f.starts_with(root.join("src/lang")));
    let comparison = regex::Regex::new(r"(==|!=)\s*(crate::lang::)?Lang::[A-Z]|(crate::lang::)?Lang::[A-Z][A-Za-z]*\s*(=>|\|)").unwrap();
    let violations: Vec<String> =
        code_lines(&files).into_iter().filter(|(_, _, code)| comparison.is_match(code)).map(|(path, line, code)| format!("{path}:{line}: {}", code.trim())).collect();
    assert!(violations.is_empty(), "a language fact decided outside lang::spec:\n{}", violations.join("\n"));
}

/// Whether line `at` belongs to an item marked `#[cfg(test)]`: from the attribute to the
/// item's `;`, or to the brace that closes it (braces in string and char literals skipped).
fn in_test_item(lines: &[&str], at: usize) -> bool {
    let mut i = 0;
    while i <= at {
        if lines[i].trim() != "#[cfg(test)]" {
            i += 1;
            continue;
        }
        let start = i;
        let mut depth = 0i32;
        let mut opened = false;
        let mut end = lines.len() - 1;
        'item: for (j, line) in lines.iter().enumerate().skip(start + 1) {
            let mut chars = line.split("//").next().unwrap_or("").chars().peekable();
            let mut in_string = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' if in_string => {
                        chars.next();
                    }
                    '"' => in_string = !in_string,
                    '\'' if !in_string => {
                        // A char literal ('{', '\''), not a lifetime.
                        let rest: String = chars.clone().take(3).collect();
                        if rest.starts_with('\\') || rest.chars().nth(1) == Some('\'') {
                            chars.nth(if rest.starts_with('\\') { 2 } else { 1 });
                        }
                    }
                    '{' if !in_string => {
                        depth += 1;
                        opened = true;
                    }
                    '}' if !in_string => depth -= 1,
                    ';' if !in_string && !opened && depth == 0 => {
                        end = j;
                        break 'item;
                    }
                    _ => {}
                }
            }
            if opened && depth <= 0 {
                end = j;
                break;
            }
        }
        if at <= end {
            return at >= start;
        }
        i = end + 1;
    }
    false
}

#[test]
fn a_test_item_ends_where_its_braces_close() {
    let lines = ["fn a() {}", "#[cfg(test)]", "mod tests {", "    const S: &str = \"}\";", "    fn b() { let c = '{'; }", "}", "fn after() { std::fs::read(\"x\"); }", "#[cfg(test)]", "mod more;", "use std::fs;"];
    let inside: Vec<bool> = (0..lines.len()).map(|i| in_test_item(&lines, i)).collect();
    assert_eq!(inside, [false, true, true, true, true, true, false, true, true, false]);
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
