#!/usr/bin/env bash
# Installs every build and test dependency from Debian packages (idempotent, quiet when
# everything is present), then configures and builds build/wanserve in Release mode.
#
#   scripts/bootstrap.sh            install + build (Release, build/)
#   scripts/bootstrap.sh --deps     install only
#
# Environment: BUILD_DIR (default build), BUILD_TYPE (default Release),
#              WANSERVE_SANITIZE=1 (ASan+UBSan), WANSERVE_WERROR=1 (-Werror).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-url1.81-dev
  nlohmann-json3-dev libsqlite3-dev sqlite3
  libpq-dev postgresql-15
  libcurl4-openssl-dev libssl-dev libxml2-dev
  libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  libavformat-dev libavcodec-dev libswscale-dev libswresample-dev libavutil-dev ffmpeg
  libvips-dev
  libgtest-dev libgmock-dev
  libmimalloc-dev libsystemd-dev
  libtorch-dev libopenblas0-openmp libsentencepiece-dev sentencepiece
  curl chromium
  libfaketime
  clang libclang-rt-14-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js runs the tests' S3 server; a Node.js from elsewhere (which brings its own npm) is kept.
command -v npm >/dev/null || missing+=(nodejs npm)
if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The npm packages the tests use, as pinned by their lock file.
if [[ ! -f tests/node/node_modules/.package-lock.json || tests/node/package-lock.json -nt tests/node/node_modules/.package-lock.json ]]; then
  echo "bootstrap: installing the npm packages of tests/node"
  npm ci --prefix tests/node --no-audit --no-fund --loglevel=error >/dev/null
fi

[[ "${1:-}" == "--deps" ]] && exit 0

# Relative paths in ccache's keys let fresh clones (CI) reuse this machine's cache.
export CCACHE_BASEDIR="$PWD"
BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-Release}
# Options not given keep their cached value, so the demo and the tests share one build.
args=(-DCMAKE_BUILD_TYPE="$BUILD_TYPE")
[[ -n "${WANSERVE_SANITIZE:-}" ]] && args+=(-DWANSERVE_SANITIZE="$WANSERVE_SANITIZE")
[[ -n "${WANSERVE_WERROR:-}" ]] && args+=(-DWANSERVE_WERROR="$WANSERVE_WERROR")
cmake -S . -B "$BUILD_DIR" -G Ninja "${args[@]}" >/dev/null
cmake --build "$BUILD_DIR" --parallel "$(nproc)"
