//! Splits project documents into sections that the context engine can show a model and
//! that a mention `file#anchor` can name: Markdown by heading, OpenAPI/Swagger (YAML or
//! JSON) by operation and component, GraphQL SDL by top-level definition and protobuf by
//! top-level message, enum and service.
//!
//! Invariants:
//! - Pure: no IO, nothing beyond `std`.
//! - Never panics, whatever the input (garbage, unbalanced braces, CRLF, tabs, a 10 MB
//!   line), and takes time roughly linear in the size of the input.
//! - Lines are counted from 0 and end at `\n`; a `\r` before the `\n` is never part of a
//!   section's text. A section's range never ends on a blank line, and its `text` is the
//!   source lines `start_line..=end_line` joined with `\n`, except where [`Section::text`]
//!   says otherwise.
//! - Sections come back in text order. Partial results are preferred to errors: only
//!   OpenAPI input that is not a JSON/OpenAPI document at all gives an `Err`.

use std::collections::{HashMap, HashSet};

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
    let is_openapi = if looks_like_json(text) {
        match JsonParser::parse_document(text) {
            Ok(root) => json_members(&root)
                .iter()
                .any(|member| is_version_key(&member.key)),
            Err(_) => false,
        }
    } else {
        let lines = Lines::new(text);
        let outline = YamlOutline::parse(&lines);
        outline
            .roots
            .iter()
            .any(|&root| is_version_key(&outline.entries[root].key))
    };
    is_openapi.then_some(DocKind::OpenApi)
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
        DocKind::Markdown => Ok(split_markdown(text)),
        DocKind::OpenApi => split_openapi(text),
        DocKind::GraphQl => Ok(split_graphql(text)),
        DocKind::Proto => Ok(split_proto(text)),
    }
}

// ---------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Markdown
// ---------------------------------------------------------------------------------------

/// A Markdown section longer than this many lines is split into parts.
const MAX_PART_LINES: usize = 120;

struct MdHeading {
    /// First line: the `#` line, or the first paragraph line of a setext heading.
    start: usize,
    level: u8,
    title: String,
}

/// Whether the lines just above can become a setext heading.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Paragraph {
    None,
    Open(usize),
    /// Inside a list item, block quote or HTML: an underline below is a thematic break.
    Other,
}

/// A block whose lines are never headings.
#[derive(Clone, Copy)]
enum OpaqueBlock {
    Fence { marker: u8, length: usize },
    HtmlComment,
}

/// What a split section has in common between its parts.
struct PartTemplate<'t> {
    kind: SectionKind,
    title: &'t str,
    anchor: &'t str,
    parent: Option<usize>,
    level: u8,
}

fn split_markdown(text: &str) -> Vec<Section> {
    let lines = Lines::new(text);
    let body_start = front_matter_end(&lines);
    let (headings, opaque) = scan_markdown(&lines, body_start);
    let mut sections = Vec::new();
    let first_heading = headings
        .first()
        .map_or(lines.len(), |heading| heading.start);
    if let Some(start) = (body_start..first_heading).find(|&i| !lines.is_blank(i)) {
        let end = lines.last_non_blank(start, first_heading - 1);
        let template = PartTemplate {
            kind: SectionKind::Preamble,
            title: "",
            anchor: "",
            parent: None,
            level: 0,
        };
        push_parts(&mut sections, &lines, &opaque, &template, start, end);
    }
    let mut slugger = Slugger::default();
    // Open headings: (level, index of the heading's first part).
    let mut open: Vec<(u8, usize)> = Vec::new();
    for (index, heading) in headings.iter().enumerate() {
        let next = headings
            .get(index + 1)
            .map_or(lines.len(), |next| next.start);
        let end = lines.last_non_blank(heading.start, next.saturating_sub(1).max(heading.start));
        while open
            .last()
            .is_some_and(|&(level, _)| level >= heading.level)
        {
            open.pop();
        }
        let anchor = slugger.slug(github_slug(&heading.title));
        let template = PartTemplate {
            kind: SectionKind::Heading,
            title: &heading.title,
            anchor: &anchor,
            parent: open.last().map(|&(_, section)| section),
            level: heading.level,
        };
        let first_part = sections.len();
        push_parts(
            &mut sections,
            &lines,
            &opaque,
            &template,
            heading.start,
            end,
        );
        open.push((heading.level, first_part));
    }
    sections
}

/// The first line after YAML (`---`) or TOML (`+++`) front matter, or 0 when there is none.
fn front_matter_end(lines: &Lines) -> usize {
    let closers: &[&str] = match lines.line(0).trim_end() {
        "---" => &["---", "..."],
        "+++" => &["+++"],
        _ => return 0,
    };
    (1..lines.len())
        .find(|&i| closers.contains(&lines.line(i).trim_end()))
        .map_or(0, |i| i + 1)
}

/// The headings from line `from` on, and for each line whether it is inside a fenced code
/// block or an HTML comment.
fn scan_markdown(lines: &Lines, from: usize) -> (Vec<MdHeading>, Vec<bool>) {
    let mut headings = Vec::new();
    let mut opaque = vec![false; lines.len()];
    let mut block: Option<OpaqueBlock> = None;
    let mut paragraph = Paragraph::None;
    for (index, is_opaque) in opaque.iter_mut().enumerate().skip(from) {
        let line = lines.line(index);
        match block {
            Some(OpaqueBlock::Fence { marker, length }) => {
                *is_opaque = true;
                if is_fence_close(line, marker, length) {
                    block = None;
                }
                continue;
            }
            Some(OpaqueBlock::HtmlComment) => {
                *is_opaque = true;
                if line.contains("-->") {
                    block = None;
                }
                continue;
            }
            None => {}
        }
        if line.trim().is_empty() {
            paragraph = Paragraph::None;
            continue;
        }
        let (columns, rest) = leading_indent(line);
        if columns < 4 {
            if let Some((marker, length)) = fence_open(rest) {
                block = Some(OpaqueBlock::Fence { marker, length });
                *is_opaque = true;
                paragraph = Paragraph::None;
                continue;
            }
            if let Some(comment) = rest.strip_prefix("<!--") {
                if !comment.contains("-->") {
                    block = Some(OpaqueBlock::HtmlComment);
                }
                *is_opaque = true;
                paragraph = Paragraph::None;
                continue;
            }
            if let Some((level, title)) = atx_heading(rest) {
                headings.push(MdHeading {
                    start: index,
                    level,
                    title,
                });
                paragraph = Paragraph::None;
                continue;
            }
            if let (Paragraph::Open(start), Some(level)) = (paragraph, setext_level(rest)) {
                let title: Vec<&str> = (start..index).map(|i| lines.line(i).trim()).collect();
                headings.push(MdHeading {
                    start,
                    level,
                    title: title.join(" "),
                });
                paragraph = Paragraph::None;
                continue;
            }
            if is_thematic_break(rest) {
                paragraph = Paragraph::None;
                continue;
            }
        }
        paragraph = match paragraph {
            Paragraph::None if columns >= 4 => Paragraph::None, // indented code
            _ if columns < 4 && starts_container(rest) => Paragraph::Other,
            Paragraph::None => Paragraph::Open(index),
            continued => continued,
        };
    }
    (headings, opaque)
}

/// Columns of leading indentation (a tab goes to the next multiple of 4) and the rest.
fn leading_indent(line: &str) -> (usize, &str) {
    let mut columns = 0;
    let mut bytes = 0;
    for byte in line.bytes() {
        match byte {
            b' ' => columns += 1,
            b'\t' => columns += 4 - columns % 4,
            _ => break,
        }
        bytes += 1;
    }
    (columns, &line[bytes..])
}

/// An ATX heading (indentation already removed): its level and text.
fn atx_heading(rest: &str) -> Option<(u8, String)> {
    let hashes = rest.bytes().take_while(|&b| b == b'#').count();
    if hashes == 0 || hashes > 6 {
        return None;
    }
    let after = &rest[hashes..];
    if !(after.is_empty() || after.starts_with([' ', '\t'])) {
        return None;
    }
    let mut content = after.trim();
    let without_closing = content.trim_end_matches('#');
    if without_closing.len() != content.len()
        && (without_closing.is_empty() || without_closing.ends_with([' ', '\t']))
    {
        content = without_closing.trim_end();
    }
    Some((u8::try_from(hashes).unwrap_or(6), content.to_string()))
}

/// An opening code fence (indentation already removed): its character and length.
fn fence_open(rest: &str) -> Option<(u8, usize)> {
    let marker = *rest.as_bytes().first()?;
    if marker != b'`' && marker != b'~' {
        return None;
    }
    let length = rest.bytes().take_while(|&b| b == marker).count();
    if length < 3 || (marker == b'`' && rest[length..].contains('`')) {
        return None;
    }
    Some((marker, length))
}

fn is_fence_close(line: &str, marker: u8, length: usize) -> bool {
    let (columns, rest) = leading_indent(line);
    let run = rest.bytes().take_while(|&b| b == marker).count();
    columns < 4 && run >= length && rest[run..].trim().is_empty()
}

/// The level of a setext underline (indentation already removed).
fn setext_level(rest: &str) -> Option<u8> {
    let underline = rest.trim_end();
    if underline.is_empty() {
        None
    } else if underline.bytes().all(|b| b == b'=') {
        Some(1)
    } else if underline.bytes().all(|b| b == b'-') {
        Some(2)
    } else {
        None
    }
}

fn is_thematic_break(rest: &str) -> bool {
    let mut marker = None;
    let mut count = 0;
    for byte in rest.bytes() {
        match byte {
            b' ' | b'\t' => {}
            b'-' | b'*' | b'_' => {
                if marker.is_some_and(|m| m != byte) {
                    return false;
                }
                marker = Some(byte);
                count += 1;
            }
            _ => return false,
        }
    }
    count >= 3
}

/// Whether a line starts a list item, block quote or HTML block.
fn starts_container(rest: &str) -> bool {
    let bytes = rest.as_bytes();
    match bytes.first() {
        Some(b'>' | b'<') => true,
        Some(b'-' | b'*' | b'+') => matches!(bytes.get(1), None | Some(b' ' | b'\t')),
        Some(b'0'..=b'9') => {
            let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
            digits <= 9
                && matches!(bytes.get(digits), Some(b'.' | b')'))
                && matches!(bytes.get(digits + 1), None | Some(b' ' | b'\t'))
        }
        _ => false,
    }
}

/// Pushes a section, split into parts of at most [`MAX_PART_LINES`] lines at blank lines
/// outside code fences (or, failing that, inside them, or, failing that, anywhere).
fn push_parts(
    sections: &mut Vec<Section>,
    lines: &Lines,
    opaque: &[bool],
    template: &PartTemplate,
    start: usize,
    end: usize,
) {
    let is_open_blank = |i: usize| lines.is_blank(i) && !opaque.get(i).copied().unwrap_or(false);
    let mut part_start = start;
    let mut part_number = 1;
    loop {
        let (part_end, next_start) = if end + 1 - part_start <= MAX_PART_LINES {
            (end, None)
        } else {
            // A cut at blank line `b` ends the part at `b - 1`; look from the limit back.
            let window = (part_start + MAX_PART_LINES / 2..=part_start + MAX_PART_LINES).rev();
            let cut = window
                .clone()
                .find(|&b| is_open_blank(b))
                .or_else(|| window.clone().find(|&b| lines.is_blank(b)))
                .unwrap_or(part_start + MAX_PART_LINES);
            (lines.last_non_blank(part_start, cut - 1), Some(cut))
        };
        let title = match (part_number, template.title) {
            (1, title) => title.to_string(),
            (n, "") => format!("({n})"),
            (n, title) => format!("{title} ({n})"),
        };
        sections.push(Section {
            kind: template.kind,
            title,
            anchor: template.anchor.to_string(),
            names: Vec::new(),
            parent: template.parent,
            level: template.level,
            start_line: to_u32(part_start),
            end_line: to_u32(part_end),
            text: lines.slice(part_start, part_end),
            refs: Vec::new(),
        });
        let Some(cut) = next_start else { break };
        match (cut..=end).find(|&i| !lines.is_blank(i)) {
            Some(next) => part_start = next,
            None => break,
        }
        part_number += 1;
    }
}

