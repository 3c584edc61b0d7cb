#!/bin/sh
# Tools for the tests that use the real host (test/core/takeover, salvage, edges, host):
# strace (to hold a process inside its write window), python3 (a process whose main thread
# exited, a unix socket file), util-linux (unshare, runuser, mount) and passwd (useradd).
# Idempotent: installs only what is missing, with apt-get. Needs root.
# Exit status: 0 when every tool is there; non-zero with a message otherwise.
set -eu
PATH=$PATH:/usr/sbin:/sbin
export PATH

say() { printf 'host-test-env: %s\n' "$*" >&2; }

missing=
command -v strace >/dev/null 2>&1 || missing="$missing strace"
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
{ command -v unshare && command -v runuser && command -v mount; } >/dev/null 2>&1 || missing="$missing util-linux"
command -v useradd >/dev/null 2>&1 || missing="$missing passwd"
[ -z "$missing" ] && exit 0

[ "${PORTLEASE_NO_APT:-0}" = 1 ] && { say "error: missing packages ($missing) and PORTLEASE_NO_APT=1"; exit 1; }
command -v apt-get >/dev/null 2>&1 || { say "error: missing packages ($missing) and no apt-get"; exit 1; }
[ "$(id -u)" -eq 0 ] || { say "error: must run as root to install$missing"; exit 1; }
say "installing$missing with apt-get"
n=0
# shellcheck disable=SC2086
until DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq &&
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
    --no-install-recommends $missing >/dev/null; do
  n=$((n + 1))
  [ "$n" -ge 3 ] && { say "error: apt-get install$missing failed"; exit 1; }
  sleep 5
done
for t in strace python3 unshare runuser useradd; do
  command -v "$t" >/dev/null 2>&1 || { say "error: $t still missing"; exit 1; }
done
