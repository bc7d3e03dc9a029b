//! A small matcher for the subset of tree-sitter's query language that ctxls's `.scm`
//! files use, run during one `TreeCursor` walk. tree-sitter's own `QueryCursor` costs
//! about as much as parsing on these trees (a trivial `(identifier) @x` query takes 9 ms
//! where the parse takes 15 ms), more than the index's time budget allows; a walk that
//! tries each pattern only at nodes of its root kind costs a fraction of that.
//!
//! Supported: node kinds and `_`, fields (`name: (...)`), negated fields (`!body`), child
//! patterns without a field (any named child), the anchor `.` before a first child,
//! several captures on a node, and `#eq?` against a string. Anything else is refused when
//! the queries load. Tests check the matches against tree-sitter's own query engine.

use tree_sitter::{Language, Node, TreeCursor};

#[derive(Debug)]
struct PatternNode {
    /// Node kind ids this step accepts (several ids can share a name); empty for `_`.
    kinds: Vec<u16>,
    captures: Vec<u32>,
    negated_fields: Vec<u16>,
    children: Vec<PatternChild>,
}

#[derive(Debug)]
struct PatternChild {
    field: Option<u16>,
    /// `.` before the child: it must be the first named child.
    first: bool,
    node: PatternNode,
}

#[derive(Debug)]
struct Pattern {
    root: PatternNode,
    /// `(#eq? @capture "text")`.
    eq: Vec<(u32, String)>,
}

/// One match: the pattern's index and its captures (capture index, node), in pattern order.
pub struct PatternMatch<'t> {
    pub pattern: usize,
    pub captures: Captures<'t>,
}

pub struct PatternSet {
    patterns: Vec<Pattern>,
    capture_names: Vec<String>,
    /// For each node kind id, the patterns whose root has that kind.
    by_root_kind: Vec<Vec<usize>>,
    /// Patterns whose root is `_`.
    wildcard_roots: Vec<usize>,
}

#[derive(Debug)]
pub struct PatternError(pub String);

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl PatternSet {
    pub fn new(language: &Language, source: &str) -> Result<PatternSet, PatternError> {
        let tokens = tokenize(source)?;
        let mut parser = Parser { tokens, pos: 0, language, capture_names: Vec::new() };
        let mut patterns = Vec::new();
        while parser.pos < parser.tokens.len() {
            patterns.push(parser.pattern()?);
        }
        let kind_count = language.node_kind_count();
        let mut by_root_kind = vec![Vec::new(); kind_count];
        let mut wildcard_roots = Vec::new();
        for (i, pattern) in patterns.iter().enumerate() {
            if pattern.root.kinds.is_empty() {
                wildcard_roots.push(i);
            }
            for &kind in &pattern.root.kinds {
                by_root_kind[kind as usize].push(i);
            }
        }
        Ok(PatternSet { patterns, capture_names: parser.capture_names, by_root_kind, wildcard_roots })
    }

    pub fn capture_names(&self) -> &[String] {
        &self.capture_names
    }

    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    /// Every match in the subtree of `root`, nodes in document order; at one node, the
    /// patterns in file order.
    pub fn matches<'t>(&self, root: Node<'t>, text: &[u8], each: &mut dyn FnMut(PatternMatch<'t>)) {
        let mut cursor = root.walk();
        let mut scratch = root.walk();
        loop {
            self.matches_at(cursor.node(), text, &mut scratch, each);
            if cursor.goto_first_child() {
                continue;
            }
            loop {
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    return;
                }
            }
        }
    }

    /// The matches whose pattern root is `node` itself (no descent).
    pub fn matches_at_node<'t>(&self, node: Node<'t>, text: &[u8], each: &mut dyn FnMut(PatternMatch<'t>)) {
        let mut scratch = node.walk();
        self.matches_at(node, text, &mut scratch, each);
    }

    fn matches_at<'t>(
        &self,
        node: Node<'t>,
        text: &[u8],
        scratch: &mut TreeCursor<'t>,
        each: &mut dyn FnMut(PatternMatch<'t>),
    ) {
        if !node.is_named() {
            return;
        }
        let at_kind = self.by_root_kind.get(node.kind_id() as usize).map_or(&[][..], Vec::as_slice);
        // The node's children, listed once for all the patterns rooted here.
        let mut children: Option<Vec<Child<'t>>> = None;
        for &index in at_kind.iter().chain(&self.wildcard_roots) {
            let pattern = &self.patterns[index];
            // Most patterns are one node (`(identifier) @ref.other`): no search needed.
            if pattern.root.children.is_empty() && pattern.eq.is_empty() {
                if pattern.root.negated_fields.iter().all(|&field| node.child_by_field_id(field).is_none()) {
                    let captures = pattern.root.captures.iter().map(|&c| (c, node)).collect();
                    each(PatternMatch { pattern: index, captures });
                }
                continue;
            }
            let children = children.get_or_insert_with(|| children_of(node, scratch));
            for captures in match_node(&pattern.root, node, Some(children), scratch) {
                let predicates_hold = pattern.eq.iter().all(|(capture, expected)| {
                    captures.iter().any(|(c, n)| c == capture && text.get(n.byte_range()) == Some(expected.as_bytes()))
                });
                if predicates_hold {
                    each(PatternMatch { pattern: index, captures });
                }
            }
        }
    }
}

