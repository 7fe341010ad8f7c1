#!/usr/bin/env bash
# Loopback load benchmark: submit and status-query throughput of wanserve, printed beside the
# same wrk run against a static nginx response on this machine (the machine's HTTP ceiling).
# Afterwards the server is killed with SIGKILL and every acknowledged submit is looked up in
# the database. A benchmark, not a test: it prints figures and ratios, it asserts nothing but
# the durability count.
#
#   bench/api_load.sh [seconds per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
THREADS=2
CONNS=32

for p in wrk nginx-light; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || MISSING+=" $p"
done
if [[ -n "${MISSING:-}" ]]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $MISSING >/dev/null
fi
scripts/bootstrap.sh >/dev/null
BIN=$PWD/build/src/app/wanserve
WORK=$(mktemp -d)
cleanup() {
  kill -9 "${SERVER:-0}" 2>/dev/null || true
  [[ -f "$WORK/nginx.pid" ]] && nginx -c "$WORK/nginx.conf" -p "$WORK" -s stop 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

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

KEY=$("$BIN" admin keys create --data "$WORK/data" | tail -n 1)
# No workers: the run measures the API and the store, not generation.
"$BIN" serve --listen 127.0.0.1:18092 --data "$WORK/data" --workers-count 0 --log-level warn >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do grep -q "listening on" "$WORK/server.log" && break; sleep 0.1; done

TASK=$(curl -s -X POST 127.0.0.1:18092/v1/images/generations -H "Authorization: Bearer $KEY" \
  -d '{"model":"wan-2.7-image","prompt":"bench"}' | sed 's/.*"id":"\([^"]*\)".*/\1/')

cat >"$WORK/submit.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"model":"wan-2.7-image","prompt":"a lighthouse at dusk","size":"square"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $KEY"
LUA
cat >"$WORK/get.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $KEY"
LUA

run() {  # label url script
  local out
  out=$(wrk -t$THREADS -c$CONNS -d"${DURATION}s" --latency -s "$3" "$2")
  local rps p50 p99 total non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  total=$(awk '/requests in/ {print $1}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  printf "%-28s %10s req/s   p50 %-9s p99 %-9s (%s requests, %s non-2xx)\n" "$1" "$rps" "$p50" "$p99" "$total" "${non2xx:-0}"
  echo "$rps $total ${non2xx:-0}" >"$WORK/$4"
}

echo "wrk: $THREADS threads, $CONNS connections, ${DURATION}s per run, $(nproc) cores, loopback"
run "nginx static" "http://127.0.0.1:18091/" "$WORK/get.lua" nginx
run "wanserve GET /v1/tasks/{id}" "http://127.0.0.1:18092/v1/tasks/$TASK" "$WORK/get.lua" get
run "wanserve POST submit" "http://127.0.0.1:18092/v1/images/generations" "$WORK/submit.lua" submit

read -r NGINX_RPS _ _ <"$WORK/nginx"
read -r GET_RPS _ _ <"$WORK/get"
read -r SUBMIT_RPS SUBMIT_TOTAL SUBMIT_NON2XX <"$WORK/submit"
awk -v g="$GET_RPS" -v n="$NGINX_RPS" 'BEGIN { printf "status queries / nginx: %.2f (target >= 0.50)\n", g / n }'
awk -v s="$SUBMIT_RPS" 'BEGIN { printf "submits: %.0f/s (target >= 2000/s)\n", s }'

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
