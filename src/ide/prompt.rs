//! Prompts from retrieved context. Completion: the snippets as commented excerpts of
//! other files, each headed by its path and lines, the least relevant first so that the
//! best sits nearest the code; then the current file's path and the code before the
//! cursor; the code after it as the fill-in-the-middle suffix (the provider or a FIM
//! template renders the final string). Chat: a system message, the snippets as fenced
//! excerpts with their paths, the code in focus, then the question.

use crate::lang::Lang;
use crate::llm::{FimFile, FimRepo, Message, Prompt};

/// A retrieved excerpt of another file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Excerpt<'a> {
    pub path: &'a str,
    /// 1-based, inclusive.
    pub start_line: u32,
    pub end_line: u32,
    pub text: &'a str,
}

pub struct CompletionInput<'a> {
    pub path: &'a str,
    pub lang: Lang,
    /// The code before and after the cursor (already cut to their windows).
    pub prefix: &'a str,
    pub suffix: &'a str,
    /// Best first, as retrieval returns them.
    pub excerpts: &'a [Excerpt<'a>],
    /// The recent edits as unified diffs, oldest first (`ide::edit_history`); empty for
    /// none.
    pub recent_edits: &'a str,
}

fn comment(lang: Lang) -> &'static str {
    lang.spec().line_comment
}

/// The excerpts of one file, merged: what a prompt shows of that file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileExcerpts<'a> {
    pub path: &'a str,
    /// 1-based, inclusive, in line order; overlapping or touching excerpts joined.
    pub ranges: Vec<(u32, u32)>,
    /// The excerpts' lines in line order, `...` on a line of its own between excerpts
    /// that do not touch.
    pub text: String,
}

impl FileExcerpts<'_> {
    /// `lines 2-3, 10-12`.
    pub fn lines(&self) -> String {
        let ranges: Vec<String> = self.ranges.iter().map(|(a, b)| format!("{a}-{b}")).collect();
        format!("lines {}", ranges.join(", "))
    }
}

/// The excerpts grouped by file, best first: a file ranks by its best excerpt. One
/// file's several excerpts cost one heading instead of one each (the path and lines are
/// a tenth of a short excerpt's tokens), and read as the file does, in line order;
/// measured with a real model in docs/generation-quality.md.
pub fn by_file<'a>(excerpts: &[Excerpt<'a>]) -> Vec<FileExcerpts<'a>> {
    let mut files: Vec<(&'a str, Vec<&Excerpt<'a>>)> = Vec::new();
    for excerpt in excerpts {
        match files.iter_mut().find(|(path, _)| *path == excerpt.path) {
            Some((_, list)) => list.push(excerpt),
            None => files.push((excerpt.path, vec![excerpt])),
        }
    }
    files
        .into_iter()
        .map(|(path, mut list)| {
            list.sort_by_key(|e| (e.start_line, e.end_line));
            let mut ranges: Vec<(u32, u32)> = Vec::new();
            let mut text = String::new();
            let mut shown_to = 0u32;
            for e in list {
                let lines: Vec<&str> = e.text.lines().collect();
                // Lines an earlier excerpt already showed are not repeated.
                let skip = if shown_to >= e.start_line { (shown_to - e.start_line + 1) as usize } else { 0 };
                if skip >= lines.len() && !ranges.is_empty() {
                    continue;
                }
                match ranges.last_mut() {
                    Some(last) if e.start_line <= last.1 + 1 => last.1 = last.1.max(e.end_line),
                    Some(_) => {
                        text.push_str("...\n");
                        ranges.push((e.start_line, e.end_line));
                    }
                    None => ranges.push((e.start_line, e.end_line)),
                }
                for line in lines.iter().skip(skip) {
                    text.push_str(line);
                    text.push('\n');
                }
                shown_to = shown_to.max(e.end_line);
            }
            FileExcerpts { path, ranges, text }
        })
        .collect()
}

/// The excerpts as a chat prompt shows them, best file first: each file's path and lines,
/// then its merged excerpts fenced as `fence` code.
pub fn fenced_excerpts(excerpts: &[Excerpt], fence: &str) -> String {
    let mut out = String::new();
    for file in by_file(excerpts) {
        out.push_str(&format!("{} ({}):\n```{fence}\n{}```\n\n", file.path, file.lines(), file.text));
    }
    out
}

