#!/usr/bin/env bash
# Lays out the pinned corpora a list names (eval/corpora.txt, bench/corpus.txt,
# bench/corpus-large.txt), each in a directory of its own under DIR:
#   crate NAME VERSION   -> DIR/NAME-VERSION: the crate's published sources (crates.io)
#   npm NAME VERSION     -> DIR/NAME-VERSION with `/` as `__`: its package.json and src/
#                           (npm registry; `.d.ts` files dropped)
# Only the corpora DIR lacks are fetched, so a list that grew adds its new corpora to a
# DIR laid out before. A corpus appears whole or not at all (built beside, then renamed).
# Needs cargo and npm, and the registries the first time (their caches after).
# Usage: scripts/layout-corpora.sh [--missing] LIST DIR
#   --missing: only print the corpora DIR lacks, one per line, and fetch nothing.
set -euo pipefail
only_list=false
if [[ ${1:-} == --missing ]]; then
  only_list=true
  shift
fi
if [[ $# -ne 2 ]]; then
  echo "usage: $0 [--missing] LIST DIR" >&2
  exit 2
fi
list=$1
out=$2
[[ -f $list ]] || { echo "error: no corpus list at $list" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

# The list's entries whose directory is missing.
crates=()
packages=()
while read -r kind name version rest; do
  [[ -z ${kind:-} || $kind == \#* ]] && continue
  if [[ -z ${version:-} || -n ${rest:-} ]]; then
    echo "error: $list: expected \`crate|npm NAME VERSION\`, got \`$kind $name ${version:-} ${rest:-}\`" >&2
    exit 1
  fi
  [[ -d $out/${name//\//__}-$version ]] && continue
  case $kind in
    crate) crates+=("$name $version") ;;
    npm) packages+=("$name $version") ;;
    *) echo "error: $list: unknown kind \`$kind\` (crate or npm)" >&2; exit 1 ;;
  esac
done < "$list"
if $only_list; then
  for entry in ${crates[@]+"${crates[@]}"} ${packages[@]+"${packages[@]}"}; do
    read -r name version <<<"$entry"
    echo "${name//\//__}-$version"
  done
  exit 0
fi
if (( ${#crates[@]} + ${#packages[@]} == 0 )); then
  exit 0
fi
echo "laying out $(( ${#crates[@]} + ${#packages[@]} )) corpora of $list in $out ..." >&2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# place SOURCE NAME: moves a finished corpus into DIR under its final name.
place() {
  rm -rf "$out/.$2.partial"
  mv "$1" "$out/.$2.partial"
  mv "$out/.$2.partial" "$out/$2"
  echo "  $2" >&2
}

if (( ${#crates[@]} )); then
  # A throwaway package depending on every missing crate at its exact version (renamed, so
  # two versions of one crate may coexist); `cargo fetch` downloads the .crate archives.
  mkdir -p "$work/fetch/src"
  echo 'fn main() {}' > "$work/fetch/src/main.rs"
  {
    printf '[package]\nname = "corpora"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n[dependencies]\n'
    i=0
    for entry in "${crates[@]}"; do
      read -r name version <<<"$entry"
      printf 'corpus%d = { package = "%s", version = "=%s" }\n' "$i" "$name" "$version"
      i=$((i + 1))
    done
  } > "$work/fetch/Cargo.toml"
  (cd "$work/fetch" && CARGO_TARGET_DIR=$work/target cargo fetch --quiet)
  cargo_home=${CARGO_HOME:-$HOME/.cargo}
  for entry in "${crates[@]}"; do
    read -r name version <<<"$entry"
    archive=$(find "$cargo_home/registry/cache" -name "$name-$version.crate" -print -quit)
    [[ -n $archive ]] || { echo "error: $name-$version.crate is not in $cargo_home/registry/cache after cargo fetch" >&2; exit 1; }
    mkdir -p "$work/crates"
    tar -xzf "$archive" -C "$work/crates"
    place "$work/crates/$name-$version" "$name-$version"
  done
fi

if (( ${#packages[@]} )); then
  mkdir -p "$work/npm"
  specs=()
  for entry in "${packages[@]}"; do
    read -r name version <<<"$entry"
    specs+=("$name@$version")
  done
  (cd "$work/npm" && echo '{"name": "corpora", "version": "0.0.0", "private": true}' > package.json \
    && npm install --ignore-scripts --no-audit --no-fund --no-save --loglevel=error "${specs[@]}" >&2)
  for entry in "${packages[@]}"; do
    read -r name version <<<"$entry"
    package=$work/npm/node_modules/$name
    installed=$(node -p "require('$package/package.json').version")
    [[ $installed == "$version" ]] || { echo "error: npm installed $name $installed, not $version" >&2; exit 1; }
    [[ -d $package/src ]] || { echo "error: $name $version has no src/ directory" >&2; exit 1; }
    corpus=$work/corpus-${name//\//__}
    mkdir -p "$corpus"
    cp "$package/package.json" "$corpus/"
    cp -r "$package/src" "$corpus/src"
    find "$corpus/src" -name '*.d.ts' -delete
    place "$corpus" "${name//\//__}-$version"
  done
fi
