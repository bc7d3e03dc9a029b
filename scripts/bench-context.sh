#!/usr/bin/env bash
# The context benchmark, on an already indexed corpus:
#   `ctxls context` with one file changed before each call (process start, refresh of the
#   changed file, vectors of its chunks, retrieval, JSON): median and p90 per call,
#   against `grep -rwn NAME` on the same tree (one text search of one name) in the same
#   run                                                  target median < 150 ms
#   retrieval for one request inside the server (`cargo bench --bench retrieve`)
#                                                        target median < 10 ms
# Usage: scripts/bench-context.sh [CORPUS_DIR] [RUNS]   (default RUNS: 21)
set -euo pipefail
source "$(dirname "$0")/common.sh"
corpus=${1:-$here/target/bench-corpus}
runs=${2:-21}
lay_out bench/corpus.txt "$corpus"
build
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CTXLS_CACHE_DIR=$work/cache

# Positions: the first line inside every 10th Rust function body (deterministic).
mapfile -t files < <(cd "$corpus" && find . -name '*.rs' -size +4k | sort | sed 's|^\./||' | awk 'NR % 10 == 1' | head -"$runs")
positions=()
for f in "${files[@]}"; do
  line=$(grep -n '^\s*\(pub \)\?fn .*{\s*$' "$corpus/$f" | head -1 | cut -d: -f1 || true)
  [[ -n $line ]] && positions+=("$f:$((line + 1)):5")
done
echo "corpus: $corpus, ${#positions[@]} positions"

start=$(date +%s.%N)
"$bin" context --root "$corpus" "${positions[0]}" > /dev/null
echo "first call (index and embed everything): $(echo "$(date +%s.%N) - $start" | bc) s"

: > "$work/ctx"; : > "$work/grep"
changed=$corpus/${files[-1]}
cp "$changed" "$work/orig"
for i in "${!positions[@]}"; do
  echo "// bench edit $i" >> "$changed"      # one changed file before each call
  pos=${positions[$i]}
  s=$(date +%s.%N); "$bin" context --root "$corpus" "$pos" --budget 1024 > /dev/null; e=$(date +%s.%N)
  echo "$e - $s" | bc >> "$work/ctx"
  name=$(sed -n "$(echo "$pos" | cut -d: -f2)p" "$corpus/${pos%%:*}" | grep -o '[a-z_][a-z_0-9]\{3,\}' | head -1 || echo fn)
  s=$(date +%s.%N); grep -rwn --include='*.rs' --include='*.ts' "$name" "$corpus" > /dev/null || true; e=$(date +%s.%N)
  echo "$e - $s" | bc >> "$work/grep"
done
cp "$work/orig" "$changed"
pct() { sort -g | awk -v p="$1" '{a[NR]=$1} END {i=int(NR*p); if (i<1) i=1; print a[i]}'; }
ctx50=$(pct 0.5 < "$work/ctx"); ctx90=$(pct 0.9 < "$work/ctx"); grep50=$(pct 0.5 < "$work/grep")
awk -v c="$ctx50" -v c9="$ctx90" -v g="$grep50" 'BEGIN {
  printf "ctxls context, one file changed  median %5.0f ms  p90 %5.0f ms (target median < 150 ms)\n", c*1000, c9*1000
  printf "grep -rwn NAME (one name)        median %5.0f ms   ratio %4.2f x grep\n", g*1000, c/g
}'
(cd "$here" && cargo bench --quiet --bench retrieve -- "$corpus" 200 2>/dev/null | sed 's/^/  /')
