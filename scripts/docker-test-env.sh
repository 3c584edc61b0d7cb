#!/bin/sh
# Prepare a real container engine for the container-step tests. Idempotent: run it as often
# as you like; it only does what is missing.
#
#   1. Debian docker.io + busybox-static (apt-get update first), when missing.
#   2. dockerd --storage-driver=vfs in the background, when no daemon answers; wait for it.
#   3. The local test image portlease-test/busybox:latest (nothing can be pulled here):
#      `docker import` of a tiny rootfs holding busybox-static with httpd, nc, sh symlinks.
#   4. The same image for podman, when podman is installed (default_ulimits = [] in
#      /etc/containers/containers.conf; tests run podman with --runtime runc).
#
# Needs root (apt-get, dockerd). Set PORTLEASE_NO_APT=1 to skip installing packages, and
# PORTLEASE_WITH_PODMAN=1 to install podman (+ runc) as well.
# Exit status: 0 when docker works and the image exists; non-zero with a message otherwise.
set -eu

IMAGE=portlease-test/busybox:latest
LOG=${PORTLEASE_DOCKERD_LOG:-/var/log/portlease-dockerd.log}
WAIT_SECONDS=${PORTLEASE_DOCKERD_WAIT:-120}

say() { printf 'docker-test-env: %s\n' "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

# Debian's dockerd, not another client earlier in PATH, decides the daemon; any docker CLI will do.
PATH=$PATH:/usr/sbin:/sbin
export PATH

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"; else
    die "must run as root (or with passwordless sudo) to run: $*"
  fi
}

# apt-get on a host where another apt-get may be running (a background install): retry on the lock.
apt_install() {
  [ "${PORTLEASE_NO_APT:-0}" = 1 ] && die "missing packages ($*) and PORTLEASE_NO_APT=1"
  command -v apt-get >/dev/null 2>&1 || die "missing packages ($*) and no apt-get to install them"
  say "installing $* with apt-get"
  n=0
  until as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq &&
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
      --no-install-recommends "$@" >/dev/null; do
    n=$((n + 1))
    [ "$n" -ge 3 ] && die "apt-get install $* failed"
    sleep 5
  done
}

busybox_static() {
  for b in /bin/busybox /usr/bin/busybox; do
    if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then
      echo "$b"
      return 0
    fi
  done
  return 1
}

# --- 1. packages --------------------------------------------------------------------------
missing=
command -v dockerd >/dev/null 2>&1 || missing="$missing docker.io"
busybox_static >/dev/null || missing="$missing busybox-static"
# PORTLEASE_WITH_PODMAN=1 (as .ci/run sets): install podman too, so its tests run.
if [ "${PORTLEASE_WITH_PODMAN:-0}" = 1 ] && ! command -v podman >/dev/null 2>&1; then
  missing="$missing podman runc"
fi
if [ -n "$missing" ]; then
  # shellcheck disable=SC2086
  apt_install $missing
fi
command -v docker >/dev/null 2>&1 || die "no docker CLI after installing docker.io"
BUSYBOX=$(busybox_static) || die "no statically linked busybox after installing busybox-static"

# --- 2. the daemon ------------------------------------------------------------------------
docker_ok() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
if ! docker_ok; then
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    # A dockerd killed with its pid namespace (as a CI run under `unshare -p` ends) leaves its
    # pid files: a new dockerd refuses to start over its own, and takes containerd's pid,
    # now another process's, for a containerd that still runs, and waits for it in vain.
    if [ -f /var/run/docker.pid ]; then
      say "no dockerd runs: removing its stale /var/run/docker.pid"
      as_root rm -f /var/run/docker.pid
    fi
    CONTAINERD_PID=/var/run/docker/containerd/containerd.pid
    if [ -f "$CONTAINERD_PID" ] && ! pgrep -x containerd >/dev/null 2>&1; then
      say "no containerd runs: removing its stale $CONTAINERD_PID"
      as_root rm -f "$CONTAINERD_PID"
    fi
    say "starting dockerd --storage-driver=vfs (log: $LOG)"
    # containerd is started by dockerd itself when it is not running as a service.
    as_root sh -c "nohup dockerd --storage-driver=vfs >>'$LOG' 2>&1 </dev/null &"
  else
    say "dockerd runs but does not answer yet; waiting"
  fi
  i=0
  until docker_ok; do
    i=$((i + 1))
    if [ "$i" -ge "$WAIT_SECONDS" ]; then
      tail -n 30 "$LOG" >&2 2>/dev/null || true
      die "dockerd did not answer within ${WAIT_SECONDS}s"
    fi
    sleep 1
  done
fi
say "docker $(docker version --format '{{.Server.Version}}') answers"

# --- 3. the image -------------------------------------------------------------------------
rootfs_tar() {
  # A rootfs of one static busybox and its applet links, as a tar on stdout.
  dir=$(mktemp -d)
  mkdir -p "$dir/bin" "$dir/tmp" "$dir/www" "$dir/etc"
  cp "$BUSYBOX" "$dir/bin/busybox"
  for applet in sh httpd nc sleep cat echo ls wget env true false kill ps; do
    ln -s busybox "$dir/bin/$applet"
  done
  echo 'root:x:0:0:root:/:/bin/sh' >"$dir/etc/passwd"
  echo 'root:x:0:' >"$dir/etc/group"
  echo 'portlease-test' >"$dir/www/index.html"
  chmod 1777 "$dir/tmp"
  tar -C "$dir" -cf - .
  rm -rf "$dir"
}

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  say "image $IMAGE present"
else
  say "building $IMAGE with docker import"
  rootfs_tar | docker import \
    --change 'ENV PATH=/bin' \
    --change 'WORKDIR /' \
    --change 'CMD ["sh"]' \
    - "$IMAGE" >/dev/null || die "docker import of $IMAGE failed"
fi

# --- 4. podman, when installed ------------------------------------------------------------
if command -v podman >/dev/null 2>&1; then
  conf=/etc/containers/containers.conf
  if ! grep -Eq '^[[:space:]]*default_ulimits[[:space:]]*=[[:space:]]*\[\]' "$conf" 2>/dev/null; then
    say "setting default_ulimits = [] in $conf"
    as_root mkdir -p /etc/containers
    if grep -q '^\[containers\]' "$conf" 2>/dev/null; then
      as_root sed -i '/^\[containers\]/a default_ulimits = []' "$conf"
    else
      printf '[containers]\ndefault_ulimits = []\n' | as_root tee -a "$conf" >/dev/null
    fi
  fi
  if podman image exists "$IMAGE" 2>/dev/null; then
    say "podman image $IMAGE present"
  else
    say "building $IMAGE for podman"
    rootfs_tar | podman import \
      --change 'ENV PATH=/bin' \
      --change 'WORKDIR /' \
      --change 'CMD ["sh"]' \
      - "$IMAGE" >/dev/null 2>&1 || say "warning: podman import failed; podman tests will fail"
  fi
fi
say "ready"
