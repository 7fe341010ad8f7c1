# Shared by the load benchmarks: packages, a server on a port, and one wrk run.
# Source it after `cd` to the repository root; it sets BIN and WORK (removed on exit).

ensure_packages() {  # package...
  local missing=""
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=" $p"
  done
  if [[ -n "$missing" ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
  scripts/bootstrap.sh >/dev/null
}

BIN=${WANSERVE_BIN:-$PWD/build/src/app/wanserve}  # WANSERVE_BIN: another build to compare
WORK=$(mktemp -d)
SERVERS=()
bench_cleanup() {
  for pid in "${SERVERS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  [[ -f "$WORK/nginx.pid" ]] && nginx -c "$WORK/nginx.conf" -p "$WORK" -s stop 2>/dev/null
  rm -rf "$WORK"
}
trap bench_cleanup EXIT

# Starts `wanserve serve` without workers (the runs measure the API and the store, not
# generation) and waits until it listens; the pid is appended to SERVERS. The testpattern
# provider is on only so that submits of the Wan models are accepted (a model no provider
# serves is refused at submit); with no workers it runs nothing.
start_server() {  # port data-dir [serve flags...]
  local port=$1 data=$2
  shift 2
  "$BIN" serve --listen "127.0.0.1:$port" --data "$data" --workers-count 0 --log-level "${LOG_LEVEL:-warn}" \
    --providers-testpattern-enabled true "$@" \
    >"$data.log" 2>&1 &
  SERVERS+=($!)
  for _ in $(seq 1 100); do grep -q "listening on" "$data.log" && return; sleep 0.1; done
  echo "server on port $port did not start" >&2
  exit 1
}

# Prints one line of figures and writes "req/s total non2xx" to $WORK/<result>.
wrk_run() {  # label url lua-script result-name
  local out rps p50 p99 total non2xx
  out=$(wrk -t"${THREADS:-2}" -c"${CONNS:-32}" -d"${DURATION}s" --latency -s "$3" "$2")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  total=$(awk '/requests in/ {print $1}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  printf "%-32s %10s req/s   p50 %-9s p99 %-9s (%s requests, %s non-2xx)\n" "$1" "$rps" "$p50" "$p99" "$total" "${non2xx:-0}"
  echo "$rps $total ${non2xx:-0}" >"$WORK/$4"
}

# A wrk script that posts body with the key.
submit_script() {  # file key body
  cat >"$1" <<LUA
wrk.method = "POST"
wrk.body = '$3'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $2"
LUA
}
