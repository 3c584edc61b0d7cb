#!/bin/sh
# One test run of runner-agent.sh: starts three real servers on the run's leased ports,
# checks that each answers, and exits without stopping them (portlease exec does that).
set -eu
for name in WEB_PORT API_PORT DB_PORT; do
  eval "port=\$$name"
  python3 -m http.server "$port" --bind 127.0.0.1 >/dev/null 2>&1 &
  echo "run ${RUN_ID:-?}: $name=$port server pid $!"
done
for name in WEB_PORT API_PORT DB_PORT; do
  eval "port=\$$name"
  python3 - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=2).read()
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit(f"nothing answers on port {sys.argv[1]}")
PY
done
sleep 1 # the runs overlap: every run's servers listen at the same time
echo "run ${RUN_ID:-?}: ok"
