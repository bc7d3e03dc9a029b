// Lists the visible nodes of a syntax tree in document order, in one pass over the
// tree's subtrees, with what the pattern matcher asks of every node: its kind, field,
// parent, next sibling and whether it is named.
//
// The same nodes, in the same order and with the same fields, as a TSTreeCursor walk
// (goto_first_child / goto_next_sibling / current_field_id), which spends most of its
// time re-deriving its place on every step. It reads tree-sitter's internal structures,
// so it is built against the headers of the exact tree-sitter version in Cargo.lock
// (Cargo.toml pins it; src/lang/flat.rs tests the equivalence on every language).

#include <stdint.h>
#include <stdlib.h>

#include "tree_sitter/api.h"
#include "language.h"
#include "length.h"
#include "subtree.h"
#include "tree.h"

#define NONE UINT32_MAX

_Static_assert(sizeof(TSNode) == 32, "TSNode as tree-sitter 0.27 lays it out");

typedef struct {
  TSNode node;
  uint32_t parent;        // index of the parent; NONE for the first node
  uint32_t next_sibling;  // index of the next visible sibling; 0 when none
  uint16_t kind;          // ts_node_symbol
  uint16_t field;         // ts_tree_cursor_current_field_id
  uint8_t named;          // ts_node_is_named
  uint8_t padding[3];
} CtxlsFlatNode;

_Static_assert(sizeof(CtxlsFlatNode) == 48, "RawNode in flat.rs has the same layout");

// The children of one subtree being visited. A hidden subtree's visible descendants are
// children of its nearest visible ancestor (`parent`), as in a cursor walk.
typedef struct {
  Subtree subtree;
  const TSSymbol *aliases;
  const TSFieldMapEntry *fields;
  const TSFieldMapEntry *fields_end;
  Length position;  // start of the next child
  uint32_t child_index;
  uint32_t structural_index;
  uint32_t parent;
  uint32_t owner;       // the frame that keeps `parent`'s last child
  uint32_t last_child;  // when this frame is its own owner
  uint32_t depth;       // of `parent` below the root
  uint16_t hidden_field;  // the field of this (hidden) subtree, inherited by its children
} Frame;

static uint16_t own_field(const Frame *frame, uint32_t structural_index) {
  for (const TSFieldMapEntry *map = frame->fields; map < frame->fields_end; map++) {
    if (!map->inherited && map->child_index == structural_index) return map->field_id;
  }
  return 0;
}

// ts_node_symbol and ts_node_is_named, for a node not built yet.
static inline void describe(const TSLanguage *language, Subtree subtree, TSSymbol alias, uint16_t *kind, uint8_t *named) {
  TSSymbol symbol = alias ? alias : ts_subtree_symbol(subtree);
  *kind = symbol == ts_builtin_sym_error ? symbol : language->public_symbol_map[symbol];
  if (!alias) {
    *named = ts_subtree_named(subtree);
  } else if (alias == ts_builtin_sym_error) {
    *named = true;
  } else if (alias == ts_builtin_sym_error_repeat) {
    *named = false;
  } else {
    *named = language->symbol_metadata[alias].named;
  }
}

// Sets up `frame` to visit the children of `subtree`, which starts at `position`.
static inline void frame_init(
  Frame *frame, const TSLanguage *language, Subtree subtree, Length position,
  uint32_t parent, uint32_t depth, uint32_t owner, uint16_t hidden_field
) {
  frame->subtree = subtree;
  frame->aliases = ts_language_alias_sequence(language, subtree.ptr->production_id);
  ts_language_field_map(language, subtree.ptr->production_id, &frame->fields, &frame->fields_end);
  frame->position = position;
  frame->child_index = 0;
  frame->structural_index = 0;
  frame->parent = parent;
  frame->owner = owner;
  frame->last_child = NONE;
  frame->depth = depth;
  frame->hidden_field = hidden_field;
}