pub fn completion_prompt(input: &CompletionInput) -> Prompt {
    let c = comment(input.lang);
    let files = by_file(input.excerpts);
    let mut prefix = String::new();
    for file in files.iter().rev() {
        prefix.push_str(&format!("{c} Path: {} ({})\n", file.path, file.lines()));
        for line in file.text.lines() {
            if line.is_empty() {
                prefix.push_str(c);
            } else {
                prefix.push_str(&format!("{c} {line}"));
            }
            prefix.push('\n');
        }
        prefix.push('\n');
    }
    if !input.recent_edits.is_empty() {
        prefix.push_str(&format!("{c} {RECENT_EDITS_TITLE}\n"));
        for line in input.recent_edits.lines() {
            prefix.push_str(&format!("{c} {line}\n"));
        }
        prefix.push('\n');
    }
    prefix.push_str(&format!("{c} Path: {}\n", input.path));
    prefix.push_str(input.prefix);
    // The repository form names each file by its path alone, as the models' repository-level
    // training data does (`<|file_sep|>path`).
    let mut files: Vec<FimFile> = files.iter().rev().map(|f| FimFile { filename: f.path.to_string(), text: f.text.clone() }).collect();
    if !input.recent_edits.is_empty() {
        files.push(FimFile { filename: RECENT_EDITS_FILE.to_string(), text: input.recent_edits.to_string() });
    }
    let repo = FimRepo { files, code_prefix: input.prefix.to_string() };
    Prompt::Fim { prefix, suffix: input.suffix.to_string(), repo: Some(repo) }
}

/// The heading of the recent edits in a completion prompt, and their file's name in the
/// repository form (`input_extra`).
pub const RECENT_EDITS_TITLE: &str = "Recent edits (unified diffs, oldest first):";
pub const RECENT_EDITS_FILE: &str = "recent-edits.diff";

/// Prefix and suffix sent around the cursor, at most (cut at line starts).
const MAX_PREFIX_BYTES: usize = 6_000;
const MAX_SUFFIX_BYTES: usize = 2_000;

/// The end of the code before the cursor that a completion prompt holds: whole lines.
pub fn prefix_window(prefix: &str) -> &str {
    if prefix.len() <= MAX_PREFIX_BYTES {
        return prefix;
    }
    let cut = crate::lang::ceil_char_boundary(prefix, prefix.len() - MAX_PREFIX_BYTES);
    let from = prefix[cut..].find('\n').map_or(cut, |i| cut + i + 1);
    &prefix[from..]
}

/// The start of the code after the cursor that a completion prompt holds: whole lines.
pub fn suffix_window(suffix: &str) -> &str {
    if suffix.len() <= MAX_SUFFIX_BYTES {
        return suffix;
    }
    let cut = crate::lang::floor_char_boundary(suffix, MAX_SUFFIX_BYTES);
    let to = suffix[..cut].rfind('\n').map_or(cut, |i| i + 1);
    &suffix[..to]
}

/// The Markdown fence's language name for code of `lang`.
pub fn fence(lang: Lang) -> &'static str {
    lang.spec().fence
}

pub const CHAT_SYSTEM: &str = "You are a senior engineer helping with a codebase. Answer precisely and briefly. \
The excerpts given are from the user's workspace and may be partial; say so when the answer depends on code you cannot see.";

/// The code the question is about.
pub struct Focus<'a> {
    pub path: &'a str,
    pub start_line: u32,
    pub end_line: u32,
    pub text: &'a str,
}

