//! Running a prompt file (`knowledge::prompts`): its target in the file (the selection,
//! the definition at the cursor, the requirement comment there, or the whole file), the
//! values of its variables, and the chat request — the template rendered, with the
//! system message its output asks for (one code block replacing the target,
//! SEARCH/REPLACE blocks, or a markdown answer). What the model must see to answer in
//! that form is added when the template leaves it out (the target for a replacement, the
//! file for SEARCH/REPLACE). Pure.

use crate::base::TextRange;
use crate::index::FileIndex;
use crate::knowledge::prompts::{AppliesTo, Output, PromptFile};
use crate::lang::Lang;
use crate::llm::{Message, Prompt};
use crate::reqs::Requirement;

use super::actions::{self, Target};

const REPLACE_SYSTEM: &str = "You are a senior engineer editing code in the user's workspace. Follow the language's conventions \
and the surrounding code's style. Answer with exactly one fenced code block holding the new code for the target, and nothing else.";

const MESSAGE_SYSTEM: &str = "You are a senior engineer helping with a codebase. Answer precisely, in markdown.";

/// Where a prompt file runs.
pub struct Site<'a> {
    pub path: &'a str,
    pub lang: Lang,
    pub text: &'a str,
    pub file: &'a FileIndex,
    /// The editor's selection (empty: the cursor).
    pub selection: TextRange,
    /// The requirement comment at the cursor, if any.
    pub requirement: Option<&'a Requirement>,
}

/// The prompt's target at the site: whole lines, zero-based line. An error says why the
/// prompt does not apply there.
pub fn target<'a>(prompt: &PromptFile, site: &Site<'a>) -> Result<Target<'a>, String> {
    let range = match prompt.applies_to {
        AppliesTo::Selection if site.selection.is_empty() => {
            return Err(format!("the prompt `{}` applies to a selection: select the code first", prompt.name))
        }
        AppliesTo::Selection => actions::whole_lines(site.text, site.selection),
        AppliesTo::Symbol => {
            let range = actions::target_range(site.file, site.text, site.selection);
            if site.selection.is_empty() && !site.file.symbols.iter().any(|s| s.range.contains_inclusive(site.selection.start)) {
                return Err(format!("the prompt `{}` applies to a definition: put the cursor in one", prompt.name));
            }
            range
        }
        AppliesTo::Requirement => match site.requirement {
            Some(r) => crate::reqs::scope(site.file, r),
            None => return Err(format!("the prompt `{}` applies to a requirement comment: put the cursor on one", prompt.name)),
        },
        AppliesTo::File => TextRange::new(0, site.text.len() as u32),
    };
    let range = actions::whole_lines(site.text, range);
    let line = site.text[..range.start as usize].matches('\n').count() as u32;
    Ok(Target { path: site.path, lang: site.lang, text: site.text, range, line })
}

/// What the variables are filled with, besides the target's own.
pub struct Values<'a> {
    /// Retrieved context, rendered (code excerpts, mentions, documents).
    pub context: &'a str,
    /// The working tree's diff, if any.
    pub diff: Option<&'a str>,
    /// What the user typed when asked (`{{input}}`).
    pub input: Option<&'a str>,
}

/// The chat request for `prompt` on `target`.
pub fn build(prompt: &PromptFile, target: &Target, requirement: Option<&str>, values: &Values) -> Result<Prompt, String> {
    let fence = super::prompt::fence(target.lang);
    let code = format!("```{fence}\n{}\n```", target.code().trim_end());
    let file = format!("File {}:\n```{fence}\n{}\n```", target.path, target.text.trim_end());
    let symbol = format!("{} (lines {}-{}):\n{code}", target.path, target.line + 1, target.line + target.code().lines().count().max(1) as u32);
    let rendered = prompt.render(&|name| match name {
        "selection" | "symbol" => Some(symbol.clone()),
        "file" => Some(file.clone()),
        "context" => Some(values.context.trim_end().to_string()),
        "diff" => Some(values.diff.map_or_else(|| "(no changes)".to_string(), |d| format!("```diff\n{}\n```", d.trim_end()))),
        "requirement" => requirement.map(str::to_string),
        "input" => values.input.filter(|i| !i.trim().is_empty()).map(str::to_string),
        _ => None,
    })?;
    let mut user = rendered;
    let system = match prompt.output {
        Output::Replace => {
            if !prompt.uses("selection") && !prompt.uses("symbol") {
                user.push_str(&format!("\n\nThe code to replace, {symbol}"));
            }
            user.push_str("\n\nAnswer with the new code for exactly these lines, in one fenced code block.");
            REPLACE_SYSTEM
        }
        Output::Edit => {
            if !prompt.uses("file") {
                user.push_str(&format!("\n\n{file}"));
            }
            super::generate::SYSTEM
        }
        Output::Message => {
            if !prompt.uses("selection") && !prompt.uses("symbol") && !prompt.uses("file") && prompt.applies_to != AppliesTo::File {
                user.push_str(&format!("\n\nThe code in question, {symbol}"));
            }
            MESSAGE_SYSTEM
        }
    };
    Ok(Prompt::Chat(vec![Message::system(system), Message::user(user)]))
}

