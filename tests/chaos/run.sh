#!/usr/bin/env bash
# A long chaos round against a built tree: ≥ 300 tasks by default (the proof), or what
# WANSERVE_CHAOS_TASKS / WANSERVE_CHAOS_CLIENTS say. Usage: tests/chaos/run.sh [build dir]
set -euo pipefail
build="${1:-build}"
export WANSERVE_CHAOS_TASKS="${WANSERVE_CHAOS_TASKS:-320}"
export WANSERVE_CHAOS_CLIENTS="${WANSERVE_CHAOS_CLIENTS:-10}"
export WANSERVE_BINARY="${WANSERVE_BINARY:-$build/src/app/wanserve}"
exec "$build/tests/chaos/chaos_test" --gtest_color=yes
