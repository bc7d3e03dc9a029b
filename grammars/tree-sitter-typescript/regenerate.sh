#!/usr/bin/env bash
# Regenerates typescript/src and tsx/src (parser.c, grammar.json, node-types.json) from
# common/define-grammar.js after a change to the grammar; see PATCHES.md.
# Needs node and the package registries once: the tree-sitter CLI 0.24.7 (the version
# that generated upstream's 0.23.2 sources: with it, the unpatched grammar regenerates
# them byte for byte) and the grammar this one extends, tree-sitter-javascript 0.23.1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tools=${CTXLS_GRAMMAR_TOOLS:-$here/../../.tools/grammar}
cli=$tools/bin/tree-sitter
if ! "$cli" --version 2>/dev/null | grep -q '^tree-sitter 0\.24\.7'; then
  cargo install tree-sitter-cli --version 0.24.7 --locked --root "$tools"
fi
js=$here/node_modules/tree-sitter-javascript
if [ ! -f "$js/grammar.js" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent tree-sitter-javascript@0.23.1 >/dev/null && tar xzf ./*.tgz)
  mkdir -p "$js" && cp "$tmp/package/grammar.js" "$tmp/package/package.json" "$js/"
  rm -rf "$tmp"
fi
for dialect in typescript tsx; do
  (cd "$here/$dialect" && "$cli" generate)
done
echo "regenerated: $(cd "$here" && git status --short -- typescript/src tsx/src | wc -l) files changed"
