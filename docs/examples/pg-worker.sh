#!/bin/sh
# One worker of pg-workers.sh: a PostgreSQL cluster on $PGPORT, an app server on
# $APP_PORT that answers with a query to that cluster, and a check through the app.
# It stops nothing on purpose: portlease exec ends PostgreSQL and the app.
set -eu
n=$1
work=$2
bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" = 0 ]; then chown postgres "$work"; fi

as_pg "$bin/initdb" -D "$work/data" -A trust -U postgres >/dev/null
as_pg "$bin/pg_ctl" -D "$work/data" -l "$work/postgres.log" -w \
  -o "-p $PGPORT -k $work -c listen_addresses=127.0.0.1" start >/dev/null
pg=$(head -n 1 "$work/data/postmaster.pid")

# The app server: GET / runs a query on this worker's database.
python3 - "$APP_PORT" "$PGPORT" >/dev/null 2>&1 <<'PY' &
import http.server, subprocess, sys
app_port, pg_port = int(sys.argv[1]), sys.argv[2]
class App(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", pg_port, "-U", "postgres",
                              "-tAc", "select 'db ' || current_setting('port')"],
                             capture_output=True, text=True, check=True).stdout.strip()
        self.send_response(200); self.end_headers(); self.wfile.write(out.encode())
http.server.HTTPServer(("127.0.0.1", app_port), App).serve_forever()
PY
app=$!

# The worker's "tests": through the app to its own database.
answer=$(python3 - "$APP_PORT" <<'PY'
import sys, time, urllib.request
for _ in range(100):
    try:
        print(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/", timeout=5).read().decode())
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("the app does not answer")
PY
)
[ "$answer" = "db $PGPORT" ] || { echo "worker $n: app answered '$answer'" >&2; exit 1; }
echo "worker $n: PGPORT=$PGPORT APP_PORT=$APP_PORT postgres=$pg app=$app ok"
