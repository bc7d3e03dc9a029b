//! Splits project documents into sections that the context engine can show a model and
//! that a mention `file#anchor` can name: Markdown by heading, OpenAPI/Swagger (YAML or
//! JSON) by operation and component, GraphQL SDL by top-level definition and protobuf by
//! top-level message, enum and service.
//!
//! The parsing is done by maintained parsers: pulldown-cmark (Markdown), tree-sitter-yaml
//! and tree-sitter-json (OpenAPI), apollo-parser (GraphQL); protobuf, a small token
//! language without a maintained parser that gives spans, by the tokenizer of `tokens`.
//! One file per format.
//!
//! Invariants:
//! - Pure: no IO.
//! - Never panics, whatever the input (garbage, unbalanced braces, CRLF, tabs, a 10 MB
//!   line), and takes time roughly linear in the size of the input.
//! - Lines are counted from 0 and end at `\n`; a `\r` before the `\n` is never part of a
//!   section's text. A section's range never ends on a blank line, and its `text` is the
//!   source lines `start_line..=end_line` joined with `\n`, except where [`Section::text`]
//!   says otherwise.
//! - Sections come back in text order. Partial results are preferred to errors: only
//!   OpenAPI input that is not a JSON/OpenAPI document at all gives an `Err`.

use std::collections::HashSet;

mod graphql;
mod markdown;
mod openapi;
mod proto;
mod tokens;

pub use markdown::github_slug;
#[cfg(test)]
use markdown::Slugger;

/// What kind of document a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DocKind {
    /// Markdown: `.md`, `.markdown`, `.mdx`.
    Markdown,
    /// An OpenAPI 3 or Swagger 2 document, in YAML or JSON.
    OpenApi,
    /// A GraphQL schema in SDL: `.graphql`, `.graphqls`, `.gql`.
    GraphQl,
    /// A protocol buffers definition: `.proto`.
    Proto,
}

impl DocKind {
    /// The kind from the path alone: .md .markdown .mdx → Markdown; .graphql .graphqls .gql →
    /// GraphQl; .proto → Proto; .json .yaml .yml → OpenApi (only a candidate: [`detect`]
    /// confirms it from the text). The extension is compared case-insensitively.
    pub fn from_path(path: &str) -> Option<DocKind> {
        let file_name = path.rsplit(['/', '\\']).next().unwrap_or(path);
        let (_, extension) = file_name.rsplit_once('.')?;
        match extension.to_ascii_lowercase().as_str() {
            "md" | "markdown" | "mdx" => Some(DocKind::Markdown),
            "graphql" | "graphqls" | "gql" => Some(DocKind::GraphQl),
            "proto" => Some(DocKind::Proto),
            "json" | "yaml" | "yml" => Some(DocKind::OpenApi),
            _ => None,
        }
    }

    /// A short lowercase name: "markdown", "openapi", "graphql" or "proto".
    pub fn name(self) -> &'static str {
        match self {
            DocKind::Markdown => "markdown",
            DocKind::OpenApi => "openapi",
            DocKind::GraphQl => "graphql",
            DocKind::Proto => "proto",
        }
    }
}

/// The kind of `path` given its text: for .json/.yaml/.yml only when the text is an OpenAPI
/// or Swagger document (a top-level `openapi` or `swagger` key), else `None`; other kinds as
/// [`DocKind::from_path`].
pub fn detect(path: &str, text: &str) -> Option<DocKind> {
    let kind = DocKind::from_path(path)?;
    if kind != DocKind::OpenApi {
        return Some(kind);
    }
    let text = strip_bom(text);
    if !text.contains("openapi") && !text.contains("swagger") {
        return None;
    }
    openapi::is_openapi(text).then_some(DocKind::OpenApi)
}

/// What a section is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SectionKind {
    /// Text before the first Markdown heading, an OpenAPI `info` block, or the
    /// `syntax`/`package`/`import`/`option` lines of a proto file.
    Preamble,
    /// A Markdown heading and the text up to the next heading.
    Heading,
    /// An OpenAPI operation (`paths.<path>.<method>`).
    Operation,
    /// An OpenAPI schema, or a reusable request body, response or parameter.
    Schema,
    /// A GraphQL definition other than an enum.
    Type,
    /// A proto service.
    Service,
    /// A proto message.
    Message,
    /// A GraphQL or proto enum.
    Enum,
}

