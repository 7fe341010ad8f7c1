#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite through ctest.
#
#   scripts/test.sh              Release build in build/, warnings as errors
#   scripts/test.sh --sanitize   ASan+UBSan build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."

export WANSERVE_WERROR=ON
# ctest runs two tests at once on two cores, several of them on the engine's OpenMP pool: an
# active wait then spins on cores the other test needs (the engine tests ran 3-5 times slower).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
if [[ "${1:-}" == "--sanitize" ]]; then
  export BUILD_DIR=${BUILD_DIR:-build-asan} BUILD_TYPE=RelWithDebInfo WANSERVE_SANITIZE=ON
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0"
else
  export BUILD_DIR=${BUILD_DIR:-build} BUILD_TYPE=Release
fi

scripts/bootstrap.sh
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" --timeout 600
