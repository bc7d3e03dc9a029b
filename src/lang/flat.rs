//! A syntax tree's visible nodes as one array in document order: kind, field, parent, next
//! sibling and namedness of every node, read without a call into tree-sitter. The pattern
//! matcher visits every node of every file it indexes.
//!
//! Two ways to list them, the same array either way (tested): with the `flatten-c` feature
//! (on by default) `flatten.c` lists them in one pass over tree-sitter's subtrees, reading
//! its private structures; without it, a `TreeCursor` walk does, through tree-sitter's
//! public API only (about 5 % more instructions for a whole cold index: the cursor
//! re-derives its place, hidden nodes, aliases and fields, on each step).

use std::cell::OnceCell;
use std::marker::PhantomData;

use tree_sitter::{ffi, Node};

/// `CtxlsFlatNode` in `flatten.c`; the cursor walk fills the same struct.
#[repr(C)]
#[derive(Clone, Copy)]
struct RawNode {
    node: ffi::TSNode,
    parent: u32,
    next_sibling: u32,
    kind: u16,
    field: u16,
    named: u8,
    padding: [u8; 3],
}

#[cfg(feature = "flatten-c")]
extern "C" {
    fn ctxls_flatten(root: ffi::TSNode, out: *mut RawNode, capacity: u32, max_depth: u32) -> u32;
}

/// The visible nodes under a root, the root first (index 0), in the order of a
/// `TreeCursor` walk, each with the field a cursor reports for it.
pub struct FlatTree<'t> {
    nodes: Vec<RawNode>,
    /// Each node's previous sibling (`u32::MAX`: none), made on first use.
    prev_siblings: OnceCell<Vec<u32>>,
    tree: PhantomData<Node<'t>>,
}

