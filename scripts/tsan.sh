#!/usr/bin/env bash
# ThreadSanitizer over the concurrent parts: the stores (SQLite's writer and readers, the
# PostgreSQL pool and queue listener), the worker pool and its lease keeper, the upstream poller,
# the callback dispatcher, the outbound client's transfer and resolver threads, and the HTTP
# server's io threads and handler pool, through their own test suites. Built in build-tsan/.
#
#   scripts/tsan.sh        build, run, print each suite's result; exit 1 on any report
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD_DIR:-build-tsan}
SUITES=(store_test tasks_test callbacks_test api_test net_test)
export CCACHE_BASEDIR="$PWD"
scripts/bootstrap.sh --deps
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWANSERVE_TSAN=ON >/dev/null
cmake --build "$BUILD" --target "${SUITES[@]}" pg_test_cluster
# Reports name both stacks; a report fails the suite. Uninstrumented libraries (libcurl, libpq,
# OpenSSL, SQLite) synchronise internally where TSan cannot see it: scripts/tsan.supp names them.
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 history_size=4 suppressions=$PWD/scripts/tsan.supp"
export OMP_WAIT_POLICY=PASSIVE
# Only these suites are built; ctest marks the others NOT_BUILT.
ctest --test-dir "$BUILD" -E "NOT_BUILT" --output-on-failure -j "$(nproc)" --timeout 900
