#!/bin/sh
# Several workers on one host (default 4), each with its own PostgreSQL and its own app
# server, on leased ports; every process of a worker ends with it.
#
#   pg-workers.sh
#
# Each worker runs under `portlease exec PGPORT APP_PORT`: the worker sees its ports as
# $PGPORT and $APP_PORT; `pg_ctl start` puts PostgreSQL in a session of its own, but it
# carries PORTLEASE_LEASE in its environment, so when the worker exits (or fails, or is
# cancelled with Ctrl-C) exec ends PostgreSQL and the app server too, and only then gives
# the ports back. Needs PostgreSQL's server binaries (Debian: apt-get install postgresql).
#
# WORKERS (default 4), PORTLEASE_RANGE (default 20000-29999), PG_BIN (default: the newest
# /usr/lib/postgresql/*/bin) override.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
workers=${WORKERS:-4}
root=$(mktemp -d "${TMPDIR:-/tmp}/pg-workers.XXXXXX")
chmod 755 "$root" # PostgreSQL runs as the postgres user when we are root

pids=
i=1
while [ "$i" -le "$workers" ]; do
  mkdir "$root/w$i"
  portlease exec PGPORT APP_PORT ${PORTLEASE_RANGE:+--range "$PORTLEASE_RANGE"} -- \
    "$here/pg-worker.sh" "$i" "$root/w$i" &
  pids="$pids $!"
  i=$((i + 1))
done
status=0
for pid in $pids; do wait "$pid" || status=1; done
rm -rf "$root" # every PostgreSQL is gone by now: exec waited for it
exit "$status"
