#!/usr/bin/env bash
# Installs what is missing, builds everything, and runs every test:
#   1. the GoogleTest suites (ctest), 2. redis_compat_tests/ against a real redis-server.
# `scripts/test.sh --asan` runs the GoogleTest suites under AddressSanitizer + UBSan instead.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/deps.sh"

if [ "${1:-}" = "--asan" ]; then
  build="$(bash "$root/scripts/build.sh" --asan | tail -n 1)"
  cd "$build"
  KEEL_PAXOS_SEEDS="${KEEL_PAXOS_SEEDS:-200}" ctest --output-on-failure -j 2
  exit 0
fi

build="$(bash "$root/scripts/build.sh" | tail -n 1)"
status=0
echo "== GoogleTest suites"
(cd "$build" && ctest --output-on-failure -j 2) || status=1
echo "== Node.js clients (npm ci from the committed package-lock.json files)"
for dir in "$root"/redis_compat_tests/node_clients "$root"/redis_compat_tests/queue_e2e; do
  if [ -f "$dir/package-lock.json" ] && [ ! -d "$dir/node_modules" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || status=1
  fi
done
echo "== Redis compatibility suite (Keel vs redis-server, real clients)"
(cd "$root" && KEEL_SERVER="$build/server/keel-server" \
  KEEL_HIREDIS_CLIENT="$build/redis_compat_tests/keel_hiredis_client" \
  /usr/bin/python3 -m pytest -q redis_compat_tests) || status=1
exit $status
