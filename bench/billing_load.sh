#!/usr/bin/env bash
# What billing costs on submit: the same wrk submit load against two servers of this build, one
# with billing off (`--billing-enabled false`: nothing priced or held) and one billing a funded
# account (price, limits, hold split, ledger entry, balance update in the submit's transaction).
# Runs alternate off/on so that drift of the machine hits both alike. Afterwards the ledger of
# the billed server is checked and its balance compared with the acknowledged submits.
# A benchmark, not a test: it prints figures and the ratio (target: billing costs < 20%).
#
#   bench/billing_load.sh [seconds per run, default 10] [rounds, default 2]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
ROUNDS=${2:-2}
THREADS=2
CONNS=32
GRANT=1000000000000

source bench/lib.sh
ensure_packages wrk

OFF_KEY=$("$BIN" admin keys create --data "$WORK/off" --create | tail -n 1)
ACCOUNT=$("$BIN" admin accounts create --data "$WORK/on" --create --name bench --permanent-credits $GRANT | tail -n 1)
ON_KEY=$("$BIN" admin keys create --data "$WORK/on" --account "$ACCOUNT" | tail -n 1)
start_server 18093 "$WORK/off" --billing-enabled false
start_server 18094 "$WORK/on"

BODY='{"model":"wan-2.7-image","prompt":"a lighthouse at dusk","size":"square"}'
submit_script "$WORK/off.lua" "$OFF_KEY" "$BODY"
submit_script "$WORK/on.lua" "$ON_KEY" "$BODY"

echo "wrk: $THREADS threads, $CONNS connections, ${DURATION}s per run, $ROUNDS rounds, $(nproc) cores, loopback"
ON_ACKED=0
for round in $(seq 1 "$ROUNDS"); do
  wrk_run "billing off, round $round" "http://127.0.0.1:18093/v1/images/generations" "$WORK/off.lua" "off$round"
  wrk_run "billing on, round $round" "http://127.0.0.1:18094/v1/images/generations" "$WORK/on.lua" "on$round"
  read -r _ total non2xx <"$WORK/on$round"
  ON_ACKED=$((ON_ACKED + total - non2xx))
done

cat "$WORK"/off[0-9]* | awk '{ s += $1; n++ } END { print s / n }' >"$WORK/off.mean"
cat "$WORK"/on[0-9]* | awk '{ s += $1; n++ } END { print s / n }' >"$WORK/on.mean"
awk -v off="$(cat "$WORK/off.mean")" -v on="$(cat "$WORK/on.mean")" 'BEGIN {
  printf "mean submits/s: billing off %.0f, billing on %.0f; on/off %.2f, billing costs %.1f%% (target < 20%%)\n",
         off, on, on / off, 100 * (1 - on / off) }'

"$BIN" admin ledger check --data "$WORK/on"
LEFT=$(sqlite3 "$WORK/on/wanserve.db" "SELECT permanent_balance FROM accounts WHERE id = '$ACCOUNT'")
STORED=$(sqlite3 "$WORK/on/wanserve.db" "SELECT COUNT(*) FROM tasks")
# wrk does not count answers still in flight when a run ends, so more may be stored than acknowledged.
echo "billed server: $STORED tasks stored for $ON_ACKED acknowledged submits; balance $LEFT = $GRANT - 20 x $STORED:" \
  "$(( LEFT == GRANT - 20 * STORED && STORED >= ON_ACKED ? 1 : 0 )) (1 = exact)"
