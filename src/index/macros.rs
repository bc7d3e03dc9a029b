//! Rust items inside item-position macro invocations (`cfg_net! { pub struct TcpStream
//! ... }`, `pin_project! { pub struct Timeout<F> { ... } }`, a crate's own wrappers,
//! nested ones): to the grammar a macro's argument is a token tree, so the items in it
//! would be invisible. The interior of a token tree that holds items is parsed again as
//! items, at the same byte offsets (tree-sitter's included ranges), and recursively.
//! Only invocations at item position (a file's, a module's, an impl's or a trait's
//! items) whose interior starts like an item are parsed: a macro's expression arguments
//! and `macro_rules!` bodies (with `$name` placeholders) stay token trees, and so does an
//! interior that does not parse cleanly as items (a macro's own little language).
//! `cfg_if! { if #[cfg(..)] { items } else if #[cfg(..)] { items } else { items } }`
//! holds items in each branch: every branch is parsed as items.
//! Invariant: what is found depends only on the text of the enclosing top-level item,
//! so incremental extraction (whole top-level items) finds what a full extraction finds.

use tree_sitter::{Node, Tree};

use crate::base::{LineIndex, TextRange};
use crate::lang::Lang;

/// Item trees nested deeper than this are left as token trees (a guard against
/// pathological input, not a limit real code reaches).
const MAX_DEPTH: usize = 8;

/// The parsed interiors of the item-holding macro invocations among the items of `root`
/// (and of its modules, impls and traits), and recursively of those found inside them;
/// each tree's nodes carry the file's offsets. `within`: only top-level items inside it.
pub(super) fn item_trees(lang: Lang, root: Node, text: &str, lines: &LineIndex, within: Option<TextRange>) -> Vec<ItemTree> {
    let mut trees: Vec<ItemTree> = Vec::new();
    if lang.spec().item_macro.is_none() {
        return trees;
    }
    let mut pending: Vec<(TextRange, usize)> = Vec::new();
    collect_top_level(root, text, within, 0, &mut pending);
    while let Some((interior, depth)) = pending.pop() {
        let Some(tree) = parse_items(lang, text, interior, lines) else { continue };
        if depth + 1 < MAX_DEPTH {
            collect_top_level(tree.root_node(), text, None, depth + 1, &mut pending);
        }
        trees.push(ItemTree { interior, tree });
    }
    trees.sort_by_key(|t| t.interior.start);
    trees
}

/// The interior of a macro invocation's token tree, parsed as items.
pub(super) struct ItemTree {
    /// Between the token tree's delimiters.
    pub interior: TextRange,
    pub tree: Tree,
}

/// The items of the token tree of `invocation` (a `macro_invocation` node), parsed, when
/// it holds items.
/// `known` are trees already parsed (looked up by interior before parsing again).
/// (An invocation with several item-holding branches, `cfg_if!`, has no single tree.)
pub(super) fn item_tree(lang: Lang, invocation: Node, text: &str, lines: &LineIndex, known: &[ItemTree]) -> Option<Tree> {
    let [interior] = items_interiors(invocation, text)[..] else { return None };
    if let Ok(i) = known.binary_search_by_key(&interior.start, |t| t.interior.start) {
        if known[i].interior == interior {
            return Some(known[i].tree.clone());
        }
    }
    parse_items(lang, text, interior, lines)
}

fn parse_items(lang: Lang, text: &str, interior: TextRange, lines: &LineIndex) -> Option<Tree> {
    let tree = crate::lang::parse_range(lang, text, interior, lines);
    // Tokens that do not parse as items (a DSL, a half-written item) stay a token tree.
    let root = tree.root_node();
    (!root.has_error() && root.named_child_count() > 0).then_some(tree)
}

fn collect_top_level(root: Node, text: &str, within: Option<TextRange>, depth: usize, out: &mut Vec<(TextRange, usize)>) {
    match within {
        Some(within) => crate::lang::each_child_within(root, within, |child| collect_item(child, text, depth, out)),
        None => {
            let mut cursor = root.walk();
            for child in root.children(&mut cursor) {
                collect_item(child, text, depth, out);
            }
        }
    }
}

