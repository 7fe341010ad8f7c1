#!/usr/bin/env bash
# The local engine against PyTorch from Python on the same machine and thread count:
#   - C++/Python time ratio per computation (target <= 1.0),
#   - achieved GFLOP/s of the DiT forwards against a large matrix product's, both measured here,
#   - peak RSS of loading the mid-size DiT's weights against their size (target <= 1.2x),
#   - the VACE forward against the plain one (target <= 1.4x).
# The two sides run alternately, one run each per round, so that drift of a shared machine
# falls on both; each ratio is given raw and against each side's own matrix product (the same
# kernel on both sides, so "normalised" removes what the machine did between the two).
# Usage: bench/engine_bench.sh [threads (default: every core)] [rounds (default 3)]
# Needs a Release build (scripts/test.sh) and Debian's python3-torch.
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${1:-$(nproc)}
ROUNDS=${2:-3}
BIN=${WANSERVE_BINARY:-build/src/app/wanserve}
PY=/usr/bin/python3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

echo "engine_bench: $THREADS threads, median of $ROUNDS alternating rounds, $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
for round in $(seq 1 "$ROUNDS"); do
  "$BIN" engine bench --threads "$THREADS" --repeats 1 > "$TMP/cpp.$round.jsonl"
  "$PY" bench/engine_bench.py --threads "$THREADS" --repeats 1 > "$TMP/py.$round.jsonl"
done
"$BIN" engine bench --threads "$THREADS" --write-weights "$TMP/mid.safetensors"
"$BIN" engine bench --threads "$THREADS" --load "$TMP/mid.safetensors" > "$TMP/load.json"

"$PY" - "$TMP" "$ROUNDS" <<'PY'
import json, statistics, sys
tmp, rounds = sys.argv[1], int(sys.argv[2])
def runs(side):
    out = {}
    for r in range(1, rounds + 1):
        for j in map(json.loads, open(f"{tmp}/{side}.{r}.jsonl")):
            out.setdefault(j["name"], {"gflop": j.get("gflop", 0), "seconds": []})["seconds"].append(j["seconds"])
    return {k: {"gflop": v["gflop"], "seconds": statistics.median(v["seconds"])} for k, v in out.items()}
cpp, py = runs("cpp"), runs("py")
base_c, base_p = cpp["matmul_4096"]["seconds"], py["matmul_4096"]["seconds"]
peak = cpp["matmul_4096"]["gflop"] / base_c
print(f"{'computation':<20} {'C++ s':>10} {'Python s':>10} {'C++/Py':>8} {'normalised':>10} {'GFLOP/s':>9} {'of matmul':>10}")
for name, c in cpp.items():
    p = py.get(name)
    ratio = f"{c['seconds'] / p['seconds']:.2f}" if p else "-"
    norm = f"{(c['seconds'] / base_c) / (p['seconds'] / base_p):.2f}" if p else "-"
    pys = f"{p['seconds']:.4f}" if p else "-"
    rate = c["gflop"] / c["seconds"] if c["gflop"] else 0
    print(f"{name:<20} {c['seconds']:>10.4f} {pys:>10} {ratio:>8} {norm:>10} "
          f"{(f'{rate:.1f}' if rate else '-'):>9} {(f'{rate / peak:.0%}' if rate else '-'):>10}")
if "mid_vace_forward" in cpp:
    print(f"VACE forward / plain forward (mid DiT, 2 VACE blocks on 4): "
          f"{cpp['mid_vace_forward']['seconds'] / cpp['mid_dit_forward']['seconds']:.2f} (target <= 1.4; "
          f"the official 1.3B adds 15 blocks to 30: 1.5x the blocks)")
load = json.load(open(f"{tmp}/load.json"))
grown = load["rss_peak"] - load["rss_before"]
print(f"loading mid DiT: weights {load['weights_bytes'] / 2**20:.0f} MiB, peak RSS grew "
      f"{grown / 2**20:.0f} MiB = {grown / load['weights_bytes']:.2f}x the weights (target <= 1.2x)")
print("Python runs no full pipeline; that row shows C++ only.")
PY
