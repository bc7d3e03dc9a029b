//! A prompt file (`.ctxls/prompts/NAME.md`) run on its target, for `ctxls run-prompt` and
//! `ctxls.runPrompt` alike: the file found by name, its target and requirement at the
//! site (a parse: the server calls `prepare` on the blocking pool), and the request (the
//! file's model, the instruction files, an edit request for `output: edit`; instruction
//! files are read: on the blocking pool too). `run` orders the steps over a [`Host`],
//! which gathers the context, asks the model and applies the answer its own way.

use std::path::Path;

use super::host::{self, Ask, ContextAt, Done, Host, OwnedExcerpt, Proposal, Purpose, Stop};
use crate::base::TextRange;
use crate::config::{Config, ModelSettings, Task};
use crate::ide::actions::Target;
use crate::ide::prompt_files::{self, Values};
use crate::knowledge::prompts::{Output, PromptFile};
use crate::lang::Lang;
use crate::llm::Request;

/// Where a prompt file runs, owned (for the workflow): the file (parsed), the selection,
/// the lines the user named and the input.
pub struct RunAt {
    pub at: ContextAt,
    pub selection: TextRange,
    pub lines: Option<(usize, usize)>,
    pub input: Option<String>,
}

/// A prompt file run on its target (`ctxls run-prompt`, `ctxls.runPrompt`): the target
/// and requirement at the site, the context and the diff when the file uses them, the
/// request; the answer shown (`output: message`), applied as SEARCH/REPLACE blocks with
/// one repair (`edit`), or proposed as the target's replacement (`replace`).
pub async fn run<H: Host>(host: &H, prompt: &PromptFile, run_at: RunAt) -> Done<H::Reply> {
    let root = host.root().ok_or(Stop::NoRoot)?.to_path_buf();
    let config = host.config().clone();
    let RunAt { at, selection, lines, input } = run_at;
    let Some((lang, tree)) = at.parsed.clone() else { return Err(Stop::Invalid(format!("{}: not a supported language", at.rel))) };
    let what = prompt.title.as_str();
    // The target and the requirement: a parse, on the blocking pool.
    let prepared = {
        let (prompt, rel, text, input, config) = (prompt.clone(), at.rel.clone(), at.text.clone(), input.clone(), config.clone());
        host::blocking(move || {
            let site = Site { path: &rel, lang, text: &text, tree: &tree, selection, lines, input: input.as_deref() };
            prepare(&prompt, &site, &config)
        })
        .await?
        .map_err(Stop::Invalid)?
    };
    let (rel, text) = (at.rel.clone(), at.text.clone());
    let ask = prepared.ask.clone();
    // Context: retrieved code, what the requirement or the input mentions, documents.
    let context_text = if prompt.uses("context") {
        let at = ContextAt { offset: prepared.range.start as usize, ..at };
        let excerpts = host.context(at, Some(ask.clone()).filter(|a| !a.is_empty()), super::requirements::CONTEXT_TOKENS).await;
        let knowledge = host.knowledge(ask.clone(), format!("{} {ask}", prompt.title)).await;
        prompt_files::context_text(&knowledge, &OwnedExcerpt::borrowed(&excerpts))
    } else {
        String::new()
    };
    let diff = if prompt.uses("diff") {
        let (root, index) = (root.clone(), config.index.clone());
        host::blocking(move || crate::io::git::working_tree_diff(&root, &index, super::requirements::DIFF_BYTES).ok().flatten()).await?
    } else {
        None
    };
    // The request: instruction files are read, on the blocking pool.
    let (settings, request) = {
        let (prompt, prepared, rel, text, input) = (prompt.clone(), prepared.clone(), rel.clone(), text.clone(), input.clone());
        host::blocking(move || {
            let target = prepared.target(&rel, lang, &text);
            let values = Values { context: &context_text, diff: diff.as_deref(), input: input.as_deref() };
            request(&prompt, &prepared, &target, &values, &root, &config)
        })
        .await?
        .map_err(Stop::Invalid)?
    };
    let purpose = if prompt.output == Output::Message { Purpose::Answer } else { Purpose::Edit };
    let detail = format!("— {what}");
    let answer = host::ask(host, Ask { what, settings: &settings, request: &request, purpose }, &detail).await?;
    match prompt.output {
        Output::Message => host::propose(host, Proposal::Message { about: &rel, text: &answer.text }).await,
        Output::Edit => {
            let asked = prepared.asked(prompt, input.as_deref());
            super::edit::apply_answer(host, what, &asked, &answer, Some((&settings, &request))).await
        }
        Output::Replace => {
            let target = prepared.target(&rel, lang, &text);
            let Some(edit) = prompt_files::replacement(&target, &answer.text) else { return Err(Stop::NoChange) };
            host::propose(host, Proposal::Edit { rel: &rel, text: &text, edit }).await
        }
    }
}

/// The prompt file named `name`, or why there is none.
pub fn find<'p>(prompts: &'p [PromptFile], name: &str) -> Result<&'p PromptFile, String> {
    prompts.iter().find(|p| p.name == name).ok_or_else(|| {
        let known: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
        let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
        format!("no prompt file named `{name}` in {} (known: {known})", crate::io::knowledge::PROMPTS_DIR)
    })
}

/// Where a prompt file runs: the file (path relative to the root) and the selection.
pub struct Site<'a> {
    pub path: &'a str,
    pub lang: Lang,
    pub text: &'a str,
    pub tree: &'a tree_sitter::Tree,
    pub selection: TextRange,
    /// 1-based lines the user named (the CLI's `FILE:LINE-END`): a requirement comment on
    /// them counts as at the cursor.
    pub lines: Option<(usize, usize)>,
    /// What the user typed for `{{input}}`.
    pub input: Option<&'a str>,
}

