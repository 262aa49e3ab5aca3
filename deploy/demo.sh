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
hub="$build/hub/tutelle-hub"
work=$(mktemp -d /tmp/tutelle-demo-XXXXXX)
hub_pid=""
cleanup() {
  [ -n "$hub_pid" ] && kill "$hub_pid" 2>/dev/null && wait "$hub_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
unit=rnsr:202199101G

step "The national hub: its key, its TLS certificate, and the fingerprint nodes pin"
fp=$("$hub" init --dir "$work/hub" | tee /dev/stderr | field '["fingerprint"]')

step "Two establishments' nodes: Université de Garonne-Océan and the CNEL, enrolled at the hub"
ka=$("$node" init --dir "$work/garonne" --establishment 0339901H --name "Université de Garonne-Océan" | field '["public_key"]')
kb=$("$node" init --dir "$work/cnel" --establishment 0759901E --name "CNEL" | field '["public_key"]')
"$hub" enroll --dir "$work/hub" --establishment 0339901H --key "$ka"
"$hub" enroll --dir "$work/hub" --establishment 0759901E --key "$kb"

step "The hub serves TLS 1.3 on loopback; both nodes join it"
port=$((17000 + RANDOM % 2000))
"$hub" serve --dir "$work/hub" --listen "127.0.0.1:$port" 2>"$work/hub.log" &
hub_pid=$!
for _ in $(seq 100); do grep -q "listening" "$work/hub.log" 2>/dev/null && break; sleep 0.05; done
"$node" join --dir "$work/garonne" --hub "127.0.0.1:$port" --fingerprint "$fp"
"$node" join --dir "$work/cnel" --hub "127.0.0.1:$port" --fingerprint "$fp"

step "Garonne imports the sample federation (RNSR format) and pushes it"
"$node" import-rnsr --dir "$work/garonne" deploy/sample/structures.json
"$node" sync --dir "$work/garonne" --once
echo "  (the hub refuses what Garonne may not write: CNEL's own record and CNEL's unit OTC)"

step "The CNEL pulls: it gets the units it co-supervises, nothing else"
"$node" sync --dir "$work/cnel" --once
"$node" list --dir "$work/cnel" --type structure |
  python3 -c 'import json,sys
for line in sys.stdin:
    r = json.loads(line); f = r["fields"]
    print("  %-24s %-14s %-10s tutelles: %d  home: %s" % (r["id"], f["kind"],
          f.get("acronym", ""), len(f.get("tutelles", [])), r["home"]))'

step "Each steward makes a colleague unit director of LEC: a habilitation, a record that replicates"
"$node" put --dir "$work/garonne" habilitation principal=ines.lemaire@univ-garonne.example \
  profile=unit_director perimeter="$unit" >/dev/null
"$node" put --dir "$work/cnel" habilitation principal=paul.roux@cnel.example \
  profile=unit_director perimeter="$unit" >/dev/null

step "Offline, each edits the shared unit LEC and records of its own"
"$node" put --dir "$work/garonne" structure "$unit" website=https://lec.univ-garonne.example \
  --author ines.lemaire@univ-garonne.example
"$node" put --dir "$work/garonne" project title="Érosion des côtes sableuses" acronym=ECOSABLE \
  lead_structure="$unit" budget=184000.00 start=2026-01-01 status=running \
  --author ines.lemaire@univ-garonne.example
"$node" put --dir "$work/cnel" structure "$unit" hceres=C2026-LEC --author paul.roux@cnel.example
"$node" put --dir "$work/cnel" person family_name=Roux given_name=Paul orcid=0000-0002-1825-0097 \
  --author paul.roux@cnel.example

step "They sync through the hub"
"$node" sync --dir "$work/garonne" --once
"$node" sync --dir "$work/cnel" --once
"$node" sync --dir "$work/garonne" --once

step "Both hold the same shared unit: equal digests, and each edit crossed over"
echo "  Garonne: $("$node" digest --dir "$work/garonne" --scope "$unit")"
echo "  CNEL:    $("$node" digest --dir "$work/cnel" --scope "$unit")"
echo "  hub:     $("$hub" digest --dir "$work/hub" --scope "$unit")"
echo "  on Garonne, CNEL's Hcéres code: $("$node" get --dir "$work/garonne" "$unit" | field '["fields"]["hceres"]')"
echo "  on CNEL, Garonne's website:     $("$node" get --dir "$work/cnel" "$unit" | field '["fields"]["website"]')"
echo "  on CNEL, Garonne's project:     $("$node" list --dir "$work/cnel" --type project | field '["fields"]["acronym"]')"

step "A partner, the fictional funding agency ANR-Côtes, reads LEC's projects and nothing else"
kp=$("$node" init --dir "$work/anr" --partner anr-cotes | field '["public_key"]')
"$hub" enroll --dir "$work/hub" --partner anr-cotes --key "$kp"
"$hub" share --dir "$work/hub" --scope "$unit" --partner anr-cotes --types project
"$node" join --dir "$work/anr" --hub "127.0.0.1:$port" --fingerprint "$fp"
"$node" sync --dir "$work/anr" --once
echo "  the partner holds: $("$node" list --dir "$work/anr" | field '["id"]')"
"$node" put --dir "$work/anr" project title=Mine || echo "  (a partner's node writes nothing)"

step "Offline, both directors change LEC's acronym: a conflict, shown everywhere, then resolved"
"$node" put --dir "$work/garonne" structure "$unit" acronym=LEC-GO \
  --author ines.lemaire@univ-garonne.example >/dev/null
"$node" put --dir "$work/cnel" structure "$unit" acronym=LECNEL \
  --author paul.roux@cnel.example >/dev/null
for n in garonne cnel garonne; do "$node" sync --dir "$work/$n" --once >/dev/null 2>&1; done
echo "  the hub's conflicts in LEC (the lead tutelle's value is shown):"
"$hub" conflicts --dir "$work/hub" --scope "$unit" | python3 -c '
import json, sys
for line in sys.stdin:
    c = json.loads(line)
    for v in c["values"]:
        print("    %s.%s = %s by %s of %s%s" % (c["id"], c["field"], v["value"], v["author"],
              v["establishment"], "  (shown)" if v.get("shown") else ""))'
"$node" resolve --dir "$work/cnel" "$unit" acronym LEC --author paul.roux@cnel.example >/dev/null
for n in cnel garonne; do "$node" sync --dir "$work/$n" --once >/dev/null 2>&1; done
echo "  after CNEL's resolution, conflicts left on Garonne: $("$node" conflicts --dir "$work/garonne" | wc -l)"
echo "  LEC's acronym on Garonne: $("$node" get --dir "$work/garonne" "$unit" | field '["fields"]["acronym"]')"

step "The hub's view of its nodes"
"$hub" nodes --dir "$work/hub"
"$hub" status --dir "$work/hub"
