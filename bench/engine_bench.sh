#!/usr/bin/env bash
# The local engine against PyTorch from Python on the same machine and thread count:
#   - C++/Python time ratio per computation (target <= 1.0),
#   - achieved GFLOP/s of the DiT forwards against a large matrix product's, both measured here,
#   - peak RSS of loading the mid-size DiT's weights against their size (target <= 1.2x).
# Usage: bench/engine_bench.sh [threads (default: every core)] [repeats (default 3)]
# Needs a Release build (scripts/test.sh) and Debian's python3-torch.
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${1:-$(nproc)}
REPEATS=${2:-3}
BIN=${WANSERVE_BINARY:-build/src/app/wanserve}
PY=/usr/bin/python3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "engine_bench: $THREADS threads, median of $REPEATS runs, $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
"$BIN" engine bench --threads "$THREADS" --repeats "$REPEATS" > "$TMP/cpp.jsonl"
"$PY" bench/engine_bench.py --threads "$THREADS" --repeats "$REPEATS" > "$TMP/py.jsonl"
"$BIN" engine bench --threads "$THREADS" --write-weights "$TMP/mid.safetensors"
"$BIN" engine bench --threads "$THREADS" --load "$TMP/mid.safetensors" > "$TMP/load.json"

"$PY" - "$TMP" <<'PY'
import json, sys
tmp = sys.argv[1]
cpp = {j["name"]: j for j in map(json.loads, open(f"{tmp}/cpp.jsonl"))}
py = {j["name"]: j for j in map(json.loads, open(f"{tmp}/py.jsonl"))}
peak = cpp["matmul_4096"]["gflop"] / cpp["matmul_4096"]["seconds"]
print(f"{'computation':<20} {'C++ s':>10} {'Python s':>10} {'C++/Py':>8} {'GFLOP/s':>9} {'of matmul':>10}")
for name, c in cpp.items():
    p = py.get(name)
    ratio = f"{c['seconds'] / p['seconds']:.2f}" if p else "-"
    pys = f"{p['seconds']:.4f}" if p else "-"
    rate = c["gflop"] / c["seconds"] if c["gflop"] else 0
    print(f"{name:<20} {c['seconds']:>10.4f} {pys:>10} {ratio:>8} "
          f"{(f'{rate:.1f}' if rate else '-'):>9} {(f'{rate / peak:.0%}' if rate else '-'):>10}")
load = json.load(open(f"{tmp}/load.json"))
grown = load["rss_peak"] - load["rss_before"]
print(f"loading mid DiT: weights {load['weights_bytes'] / 2**20:.0f} MiB, peak RSS grew "
      f"{grown / 2**20:.0f} MiB = {grown / load['weights_bytes']:.2f}x the weights (target <= 1.2x)")
print("Python runs no full pipeline; that row shows C++ only.")
PY
