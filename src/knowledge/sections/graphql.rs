//! GraphQL SDL split by top-level definition (types, inputs, interfaces, enums, unions,
//! scalars, the schema, directives, extensions), with the named types each one uses.

use super::tokens::{skip_balanced, Syntax, TokenKind, TokenText};
use super::{dedupe, Section, SectionKind};

const GRAPHQL_DEFINITIONS: [&str; 9] = [
    "type",
    "input",
    "interface",
    "enum",
    "union",
    "scalar",
    "schema",
    "directive",
    "extend",
];
/// Executable definitions end the definition before them but are not sections.
const GRAPHQL_OPERATIONS: [&str; 4] = ["query", "mutation", "subscription", "fragment"];
const GRAPHQL_BUILTIN_SCALARS: [&str; 5] = ["Int", "Float", "String", "Boolean", "ID"];

pub(super) fn split_graphql(text: &str) -> Vec<Section> {
    let source = TokenText::new(text, Syntax::GraphQl);
    // Top-level definition keywords: (token index, whether it is a section).
    let mut keywords: Vec<(usize, bool)> = Vec::new();
    let mut depth = 0usize;
    let mut previous: Option<usize> = None;
    for (index, token) in source.tokens.iter().enumerate() {
        match token.kind {
            TokenKind::Comment => continue,
            TokenKind::Name if depth == 0 => {
                let word = source.str(index);
                let after_extend = previous.is_some_and(|p| source.str(p) == "extend");
                if !after_extend && GRAPHQL_DEFINITIONS.contains(&word) {
                    keywords.push((index, true));
                } else if !after_extend && GRAPHQL_OPERATIONS.contains(&word) {
                    keywords.push((index, false));
                }
            }
            TokenKind::Punct => match source.str(index) {
                "{" | "(" | "[" => depth += 1,
                "}" | ")" | "]" => depth = depth.saturating_sub(1),
                _ => {}
            },
            _ => {}
        }
        previous = Some(index);
    }
    let firsts: Vec<usize> = keywords
        .iter()
        .enumerate()
        .map(|(i, &(keyword, _))| {
            let floor = if i == 0 { 0 } else { keywords[i - 1].0 + 1 };
            source.leading_trivia(keyword, floor, true)
        })
        .collect();
    let mut sections = Vec::new();
    for (i, &(keyword, is_section)) in keywords.iter().enumerate() {
        if !is_section {
            continue;
        }
        let limit = firsts.get(i + 1).copied().unwrap_or(source.tokens.len());
        let significant: Vec<usize> = (keyword..limit)
            .filter(|&t| source.kind(t) != Some(TokenKind::Comment))
            .collect();
        if let Some(section) = graphql_section(&source, &significant, firsts[i]) {
            sections.push(section);
        }
    }
    sections
}

/// The section of one definition, given its non-comment tokens (keyword first).
fn graphql_section(source: &TokenText, significant: &[usize], first: usize) -> Option<Section> {
    let word = |position: usize| significant.get(position).map_or("", |&t| source.str(t));
    let is_name = |position: usize| {
        significant
            .get(position)
            .is_some_and(|&t| source.kind(t) == Some(TokenKind::Name))
    };
    let extend = word(0) == "extend";
    let keyword_position = usize::from(extend);
    let keyword = word(keyword_position);
    let mut position = keyword_position + 1;
    let name = match keyword {
        "schema" => None,
        "directive" if word(position) == "@" && is_name(position + 1) => {
            position += 2;
            Some(format!("@{}", word(position - 1)))
        }
        _ if is_name(position) && GRAPHQL_DEFINITIONS.contains(&keyword) => {
            position += 1;
            Some(word(position - 1).to_string())
        }
        _ => return None,
    };
    let refs = graphql_refs(source, significant, position, keyword == "union");
    let own = name.clone().unwrap_or_default();
    let refs = dedupe(refs, std::slice::from_ref(&own));
    let prefix = if extend { "extend " } else { "" };
    let title = match &name {
        Some(name) => format!("{prefix}{keyword} {name}"),
        None => format!("{prefix}{keyword}"),
    };
    let last = *significant.last()?;
    let (start_line, end_line, text) = source.section(first, last);
    Some(Section {
        kind: if keyword == "enum" {
            SectionKind::Enum
        } else {
            SectionKind::Type
        },
        title,
        anchor: name.clone().unwrap_or_else(|| keyword.to_string()),
        names: name.into_iter().collect(),
        parent: None,
        level: 0,
        start_line,
        end_line,
        text,
        refs,
    })
}

/// Named types used after `from`: field and argument types, `implements`, union members.
fn graphql_refs(
    source: &TokenText,
    significant: &[usize],
    from: usize,
    is_union: bool,
) -> Vec<String> {
    let word = |position: usize| significant.get(position).map_or("", |&t| source.str(t));
    let is_name = |position: usize| {
        significant
            .get(position)
            .is_some_and(|&t| source.kind(t) == Some(TokenKind::Name))
    };
    let mut refs = Vec::new();
    let mut push = |name: &str| {
        if !GRAPHQL_BUILTIN_SCALARS.contains(&name) {
            refs.push(name.to_string());
        }
    };
    let mut in_body = false;
    let mut depth = 0usize;
    let mut position = from;
    while position < significant.len() {
        match word(position) {
            "@" => {
                // A directive application and its arguments are values, not types.
                position += 2;
                if word(position) == "(" {
                    position = skip_balanced(source, significant, position);
                }
                continue;
            }
            "implements" if !in_body && depth == 0 => {
                position += 1;
                while word(position) == "&" || is_name(position) {
                    if is_name(position) {
                        push(word(position));
                    }
                    position += 1;
                }
                continue;
            }
            "=" if is_union && !in_body && depth == 0 => {
                position += 1;
                while word(position) == "|" || is_name(position) {
                    if is_name(position) {
                        push(word(position));
                    }
                    position += 1;
                }
                continue;
            }
            "=" => {
                // A default value.
                position += 1;
                position = if matches!(word(position), "{" | "[") {
                    skip_balanced(source, significant, position)
                } else {
                    position + 1
                };
                continue;
            }
            ":" => {
                position += 1;
                while word(position) == "[" {
                    position += 1;
                    depth += 1;
                }
                if is_name(position) {
                    push(word(position));
                }
                continue;
            }
            "{" => {
                in_body = true;
                depth += 1;
            }
            "(" | "[" => depth += 1,
            "}" | ")" | "]" => depth = depth.saturating_sub(1),
            _ => {}
        }
        position += 1;
    }
    refs
}

