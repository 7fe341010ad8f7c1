#!/usr/bin/env bash
# What durability costs on submit: the same wrk submit load against two servers of this build
# on SQLite, one with `--store-synchronous normal` (the default: fsync at checkpoints) and one
# with `full` (every commit fsynced before the submit is answered). Runs alternate so that
# drift of the machine hits both alike. The disk under the temp folder decides the figures:
# the script prints which file system it is.
# A benchmark, not a test: it prints figures and the ratio (docs/durability.md).
#
#   bench/durability_load.sh [seconds per run, default 10] [rounds, default 2]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10}
ROUNDS=${2:-2}
THREADS=2
CONNS=32

source bench/lib.sh
ensure_packages wrk

mkdir -p "$WORK/normal" "$WORK/full"
NORMAL_KEY=$("$BIN" admin keys create --data "$WORK/normal" --create | tail -n 1)
FULL_KEY=$("$BIN" admin keys create --data "$WORK/full" --create | tail -n 1)
start_server 18095 "$WORK/normal" --store-synchronous normal
start_server 18096 "$WORK/full" --store-synchronous full

BODY='{"model":"wan-2.7-image","prompt":"a lighthouse at dusk","size":"square"}'
submit_script "$WORK/normal.lua" "$NORMAL_KEY" "$BODY"
submit_script "$WORK/full.lua" "$FULL_KEY" "$BODY"

echo "wrk: $THREADS threads, $CONNS connections, ${DURATION}s per run, $ROUNDS rounds, $(nproc) cores, loopback;" \
  "data on $(df -T "$WORK" | awk 'NR==2 {print $2 " (" $1 ")"}')"
for round in $(seq 1 "$ROUNDS"); do
  wrk_run "synchronous normal, round $round" "http://127.0.0.1:18095/v1/images/generations" "$WORK/normal.lua" "normal$round"
  wrk_run "synchronous full, round $round" "http://127.0.0.1:18096/v1/images/generations" "$WORK/full.lua" "full$round"
done
cat "$WORK"/normal[0-9]* | awk '{ s += $1; n++ } END { print s / n }' >"$WORK/normal.mean"
cat "$WORK"/full[0-9]* | awk '{ s += $1; n++ } END { print s / n }' >"$WORK/full.mean"
awk -v normal="$(cat "$WORK/normal.mean")" -v full="$(cat "$WORK/full.mean")" 'BEGIN {
  printf "mean submits/s: normal %.0f, full %.0f; full/normal %.2f\n", normal, full, full / normal }'