fn collect_item(item: Node, text: &str, depth: usize, out: &mut Vec<(TextRange, usize)>) {
    match item.kind() {
        "macro_invocation" => out.extend(items_interiors(item, text).into_iter().map(|interior| (interior, depth))),
        "mod_item" | "impl_item" | "trait_item" => {
            let Some(body) = item.child_by_field_name("body") else { return };
            let mut cursor = body.walk();
            for child in body.children(&mut cursor) {
                collect_item(child, text, depth, out);
            }
        }
        _ => {}
    }
}

/// The interior of an invocation's token tree (between its delimiters) when it starts
/// like an item; for a `cfg_if!`-shaped one (`if #[cfg(..)] { .. } else { .. }`), the
/// interior of each braced branch that starts like an item. (A `macro_rules!` inside is
/// an item like any other; its arms stay token trees of the definition, never searched
/// for invocations.)
fn items_interiors(invocation: Node, text: &str) -> Vec<TextRange> {
    let Some(tokens) = invocation.child(invocation.child_count().saturating_sub(1)).filter(|t| t.kind() == "token_tree") else {
        return Vec::new();
    };
    let Some(interior) = items_interior(tokens, text) else { return Vec::new() };
    if starts_like_item(&text[interior.start as usize..interior.end as usize]) {
        return vec![interior];
    }
    if !starts_like_cfg_if(&text[interior.start as usize..interior.end as usize]) {
        return Vec::new();
    }
    let mut cursor = tokens.walk();
    let branches = tokens.named_children(&mut cursor).filter(|t| t.kind() == "token_tree" && text.as_bytes()[t.start_byte()] == b'{');
    branches
        .filter_map(|branch| items_interior(branch, text))
        .filter(|interior| starts_like_item(&text[interior.start as usize..interior.end as usize]))
        .collect()
}

/// Between a token tree's delimiters.
fn items_interior(tokens: Node, text: &str) -> Option<TextRange> {
    let (start, end) = (tokens.start_byte() + 1, tokens.end_byte().checked_sub(1)?);
    text.get(start..end)?;
    Some(TextRange::from_usize(start..end))
}

/// Whether the text begins `if #[cfg(..)]`, the first branch of a `cfg_if!`.
fn starts_like_cfg_if(text: &str) -> bool {
    skip_trivia(text).strip_prefix("if").is_some_and(|rest| skip_trivia(rest).starts_with("#["))
}

const ITEM_KEYWORDS: &[&str] = &[
    "pub", "fn", "struct", "enum", "union", "trait", "impl", "type", "const", "static", "mod", "use", "extern", "unsafe",
    "async", "macro_rules",
];

/// Whether the text, after whitespace and comments, begins an item: an attribute, an
/// item keyword or visibility, or another macro invocation (`name! {`).
fn starts_like_item(text: &str) -> bool {
    let rest = skip_trivia(text);
    if rest.starts_with('#') {
        return true;
    }
    let word_len = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
    let word = &rest[..word_len];
    if word.is_empty() {
        return false;
    }
    if ITEM_KEYWORDS.contains(&word) {
        return true;
    }
    // A nested invocation: `cfg_rt! { ... }`, `inner::wrap! { ... }` is rarer and skipped.
    skip_trivia(&rest[word_len..]).starts_with('!') && !word.starts_with(|c: char| c.is_ascii_digit())
}

fn skip_trivia(mut text: &str) -> &str {
    loop {
        text = text.trim_start();
        if let Some(comment) = text.strip_prefix("//") {
            text = comment.find('\n').map_or("", |i| &comment[i..]);
        } else if let Some(comment) = text.strip_prefix("/*") {
            text = comment.find("*/").map_or("", |i| &comment[i + 2..]);
        } else {
            return text;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interiors_that_start_like_items() {
        assert!(starts_like_item("\n    pub struct TcpStream { inner: u8 }\n"));
        assert!(starts_like_item(" /// Doc.\n #[derive(Debug)] struct A;"));
        assert!(starts_like_item("/* c */ cfg_unstable! { fn f() {} }"));
        assert!(starts_like_item("fn f() {}"));
        assert!(!starts_like_item("\"{}\", x"));
        assert!(!starts_like_item("x + 1"));
        assert!(!starts_like_item("if #[cfg(unix)] { }"));
        assert!(!starts_like_item(""));
        assert!(!starts_like_item("// only a comment"));
        assert!(starts_like_cfg_if("\n    if #[cfg(unix)] { mod unix; }"));
        assert!(!starts_like_cfg_if("iffy #[x]") && !starts_like_cfg_if("x if #[cfg(unix)]"));
    }
}