/// GitHub's heading slug before deduplication: the rendered text lowercased, without
/// punctuation other than `-` and `_`, each space turned into `-`.
fn github_slug(title: &str) -> String {
    let plain = strip_inline_markup(title).to_lowercase();
    let mut slug = String::with_capacity(plain.len());
    for c in plain.chars() {
        if c.is_alphanumeric() || c == '-' || c == '_' {
            slug.push(c);
        } else if c == ' ' {
            slug.push('-');
        }
    }
    slug
}

/// The text of a heading as GitHub renders it, roughly: links become their label, images
/// and HTML tags disappear. Linear: a closing character that is missing once is never
/// searched for again.
fn strip_inline_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut finder = CloseFinder::default();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let is_image = c == '!' && rest[1..].starts_with('[');
        if c == '[' || is_image {
            let bracket = &rest[usize::from(is_image)..];
            let Some(close) = finder.find(bracket, ']') else {
                out.push_str(rest);
                break;
            };
            let after = &bracket[close + 1..];
            let tail = match after.as_bytes().first() {
                Some(b'(') => finder.find(after, ')').map(|end| &after[end + 1..]),
                Some(b'[') => finder.find(&after[1..], ']').map(|end| &after[end + 2..]),
                _ => None,
            };
            match tail {
                Some(tail) => {
                    if !is_image {
                        out.push_str(&bracket[1..close]);
                    }
                    rest = tail;
                }
                None => {
                    out.push_str(&rest[..usize::from(is_image) + close + 1]);
                    rest = after;
                }
            }
            continue;
        }
        if c == '<' {
            if let Some(close) = finder.find(rest, '>') {
                let is_tag = rest[1..]
                    .starts_with(|t: char| t.is_ascii_alphabetic() || t == '/' || t == '!');
                if !is_tag {
                    out.push_str(&rest[..=close]);
                }
                rest = &rest[close + 1..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Finds closing characters, remembering which ones are absent from the rest of the text.
#[derive(Default)]
struct CloseFinder {
    missing: Vec<char>,
}

impl CloseFinder {
    fn find(&mut self, text: &str, close: char) -> Option<usize> {
        if self.missing.contains(&close) {
            return None;
        }
        let found = text.find(close);
        if found.is_none() {
            self.missing.push(close);
        }
        found
    }
}

/// Makes slugs unique the way github-slugger does: `x`, `x-1`, `x-2`, ...
#[derive(Default)]
struct Slugger {
    occurrences: HashMap<String, usize>,
}

impl Slugger {
    fn slug(&mut self, base: String) -> String {
        let mut slug = base.clone();
        while self.occurrences.contains_key(&slug) {
            let count = self.occurrences.entry(base.clone()).or_insert(0);
            *count += 1;
            slug = format!("{base}-{count}");
        }
        self.occurrences.insert(slug.clone(), 0);
        slug
    }
}

// ---------------------------------------------------------------------------------------
// OpenAPI / Swagger: shared
// ---------------------------------------------------------------------------------------

const HTTP_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// `$ref` prefixes whose next segment names a section.
const REF_PREFIXES: [&str; 7] = [
    "/components/schemas/",
    "/components/requestBodies/",
    "/components/responses/",
    "/components/parameters/",
    "/definitions/",
    "/parameters/",
    "/responses/",
];

fn is_version_key(key: &str) -> bool {
    key == "openapi" || key == "swagger"
}

fn looks_like_json(text: &str) -> bool {
    text.trim_start().starts_with(['{', '['])
}

fn split_openapi(text: &str) -> Result<Vec<Section>, String> {
    let lines = Lines::new(text);
    if looks_like_json(text) {
        let root = JsonParser::parse_document(text)?;
        let tree = JsonTree {
            text,
            lines: &lines,
            root: &root,
        };
        openapi_sections(&tree)
    } else {
        let tree = YamlTree {
            lines: &lines,
            outline: YamlOutline::parse(&lines),
        };
        openapi_sections(&tree)
    }
}

/// The view of a parsed OpenAPI document that section building needs; implemented by the
/// YAML outline and the JSON tree.
trait ApiTree {
    type Node: Copy;
    /// The top-level keys.
    fn top(&self) -> Vec<Self::Node>;
    /// The keys of a mapping value, in order.
    fn children(&self, node: Self::Node) -> Vec<Self::Node>;
    fn key(&self, node: Self::Node) -> &str;
    /// The value when it is a scalar, unquoted.
    fn scalar(&self, node: Self::Node) -> Option<String>;
    /// The lines from the key to the end of the value.
    fn line_range(&self, node: Self::Node) -> (usize, usize);
    /// What a model is shown for the key and its value.
    fn text(&self, node: Self::Node) -> String;
    /// Appends the section names of `$ref`s inside the value.
    fn collect_refs(&self, node: Self::Node, out: &mut Vec<String>);
}

fn openapi_sections<T: ApiTree>(tree: &T) -> Result<Vec<Section>, String> {
    let top = tree.top();
    if !top.iter().any(|&node| is_version_key(tree.key(node))) {
        return Err("not an OpenAPI document: no top-level `openapi` or `swagger` key".to_string());
    }
    let mut sections = Vec::new();
    for &node in &top {
        match tree.key(node) {
            "info" => {
                let (start, end) = tree.line_range(node);
                sections.push(Section {
                    kind: SectionKind::Preamble,
                    title: String::new(),
                    anchor: String::new(),
                    names: Vec::new(),
                    parent: None,
                    level: 0,
                    start_line: to_u32(start),
                    end_line: to_u32(end),
                    text: tree.text(node),
                    refs: Vec::new(),
                });
            }
            "paths" => {
                for path in tree.children(node) {
                    if tree.key(path).starts_with('/') {
                        push_operations(tree, path, &mut sections);
                    }
                }
            }
            "components" => {
                for group in tree.children(node) {
                    if matches!(
                        tree.key(group),
                        "schemas" | "requestBodies" | "responses" | "parameters"
                    ) {
                        push_schemas(tree, group, &mut sections);
                    }
                }
            }
            "definitions" | "parameters" | "responses" => push_schemas(tree, node, &mut sections),
            _ => {}
        }
    }
    sections.sort_by_key(|section| section.start_line);
    Ok(sections)
}

fn push_operations<T: ApiTree>(tree: &T, path_node: T::Node, sections: &mut Vec<Section>) {
    let path = tree.key(path_node);
    let children = tree.children(path_node);
    let shared_parameters = children
        .iter()
        .copied()
        .find(|&child| tree.key(child) == "parameters");
    for &operation in &children {
        let method = tree.key(operation);
        if !HTTP_METHODS.contains(&method) {
            continue;
        }
        let title = format!("{} {}", method.to_ascii_uppercase(), path);
        let operation_id = tree
            .children(operation)
            .into_iter()
            .find(|&child| tree.key(child) == "operationId")
            .and_then(|child| tree.scalar(child))
            .filter(|id| !id.is_empty());
        let mut text = tree.text(operation);
        let first_line = text.lines().next().unwrap_or("");
        let holds_path = [format!("{path}\""), format!("{path}'"), format!("{path}:")]
            .iter()
            .any(|key| first_line.contains(key.as_str()));
        if !holds_path {
            text = format!("# {title}\n{text}");
        }
        let mut refs = Vec::new();
        tree.collect_refs(operation, &mut refs);
        if let Some(parameters) = shared_parameters {
            text.push('\n');
            text.push_str(&tree.text(parameters));
            tree.collect_refs(parameters, &mut refs);
        }
        let (start, end) = tree.line_range(operation);
        sections.push(Section {
            kind: SectionKind::Operation,
            anchor: operation_id.clone().unwrap_or_else(|| github_slug(&title)),
            names: operation_id.into_iter().chain([path.to_string()]).collect(),
            title,
            parent: None,
            level: 0,
            start_line: to_u32(start),
            end_line: to_u32(end),
            text,
            refs: dedupe(refs, &[]),
        });
    }
}

fn push_schemas<T: ApiTree>(tree: &T, group: T::Node, sections: &mut Vec<Section>) {
    for schema in tree.children(group) {
        let name = tree.key(schema).to_string();
        let mut refs = Vec::new();
        tree.collect_refs(schema, &mut refs);
        let (start, end) = tree.line_range(schema);
        sections.push(Section {
            kind: SectionKind::Schema,
            title: name.clone(),
            anchor: name.clone(),
            refs: dedupe(refs, std::slice::from_ref(&name)),
            names: vec![name],
            parent: None,
            level: 0,
            start_line: to_u32(start),
            end_line: to_u32(end),
            text: tree.text(schema),
        });
    }
}

/// The section name a `$ref` value points at, if it points at a section.
fn ref_target(reference: &str) -> Option<String> {
    let fragment = &reference[reference.find('#')? + 1..];
    let rest = REF_PREFIXES
        .iter()
        .find_map(|prefix| fragment.strip_prefix(prefix))?;
    let segment = rest.split('/').next().unwrap_or("");
    (!segment.is_empty()).then(|| segment.replace("~1", "/").replace("~0", "~"))
}

// ---------------------------------------------------------------------------------------
// OpenAPI: YAML outline
// ---------------------------------------------------------------------------------------

/// A mapping key of a block-style YAML document.
struct YamlEntry {
    key: String,
    /// Column of the key (after any `- `).
    column: usize,
    line: usize,
    /// Last significant line of the key's value (comments after it excluded).
    end: usize,
    /// The inline value without its comment; empty when the value is a nested block.
    value: String,
}

/// An indentation-based outline of block mappings: enough to find OpenAPI sections without
/// a YAML parser. Flow collections (`{...}`, `[...]`) are values, not structure.
struct YamlOutline {
    entries: Vec<YamlEntry>,
    children: Vec<Vec<usize>>,
    roots: Vec<usize>,
    /// Per line: whether it is the content of a block scalar (`|`, `>`).
    block_scalar: Vec<bool>,
}

impl YamlOutline {
    fn parse(lines: &Lines) -> YamlOutline {
        let mut entries: Vec<YamlEntry> = Vec::new();
        let mut parents: Vec<Option<usize>> = Vec::new();
        let mut block_scalar = vec![false; lines.len()];
        let mut open: Vec<usize> = Vec::new();
        // Lines indented more than this column belong to the value above: (column, block scalar).
        let mut value_above: Option<(usize, bool)> = None;
        let mut last_significant = 0;
        for (index, in_block_scalar) in block_scalar.iter_mut().enumerate() {
            let line = lines.line(index);
            let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
            let rest = line[indent..].trim_end();
            if rest.is_empty() {
                continue;
            }
            if let Some((column, is_block)) = value_above {
                if indent > column {
                    *in_block_scalar = is_block;
                    last_significant = index;
                    continue;
                }
                value_above = None;
            }
            if rest.starts_with('#') || (indent == 0 && is_document_marker(rest)) {
                continue;
            }
            let mut column = indent;
            let mut item = rest;
            let mut dash_column = None;
            while item == "-" || item.starts_with("- ") || item.starts_with("-\t") {
                dash_column = Some(column);
                let after = &item[1..];
                let spaces = after.len() - after.trim_start_matches([' ', '\t']).len();
                column += 1 + spaces;
                item = &after[spaces..];
            }
            let key = parse_yaml_key(item);
            // Entries at or right of this column (left of it for a dash) have ended.
            let closes_from = match (dash_column, &key) {
                (Some(dash), _) => dash + 1,
                (None, Some(_)) => column,
                (None, None) => column + 1,
            };
            while let Some(&top) = open.last() {
                if entries[top].column < closes_from {
                    break;
                }
                entries[top].end = last_significant;
                open.pop();
            }
            last_significant = index;
            match key {
                Some((key, value)) => {
                    let value = strip_yaml_comment(value);
                    let is_node_property =
                        (value.starts_with('&') || value.starts_with('!')) && !value.contains(' ');
                    let value = if is_node_property { "" } else { value };
                    if value.starts_with(['|', '>']) {
                        value_above = Some((column, true));
                    } else if !value.is_empty() {
                        value_above = Some((column, false));
                    }
                    parents.push(open.last().copied());
                    open.push(entries.len());
                    entries.push(YamlEntry {
                        key,
                        column,
                        line: index,
                        end: index,
                        value: value.to_string(),
                    });
                }
                None => {
                    if let (Some(dash), false) = (dash_column, item.is_empty()) {
                        value_above = Some((dash, item.starts_with(['|', '>'])));
                    }
                }
            }
        }
        for entry in open {
            entries[entry].end = last_significant;
        }
        let mut children = vec![Vec::new(); entries.len()];
        let mut roots = Vec::new();
        for (entry, parent) in parents.into_iter().enumerate() {
            match parent {
                Some(parent) => children[parent].push(entry),
                None => roots.push(entry),
            }
        }
        YamlOutline {
            entries,
            children,
            roots,
            block_scalar,
        }
    }
}

fn is_document_marker(rest: &str) -> bool {
    (rest.starts_with("---") || rest.starts_with("..."))
        && matches!(rest.as_bytes().get(3), None | Some(b' ' | b'\t'))
}

/// A mapping key at the start of `item`: the key (unquoted) and the text after its `:`.
fn parse_yaml_key(item: &str) -> Option<(String, &str)> {
    let bytes = item.as_bytes();
    let (key, after) = match *bytes.first()? {
        quote @ (b'"' | b'\'') => {
            let mut i = 1;
            let close = loop {
                match bytes.get(i) {
                    None => return None,
                    Some(b'\\') if quote == b'"' => i += 2,
                    Some(&b) if b == quote => {
                        if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                            i += 2;
                        } else {
                            break i;
                        }
                    }
                    Some(_) => i += 1,
                }
            };
            (
                unquote_yaml(&item[..=close]),
                item[close + 1..].trim_start(),
            )
        }
        b'{' | b'[' | b'#' | b'?' | b'|' | b'>' | b'%' | b'@' | b'`' | b'*' | b'&' | b'!' => {
            return None
        }
        _ => {
            let mut colon = None;
            for (i, &b) in bytes.iter().enumerate() {
                if b == b':' && matches!(bytes.get(i + 1), None | Some(b' ' | b'\t')) {
                    colon = Some(i);
                    break;
                }
                if b == b'#' && i > 0 && matches!(bytes[i - 1], b' ' | b'\t') {
                    return None;
                }
            }
            let colon = colon?;
            let key = item[..colon].trim_end();
            if key.is_empty() {
                return None;
            }
            (key.to_string(), &item[colon..])
        }
    };
    let value = after.strip_prefix(':')?;
    if !(value.is_empty() || value.starts_with([' ', '\t'])) {
        return None;
    }
    Some((key, value))
}

/// A YAML value without a trailing `# comment`, trimmed.
fn strip_yaml_comment(value: &str) -> &str {
    let value = value.trim();
    let bytes = value.as_bytes();
    let search_from = match bytes.first() {
        Some(&quote @ (b'"' | b'\'')) => {
            let mut i = 1;
            loop {
                match bytes.get(i) {
                    None => return value,
                    Some(b'\\') if quote == b'"' => i += 2,
                    Some(&b) if b == quote => break i + 1,
                    Some(_) => i += 1,
                }
            }
        }
        _ => 0,
    };
    let comment = bytes
        .iter()
        .enumerate()
        .skip(search_from.max(1))
        .find(|&(i, &b)| b == b'#' && matches!(bytes[i - 1], b' ' | b'\t'));
    match comment {
        Some((i, _)) => value[..i].trim_end(),
        None => value,
    }
}

/// A YAML scalar without its quotes.
fn unquote_yaml(value: &str) -> String {
    let value = value.trim();
    if value.len() >= 2 && value.starts_with('\'') && value.ends_with('\'') {
        return value[1..value.len() - 1].replace("''", "'");
    }
    if value.len() >= 2 && value.starts_with('"') && value.ends_with('"') {
        let inner = &value[1..value.len() - 1];
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        }
        return out;
    }
    value.to_string()
}

/// Appends the targets of the `$ref`s on one YAML line (block or flow style).
fn scan_yaml_refs(line: &str, out: &mut Vec<String>) {
    let mut from = 0;
    while let Some(found) = line[from..].find("$ref") {
        let after_key = from + found + 4;
        from = after_key;
        let rest = &line[after_key..];
        let rest = rest.strip_prefix(['"', '\'']).unwrap_or(rest).trim_start();
        let Some(value) = rest.strip_prefix(':') else {
            continue;
        };
        let value = value.trim_start();
        let value = match value.as_bytes().first() {
            Some(&quote @ (b'"' | b'\'')) => {
                let inner = &value[1..];
                &inner[..inner.find(char::from(quote)).unwrap_or(inner.len())]
            }
            _ => value.split([' ', '\t', ',', '}', ']']).next().unwrap_or(""),
        };
        out.extend(ref_target(value));
    }
}

struct YamlTree<'a> {
    lines: &'a Lines<'a>,
    outline: YamlOutline,
}

