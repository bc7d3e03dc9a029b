//! The knowledge yardstick (eval/knowledge): generation cases whose answer depends on a
//! document — a client function for an endpoint described only in the OpenAPI spec, an
//! analytics call from the tracking plan, a GraphQL query from the schema, an rpc
//! handler from the `.proto`, a retry policy or a signature check from the design notes.
//! Each case is a requirement comment in eval/knowledge/workspace; it is scored by
//! whether the request `ctxls generate --dry-run` would send holds the sections the
//! answer needs (`needs`: a document and a line of the needed section). The same cases
//! with documents turned off are the baseline (what an assistant without document
//! retrieval sends). Results: docs/context-quality.md.

mod support;

use std::path::Path;

use serde_json::Value;

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The prompt's document sections: (header naming the document, fenced text).
fn sections(documents: &str) -> impl Iterator<Item = (&str, &str)> {
    let mut rest = documents;
    std::iter::from_fn(move || {
        let open = rest.find(":\n```\n")?;
        let header = &rest[rest[..open].rfind('\n').map_or(0, |i| i + 1)..open];
        let body_start = open + ":\n```\n".len();
        let body_end = rest[body_start..].find("\n```\n").map_or(rest.len(), |i| body_start + i);
        let body = &rest[body_start..body_end];
        rest = &rest[(body_end + 1).min(rest.len())..];
        Some((header, body))
    })
}

struct Score {
    cases_met: usize,
    needs_met: usize,
    needs: usize,
    document_tokens: usize,
    /// Sections sent, and those of them some need of the case asked for.
    sections_sent: usize,
    sections_needed: usize,
    misses: Vec<String>,
}

fn run(documents: bool) -> (Score, usize) {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("eval/knowledge");
    let ws = support::TempWorkspace::new("");
    copy_dir(&here.join("workspace"), &ws.root());
    ws.write(".ctxls.toml", &format!("[llm]\nprovider = \"openai\"\nbase_url = \"http://127.0.0.1:9/v1\"\nmodel = \"gpt-4o-mini\"\n[documents]\nenabled = {documents}\n"));
    let cases = std::fs::read_to_string(here.join("cases.jsonl")).unwrap();
    let mut score = Score { cases_met: 0, needs_met: 0, needs: 0, document_tokens: 0, sections_sent: 0, sections_needed: 0, misses: Vec::new() };
    let mut count = 0;
    for line in cases.lines().filter(|l| !l.trim().is_empty()) {
        count += 1;
        let case: Value = serde_json::from_str(line).unwrap();
        let (status, stdout, stderr) = ws.ctxls(&["generate", case["at"].as_str().unwrap(), "--dry-run"]);
        assert!(status.success(), "{}: {stderr}", case["id"]);
        let body: Value = serde_json::from_str(stdout[stdout.find('{').unwrap()..].trim()).unwrap();
        let user = body["messages"][1]["content"].as_str().unwrap();
        let documents = user.find("From the project's documents").map_or("", |at| &user[at..]);
        score.document_tokens += documents.split_whitespace().count();
        let needs: Vec<(&str, &str)> = case["needs"].as_array().unwrap().iter().map(|n| (n[0].as_str().unwrap(), n[1].as_str().unwrap())).collect();
        for (header, body) in sections(documents) {
            score.sections_sent += 1;
            score.sections_needed += usize::from(needs.iter().any(|(path, text)| header.starts_with(&format!("{path} ")) && body.contains(text)));
        }
        let mut all = true;
        for need in case["needs"].as_array().unwrap() {
            let (path, text) = (need[0].as_str().unwrap(), need[1].as_str().unwrap());
            score.needs += 1;
            let found = sections(documents).any(|(header, body)| header.starts_with(&format!("{path} ")) && body.contains(text));
            if found {
                score.needs_met += 1;
            } else {
                all = false;
                score.misses.push(format!("{}: {path} `{text}`", case["id"].as_str().unwrap()));
            }
        }
        score.cases_met += usize::from(all);
    }
    (score, count)
}

#[test]
fn requests_hold_the_document_sections_their_answers_need() {
    let (with, cases) = run(true);
    let (without, _) = run(false);
    println!("knowledge yardstick: {cases} cases, {} needed sections", with.needs);
    println!(
        "  documents retrieved: {}/{cases} cases complete, {}/{} sections ({:.2}), ~{} words of documents per request",
        with.cases_met,
        with.needs_met,
        with.needs,
        with.needs_met as f64 / with.needs as f64,
        with.document_tokens / cases
    );
    println!(
        "  precision: {}/{} document sections sent were needed ({:.2}); the rest is related reading (schemas, neighbours)",
        with.sections_needed,
        with.sections_sent,
        with.sections_needed as f64 / with.sections_sent.max(1) as f64
    );
    println!("  documents off (baseline): {}/{cases} cases, {}/{} sections", without.cases_met, without.needs_met, without.needs);
    for miss in &with.misses {
        println!("  missed {miss}");
    }
    assert_eq!(without.needs_met, 0, "the baseline sends no documents");
    assert!(with.cases_met * 10 >= cases * 8, "at least 80% of the cases complete: {:?}", with.misses);
}