pub type Captures<'t> = Vec<(u32, Node<'t>)>;

/// A child of a node as a pattern sees it.
#[derive(Clone, Copy)]
struct Child<'t> {
    node: Node<'t>,
    field: Option<u16>,
}

fn children_of<'t>(parent: Node<'t>, scratch: &mut TreeCursor<'t>) -> Vec<Child<'t>> {
    let mut children = Vec::new();
    scratch.reset(parent);
    if scratch.goto_first_child() {
        loop {
            children.push(Child { node: scratch.node(), field: scratch.field_id().map(|f| f.get()) });
            if !scratch.goto_next_sibling() {
                break;
            }
        }
    }
    children
}

/// Every way `pattern` matches at `node` (a child pattern can match several children,
/// each giving its own match, as in tree-sitter). `children` are the node's, when the
/// caller listed them already.
fn match_node<'t>(pattern: &PatternNode, node: Node<'t>, children: Option<&[Child<'t>]>, scratch: &mut TreeCursor<'t>) -> Vec<Captures<'t>> {
    if !pattern.kinds.is_empty() && !pattern.kinds.contains(&node.kind_id()) {
        return Vec::new();
    }
    if pattern.negated_fields.iter().any(|&field| node.child_by_field_id(field).is_some()) {
        return Vec::new();
    }
    let mut results: Vec<Captures<'t>> = vec![pattern.captures.iter().map(|&c| (c, node)).collect()];
    if pattern.children.is_empty() {
        return results;
    }
    let listed;
    let children = match children {
        Some(children) => children,
        None => {
            listed = children_of(node, scratch);
            &listed
        }
    };
    for child in &pattern.children {
        let mut sub_matches: Vec<Captures<'t>> = Vec::new();
        for candidate in candidates(child, children) {
            sub_matches.extend(match_node(&child.node, candidate, None, scratch));
        }
        if sub_matches.is_empty() {
            return Vec::new();
        }
        results = results
            .into_iter()
            .flat_map(|partial| {
                sub_matches.iter().map(move |sub| {
                    let mut combined = partial.clone();
                    combined.extend(sub.iter().copied());
                    combined
                })
            })
            .collect();
    }
    results
}

fn candidates<'a, 't>(child: &'a PatternChild, children: &'a [Child<'t>]) -> impl Iterator<Item = Node<'t>> + 'a {
    // An anchored child (`. (x)`) is the first named child, whatever its field.
    let first = if child.first { children.iter().find(|c| c.node.is_named()).map(|c| c.node) } else { None };
    let rest = children.iter().filter(move |c| {
        !child.first
            && match child.field {
                Some(field) => c.field == Some(field),
                None => c.node.is_named(),
            }
    });
    first.into_iter().chain(rest.map(|c| c.node))
}

// ---- parsing the .scm text ----

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    Dot,
    Capture(String),
    Field(String),
    NegatedField(String),
    Word(String),
    Str(String),
}

fn tokenize(source: &str) -> Result<Vec<Token>, PatternError> {
    let mut tokens = Vec::new();
    let mut chars = source.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        match c {
            ';' => {
                while chars.peek().is_some_and(|&(_, c)| c != '\n') {
                    chars.next();
                }
            }
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
            }
            '.' => {
                chars.next();
                tokens.push(Token::Dot);
            }
            '"' => {
                chars.next();
                let mut text = String::new();
                loop {
                    match chars.next() {
                        Some((_, '"')) => break,
                        Some((_, '\\')) => {
                            if let Some((_, escaped)) = chars.next() {
                                text.push(escaped);
                            }
                        }
                        Some((_, c)) => text.push(c),
                        None => return Err(PatternError(format!("unterminated string at byte {i}"))),
                    }
                }
                tokens.push(Token::Str(text));
            }
            _ => {
                let mut word = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | ';' | '"') {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                tokens.push(if let Some(name) = word.strip_prefix('@') {
                    Token::Capture(name.to_string())
                } else if let Some(name) = word.strip_prefix('!') {
                    Token::NegatedField(name.to_string())
                } else if let Some(name) = word.strip_suffix(':') {
                    Token::Field(name.to_string())
                } else {
                    Token::Word(word)
                });
            }
        }
    }
    Ok(tokens)
}