pub fn chat_prompt(question: &str, excerpts: &[Excerpt], focus: Option<&Focus>) -> Prompt {
    let mut user = String::new();
    if !excerpts.is_empty() {
        user.push_str("Related code from the workspace:\n\n");
        user.push_str(&fenced_excerpts(excerpts, ""));
    }
    if let Some(focus) = focus {
        user.push_str(&format!("File {}, lines {}-{}:\n```\n{}\n```\n\n", focus.path, focus.start_line, focus.end_line, focus.text));
    }
    user.push_str(question);
    Prompt::Chat(vec![Message::system(CHAT_SYSTEM), Message::user(user)])
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;

    const EXCERPTS: &[Excerpt] = &[
        Excerpt { path: "src/map.rs", start_line: 2, end_line: 3, text: "pub struct Map {\n\n    inner: Vec<u32>," },
        Excerpt { path: "src/error.rs", start_line: 1, end_line: 1, text: "pub enum Error { Eof }" },
    ];

    #[test]
    fn completion_prompt_puts_the_best_excerpt_nearest_the_code() {
        let input = CompletionInput { path: "src/de.rs", lang: Lang::Rust, prefix: "fn parse() -> Map {\n    ", suffix: "\n}\n", excerpts: EXCERPTS, recent_edits: "" };
        let Prompt::Fim { prefix, suffix, repo } = completion_prompt(&input) else { panic!("a FIM prompt") };
        expect![[r#"
            // Path: src/error.rs (lines 1-1)
            // pub enum Error { Eof }

            // Path: src/map.rs (lines 2-3)
            // pub struct Map {
            //
            //     inner: Vec<u32>,

            // Path: src/de.rs
            fn parse() -> Map {
                "#]]
        .assert_eq(&prefix);
        assert_eq!(suffix, "\n}\n");
        let repo = repo.expect("the parts, for servers that lay the prompt out themselves");
        assert_eq!(repo.code_prefix, "fn parse() -> Map {\n    ");
        let names: Vec<&str> = repo.files.iter().map(|f| f.filename.as_str()).collect();
        assert_eq!(names, ["src/error.rs", "src/map.rs"], "the best nearest the code");
        assert_eq!(repo.files[1].text, "pub struct Map {\n\n    inner: Vec<u32>,\n");
    }

    #[test]
    fn one_files_excerpts_are_merged_in_line_order_under_one_heading() {
        let excerpts = [
            Excerpt { path: "src/map.rs", start_line: 40, end_line: 41, text: "    pub fn get(&self) -> u32 {\n        self.inner[0]" },
            Excerpt { path: "src/error.rs", start_line: 1, end_line: 1, text: "pub enum Error { Eof }" },
            Excerpt { path: "src/map.rs", start_line: 2, end_line: 3, text: "pub struct Map {\n    inner: Vec<u32>," },
            Excerpt { path: "src/map.rs", start_line: 3, end_line: 4, text: "    inner: Vec<u32>,\n}" },
        ];
        let files = by_file(&excerpts);
        assert_eq!(files.iter().map(|f| f.path).collect::<Vec<_>>(), ["src/map.rs", "src/error.rs"], "a file ranks by its best excerpt");
        assert_eq!(files[0].ranges, [(2, 4), (40, 41)], "overlapping excerpts joined");
        assert_eq!(files[0].lines(), "lines 2-4, 40-41");
        assert_eq!(files[0].text, "pub struct Map {\n    inner: Vec<u32>,\n}\n...\n    pub fn get(&self) -> u32 {\n        self.inner[0]\n", "no line twice");
        let input = CompletionInput { path: "src/de.rs", lang: Lang::Rust, prefix: "fn f() {\n    ", suffix: "\n}\n", excerpts: &excerpts, recent_edits: "" };
        let Prompt::Fim { prefix, repo, .. } = completion_prompt(&input) else { panic!("a FIM prompt") };
        expect![[r#"
            // Path: src/error.rs (lines 1-1)
            // pub enum Error { Eof }

            // Path: src/map.rs (lines 2-4, 40-41)
            // pub struct Map {
            //     inner: Vec<u32>,
            // }
            // ...
            //     pub fn get(&self) -> u32 {
            //         self.inner[0]

            // Path: src/de.rs
            fn f() {
                "#]]
        .assert_eq(&prefix);
        let repo = repo.unwrap();
        assert_eq!(repo.files.iter().map(|f| f.filename.as_str()).collect::<Vec<_>>(), ["src/error.rs", "src/map.rs"], "the best file nearest the code");
    }

    #[test]
    fn completion_prompt_puts_the_recent_edits_between_the_excerpts_and_the_code() {
        let edits = "--- a/src/map.rs\n+++ b/src/map.rs\n@@ -3 +3 @@\n-    inner: Vec<u16>,\n+    inner: Vec<u32>,\n";
        let input = CompletionInput { path: "src/de.rs", lang: Lang::Rust, prefix: "fn parse() -> Map {\n    ", suffix: "\n}\n", excerpts: &EXCERPTS[1..], recent_edits: edits };
        let Prompt::Fim { prefix, repo, .. } = completion_prompt(&input) else { panic!("a FIM prompt") };
        expect![[r#"
            // Path: src/error.rs (lines 1-1)
            // pub enum Error { Eof }

            // Recent edits (unified diffs, oldest first):
            // --- a/src/map.rs
            // +++ b/src/map.rs
            // @@ -3 +3 @@
            // -    inner: Vec<u16>,
            // +    inner: Vec<u32>,

            // Path: src/de.rs
            fn parse() -> Map {
                "#]]
        .assert_eq(&prefix);
        let files = repo.unwrap().files;
        assert_eq!(files.last().map(|f| (f.filename.as_str(), f.text.as_str())), Some((RECENT_EDITS_FILE, edits)), "nearest the code");
    }

    #[test]
    fn chat_prompt_has_the_excerpts_the_focus_and_the_question() {
        let focus = Focus { path: "src/de.rs", start_line: 4, end_line: 5, text: "fn parse() {}" };
        let Prompt::Chat(messages) = chat_prompt("What does parse return?", EXCERPTS, Some(&focus)) else { panic!("chat") };
        assert_eq!(messages.len(), 2);
        expect![[r#"
            Related code from the workspace:

            src/map.rs (lines 2-3):
            ```
            pub struct Map {

                inner: Vec<u32>,
            ```

            src/error.rs (lines 1-1):
            ```
            pub enum Error { Eof }
            ```

            File src/de.rs, lines 4-5:
            ```
            fn parse() {}
            ```

            What does parse return?"#]]
        .assert_eq(&messages[1].content);
    }
}
