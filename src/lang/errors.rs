//! Syntax errors of a tree, counted: ERROR nodes (not looked into) and MISSING nodes.
//! After an edit, `count_after_edit` counts only among the top-level nodes around the
//! change in the old and new trees; elsewhere both trees hold the same nodes, so the
//! count equals a full `count_errors` of the new tree (a random-edit test checks it).

use tree_sitter::Node;

use crate::base::TextRange;

/// The syntax errors under `root` (itself included): ERROR nodes, whose insides are not
/// counted, and MISSING nodes. Only subtrees with an error are walked into.
pub fn count_errors(root: Node) -> u32 {
    if !root.has_error() {
        return 0;
    }
    let mut count = 0;
    let mut cursor = root.walk();
    loop {
        let node = cursor.node();
        if node.is_error() || node.is_missing() {
            count += 1;
        }
        // Only descend into subtrees that contain an error.
        if node.has_error() && !node.is_error() && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return count;
            }
        }
    }
}

/// The syntax errors of `new`, a reparse of `old` after one edit, given `old_errors`
/// (`count_errors` of `old`). `old` is the tree before the reparse, already edited (its
/// nodes in the new text's coordinates); `changed` spans the edit and tree-sitter's
/// changed ranges, in the new text. Both trees' top-level nodes touching `changed` are
/// counted, taking in the nodes touching those, until no more do; the other top-level
/// nodes lie outside every changed range and hold the same errors in both trees. A
/// keystroke in a file of thousands of items then counts a few of them, not all.
pub fn count_after_edit(old_errors: u32, old: Node, new: Node, changed: TextRange) -> u32 {
    if !new.has_error() {
        return 0;
    }
    let whole = |root: Node| root.is_error() || root.is_missing();
    if whole(old) || whole(new) || new.child_count() < FEW_CHILDREN {
        return count_errors(new);
    }
    let window = touching_window(changed, [old, new]);
    let count_in = |root: Node| {
        let mut count = 0;
        if root.has_error() {
            each_child_within(root, window, |child| count += count_errors(child));
        }
        count
    };
    // A count that does not add up (an `old_errors` of another tree) is made afresh.
    match old_errors.checked_sub(count_in(old)) {
        Some(outside) => outside + count_in(new),
        None => count_errors(new),
    }
}

/// Below this many top-level nodes a full count is cheaper than the window (measured
/// with callgrind: a step to the next top-level node costs about 800 instructions, the
/// window about 15,000 and a second count of the changed node, in the old tree).
const FEW_CHILDREN: u32 = 64;

/// `changed`, widened in each tree to the top-level nodes that may differ between them:
/// those touching it (until none touching it reaches beyond it), then in each tree the
/// next one on each side and the nodes beyond them that `may_differ`, then again those
/// touching the result. Both trees' top-level nodes are then each wholly in the window
/// or wholly out of it.
fn touching_window(changed: TextRange, roots: [Node; 2]) -> TextRange {
    let touching = |mut window: TextRange| loop {
        let before = window;
        for root in roots {
            window = around(root, window, false);
        }
        if window == before {
            return window;
        }
    };
    let mut window = touching(changed);
    for root in roots {
        window = around(root, window, true);
    }
    touching(window)
}

/// `window` widened to the children of `root` touching it and, `with_neighbours`, on each
/// side the next one, then those marked changed by the edit or extras (comments).
/// tree-sitter's changed ranges leave out changes of no width, such as a MISSING node
/// that a statement before the edit gains or loses (its lookahead reached the edit, so
/// the edit marked it changed; comments in between are not).
fn around(root: Node, window: TextRange, with_neighbours: bool) -> TextRange {
    let mut range = window;
    let mut include = |node: Node| {
        range.start = range.start.min(node.start_byte() as u32);
        range.end = range.end.max(node.end_byte() as u32);
    };
    let mut cursor = root.walk();
    let found = match window.start.checked_sub(1) {
        None => cursor.goto_first_child(),
        // The first child ending at or after the window's start.
        Some(goal) => cursor.goto_first_child_for_byte(goal as usize).is_some(),
    };
    if with_neighbours {
        let mut back = cursor.clone();
        let before = if found { back.goto_previous_sibling() } else { back.goto_last_child() };
        if before {
            include(back.node());
            while back.goto_previous_sibling() && may_differ(back.node()) {
                include(back.node());
            }
        }
    }
    if !found {
        return range;
    }
    loop {
        let child = cursor.node();
        if child.start_byte() as u32 > window.end {
            if with_neighbours {
                // The next one after the window, and those beyond it that may differ.
                include(child);
                while cursor.goto_next_sibling() && may_differ(cursor.node()) {
                    include(cursor.node());
                }
            }
            break;
        }
        include(child);
        if !cursor.goto_next_sibling() {
            break;
        }
    }
    range
}