/// What a prompt file works on at a site.
#[derive(Clone, Debug)]
pub struct Prepared {
    /// The target: whole lines, and the zero-based line of its start.
    pub range: TextRange,
    pub line: u32,
    /// The requirement comment's text at the site, if any.
    pub requirement: Option<String>,
    /// What the user asked: the requirement, else the input (empty: neither).
    pub ask: String,
}

impl Prepared {
    pub fn target<'a>(&self, site_path: &'a str, lang: Lang, text: &'a str) -> Target<'a> {
        Target { path: site_path, lang, text, range: self.range, line: self.line }
    }

    /// The words the write rules read for files the request names (the prompt file, the
    /// requirement and the input).
    pub fn asked(&self, prompt: &PromptFile, input: Option<&str>) -> String {
        format!("{}\n{}\n{}", prompt.body, self.ask, input.unwrap_or(""))
    }
}

/// The prompt's target and requirement at the site (parses the file: CPU work).
pub fn prepare(prompt: &PromptFile, site: &Site, config: &Config) -> Result<Prepared, String> {
    let file = crate::index::extract(site.lang, site.text, site.tree);
    let markers = crate::reqs::Markers::from(&config.requirements);
    let requirement = crate::reqs::find(site.text, site.tree, &markers).into_iter().find(|r| {
        r.range.contains_inclusive(site.selection.start)
            || site.lines.is_some_and(|(l, _)| (r.start_line as usize) < l && l <= r.end_line as usize + 1)
    });
    let prompt_site =
        prompt_files::Site { path: site.path, lang: site.lang, text: site.text, file: &file, selection: site.selection, requirement: requirement.as_ref() };
    let (range, line) = prompt_files::target(prompt, &prompt_site).map(|t| (t.range, t.line))?;
    let requirement = requirement.map(|r| r.text);
    let ask = requirement.clone().or(site.input.map(str::to_string)).unwrap_or_default();
    Ok(Prepared { range, line, requirement, ask })
}

/// The request the prompt file makes with these values, and the model settings to ask
/// with: the file's model when it names one, the instruction files for `path` in the
/// system message, edit limits for `output: edit`. Reads the instruction files.
pub fn request(
    prompt: &PromptFile,
    prepared: &Prepared,
    target: &Target,
    values: &Values,
    root: &Path,
    config: &Config,
) -> Result<(ModelSettings, Request), String> {
    let built = prompt_files::build(prompt, target, prepared.requirement.as_deref(), values)?;
    let instructions = crate::io::instructions::section(root, &[target.path], config);
    let mut settings = config.llm.for_task(Task::Chat);
    if let Some(model) = &prompt.model {
        settings.model = model.clone();
    }
    let built = crate::ide::instructions::apply(built, &instructions);
    let request = match prompt.output {
        Output::Edit => super::edit::edit_request(&settings, built),
        _ => Request { prompt: built, max_tokens: settings.max_tokens, temperature: settings.temperature, stop: Vec::new() },
    };
    Ok((settings, request))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt(name: &str, front: &str, body: &str) -> PromptFile {
        crate::knowledge::prompts::parse(&format!(".ctxls/prompts/{name}.md"), &format!("---\n{front}\n---\n{body}\n")).expect("the prompt file parses")
    }

    #[test]
    fn a_missing_prompt_names_the_known_ones() {
        let prompts = vec![prompt("tidy", "title: Tidy\napplies_to: selection", "Tidy {{selection}}")];
        assert_eq!(find(&prompts, "tidy").map(|p| p.title.as_str()), Ok("Tidy"));
        let missing = find(&prompts, "nope").unwrap_err();
        assert!(missing.contains("`nope`") && missing.ends_with("(known: tidy)"), "{missing}");
        assert!(find(&[], "nope").unwrap_err().ends_with("(known: none)"));
    }

    #[test]
    fn the_target_the_requirement_and_the_request() {
        let text = "// AI: add a total() method\npub struct Cart { items: Vec<u32> }\n";
        let tree = crate::lang::parse(Lang::Rust, text, None);
        let config = Config::default();
        let file = prompt("impl", "title: Implement\napplies_to: requirement\noutput: edit\nmodel: big-model", "Do {{requirement}} in {{file}}");
        let site = Site { path: "src/cart.rs", lang: Lang::Rust, text, tree: &tree, selection: TextRange::new(3, 3), lines: None, input: None };
        let prepared = prepare(&file, &site, &config).expect("a requirement at the cursor");
        assert_eq!((prepared.requirement.as_deref(), prepared.ask.as_str(), prepared.line), (Some("add a total() method"), "add a total() method", 0));
        assert!(prepared.asked(&file, Some("more")).ends_with("add a total() method\nmore"));
        let target = prepared.target("src/cart.rs", Lang::Rust, text);
        let dir = tempfile::tempdir().unwrap();
        let values = Values { context: "", diff: None, input: None };
        let (settings, request) = request(&file, &prepared, &target, &values, dir.path(), &config).expect("the request builds");
        assert_eq!(settings.model, "big-model");
        assert!(request.max_tokens >= crate::io::writes::EDIT_MAX_TOKENS, "an edit answer gets the edit limit");
        // No requirement at the cursor: a requirement prompt says where to put it.
        let away = Site { selection: TextRange::new(text.len() as u32, text.len() as u32), ..site };
        assert!(prepare(&file, &away, &config).unwrap_err().contains("requirement comment"));
    }
}
