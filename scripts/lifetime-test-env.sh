#!/bin/sh
# Tools the lifetime tests and recipes run for real (test/cli/lifetimes.test.ts,
# test/docs/recipes.test.ts): git, make, jq, npx (with Node), Debian's python3 with pytest and
# pytest-xdist, PostgreSQL's server binaries, an OpenSSH server, util-linux (setsid, unshare,
# runuser). Installs only what is missing (apt-get, as root); fails loudly otherwise.
set -eu
need=
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for pkg in git make jq python3 python3-pytest python3-pytest-xdist postgresql openssh-server openssh-client util-linux; do
  have "$pkg" || need="$need $pkg"
done
if [ -n "$need" ]; then
  echo "installing:$need"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086 # a list of package names
  apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
# The packaged cluster is not needed (each recipe worker runs its own); sshd's privilege
# separation directory is.
mkdir -p /run/sshd
for tool in git make jq npx /usr/bin/python3 /usr/sbin/sshd setsid runuser unshare; do
  command -v "$tool" >/dev/null || { echo "missing after install: $tool" >&2; exit 1; }
done
ls -d /usr/lib/postgresql/*/bin/pg_ctl >/dev/null
/usr/bin/python3 -c 'import pytest, xdist' || { echo "python3 cannot import pytest and xdist" >&2; exit 1; }
echo "lifetime test tools ready"
