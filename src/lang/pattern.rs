//! A small matcher for the subset of tree-sitter's query language that ctxls's `.scm`
//! files use, run over a tree's nodes listed once (`FlatTree`). tree-sitter's own
//! `QueryCursor` costs about as much as parsing on these trees (a trivial
//! `(identifier) @x` query takes 9 ms where the parse takes 15 ms), more than the index's
//! time budget allows; a walk that tries each pattern only at nodes of its root kind
//! costs a fraction of that.
//!
//! Supported: node kinds and `_`, fields (`name: (...)`), negated fields (`!body`), child
//! patterns without a field (any named child), the anchor `.` before a first child,
//! several captures on a node, and `#eq?` against a string. Anything else is refused when
//! the queries load. Tests check the matches against tree-sitter's own query engine.

use tree_sitter::{Language, Node};

use super::FlatTree;

#[derive(Debug)]
struct PatternNode {
    /// Node kind ids this step accepts (several ids can share a name); empty for `_`.
    kinds: Vec<u16>,
    captures: Vec<u32>,
    negated_fields: Vec<u16>,
    children: Vec<PatternChild>,
}

impl PatternNode {
    /// How many levels below its root the pattern looks.
    fn depth(&self) -> u32 {
        self.children.iter().map(|c| 1 + c.node.depth()).max().unwrap_or(0)
    }
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
    /// For each node kind id, how many levels below the node the patterns that can match
    /// there look (`None` when none can).
    depth_at_kind: Vec<Option<u32>>,
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
        let depth_of = |indices: &[usize]| indices.iter().map(|&i| patterns[i].root.depth()).max();
        let wildcard_depth = depth_of(&wildcard_roots);
        let depth_at_kind = by_root_kind.iter().map(|at_kind| depth_of(at_kind).max(wildcard_depth)).collect();
        Ok(PatternSet { patterns, capture_names: parser.capture_names, by_root_kind, wildcard_roots, depth_at_kind })
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
        self.matches_in(&FlatTree::new(root), text, each);
    }

    /// `matches` over a listing the caller keeps (to look up parents and siblings after).
    pub fn matches_in<'t>(&self, tree: &FlatTree<'t>, text: &[u8], each: &mut dyn FnMut(PatternMatch<'t>)) {
        for index in 0..tree.len() {
            self.matches_at(tree, index, text, each);
        }
    }

    /// The matches whose pattern root is `node` itself (no descent).
    pub fn matches_at_node<'t>(&self, node: Node<'t>, text: &[u8], each: &mut dyn FnMut(PatternMatch<'t>)) {
        // Only as deep as the patterns rooted at this kind look: the node may be a file.
        if let Some(&Some(depth)) = self.depth_at_kind.get(node.kind_id() as usize) {
            self.matches_at(&FlatTree::shallow(node, depth), 0, text, each);
        }
    }

    fn matches_at<'t>(&self, tree: &FlatTree<'t>, index: usize, text: &[u8], each: &mut dyn FnMut(PatternMatch<'t>)) {
        if !tree.is_named(index) {
            return;
        }
        let at_kind = self.by_root_kind.get(tree.kind(index) as usize).map_or(&[][..], Vec::as_slice);
        if at_kind.is_empty() && self.wildcard_roots.is_empty() {
            return;
        }
        let node = tree.node(index);
        // The node's children, listed once for all the patterns rooted here.
        let mut children: Option<Vec<usize>> = None;
        for &pattern_index in at_kind.iter().chain(&self.wildcard_roots) {
            let pattern = &self.patterns[pattern_index];
            // Most patterns are one node (`(identifier) @ref.other`): no search needed.
            if pattern.root.children.is_empty() && pattern.eq.is_empty() {
                if pattern.root.negated_fields.iter().all(|&field| node.child_by_field_id(field).is_none()) {
                    let captures = pattern.root.captures.iter().map(|&c| (c, node)).collect();
                    each(PatternMatch { pattern: pattern_index, captures });
                }
                continue;
            }
            let children = children.get_or_insert_with(|| tree.children(index).collect());
            for captures in match_node(&pattern.root, tree, index, Some(children)) {
                let predicates_hold = pattern.eq.iter().all(|(capture, expected)| {
                    captures.iter().any(|(c, n)| c == capture && text.get(n.byte_range()) == Some(expected.as_bytes()))
                });
                if predicates_hold {
                    each(PatternMatch { pattern: pattern_index, captures });
                }
            }
        }
    }
}

pub type Captures<'t> = Vec<(u32, Node<'t>)>;

/// Every way `pattern` matches at node `index` (a child pattern can match several
/// children, each giving its own match, as in tree-sitter). `children` are the node's
/// (indices in `tree`), when the caller listed them already.
fn match_node<'t>(pattern: &PatternNode, tree: &FlatTree<'t>, index: usize, children: Option<&[usize]>) -> Vec<Captures<'t>> {
    if !pattern.kinds.is_empty() && !pattern.kinds.contains(&tree.kind(index)) {
        return Vec::new();
    }
    let node = tree.node(index);
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
            listed = tree.children(index).collect::<Vec<_>>();
            &listed
        }
    };
    for child in &pattern.children {
        let mut sub_matches: Vec<Captures<'t>> = Vec::new();
        for candidate in candidates(child, tree, children) {
            sub_matches.extend(match_node(&child.node, tree, candidate, None));
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

fn candidates<'a>(child: &'a PatternChild, tree: &'a FlatTree, children: &'a [usize]) -> impl Iterator<Item = usize> + 'a {
    // An anchored child (`. (x)`) is the first named child, whatever its field.
    let first = if child.first { children.iter().copied().find(|&c| tree.is_named(c)) } else { None };
    let rest = children.iter().copied().filter(move |&c| {
        !child.first
            && match child.field {
                Some(field) => tree.field(c) == Some(field),
                None => tree.is_named(c),
            }
    });
    first.into_iter().chain(rest)
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
