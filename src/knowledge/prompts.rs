//! Prompt files: recurring requests written once, in the repository
//! (`.ctxls/prompts/NAME.md`), with a small front matter and a template body:
//!
//! ```markdown
//! ---
//! title: API client for an endpoint
//! applies_to: requirement        # selection, symbol, requirement or file
//! languages: [typescript]        # optional; default: every language
//! model: gpt-4o                  # optional: the chat model for this prompt
//! output: edit                   # optional: replace, edit or message
//! ---
//! Write the client function for {{requirement}} using the spec: {{context}}
//! ```
//!
//! Variables: `{{selection}}`, `{{symbol}}`, `{{file}}`, `{{context}}`, `{{diff}}`,
//! `{{requirement}}`, `{{input}}` (asked from the user). The answer replaces the target
//! (`replace`: the selection or the symbol), is applied as SEARCH/REPLACE blocks (`edit`:
//! any file), or is shown (`message`); by default selection and symbol prompts replace,
//! requirement and file prompts edit. A file that breaks these rules is reported with
//! the reason and left out; the others still load. Pure.

use std::fmt;

use crate::lang::Lang;

/// Where a prompt applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AppliesTo {
    /// A non-empty selection.
    Selection,
    /// The definition at the cursor.
    Symbol,
    /// A requirement comment at the cursor.
    Requirement,
    /// The whole file: anywhere.
    File,
}

impl AppliesTo {
    fn parse(text: &str) -> Option<AppliesTo> {
        match text {
            "selection" => Some(AppliesTo::Selection),
            "symbol" => Some(AppliesTo::Symbol),
            "requirement" => Some(AppliesTo::Requirement),
            "file" => Some(AppliesTo::File),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            AppliesTo::Selection => "selection",
            AppliesTo::Symbol => "symbol",
            AppliesTo::Requirement => "requirement",
            AppliesTo::File => "file",
        }
    }
}

/// What becomes of the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Output {
    /// The answer's code block replaces the target (selection or symbol).
    Replace,
    /// SEARCH/REPLACE blocks, applied to any files.
    Edit,
    /// Shown to the user.
    Message,
}

/// The variables a template may use.
pub const VARIABLES: [&str; 7] = ["selection", "symbol", "file", "context", "diff", "requirement", "input"];

/// A loaded prompt file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PromptFile {
    /// The file's stem: `ctxls run-prompt NAME`, the command's argument.
    pub name: String,
    /// Relative to the workspace root.
    pub path: String,
    pub title: String,
    pub applies_to: AppliesTo,
    /// Language names (`rust`, `typescript`, `tsx`, `javascript`); empty: all.
    pub languages: Vec<String>,
    pub model: Option<String>,
    pub output: Output,
    pub body: String,
    /// The variables the body uses, in order of first use.
    pub variables: Vec<String>,
}

/// Why a prompt file was left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PromptError {
    pub path: String,
    pub reason: String,
}

impl fmt::Display for PromptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}