/// A child beyond the neighbours of an edit that may still differ after it: marked
/// changed by the edit (in the edited old tree), or an extra the search goes past.
fn may_differ(node: Node) -> bool {
    node.has_changes() || node.is_extra()
}

/// Calls `each` on the children of `node` inside `range` (zero-width ones at its edges
/// included), in order.
pub fn each_child_within<'t>(node: Node<'t>, range: TextRange, mut each: impl FnMut(Node<'t>)) {
    each_child_from(node, range.start, |child| {
        let (start, end) = (child.start_byte() as u32, child.end_byte() as u32);
        if start > range.end {
            return false;
        }
        if start >= range.start && end <= range.end {
            each(child);
        }
        true
    });
}

/// Calls `each` on the children of `node` that end at or after byte `from`, in order,
/// while it returns true. The first is found in logarithmic steps through the tree's
/// balanced lists of repeated items, not by stepping over every earlier child: a flat
/// file's root has thousands, and a keystroke looks at a few.
pub fn each_child_from<'t>(node: Node<'t>, from: u32, mut each: impl FnMut(Node<'t>) -> bool) {
    let mut cursor = node.walk();
    let found = match from.checked_sub(1) {
        None => cursor.goto_first_child(),
        // The first child whose end is beyond `from - 1`.
        Some(goal) => cursor.goto_first_child_for_byte(goal as usize).is_some(),
    };
    if !found {
        return;
    }
    while each(cursor.node()) && cursor.goto_next_sibling() {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::{Document, Lang, TextEdit};

    /// A small deterministic generator (xorshift64*): the same edits on every run.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    /// Pieces of code and of broken code that edits insert.
    const PIECES: &[&str] = &[
        "{", "}", "(", ")", ";", ",", "\n", " ", "fn ", "pub ", "struct S { a: u8 }\n", "let x = ", "impl T for U {",
        "/*", "*/", "\"", "'", "//", "#[derive(Debug)]\n", "mod m {\n", "<", ">", "=>", "match x { _ => 1 }", "x.y()",
        "const C: u32 = 1;\n", "export ", "function f() {", "interface I { a: number }\n", "=", "=>", "class C {",
        "import { a } from './a';\n", "`", "${", "async ", "?", ":", "..", "::", "@", "\u{e9}",
    ];

    /// A file of many small items, as flat generated files are (a few broken ones).
    fn items(lang: Lang, count: usize) -> String {
        let mut text = String::new();
        for i in 0..count {
            let item = match (lang, i % 5) {
                (Lang::Rust, 0) => format!("/// Item {i}.\npub const C_{i}: u32 = {i};\n"),
                (Lang::Rust, 1) => format!("pub fn f_{i}(a: u32) -> u32 {{\n    a + {i}\n}}\n"),
                (Lang::Rust, 2) => format!("pub struct S{i} {{ pub v: u8 }}\n"),
                (Lang::Rust, 3) => format!("impl S{} {{ fn g(&self) {{ let x = (1, 2; }} }}\n", i - 1),
                (Lang::Rust, _) => format!("#[cfg(test)]\nmod m{i} {{ use super::*; }}\n\n"),
                (_, 0) => format!("/** Item {i}. */\nexport const c{i}: number = {i};\n"),
                (_, 1) => format!("export function f{i}(a: number): number {{\n  return a + {i};\n}}\n"),
                (_, 2) => format!("interface I{i} {{ v: string }}\n"),
                (_, 3) => format!("class K{i} {{ m() {{ return [1, 2; }} }}\n"),
                (_, _) => format!("import {{ a{i} }} from './a{i}';\n\n"),
            };
            text.push_str(&item);
        }
        text
    }

    /// After every one of many random edits (inserted pieces, deletions, replacements, at
    /// random places of files with and without errors, in each grammar), the count kept
    /// edit by edit is a full count of the document's tree.
    #[test]
    fn the_count_after_each_edit_is_a_full_count() {
        let mut rng = Rng(0x5EED_0022_C0DE_F00D);
        let mut edits_with_errors = 0;
        for lang in [Lang::Rust, Lang::TypeScript, Lang::Tsx, Lang::JavaScript] {
            for round in 0..6 {
                // A few items (counted whole), then many (counted around each edit).
                let mut doc = Document::new(lang, items(lang, if round == 0 { 12 } else { 80 + round * 50 }));
                assert_eq!(doc.error_count(), count_errors(doc.tree().root_node()));
                for _ in 0..150 {
                    let len = doc.text().len();
                    let start = rng.below(len + 1);
                    let end = match rng.below(4) {
                        0 => start,
                        1 => start + rng.below(3),
                        2 => start + rng.below(40),
                        _ => start + rng.below(120),
                    }
                    .min(len);
                    let text = match rng.below(3) {
                        0 => String::new(),
                        _ => (0..1 + rng.below(3)).map(|_| PIECES[rng.below(PIECES.len())]).collect(),
                    };
                    let before = doc.text().to_string();
                    let edit = TextEdit { range: TextRange::new(start as u32, end as u32), text };
                    doc.apply_edits(std::slice::from_ref(&edit));
                    let full = count_errors(doc.tree().root_node());
                    assert_eq!(doc.error_count(), full, "{lang:?}, round {round}: {before:?} edited by {edit:?}: {:?}\n{}", doc.text(), doc.tree().root_node().to_sexp());
                    edits_with_errors += usize::from(full > 0);
                    // Now and then typing pauses: the tree is parsed afresh.
                    if rng.below(20) == 0 {
                        doc.settle();
                        assert_eq!(doc.error_count(), count_errors(doc.tree().root_node()));
                    }
                }
            }
        }
        assert!(edits_with_errors > 2000, "most edits leave errors to count: {edits_with_errors}");
    }

    /// A keystroke in a file of many items with errors looks at the items around it, not
    /// at the whole file (the window stops widening once the neighbours are in).
    #[test]
    fn the_window_of_a_keystroke_is_a_few_items() {
        let text = format!("{}pub struct Unfinished {{\n", items(Lang::Rust, 500));
        let mut old = crate::lang::parse(Lang::Rust, &text, None);
        assert!(old.root_node().has_error());
        let at = text.find("pub fn f_251").unwrap();
        let mut new_text = text.clone();
        new_text.insert(at + 8, 'x');
        let position = |offset: usize| {
            let line = text[..offset].matches('\n').count();
            tree_sitter::Point { row: line, column: offset - text[..offset].rfind('\n').map_or(0, |n| n + 1) }
        };
        let start = position(at + 8);
        old.edit(&tree_sitter::InputEdit {
            start_byte: at + 8,
            old_end_byte: at + 8,
            new_end_byte: at + 9,
            start_position: start,
            old_end_position: start,
            new_end_position: tree_sitter::Point { row: start.row, column: start.column + 1 },
        });
        let new = crate::lang::parse(Lang::Rust, &new_text, Some(&old));
        let changed = TextRange::new(at as u32 + 8, at as u32 + 9);
        let window = touching_window(changed, [old.root_node(), new.root_node()]);
        assert!(window.start as usize > at - 200 && (window.end as usize) < at + 200, "{window:?} around {at}");
        let old_count = count_errors(crate::lang::parse(Lang::Rust, &text, None).root_node());
        assert_eq!(count_after_edit(old_count, old.root_node(), new.root_node(), changed), count_errors(new.root_node()));
    }

    /// Two edits at once, a full replacement, a text-only document and back: counted whole.
    #[test]
    fn other_changes_are_counted_whole() {
        let mut doc = Document::new(Lang::Rust, items(Lang::Rust, 20));
        assert!(doc.error_count() > 0);
        doc.apply_edits(&[
            TextEdit { range: TextRange::new(0, 0), text: "fn (".to_string() },
            TextEdit { range: TextRange::new(10, 12), text: String::new() },
        ]);
        assert_eq!(doc.error_count(), count_errors(doc.tree().root_node()));
        doc.replace_text("fn ok() {}\n".to_string());
        assert_eq!(doc.error_count(), 0);
        doc.set_parsed(false);
        assert_eq!(doc.error_count(), 0);
        doc.apply_edits(&[TextEdit { range: TextRange::new(0, 0), text: "fn (".to_string() }]);
        assert_eq!(doc.error_count(), 0, "text only: no tree, no errors");
        doc.set_parsed(true);
        assert_eq!(doc.error_count(), count_errors(doc.tree().root_node()));
        assert!(doc.error_count() > 0);
    }
}
