#!/usr/bin/env bash
# The VS Code extension's checks (editors/vscode): installs Node.js and npm when the
# machine has no `node` (Debian: apt-get, as root or through sudo), then `npm ci`, the
# typecheck and bundle (`npm run build`) and `npm test` (unit tests, and the protocol
# test that drives the ctxls binary over stdio with a scripted model server).
#
# The binary is $CTXLS_BIN, else target/debug/ctxls of this repository (build it first:
# `cargo build`). Needs the npm registry for `npm ci` unless ~/.npm already has the
# packages.
# Usage: scripts/test-vscode.sh
set -euo pipefail
source "$(dirname "$0")/common.sh"

if ! command -v node >/dev/null 2>&1; then
  echo "node is missing: installing nodejs and npm with apt-get" >&2
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "error: installing nodejs needs root or sudo" >&2; exit 1; }
    sudo=sudo
  fi
  $sudo apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if (( node_major < 18 )); then
  echo "error: Node.js 18 or newer is needed (found $(node --version))" >&2
  exit 1
elif (( node_major < 20 )); then
  echo "note: Node.js $(node --version): the tests run, but \`npm run package\` (vsce) needs Node 20" >&2
fi
command -v npm >/dev/null 2>&1 || { echo "error: npm is missing (apt-get install npm)" >&2; exit 1; }

export CTXLS_BIN=${CTXLS_BIN:-$here/target/debug/ctxls}
if [[ ! -x $CTXLS_BIN ]]; then
  echo "error: no ctxls binary at $CTXLS_BIN: run \`cargo build\` first or set CTXLS_BIN" >&2
  exit 1
fi
echo "ctxls binary: $CTXLS_BIN ($("$CTXLS_BIN" --version))" >&2

cd "$here/editors/vscode"
# A clean install is quiet: every dependency's install script is reviewed in package.json's
# `allowScripts` (npm 11 skips the others and warns about them).
if ! install_log=$(npm ci --no-audit --no-fund 2>&1); then
  echo "$install_log" >&2
  exit 1
fi
echo "$install_log"
if grep -q 'not yet covered by allowScripts' <<<"$install_log"; then
  echo "error: npm ci warns about install scripts: list them in editors/vscode/package.json's allowScripts (false unless the build needs them)" >&2
  exit 1
fi
npm run build
npm test
