#!/usr/bin/env bash
# Installs what is needed, builds, checks the format, and runs every test (CTest counts them).
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/install-deps.sh

build=${TUTELLE_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DTUTELLE_WERROR="${TUTELLE_WERROR:-OFF}" -DTUTELLE_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc)"

./deploy/check-format.sh

ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