impl YamlTree<'_> {
    fn entry(&self, node: usize) -> Option<&YamlEntry> {
        self.outline.entries.get(node)
    }
}

impl ApiTree for YamlTree<'_> {
    type Node = usize;

    fn top(&self) -> Vec<usize> {
        self.outline.roots.clone()
    }

    fn children(&self, node: usize) -> Vec<usize> {
        self.outline.children.get(node).cloned().unwrap_or_default()
    }

    fn key(&self, node: usize) -> &str {
        self.entry(node).map_or("", |entry| entry.key.as_str())
    }

    fn scalar(&self, node: usize) -> Option<String> {
        let entry = self.entry(node)?;
        (!entry.value.is_empty()).then(|| unquote_yaml(&entry.value))
    }

    fn line_range(&self, node: usize) -> (usize, usize) {
        self.entry(node)
            .map_or((0, 0), |entry| (entry.line, entry.end))
    }

    fn text(&self, node: usize) -> String {
        let (start, end) = self.line_range(node);
        self.lines.slice(start, end)
    }

    fn collect_refs(&self, node: usize, out: &mut Vec<String>) {
        let (start, end) = self.line_range(node);
        for index in start..=end {
            if !self
                .outline
                .block_scalar
                .get(index)
                .copied()
                .unwrap_or(true)
            {
                scan_yaml_refs(self.lines.line(index), out);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// OpenAPI: JSON
// ---------------------------------------------------------------------------------------

/// Deeper JSON is rejected, which bounds recursion.
const MAX_JSON_DEPTH: usize = 200;

/// A JSON value with its byte span in the source.
struct JsonValue {
    kind: JsonKind,
    start: usize,
    end: usize,
}

enum JsonKind {
    Object(Vec<JsonMember>),
    Array(Vec<JsonValue>),
    /// A string; decoded on demand from the source span.
    Str,
    /// A number, `true`, `false` or `null`.
    Other,
}

struct JsonMember {
    /// The decoded key.
    key: String,
    /// Span of the quoted key in the source.
    key_start: usize,
    key_end: usize,
    value: JsonValue,
}

/// A position-tracking JSON parser: strict about structure, lenient about string contents.
struct JsonParser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> JsonParser<'a> {
    fn parse_document(text: &'a str) -> Result<JsonValue, String> {
        let mut parser = JsonParser {
            text,
            bytes: text.as_bytes(),
            pos: 0,
        };
        parser.skip_whitespace();
        let value = parser.value(0)?;
        parser.skip_whitespace();
        if parser.pos < parser.bytes.len() {
            return Err(parser.error("unexpected text after the document"));
        }
        Ok(value)
    }

    fn error(&self, what: &str) -> String {
        let consumed = self.bytes.get(..self.pos).unwrap_or(self.bytes);
        let line = 1 + consumed.iter().filter(|&&b| b == b'\n').count();
        format!("invalid JSON at line {line}: {what}")
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<JsonValue, String> {
        if depth > MAX_JSON_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        let start = self.pos;
        let kind = match self.peek() {
            Some(b'{') => JsonKind::Object(self.object(depth)?),
            Some(b'[') => JsonKind::Array(self.array(depth)?),
            Some(b'"') => {
                self.string()?;
                JsonKind::Str
            }
            Some(b't') => self.literal("true")?,
            Some(b'f') => self.literal("false")?,
            Some(b'n') => self.literal("null")?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(_) => return Err(self.error("unexpected character")),
            None => return Err(self.error("unexpected end of text")),
        };
        Ok(JsonValue {
            kind,
            start,
            end: self.pos,
        })
    }

    fn object(&mut self, depth: usize) -> Result<Vec<JsonMember>, String> {
        self.pos += 1;
        self.skip_whitespace();
        let mut members = Vec::new();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(members);
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a string key"));
            }
            let key_start = self.pos;
            self.string()?;
            let key_end = self.pos;
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.error("expected `:` after a key"));
            }
            self.pos += 1;
            self.skip_whitespace();
            let value = self.value(depth + 1)?;
            let key = decode_json_string(self.text.get(key_start + 1..key_end - 1).unwrap_or(""));
            members.push(JsonMember {
                key,
                key_start,
                key_end,
                value,
            });
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(members);
                }
                _ => return Err(self.error("expected `,` or `}`")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Vec<JsonValue>, String> {
        self.pos += 1;
        self.skip_whitespace();
        let mut items = Vec::new();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(items);
        }
        loop {
            self.skip_whitespace();
            items.push(self.value(depth + 1)?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(items);
                }
                _ => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    /// Skips a string starting at the current `"`.
    fn string(&mut self) -> Result<(), String> {
        let mut i = self.pos + 1;
        while let Some(&byte) = self.bytes.get(i) {
            match byte {
                b'\\' => i += 2,
                b'"' => {
                    self.pos = i + 1;
                    return Ok(());
                }
                _ => i += 1,
            }
        }
        Err(self.error("unterminated string"))
    }

    fn literal(&mut self, word: &str) -> Result<JsonKind, String> {
        if !self.bytes[self.pos..].starts_with(word.as_bytes()) {
            return Err(self.error("unexpected character"));
        }
        self.pos += word.len();
        Ok(JsonKind::Other)
    }

    fn number(&mut self) -> Result<JsonKind, String> {
        let start = self.pos;
        while matches!(
            self.peek(),
            Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
        ) {
            self.pos += 1;
        }
        if !self.bytes[start..self.pos].iter().any(u8::is_ascii_digit) {
            return Err(self.error("invalid number"));
        }
        Ok(JsonKind::Other)
    }
}

/// The contents of a JSON string literal (without quotes) with escapes resolved; bad
/// escapes become U+FFFD.
fn decode_json_string(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_string();
    }
    fn hex4(chars: &mut std::str::Chars) -> Option<u32> {
        let mut value = 0;
        for _ in 0..4 {
            value = value * 16 + chars.next()?.to_digit(16)?;
        }
        Some(value)
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let decoded = match chars.next() {
            Some('n') => '\n',
            Some('t') => '\t',
            Some('r') => '\r',
            Some('b') => '\u{8}',
            Some('f') => '\u{c}',
            Some('u') => match hex4(&mut chars) {
                Some(high @ 0xD800..=0xDBFF) => {
                    let mut lookahead = chars.clone();
                    let low = match (lookahead.next(), lookahead.next()) {
                        (Some('\\'), Some('u')) => {
                            hex4(&mut lookahead).filter(|low| (0xDC00..=0xDFFF).contains(low))
                        }
                        _ => None,
                    };
                    match low {
                        Some(low) => {
                            chars = lookahead;
                            char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
                                .unwrap_or('\u{fffd}')
                        }
                        None => '\u{fffd}',
                    }
                }
                Some(code) => char::from_u32(code).unwrap_or('\u{fffd}'),
                None => '\u{fffd}',
            },
            Some(other) => other,
            None => break,
        };
        out.push(decoded);
    }
    out
}

fn json_members(value: &JsonValue) -> Vec<&JsonMember> {
    match &value.kind {
        JsonKind::Object(members) => members.iter().collect(),
        _ => Vec::new(),
    }
}

/// Renders a value with an indent of 2, keeping strings and numbers as written.
fn pretty_json(text: &str, value: &JsonValue, indent: usize, out: &mut String) {
    fn newline(out: &mut String, indent: usize) {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', indent * 2));
    }
    match &value.kind {
        JsonKind::Object(members) if members.is_empty() => out.push_str("{}"),
        JsonKind::Array(items) if items.is_empty() => out.push_str("[]"),
        JsonKind::Object(members) => {
            out.push('{');
            for (i, member) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent + 1);
                out.push_str(text.get(member.key_start..member.key_end).unwrap_or("\"\""));
                out.push_str(": ");
                pretty_json(text, &member.value, indent + 1, out);
            }
            newline(out, indent);
            out.push('}');
        }
        JsonKind::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent + 1);
                pretty_json(text, item, indent + 1, out);
            }
            newline(out, indent);
            out.push(']');
        }
        JsonKind::Str | JsonKind::Other => {
            out.push_str(text.get(value.start..value.end).unwrap_or(""))
        }
    }
}

