//! The code actions (explain, document, tests, fix, refactor, answer a question) at a
//! site: the comment or requirement a position names, the action's target and what it
//! queries, and the request (instruction files and knowledge). Target finding parses and
//! requests read instruction files: the server calls both on the blocking pool.
//! `action` and `chat` order the steps over a [`Host`], which gathers the context, asks
//! the model and shows or applies the answer (`ide::actions::edit`).

use std::path::Path;

use tree_sitter::Tree;

use super::host::{self, Ask, ContextAt, Done, Host, OwnedExcerpt, Proposal, Purpose, Stop};
use crate::base::{LineIndex, TextRange};
use crate::config::{Config, ModelSettings, Task};
use crate::ide::actions::{self, Action, Target};
use crate::ide::knowledge::Knowledge;
use crate::ide::prompt::{Excerpt, Focus};
use crate::lang::Lang;
use crate::llm::{Prompt, Request};
use crate::reqs::{Kind, Requirement};

/// Lines of a file a question is about sent with it, around its line.
const WINDOW_LINES: usize = 80;

/// Tokens of workspace context sent with a question about a file.
const CHAT_CONTEXT_TOKENS: usize = 2048;

/// A code action (explain, document, tests, fix, refactor, answer a question) on the
/// target at `selection` of the file at `at` (parsed): the target, the context there, the
/// knowledge, the request with the recent edits; the answer shown (explanations) or
/// proposed as one edit of the target.
pub async fn action<H: Host>(host: &H, action: Action, at: ContextAt, selection: TextRange) -> Done<H::Reply> {
    let what = action.title();
    let Some((lang, tree)) = at.parsed.clone() else { return Err(Stop::Invalid(format!("{what}: {} is not in a supported language", at.rel))) };
    let (rel, text) = (at.rel.clone(), at.text.clone());
    // The target: a parse, on the blocking pool.
    let prepared = {
        let (action, text) = (action.clone(), text.clone());
        host::blocking(move || prepare(&action, lang, &text, &tree, selection)).await?
    };
    let excerpts = host.context(at, prepared.query.clone(), super::requirements::CONTEXT_TOKENS).await;
    let knowledge = match host.root() {
        Some(_) => host.knowledge(prepared.mention_text.clone(), prepared.doc_query.clone()).await,
        None => Knowledge::default(),
    };
    // The request: instruction files are read, on the blocking pool.
    let (settings, mut request) = {
        let (root, config, action, prepared, rel, text) =
            (host.root().map(Path::to_path_buf), host.config().clone(), action.clone(), prepared.clone(), rel.clone(), text.clone());
        host::blocking(move || {
            let target = prepared.target(&rel, lang, &text);
            request(root.as_deref(), &config, &action, &target, &OwnedExcerpt::borrowed(&excerpts), &knowledge)
        })
        .await?
    };
    let recent = host.recent_edits(&settings.model, host.config().completion.recent_edits_tokens).await;
    request.prompt = crate::ide::edit_history::apply_to_chat(request.prompt, &recent);
    let purpose = if action.is_explanation() { Purpose::Answer } else { Purpose::Edit };
    let answer = host::ask(host, Ask { what, settings: &settings, request: &request, purpose }, "").await?;
    if action.is_explanation() {
        return host::propose(host, Proposal::Message { about: &rel, text: &answer.text }).await;
    }
    let target = prepared.target(&rel, lang, &text);
    let Some(edit) = actions::edit(&action, &target, &answer.text) else { return Err(Stop::NoChange) };
    host::propose(host, Proposal::Edit { rel: &rel, text: &text, edit }).await
}

