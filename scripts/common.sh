# Shared by the scripts in this directory (sourced, not run). Sets `here` (the repository).
# Everything the scripts read is in the repository: corpus lists (eval/corpora.txt,
# bench/corpus.txt, bench/corpus-large.txt), tasks (eval/tasks/) and the code that lays
# the corpora out and scores them; only the package registries are reached, once.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# lay_out LIST DIR: lays out in DIR the pinned corpora of LIST (a path in the repository)
# that DIR lacks, so a list that grew completes a directory laid out before.
lay_out() {
  bash "$here/scripts/layout-corpora.sh" "$here/$1" "$2" >&2
}

# corpus_list ARGS...: the benchmark's corpus list from its options (`--large`: the
# 4.34-million-line list, `--list LIST`: any list in the repository, else bench/corpus.txt)
# as `list`, its default directory as `default_corpus`, and the other arguments as `rest`.
corpus_list() {
  list=bench/corpus.txt
  default_corpus=$here/target/bench-corpus
  rest=()
  while (( $# )); do
    case $1 in
      --large) list=bench/corpus-large.txt; default_corpus=$here/target/bench-corpus-large ;;
      --list)
        [[ $# -ge 2 ]] || { echo "--list needs a corpus list" >&2; exit 2; }
        list=$2; default_corpus=$here/target/bench-corpus-$(basename "$2" .txt); shift ;;
      *) rest+=("$1") ;;
    esac
    shift
  done
}

# build [PROFILE]: the optimized binary, as `bin`. PROFILE `profiling` (the default) is the
# release build with line tables, for the benchmarks and `perf`; `release` is what people
# install (no debug info).
build() {
  local profile=${1:-profiling}
  (cd "$here" && cargo build --locked --profile "$profile" --quiet)
  bin=${CARGO_TARGET_DIR:-$here/target}/$profile/ctxls
}
