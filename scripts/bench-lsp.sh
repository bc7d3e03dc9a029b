#!/usr/bin/env bash
# The server benchmark (issue "In the editor"): the built binary over stdio on the
# performance corpus, the model a scripted server answering at once. Per run: inline
# completion overhead (invoked, and automatic beyond the debounce) against the bare model
# call, hover, an edit while a completion waits on the model, resident memory.
#                                       targets: overhead < 5 ms, hover < 5 ms,
#                                       edit < 5 ms, memory < 500 MiB
# Usage: scripts/bench-lsp.sh [--large | --list LIST] [CORPUS_DIR] [RUNS]   (default RUNS: 3)
# The corpus as in scripts/bench.sh: bench/corpus.txt, or bench/corpus-large.txt.
set -euo pipefail
source "$(dirname "$0")/common.sh"
corpus_list "$@"
set -- "${rest[@]+"${rest[@]}"}"
corpus=${1:-$default_corpus}
runs=${2:-3}
lay_out "$list" "$corpus"
for run in $(seq "$runs"); do
  echo "run $run:"
  (cd "$here" && cargo bench --quiet --profile profiling --bench lsp -- "$corpus" 40 2>/dev/null | sed 's/^/  /')
done