/// Parses the prompt file at `path` (its name is the file's stem).
pub fn parse(path: &str, text: &str) -> Result<PromptFile, PromptError> {
    let error = |reason: String| PromptError { path: path.to_string(), reason };
    let name = path.rsplit('/').next().unwrap_or(path).trim_end_matches(".md").to_string();
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        return Err(error(format!("the name `{name}` (from the file name) may only hold letters, digits, `-`, `_` and `.`")));
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text).replace("\r\n", "\n");
    let Some(rest) = text.strip_prefix("---\n") else {
        return Err(error("no front matter: the file must start with a `---` line, then `title:` and `applies_to:`, then `---`".into()));
    };
    let Some(end) = rest.find("\n---\n").map(|i| (i, i + 5)).or_else(|| rest.strip_suffix("\n---").map(|r| (r.len(), rest.len()))) else {
        return Err(error("the front matter has no closing `---` line".into()));
    };
    let (front, body) = (&rest[..end.0], rest[end.1..].trim().to_string());
    let (mut title, mut applies_to, mut languages, mut model, mut output) = (None, None, Vec::new(), None, None);
    for (n, line) in front.lines().enumerate() {
        let line = strip_comment(line).trim();
        if line.is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(error(format!("front matter line {}: expected `key: value`, found `{line}`", n + 2)));
        };
        let value = unquote(value.trim());
        match key.trim() {
            "title" => title = Some(value.to_string()),
            "applies_to" => {
                applies_to = Some(AppliesTo::parse(value).ok_or_else(|| {
                    error(format!("`applies_to: {value}` is not one of selection, symbol, requirement, file"))
                })?)
            }
            "languages" => {
                languages = list(value).into_iter().map(|l| normalize_language(&l)).collect();
                if let Some(bad) = languages.iter().find(|l| Lang::from_name(l).is_none()) {
                    let known: Vec<&str> = Lang::ALL.iter().map(|l| l.name()).collect();
                    return Err(error(format!("unknown language `{bad}` (known: {})", known.join(", "))));
                }
            }
            "model" => model = Some(value.to_string()).filter(|m| !m.is_empty()),
            "output" => {
                output = Some(match value {
                    "replace" => Output::Replace,
                    "edit" => Output::Edit,
                    "message" => Output::Message,
                    _ => return Err(error(format!("`output: {value}` is not one of replace, edit, message"))),
                })
            }
            other => {
                return Err(error(format!("unknown front matter key `{other}` (known: title, applies_to, languages, model, output)")))
            }
        }
    }
    let title = title.filter(|t| !t.is_empty()).ok_or_else(|| error("the front matter has no `title`".into()))?;
    let applies_to = applies_to.ok_or_else(|| error("the front matter has no `applies_to` (selection, symbol, requirement or file)".into()))?;
    let output = output.unwrap_or(match applies_to {
        AppliesTo::Selection | AppliesTo::Symbol => Output::Replace,
        AppliesTo::Requirement | AppliesTo::File => Output::Edit,
    });
    if output == Output::Replace && !matches!(applies_to, AppliesTo::Selection | AppliesTo::Symbol) {
        return Err(error(format!("`output: replace` needs `applies_to: selection` or `symbol`, not {}", applies_to.name())));
    }
    if body.is_empty() {
        return Err(error("the template (after the front matter) is empty".into()));
    }
    let variables = variables(&body).map_err(error)?;
    Ok(PromptFile { name, path: path.to_string(), title, applies_to, languages, model, output, body, variables })
}

fn strip_comment(line: &str) -> &str {
    // `#` starts a comment outside quotes (after a space or at the start).
    let mut quote = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if i == 0 || line[..i].ends_with(' ') => return &line[..i],
            _ => {}
        }
    }
    line
}

fn unquote(value: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(q).and_then(|v| v.strip_suffix(q)) {
            return inner;
        }
    }
    value
}

/// `[a, b]`, `a, b` or `a`.
fn list(value: &str) -> Vec<String> {
    let inner = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')).unwrap_or(value);
    inner.split(',').map(|s| unquote(s.trim()).to_lowercase()).filter(|s| !s.is_empty()).collect()
}

fn normalize_language(name: &str) -> String {
    Lang::from_name(name).map_or_else(|| name.to_string(), |lang| lang.name().to_string())
}

/// The variables of `body`, in order of first use; an unknown or unclosed one is an error.
fn variables(body: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Err("a `{{` in the template is never closed with `}}`".into());
        };
        let name = after[..close].trim();
        if !VARIABLES.contains(&name) {
            return Err(format!("unknown variable `{{{{{name}}}}}` (known: {})", VARIABLES.map(|v| format!("{{{{{v}}}}}")).join(", ")));
        }
        if !out.iter().any(|v| v == name) {
            out.push(name.to_string());
        }
        rest = &after[close + 2..];
    }
    Ok(out)
}

impl PromptFile {
    pub fn uses(&self, variable: &str) -> bool {
        self.variables.iter().any(|v| v == variable)
    }

