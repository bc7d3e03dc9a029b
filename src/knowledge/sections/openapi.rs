//! OpenAPI 3 and Swagger 2 documents, in YAML (tree-sitter-yaml) or JSON (tree-sitter-json),
//! split by operation (`paths.<path>.<method>`) and by reusable component, with the
//! `$ref`s each one uses. Both parsers give byte ranges for every key and value, so a
//! section's lines are exactly its source; YAML anchors (`&a`, `*a`) and merge keys
//! (`<<: *a`) are followed, flow mappings (`{a: 1}`) are structure like block ones, block
//! scalars and comments are never mistaken for keys.

use std::collections::HashMap;

use tree_sitter::{Node, Parser, Tree};

use super::markdown::github_slug;
use super::{dedupe, to_u32, Lines, Section, SectionKind};

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

pub(super) fn split_openapi(text: &str) -> Result<Vec<Section>, String> {
    let lines = Lines::new(text);
    let json = looks_like_json(text);
    let tree = parse(text, json)?;
    let view = CstTree::new(text, &lines, &tree, json);
    let sections = openapi_sections(&view);
    if sections.is_err() && !json && tree.root_node().has_error() {
        // What broke the document, rather than what is missing from what was left of it.
        return Err(format!("invalid YAML at line {}", first_error_line(&tree) + 1));
    }
    sections
}

/// The 0-based line of the first node in error.
fn first_error_line(tree: &Tree) -> usize {
    first_error(tree).start_position().row
}

/// The first node in error: down from the root through the nodes that hold one.
fn first_error(tree: &Tree) -> Node<'_> {
    let mut node = tree.root_node();
    while !(node.is_error() || node.is_missing()) {
        let mut cursor = node.walk();
        let inner = node.children(&mut cursor).find(|c| c.has_error() || c.is_missing());
        match inner {
            Some(inner) => node = inner,
            None => break,
        }
    }
    node
}

/// Whether `text` is an OpenAPI or Swagger document: a top-level `openapi` or `swagger`
/// key, in JSON or YAML.
pub(super) fn is_openapi(text: &str) -> bool {
    let json = looks_like_json(text);
    let Ok(tree) = parse(text, json) else { return false };
    let lines = Lines::new(text);
    let view = CstTree::new(text, &lines, &tree, json);
    view.top().into_iter().any(|pair| is_version_key(&view.key(pair)))
}

