//! Fuzzing with proptest, through the library's public API: every parser that reads what
//! a client, a model or a user hands us must never panic, and must keep its invariants.
//! A short run is part of the suite (`PROPTEST_CASES`, 256 by default); a long one:
//! `PROPTEST_CASES=20000 cargo test --release --test fuzz` (docs/reliability.md). Cases
//! proptest finds failing are saved in `tests/fuzz.proptest-regressions` and replayed
//! first on every run: the crashers' corpus (so far one false alarm of this file's own
//! requirement property, kept as a case).

use ctxls::base::{LineCol, LineIndex, PositionEncoding};
use ctxls::config::Config;
use ctxls::ide::search_replace;
use ctxls::lang::{parse, Lang};
use ctxls::llm::stream::{NdjsonParser, SseParser};
use ctxls::reqs::{self, Markers};
use proptest::prelude::*;

/// Text with the characters that break position arithmetic: multi-byte UTF-8, astral
/// characters (two UTF-16 units), CRLF, tabs.
fn tricky_text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop_oneof![Just("a"), Just("é"), Just("😀"), Just("\n"), Just("\r\n"), Just("\t"), Just("中"), Just(" "), Just("}")], 0..80)
        .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256), ..ProptestConfig::default() })]

    /// Client positions (any line, any column, both encodings) always land on a char
    /// boundary inside the text, and a boundary's position converts back to itself.
    #[test]
    fn positions_convert_inside_the_text(text in tricky_text(), line in 0u32..30, col in 0u32..200, utf16 in any::<bool>()) {
        let index = LineIndex::new(&text);
        let encoding = if utf16 { PositionEncoding::Utf16 } else { PositionEncoding::Utf8 };
        let utf8 = index.from_encoding(LineCol { line, col }, encoding);
        let offset = index.offset(utf8) as usize;
        prop_assert!(offset <= text.len());
        if encoding == PositionEncoding::Utf16 {
            prop_assert!(text.is_char_boundary(offset), "offset {offset} splits a character");
        }
        for (boundary, _) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
            let pos = index.line_col(boundary as u32);
            let client = index.to_encoding(pos, encoding);
            let back = index.offset(index.from_encoding(client, encoding));
            // A `\r` before `\n` is not a position of its own in every client; the rest round-trips.
            if !text[..boundary].ends_with('\r') {
                prop_assert_eq!(back as usize, boundary);
            }
        }
    }

    /// SSE: any bytes, cut anywhere, never panic; a well-formed stream gives the same
    /// events however it is cut.
    #[test]
    fn sse_parser_is_cut_proof(garbage in prop::collection::vec(any::<u8>(), 0..400), datas in prop::collection::vec("[a-z {}\":,]{0,20}", 0..6), cuts in prop::collection::vec(0usize..200, 0..6)) {
        let mut parser = SseParser::default();
        let _ = parser.push(&garbage);
        let _ = parser.finish();
        let stream: String = datas.iter().map(|d| format!("data: {d}\n\n")).collect();
        let whole = {
            let mut p = SseParser::default();
            let mut events = p.push(stream.as_bytes());
            events.extend(p.finish());
            events
        };
        let mut p = SseParser::default();
        let mut events = Vec::new();
        let bytes = stream.as_bytes();
        let mut at = 0;
        let mut cuts = cuts.clone();
        cuts.sort();
        for cut in cuts.into_iter().map(|c| c.min(bytes.len())) {
            if cut > at {
                events.extend(p.push(&bytes[at..cut]));
                at = cut;
            }
        }
        events.extend(p.push(&bytes[at..]));
        events.extend(p.finish());
        prop_assert_eq!(events.len(), whole.len());
        prop_assert_eq!(whole.iter().map(|e| e.data.clone()).collect::<Vec<_>>(), datas);
    }

    /// NDJSON: garbage lines are errors, never panics; good lines come through however cut.
    #[test]
    fn ndjson_parser_never_panics(garbage in prop::collection::vec(any::<u8>(), 0..400), split in 0usize..400) {
        let mut parser = NdjsonParser::default();
        let cut = split.min(garbage.len());
        let mut items = parser.push(&garbage[..cut]);
        items.extend(parser.push(&garbage[cut..]));
        items.extend(parser.finish());
        let good = "{\"response\":\"a\"}\n{\"response\":\"b\",\"done\":true}\n";
        let mut parser = NdjsonParser::default();
        let mut items = parser.push(&good.as_bytes()[..cut.min(good.len())]);
        items.extend(parser.push(&good.as_bytes()[cut.min(good.len())..]));
        items.extend(parser.finish());
        prop_assert_eq!(items.iter().filter(|i| i.is_ok()).count(), 2);
    }

    /// SEARCH/REPLACE answers: any text parses or fails cleanly; any blocks plan or fail
    /// cleanly against any files; a plan's edits are sorted, disjoint, inside the old
    /// text, and applying them gives the plan's new text.
    #[test]
    fn search_replace_never_panics_and_plans_consistently(
        answer in "(src/a\\.rs\n|<<<<<<< SEARCH\n|=======\n|>>>>>>> REPLACE\n|fn a\\(\\) \\{\\}\n|    x\n|\n|[a-z ]{0,8}\n){0,14}",
        file in "(fn a\\(\\) \\{\\}\n|    x\n|\n|[a-z ]{0,8}\n){0,8}",
    ) {
        let Ok(blocks) = search_replace::parse(&answer) else { return Ok(()) };
        let files = |path: &str| (path == "src/a.rs").then(|| file.clone());
        if let Ok(plan) = search_replace::plan(&blocks, &files) {
            for change in &plan.files {
                let old = change.old_text.clone().unwrap_or_default();
                let mut rebuilt = String::new();
                let mut at = 0;
                for (start, end, text) in &change.edits {
                    prop_assert!(at <= *start && start <= end && *end <= old.len(), "edits sorted, disjoint and inside");
                    rebuilt.push_str(&old[at..*start]);
                    rebuilt.push_str(text);
                    at = *end;
                }
                rebuilt.push_str(&old[at..]);
                prop_assert_eq!(&rebuilt, &change.new_text);
            }
            let _ = search_replace::unified_diff(&plan);
        }
    }

    /// Requirement comments: any code, any markers, never a panic; every requirement
    /// found lies inside the text and on comment lines.
    #[test]
    fn requirement_detection_never_panics(
        code in "(// AI: [a-z ]{0,10}\n|/\\* @ai [a-z]{0,5} \\*/\n|let s = \"// AI: no\";\n|fn f\\(\\) \\{\n|\\}\n|// [a-z]{0,6} AI[!?]\n|// AI[!?] [a-z]{0,6}\n|[a-z(){};\"/*]{0,12}\n){0,10}",
        marker in "[A-Za-z@:!?]{0,4}",
        rust in any::<bool>(),
    ) {
        let lang = if rust { Lang::Rust } else { Lang::TypeScript };
        let tree = parse(lang, &code, None);
        let markers = Markers { act_prefixes: vec!["AI:".into(), marker.clone()], act_suffixes: vec!["AI!".into()], ask_suffixes: vec!["AI?".into(), marker] };
        for r in reqs::find(&code, &tree, &markers) {
            prop_assert!((r.range.end as usize) <= code.len() && r.range.start <= r.range.end);
            // The comment node it starts in, never a string (an unclosed `/*` makes the rest
            // of the file a comment, strings' text included).
            let mut kinds = Vec::new();
            let mut node = tree.root_node().descendant_for_byte_range(r.range.start as usize, r.range.start as usize);
            while let Some(n) = node {
                kinds.push(n.kind());
                node = n.parent();
            }
            prop_assert!(kinds.iter().any(|k| k.contains("comment")), "in a comment: {kinds:?}");
            prop_assert!(!kinds.iter().any(|k| k.contains("string")), "never inside a string: {kinds:?}");
        }
    }

    /// Configuration: any TOML or JSON document is applied key by key or reported; it
    /// never panics, and a rejected key leaves the previous value.
    #[test]
    fn configuration_never_panics(toml in "(\\[[a-z.]{0,12}\\]\n|[a-z_]{1,12} = (\"[a-z:/.0-9]{0,10}\"|[0-9-]{1,6}|true|\\[\\]|\\{\\})\n|[=\\[\\]\"#a-z\n ]{0,10}){0,10}", json in "[\\[\\]{}\":,a-z0-9 .-]{0,80}") {
        let mut config = Config::default();
        let _ = config.apply_toml(".ctxls.toml", &toml);
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(&json) {
            let before = config.clone();
            let issues = config.apply_json("initializationOptions", &value);
            if !issues.is_empty() && value.as_object().is_some_and(|o| o.len() == 1) && issues.iter().all(|i| i.key.is_empty()) {
                prop_assert_eq!(config, before);
            }
        }
    }
}
