#!/usr/bin/env bash
# The VS Code extension in a real VS Code: code-server 4.100.3 (VS Code 1.100.3, in the
# browser) with the packaged .vsix and the ctxls binary, a throwaway profile and workspace,
# a scripted model server on 127.0.0.1, driven by headless Chromium through playwright-core
# (scripts/vscode-real/drive.js; the model is scripts/vscode-real/model.js). Each step is checked in the UI and leaves a
# screenshot in target/vscode-real/; a failure names its step.
#
# Installs once per machine, cached outside the clone under ~/.cache/ctxls-test (or
# $CTXLS_TEST_CACHE): code-server from the npm registry with its postinstall done by hand
# (it downloads ripgrep from the internet: Debian's rg is used instead), playwright-core,
# and from Debian chromium, ripgrep and the headers code-server's native modules build with.
#
# Usage: scripts/test-vscode-real.sh             (needs target/debug/ctxls, or $CTXLS_BIN)
#        scripts/test-vscode-real.sh --prepare   (only install)
set -euo pipefail
source "$(dirname "$0")/common.sh"
source "$here/scripts/real-parts-cache.sh"

code_server_version=4.100.3
playwright_version=1.65.2
cs_dir=$cache/code-server-$code_server_version
code_server=$cs_dir/node_modules/.bin/code-server
pw_dir=$cache/playwright-core-$playwright_version
chromium_bin=/usr/lib/chromium/chromium

install_code_server() {
  if [[ -f $cs_dir/.installed ]] && "$code_server" --version >/dev/null 2>&1; then return 0; fi
  need_apt chromium ripgrep libkrb5-dev libx11-dev libxkbfile-dev python3 make g++
  command -v npm >/dev/null 2>&1 || need_apt nodejs npm
  local t0=$SECONDS log=$cache/code-server-install.log
  echo "installing code-server $code_server_version into $cs_dir (once per machine, about 5 min; log: $log) ..." >&2
  rm -rf "$cs_dir" && mkdir -p "$cs_dir/pack"
  (
    set -e
    # node-gyp builds against Debian's Node headers (no header download).
    export npm_config_nodedir=/usr npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
    cd "$cs_dir/pack" && npm pack "code-server@$code_server_version"
    cd "$cs_dir" && npm install --prefix "$cs_dir" --ignore-scripts "$cs_dir/pack/code-server-$code_server_version.tgz"
    # What code-server's postinstall.sh does, without its downloads:
    cd "$cs_dir/node_modules/code-server/lib/vscode"
    npm install --omit=dev --ignore-scripts
    # node-pty's last step (a compile_commands.json) fails offline; pty.node is built by then.
    npm rebuild @parcel/watcher @vscode/deviceid @vscode/spdlog kerberos native-watchdog node-pty || true
    node -e 'require("./node_modules/node-pty/build/Release/pty.node")'
    mkdir -p node_modules/@vscode/ripgrep/bin && cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
    ln -sfn node_modules node_modules.asar
    (cd bin/remote-cli && ln -sfn code-linux.sh code-server)
    (cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
    (cd extensions && npm install --omit=dev)
    cd "$cs_dir/node_modules/argon2" && npx --no-install node-pre-gyp rebuild --build-from-source
  ) >"$log" 2>&1 || { tail -30 "$log" >&2; die "code-server $code_server_version did not install (log: $log)"; }
  "$code_server" --version >/dev/null 2>&1 || die "the installed code-server does not run ($code_server --version)"
  touch "$cs_dir/.installed"
  echo "code-server installed in $(( SECONDS - t0 )) s" >&2
}

install_playwright() {
  [[ -f $pw_dir/node_modules/playwright-core/package.json ]] && return 0
  mkdir -p "$pw_dir"
  (cd "$pw_dir" && npm install --no-audit --no-fund --prefix "$pw_dir" "playwright-core@$playwright_version") >&2 \
    || die "could not install playwright-core@$playwright_version"
}

install_code_server
install_playwright
[[ -x $chromium_bin ]] || die "no Chromium at $chromium_bin (apt-get install chromium)"
[[ ${1:-} == --prepare ]] && exit 0

CTXLS_BIN=${CTXLS_BIN:-$here/target/debug/ctxls}
[[ -x $CTXLS_BIN ]] || die "no ctxls binary at $CTXLS_BIN: run \`cargo build\` first or set CTXLS_BIN"
shots=$here/target/vscode-real
rm -rf "$shots" && mkdir -p "$shots"
work=$(mktemp -d "${TMPDIR:-/tmp}/ctxls-vscode-real.XXXXXX")
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
t0=$SECONDS

# The .vsix, with the binary under test bundled as bin/ctxls (a copy of the extension's
# sources, so the tree stays as it is).
ext=$work/ext
mkdir -p "$ext/bin"
(cd "$here/editors/vscode" && cp -r package.json package-lock.json tsconfig.json README.md LICENSE .vscodeignore src "$ext/")
if [[ ! -d $here/editors/vscode/node_modules/@vscode/vsce ]]; then
  (cd "$here/editors/vscode" && npm ci --no-audit --no-fund) >&2 || die "npm ci failed in editors/vscode"
fi
ln -s "$here/editors/vscode/node_modules" "$ext/node_modules"
cp "$CTXLS_BIN" "$ext/bin/ctxls"
version=$(node -p 'require(process.argv[1]).version' "$ext/package.json")
(cd "$ext" && npm run --silent bundle && npx --no-install vsce package --no-dependencies --allow-missing-repository -o "$work/ctxls.vsix") \
  >"$work/package.log" 2>&1 || { cat "$work/package.log" >&2; die "packaging the .vsix failed"; }
echo "packaged ctxls $version with $CTXLS_BIN ($(( $(stat -c %s "$work/ctxls.vsix") / 1048576 )) MB)" >&2

# A throwaway profile and workspace.
mkdir -p "$work/ws/src" "$work/ud/User" "$work/cache" "$work/xdg"
cat >"$work/ws/src/lib.rs" <<'RS'
mod geometry;
use geometry::Point;
/// Adds two points.
pub fn add(a: Point, b: Point) -> Point {
    Point { x: a.x + b.x, y: a.y + b.y }
}
// AI: return the point at the origin
pub fn origin() -> Point {
}
RS
printf '/// A point on the plane.\npub struct Point { pub x: i32, pub y: i32 }\n' >"$work/ws/src/geometry.rs"
printf '[package]\nname = "shapes"\nversion = "0.1.0"\nedition = "2021"\n' >"$work/ws/Cargo.toml"

node "$here/scripts/vscode-real/model.js" "$work/model.port" &
pids+=($!)
for (( i = 0; i < 100; i++ )); do [[ -s $work/model.port ]] && break; sleep 0.1; done
[[ -s $work/model.port ]] || die "the scripted model did not start"
model=http://127.0.0.1:$(cat "$work/model.port")
cat >"$work/ud/User/settings.json" <<JSON
{
  "security.workspace.trust.enabled": false,
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "telemetry.telemetryLevel": "off",
  "extensions.autoUpdate": false,
  "extensions.autoCheckUpdates": false,
  "update.mode": "none",
  "editor.inlineSuggest.enabled": true,
  "ctxls.server.cacheDir": "$work/cache",
  "ctxls.llm.provider": "openai",
  "ctxls.llm.base_url": "$model/v1",
  "ctxls.llm.model": "scripted",
  "ctxls.llm.retries": 0,
  "ctxls.llm.timeout_first_token_ms": 5000,
  "ctxls.trace.server": "messages"
}
JSON

"$code_server" --user-data-dir "$work/ud" --extensions-dir "$work/exts" --install-extension "$work/ctxls.vsix" \
  >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; die "code-server could not install the .vsix"; }
