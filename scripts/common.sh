# Shared by the scripts in this directory (sourced, not run).
# Sets `here` (the repository) and `shared` (../shared, or $CTXLS_SHARED).
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
shared=${CTXLS_SHARED:-$here/../shared}

# lay_out LIST DIR: lays out the pinned corpora of LIST (a file in ../shared) in DIR
# unless DIR already holds them (needs the package registries once).
lay_out() {
  if [[ ! -d $2 || -z $(ls -A "$2" 2>/dev/null) ]]; then
    echo "laying out $1 in $2 ..." >&2
    bash "$shared/eval/corpora.sh" "$shared/$1" "$2" >&2
  fi
}

# build [PROFILE]: the optimized binary, as `bin`. PROFILE `profiling` (the default) is the
# release build with line tables, for the benchmarks and `perf`; `release` is what people
# install (no debug info).
build() {
  local profile=${1:-profiling}
  (cd "$here" && cargo build --locked --profile "$profile" --quiet)
  bin=${CARGO_TARGET_DIR:-$here/target}/$profile/ctxls
}