fn collect_json_refs(text: &str, value: &JsonValue, out: &mut Vec<String>) {
    match &value.kind {
        JsonKind::Object(members) => {
            for member in members {
                if member.key == "$ref" {
                    if let JsonKind::Str = member.value.kind {
                        let raw = text
                            .get(member.value.start + 1..member.value.end - 1)
                            .unwrap_or("");
                        out.extend(ref_target(&decode_json_string(raw)));
                    }
                }
                collect_json_refs(text, &member.value, out);
            }
        }
        JsonKind::Array(items) => items
            .iter()
            .for_each(|item| collect_json_refs(text, item, out)),
        JsonKind::Str | JsonKind::Other => {}
    }
}

/// Whether `start..end` is alone on its line, but for a trailing comma.
fn alone_on_line(bytes: &[u8], start: usize, end: usize) -> bool {
    let before = bytes.get(..start).unwrap_or_default();
    if !before
        .iter()
        .rev()
        .take_while(|&&b| b != b'\n')
        .all(|&b| b == b' ' || b == b'\t')
    {
        return false;
    }
    let mut seen_comma = false;
    for &byte in bytes.get(end..).unwrap_or_default() {
        match byte {
            b'\n' | b'\r' => return true,
            b' ' | b'\t' => {}
            b',' if !seen_comma => seen_comma = true,
            _ => return false,
        }
    }
    true
}

struct JsonTree<'a> {
    text: &'a str,
    lines: &'a Lines<'a>,
    root: &'a JsonValue,
}

impl<'a> ApiTree for JsonTree<'a> {
    type Node = &'a JsonMember;

    fn top(&self) -> Vec<&'a JsonMember> {
        json_members(self.root)
    }

    fn children(&self, node: &'a JsonMember) -> Vec<&'a JsonMember> {
        json_members(&node.value)
    }

    fn key(&self, node: &'a JsonMember) -> &str {
        &node.key
    }

    fn scalar(&self, node: &'a JsonMember) -> Option<String> {
        let raw = self.text.get(node.value.start..node.value.end)?;
        match node.value.kind {
            JsonKind::Str => Some(decode_json_string(
                raw.get(1..raw.len().saturating_sub(1)).unwrap_or(""),
            )),
            JsonKind::Other => Some(raw.to_string()),
            _ => None,
        }
    }

    fn line_range(&self, node: &'a JsonMember) -> (usize, usize) {
        (
            self.lines.line_of(node.key_start),
            self.lines.line_of(node.value.end.saturating_sub(1)),
        )
    }

    fn text(&self, node: &'a JsonMember) -> String {
        let (start, end) = self.line_range(node);
        if start != end || alone_on_line(self.text.as_bytes(), node.key_start, node.value.end) {
            return self.lines.slice(start, end);
        }
        let mut out = String::new();
        out.push_str(self.text.get(node.key_start..node.key_end).unwrap_or(""));
        out.push_str(": ");
        pretty_json(self.text, &node.value, 0, &mut out);
        out
    }

    fn collect_refs(&self, node: &'a JsonMember, out: &mut Vec<String>) {
        collect_json_refs(self.text, &node.value, out);
    }
}

// ---------------------------------------------------------------------------------------
// GraphQL and proto: tokens
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum TokenKind {
    Name,
    Str,
    Comment,
    Number,
    Punct,
    /// A run of non-ASCII characters outside strings and comments.
    Other,
}

#[derive(Clone, Copy, Debug)]
struct Token {
    kind: TokenKind,
    start: usize,
    end: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Syntax {
    GraphQl,
    Proto,
}

/// Splits a GraphQL or proto text into tokens. Every token starts and ends at an ASCII
/// byte or the end of the text, so slicing the text with a token never fails.
fn tokenize(text: &str, syntax: Syntax) -> Vec<Token> {
    let bytes = text.as_bytes();
    let is_name_byte =
        |b: u8| b.is_ascii_alphanumeric() || b == b'_' || (syntax == Syntax::Proto && b == b'.');
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let start = i;
        let next = bytes.get(i + 1).copied();
        let kind = match byte {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b',' if syntax == Syntax::GraphQl => {
                i += 1;
                continue;
            }
            b'#' if syntax == Syntax::GraphQl => {
                i = line_end(bytes, i);
                TokenKind::Comment
            }
            b'/' if syntax == Syntax::Proto && next == Some(b'/') => {
                i = line_end(bytes, i);
                TokenKind::Comment
            }
            b'/' if syntax == Syntax::Proto && next == Some(b'*') => {
                i = text[i + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |end| i + 2 + end + 2);
                TokenKind::Comment
            }
            b'"' if syntax == Syntax::GraphQl && bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                loop {
                    match bytes.get(i) {
                        None => break,
                        Some(b'\\') if bytes[i + 1..].starts_with(b"\"\"\"") => i += 4,
                        Some(b'"') if bytes[i..].starts_with(b"\"\"\"") => {
                            i += 3;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
                TokenKind::Str
            }
            b'"' | b'\'' if byte == b'"' || syntax == Syntax::Proto => {
                i += 1;
                loop {
                    match bytes.get(i) {
                        None | Some(b'\n') => break,
                        Some(b'\\') => i += 2,
                        Some(&b) if b == byte => {
                            i += 1;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
                TokenKind::Str
            }
            b'0'..=b'9' => {
                while bytes.get(i).is_some_and(|&b| is_name_byte(b) || b == b'.') {
                    i += 1;
                }
                TokenKind::Number
            }
            _ if is_name_byte(byte) => {
                while bytes.get(i).is_some_and(|&b| is_name_byte(b)) {
                    i += 1;
                }
                TokenKind::Name
            }
            0x80..=0xFF => {
                while bytes.get(i).is_some_and(|&b| b >= 0x80) {
                    i += 1;
                }
                TokenKind::Other
            }
            _ => {
                i += 1;
                TokenKind::Punct
            }
        };
        tokens.push(Token {
            kind,
            start,
            end: i.min(bytes.len()),
        });
    }
    tokens
}

fn line_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| from + p)
}

/// Token text, lines and the comment-gathering rule shared by GraphQL and proto.
struct TokenText<'a> {
    text: &'a str,
    lines: Lines<'a>,
    tokens: Vec<Token>,
}

impl<'a> TokenText<'a> {
    fn new(text: &'a str, syntax: Syntax) -> TokenText<'a> {
        TokenText {
            text,
            lines: Lines::new(text),
            tokens: tokenize(text, syntax),
        }
    }

    fn str(&self, index: usize) -> &'a str {
        self.tokens
            .get(index)
            .and_then(|t| self.text.get(t.start..t.end))
            .unwrap_or("")
    }

    fn kind(&self, index: usize) -> Option<TokenKind> {
        self.tokens.get(index).map(|t| t.kind)
    }

    fn first_line(&self, index: usize) -> usize {
        self.tokens
            .get(index)
            .map_or(0, |t| self.lines.line_of(t.start))
    }

    fn last_line(&self, index: usize) -> usize {
        self.tokens.get(index).map_or(0, |t| {
            self.lines.line_of(t.end.saturating_sub(1).max(t.start))
        })
    }

    /// The first token of the comments (and, for GraphQL, one description string) that
    /// belong to the definition at `keyword`: directly above it, no blank line between,
    /// and not sharing a line with an earlier token. Never goes below `floor`.
    fn leading_trivia(&self, keyword: usize, floor: usize, allow_description: bool) -> usize {
        let mut first = keyword;
        let mut took_description = false;
        while first > floor {
            let previous = first - 1;
            match self.kind(previous) {
                Some(TokenKind::Comment)
                    if self.last_line(previous) + 1 >= self.first_line(first) =>
                {
                    first = previous
                }
                Some(TokenKind::Str) if allow_description && !took_description => {
                    took_description = true;
                    first = previous;
                }
                _ => break,
            }
        }
        while first < keyword && first > 0 && self.first_line(first) <= self.last_line(first - 1) {
            first += 1;
        }
        first
    }

    /// The lines and text of a section from token `first` to token `last`. When other
    /// definitions share its first or last line (a one-line schema), the text is the exact
    /// span instead, so that long shared lines are not copied into every section.
    fn section(&self, first: usize, last: usize) -> (u32, u32, String) {
        let (start, end) = (self.first_line(first), self.last_line(last));
        let span = match (self.tokens.get(first), self.tokens.get(last)) {
            (Some(first), Some(last)) if self.shares_lines(first.start, last.end) => {
                self.text.get(first.start..last.end)
            }
            _ => None,
        };
        let text = match span {
            Some(span) => span.trim_end().replace("\r\n", "\n"),
            None => self.lines.slice(start, end),
        };
        (to_u32(start), to_u32(end), text)
    }

    /// Whether code other than whitespace or a trailing comment shares a line with the
    /// span `start..end`. Scans only the whitespace next to the span.
    fn shares_lines(&self, start: usize, end: usize) -> bool {
        let bytes = self.text.as_bytes();
        let before = bytes.get(..start).unwrap_or_default();
        let after = bytes.get(end..).unwrap_or_default();
        let code_before = before
            .iter()
            .rev()
            .take_while(|&&b| b != b'\n')
            .any(|b| !b.is_ascii_whitespace());
        let code_after = after
            .iter()
            .take_while(|&&b| b != b'\n')
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|&b| !matches!(b, b'#' | b'/' | b';' | b','));
        code_before || code_after
    }
}

/// The index just after the bracket that closes the one at `open` (among `significant`
/// token indices), or the end.
fn skip_balanced(source: &TokenText, significant: &[usize], open: usize) -> usize {
    let mut depth = 0usize;
    for (position, &token) in significant.iter().enumerate().skip(open) {
        match source.str(token) {
            "{" | "(" | "[" => depth += 1,
            "}" | ")" | "]" => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return position + 1;
                }
            }
            _ => {}
        }
    }
    significant.len()
}

