#!/usr/bin/env bash
# Builds Tutelle in Release and runs the benchmarks, printing their figures.
#
#   bench/run.sh [ARGS…]          every benchmark; ARGS go to each (only options all of them know)
#   bench/run.sh NAME [ARGS…]     one benchmark with its own options, e.g.
#                                   bench/run.sh bench_foundation --records 100000 --puts 500
#                                   bench/run.sh bench_replication --changesets 10000
#
# Environment: BUILD_DIR (default: build-release/ at the repository's root), JOBS (default 2).
# Each benchmark works in its own directory under /tmp and removes it when done.
# bench_replication's PouchDB baseline and bench_crdt's Yjs and Automerge baselines need Node.js
# and npm: their packages are installed into bench/pouchdb/node_modules and
# bench/crdt/node_modules (from package-lock.json) when missing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$root/build-release}"
jobs="${JOBS:-2}"

# The benchmarks, in the order they run; each is a target of bench/CMakeLists.txt.
benchmarks=(bench_foundation bench_replication bench_crdt)
if [[ $# -gt 0 && "$1" == bench_* ]]; then
  benchmarks=("$1")
  shift
fi

cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DTUTELLE_BUILD_BENCH=ON \
  >/dev/null
ninja -C "$build" -j "$jobs" tutelle-node tutelle-hub "${benchmarks[@]}"

for name in "${benchmarks[@]}"; do
  if [[ "$name" == bench_replication && ! -d "$root/bench/pouchdb/node_modules" ]]; then
    if command -v npm >/dev/null; then
      npm install --prefix "$root/bench/pouchdb" --no-audit --no-fund
    else
      echo "npm not found: bench_replication runs without its PouchDB baseline" >&2
    fi
  fi
  if [[ "$name" == bench_crdt && ! -d "$root/bench/crdt/node_modules" ]]; then
    npm install --prefix "$root/bench/crdt" --no-audit --no-fund
  fi
  echo "== $name"
  "$build/bench/$name" "$@"
done