/// `{{context}}`: what the user mentioned, the document sections, then the retrieved code.
pub fn context_text(knowledge: &super::knowledge::Knowledge, excerpts: &[super::prompt::Excerpt]) -> String {
    let mut text = super::knowledge::render(knowledge);
    text.push_str(&super::prompt::fenced_excerpts(excerpts, ""));
    text
}

/// The edit a `replace` answer makes: its code block, re-indented, instead of the target.
pub fn replacement(target: &Target, answer: &str) -> Option<actions::Edit> {
    actions::edit(&actions::Action::Refactor { instruction: String::new() }, target, answer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::prompts::parse;
    use crate::lang::parse as parse_tree;

    const CODE: &str = "// AI: add a total() method\npub struct Cart { items: Vec<u32> }\n\nfn helper() -> u32 {\n    1\n}\n";

    fn site<'a>(file: &'a FileIndex, selection: TextRange, requirement: Option<&'a Requirement>) -> Site<'a> {
        Site { path: "src/cart.rs", lang: Lang::Rust, text: CODE, file, selection, requirement }
    }

    #[test]
    fn every_variable_is_filled() {
        let file = crate::index::extract(Lang::Rust, CODE, &parse_tree(Lang::Rust, CODE, None));
        let prompt = parse(
            ".ctxls/prompts/all.md",
            "---\ntitle: All\napplies_to: symbol\noutput: message\n---\nS={{selection}}\nY={{symbol}}\nF={{file}}\nC={{context}}\nD={{diff}}\nR={{requirement}}\nI={{input}}",
        )
        .unwrap();
        let at_helper = TextRange::new(70, 70);
        let target = target(&prompt, &site(&file, at_helper, None)).unwrap();
        assert_eq!(target.code(), "fn helper() -> u32 {\n    1\n}\n");
        let values = Values { context: "CTX", diff: Some("DIFF"), input: Some("INPUT") };
        let Prompt::Chat(messages) = build(&prompt, &target, Some("REQ"), &values).unwrap() else { panic!() };
        let user = &messages[1].content;
        assert!(user.starts_with("S=src/cart.rs (lines 4-6):\n```rust\nfn helper() -> u32 {\n    1\n}\n```\nY=src/cart.rs (lines 4-6)"), "{user}");
        assert!(user.contains("F=File src/cart.rs:\n```rust\n// AI: add a total() method\n"), "{user}");
        assert!(user.contains("C=CTX\nD=```diff\nDIFF\n```\nR=REQ\nI=INPUT"), "{user}");
        assert_eq!(messages[0].content, MESSAGE_SYSTEM);
        let missing = build(&prompt, &target, Some("REQ"), &Values { input: None, ..values });
        assert_eq!(missing.unwrap_err(), "the prompt `all` needs `input`, and there is none here");
    }

    #[test]
    fn targets_by_what_the_prompt_applies_to() {
        let file = crate::index::extract(Lang::Rust, CODE, &parse_tree(Lang::Rust, CODE, None));
        let requirement = crate::reqs::find(CODE, &parse_tree(Lang::Rust, CODE, None), &crate::reqs::Markers::default()).remove(0);
        let load = |applies: &str| parse("p.md", &format!("---\ntitle: T\napplies_to: {applies}\n---\nDo it.")).unwrap();
        let cursor = TextRange::new(3, 3);
        assert!(target(&load("selection"), &site(&file, cursor, None)).unwrap_err().contains("select the code first"));
        let selected = target(&load("selection"), &site(&file, TextRange::new(30, 40), None)).unwrap();
        assert_eq!(selected.code(), "pub struct Cart { items: Vec<u32> }\n");
        let req = target(&load("requirement"), &site(&file, cursor, Some(&requirement))).unwrap();
        assert_eq!(req.code(), "// AI: add a total() method\npub struct Cart { items: Vec<u32> }\n");
        assert!(target(&load("requirement"), &site(&file, cursor, None)).unwrap_err().contains("requirement comment"));
        assert_eq!(target(&load("file"), &site(&file, cursor, None)).unwrap().code(), CODE);
        // SEARCH/REPLACE answers need the file: it is added when the template leaves it out.
        let whole = target(&load("file"), &site(&file, cursor, None)).unwrap();
        let Prompt::Chat(messages) = build(&load("file"), &whole, None, &Values { context: "", diff: None, input: None }).unwrap() else { panic!() };
        assert_eq!(messages[0].content, crate::ide::generate::SYSTEM);
        assert!(messages[1].content.starts_with("Do it.\n\nFile src/cart.rs:\n```rust\n// AI"));
    }

    #[test]
    fn a_replacement_answer_replaces_the_target() {
        let file = crate::index::extract(Lang::Rust, CODE, &parse_tree(Lang::Rust, CODE, None));
        let prompt = parse("p.md", "---\ntitle: T\napplies_to: symbol\n---\nImprove it.").unwrap();
        let target = target(&prompt, &site(&file, TextRange::new(70, 70), None)).unwrap();
        let Prompt::Chat(messages) = build(&prompt, &target, None, &Values { context: "", diff: None, input: None }).unwrap() else { panic!() };
        assert!(messages[1].content.contains("The code to replace, src/cart.rs (lines 4-6):\n```rust\nfn helper()"));
        let edit = replacement(&target, "```rust\nfn helper() -> u32 {\n    2\n}\n```").unwrap();
        assert_eq!((edit.range, edit.new_text.as_str()), (target.range, "fn helper() -> u32 {\n    2\n}\n"));
    }
}
