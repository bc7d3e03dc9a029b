//! `ctxls run-prompt NAME FILE[:LINE[-END]]`: runs a prompt file of `.ctxls/prompts/` on
//! its target (the lines LINE-END for a selection prompt, the definition at LINE, the
//! requirement comment at LINE, or the whole file); the answer is printed as a diff (or
//! written with `--write`) or, for a `message` prompt, printed. `--list` shows the
//! prompt files and the ones that do not load, with the reason.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::host::{CliHost, Options};
use crate::base::TextRange;
use crate::knowledge::prompts::Output;
use crate::lang::{parse, Lang};
use crate::workflows::host::{ContextAt, Stop};
use crate::workflows::prompt_file as workflow;

#[derive(Args, Debug)]
pub struct RunPromptArgs {
    /// The prompt file's name (`.ctxls/prompts/NAME.md`).
    #[arg(required_unless_present = "list")]
    pub name: Option<String>,
    /// Where: FILE, FILE:LINE or FILE:LINE-END (1-based lines; a range is the selection).
    #[arg(required_unless_present = "list")]
    pub target: Option<String>,
    /// What the prompt asks the user for (`{{input}}`).
    #[arg(long)]
    pub input: Option<String>,
    /// List the prompt files (and those that do not load, with the reason).
    #[arg(long)]
    pub list: bool,
    /// Workspace root (default: the current directory).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Write the change to the files (default: print it as a unified diff).
    #[arg(long)]
    pub write: bool,
    /// Print the exact HTTP request (key redacted) and send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(args: RunPromptArgs, cache_dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let root = super::resolve_root(args.root.as_deref())?;
    let config = super::load_config(&root);
    let (prompts, errors) = crate::io::knowledge::load_prompts(&root, &config);
    for error in &errors {
        eprintln!("ctxls: warning: prompt file {error}");
    }
    if args.list {
        if prompts.is_empty() {
            println!("no prompt files in {}", crate::io::knowledge::PROMPTS_DIR);
        }
        for p in &prompts {
            let languages = if p.languages.is_empty() { "all languages".to_string() } else { p.languages.join(", ") };
            let output = match p.output {
                Output::Replace => "replace",
                Output::Edit => "edit",
                Output::Message => "message",
            };
            println!("{}\t{}\t(applies to {}; {languages}; output {output})", p.name, p.title, p.applies_to.name());
        }
        return Ok(if errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE });
    }
    let (name, target) = (args.name.unwrap_or_default(), args.target.unwrap_or_default());
    let prompt = workflow::find(&prompts, &name).map_err(anyhow::Error::msg)?;
    let (file, lines) = split_target(&target);
    let super::Position { rel, path, text, .. } = super::read_position(&root, &format!("{file}:1:1"))?;
    let lang = Lang::from_path(&path).with_context(|| format!("{rel}: not a supported language"))?;
    if !prompt.for_language(&lang.name().to_ascii_lowercase()) {
        anyhow::bail!("the prompt `{name}` is for {} files, not {rel}", prompt.languages.join(", "));
    }
    let selection = match lines {
        Some((start, end)) => {
            let at = |line: usize, end: bool| super::complete::offset_of(&text, line + usize::from(end), 1).unwrap_or(text.len());
            let from = at(start, false);
            // The cursor for one line: its first non-blank character.
            let indent = text[from..].len() - text[from..].trim_start_matches([' ', '\t']).len();
            if end == start && prompt.applies_to != crate::knowledge::prompts::AppliesTo::Selection {
                TextRange::new((from + indent) as u32, (from + indent) as u32)
            } else {
                TextRange::new(from as u32, at(end, true) as u32)
            }
        }
        None => TextRange::new(0, 0),
    };
    let tree = parse(lang, &text, None);
    let options = Options { write: args.write, dry_run: args.dry_run, ..Options::default() };
    let host = CliHost::new(&root, &config, cache_dir, &format!("prompt-{}", prompt.name), options).with_open(&rel, &text);
    let at = ContextAt { rel, text, offset: selection.start as usize, parsed: Some((lang, tree)) };
    let run_at = workflow::RunAt { at, selection, lines, input: args.input.clone() };
    match super::host::run(&host, workflow::run(&host, prompt, run_at))? {
        Err(Stop::Invalid(err)) if err.contains("needs `input`") => anyhow::bail!("{err}: give it with --input TEXT"),
        done => host.exit(done),
    }
}

/// `FILE`, `FILE:LINE`, `FILE:LINE-END` -> the file and the 1-based lines.
fn split_target(target: &str) -> (&str, Option<(usize, usize)>) {
    if let Some((file, lines)) = target.rsplit_once(':') {
        let parsed = match lines.split_once('-') {
            Some((a, b)) => a.parse().ok().zip(b.parse().ok()),
            None => lines.parse().ok().map(|l| (l, l)),
        };
        if let Some((start, end)) = parsed.filter(|(s, e): &(usize, usize)| *s >= 1 && e >= s) {
            return (file, Some((start, end)));
        }
    }
    (target, None)
}

#[cfg(test)]
mod tests {
    use super::split_target;

    #[test]
    fn targets() {
        assert_eq!(split_target("src/a.rs"), ("src/a.rs", None));
        assert_eq!(split_target("src/a.rs:4"), ("src/a.rs", Some((4, 4))));
        assert_eq!(split_target("src/a.rs:4-9"), ("src/a.rs", Some((4, 9))));
        assert_eq!(split_target("src/a.rs:9-4"), ("src/a.rs:9-4", None));
    }
}
