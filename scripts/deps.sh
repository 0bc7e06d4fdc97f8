#!/usr/bin/env bash
# Installs the Debian packages Keel needs to build, run and test, skipping those present.
# Sourced or run by scripts/run.sh and scripts/test.sh.
set -euo pipefail

KEEL_PACKAGES=(
  # toolchain
  g++ cmake make pkg-config clang-format
  # libraries (see DEVELOPERS.md: the only dependencies)
  librocksdb-dev libboost-dev libboost-system-dev libhiredis-dev nlohmann-json3-dev
  prometheus-cpp-dev libgtest-dev libbenchmark-dev
  # the reference server and real clients for redis_compat_tests/ and bench/
  redis-server redis-tools python3 python3-redis python3-pytest
  # a real Prometheus server and promtool for the observability tests
  prometheus
)

missing=()
for p in "${KEEL_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js clients (from the npm registry) for the queue and pub/sub tests. Machines that ship
# their own Node.js (outside dpkg) keep it: Debian's npm would conflict with it.
if ! command -v node >/dev/null 2>&1; then missing+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi

if ((${#missing[@]})); then
  echo "keel: installing missing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # policy-rc.d keeps the packaged redis-server service from starting on port 6379.
  if [ -d /usr/sbin ] && [ ! -e /usr/sbin/policy-rc.d ] && [ -z "$SUDO" ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
