#!/usr/bin/env bash
# libFuzzer on what clients and operators send (tests/fuzz): each dialect's request parser,
# multipart bodies, the outbound guard's URL/address/allowlist parsers, signed links, and the
# checkpoint readers (safetensors, torch.save). Built by
# clang with ASan and UBSan in build-fuzz/; the corpus in tests/fuzz/corpus is read, and new
# inputs go to a scratch folder (kept with the crashes when one is found).
#
#   bench/fuzz.sh                   10 million executions per target (hours on 2 cores)
#   bench/fuzz.sh --runs N          N executions per target
#   bench/fuzz.sh --seconds S       S seconds per target (CI runs a short round)
#   bench/fuzz.sh --targets a,b     only these targets (with either of the above)
#
# Prints executions, coverage (edges) and crashes per target; exits 1 on any crash.
set -euo pipefail
cd "$(dirname "$0")/.."
limit=(-runs=10000000)
TARGETS=(dialects multipart url_guard signed_link weights)
usage="usage: $0 [--runs N | --seconds S] [--targets a,b,...] (targets: ${TARGETS[*]})"
while (($#)); do
  case "$1" in
    --runs) limit=(-runs="${2:?$usage}"); shift 2 ;;
    --seconds) limit=(-max_total_time="${2:?$usage}"); shift 2 ;;
    --targets)
      IFS=, read -r -a chosen <<<"${2:?$usage}"
      for t in "${chosen[@]}"; do
        [[ " ${TARGETS[*]} " == *" $t "* ]] || { echo "$usage" >&2; exit 2; }
      done
      TARGETS=("${chosen[@]}")
      shift 2 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
BUILD=${BUILD_DIR:-build-fuzz}
export CCACHE_BASEDIR="$PWD"
scripts/bootstrap.sh --deps
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWANSERVE_FUZZ=ON -DWANSERVE_TESTS=OFF >/dev/null
cmake --build "$BUILD" --target "${TARGETS[@]/#/fuzz_}"

work=$(mktemp -d /tmp/wanserve-fuzz.XXXXXX)
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:intercept_tls_get_addr=0"  # see scripts/test.sh
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0"
failed=0
printf '%-12s %14s %10s %10s %8s\n' target executions coverage features crashes
for t in "${TARGETS[@]}"; do
  mkdir -p "$work/$t"
  log="$work/$t.log"
  rc=0
  "$BUILD/tests/fuzz/fuzz_$t" "${limit[@]}" -print_final_stats=1 -artifact_prefix="$work/$t-" -max_len=65536 \
    "$work/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  crashes=$(find "$work" -maxdepth 1 -name "$t-crash-*" -o -maxdepth 1 -name "$t-leak-*" -o -maxdepth 1 -name "$t-oom-*" | wc -l)
  if ((rc != 0)); then
    failed=1
    ((crashes == 0)) && crashes="rc=$rc"
  fi
  printf '%-12s %14s %10s %10s %8s\n' "$t" "${runs:-?}" "${cov:-?}" "${ft:-?}" "$crashes"
done
if ((failed)); then
  echo "crashes and logs kept in $work (reproduce: $BUILD/tests/fuzz/fuzz_<target> <crash file>)" >&2
  exit 1
fi
rm -rf "$work"
