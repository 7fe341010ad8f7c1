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
  # intercept_tls_get_addr=0: GCC 12's runtime (like LLVM up to 16) takes a dynamic TLS block
  # that happens to sit 16 bytes into a page for a pre-2.25 glibc header and reads a bogus range,
  # so LeakSanitizer's tracer crashed now and then at exit ("Tracer caught signal 11") after a
  # test had passed (google/sanitizers#1322). Leak checking of other memory is unchanged.
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:intercept_tls_get_addr=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0"
else
  export BUILD_DIR=${BUILD_DIR:-build} BUILD_TYPE=Release
fi

scripts/bootstrap.sh
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" --timeout 600
