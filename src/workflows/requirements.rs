//! The requirement workflows and the diff summary, for the CLI (`generate`, `implement`,
//! `summarize`) and the server (`ctxls.generate`, `ctxls.implementRequirements`,
//! `ctxls.summarizeDiff`) alike: what is collected from the working tree, the scopes the
//! requirements apply to, and the requests. Everything here reads files or parses: the
//! server calls it on the blocking pool. `generate`, `implement` and `summarize` order
//! the steps over a [`Host`], which gathers context (its own way: a one-shot index or the
//! server's snapshot), asks the model and proposes the answer.

use std::path::Path;

use super::host::{self, Ask, ContextAt, Done, Host, OwnedExcerpt, Proposal, Purpose, Stop};
use crate::base::TextRange;
use crate::config::{Config, ModelSettings, Task};
use crate::ide::generate::{GenerateInput, RequirementSite};
use crate::ide::knowledge::Knowledge;
use crate::ide::prompt::Excerpt;
use crate::io::requirements::Found;
use crate::lang::Lang;
use crate::llm::{Prompt, Request};
use crate::reqs::{Kind, Requirement};

/// Tokens of workspace context sent with requirements and actions.
pub const CONTEXT_TOKENS: usize = 2048;
/// The working tree's diff sent with requirements, at most.
pub const DIFF_BYTES: usize = 16 * 1024;
/// The working tree's diff summarized, at most.
pub const SUMMARY_DIFF_BYTES: usize = 2 * DIFF_BYTES;

/// The `act` requirements the working tree's changes add, and the working tree's diff.
pub struct Changed {
    pub found: Vec<Found>,
    pub diff: String,
}

/// The requirement comment `generate` implements: its file (the context's site), the
/// comment's range and words.
pub struct GenerateAt {
    pub at: ContextAt,
    pub comment: TextRange,
    pub requirement: String,
}

/// "Generate from comment" (`ctxls generate`, `ctxls.generate`): the requirement's scope,
/// the context at the site, the knowledge, the working tree's diff, the request; the
/// model's SEARCH/REPLACE answer checked, repaired once if it adds syntax errors, and
/// proposed.
pub async fn generate<H: Host>(host: &H, input: GenerateAt) -> Done<H::Reply> {
    const WHAT: &str = "Generate from comment";
    let root = host.root().ok_or(Stop::NoRoot)?.to_path_buf();
    let config = host.config().clone();
    let GenerateAt { at, comment, requirement } = input;
    let Some((lang, tree)) = at.parsed.clone() else { return Err(Stop::Invalid(format!("{}: not a supported language", at.rel))) };
    let scope = {
        let (text, requirement) = (at.text.clone(), requirement.clone());
        host::blocking(move || generate_scope(lang, &text, &tree, comment, &requirement)).await?
    };
    let (rel, text) = (at.rel.clone(), at.text.clone());
    let excerpts = host.context(at, Some(requirement.clone()), CONTEXT_TOKENS).await;
    let knowledge = host.knowledge(requirement.clone(), requirement.clone()).await;
    // The working tree's diff (the request takes the file's part).
    let diff = {
        let (root, index) = (root.clone(), config.index.clone());
        host::blocking(move || crate::io::git::working_tree_diff(&root, &index, DIFF_BYTES).ok().flatten()).await?
    };
    // The request: instruction files are read, on the blocking pool.
    let (settings, request) = {
        let requirement = requirement.clone();
        host::blocking(move || {
            let excerpts = OwnedExcerpt::borrowed(&excerpts);
            generate_request(&root, &config, &rel, lang, &text, &requirement, scope, &excerpts, diff.as_deref(), &knowledge)
        })
        .await?
    };
    super::edit::ask_for_edit(host, WHAT, &requirement, (&settings, &request), &format!("to implement: {requirement}")).await
}

