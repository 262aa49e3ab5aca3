#!/usr/bin/env bash
# Builds Tutelle in Release and runs the benchmarks, printing their figures.
#
#   bench/run.sh [ARGS…]    ARGS go to every benchmark (e.g. --records 100000 --puts 500)
#
# Environment: BUILD_DIR (default: build-release/ at the repository's root), JOBS (default 2).
# Each benchmark works in its own directory under /tmp and removes it when done.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build-release}"
jobs="${JOBS:-2}"

# The benchmarks, in the order they run; each is a target of bench/CMakeLists.txt.
benchmarks=(bench_foundation)

cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTUTELLE_BUILD_BENCH=ON \
  >/dev/null
ninja -C "$build" -j "$jobs" tutelle-node "${benchmarks[@]}"

for name in "${benchmarks[@]}"; do
  echo "== $name"
  "$build/bench/$name" "$@"
done
