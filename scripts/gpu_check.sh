#!/usr/bin/env bash
# The prepared GPU check, for a machine with an NVIDIA GPU and a PyTorch installation and nothing
# else installable (the device tool's machines): builds the engine against that PyTorch's
# libtorch (bench/gpu/), runs both golden sets on CUDA in float32 (the sets' tolerances) and bf16
# (kGoldenBf16Bound), times one denoising step and the VAE decode at the real shapes of
# Wan2.1-1.3B (832x480x81) and Wan2.2-TI2V-5B (1280x704x121) in bf16 on random weights beside the
# same computations in PyTorch from Python (bench/engine_bench.py), alternating, and a whole
# 1.3B generation of 50 steps with the text encoder offloaded; prints ratios and peak memory
# against the targets. Record what it prints in docs/performance.md.
#
#   scripts/gpu_prepare.sh     here, once: the golden sets and the JSON header into .gpu/
#   scripts/gpu_check.sh       there: run tool with carry [".gpu"]; output also in $OUT
#   scripts/gpu_check.sh --cpu here: the same flow on this CPU with the tiny presets
# Environment: PYTHON (default python3), GPU_CHECK_REPEATS (timed steps, default 3; decodes are
# timed once after a warm-up), GPU_CHECK_ROUNDS (C++ and Python alternate, default 1),
# GPU_CHECK_STEPS (50). Meant to finish within 8 minutes on one H100/H200.
set -uo pipefail
cd "$(dirname "$0")/.."
START=$(date +%s)
OUT_DIR=${OUT:-.gpu/out}
mkdir -p "$OUT_DIR"
exec > >(tee "$OUT_DIR/gpu_check.log") 2>&1
stage() { echo "== $1 [$(( $(date +%s) - START )) s]"; }
[ -f .gpu/include/nlohmann/json.hpp ] && [ -f .gpu/golden/wan/manifest.json ] ||
  { echo "error: .gpu/ is missing: run scripts/gpu_prepare.sh on the development machine" >&2; exit 2; }

REPEATS=${GPU_CHECK_REPEATS:-3}
ROUNDS=${GPU_CHECK_ROUNDS:-1}
if [ "${1:-}" = --cpu ]; then
  DEVICE=cpu PY=${PYTHON:-/usr/bin/python3} DTYPE=float32 PRESETS="tiny tiny-ti2v" RUN_PRESET=tiny STEPS=8
  VACE_PRESET=tiny-vace
  PREFIX=/usr/lib/x86_64-linux-gnu/cmake BUILD=build-gpucheck-cpu
else
  DEVICE=cuda PY=${PYTHON:-python3} DTYPE=bfloat16 PRESETS="wan2.1-t2v-1.3b wan2.2-ti2v-5b" VACE_PRESET=wan2.1-vace-1.3b
  RUN_PRESET=wan2.1-t2v-1.3b STEPS=${GPU_CHECK_STEPS:-50} BUILD=build-gpucheck
  PREFIX=$("$PY" -c 'import torch; print(torch.utils.cmake_prefix_path)') || exit 2
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  "$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0))'
fi
PRECISION=$([ "$DTYPE" = bfloat16 ] && echo bf16 || echo float32)

stage "build the engine against libtorch in $PREFIX"
GEN=$(command -v ninja > /dev/null && echo Ninja || echo "Unix Makefiles")
cmake -S bench/gpu -B "$BUILD" -G "$GEN" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$PREFIX" \
  -DWANSERVE_JSON_INCLUDE="$PWD/.gpu/include" > "$OUT_DIR/cmake.log" 2>&1 || { cat "$OUT_DIR/cmake.log"; exit 2; }
cmake --build "$BUILD" --parallel "$(nproc)" > "$OUT_DIR/build.log" 2>&1 || { tail -60 "$OUT_DIR/build.log"; exit 2; }
BIN=$BUILD/gpu_check
FAILED=0

stage "golden sets on $DEVICE, float32 and bf16"
for precision in float32 bf16; do
  "$BIN" golden .gpu/golden/wan "$DEVICE" "$precision" | tail -1 || FAILED=1
  for only in ti2v sdedit vace; do "$BIN" golden .gpu/golden/wan-edit "$DEVICE" "$precision" "$only" | tail -1 || FAILED=1; done
