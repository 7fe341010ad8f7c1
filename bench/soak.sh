#!/usr/bin/env bash
# The long soak: tests/soak's round with many kill -9 cycles (the CI round has 6). One wanserve
# on SQLite is killed and restarted every 1.5 to 3.5 s under mixed load from every dialect,
# then every invariant is checked: none lost or stuck, balances exact and one settlement per
# task, every referenced output present and no unrecorded one, no half-written leftovers after
# the start-up sweep, every callback delivered or dead-lettered and then resent.
#
#   bench/soak.sh [kills, default 100] [clients, default 6] [build dir, default build]
set -euo pipefail
cd "$(dirname "$0")/.."
build="${3:-build}"
[[ -x "$build/tests/soak/soak_test" ]] || cmake --build "$build" --target soak_test wanserve
export WANSERVE_SOAK_KILLS="${1:-100}"
export WANSERVE_SOAK_CLIENTS="${2:-6}"
export WANSERVE_BINARY="${WANSERVE_BINARY:-$PWD/$build/src/app/wanserve}"
exec "$build/tests/soak/soak_test" --gtest_color=yes
