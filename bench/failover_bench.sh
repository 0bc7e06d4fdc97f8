#!/usr/bin/env bash
# Failover window of a three-node Keel cluster under a continuous write load: the leader is
# killed with kill -9 BENCH_KILLS times [20]; prints each window (kill to the first
# acknowledged write) and p50/max. KEEL_SERVER [<repo>/build/server/keel-server].
# Writes the summary to BENCH_OUT [<repo>/bench/results/failover_latest.md].
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export KEEL_SERVER=${KEEL_SERVER:-$REPO_ROOT/build/server/keel-server}
BENCH_OUT=${BENCH_OUT:-$REPO_ROOT/bench/results/failover_latest.md}
out=$(/usr/bin/python3 "$REPO_ROOT/bench/failover_bench.py" | tee /dev/stderr)
mkdir -p "$(dirname "$BENCH_OUT")"
{
  echo "# Failover: kill -9 of the leader of a 3-node Keel cluster under a write load"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, cluster-node-timeout 300 ms."
  echo
  echo '```'
  echo "$out"
  echo '```'
} >"$BENCH_OUT"