// ---------------------------------------------------------------------------------------
// GraphQL
// ---------------------------------------------------------------------------------------

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

fn split_graphql(text: &str) -> Vec<Section> {
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

// ---------------------------------------------------------------------------------------
// Proto
// ---------------------------------------------------------------------------------------

const PROTO_SCALARS: [&str; 15] = [
    "double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32",
    "fixed64", "sfixed32", "sfixed64", "bool", "string", "bytes",
];
const PROTO_PREAMBLE: [&str; 5] = ["syntax", "edition", "package", "import", "option"];

fn split_proto(text: &str) -> Vec<Section> {
    let source = TokenText::new(text, Syntax::Proto);
    let significant: Vec<usize> = (0..source.tokens.len())
        .filter(|&t| source.kind(t) != Some(TokenKind::Comment))
        .collect();
    let mut sections = Vec::new();
    // The preamble so far: (first token, last token), before any definition.
    let mut preamble: Option<(usize, usize)> = None;
    let mut seen_definition = false;
    let mut floor = 0;
    let mut position = 0;
    while position < significant.len() {
        let end = proto_statement_end(&source, &significant, position);
        let (first_token, last_token) = (significant[position], significant[end]);
        let keyword = source.str(first_token);
        let is_definition = matches!(keyword, "message" | "enum" | "service")
            && significant
                .get(position + 1)
                .is_some_and(|&t| source.kind(t) == Some(TokenKind::Name));
        if is_definition {
            let first = source.leading_trivia(first_token, floor, false);
            let words: Vec<&str> = significant[position + 2..=end.max(position + 1)]
                .iter()
                .map(|&t| source.str(t))
                .collect();
            let name = source.str(significant[position + 1]);
            sections.push(proto_section(
                &source, keyword, name, &words, first, last_token,
            ));
            seen_definition = true;
        } else if PROTO_PREAMBLE.contains(&keyword) && !seen_definition {
            let first = preamble.map_or_else(
                || source.leading_trivia(first_token, floor, false),
                |(first, _)| first,
            );
            preamble = Some((first, last_token));
        }
        floor = last_token + 1;
        position = end + 1;
    }
    if let Some((first, last)) = preamble {
        let (start_line, end_line, text) = source.section(first, last);
        sections.insert(
            0,
            Section {
                kind: SectionKind::Preamble,
                title: String::new(),
                anchor: String::new(),
                names: Vec::new(),
                parent: None,
                level: 0,
                start_line,
                end_line,
                text,
                refs: Vec::new(),
            },
        );
    }
    sections
}

/// The position (in `significant`) of the last token of the top-level statement starting at
/// `position`: its `;`, or the `}` closing its block, or the last token.
fn proto_statement_end(source: &TokenText, significant: &[usize], position: usize) -> usize {
    let mut depth = 0usize;
    for (offset, &token) in significant.iter().enumerate().skip(position) {
        match source.str(token) {
            ";" if depth == 0 => return offset,
            "{" => depth += 1,
            "}" => {
                if depth <= 1 {
                    return offset;
                }
                depth -= 1;
            }
            _ => {}
        }
    }
    significant.len().saturating_sub(1).max(position)
}

fn proto_section(
    source: &TokenText,
    keyword: &str,
    name: &str,
    body: &[&str],
    first: usize,
    last: usize,
) -> Section {
    let facts = proto_body(body);
    let (start_line, end_line, text) = source.section(first, last);
    let mut names = vec![name.to_string()];
    names.extend(facts.nested);
    names.extend(facts.rpcs);
    let names = dedupe(names, &[]);
    Section {
        kind: match keyword {
            "service" => SectionKind::Service,
            "enum" => SectionKind::Enum,
            _ => SectionKind::Message,
        },
        title: format!("{keyword} {name}"),
        anchor: name.to_string(),
        refs: dedupe(facts.types, &names),
        names,
        parent: None,
        level: 0,
        start_line,
        end_line,
        text,
    }
}

#[derive(Default)]
struct ProtoBody {
    nested: Vec<String>,
    rpcs: Vec<String>,
    types: Vec<String>,
}

/// Names and type uses inside a definition's body, statement by statement.
fn proto_body(words: &[&str]) -> ProtoBody {
    let mut facts = ProtoBody::default();
    let mut statement: Vec<&str> = Vec::new();
    for &word in words {
        match word {
            ";" | "{" | "}" => {
                proto_statement(&statement, word == "{", &mut facts);
                statement.clear();
            }
            _ => statement.push(word),
        }
    }
    proto_statement(&statement, false, &mut facts);
    facts
}

fn proto_statement(statement: &[&str], opens_block: bool, facts: &mut ProtoBody) {
    let word = |i: usize| statement.get(i).copied().unwrap_or("");
    let is_ident =
        |w: &str| w.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '.');
    let mut use_type = |w: &str| {
        let last = w.rsplit('.').next().unwrap_or("");
        if is_ident(w) && !last.is_empty() && !PROTO_SCALARS.contains(&last) {
            facts.types.push(last.to_string());
        }
    };
    match word(0) {
        "" => {}
        "message" | "enum" if opens_block && is_ident(word(1)) => {
            facts.nested.push(word(1).to_string())
        }
        "rpc" => {
            if is_ident(word(1)) {
                facts.rpcs.push(word(1).to_string());
            }
            for (i, &w) in statement.iter().enumerate() {
                if w == "(" {
                    let skip_stream = word(i + 1) == "stream" && is_ident(word(i + 2));
                    use_type(word(i + 1 + usize::from(skip_stream)));
                }
            }
        }
        "map" => {
            use_type(word(2));
            use_type(word(4));
        }
        "repeated" | "optional" | "required" if word(1) != "group" => {
            if is_ident(word(2)) && word(3) == "=" {
                use_type(word(1));
            }
        }
        "option" | "reserved" | "extensions" | "oneof" | "extend" | "message" | "enum"
        | "service" | "group" | "syntax" | "package" | "import" => {}
        first => {
            if is_ident(word(1)) && word(2) == "=" {
                use_type(first);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Fixtures: realistic documents. Line numbers in the assertions are 0-based.
    const README_MD: &str = r##"---
title: Orders service
tags: [api]
---
Orders service for the shop.

Quick facts live here.

Orders
======

Intro to orders.

## Install

```sh
# not a heading
cargo install orders
```

Usage
-----

Run it.

## Install

Again.

### Config ##

Set `ORDERS_URL`.

---
Not an underline: the line above is a thematic break.

## Notes & *FAQ* [link](http://example.com/faq)
"##;

    const PETSTORE_YAML: &str = r##"openapi: 3.0.3
info:
  title: Petstore
  version: "1.0.0"
  description: |
    A sample pet store.
    get: this line is not a key
servers:
  - url: https://petstore.example.com/v1
paths:
  /pets:
    get:
      summary: List all pets
      operationId: listPets
      parameters:
        - name: limit
          in: query
          schema:
            type: integer
      responses:
        '200':
          description: A page of pets
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/Pets'
        default:
          $ref: "#/components/responses/Error"
    post:
      summary: Create a pet
      description: >
        Creates a pet.
        get: not an operation either, $ref: '#/components/schemas/Ghost'
      requestBody:
        $ref: '#/components/requestBodies/NewPet'
      responses:
        '201':
          description: Created

  "/pets/{petId}":
    parameters:
      - $ref: '#/components/parameters/PetId'
    get:
      operationId: showPetById # inline comment
      responses:
        '200':
          content:
            application/json:
              schema: { $ref: '#/components/schemas/Pet' }
    delete:
      responses:
        '204':
          description: Deleted
components:
  schemas:
    Pet:
      type: object
      required: [id, name]
      properties:
        id:
          type: integer
        tag:
          $ref: '#/components/schemas/Tag'
        parent:
          $ref: '#/components/schemas/Pet'
    Pets:
      type: array
      items:
        $ref: '#/components/schemas/Pet'
    Tag:
      type: string
  # Shared error model.
  responses:
    Error:
      description: Unexpected error
  requestBodies:
    NewPet:
      content:
        application/json:
          schema:
            $ref: '#/components/schemas/Pet'
  parameters:
    PetId:
      name: petId
      in: path
      required: true
      schema:
        type: string
"##;

    /// PETSTORE_YAML converted by a real YAML parser and `json.dumps(indent=2)`.
    const PETSTORE_JSON: &str = r##"{
  "openapi": "3.0.3",
  "info": {
    "title": "Petstore",
    "version": "1.0.0",
    "description": "A sample pet store.\nget: this line is not a key\n"
  },
  "servers": [
    {
      "url": "https://petstore.example.com/v1"
    }
  ],
  "paths": {
    "/pets": {
      "get": {
        "summary": "List all pets",
        "operationId": "listPets",
        "parameters": [
          {
            "name": "limit",
            "in": "query",
            "schema": {
              "type": "integer"
            }
          }
        ],
        "responses": {
          "200": {
            "description": "A page of pets",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Pets"
                }
              }
            }
          },
          "default": {
            "$ref": "#/components/responses/Error"
          }
        }
      },
      "post": {
        "summary": "Create a pet",
        "description": "Creates a pet. get: not an operation either, $ref: '#/components/schemas/Ghost'\n",
        "requestBody": {
          "$ref": "#/components/requestBodies/NewPet"
        },
        "responses": {
          "201": {
            "description": "Created"
          }
        }
      }
    },
    "/pets/{petId}": {
      "parameters": [
        {
          "$ref": "#/components/parameters/PetId"
        }
      ],
      "get": {
        "operationId": "showPetById",
        "responses": {
          "200": {
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Pet"
                }
              }
            }
          }
        }
      },
      "delete": {
        "responses": {
          "204": {
            "description": "Deleted"
          }
        }
      }
    }
  },
  "components": {
    "schemas": {
      "Pet": {
        "type": "object",
        "required": [
          "id",
          "name"
        ],
        "properties": {
          "id": {
            "type": "integer"
          },
          "tag": {
            "$ref": "#/components/schemas/Tag"
          },
          "parent": {
            "$ref": "#/components/schemas/Pet"
          }
        }
      },
      "Pets": {
        "type": "array",
        "items": {
          "$ref": "#/components/schemas/Pet"
        }
      },
      "Tag": {
        "type": "string"
      }
    },
    "responses": {
      "Error": {
        "description": "Unexpected error"
      }
    },
    "requestBodies": {
      "NewPet": {
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Pet"
            }
          }
        }
      }
    },
    "parameters": {
      "PetId": {
        "name": "petId",
        "in": "path",
        "required": true,
        "schema": {
          "type": "string"
        }
      }
    }
  }
}
"##;

    const SWAGGER_YAML: &str = r##"swagger: "2.0"