/// The view of a parsed OpenAPI document that section building needs; implemented by the
/// YAML outline and the JSON tree.
trait ApiTree {
    type Node: Copy;
    /// The top-level keys.
    fn top(&self) -> Vec<Self::Node>;
    /// The keys of a mapping value, in order.
    fn children(&self, node: Self::Node) -> Vec<Self::Node>;
    fn key(&self, node: Self::Node) -> String;
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
    if !top.iter().any(|&node| is_version_key(&tree.key(node))) {
        return Err("not an OpenAPI document: no top-level `openapi` or `swagger` key".to_string());
    }
    let mut sections = Vec::new();
    for &node in &top {
        match tree.key(node).as_str() {
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
                        tree.key(group).as_str(),
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
    let path = path.as_str();
    let children = tree.children(path_node);
    let shared_parameters = children
        .iter()
        .copied()
        .find(|&child| tree.key(child) == "parameters");
    for &operation in &children {
        let method = tree.key(operation);
        if !HTTP_METHODS.contains(&method.as_str()) {
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
        let name = tree.key(schema);
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

// The parsed document.

/// Deeper JSON is rejected: it is never an API description, and it bounds recursion.
const MAX_JSON_DEPTH: usize = 200;
/// Aliases followed one after another at most (`*a` naming a node that is `*b` ...).
const MAX_ALIAS_HOPS: usize = 8;

/// YAML indented further than this is refused before parsing: tree-sitter-yaml's scanner
/// keeps 8 bytes per indentation level in a state of at most 1 KiB (125 levels; a level
/// takes at least one column), and past that its state would be cut short
/// (grammars/tree-sitter-yaml/PATCHES.md).
const MAX_YAML_INDENT: usize = 120;

fn parse(text: &str, json: bool) -> Result<Tree, String> {
    if !json {
        let deep = text.lines().position(|line| line.bytes().take_while(|b| matches!(b, b' ' | b'\t' | b'-' | b'?' | b':')).count() > MAX_YAML_INDENT);
        if let Some(line) = deep {
            return Err(format!("YAML nested too deeply at line {} (indented over {MAX_YAML_INDENT} columns)", line + 1));
        }
    }
    let language: tree_sitter::Language = if json { tree_sitter_json::LANGUAGE.into() } else { tree_sitter_yaml::LANGUAGE.into() };
    let mut parser = Parser::new();
    parser.set_language(&language).map_err(|err| format!("the {} grammar: {err}", if json { "JSON" } else { "YAML" }))?;
    let tree = parser.parse(text, None).ok_or_else(|| "the document could not be parsed".to_string())?;
    if json {
        check_json(text, &tree)?;
    }
    Ok(tree)
}

/// JSON must be valid (the first error named by its line) and at most
/// [`MAX_JSON_DEPTH`] deep.
fn check_json(text: &str, tree: &Tree) -> Result<(), String> {
    let line_of = |byte: usize| 1 + text.as_bytes()[..byte.min(text.len())].iter().filter(|&&b| b == b'\n').count();
    let root = tree.root_node();
    if root.has_error() {
        let node = first_error(tree);
        let what = if node.is_missing() { format!("`{}` expected", node.kind()) } else { "unexpected text".to_string() };
        return Err(format!("invalid JSON at line {}: {what}", line_of(node.start_byte())));
    }
    let mut stack = vec![(root, 0usize)];
    while let Some((node, depth)) = stack.pop() {
        if depth > MAX_JSON_DEPTH {
            return Err(format!("invalid JSON at line {}: nested too deeply", line_of(node.start_byte())));
        }
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            stack.push((child, depth + usize::from(matches!(child.kind(), "object" | "array"))));
        }
    }
    Ok(())
}

/// The document as the section builder sees it: mappings of keys to values, over the
/// syntax tree of either language. A node of the view is a key-value pair.
struct CstTree<'t> {
    text: &'t str,
    lines: &'t Lines<'t>,
    json: bool,
    root: Node<'t>,
    /// YAML anchors: name -> the node they name.
    anchors: HashMap<&'t str, Node<'t>>,
}

impl<'t> CstTree<'t> {
    fn new(text: &'t str, lines: &'t Lines<'t>, tree: &'t Tree, json: bool) -> CstTree<'t> {
        let mut view = CstTree { text, lines, json, root: tree.root_node(), anchors: HashMap::new() };
        if !json {
            // Every anchor, in document order (a later one of the same name wins, as
            // aliases refer to the latest anchor before them; close enough for lookup).
            let mut stack = vec![tree.root_node()];
            while let Some(node) = stack.pop() {
                if node.kind() == "anchor" {
                    if let (Some(name), Some(parent)) = (node.named_child(0).and_then(|n| text.get(n.byte_range())), node.parent()) {
                        view.anchors.insert(name, parent);
                    }
                }
                let mut cursor = node.walk();
                stack.extend(node.named_children(&mut cursor));
            }
        }
        view
    }

    /// The mapping a value node holds (through anchors, tags and aliases), if it is one.
    fn mapping(&self, node: Node<'t>) -> Option<Node<'t>> {
        let mut node = node;
        for _ in 0..MAX_ALIAS_HOPS {
            match node.kind() {
                "object" | "block_mapping" | "flow_mapping" => return Some(node),
                "document" | "stream" | "block_node" | "flow_node" => {
                    let mut cursor = node.walk();
                    let inner = node.named_children(&mut cursor).find(|n| !matches!(n.kind(), "anchor" | "tag" | "comment" | "yaml_directive" | "tag_directive" | "reserved_directive"));
                    node = inner?;
                }
                "alias" => {
                    let name = node.named_child(0).and_then(|n| self.text.get(n.byte_range()))?;
                    node = *self.anchors.get(name)?;
                }
                _ => return None,
            }
        }
        None
    }

    /// The pairs of a mapping, in order; a YAML merge key (`<<: *base`, `<<: [*a, *b]`)
    /// brings the pairs of the mappings it names.
    fn pairs(&self, mapping: Node<'t>, hops: usize) -> Vec<Node<'t>> {
        let mut out = Vec::new();
        let mut cursor = mapping.walk();
        for pair in mapping.named_children(&mut cursor) {
            if !matches!(pair.kind(), "pair" | "block_mapping_pair" | "flow_pair") {
                continue;
            }
            if !self.json && self.key(pair) == "<<" && hops < MAX_ALIAS_HOPS {
                if let Some(value) = pair.child_by_field_name("value") {
                    for merged in self.merged(value) {
                        out.extend(self.pairs(merged, hops + 1));
                    }
                }
                continue;
            }
            out.push(pair);
        }
        out
    }

    /// The mappings a merge key's value names: one, or a sequence of them.
    fn merged(&self, value: Node<'t>) -> Vec<Node<'t>> {
        if let Some(mapping) = self.mapping(value) {
            return vec![mapping];
        }
        let mut out = Vec::new();
        let mut stack = vec![value];
        while let Some(node) = stack.pop() {
            match node.kind() {
                "flow_sequence" | "block_sequence" | "block_sequence_item" | "flow_node" | "block_node" => {
                    let mut cursor = node.walk();
                    let children: Vec<Node> = node.named_children(&mut cursor).collect();
                    stack.extend(children.into_iter().rev());
                }
                "alias" => out.extend(self.mapping(node)),
                _ => {}
            }
        }
        out
    }

    /// A scalar node's value: unquoted, escapes decoded, a plain multi-line scalar folded.
    fn scalar_value(&self, node: Node<'t>) -> Option<String> {
        let raw = self.text.get(node.byte_range())?;
        match node.kind() {
            "flow_node" | "block_node" => {
                let mut cursor = node.walk();
                let inner = node.named_children(&mut cursor).find(|n| !matches!(n.kind(), "anchor" | "tag" | "comment"))?;
                self.scalar_value(inner)
            }
            "string" => Some(serde_json::from_str::<String>(raw).unwrap_or_else(|_| raw.trim_matches('"').to_string())),
            "number" | "true" | "false" | "null" => Some(raw.to_string()),
            "plain_scalar" => Some(raw.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ")),
            "single_quote_scalar" => Some(raw.get(1..raw.len().saturating_sub(1)).unwrap_or("").replace("''", "'")),
            "double_quote_scalar" => Some(unescape_yaml(raw.get(1..raw.len().saturating_sub(1)).unwrap_or(""))),
            _ => None,
        }
    }

    /// The lines of a pair: from its key to its value's last line that is not blank.
    /// Comments after a value are not part of it (YAML puts them inside the node).
    fn lines_of(&self, node: Node<'t>) -> (usize, usize) {
        let start = self.lines.line_of(node.start_byte());
        // Down the last children that are not comments, to the value's last token.
        let mut last = node;
        while matches!(
            last.kind(),
            "block_node" | "flow_node" | "block_mapping" | "block_mapping_pair" | "block_sequence" | "block_sequence_item" | "flow_mapping" | "flow_pair" | "flow_sequence" | "pair" | "object" | "array"
        ) {
            let mut cursor = last.walk();
            let child = last.children(&mut cursor).filter(|c| c.kind() != "comment").last();
            match child {
                Some(child) => last = child,
                None => break,
            }
        }
        let end_byte = last.end_byte().max(node.start_byte() + 1);
        let end = self.lines.line_of(end_byte - 1);
        (start, self.lines.last_non_blank(start, end))
    }
}

/// A YAML double-quoted scalar's escapes decoded (`\n`, `\t`, `\"`, `\\`, `\uXXXX`, ...).
fn unescape_yaml(inner: &str) -> String {
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
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some(kind @ ('x' | 'u' | 'U')) => {
                let digits: String = chars.by_ref().take(match kind { 'x' => 2, 'u' => 4, _ => 8 }).collect();
                out.push(u32::from_str_radix(&digits, 16).ok().and_then(char::from_u32).unwrap_or('\u{fffd}'));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

impl<'t> ApiTree for CstTree<'t> {
    type Node = Node<'t>;

    fn top(&self) -> Vec<Node<'t>> {
        let document = if self.json { self.root.named_child(0) } else { first_document(self.root) };
        document.and_then(|d| self.mapping(d)).map(|m| self.pairs(m, 0)).unwrap_or_default()
    }

    fn children(&self, pair: Node<'t>) -> Vec<Node<'t>> {
        pair.child_by_field_name("value").and_then(|v| self.mapping(v)).map(|m| self.pairs(m, 0)).unwrap_or_default()
    }

    fn key(&self, pair: Node<'t>) -> String {
        pair.child_by_field_name("key").and_then(|k| self.scalar_value(k)).unwrap_or_default()
    }

    fn scalar(&self, pair: Node<'t>) -> Option<String> {
        pair.child_by_field_name("value").and_then(|v| self.scalar_value(v))
    }

    fn line_range(&self, pair: Node<'t>) -> (usize, usize) {
        self.lines_of(pair)
    }

    fn text(&self, pair: Node<'t>) -> String {
        let (start, end) = self.line_range(pair);
        if !self.json || start != end || alone_on_line(self.text.as_bytes(), pair.start_byte(), pair.end_byte()) {
            return self.lines.slice(start, end);
        }
        // A member sharing its line with others (minified JSON): pretty-printed.
        let mut out = String::new();
        if let (Some(key), Some(value)) = (pair.child_by_field_name("key"), pair.child_by_field_name("value")) {
            out.push_str(self.text.get(key.byte_range()).unwrap_or(""));
            out.push_str(": ");
            pretty_json(self.text, value, 0, &mut out);
        }
        out
    }

    fn collect_refs(&self, pair: Node<'t>, out: &mut Vec<String>) {
        let Some(value) = pair.child_by_field_name("value") else { return };
        let mut stack = vec![value];
        while let Some(node) = stack.pop() {
            if matches!(node.kind(), "pair" | "block_mapping_pair" | "flow_pair") && self.key(node) == "$ref" {
                out.extend(self.scalar(node).as_deref().and_then(ref_target));
                continue;
            }
            let mut cursor = node.walk();
            let children: Vec<Node> = node.named_children(&mut cursor).collect();
            stack.extend(children.into_iter().rev());
        }
    }
}

/// The first document of a YAML stream.
fn first_document(stream: Node) -> Option<Node> {
    let mut cursor = stream.walk();
    let document = stream.named_children(&mut cursor).find(|n| n.kind() == "document");
    document
}

/// Renders a JSON value with an indent of 2, keeping strings and numbers as written.
fn pretty_json(text: &str, value: Node, indent: usize, out: &mut String) {
    fn newline(out: &mut String, indent: usize) {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', indent * 2));
    }
    let mut cursor = value.walk();
    let children: Vec<Node> = value.named_children(&mut cursor).filter(|n| n.kind() != "comment").collect();
    match value.kind() {
        "object" | "array" if children.is_empty() => out.push_str(if value.kind() == "object" { "{}" } else { "[]" }),
        "object" => {
            out.push('{');
            for (i, pair) in children.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent + 1);
                if let (Some(key), Some(item)) = (pair.child_by_field_name("key"), pair.child_by_field_name("value")) {
                    out.push_str(text.get(key.byte_range()).unwrap_or("\"\""));
                    out.push_str(": ");
                    pretty_json(text, item, indent + 1, out);
                }
            }
            newline(out, indent);
            out.push('}');
        }
        "array" => {
            out.push('[');
            for (i, item) in children.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent + 1);
                pretty_json(text, *item, indent + 1, out);
            }
            newline(out, indent);
            out.push(']');
        }
        _ => out.push_str(text.get(value.byte_range()).unwrap_or("")),
    }
}

/// Whether `start..end` is alone on its line, but for a trailing comma.
fn alone_on_line(bytes: &[u8], start: usize, end: usize) -> bool {
    let before = bytes.get(..start).unwrap_or_default();
    if !before.iter().rev().take_while(|&&b| b != b'\n').all(|&b| b == b' ' || b == b'\t') {
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