done
# The failing checks, if any, in full.
for precision in float32 bf16; do
  "$BIN" golden .gpu/golden/wan "$DEVICE" "$precision" | grep FAIL
  for only in ti2v sdedit vace; do "$BIN" golden .gpu/golden/wan-edit "$DEVICE" "$precision" "$only" | grep FAIL; done
done

FIGURES="$OUT_DIR/figures.jsonl"
: > "$FIGURES"
for preset in $PRESETS; do
  for round in $(seq 1 "$ROUNDS"); do
    stage "$preset, round $round: step and VAE decode, C++ then Python"
    timeout 120 "$BIN" step "$preset" "$DEVICE" "$PRECISION" "$REPEATS" | sed 's/^{/{"side":"cpp",/' >> "$FIGURES"
    timeout 120 "$PY" bench/engine_bench.py --preset "$preset" --figure step --device "$DEVICE" --dtype "$DTYPE" \
      --repeats "$REPEATS" | sed 's/^{/{"side":"py",/' >> "$FIGURES"
    timeout 120 "$BIN" vae "$preset" "$DEVICE" 1 | sed 's/^{/{"side":"cpp",/' >> "$FIGURES"
    timeout 120 "$PY" bench/engine_bench.py --preset "$preset" --figure vae --device "$DEVICE" --repeats 1 \
      | sed 's/^{/{"side":"py",/' >> "$FIGURES"
  done
done

stage "$VACE_PRESET: one denoising step with the VACE context (C++ only: no PyTorch VACE here)"
timeout 120 "$BIN" step "$VACE_PRESET" "$DEVICE" "$PRECISION" "$REPEATS" | sed 's/^{/{"side":"cpp",/' >> "$FIGURES"

stage "$RUN_PRESET: a whole generation of $STEPS steps, text encoder offloaded"
timeout 240 "$BIN" run "$RUN_PRESET" "$DEVICE" "$STEPS" offload | sed 's/^{/{"side":"cpp",/' >> "$FIGURES" || FAILED=1

stage "summary"
"$PY" - "$FIGURES" "$DEVICE" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
device = sys.argv[2]
def median(side, name, key="seconds"):
    values = [r[key] for r in rows if r["side"] == side and r["name"] == name]
    return statistics.median(values) if values else None
names = sorted({r["name"] for r in rows if "_run_" not in r["name"]})
print(f"{'figure':<28} {'C++ s':>9} {'PyTorch s':>10} {'C++/Py':>7} {'C++ GiB':>8} {'Py GiB':>7}")
for name in names:
    c, p = median("cpp", name), median("py", name)
    cg, pg = median("cpp", name, "peak_gib"), median("py", name, "peak_gib")
    ratio = f"{c / p:.2f}" if c and p else "-"
    print(f"{name:<28} {c or 0:>9.3f} {(p or 0):>10.3f} {ratio:>7} {cg or 0:>8.2f} {pg or 0:>7.2f}")
vace = [n for n in names if "vace" in n and n.endswith("_step")]
plain = {"tiny-vace_step": "tiny_step", "wan2.1-vace-1.3b_step": "wan2.1-t2v-1.3b_step"}
for name in vace:
    v, t = median("cpp", name), median("cpp", plain.get(name, ""))
    if v and t:
        print(f"VACE step / plain step ({name}): {v / t:.2f} (its VACE blocks add 1.5x the blocks on the 1.3B)")
for r in rows:
    if "_run_" in r["name"]:
        print(f"{r['name']}: {r['seconds']:.1f} s, peak {r['peak_gib']:.2f} GiB (denoising {r['denoise_peak_gib']:.2f}, "
              f"decode {r['decode_peak_gib']:.2f}), loading {r['load_seconds']:.1f} s, {r['frames']} frames "
              f"{r['width']}x{r['height']} on {r['placement']}")
        if device == "cuda":
            print(f"  targets: <= 90 s ({'met' if r['seconds'] <= 90 else 'MISSED'}), "
                  f"<= 12 GB ({'met' if r['peak_gib'] * 1.0737 <= 12 else 'MISSED'}), VAE decode not the peak "
                  f"({'met' if r['decode_peak_gib'] < r['denoise_peak_gib'] else 'MISSED'})")
if device == "cuda":
    for name in names:
        if name.endswith("_step"):
            c, p = median("cpp", name), median("py", name)
            if c and p:
                print(f"target C++/PyTorch <= 0.9 per step, {name}: {c / p:.2f} ({'met' if c / p <= 0.9 else 'MISSED'})")
PY
stage "done"
exit $FAILED
