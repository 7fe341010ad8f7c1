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
#   bench/fuzz.sh --jobs J          J processes per target at once, the executions shared out
#
# Prints executions, coverage (edges) and crashes per target; exits 1 on any crash.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=10000000 seconds="" jobs=1
TARGETS=(dialects multipart url_guard signed_link weights)
usage="usage: $0 [--runs N | --seconds S] [--targets a,b,...] [--jobs J] (targets: ${TARGETS[*]})"
while (($#)); do
  case "$1" in
    --runs) runs="${2:?$usage}" seconds=""; shift 2 ;;
    --seconds) seconds="${2:?$usage}"; shift 2 ;;
    --jobs) jobs="${2:?$usage}"; shift 2 ;;
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
[[ "$jobs" =~ ^[1-9][0-9]*$ && "$runs" =~ ^[0-9]+$ ]] || { echo "$usage" >&2; exit 2; }
# Each of the J processes runs its share of the executions (or all of the seconds); they share
# the scratch corpus, which libFuzzer reloads now and then (-reload), so what one finds the
# others take up.
if [[ -n "$seconds" ]]; then limit=(-max_total_time="$seconds"); else limit=(-runs=$(((runs + jobs - 1) / jobs))); fi
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
  rc=0 pids=()
  for ((j = 1; j <= jobs; j++)); do
    "$BUILD/tests/fuzz/fuzz_$t" "${limit[@]}" -print_final_stats=1 -artifact_prefix="$work/$t-" -max_len=65536 \
      "$work/$t" "tests/fuzz/corpus/$t" >"$work/$t.$j.log" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || rc=$?; done
  runs_done=$(awk '/stat::number_of_executed_units/ {n += $2} END {print n}' "$work/$t".*.log)
  cov=$(grep -ohE 'cov: [0-9]+' "$work/$t".*.log | awk '$2 > m {m = $2} END {print m}')
  ft=$(grep -ohE 'ft: [0-9]+' "$work/$t".*.log | awk '$2 > m {m = $2} END {print m}')
  crashes=$(find "$work" -maxdepth 1 -name "$t-crash-*" -o -maxdepth 1 -name "$t-leak-*" -o -maxdepth 1 -name "$t-oom-*" | wc -l)
  if ((rc != 0)); then
    failed=1
    ((crashes == 0)) && crashes="rc=$rc"
  fi
  printf '%-12s %14s %10s %10s %8s\n' "$t" "${runs_done:-?}" "${cov:-?}" "${ft:-?}" "$crashes"
done
if ((failed)); then
  echo "crashes and logs kept in $work (reproduce: $BUILD/tests/fuzz/fuzz_<target> <crash file>)" >&2
  exit 1
fi
rm -rf "$work"
