#!/usr/bin/env bash
# Compiles the engine (src/engine/*.cpp, its tests included) against libtorch 2.x headers,
# the API of the CUDA builds GPU machines use, where only Debian 12's libtorch 1.13 can be
# installed. It catches what torch_compat.h must guard (and headers 1.13 pulled in by
# accident); it does not link or run, since Debian 13's libraries need a newer glibc.
#
# The headers come from Debian 13's libtorch-dev package, fetched once into
# build-libtorch2/ (a Debian mirror is all it needs) and unpacked, not installed.
#   scripts/check_libtorch2.sh
# Environment: LIBTORCH2_DEB (URL of another libtorch-dev .deb).
set -euo pipefail
cd "$(dirname "$0")/.."
DEB_URL=${LIBTORCH2_DEB:-http://deb.debian.org/debian/pool/main/p/pytorch/libtorch-dev_2.6.0+dfsg-7_amd64.deb}
DIR=build-libtorch2
ROOT=$DIR/root
mkdir -p "$DIR"
if [ ! -f "$ROOT/usr/include/c10/core/Allocator.h" ]; then
  echo "fetching $DEB_URL"
  if ! curl -fsSL -o "$DIR/libtorch-dev.deb" "$DEB_URL"; then
    echo "could not fetch $DEB_URL; Debian may have moved on to a newer build:" >&2
    echo "set LIBTORCH2_DEB to the libtorch-dev .deb listed for trixie at packages.debian.org" >&2
    exit 2
  fi
  rm -rf "$ROOT"
  dpkg-deb -x "$DIR/libtorch-dev.deb" "$ROOT"
fi
INCLUDE=$ROOT/usr/include
VERSION=$(awk '/define TORCH_VERSION_(MAJOR|MINOR|PATCH)/ {v = v (v ? "." : "") $3} END {print v}' \
  "$INCLUDE/torch/csrc/api/include/torch/version.h")
FLAGS=(-std=c++20 -fsyntax-only -Wall -Wextra -Wpedantic -Werror -Isrc
       -isystem "$INCLUDE" -isystem "$INCLUDE/torch/csrc/api/include"
       -DWANSERVE_GOLDEN_DIR='""' -DWANSERVE_ENGINE_MODULE='""' -DWANSERVE_TOKENIZER_MODULE='""')
# Nlohmann and GoogleTest come from this machine's Debian 12 packages, as in the real build.
failed=0
for file in src/engine/*.cpp; do
  if g++ "${FLAGS[@]}" "$file" 2> "$DIR/errors.txt"; then
    echo "ok    $file"
  else
    echo "FAIL  $file"
    head -20 "$DIR/errors.txt"
    failed=1
  fi
done
echo "libtorch $VERSION headers: $([ $failed = 0 ] && echo "every engine file compiles" || echo "failures above")"
exit $failed
