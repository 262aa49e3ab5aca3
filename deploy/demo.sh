#!/usr/bin/env bash
# The demo: installs what is needed, builds, then creates an establishment's node, fills it
# from the project's sample federation (deploy/sample/) and prints what it holds.
set -euo pipefail
cd "$(dirname "$0")/.."
./deploy/install-deps.sh

build=${TUTELLE_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTUTELLE_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target tutelle-node tutelle-hub

node="$build/node/tutelle-node"
work=$(mktemp -d /tmp/tutelle-demo-XXXXXX)
trap 'rm -rf "$work"' EXIT

step() { printf '\n== %s\n' "$*"; }

step "A node for Université de Garonne-Océan (UAI 0339901H)"
"$node" init --dir "$work/garonne" --establishment 0339901H --name "Université de Garonne-Océan"

step "Import of the sample federation (RNSR format)"
"$node" import-rnsr --dir "$work/garonne" deploy/sample/structures.json

step "A researcher and a project of the shared unit LEC"
"$node" put --dir "$work/garonne" person family_name=Lemaire given_name=Inès \
  orcid=0000-0002-1825-0097 --author ines.lemaire@univ-garonne.example
"$node" put --dir "$work/garonne" project title="Érosion des côtes sableuses" acronym=ECOSABLE \
  lead_structure=rnsr:202199101G people+=orcid:0000-0002-1825-0097 budget=184000.00 \
  start=2026-01-01 status=running --author ines.lemaire@univ-garonne.example

step "What the node holds"
"$node" list --dir "$work/garonne" --type structure |
  python3 -c 'import json,sys
for line in sys.stdin:
    r = json.loads(line); f = r["fields"]
    print("  %-24s %-14s %-10s tutelles: %d  home: %s" % (r["id"], f["kind"],
          f.get("acronym", ""), len(f.get("tutelles", [])), r["home"]))'
"$node" get --dir "$work/garonne" rnsr:202199101G
"$node" list --dir "$work/garonne" --type project

step "Its changeset log and the digest of its state"
"$node" log --dir "$work/garonne" | python3 -c 'import json,sys
for line in sys.stdin:
    c = json.loads(line)
    print("  seq %2d  scope %-18s %3d ops  by %s  hash %s..." % (c["seq"], c["scope"],
          len(c["operations"]), c["author"], c["hash"][:16]))'
"$node" digest --dir "$work/garonne"