/// One section of a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// What the section is.
    pub kind: SectionKind,
    /// Markdown: the heading text without `#`s and trailing `#`s ("Orders"); OpenAPI
    /// operation: "GET /orders/{id}"; schema: its name; GraphQL: "type Order" /
    /// "input NewOrder" / "enum Status" / "extend type Order" / "schema" / "directive @auth";
    /// proto: "message Order" / "service Orders" / "enum Status"; Preamble: "". Parts of a
    /// long Markdown section after the first are titled "Orders (2)", "Orders (3)", ...
    /// (a long preamble: "(2)", "(3)", ...).
    pub title: String,
    /// How a mention `file#anchor` names the section. Markdown: GitHub's heading slug, with
    /// `-1`, `-2`, ... on repeats; OpenAPI operation: its operationId, else the slug of the
    /// title ("get-ordersid"); schema/type/message/service/enum: the name (a GraphQL
    /// directive: "@auth"; the GraphQL schema definition: "schema"); Preamble: "".
    pub anchor: String,
    /// Names this section defines, for lookup by name: operation: its operationId (if any)
    /// and its path; schema/type/message/enum: the name; proto message: also the names of
    /// nested messages and enums; proto service: the name and each rpc name; headings and
    /// preambles: none.
    pub names: Vec<String>,
    /// Markdown: the index (in the returned `Vec`) of the enclosing heading section, the
    /// nearest previous heading of a lower level. `None` elsewhere.
    pub parent: Option<usize>,
    /// Markdown heading level 1-6; 0 otherwise.
    pub level: u8,
    /// First line of the section, 0-based.
    pub start_line: u32,
    /// Last line of the section, 0-based and inclusive; never a blank line.
    pub end_line: u32,
    /// What a model is shown: normally exactly the source lines `start_line..=end_line`.
    /// Exceptions: an OpenAPI operation's text starts with a line `# GET /orders/{id}` when
    /// its first line does not hold the path key, and ends with the lines of the path-level
    /// `parameters` when there are any; a JSON value that shares its line with other values
    /// (minified JSON) is pretty-printed with an indent of 2; a GraphQL or proto definition
    /// that shares a line with another definition (a one-line schema) is its exact source
    /// span, so that a long shared line is not copied into every section.
    pub text: String,
    /// Names of other sections this one uses, deduplicated, in first-use order, without the
    /// section's own names. OpenAPI: the last segment of `$ref`s to `#/components/schemas`,
    /// `requestBodies`, `responses`, `parameters` and Swagger's `#/definitions`,
    /// `#/parameters`, `#/responses`; GraphQL: named types of fields, arguments, `implements`
    /// and union members, without the built-in scalars; proto: message and enum types of
    /// fields and rpcs (last segment of dotted names), without scalar types.
    pub refs: Vec<String>,
}

/// The sections of a document, in text order. An `Err` (a one-line reason) only when the
/// document is not what its kind says: OpenAPI text that is invalid JSON, or that has no
/// top-level `openapi`/`swagger` key. Markdown, GraphQL and proto never fail: broken input
/// gives the sections that could be found (an unclosed brace runs to the end of the file).
pub fn split(kind: DocKind, text: &str) -> Result<Vec<Section>, String> {
    let text = strip_bom(text);
    match kind {
        DocKind::Markdown => Ok(markdown::split_markdown(text)),
        DocKind::OpenApi => openapi::split_openapi(text),
        DocKind::GraphQl => Ok(graphql::split_graphql(text)),
        DocKind::Proto => Ok(proto::split_proto(text)),
    }
}

fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Converts a line index to the `u32` of [`Section`], saturating.
fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// The lines of a text: `\n`-separated, without a trailing `\r`.
struct Lines<'a> {
    text: &'a str,
    /// Byte offset of the start of each line; a final `\n` does not start an empty line.
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Lines<'a> {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i + 1),
        );
        if starts.last() == Some(&text.len()) {
            starts.pop();
        }
        Lines { text, starts }
    }

    fn len(&self) -> usize {
        self.starts.len()
    }

    fn line(&self, index: usize) -> &'a str {
        let Some(&start) = self.starts.get(index) else {
            return "";
        };
        let end = match self.starts.get(index + 1) {
            Some(&next) => next - 1,
            None => self.text.len(),
        };
        let line = self.text.get(start..end).unwrap_or("");
        line.strip_suffix('\r').unwrap_or(line)
    }

    fn is_blank(&self, index: usize) -> bool {
        self.line(index).trim().is_empty()
    }

    /// The line holding byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.starts
            .partition_point(|&start| start <= offset)
            .saturating_sub(1)
    }

    /// The last line in `start..=end` that is not blank, or `start`.
    fn last_non_blank(&self, start: usize, end: usize) -> usize {
        let mut last = end;
        while last > start && self.is_blank(last) {
            last -= 1;
        }
        last
    }

    /// Lines `start..=end` joined with `\n`.
    fn slice(&self, start: usize, end: usize) -> String {
        let mut out = String::new();
        for index in start..=end.min(self.len().saturating_sub(1)) {
            if index > start {
                out.push('\n');
            }
            out.push_str(self.line(index));
        }
        out
    }
}

/// Drops repeats and `exclude`d names, keeping first-use order.
fn dedupe(names: Vec<String>, exclude: &[String]) -> Vec<String> {
    let mut seen: HashSet<String> = exclude.iter().cloned().collect();
    names
        .into_iter()
        .filter(|name| !name.is_empty() && seen.insert(name.clone()))
        .collect()
}


#[cfg(test)]
mod tests;
