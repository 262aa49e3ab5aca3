#!/usr/bin/env bash
# Installs every Debian package that Tutelle's build, tests, benchmarks and demo need.
# Non-interactive and idempotent: packages already present are left as they are.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build ccache pkg-config clang-format
  # libraries
  libboost-dev libssl-dev liblmdb-dev lmdb-utils capnproto libcapnp-dev
  libsodium-dev libxml2-dev libxmlsec1-dev libxmlsec1-openssl catch2 nlohmann-json3-dev
  zlib1g-dev
  # tests: a real SAML identity provider, TLS and XML tooling
  python3 python3-pysaml2 xmlsec1 openssl curl
  # benchmarks: CRDT and replication baselines from the npm registry
  nodejs
)
# Debian's npm is a package of its own; a nodejs from elsewhere may already carry npm.
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
