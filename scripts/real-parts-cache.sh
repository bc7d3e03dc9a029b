# Shared by test-real-model.sh (sourced, not run): the cached real parts outside the clone.
# `cache` is $CTXLS_TEST_CACHE, else ~/.cache/ctxls-test (XDG_CACHE_HOME honoured).
cache=${CTXLS_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ctxls-test}

die() { echo "error: $*" >&2; exit 1; }

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