/// "Implement the diff" (`ctxls implement`, `ctxls.implementRequirements`): every `act`
/// requirement the working tree's changes add, in one request with the diff, their
/// scopes and the context at the first (queried with all); the multi-file answer checked
/// and proposed as one change.
pub async fn implement<H: Host>(host: &H) -> Done<H::Reply> {
    const WHAT: &str = "Implement requirements";
    let root = host.root().ok_or(Stop::NoRoot)?.to_path_buf();
    let config = host.config().clone();
    // The working tree's requirements and diff, their scopes, the first file's tree: git,
    // reads and parses, on the blocking pool.
    let collected = {
        let (root, config) = (root.clone(), config.clone());
        host::blocking(move || -> Result<_, Stop> {
            let changed = changed_requirements(&root, &config).map_err(|err| Stop::Git(err.to_string()))?.ok_or(Stop::NotInGit)?;
            let scopes = scopes(&changed.found);
            let first_tree = changed.found.first().zip(scopes.first()).map(|(f, (lang, _))| crate::lang::parse(*lang, &f.text, None));
            Ok((changed, scopes, first_tree))
        })
        .await??
    };
    let (Changed { found, diff }, scopes, first_tree) = collected;
    let Some(first_tree) = first_tree else { return Err(Stop::NoRequirements) };
    // Context at the first requirement, queried with all of them.
    let query = implement_query(&found);
    let first = &found[0];
    let at = ContextAt { rel: first.path.clone(), text: first.text.clone(), offset: first.requirement.range.start as usize, parsed: Some((scopes[0].0, first_tree)) };
    let excerpts = host.context(at, Some(query.clone()), CONTEXT_TOKENS).await;
    let knowledge = host.knowledge(query.clone(), query.clone()).await;
    let detail = format!("to implement {} requirement(s)", found.len());
    // The request: instruction files are read, on the blocking pool.
    let (settings, request) =
        host::blocking(move || implement_request(&root, &config, &found, &scopes, &OwnedExcerpt::borrowed(&excerpts), &diff, &knowledge)).await?;
    super::edit::ask_for_edit(host, WHAT, &query, (&settings, &request), &detail).await
}

/// "Summarize the diff" (`ctxls summarize`, `ctxls.summarizeDiff`): the working tree's
/// changes described by the chat model, proposed as a message.
pub async fn summarize<H: Host>(host: &H) -> Done<H::Reply> {
    const WHAT: &str = "Summarize the diff";
    let root = host.root().ok_or(Stop::NoRoot)?.to_path_buf();
    let config = host.config().clone();
    let index = config.index.clone();
    let diff = host::blocking(move || crate::io::git::working_tree_diff(&root, &index, SUMMARY_DIFF_BYTES))
        .await?
        .map_err(|err| Stop::Git(err.to_string()))?
        .ok_or(Stop::NotInGit)?;
    if diff.trim().is_empty() {
        return Err(Stop::NoChanges);
    }
    let (settings, request) = summary_request(&config, &diff);
    let answer = host::ask(host, Ask { what: WHAT, settings: &settings, request: &request, purpose: Purpose::Answer }, "to summarize the diff").await?;
    host::propose(host, Proposal::Message { about: "diff summary", text: &answer.text }).await
}

/// What `implement` works on; None outside a git repository.
pub fn changed_requirements(root: &Path, config: &Config) -> Result<Option<Changed>, crate::io::git::GitError> {
    let Some(changes) = crate::io::git::working_tree_changes(root, &config.index)? else { return Ok(None) };
    let found = crate::io::requirements::workspace_requirements(root, config, Some(&changes));
    let found: Vec<Found> = found.into_iter().filter(|f| f.requirement.kind == Kind::Act).collect();
    let diff = crate::io::git::working_tree_diff(root, &config.index, DIFF_BYTES)?.unwrap_or_default();
    Ok(Some(Changed { found, diff }))
}

/// Each requirement's language and the code it applies to (its enclosing definition).
/// Parses each file.
pub fn scopes(found: &[Found]) -> Vec<(Lang, TextRange)> {
    found
        .iter()
        .filter_map(|f| {
            // Requirements are found in the index's languages only.
            let lang = Lang::from_path(Path::new(&f.path))?;
            let file = crate::index::extract(lang, &f.text, &crate::lang::parse(lang, &f.text, None));
            Some((lang, crate::reqs::scope(&file, &f.requirement)))
        })
        .collect()
}

/// The query of an implement request: all the requirements' words.
pub fn implement_query(found: &[Found]) -> String {
    found.iter().map(|f| f.requirement.text.as_str()).collect::<Vec<_>>().join(" ")
}

/// The implement request: the requirements in their scopes, the retrieved excerpts, the
/// diff, the instruction files of every file and the knowledge. Reads instruction files.
pub fn implement_request(
    root: &Path,
    config: &Config,
    found: &[Found],
    scopes: &[(Lang, TextRange)],
    excerpts: &[Excerpt],
    diff: &str,
    knowledge: &Knowledge,
) -> (ModelSettings, Request) {
    let sites: Vec<RequirementSite> = found
        .iter()
        .zip(scopes)
        .map(|(f, (lang, scope))| RequirementSite { path: &f.path, lang: *lang, requirement: &f.requirement.text, text: &f.text, scope: *scope })
        .collect();
    let paths: Vec<&str> = found.iter().map(|f| f.path.as_str()).collect();
    let prompt = crate::ide::generate::implement_prompt(&sites, excerpts, Some(diff));
    edit_request(root, config, &paths, prompt, knowledge)
}