port=$(free_port)
XDG_CONFIG_HOME=$work/xdg XDG_DATA_HOME=$work/xdg CTXLS_CACHE_DIR=$work/cache \
  "$code_server" --log trace --auth none --bind-addr "127.0.0.1:$port" --disable-telemetry --disable-update-check \
  --disable-workspace-trust --user-data-dir "$work/ud" --extensions-dir "$work/exts" "$work/ws" \
  >"$work/code-server.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$port/healthz" 120 "${pids[-1]}" "code-server"
echo "code-server on 127.0.0.1:$port, model on $model; ready after $(( SECONDS - t0 )) s" >&2

# The extension's output (its log, the server's stderr and the LSP messages traced) as
# VS Code writes it under the profile's logs/: kept beside the screenshots.
keep_logs() {
  mkdir -p "$shots/logs"
  find "$work/ud/logs" -type f -path '*/ctxls.ctxls/*' -exec cp {} "$shots/logs/" \; 2>/dev/null || true
}

status=0
URL="http://127.0.0.1:$port/?folder=$work/ws" WS=$work/ws CACHE=$work/cache SHOTS=$shots MODEL=$model CHROMIUM=$chromium_bin \
  PLAYWRIGHT=$pw_dir/node_modules/playwright-core timeout -k 10 600 node "$here/scripts/vscode-real/drive.js" || status=$?
keep_logs
if (( status != 0 )); then
  echo "--- code-server log (last 40 lines) ---" >&2
  tail -40 "$work/code-server.log" >&2
  die "the real VS Code suite failed (exit $status); screenshots in $shots"
fi
echo "real VS Code suite passed in $(( SECONDS - t0 )) s; screenshots in $shots" >&2
