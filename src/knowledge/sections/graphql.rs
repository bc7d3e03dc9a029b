//! GraphQL SDL split by top-level definition (types, inputs, interfaces, enums, unions,
//! scalars, the schema, directives, extensions), with the named types each one uses.
//! Parsed by apollo-parser (spec-compliant, error-tolerant): descriptions, block strings,
//! default values and directive arguments are its business.

use apollo_parser::cst::{self, CstNode};
use apollo_parser::{Parser, SyntaxKind, SyntaxNode};

use super::tokens::span_section;
use super::{dedupe, Lines, Section, SectionKind};

const GRAPHQL_BUILTIN_SCALARS: [&str; 5] = ["Int", "Float", "String", "Boolean", "ID"];
/// Nesting the parser follows at most (it stops with an error past it, never overflows).
const RECURSION_LIMIT: usize = 200;

pub(super) fn split_graphql(text: &str) -> Vec<Section> {
    let lines = Lines::new(text);
    let tree = Parser::new(text).recursion_limit(RECURSION_LIMIT).parse();
    let document = tree.document();
    // Every top-level definition, sections or not (queries and fragments bound the
    // comments of the definition after them): (node, first and last significant byte).
    let definitions: Vec<(SyntaxNode, usize, usize)> = document
        .syntax()
        .children()
        .filter_map(|node| {
            let (start, end) = significant_span(&node)?;
            Some((node, start, end))
        })
        .collect();
    let mut sections = Vec::new();
    for (i, (node, start, end)) in definitions.iter().enumerate() {
        let previous_end = i.checked_sub(1).map(|p| definitions[p].2);
        let Some((kind, title, name)) = describe(node) else { continue };
        let start = leading_comments(text, &lines, *start, previous_end);
        let refs: Vec<String> = node
            .descendants()
            .filter_map(cst::NamedType::cast)
            .filter_map(|named| named.name())
            .map(|name| name.text().to_string())
            .filter(|name| !GRAPHQL_BUILTIN_SCALARS.contains(&name.as_str()))
            .collect();
        let own = name.clone().unwrap_or_default();
        let (start_line, end_line, text) = span_section(text, &lines, start, *end);
        sections.push(Section {
            kind,
            anchor: name.clone().unwrap_or_else(|| title.rsplit(' ').next().unwrap_or("").to_string()),
            names: name.into_iter().collect(),
            title,
            parent: None,
            level: 0,
            start_line,
            end_line,
            text,
            refs: dedupe(refs, std::slice::from_ref(&own)),
        });
    }
    sections
}

/// The bytes from a node's first token to its last one that is not whitespace, a comment
/// or a comma (a description string counts).
fn significant_span(node: &SyntaxNode) -> Option<(usize, usize)> {
    let mut tokens = node
        .descendants_with_tokens()
        .filter_map(|element| element.into_token())
        .filter(|token| !matches!(token.kind(), SyntaxKind::WHITESPACE | SyntaxKind::COMMENT | SyntaxKind::COMMA));
    let first = tokens.next()?;
    let last = tokens.last().unwrap_or_else(|| first.clone());
    Some((usize::from(first.text_range().start()), usize::from(last.text_range().end())))
}

/// A type-system definition's section kind, title ("type Order", "extend type Order",
/// "directive @auth", "schema") and name; None for queries, fragments and errors.
fn describe(node: &SyntaxNode) -> Option<(SectionKind, String, Option<String>)> {
    use SyntaxKind as K;
    let (keyword, extend) = match node.kind() {
        K::OBJECT_TYPE_DEFINITION => ("type", false),
        K::OBJECT_TYPE_EXTENSION => ("type", true),
        K::INTERFACE_TYPE_DEFINITION => ("interface", false),
        K::INTERFACE_TYPE_EXTENSION => ("interface", true),
        K::UNION_TYPE_DEFINITION => ("union", false),
        K::UNION_TYPE_EXTENSION => ("union", true),
        K::ENUM_TYPE_DEFINITION => ("enum", false),
        K::ENUM_TYPE_EXTENSION => ("enum", true),
        K::INPUT_OBJECT_TYPE_DEFINITION => ("input", false),
        K::INPUT_OBJECT_TYPE_EXTENSION => ("input", true),
        K::SCALAR_TYPE_DEFINITION => ("scalar", false),
        K::SCALAR_TYPE_EXTENSION => ("scalar", true),
        K::SCHEMA_DEFINITION => ("schema", false),
        K::SCHEMA_EXTENSION => ("schema", true),
        K::DIRECTIVE_DEFINITION => ("directive", false),
        _ => return None,
    };
    let name = node.children().find_map(cst::Name::cast).map(|name| name.text().to_string());
    let name = match keyword {
        "schema" => None,
        "directive" => Some(format!("@{}", name?)),
        _ => Some(name?),
    };
    let prefix = if extend { "extend " } else { "" };
    let title = match &name {
        Some(name) => format!("{prefix}{keyword} {name}"),
        None => format!("{prefix}{keyword}"),
    };
    let kind = if keyword == "enum" { SectionKind::Enum } else { SectionKind::Type };
    Some((kind, title, name))
}

/// Where a definition starting at byte `start` begins with the `#` comment lines directly
/// above it (no blank line between), when it starts its line; never before the end of
/// the previous definition.
fn leading_comments(text: &str, lines: &Lines, start: usize, previous_end: Option<usize>) -> usize {
    let mut line = lines.line_of(start);
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    if !text[line_start..start].trim().is_empty() {
        return start;
    }
    let floor = previous_end.map_or(0, |end| lines.line_of(end.saturating_sub(1)) + 1);
    let mut first = start;
    while line > floor && lines.line(line - 1).trim_start().starts_with('#') {
        line -= 1;
        first = line_offset(text, line);
    }
    first.min(start)
}

/// The byte where line `index` starts.
fn line_offset(text: &str, index: usize) -> usize {
    if index == 0 {
        return 0;
    }
    text.match_indices('\n').nth(index - 1).map_or(text.len(), |(i, _)| i + 1)
}