// Fills `out` (room for `capacity` nodes) with the visible nodes under `root`, `root`
// first, down to `max_depth` levels below it (UINT32_MAX: all). Returns how many there
// are; when that is more than `capacity`, only the first
// `capacity` were written (call again with more room), and 0 when memory ran out.
uint32_t ctxls_flatten(TSNode root, CtxlsFlatNode *out, uint32_t capacity, uint32_t max_depth) {
  const TSTree *tree = root.tree;
  const TSLanguage *language = tree->language;
  Subtree root_subtree = *(const Subtree *)root.id;
  if (capacity > 0) {
    out[0] = (CtxlsFlatNode){root, NONE, 0, 0, 0, 0, {0}};
    describe(language, root_subtree, (TSSymbol)root.context[3], &out[0].kind, &out[0].named);
  }
  uint32_t count = 1;

  if (ts_subtree_child_count(root_subtree) == 0 || max_depth == 0) return count;

  uint32_t stack_capacity = 64, depth = 0;
  Frame *stack = malloc(stack_capacity * sizeof(Frame));
  if (!stack) return 0;
  Length root_position = {root.context[0], {root.context[1], root.context[2]}};
  frame_init(&stack[depth], language, root_subtree, root_position, 0, 0, depth, 0);
  depth++;

  while (depth > 0) {
    Frame *frame = &stack[depth - 1];
    uint32_t child_count = frame->subtree.ptr->child_count;
    if (frame->child_index == child_count) {
      depth--;
      continue;
    }
    const Subtree *children = ts_subtree_children(frame->subtree);
    const Subtree *child = &children[frame->child_index];
    Length position = frame->position;

    bool extra = ts_subtree_extra(*child);
    bool visible = ts_subtree_visible(*child);
    TSSymbol alias = 0;
    uint16_t field = 0;
    if (!extra) {
      if (frame->aliases && frame->aliases[frame->structural_index]) {
        alias = frame->aliases[frame->structural_index];
        visible = true;
      }
      field = own_field(frame, frame->structural_index);
      if (!field) field = frame->hidden_field;
      frame->structural_index++;
    }

    frame->child_index++;
    frame->position = length_add(position, ts_subtree_size(*child));
    if (frame->child_index < child_count) {
      frame->position = length_add(frame->position, ts_subtree_padding(children[frame->child_index]));
    }

    // The frame to push: the children of a visible node, or of a hidden one whose
    // visible descendants belong to this frame's node.
    uint32_t parent, next_depth, owner;
    uint16_t hidden_field;
    if (visible) {
      uint32_t index = count++;
      if (index < capacity) {
        CtxlsFlatNode *flat = &out[index];
        // ts_node_new
        flat->node = (TSNode){{position.bytes, position.extent.row, position.extent.column, alias}, child, tree};
        flat->parent = frame->parent;
        flat->next_sibling = 0;
        flat->field = field;
        describe(language, *child, alias, &flat->kind, &flat->named);
        uint32_t *last = &stack[frame->owner].last_child;
        if (*last != NONE && *last < capacity) out[*last].next_sibling = index;
        *last = index;
      }
      if (ts_subtree_child_count(*child) == 0 || frame->depth + 1 >= max_depth) continue;
      parent = index;
      next_depth = frame->depth + 1;
      owner = depth;
      hidden_field = 0;
    } else if (ts_subtree_visible_child_count(*child) > 0) {
      parent = frame->parent;
      next_depth = frame->depth;
      owner = frame->owner;
      hidden_field = field;
    } else {
      continue;
    }

    if (depth == stack_capacity) {
      stack_capacity *= 2;
      Frame *grown = realloc(stack, stack_capacity * sizeof(Frame));
      if (!grown) {
        free(stack);
        return 0;
      }
      stack = grown;
    }
    frame_init(&stack[depth], language, *child, position, parent, next_depth, owner, hidden_field);
    depth++;
  }
  free(stack);
  return count;
}
