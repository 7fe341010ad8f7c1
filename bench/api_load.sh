#!/usr/bin/env bash
# Loopback load benchmark: submit and status-query throughput of wanserve, printed beside the
# same wrk run against a static nginx response on this machine (the machine's HTTP ceiling).
# A second server at log level info writes the access log (one JSON line per request) to its
# log file: its query throughput is printed as a ratio of the first's. Afterwards the server is
# killed with SIGKILL and every acknowledged submit is looked up in the database. A benchmark,
# not a test: it prints figures and ratios, it asserts nothing but the durability count.
#
#   bench/api_load.sh [seconds per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
THREADS=2
CONNS=32

source bench/lib.sh
ensure_packages wrk nginx-light

# nginx: one worker per core, a static JSON body of the size of a task response.
BODY=$(printf '{"id":"task-unified-1795311367-wfp1jm9d","status":"pending","progress":0,"pad":"%0300d"}' 0)
cat >"$WORK/nginx.conf" <<NGINX
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx.err;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:18091;
    location / { default_type application/json; return 200 '$BODY'; }
  }
}
NGINX
nginx -c "$WORK/nginx.conf" -p "$WORK"

KEY=$("$BIN" admin keys create --data "$WORK/data" --create | tail -n 1)
start_server 18092 "$WORK/data"
SERVER=${SERVERS[0]}

TASK=$(curl -s -X POST 127.0.0.1:18092/v1/images/generations -H "Authorization: Bearer $KEY" \
  -d '{"model":"wan-2.7-image","prompt":"bench"}' | sed 's/.*"id":"\([^"]*\)".*/\1/')

submit_script "$WORK/submit.lua" "$KEY" '{"model":"wan-2.7-image","prompt":"a lighthouse at dusk","size":"square"}'
cat >"$WORK/get.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $KEY"
LUA

echo "wrk: $THREADS threads, $CONNS connections, ${DURATION}s per run, $(nproc) cores, loopback"
wrk_run "nginx static" "http://127.0.0.1:18091/" "$WORK/get.lua" nginx
wrk_run "wanserve GET /v1/tasks/{id}" "http://127.0.0.1:18092/v1/tasks/$TASK" "$WORK/get.lua" get
wrk_run "wanserve POST submit" "http://127.0.0.1:18092/v1/images/generations" "$WORK/submit.lua" submit

# The same queries with the access log on (info level, the default), in a folder of its own.
LOGGED_KEY=$("$BIN" admin keys create --data "$WORK/logged-data" --create | tail -n 1)
LOG_LEVEL=info start_server 18093 "$WORK/logged-data"
LOGGED_TASK=$(curl -s -X POST 127.0.0.1:18093/v1/images/generations -H "Authorization: Bearer $LOGGED_KEY" \
  -d '{"model":"wan-2.7-image","prompt":"bench"}' | sed 's/.*"id":"\([^"]*\)".*/\1/')
cat >"$WORK/logged.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $LOGGED_KEY"
LUA
wrk_run "wanserve GET, access log on" "http://127.0.0.1:18093/v1/tasks/$LOGGED_TASK" "$WORK/logged.lua" logged_rps
echo "access log lines written: $(grep -c '"event":"http"' "$WORK/logged-data.log")"

read -r NGINX_RPS _ _ <"$WORK/nginx"
read -r LOGGED_RPS _ _ <"$WORK/logged_rps"
read -r GET_RPS _ _ <"$WORK/get"
read -r SUBMIT_RPS SUBMIT_TOTAL SUBMIT_NON2XX <"$WORK/submit"
awk -v g="$GET_RPS" -v n="$NGINX_RPS" 'BEGIN { printf "status queries / nginx: %.2f (target >= 0.50)\n", g / n }'
awk -v s="$SUBMIT_RPS" 'BEGIN { printf "submits: %.0f/s (target >= 2000/s)\n", s }'
awk -v l="$LOGGED_RPS" -v g="$GET_RPS" 'BEGIN { printf "status queries with the access log / without: %.2f\n", l / g }'

kill -9 $SERVER
wait $SERVER 2>/dev/null || true
ACKED=$((SUBMIT_TOTAL - SUBMIT_NON2XX))
STORED=$(sqlite3 "$WORK/data/wanserve.db" "SELECT COUNT(*) FROM tasks WHERE model_alias='wan-2.7-image' AND client_echo='{}'")
# One task was made before the run.
STORED=$((STORED - 1))
echo "after kill -9: $STORED tasks stored for $ACKED acknowledged submits"
if (( STORED < ACKED )); then
  echo "LOST ACKNOWLEDGED SUBMITS" >&2
  exit 1
fi
