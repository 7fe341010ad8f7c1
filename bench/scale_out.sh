#!/usr/bin/env bash
# Scale-out on PostgreSQL through HTTP: submits spread over two api nodes while two worker
# nodes run them with a provider that does next to nothing (testpattern, one step, no delay),
# then the rescue of a task whose worker was killed with kill -9 (default lease 30 s, sweep
# every 2 s). A benchmark, not a test: it prints figures and the issue's targets.
#
#   bench/scale_out.sh [seconds of submits, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
THREADS=2
CONNS=16

source bench/lib.sh
ensure_packages wrk postgresql-15 postgresql-client-15

PGDIR=$(mktemp -d /tmp/wanserve-bench-pg.XXXXXX)  # the server user must reach it
"$PWD/build/src/testing/pg_test_cluster" start "$PGDIR" >"$WORK/pg.url"
trap '"$PWD/build/src/testing/pg_test_cluster" stop "$PGDIR"; bench_cleanup' EXIT
export WANSERVE_STORE_URL
WANSERVE_STORE_URL=$(tail -n 1 "$WORK/pg.url")
sql() { psql "$WANSERVE_STORE_URL" -tAq -c "$1"; }

mkdir -p "$WORK/data"
KEY=$("$BIN" admin keys create --data "$WORK/data" --create | tail -n 1)
FAST=(--providers-testpattern-enabled true --providers-testpattern-steps 1 --providers-testpattern-step-delay-ms 0)
SLOW=(--providers-testpattern-enabled true --providers-testpattern-steps 200 --providers-testpattern-step-delay-ms 200)
# A node of any role on a port; its pid goes to SERVERS (lib.sh kills them on exit).
node() {  # port log role [flags...]
  local port=$1 log=$2 role=$3
  shift 3
  "$BIN" serve --listen "127.0.0.1:$port" --data "$WORK/data" --role "$role" --log-level warn "$@" >"$log" 2>&1 &
  SERVERS+=($!)
  disown $!  # kill -9 of a node is part of the run, not news
  for _ in $(seq 1 100); do grep -q "listening on" "$log" && return; sleep 0.1; done
  echo "node on port $port did not start" >&2
  exit 1
}

node 18101 "$WORK/api1.log" api "${FAST[@]}"
node 18102 "$WORK/api2.log" api "${FAST[@]}"
node 18103 "$WORK/w1.log" worker "${FAST[@]}" --workers-count 8
node 18104 "$WORK/w2.log" worker "${FAST[@]}" --workers-count 8
echo "PostgreSQL 15 (local socket, fsync=off, synchronous_commit=on); 2 api + 2 worker nodes (8 workers each); $(nproc) cores"

BODY='{"model":"wan-2.7-image","prompt":"a lighthouse at dusk","size":"square"}'
submit_script "$WORK/submit.lua" "$KEY" "$BODY"
wrk_run "submits on api node 1" "http://127.0.0.1:18101/v1/images/generations" "$WORK/submit.lua" api1 &
first=$!
wrk_run "submits on api node 2" "http://127.0.0.1:18102/v1/images/generations" "$WORK/submit.lua" api2 &
wait "$first" $!
for _ in $(seq 1 600); do
  [[ $(sql "SELECT COUNT(*) FROM tasks WHERE state IN ('queued','running')") == 0 ]] && break
  sleep 0.1
done
sql "SELECT COUNT(*), ROUND(COUNT(*) * 1000.0 / NULLIF(MAX(finished_ms) - MIN(created_ms), 0)) FROM tasks
     WHERE state = 'succeeded'" | awk -F'|' '{ printf "submit->done: %d tasks, %d done/s from the first submit to the last completion (target >= 200/s)\n", $1, $2 }'
sql "SELECT COUNT(*) FROM tasks WHERE state <> 'succeeded'" | awk '{ printf "not succeeded: %d\n", $1 }'

# Rescue: a long task on worker 3, killed; worker 4 takes it over once the lease runs out.
kill -9 "${SERVERS[2]}" "${SERVERS[3]}"
node 18105 "$WORK/w3.log" worker "${SLOW[@]}"
ID=$(curl -s -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d "$BODY" \
  http://127.0.0.1:18101/v1/images/generations | sed 's/.*"id":"\([^"]*\)".*/\1/')
for _ in $(seq 1 100); do [[ $(sql "SELECT progress FROM tasks WHERE id = '$ID'") -gt 0 ]] && break; sleep 0.1; done
kill -9 "${SERVERS[4]}"
KILLED=$(date +%s.%N)
node 18106 "$WORK/w4.log" worker "${SLOW[@]}"
for _ in $(seq 1 1200); do
  [[ $(sql "SELECT attempts FROM tasks WHERE id = '$ID' AND state = 'running'") == 2 ]] && break
  sleep 0.05
done
awk -v k="$KILLED" -v n="$(date +%s.%N)" 'BEGIN { printf "rescue after kill -9: running again on another worker %.1f s later (lease 30 s + sweep 2 s: target <= 35 s)\n", n - k }'