/// A requirement comment at `comment` (its words in `text`) of the file at `path`: the
/// code it applies to. Parses the file.
pub fn generate_scope(lang: Lang, text: &str, tree: &tree_sitter::Tree, comment: TextRange, requirement: &str) -> TextRange {
    let file = crate::index::extract(lang, text, tree);
    let lines = crate::base::LineIndex::new(text);
    let as_requirement = Requirement {
        kind: Kind::Act,
        text: requirement.to_string(),
        range: comment,
        start_line: lines.line_col(comment.start).line,
        end_line: lines.line_col(comment.end).line,
    };
    crate::reqs::scope(&file, &as_requirement)
}

/// The generate request for a requirement of one file: the file around its scope, the
/// file's part of `diff`, the excerpts, the instruction files and the knowledge. Reads
/// instruction files.
#[allow(clippy::too_many_arguments)]
pub fn generate_request(
    root: &Path,
    config: &Config,
    rel: &str,
    lang: Lang,
    text: &str,
    requirement: &str,
    scope: TextRange,
    excerpts: &[Excerpt],
    diff: Option<&str>,
    knowledge: &Knowledge,
) -> (ModelSettings, Request) {
    let input = GenerateInput {
        requirement,
        path: rel,
        lang,
        text,
        scope,
        excerpts,
        diff: diff.and_then(|d| crate::ide::generate::diff_of_file(d, rel)),
    };
    edit_request(root, config, &[rel], crate::ide::generate::prompt(&input), knowledge)
}

/// The diff summary's request.
pub fn summary_request(config: &Config, diff: &str) -> (ModelSettings, Request) {
    let settings = config.llm.for_task(Task::Chat);
    let request = Request { prompt: crate::ide::generate::summary_prompt(diff), max_tokens: settings.max_tokens, temperature: settings.temperature, stop: Vec::new() };
    (settings, request)
}

/// `prompt` with the instruction files of `paths` and the knowledge, as an edit request
/// of the chat model.
fn edit_request(root: &Path, config: &Config, paths: &[&str], prompt: Prompt, knowledge: &Knowledge) -> (ModelSettings, Request) {
    let settings = config.llm.for_task(Task::Chat);
    let instructions = crate::io::instructions::section(root, paths, config);
    let prompt = crate::ide::instructions::apply(prompt, &instructions);
    let prompt = crate::ide::knowledge::apply(prompt, &crate::ide::knowledge::render(knowledge));
    let request = super::edit::edit_request(&settings, prompt);
    (settings, request)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_requirement_applies_to_its_definition_and_the_query_has_all_their_words() {
        let found = |path: &str, text: &str| {
            let lang = Lang::from_path(Path::new(path)).unwrap();
            let tree = crate::lang::parse(lang, text, None);
            let requirement = crate::reqs::find(text, &tree, &crate::reqs::Markers::default()).remove(0);
            Found { path: path.to_string(), text: text.to_string(), requirement }
        };
        let rust = "struct Cart;\n\nimpl Cart {\n    // AI: add a total() method\n    fn items(&self) {}\n}\n";
        let ts = "export function price(n: number) {\n  // AI: round to cents\n  return n;\n}\n";
        let all = [found("src/cart.rs", rust), found("web/price.ts", ts)];
        let scopes = scopes(&all);
        assert_eq!(scopes.iter().map(|(lang, _)| *lang).collect::<Vec<_>>(), [Lang::Rust, Lang::TypeScript]);
        // The definition below a requirement, or the one it sits in.
        assert!(rust[scopes[0].1.as_usize()].ends_with("fn items(&self) {}"), "{:?}", &rust[scopes[0].1.as_usize()]);
        assert!(ts[scopes[1].1.as_usize()].starts_with("export function price"), "{:?}", &ts[scopes[1].1.as_usize()]);
        assert_eq!(implement_query(&all), "add a total() method round to cents");
        let (_, summary) = summary_request(&Config::default(), "+fn a() {}\n");
        assert!(format!("{:?}", summary.prompt).contains("+fn a() {}"));
    }
}
