#!/bin/sh
# A runner agent on one VM that starts several test runs at once (default 5), each with
# 3 ports (WEB_PORT, API_PORT, DB_PORT) from 3000-4999, none shared, none left behind.
#
#   runner-agent.sh [RUN_COMMAND]      default: ./test-run.sh next to this file
#
# Each run is wrapped in `portlease exec`: the run's ports are leased for exactly as long
# as any process of the run lives (even when the agent or exec is killed with SIGKILL),
# the run sees them as $WEB_PORT $API_PORT $DB_PORT, and when the run ends, exec ends
# every process it left behind (servers, daemons that called setsid) before the ports go
# back. Nothing to clean up, nothing to kill by hand.
#
# RUNS (default 5), PORTLEASE_RANGE (default 3000-4999), LOG_DIR (default .) override.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
run=${1:-"$here/test-run.sh"}
runs=${RUNS:-5}
range=${PORTLEASE_RANGE:-3000-4999}
logs=${LOG_DIR:-.}

pids=
i=1
while [ "$i" -le "$runs" ]; do
  RUN_ID=$i portlease exec WEB_PORT API_PORT DB_PORT --range "$range" -- "$run" \
    >"$logs/run-$i.log" 2>&1 &
  pids="$pids $!"
  i=$((i + 1))
done

status=0
i=1
for pid in $pids; do
  if wait "$pid"; then echo "run $i: passed"; else echo "run $i: FAILED (see $logs/run-$i.log)"; status=1; fi
  i=$((i + 1))
done
exit "$status"