info:
  title: Legacy users
  version: "1"
paths:
  /users/{id}:
    get:
      operationId: getUser
      parameters:
      - $ref: '#/parameters/UserId'
      responses:
        200:
          description: OK
          schema:
            $ref: '#/definitions/User'
definitions:
  User:
    type: object
    properties:
      address:
        $ref: '#/definitions/Address'
      friends:
        type: array
        items:
          $ref: '#/definitions/User'
  Address:
    type: object
parameters:
  UserId:
    name: id
    in: path
    type: string
"##;

    const SCHEMA_GRAPHQL: &str = r##"# Orders schema.

"""
An order placed by a customer.
"""
type Order implements Node & Timestamped @key(fields: "id") {
  id: ID!
  "The line items."
  items(first: Int = 10, status: ItemStatus = ACTIVE): [LineItem!]!
  customer: Customer
  total: Money @deprecated(reason: "Use totals")
  parent: Order
}

"Status of an order."
enum Status {
  OPEN
  SHIPPED @deprecated(reason: "use DONE")
  DONE
}

union SearchResult = Order | Customer

input NewOrder {
  customerId: ID!
  items: [NewItem!]! = []
  status: Status = OPEN
  meta: MetaInput = { source: WEB, tags: ["a"] }
}

# Money in cents.
scalar Money

interface Node {
  id: ID!
}

extend type Order {
  notes: [Note]
}

directive @auth(requires: Role = ADMIN) on OBJECT | FIELD_DEFINITION

schema {
  query: Query
  mutation: Mutation
}

type Query {
  order(id: ID!): Order
  search(term: String!): [SearchResult!]!
}
"##;

    const ORDERS_PROTO: &str = r##"// Orders API.
// Copyright example.

syntax = "proto3";

package shop.orders.v1;

import "google/protobuf/timestamp.proto";
import "google/protobuf/empty.proto";

option go_package = "example.com/shop/orders/v1;ordersv1";
option java_multiple_files = true;

// An order.
message Order {
  string id = 1;
  repeated Item items = 2;
  google.protobuf.Timestamp created_at = 3;
  Status status = 4;
  map<string, Item> by_sku = 5;

  // A line item.
  message Item {
    string sku = 1;
    int32 quantity = 2;
    Money price = 3 [deprecated = true];
  }

  oneof payment {
    Card card = 6;
    string voucher = 7;
  }
}

/* The state
   of an order. */
enum Status {
  STATUS_UNSPECIFIED = 0;
  STATUS_OPEN = 1;
}

message Money { int64 cents = 1; string currency = 2; }