    /// Whether the prompt is offered for a file of `language` (a `Lang` name, lowercase);
    /// `typescript` covers TSX too.
    pub fn for_language(&self, language: &str) -> bool {
        let offered = Lang::from_name(language).map_or(&[][..], |lang| lang.spec().prompt_languages);
        self.languages.is_empty() || self.languages.iter().any(|l| l == language || offered.contains(&l.as_str()))
    }

    /// The body with each variable replaced by its value; a variable with no value is an
    /// error naming it.
    pub fn render(&self, values: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
        let mut out = String::with_capacity(self.body.len());
        let mut rest = self.body.as_str();
        while let Some(open) = rest.find("{{") {
            out.push_str(&rest[..open]);
            let after = &rest[open + 2..];
            let close = after.find("}}").expect("checked by parse");
            let name = after[..close].trim();
            let value = values(name).ok_or_else(|| format!("the prompt `{}` needs `{name}`, and there is none here", self.name))?;
            out.push_str(&value);
            rest = &after[close + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT: &str = "---\ntitle: API client for an endpoint  # shown in the editor\napplies_to: requirement\nlanguages: [typescript, js]\nmodel: \"gpt-4o\"\n---\nWrite a typed client for {{ requirement }}.\nSpec:\n{{context}}\nFile:\n{{file}}\nAsked: {{input}}\n";

    #[test]
    fn a_prompt_file_loads_with_its_defaults() {
        let prompt = parse(".ctxls/prompts/api-client.md", CLIENT).unwrap();
        assert_eq!(prompt.name, "api-client");
        assert_eq!(prompt.title, "API client for an endpoint");
        assert_eq!(prompt.applies_to, AppliesTo::Requirement);
        assert_eq!(prompt.languages, ["typescript", "javascript"]);
        assert_eq!(prompt.model.as_deref(), Some("gpt-4o"));
        assert_eq!(prompt.output, Output::Edit);
        assert_eq!(prompt.variables, ["requirement", "context", "file", "input"]);
        assert!(prompt.for_language("typescript") && prompt.for_language("tsx") && !prompt.for_language("rust"));
        let replace = parse("p/x.md", "---\ntitle: T\napplies_to: selection\n---\nImprove {{selection}}").unwrap();
        assert_eq!(replace.output, Output::Replace);
    }

    #[test]
    fn rendering_fills_every_variable() {
        let prompt = parse("x.md", CLIENT).unwrap();
        let values = |name: &str| Some(format!("<{name}>"));
        assert_eq!(prompt.render(&values).unwrap(), "Write a typed client for <requirement>.\nSpec:\n<context>\nFile:\n<file>\nAsked: <input>");
        let without_input = |name: &str| (name != "input").then(|| "v".to_string());
        assert_eq!(prompt.render(&without_input).unwrap_err(), "the prompt `x` needs `input`, and there is none here");
    }

    #[test]
    fn broken_files_say_why() {
        let reason = |text: &str| parse("bad.md", text).unwrap_err().reason;
        assert!(reason("no front matter").contains("must start with a `---` line"));
        assert!(reason("---\ntitle: T\n").contains("no closing `---`"));
        assert!(reason("---\napplies_to: file\n---\nx").contains("no `title`"));
        assert!(reason("---\ntitle: T\napplies_to: everything\n---\nx").contains("`applies_to: everything` is not one of"));
        assert!(reason("---\ntitle: T\napplies_to: file\n---\nUse {{selected}}").contains("unknown variable `{{selected}}`"));
        assert!(reason("---\ntitle: T\napplies_to: file\n---\nUse {{file").contains("never closed"));
        assert!(reason("---\ntitle: T\napplies_to: file\ncolor: red\n---\nx").contains("unknown front matter key `color`"));
        assert!(reason("---\ntitle: T\napplies_to: file\nlanguages: cobol\n---\nx").contains("unknown language `cobol`"));
        assert!(reason("---\ntitle: T\napplies_to: file\noutput: replace\n---\nx").contains("needs `applies_to: selection`"));
        assert!(reason("---\ntitle: T\napplies_to: file\n---\n").contains("empty"));
        assert_eq!(parse("dir/bad.md", "x").unwrap_err().to_string().split(':').next(), Some("dir/bad.md"));
    }
}
