#!/usr/bin/env bash
# Fills .gpu/ (ignored by git) with what scripts/gpu_check.sh needs on a GPU machine that has
# PyTorch and nothing else: the golden sets (shared/golden beside the checkout does not travel)
# and the headers of nlohmann/json and fmt. About 22 MB; the device tool carries it with
# `carry: [".gpu"]`.
set -euo pipefail
cd "$(dirname "$0")/.."
GOLDEN=${WANSERVE_GOLDEN_ROOT:-../shared/golden}
rm -rf .gpu
mkdir -p .gpu/include/nlohmann .gpu/golden/wan .gpu/golden/wan-edit
cp /usr/include/nlohmann/json.hpp .gpu/include/nlohmann/
cp -r /usr/include/fmt .gpu/include/
cp "$GOLDEN"/wan/manifest.json "$GOLDEN"/wan/*.safetensors .gpu/golden/wan/
# The edit set's image-to-video, SDEdit and VACE cases.
cp "$GOLDEN"/wan-edit/manifest.json "$GOLDEN"/wan-edit/wan22_ti2v_i2v_pipeline.io.safetensors \
   "$GOLDEN"/wan-edit/sdedit_*.io.safetensors "$GOLDEN"/wan-edit/vace_*.io.safetensors \
   "$GOLDEN"/wan-edit/wan21_vace_dit.safetensors .gpu/golden/wan-edit/
du -sh .gpu