struct Parser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    language: &'a Language,
    capture_names: Vec<String>,
}

impl Parser<'_> {
    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn error(&self, message: &str) -> PatternError {
        PatternError(format!("{message} at token {} ({:?})", self.pos, self.tokens.get(self.pos)))
    }

    fn pattern(&mut self) -> Result<Pattern, PatternError> {
        let mut eq = Vec::new();
        let root = self.node(&mut eq)?;
        Ok(Pattern { root, eq })
    }

    fn capture(&mut self, name: String) -> u32 {
        match self.capture_names.iter().position(|n| *n == name) {
            Some(i) => i as u32,
            None => {
                self.capture_names.push(name);
                self.capture_names.len() as u32 - 1
            }
        }
    }

    /// `(kind children...) @captures`
    fn node(&mut self, eq: &mut Vec<(u32, String)>) -> Result<PatternNode, PatternError> {
        if self.next() != Some(Token::Open) {
            return Err(self.error("expected `(`"));
        }
        let kind = match self.next() {
            Some(Token::Word(word)) => word,
            _ => return Err(self.error("expected a node kind")),
        };
        let kinds = if kind == "_" { Vec::new() } else { self.kind_ids(&kind)? };
        let mut node = PatternNode { kinds, captures: Vec::new(), negated_fields: Vec::new(), children: Vec::new() };
        let mut field = None;
        let mut first = false;
        loop {
            match self.peek().cloned() {
                Some(Token::Close) => {
                    self.pos += 1;
                    break;
                }
                Some(Token::Field(name)) => {
                    self.pos += 1;
                    field = Some(self.field_id(&name)?);
                }
                Some(Token::NegatedField(name)) => {
                    self.pos += 1;
                    node.negated_fields.push(self.field_id(&name)?);
                }
                Some(Token::Dot) => {
                    self.pos += 1;
                    first = true;
                }
                Some(Token::Open) => {
                    // A predicate, or a child pattern.
                    if let Some(Token::Word(word)) = self.tokens.get(self.pos + 1) {
                        if word.starts_with('#') {
                            self.predicate(eq)?;
                            continue;
                        }
                    }
                    let child = self.node(eq)?;
                    node.children.push(PatternChild { field: field.take(), first: std::mem::take(&mut first), node: child });
                }
                _ => return Err(self.error("unexpected token in a pattern")),
            }
        }
        while let Some(Token::Capture(name)) = self.peek().cloned() {
            self.pos += 1;
            let capture = self.capture(name);
            node.captures.push(capture);
        }
        Ok(node)
    }

    fn predicate(&mut self, eq: &mut Vec<(u32, String)>) -> Result<(), PatternError> {
        self.pos += 1; // `(`
        let name = match self.next() {
            Some(Token::Word(name)) => name,
            _ => return Err(self.error("expected a predicate")),
        };
        if name != "#eq?" {
            return Err(self.error(&format!("unsupported predicate {name}")));
        }
        let capture = match self.next() {
            Some(Token::Capture(capture)) => self.capture(capture),
            _ => return Err(self.error("expected a capture")),
        };
        let text = match self.next() {
            Some(Token::Str(text)) => text,
            _ => return Err(self.error("expected a string")),
        };
        if self.next() != Some(Token::Close) {
            return Err(self.error("expected `)`"));
        }
        eq.push((capture, text));
        Ok(())
    }

    fn kind_ids(&self, kind: &str) -> Result<Vec<u16>, PatternError> {
        let ids: Vec<u16> = (0..self.language.node_kind_count() as u16)
            .filter(|&id| self.language.node_kind_is_named(id) && self.language.node_kind_for_id(id) == Some(kind))
            .collect();
        if ids.is_empty() {
            return Err(self.error(&format!("unknown node kind `{kind}`")));
        }
        Ok(ids)
    }

    fn field_id(&self, name: &str) -> Result<u16, PatternError> {
        self.language
            .field_id_for_name(name)
            .map(|f| f.get())
            .ok_or_else(|| self.error(&format!("unknown field `{name}`")))
    }
}