/// A question about the code (`ctxls chat`), maybe about a file (`file`: as the user named
/// it, and a 1-based line): the file read as the host's rules allow, its lines around the
/// line (else its start) sent with the context retrieved there; the knowledge, the
/// instruction files and the recent edits; the answer shown.
pub async fn chat<H: Host>(host: &H, question: &str, file: Option<(&str, Option<usize>)>) -> Done<H::Reply> {
    const WHAT: &str = "Answer";
    let mut focus_text = None;
    let mut excerpts = Vec::new();
    if let Some((name, line)) = file {
        let (rel, text) = host.read(name).await.map_err(Stop::Invalid)?;
        let lines: Vec<&str> = text.lines().collect();
        let (from, to) = match line {
            Some(line) => {
                let center = line.saturating_sub(1).min(lines.len());
                (center.saturating_sub(WINDOW_LINES / 2), (center + WINDOW_LINES / 2).min(lines.len()))
            }
            None => (0, lines.len().min(WINDOW_LINES * 4)),
        };
        let offset = line_start(&text, line.unwrap_or(1).max(1)).unwrap_or(0);
        let window = lines[from..to].join("\n");
        excerpts = host.context(ContextAt { rel: rel.clone(), text: text.clone(), offset, parsed: None }, Some(question.to_string()), CHAT_CONTEXT_TOKENS).await;
        focus_text = Some((rel, from, to, window));
    }
    let knowledge = host.knowledge(question.to_string(), question.to_string()).await;
    let (settings, mut request) = {
        let (root, config, question) = (host.root().ok_or(Stop::NoRoot)?.to_path_buf(), host.config().clone(), question.to_string());
        host::blocking(move || {
            let focus = focus_text.as_ref().map(|(path, from, to, text)| Focus { path, start_line: *from as u32 + 1, end_line: *to as u32, text });
            chat_request(&root, &config, &question, focus.as_ref(), &OwnedExcerpt::borrowed(&excerpts), &knowledge)
        })
        .await?
    };
    let recent = host.recent_edits(&settings.model, host.config().completion.recent_edits_tokens).await;
    request.prompt = crate::ide::edit_history::apply_to_chat(request.prompt, &recent);
    let answer = host::ask(host, Ask { what: WHAT, settings: &settings, request: &request, purpose: Purpose::Answer }, "").await?;
    host::propose(host, Proposal::Message { about: file.map_or("", |(name, _)| name), text: &answer.text }).await
}

/// The byte offset where 1-based `line` starts; `None` past the end.
fn line_start(text: &str, line: usize) -> Option<usize> {
    let mut start = 0;
    for _ in 1..line {
        start += text[start..].find('\n')? + 1;
    }
    Some(start)
}

/// The comment a position names: a requirement comment there, else any comment at (or
/// ending on the line of) the position; its range and its words.
pub fn comment_at(text: &str, tree: &Tree, offset: usize, config: &Config) -> Option<(TextRange, String)> {
    let markers = crate::reqs::Markers::from(&config.requirements);
    let requirement = crate::reqs::find(text, tree, &markers).into_iter().find(|r| r.range.contains_inclusive(offset as u32));
    match requirement {
        Some(r) => Some((r.range, r.text)),
        None => any_comment_at(text, tree, offset),
    }
}

/// The words of the requirement comment at `offset`: what context is queried with when
/// the user gives no query (`ctxls context`, `ctxls.showContext`).
pub fn requirement_at(text: &str, tree: &Tree, offset: usize, config: &Config) -> Option<String> {
    let markers = crate::reqs::Markers::from(&config.requirements);
    if !markers.may_occur_in(text) {
        return None;
    }
    crate::reqs::find(text, tree, &markers).into_iter().find(|r| r.range.contains_inclusive(offset as u32)).map(|r| r.text)
}

/// A question's request (`ctxls chat`): the question with the file it is about
/// (`focus`), the excerpts, the instruction files of that file (of the root without one)
/// and the knowledge. Reads instruction files.
pub fn chat_request(
    root: &Path,
    config: &Config,
    question: &str,
    focus: Option<&crate::ide::prompt::Focus>,
    excerpts: &[Excerpt],
    knowledge: &Knowledge,
) -> (ModelSettings, Request) {
    let settings = config.llm.for_task(Task::Chat);
    let about = focus.map_or("", |f| f.path);
    let prompt = with_knowledge(Some(root), config, &[about], crate::ide::prompt::chat_prompt(question, excerpts, focus), knowledge);
    let request = Request { prompt, max_tokens: settings.max_tokens.max(1024), temperature: settings.temperature, stop: Vec::new() };
    (settings, request)
}

