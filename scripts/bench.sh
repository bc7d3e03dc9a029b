#!/usr/bin/env bash
# The index benchmark: ctxls against `ctags -R` on the same tree, in one run.
# Prints medians of RUNS interleaved rounds (default 15) and the ratios the foundation
# issue and issue 22 set targets for:
#   cold index (empty cache) / ctags        target <= 1.3 (<= 1.8 on the large corpus)
#   warm restart (nothing changed) / ctags  target <= 0.25
#   peak memory of the cold run             target <= 400 MiB
#   one keystroke in a 2,000-line file      target median < 2 ms
# Usage: scripts/bench.sh [--large | --list LIST] [CORPUS_DIR] [RUNS]
# The corpus is that of bench/corpus.txt (1.17 million lines), or with --large that of
# bench/corpus-large.txt (4.34 million lines), or of any LIST in the repository; it is
# laid out in CORPUS_DIR (default target/bench-corpus, target/bench-corpus-large) where
# missing (needs the package registries once). The binary is the `profiling`
# build (release with line tables: `perf record` on it names functions and lines).
set -euo pipefail
source "$(dirname "$0")/common.sh"
corpus_list "$@"
set -- "${rest[@]+"${rest[@]}"}"
corpus=${1:-$default_corpus}
runs=${2:-15}

lay_out "$list" "$corpus"
cold_target=1.3
[[ $list == bench/corpus-large.txt ]] && cold_target=1.8
command -v ctags >/dev/null || { echo "ctags missing: apt-get install universal-ctags" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "/usr/bin/time missing: apt-get install time" >&2; exit 1; }

build
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# Runs a command under /usr/bin/time; appends "seconds maxrss_kb" to the named file.
timed() { local out=$1; shift; /usr/bin/time -f "%e %M" -o "$cache/t" "$@" >/dev/null 2>&1 || true; tail -1 "$cache/t" >> "$out"; }

lines=$(find "$corpus" -type f \( -name '*.rs' -o -name '*.ts' -o -name '*.tsx' -o -name '*.js' -o -name '*.mts' -o -name '*.cts' -o -name '*.jsx' -o -name '*.mjs' -o -name '*.cjs' \) -print0 | xargs -0 cat | wc -l)
echo "corpus: $corpus ($lines lines), $runs runs each, $(nproc) cores"

: > "$cache/ctags"; : > "$cache/cold"; : > "$cache/warm"; : > "$cache/load"
for _ in $(seq "$runs"); do
  (cd "$corpus" && timed "$cache/ctags" ctags -R --languages=Rust,TypeScript --fields=+neKS --extras=+q -f "$cache/tags" .)
  rm -rf "$cache/db"
  CTXLS_CACHE_DIR=$cache/db timed "$cache/cold" "$bin" index --root "$corpus" --json
  CTXLS_CACHE_DIR=$cache/db timed "$cache/warm" "$bin" index --root "$corpus" --json
  # What a server start costs: every file's facts decoded into memory, then one query.
  CTXLS_CACHE_DIR=$cache/db timed "$cache/load" "$bin" symbols ctxls_bench_no_such_symbol --root "$corpus"
done
CTXLS_CACHE_DIR=$cache/db "$bin" index --root "$corpus" --json > "$cache/summary"
parse_s=$(cd "$here" && cargo bench --quiet --profile profiling --bench parse_floor -- "$corpus" 2>/dev/null | tail -1)

ctags_s=$(cut -d' ' -f1 "$cache/ctags" | median)
ctags_mb=$(cut -d' ' -f2 "$cache/ctags" | median)
cold_s=$(cut -d' ' -f1 "$cache/cold" | median)
cold_peak_kb=$(cut -d' ' -f2 "$cache/cold" | sort -g | tail -1)
warm_s=$(cut -d' ' -f1 "$cache/warm" | median)
# Each round runs ctags and the cold index back to back, so their ratio sees the same
# machine load; the median of those paired ratios is steadier on a noisy machine than
# the ratio of the two medians (both are printed).
cold_paired=$(paste -d' ' "$cache/cold" "$cache/ctags" | awk '{print $1/$3}' | median)
# The spread of those ratios: lowest, quartiles, highest (this machine's noise in view).
cold_spread=$(paste -d' ' "$cache/cold" "$cache/ctags" | awk '{print $1/$3}' | sort -g \
  | awk '{a[NR]=$1} END {printf "%.2f / %.2f / %.2f / %.2f", a[1], a[int((NR+3)/4)], a[int((3*NR+1)/4)], a[NR]}')
load_s=$(cut -d' ' -f1 "$cache/load" | median)
load_mb=$(cut -d' ' -f2 "$cache/load" | median)

echo "index: $(cat "$cache/summary")"
awk -v c="$ctags_s" -v cm="$ctags_mb" -v k="$cold_s" -v kr="$cold_paired" -v ks="$cold_spread" -v kp="$cold_peak_kb" -v w="$warm_s" -v p="$parse_s" -v l="$load_s" -v lm="$load_mb" -v ct="$cold_target" 'BEGIN {
  printf "ctags -R            median %6.2f s   peak %4.0f MiB\n", c, cm/1024
  printf "parse only (floor)  median %6.2f s   ratio %5.2f x ctags (tree-sitter alone, all cores)\n", p, p/c
  printf "ctxls cold index    median %6.2f s   ratio %5.2f x ctags (target <= %s)\n", k, k/c, ct
  printf "  median of the rounds\x27 ratios (each round: ctags, then the cold index)  %5.2f x\n", kr
  printf "  those ratios: lowest / lower quartile / upper quartile / highest  %s\n", ks
  printf "ctxls warm restart  median %6.2f s   ratio %5.2f x ctags (target <= 0.25)\n", w, w/c
  printf "  with all facts loaded (a server start) %5.2f s   ratio %5.2f x ctags, %4.0f MiB\n", l, l/c, lm/1024
  printf "ctxls cold peak memory   %6.0f MiB (target <= 400)\n", kp/1024
}'
(cd "$here" && CTXLS_BENCH_CORPUS=$corpus cargo bench --quiet --profile profiling --bench keystroke 2>/dev/null | grep keystroke) \
  | sed 's/$/ (target median < 2 ms)/'
