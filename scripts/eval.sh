#!/usr/bin/env bash
# The context-quality yardstick over every dev corpus and budget: recall per corpus and the
# task-weighted total (the rules: scripts/eval_score.py; the numbers: docs/context-quality.md).
# Tasks are eval/tasks/*.jsonl, one per corpus of eval/corpora.txt.
# Usage: scripts/eval.sh [CORPORA_DIR] [BUDGETS...]   (default budgets: 512 1024 2048)
# Without CORPORA_DIR the corpora are laid out under target/eval-corpora; a directory given
# gets the corpora it lacks (both need the package registries the first time).
set -euo pipefail
source "$(dirname "$0")/common.sh"
corpora=${1:-$here/target/eval-corpora}
shift || true
budgets=("$@"); [[ ${#budgets[@]} -gt 0 ]] || budgets=(512 1024 2048)
lay_out eval/corpora.txt "$corpora"
build release
budget_args=()
for b in "${budgets[@]}"; do budget_args+=(--budget "$b"); done
printf '%-28s %6s' corpus tasks; for b in "${budgets[@]}"; do printf ' %8s' "r@$b"; done; printf ' %8s %6s\n' "p50 s" errors
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for tasks in "$here"/eval/tasks/*.jsonl; do
  name=$(basename "$tasks" .jsonl)
  out=$(python3 "$here/scripts/eval_score.py" "$tasks" "$corpora/$name" --bin "$bin" "${budget_args[@]}")
  echo "$out" >> "$results"
  python3 - "$name" "$out" "${budgets[@]}" <<'PY'
import json, sys
name, out, budgets = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3:]
row = f"{name:<28} {out['tasks']:>6}" + "".join(f" {out['budgets'][b]['recall']:>8.3f}" for b in budgets)
print(row + f" {out['budgets'][budgets[-1]]['p50_s']:>8.3f} {out['errors']:>6}")
PY
done
python3 - "$results" "${budgets[@]}" <<'PY'
import json, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
budgets = sys.argv[2:]
total = sum(r["tasks"] for r in runs)
row = f"{'all (task-weighted)':<28} {total:>6}"
print(row + "".join(f" {sum(r['budgets'][b]['recall'] * r['tasks'] for r in runs) / total:>8.3f}" for b in budgets))
PY