/// The code a question in the comment at `range` is about: the definition it sits in or
/// above.
pub fn question_scope(lang: Lang, text: &str, tree: &Tree, range: TextRange, question: &str) -> TextRange {
    let file = crate::index::extract(lang, text, tree);
    let lines = LineIndex::new(text);
    let requirement =
        Requirement { kind: Kind::Ask, text: question.to_string(), range, start_line: lines.line_col(range.start).line, end_line: lines.line_col(range.end).line };
    crate::reqs::scope(&file, &requirement)
}

/// What an action works on: whole lines, the zero-based line of their start, and the
/// texts that retrieval, mentions and documents are queried with.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub range: TextRange,
    pub line: u32,
    /// Retrieval's query (a refactoring's instruction).
    pub query: Option<String>,
    /// Where mentions count: what the user wrote.
    pub mention_text: String,
    /// Documents are looked up for explanations, questions and instructions.
    pub doc_query: String,
}

/// The action's target at `selection` (empty: the definition at the cursor). Parses.
pub fn prepare(action: &Action, lang: Lang, text: &str, tree: &Tree, selection: TextRange) -> Prepared {
    let file = crate::index::extract(lang, text, tree);
    let range = actions::target_range(&file, text, selection);
    let line = text[..range.start as usize].matches('\n').count() as u32;
    let query = match action {
        Action::Refactor { instruction } => Some(instruction.clone()),
        _ => None,
    };
    let (mention_text, doc_query) = match action {
        Action::Answer { question } => (question.clone(), question.clone()),
        Action::Refactor { instruction } => (instruction.clone(), instruction.clone()),
        Action::Explain => (String::new(), text[range.start as usize..range.end as usize].chars().take(2000).collect()),
        _ => (String::new(), String::new()),
    };
    Prepared { range, line, query, mention_text, doc_query }
}

impl Prepared {
    pub fn target<'a>(&self, path: &'a str, lang: Lang, text: &'a str) -> Target<'a> {
        Target { path, lang, text, range: self.range, line: self.line }
    }
}

/// The action's request: its prompt with the instruction files of the target's file
/// (under `root`, when the file is in a workspace folder) and the knowledge. Reads
/// instruction files.
pub fn request(root: Option<&Path>, config: &Config, action: &Action, target: &Target, excerpts: &[Excerpt], knowledge: &Knowledge) -> (ModelSettings, Request) {
    let settings = config.llm.for_task(Task::Chat);
    let prompt = with_knowledge(root, config, &[target.path], actions::prompt(action, target, excerpts), knowledge);
    let request = Request { prompt, max_tokens: settings.max_tokens, temperature: settings.temperature, stop: Vec::new() };
    (settings, request)
}

/// `prompt` with the project instructions for `rels` and the knowledge gathered for it.
pub fn with_knowledge(root: Option<&Path>, config: &Config, rels: &[&str], prompt: Prompt, knowledge: &Knowledge) -> Prompt {
    let instructions = root.map(|root| crate::io::instructions::section(root, rels, config)).unwrap_or_default();
    let prompt = crate::ide::instructions::apply(prompt, &instructions);
    crate::ide::knowledge::apply(prompt, &crate::ide::knowledge::render(knowledge))
}