// Orders service.
service Orders {
  rpc GetOrder(GetOrderRequest) returns (Order);
  rpc WatchOrders(stream WatchRequest) returns (stream Order) {
    option (google.api.http) = { get: "/v1/orders:watch" };
  }
  rpc Ping(google.protobuf.Empty) returns (google.protobuf.Empty);
}
"##;

    /// One line per section: kind, title, anchor, names, parent, level, lines, refs.
    fn outline(sections: &[Section]) -> Vec<String> {
        sections
            .iter()
            .map(|s| {
                format!(
                    "{:?} {:?} #{} names={:?} parent={:?} level={} {}..={} refs={:?}",
                    s.kind,
                    s.title,
                    s.anchor,
                    s.names,
                    s.parent,
                    s.level,
                    s.start_line,
                    s.end_line,
                    s.refs
                )
            })
            .collect()
    }

    fn check(kind: DocKind, text: &str, expected: &[&str]) -> Vec<Section> {
        let sections = match split(kind, text) {
            Ok(sections) => sections,
            Err(error) => panic!("split failed: {error}"),
        };
        assert_eq!(outline(&sections), expected);
        sections
    }

    fn source_lines(text: &str, start: u32, end: u32) -> String {
        let lines = Lines::new(text);
        lines.slice(start as usize, end as usize)
    }

    /// Removes JSON whitespace outside strings.
    fn minify(json: &str) -> String {
        let mut out = String::new();
        let mut in_string = false;
        let mut escaped = false;
        for c in json.chars() {
            if in_string {
                out.push(c);
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    in_string = false;
                }
            } else if c == '"' {
                in_string = true;
                out.push(c);
            } else if !c.is_whitespace() {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn kinds_from_paths_and_text() {
        assert_eq!(
            DocKind::from_path("docs/README.MD"),
            Some(DocKind::Markdown)
        );
        assert_eq!(DocKind::from_path("a/b.mdx"), Some(DocKind::Markdown));
        assert_eq!(
            DocKind::from_path("schema.graphqls"),
            Some(DocKind::GraphQl)
        );
        assert_eq!(DocKind::from_path("api/orders.proto"), Some(DocKind::Proto));
        assert_eq!(DocKind::from_path("openapi.YML"), Some(DocKind::OpenApi));
        assert_eq!(DocKind::from_path("src/main.rs"), None);
        assert_eq!(DocKind::from_path("Makefile"), None);
        assert_eq!(DocKind::from_path("dir.md/file"), None);
        assert_eq!(DocKind::GraphQl.name(), "graphql");
        assert_eq!(DocKind::OpenApi.name(), "openapi");

        assert_eq!(
            detect("petstore.yaml", PETSTORE_YAML),
            Some(DocKind::OpenApi)
        );
        assert_eq!(
            detect("petstore.json", PETSTORE_JSON),
            Some(DocKind::OpenApi)
        );
        assert_eq!(detect("swagger.yml", SWAGGER_YAML), Some(DocKind::OpenApi));
        assert_eq!(
            detect("spec.yaml", &minify(PETSTORE_JSON)),
            Some(DocKind::OpenApi)
        );
        assert_eq!(
            detect("package.json", r#"{"name": "x", "version": "1.0.0"}"#),
            None
        );
        assert_eq!(detect("broken.json", r#"{"openapi": "3.0.0""#), None);
        assert_eq!(
            detect(".github/ci.yml", "on: push\njobs:\n  openapi: {}\n"),
            None
        );
        assert_eq!(
            detect("a.yaml", "info:\n  description: |\n    openapi: 3\n"),
            None
        );
        assert_eq!(detect("README.md", "whatever"), Some(DocKind::Markdown));
    }

    #[test]
    fn markdown_readme() {
        let sections = check(
            DocKind::Markdown,
            README_MD,
            &[
                r#"Preamble "" # names=[] parent=None level=0 4..=6 refs=[]"#,
                r#"Heading "Orders" #orders names=[] parent=None level=1 8..=11 refs=[]"#,
                r#"Heading "Install" #install names=[] parent=Some(1) level=2 13..=18 refs=[]"#,
                r#"Heading "Usage" #usage names=[] parent=Some(1) level=2 20..=23 refs=[]"#,
                r#"Heading "Install" #install-1 names=[] parent=Some(1) level=2 25..=27 refs=[]"#,
                r#"Heading "Config" #config names=[] parent=Some(4) level=3 29..=34 refs=[]"#,
                r#"Heading "Notes & *FAQ* [link](http://example.com/faq)" #notes--faq-link names=[] parent=Some(1) level=2 36..=36 refs=[]"#,
            ],
        );
        assert_eq!(
            sections[0].text,
            "Orders service for the shop.\n\nQuick facts live here."
        );
        assert_eq!(sections[1].text, "Orders\n======\n\nIntro to orders.");
        assert_eq!(
            sections[2].text,
            "## Install\n\n```sh\n# not a heading\ncargo install orders\n```"
        );
        assert_eq!(sections[3].text, "Usage\n-----\n\nRun it.");
        assert_eq!(
            sections[5].text,
            "### Config ##\n\nSet `ORDERS_URL`.\n\n---\nNot an underline: the line above is a thematic break."
        );
        for section in &sections {
            assert_eq!(
                section.text,
                source_lines(README_MD, section.start_line, section.end_line)
            );
        }
    }

    #[test]
    fn markdown_block_rules() {
        let text = "Intro\n\
                    #hashtag is not a heading\n\
                    \x20\x20\x20# Three spaces\n\
                    \x20\x20\x20\x20# Four spaces is code\n\
                    \n\
                    - item\n\
                    ---\n\
                    > quote\n\
                    ===\n\
                    \n\
                    Two line\n\
                    title\n\
                    ===\n\
                    ````md\n\
                    ```\n\
                    # inside a longer fence\n\
                    ````\n\
                    <!--\n\
                    # commented out\n\
                    -->\n\
                    # Closed # ##\n\
                    ~~~\n\
                    # unclosed fence runs to the end\n";
        check(
            DocKind::Markdown,
            text,
            &[
                r#"Preamble "" # names=[] parent=None level=0 0..=1 refs=[]"#,
                // `- item` + `---` is a list and a break; `> quote` + `===` is a lazy
                // continuation line; four spaces make code.
                r#"Heading "Three spaces" #three-spaces names=[] parent=None level=1 2..=8 refs=[]"#,
                // A setext heading takes the whole paragraph; fences and HTML comments hide
                // `#` lines; `# Closed # ##` loses only its closing sequence.
                r#"Heading "Two line title" #two-line-title names=[] parent=None level=1 10..=19 refs=[]"#,
                r#"Heading "Closed #" #closed- names=[] parent=None level=1 20..=22 refs=[]"#,
            ],
        );
    }

    #[test]
    fn markdown_crlf_tabs_and_empty() {
        let text =
            "---\r\ntitle: x\r\n---\r\n# One\r\n\r\nBody\r\n\t# tab-indented code\r\n## Two ##\r\n";
        let sections = check(
            DocKind::Markdown,
            text,
            &[
                r#"Heading "One" #one names=[] parent=None level=1 3..=6 refs=[]"#,
                r#"Heading "Two" #two names=[] parent=Some(0) level=2 7..=7 refs=[]"#,
            ],
        );
        assert_eq!(sections[0].text, "# One\n\nBody\n\t# tab-indented code");
        check(DocKind::Markdown, "", &[]);
        check(DocKind::Markdown, "---\nonly: front matter\n---\n\n", &[]);
        check(
            DocKind::Markdown,
            "\u{feff}# Title",
            &[r#"Heading "Title" #title names=[] parent=None level=1 0..=0 refs=[]"#],
        );
    }

    #[test]
    fn github_slugs() {
        let slug = |title: &str| github_slug(title);
        assert_eq!(slug("Getting Started"), "getting-started");
        assert_eq!(slug("What's new in v2.0?"), "whats-new-in-v20");
        assert_eq!(
            slug("snake_case and kebab-case"),
            "snake_case-and-kebab-case"
        );
        assert_eq!(slug("`split()` API"), "split-api");
        assert_eq!(slug("Über Größe"), "über-größe");
        assert_eq!(slug("![badge](https://img) Project"), "-project");
        assert_eq!(slug("[Docs][docs] & <em>more</em>"), "docs--more");
        assert_eq!(slug("a [b c"), "a-b-c");
        assert_eq!(slug("1 < 2 > 0"), "1--2--0");
        let mut slugger = Slugger::default();
        let anchors: Vec<String> = ["Usage", "Usage", "Usage-1", "Usage"]
            .iter()
            .map(|t| slugger.slug(slug(t)))
            .collect();
        assert_eq!(anchors, ["usage", "usage-1", "usage-1-1", "usage-2"]);
    }

    #[test]
    fn markdown_long_section_is_split_at_blank_lines_outside_fences() {
        // Line 0 "# Big", paragraphs with a blank line at every i % 4 == 1, a fence over
        // lines 90..=130 (with blank lines inside), and a subsection at line 300.
        let mut lines = vec!["# Big".to_string()];
        for i in 1..300 {
            lines.push(match i {
                90 => "```text".to_string(),
                130 => "```".to_string(),
                91..=129 if i % 4 == 1 => String::new(),
                91..=129 => format!("code {i}"),
                _ if i % 4 == 1 => String::new(),
                _ => format!("word {i}"),
            });
        }
        lines.push("## After".to_string());
        lines.push("Tail.".to_string());
        let text = lines.join("\n");
        let sections = check(
            DocKind::Markdown,
            &text,
            &[
                // The last blank line outside the fence within 120 lines is 89.
                r#"Heading "Big" #big names=[] parent=None level=1 0..=88 refs=[]"#,
                // The fence starts at 90; from there the last open blank line is 209.
                r#"Heading "Big (2)" #big names=[] parent=None level=1 90..=208 refs=[]"#,
                r#"Heading "Big (3)" #big names=[] parent=None level=1 210..=299 refs=[]"#,
                r#"Heading "After" #after names=[] parent=Some(0) level=2 300..=301 refs=[]"#,
            ],
        );
        assert!(sections[1].text.starts_with("```text\ncode 91\ncode 92\n"));
        assert!(sections[2].text.starts_with("word 210\nword 211\n"));
        for section in &sections {
            assert_eq!(
                section.text,
                source_lines(&text, section.start_line, section.end_line)
            );
        }
        // Without blank lines the cut is hard, at 120 lines.
        let dense: String = (0..250).map(|i| format!("line {i}\n")).collect();
        check(
            DocKind::Markdown,
            &dense,
            &[
                r#"Preamble "" # names=[] parent=None level=0 0..=119 refs=[]"#,
                r#"Preamble "(2)" # names=[] parent=None level=0 120..=239 refs=[]"#,
                r#"Preamble "(3)" # names=[] parent=None level=0 240..=249 refs=[]"#,
            ],
        );
    }

    #[test]
    fn openapi_yaml() {
        let sections = check(
            DocKind::OpenApi,
            PETSTORE_YAML,
            &[
                r#"Preamble "" # names=[] parent=None level=0 1..=6 refs=[]"#,
                r#"Operation "GET /pets" #listPets names=["listPets", "/pets"] parent=None level=0 11..=27 refs=["Pets", "Error"]"#,
                r#"Operation "POST /pets" #post-pets names=["/pets"] parent=None level=0 28..=37 refs=["NewPet"]"#,
                r#"Operation "GET /pets/{petId}" #showPetById names=["showPetById", "/pets/{petId}"] parent=None level=0 42..=48 refs=["Pet", "PetId"]"#,
                r#"Operation "DELETE /pets/{petId}" #delete-petspetid names=["/pets/{petId}"] parent=None level=0 49..=52 refs=["PetId"]"#,
                r#"Schema "Pet" #Pet names=["Pet"] parent=None level=0 55..=64 refs=["Tag"]"#,
                r#"Schema "Pets" #Pets names=["Pets"] parent=None level=0 65..=68 refs=["Pet"]"#,
                r#"Schema "Tag" #Tag names=["Tag"] parent=None level=0 69..=70 refs=[]"#,
                r#"Schema "Error" #Error names=["Error"] parent=None level=0 73..=74 refs=[]"#,
                r#"Schema "NewPet" #NewPet names=["NewPet"] parent=None level=0 76..=80 refs=["Pet"]"#,
                r#"Schema "PetId" #PetId names=["PetId"] parent=None level=0 82..=87 refs=[]"#,
            ],
        );
        assert_eq!(
            sections[0].text,
            "info:\n  title: Petstore\n  version: \"1.0.0\"\n  description: |\n    A sample pet store.\n    get: this line is not a key"
        );
        assert_eq!(
            sections[3].text,
            "# GET /pets/{petId}\n    get:\n      operationId: showPetById # inline comment\n      responses:\n        '200':\n          content:\n            application/json:\n              schema: { $ref: '#/components/schemas/Pet' }\n    parameters:\n      - $ref: '#/components/parameters/PetId'"
        );
        // The folded description's `get:` and `$ref` are text, not structure.
        assert!(sections[2]
            .text
            .starts_with("# POST /pets\n    post:\n      summary: Create a pet\n"));
        assert!(sections[2].text.ends_with("          description: Created"));
        for section in &sections[5..] {
            assert_eq!(
                section.text,
                source_lines(PETSTORE_YAML, section.start_line, section.end_line)
            );
        }
    }

    #[test]
    fn openapi_json_pretty_and_minified() {
        let expected = [
            r#"Preamble "" # names=[] parent=None level=0 2..=6 refs=[]"#,
            r#"Operation "GET /pets" #listPets names=["listPets", "/pets"] parent=None level=0 14..=41 refs=["Pets", "Error"]"#,
            r#"Operation "POST /pets" #post-pets names=["/pets"] parent=None level=0 42..=53 refs=["NewPet"]"#,
            r#"Operation "GET /pets/{petId}" #showPetById names=["showPetById", "/pets/{petId}"] parent=None level=0 61..=74 refs=["Pet", "PetId"]"#,
            r#"Operation "DELETE /pets/{petId}" #delete-petspetid names=["/pets/{petId}"] parent=None level=0 75..=81 refs=["PetId"]"#,
            r#"Schema "Pet" #Pet names=["Pet"] parent=None level=0 86..=103 refs=["Tag"]"#,
            r#"Schema "Pets" #Pets names=["Pets"] parent=None level=0 104..=109 refs=["Pet"]"#,
            r#"Schema "Tag" #Tag names=["Tag"] parent=None level=0 110..=112 refs=[]"#,
            r#"Schema "Error" #Error names=["Error"] parent=None level=0 115..=117 refs=[]"#,
            r#"Schema "NewPet" #NewPet names=["NewPet"] parent=None level=0 120..=128 refs=["Pet"]"#,
            r#"Schema "PetId" #PetId names=["PetId"] parent=None level=0 131..=138 refs=[]"#,
        ];
        let pretty = check(DocKind::OpenApi, PETSTORE_JSON, &expected);
        assert_eq!(
            pretty[7].text,
            "      \"Tag\": {\n        \"type\": \"string\"\n      }"
        );
        assert!(pretty[3].text.starts_with(
            "# GET /pets/{petId}\n      \"get\": {\n        \"operationId\": \"showPetById\",\n"
        ));
        assert!(pretty[3].text.ends_with(
            "      },\n      \"parameters\": [\n        {\n          \"$ref\": \"#/components/parameters/PetId\"\n        }\n      ],"
        ));

        // The YAML and JSON forms of one document give the same sections.
        let yaml = match split(DocKind::OpenApi, PETSTORE_YAML) {
            Ok(sections) => sections,
            Err(error) => panic!("{error}"),
        };
        let identity = |s: &Section| {
            (
                s.kind,
                s.title.clone(),
                s.anchor.clone(),
                s.names.clone(),
                s.refs.clone(),
            )
        };
        assert_eq!(
            yaml.iter().map(identity).collect::<Vec<_>>(),
            pretty.iter().map(identity).collect::<Vec<_>>()
        );

        // Minified: the same sections, all on line 0, each pretty-printed like the source.
        let minified = minify(PETSTORE_JSON);
        let sections = match split(DocKind::OpenApi, &minified) {
            Ok(sections) => sections,
            Err(error) => panic!("{error}"),
        };
        assert_eq!(
            sections.iter().map(identity).collect::<Vec<_>>(),
            pretty.iter().map(identity).collect::<Vec<_>>()
        );
        for (min, pretty) in sections.iter().zip(&pretty) {
            assert_eq!((min.start_line, min.end_line), (0, 0));
            // The pretty source, unindented and without its trailing comma, is what the
            // minified document renders to (after the same operation header).
            let (header, body) = match min.kind {
                SectionKind::Operation => pretty.text.split_once('\n').unwrap_or(("", "")),
                _ => ("", pretty.text.as_str()),
            };
            let indent = body.len() - body.trim_start().len();
            let dedented: Vec<&str> = body
                .lines()
                .map(|line| line.get(indent..).unwrap_or(line))
                .collect();
            let dedented = dedented.join("\n");
            let dedented = dedented.strip_suffix(',').unwrap_or(&dedented);
            let expected = if header.is_empty() {
                dedented.to_string()
            } else {
                format!("{header}\n{dedented}")
            };
            // The method block and the shared parameters each lose their own comma.
            let expected = expected.replace("},\n\"parameters\"", "}\n\"parameters\"");
            assert_eq!(min.text, expected, "section {}", min.title);
        }
        assert_eq!(
            sections[4].text,
            "# DELETE /pets/{petId}\n\"delete\": {\n  \"responses\": {\n    \"204\": {\n      \"description\": \"Deleted\"\n    }\n  }\n}\n\"parameters\": [\n  {\n    \"$ref\": \"#/components/parameters/PetId\"\n  }\n]"
        );
    }

    #[test]
    fn json_pretty_printing() {
        let text = r#"{"a":{},"b":[],"c":[1,{"d":"\u00e9\"x"}],"e":-1.5e3,"f":null}"#;
        let root = match JsonParser::parse_document(text) {
            Ok(root) => root,
            Err(error) => panic!("{error}"),
        };
        let mut out = String::new();
        pretty_json(text, &root, 0, &mut out);
        assert_eq!(
            out,
            "{\n  \"a\": {},\n  \"b\": [],\n  \"c\": [\n    1,\n    {\n      \"d\": \"\\u00e9\\\"x\"\n    }\n  ],\n  \"e\": -1.5e3,\n  \"f\": null\n}"
        );
        assert_eq!(
            decode_json_string(r"\u00e9\ud83d\ude00\ud800x\n"),
            "é😀\u{fffd}x\n"
        );
    }

    #[test]
    fn openapi_json_path_on_the_method_line() {
        let text = "{\"openapi\": \"3.0.0\", \"paths\": {\"/a\": {\"get\": {\n  \"operationId\": \"a\"\n}}}}\n";
        let sections = check(
            DocKind::OpenApi,
            text,
            &[r#"Operation "GET /a" #a names=["a", "/a"] parent=None level=0 0..=2 refs=[]"#],
        );
        assert_eq!(sections[0].text, source_lines(text, 0, 2));
    }

    #[test]
    fn swagger_2() {
        let sections = check(
            DocKind::OpenApi,
            SWAGGER_YAML,
            &[
                r#"Preamble "" # names=[] parent=None level=0 1..=3 refs=[]"#,
                r#"Operation "GET /users/{id}" #getUser names=["getUser", "/users/{id}"] parent=None level=0 6..=14 refs=["UserId", "User"]"#,
                r#"Schema "User" #User names=["User"] parent=None level=0 16..=24 refs=["Address"]"#,
                r#"Schema "Address" #Address names=["Address"] parent=None level=0 25..=26 refs=[]"#,
                r#"Schema "UserId" #UserId names=["UserId"] parent=None level=0 28..=31 refs=[]"#,
            ],
        );
        assert_eq!(sections[3].text, "  Address:\n    type: object");
    }

    #[test]
    fn openapi_errors_and_odd_yaml() {
        assert!(split(DocKind::OpenApi, "{\"openapi\": \"3.0.0\",}").is_err());
        assert!(split(DocKind::OpenApi, "{\"openapi\": \"3.0.0\"} trailing").is_err());
        assert!(split(DocKind::OpenApi, "[1, 2]").is_err());
        assert!(split(DocKind::OpenApi, "name: not an api\n").is_err());
        let deep = "[".repeat(10_000);
        match split(DocKind::OpenApi, &deep) {
            Err(error) => assert!(error.starts_with("invalid JSON at line 1"), "{error}"),
            Ok(_) => panic!("deep nesting accepted"),
        }
        // Quoted keys, comments, anchors, multi-line plain scalars and CRLF.
        let text = "openapi: '3.0.0'\r\n\
                    paths:\r\n\
                    \x20 # all pets\r\n\
                    \x20 '/pets': &pets\r\n\
                    \x20   get:\r\n\
                    \x20     summary: a long\r\n\
                    \x20       post: summary continued\r\n\
                    \x20     operationId: \"list\\\"Pets\"\r\n\
                    \x20     tags: [a, b]\r\n\
                    \r\n";
        let sections = check(
            DocKind::OpenApi,
            text,
            &[
                r#"Operation "GET /pets" #list"Pets names=["list\"Pets", "/pets"] parent=None level=0 4..=8 refs=[]"#,
            ],
        );
        assert_eq!(
            sections[0].text,
            "# GET /pets\n    get:\n      summary: a long\n        post: summary continued\n      operationId: \"list\\\"Pets\"\n      tags: [a, b]"
        );
    }

    #[test]
    fn graphql_schema() {
        let sections = check(
            DocKind::GraphQl,
            SCHEMA_GRAPHQL,
            &[
                r#"Type "type Order" #Order names=["Order"] parent=None level=0 2..=12 refs=["Node", "Timestamped", "ItemStatus", "LineItem", "Customer", "Money"]"#,
                r#"Enum "enum Status" #Status names=["Status"] parent=None level=0 14..=19 refs=[]"#,
                r#"Type "union SearchResult" #SearchResult names=["SearchResult"] parent=None level=0 21..=21 refs=["Order", "Customer"]"#,
                r#"Type "input NewOrder" #NewOrder names=["NewOrder"] parent=None level=0 23..=28 refs=["NewItem", "Status", "MetaInput"]"#,
                r#"Type "scalar Money" #Money names=["Money"] parent=None level=0 30..=31 refs=[]"#,
                r#"Type "interface Node" #Node names=["Node"] parent=None level=0 33..=35 refs=[]"#,
                r#"Type "extend type Order" #Order names=["Order"] parent=None level=0 37..=39 refs=["Note"]"#,
                r#"Type "directive @auth" #@auth names=["@auth"] parent=None level=0 41..=41 refs=["Role"]"#,
                r#"Type "schema" #schema names=[] parent=None level=0 43..=46 refs=["Query", "Mutation"]"#,
                r#"Type "type Query" #Query names=["Query"] parent=None level=0 48..=51 refs=["Order", "SearchResult"]"#,
            ],
        );
        assert_eq!(
            sections[1].text,
            "\"Status of an order.\"\nenum Status {\n  OPEN\n  SHIPPED @deprecated(reason: \"use DONE\")\n  DONE\n}"
        );
        assert_eq!(sections[4].text, "# Money in cents.\nscalar Money");
        assert!(sections[0]
            .text
            .starts_with("\"\"\"\nAn order placed by a customer.\n\"\"\"\ntype Order implements"));
        for section in &sections {
            assert_eq!(
                section.text,
                source_lines(SCHEMA_GRAPHQL, section.start_line, section.end_line)
            );
        }
    }

    #[test]
    fn graphql_partial_and_one_line() {
        // An unclosed body runs to the end; what came before is kept.
        check(
            DocKind::GraphQl,
            "type A { a: B }\n\ntype C {\n  c: D\n\n# trailing\n",
            &[
                r#"Type "type A" #A names=["A"] parent=None level=0 0..=0 refs=["B"]"#,
                r#"Type "type C" #C names=["C"] parent=None level=0 2..=3 refs=["D"]"#,
            ],
        );
        // Queries end the definition before them but are not sections.
        check(
            DocKind::GraphQl,
            "scalar Date\nquery Q { a }\n\"\"\"doc \\\"\"\" quoted\"\"\" type T { d: Date }",
            &[
                r#"Type "scalar Date" #Date names=["Date"] parent=None level=0 0..=0 refs=[]"#,
                r#"Type "type T" #T names=["T"] parent=None level=0 2..=2 refs=["Date"]"#,
            ],
        );
    }

    #[test]
    fn proto_file() {
        let sections = check(
            DocKind::Proto,
            ORDERS_PROTO,
            &[
                r#"Preamble "" # names=[] parent=None level=0 3..=11 refs=[]"#,
                r#"Message "message Order" #Order names=["Order", "Item"] parent=None level=0 13..=32 refs=["Timestamp", "Status", "Money", "Card"]"#,
                r#"Enum "enum Status" #Status names=["Status"] parent=None level=0 34..=39 refs=[]"#,
                r#"Message "message Money" #Money names=["Money"] parent=None level=0 41..=41 refs=[]"#,
                r#"Service "service Orders" #Orders names=["Orders", "GetOrder", "WatchOrders", "Ping"] parent=None level=0 43..=50 refs=["GetOrderRequest", "Order", "WatchRequest", "Empty"]"#,
            ],
        );
        assert!(sections[0]
            .text
            .starts_with("syntax = \"proto3\";\n\npackage shop.orders.v1;\n"));
        assert!(sections[0]
            .text
            .ends_with("option java_multiple_files = true;"));
        assert_eq!(
            sections[2].text,
            "/* The state\n   of an order. */\nenum Status {\n  STATUS_UNSPECIFIED = 0;\n  STATUS_OPEN = 1;\n}"
        );
        for section in &sections {
            assert_eq!(
                section.text,
                source_lines(ORDERS_PROTO, section.start_line, section.end_line)
            );
        }
    }

    #[test]
    fn proto_partial_and_trailing_comments() {
        check(
            DocKind::Proto,
            "syntax = \"proto2\"; // trailing\n// Doc for A.\nmessage A {\n  optional B b = 1;\n} // end of A\nmessage C {\n  required A a = 1;\n",
            &[
                r#"Preamble "" # names=[] parent=None level=0 0..=0 refs=[]"#,
                r#"Message "message A" #A names=["A"] parent=None level=0 1..=4 refs=["B"]"#,
                r#"Message "message C" #C names=["C"] parent=None level=0 5..=6 refs=["A"]"#,
            ],
        );
        check(DocKind::Proto, "}}} message {", &[]);
    }

    /// A small deterministic generator (xorshift) for the no-panic tests.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    const ALL_KINDS: [DocKind; 4] = [
        DocKind::Markdown,
        DocKind::OpenApi,
        DocKind::GraphQl,
        DocKind::Proto,
    ];

    /// Splits with every kind and checks the invariants that hold for any input.
    fn split_everything(text: &str) {
        let all_lines = Lines::new(text);
        let line_count = all_lines.len() as u32;
        for kind in ALL_KINDS {
            let Ok(sections) = split(kind, text) else {
                continue;
            };
            let mut previous_start = 0;
            for (index, section) in sections.iter().enumerate() {
                assert!(
                    section.start_line <= section.end_line,
                    "{kind:?} {section:?}"
                );
                assert!(section.end_line < line_count.max(1), "{kind:?} {section:?}");
                assert!(
                    section.start_line >= previous_start,
                    "{kind:?} out of order"
                );
                previous_start = section.start_line;
                assert!(section.parent.is_none_or(|parent| parent < index));
                let lines = all_lines.slice(section.start_line as usize, section.end_line as usize);
                match kind {
                    DocKind::Markdown => assert_eq!(section.text, lines),
                    // A definition that shares its lines with another one is shown exactly.
                    DocKind::GraphQl | DocKind::Proto => assert!(
                        section.text == lines || lines.contains(&section.text),
                        "{kind:?} {text:?} {section:?}"
                    ),
                    DocKind::OpenApi => {}
                }
            }
        }
        for path in ["a.md", "a.json", "a.yaml", "a.graphql", "a.proto"] {
            let _ = detect(path, text);
        }
    }

    #[test]
    fn garbage_never_panics() {
        const PIECES: [&str; 48] = [
            "{",
            "}",
            "[",
            "]",
            "(",
            ")",
            "\"",
            "'",
            "\"\"\"",
            "#",
            "//",
            "/*",
            "*/",
            ":",
            "- ",
            "\n",
            "\r\n",
            "\t",
            " ",
            "   ",
            "---",
            "```",
            "~~~",
            "=",
            "\\",
            "<!--",
            "-->",
            "é",
            "💥",
            "a",
            "Z9",
            ",",
            "$ref: '#/components/schemas/X'",
            "message M",
            "type T",
            "enum",
            "service S",
            "rpc R(A) returns (B)",
            "get:",
            "paths:",
            "openapi: 3",
            "  /p:",
            "\"openapi\":",
            "# H",
            "===",
            "|",
            "@",
            "![x](y)",
        ];
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for _ in 0..3000 {
            let text: String = (0..rng.below(40))
                .map(|_| PIECES[rng.below(PIECES.len())])
                .collect();
            split_everything(&text);
        }
        for _ in 0..300 {
            let bytes: Vec<u8> = (0..rng.below(200))
                .map(|_| (rng.next() & 0xff) as u8)
                .collect();
            split_everything(&String::from_utf8_lossy(&bytes));
        }
    }

    #[test]
    fn truncated_fixtures_never_panic() {
        let minified = minify(PETSTORE_JSON);
        let fixtures = [
            README_MD,
            PETSTORE_YAML,
            PETSTORE_JSON,
            &minified,
            SWAGGER_YAML,
            SCHEMA_GRAPHQL,
            ORDERS_PROTO,
        ];
        for fixture in fixtures {
            for (cut, _) in fixture.char_indices().step_by(5) {
                split_everything(&fixture[..cut]);
                split_everything(&fixture[cut..]);
            }
        }
    }

    #[test]
    fn large_inputs_take_linear_time() {
        let started = std::time::Instant::now();
        // Half a megabyte: enough for quadratic behaviour to take minutes.
        let megabyte = 1 << 19;
        let inputs = [
            format!("# {}", "[".repeat(megabyte)),
            format!("# {}", "<[](".repeat(megabyte / 4)),
            "# h\n".repeat(megabyte / 4),
            "`".repeat(megabyte),
            "{".repeat(megabyte),
            "\"".repeat(megabyte),
            "a:\n".repeat(megabyte / 3),
            (0..1500)
                .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
                .collect(),
            format!(
                "openapi: 3\npaths:\n  /a:\n    get:\n{}",
                "      - $ref: '#/definitions/X'\n".repeat(20_000)
            ),
            "message A { B b = 1; ".repeat(megabyte / 20),
            "type A { a: [B!]! @d(x: 1) } ".repeat(megabyte / 30),
            "\n".repeat(megabyte),
            "x\r\n".repeat(megabyte / 3),
        ];
        for input in &inputs {
            split_everything(input);
        }
        assert!(
            started.elapsed().as_secs() < 60,
            "took {:?}",
            started.elapsed()
        );
    }
}
