#!/usr/bin/env bash
# The context-quality yardstick over every dev corpus and budget: recall per corpus and
# the task-weighted total, as in ../shared/eval/README.md.
# Usage: scripts/eval.sh [CORPORA_DIR] [BUDGETS...]   (default budgets: 512 1024 2048)
# Without CORPORA_DIR the corpora are laid out under target/eval-corpora (registries once).
set -euo pipefail
source "$(dirname "$0")/common.sh"
corpora=${1:-$here/target/eval-corpora}
shift || true
budgets=("$@"); [[ ${#budgets[@]} -gt 0 ]] || budgets=(512 1024 2048)
lay_out eval/corpora.txt "$corpora"
build
printf '%-28s %6s' corpus tasks; for b in "${budgets[@]}"; do printf ' %8s' "r@$b"; done; printf ' %8s\n' "p50 s"
declare -A sum; total=0
for tasks in "$shared"/eval/tasks/*.jsonl; do
  name=$(basename "$tasks" .jsonl); n=$(grep -c . "$tasks")
  printf '%-28s %6d' "$name" "$n"; total=$((total + n)); p50=""
  for b in "${budgets[@]}"; do
    out=$(python3 "$shared/eval/score.py" "$tasks" "$corpora/$name" --retriever ctxls --bin "$bin" --budget "$b" --json)
    r=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["recall"])' "$out")
    p50=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["p50_s"])' "$out")
    sum[$b]=$(python3 -c "print(${sum[$b]:-0} + $r * $n)")
    printf ' %8.3f' "$r"
  done
  printf ' %8s\n' "$p50"
done
printf '%-28s %6d' "all (task-weighted)" "$total"
for b in "${budgets[@]}"; do printf ' %8.3f' "$(python3 -c "print(${sum[$b]} / $total)")"; done; printf '\n'