/// The comment at (or ending on the line of) `offset`: its range and its text without
/// comment markers.
fn any_comment_at(text: &str, tree: &Tree, offset: usize) -> Option<(TextRange, String)> {
    let root = tree.root_node();
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let indent = text[line_start..].len() - text[line_start..].trim_start_matches([' ', '\t']).len();
    // Under the cursor, just before it (the end of a line comment), or on its line.
    let node = [offset, offset.saturating_sub(1), line_start + indent].into_iter().find_map(|at| {
        let mut node = root.descendant_for_byte_range(at, at)?;
        loop {
            if node.kind().contains("comment") {
                return Some(node);
            }
            node = node.parent()?;
        }
    })?;
    // Consecutive line comments form one instruction.
    let (mut first, mut last) = (node, node);
    while let Some(prev) = first.prev_sibling().filter(|p| p.kind().contains("comment") && first.start_position().row == p.end_position().row + 1) {
        first = prev;
    }
    while let Some(next) = last.next_sibling().filter(|n| n.kind().contains("comment") && n.start_position().row == last.end_position().row + 1) {
        last = next;
    }
    let range = TextRange::new(first.start_byte() as u32, last.end_byte() as u32);
    let comment = &text[range.start as usize..range.end as usize];
    let instruction: Vec<&str> = comment
        .lines()
        .map(|l| l.trim().trim_start_matches("///").trim_start_matches("//").trim_start_matches("/**").trim_start_matches("/*").trim_end_matches("*/").trim_start_matches('*').trim())
        .filter(|l| !l.is_empty())
        .collect();
    (!instruction.is_empty()).then(|| (range, instruction.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::parse;

    fn at(fixture: &str) -> (String, usize) {
        let offset = fixture.find("$0").expect("a $0 marker");
        (fixture.replace("$0", ""), offset)
    }

    #[test]
    fn a_requirement_comment_first_else_any_comment_with_its_neighbours() {
        let config = Config::default();
        let (text, offset) = at("fn f() {}\n// AI: add a$0 logout\nfn g() {}\n");
        let tree = parse(Lang::Rust, &text, None);
        let (range, words) = comment_at(&text, &tree, offset, &config).expect("the requirement");
        assert_eq!((words.as_str(), &text[range.as_usize()]), ("add a logout", "// AI: add a logout"));
        // Not a requirement: consecutive line comments are one instruction.
        let (text, offset) = at("fn f() {\n    // make this\n    // faster$0\n    g();\n}\n");
        let tree = parse(Lang::Rust, &text, None);
        assert_eq!(comment_at(&text, &tree, offset, &config).map(|(_, w)| w).as_deref(), Some("make this faster"));
        let (text, offset) = at("fn f() {\n    g($0);\n}\n");
        assert_eq!(comment_at(&text, &parse(Lang::Rust, &text, None), offset, &config), None);
    }

    #[test]
    fn a_question_is_about_the_definition_below_it_and_an_action_about_the_one_at_the_cursor() {
        let text = "// why is this slow AI?\nfn slow(n: u64) -> u64 {\n    (0..n).sum()\n}\n";
        let tree = parse(Lang::Rust, text, None);
        let comment = TextRange::new(0, 23);
        let scope = question_scope(Lang::Rust, text, &tree, comment, "why is this slow");
        assert!(text[scope.as_usize()].contains("fn slow"), "{:?}", &text[scope.as_usize()]);
        let cursor = text.find("sum").unwrap() as u32;
        let explain = prepare(&Action::Explain, Lang::Rust, text, &tree, TextRange::new(cursor, cursor));
        assert_eq!(explain.line, 1);
        assert!(explain.doc_query.starts_with("fn slow") && explain.query.is_none());
        let refactor = prepare(&Action::Refactor { instruction: "use a loop".into() }, Lang::Rust, text, &tree, TextRange::new(cursor, cursor));
        assert_eq!((refactor.query.as_deref(), refactor.mention_text.as_str()), (Some("use a loop"), "use a loop"));
    }

    #[test]
    fn the_requirement_at_a_position_is_the_default_query() {
        let config = Config::default();
        let (text, offset) = at("// AI: cache the $0headers\nfn h() {}\n");
        let tree = parse(Lang::Rust, &text, None);
        assert_eq!(requirement_at(&text, &tree, offset, &config).as_deref(), Some("cache the headers"));
        assert_eq!(requirement_at(&text, &tree, text.len(), &config), None);
    }
}