impl<'t> FlatTree<'t> {
    pub fn new(root: Node<'t>) -> FlatTree<'t> {
        // tree-sitter keeps the count of visible descendants: one pass fills the array.
        let capacity = u32::try_from(root.descendant_count()).unwrap_or(u32::MAX).max(1);
        FlatTree::listing(root, capacity, u32::MAX)
    }

    /// The nodes at most `max_depth` levels below `root` (0: the root alone).
    pub fn shallow(root: Node<'t>, max_depth: u32) -> FlatTree<'t> {
        let capacity = if max_depth == 0 { 1 } else { 1 + root.child_count().saturating_mul(4) };
        FlatTree::listing(root, capacity, max_depth)
    }

    #[cfg(feature = "flatten-c")]
    fn listing(root: Node<'t>, mut capacity: u32, max_depth: u32) -> FlatTree<'t> {
        loop {
            let mut nodes: Vec<RawNode> = Vec::with_capacity(capacity as usize);
            // SAFETY: `nodes` has room for `capacity` nodes, and `ctxls_flatten` writes at
            // most that many, from the first on, and returns how many there are in all.
            // The root is a live node of a tree that outlives `'t`.
            let count = unsafe { ctxls_flatten(root.into_raw(), nodes.as_mut_ptr(), capacity, max_depth) };
            assert!(count > 0, "out of memory while listing a syntax tree's nodes");
            if count <= capacity {
                // SAFETY: the first `count` nodes were written (see above).
                unsafe { nodes.set_len(count as usize) };
                return FlatTree { nodes, prev_siblings: OnceCell::new(), tree: PhantomData };
            }
            capacity = count;
        }
    }

    /// The listing by a `TreeCursor` walk (tree-sitter's public API only).
    #[cfg(not(feature = "flatten-c"))]
    fn listing(root: Node<'t>, capacity: u32, max_depth: u32) -> FlatTree<'t> {
        FlatTree { nodes: cursor_listing(root, capacity, max_depth), prev_siblings: OnceCell::new(), tree: PhantomData }
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn node(&self, index: usize) -> Node<'t> {
        // SAFETY: a node `ctxls_flatten` made from the tree borrowed for `'t`.
        unsafe { Node::from_raw(self.nodes[index].node) }
    }

    /// `Node::kind_id`.
    pub fn kind(&self, index: usize) -> u16 {
        self.nodes[index].kind
    }

    pub fn is_named(&self, index: usize) -> bool {
        self.nodes[index].named != 0
    }

    /// The field a `TreeCursor` on this node reports.
    pub fn field(&self, index: usize) -> Option<u16> {
        Some(self.nodes[index].field).filter(|&f| f != 0)
    }

    pub fn parent(&self, index: usize) -> Option<usize> {
        Some(self.nodes[index].parent).filter(|&p| p != u32::MAX).map(|p| p as usize)
    }

    /// The visible sibling before the node, named or not (`Node::prev_sibling`).
    pub fn prev_sibling(&self, index: usize) -> Option<usize> {
        let prev = self.prev_siblings.get_or_init(|| {
            let mut prev = vec![u32::MAX; self.nodes.len()];
            for (i, node) in self.nodes.iter().enumerate() {
                if node.next_sibling != 0 {
                    prev[node.next_sibling as usize] = i as u32;
                }
            }
            prev
        });
        Some(prev[index]).filter(|&p| p != u32::MAX).map(|p| p as usize)
    }

    /// Where `node` is in the listing, if it is there: nodes in document order start in
    /// order, so a binary search by start byte finds the few that start where it does.
    pub fn find(&self, node: Node<'t>) -> Option<usize> {
        // A TSNode's `context[0]` is its start byte (what `ts_node_start_byte` returns).
        let start = node.start_byte() as u32;
        let first = self.nodes.partition_point(|n| n.node.context[0] < start);
        let id = node.id();
        self.nodes[first..]
            .iter()
            .take_while(|n| n.node.context[0] == start)
            .position(|n| n.node.id as usize == id)
            .map(|i| first + i)
    }

    /// The node's children (visible, named or not), in order.
    pub fn children(&self, index: usize) -> impl Iterator<Item = usize> + '_ {
        let first = Some(index + 1).filter(|&i| i < self.nodes.len() && self.nodes[i].parent as usize == index);
        std::iter::successors(first, move |&i| Some(self.nodes[i].next_sibling as usize).filter(|&n| n != 0))
    }
}

/// The visible nodes under `root`, at most `max_depth` levels down, as a `TreeCursor` walk
/// meets them: what `flatten.c` lists, through the public API.
#[cfg_attr(feature = "flatten-c", allow(dead_code))]
fn cursor_listing(root: Node<'_>, capacity: u32, max_depth: u32) -> Vec<RawNode> {
    let raw = |node: Node, parent: u32, field: u16| RawNode {
        node: node.into_raw(),
        parent,
        next_sibling: 0,
        kind: node.kind_id(),
        field,
        named: u8::from(node.is_named()),
        padding: [0; 3],
    };
    let mut nodes = Vec::with_capacity(capacity as usize);
    nodes.push(raw(root, u32::MAX, 0));
    // Per level below the root: the parent's index and the last child listed so far.
    let mut levels: Vec<(u32, u32)> = Vec::new();
    let mut cursor = root.walk();
    if max_depth == 0 || !cursor.goto_first_child() {
        return nodes;
    }
    levels.push((0, u32::MAX));
    loop {
        let index = nodes.len() as u32;
        let (parent, previous) = *levels.last().expect("inside the root");
        nodes.push(raw(cursor.node(), parent, cursor.field_id().map_or(0, |f| f.get())));
        if previous != u32::MAX {
            nodes[previous as usize].next_sibling = index;
        }
        levels.last_mut().expect("inside the root").1 = index;
        if levels.len() < max_depth as usize && cursor.goto_first_child() {
            levels.push((index, u32::MAX));
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if levels.len() == 1 || !cursor.goto_parent() {
                return nodes;
            }
            levels.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lang::{parse, Lang};

    /// The cursor walk the array replaces: (node, field, parent, children) for each node.
    fn cursor_walk(root: Node) -> Vec<(Node, Option<u16>, Option<usize>, Vec<usize>)> {
        let mut out: Vec<(Node, Option<u16>, Option<usize>, Vec<usize>)> = Vec::new();
        let mut parents: Vec<usize> = Vec::new();
        let mut cursor = root.walk();
        loop {
            let index = out.len();
            out.push((cursor.node(), cursor.field_id().map(|f| f.get()), parents.last().copied(), Vec::new()));
            if let Some(&parent) = parents.last() {
                out[parent].3.push(index);
            }
            if cursor.goto_first_child() {
                parents.push(index);
                continue;
            }
            loop {
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    return out;
                }
                parents.pop();
            }
        }
    }

    fn assert_same_as_cursor(root: Node) {
        let flat = FlatTree::new(root);
        let walk = cursor_walk(root);
        assert_eq!(flat.len(), walk.len(), "node count under {}", root.kind());
        for (i, (node, field, parent, children)) in walk.iter().enumerate() {
            let at = || format!("node {i} ({} at {:?})", node.kind(), node.start_position());
            assert_eq!(flat.node(i), *node, "{}", at());
            assert_eq!(flat.node(i).start_position(), node.start_position(), "{}", at());
            assert_eq!(flat.node(i).kind_id(), node.kind_id(), "{}", at());
            assert_eq!(flat.kind(i), node.kind_id(), "{}", at());
            assert_eq!(flat.is_named(i), node.is_named(), "{}", at());
            assert_eq!(flat.field(i), *field, "{}", at());
            assert_eq!(flat.parent(i), *parent, "{}", at());
            assert_eq!(flat.children(i).collect::<Vec<_>>(), *children, "{}", at());
            assert_eq!(flat.find(*node), Some(i), "{}", at());
            // What tree-sitter answers by walking down from the root (quadratic on the
            // 20,000-level tree, so only on the others).
            if i > 0 && walk.len() < 10_000 {
                assert_eq!(flat.parent(i).map(|p| flat.node(p)), node.parent(), "{}", at());
                assert_eq!(flat.prev_sibling(i).map(|p| flat.node(p)), node.prev_sibling(), "{}", at());
            }
        }
    }

    /// With the C listing built in, the cursor listing (the fallback) must give the same
    /// array, field for field.
    #[cfg(feature = "flatten-c")]
    #[test]
    fn the_cursor_listing_is_the_c_listing() {
        let text = "mod m { fn f(a: u8) -> u8 { let b = a + 1; b } struct S { x: u8 } }\nfn g() {}\nfn broken( { let = ; }\n";
        let tree = parse(Lang::Rust, text, None);
        for depth in [0, 1, 2, 3, u32::MAX] {
            let c = FlatTree::listing(tree.root_node(), 1, depth);
            let walked = cursor_listing(tree.root_node(), 1, depth);
            assert_eq!(c.nodes.len(), walked.len(), "depth {depth}");
            for (a, b) in c.nodes.iter().zip(&walked) {
                assert_eq!((a.node.id, a.parent, a.next_sibling, a.kind, a.field, a.named), (b.node.id, b.parent, b.next_sibling, b.kind, b.field, b.named), "depth {depth}");
            }
        }
    }

    #[test]
    fn raw_node_layout_matches_the_c_struct() {
        assert_eq!(std::mem::size_of::<RawNode>(), 48);
    }

    #[test]
    fn same_nodes_fields_and_structure_as_a_cursor_walk() {
        let rust = "//! crate doc\n/// doc\n#[derive(Debug)]\npub struct P<T: Clone> { x: T, pub y: (u8, i32) }\n\
            impl<T> P<T> where T: Clone {\n    fn f(&self, a: &[u8]) -> Option<T> { let v = a.iter().map(|b| *b + 1).collect::<Vec<_>>(); \
            match v.len() { 0 => None, n if n > 2 => Some(self.x.clone()), _ => { /* c */ None } } }\n}\n\
            macro_rules! m { ($e:expr) => { $e + 1 }; }\nmod inner { use super::{P as Q, *}; fn g() -> u8 { m!(1) } }\n\
            fn broken( { let = ; }\nenum E { A(u8), B { c: String } }\n";
        let ts = "import { a, b as c } from './x';\nexport * from './y';\n/** doc */\nexport class K<T> extends B implements I {\n  \
            private readonly x: number = 1;\n  constructor(public y: string) { super(); }\n  m<U>(u: U): T | U { return this.x > 1 ? u : (null as any); }\n}\n\
            interface I { f(): void; g?: <V>(v: V) => V }\ntype T = { [k: string]: number } & Partial<K<string>>;\n\
            enum Color { Red = 1, Green }\nnamespace N { export const z = `t${1 + 2}`; }\nconst o = { a, ...rest, [k]: 1, m() {} };\n\
            function broken(a: , { }\nlet q = a?.b!.c ?? d;\n";
        let tsx = "const C = (p: { n: string }) => <div className=\"x\" onClick={() => p.n}>{p.n}<br /></div>;\nexport default C;\n";
        let js = "export function f(a, ...b) { for (const x of b) { yield* x; } }\nclass A { #p = 1; static s() { return this.#p; } }\nlabel: while (1) break label;\n";
        for (lang, text) in [(Lang::Rust, rust), (Lang::TypeScript, ts), (Lang::Tsx, tsx), (Lang::JavaScript, js)] {
            let tree = parse(lang, text, None);
            assert_same_as_cursor(tree.root_node());
            // From an inner node too, as incremental extraction does for one item.
            let mut cursor = tree.walk();
            for child in tree.root_node().children(&mut cursor) {
                assert_same_as_cursor(child);
            }
        }
    }

    #[test]
    fn a_shallow_listing_is_the_first_levels_of_the_whole() {
        let text = "mod m { fn f(a: u8) -> u8 { let b = a + 1; b } struct S { x: u8 } }\nfn g() {}\n";
        let tree = parse(Lang::Rust, text, None);
        let whole = FlatTree::new(tree.root_node());
        let depth = |i: usize| std::iter::successors(whole.parent(i), |&p| whole.parent(p)).count() as u32;
        for max_depth in 0..8 {
            let shallow = FlatTree::shallow(tree.root_node(), max_depth);
            let expected: Vec<usize> = (0..whole.len()).filter(|&i| depth(i) <= max_depth).collect();
            assert_eq!(shallow.len(), expected.len(), "depth {max_depth}");
            for (i, &w) in expected.iter().enumerate() {
                assert_eq!(shallow.node(i), whole.node(w));
                assert_eq!(shallow.field(i), whole.field(w));
                assert_eq!(shallow.parent(i).map(|p| expected[p]), whole.parent(w));
                let children: Vec<usize> = whole.children(w).filter(|&c| depth(c) <= max_depth).collect();
                assert_eq!(shallow.children(i).map(|c| expected[c]).collect::<Vec<_>>(), children);
            }
        }
    }

    #[test]
    fn a_leaf_and_a_deep_tree() {
        let tree = parse(Lang::Rust, "x", None);
        let leaf = tree.root_node().descendant_for_byte_range(0, 1).unwrap();
        assert_eq!(FlatTree::new(leaf).len(), 1);
        // Deeper than any recursion would like: 20,000 nested binary expressions.
        let text = format!("fn f() -> u32 {{ {} }}", vec!["1"; 20_000].join(" + "));
        let tree = parse(Lang::Rust, &text, None);
        assert_same_as_cursor(tree.root_node());
    }
}
