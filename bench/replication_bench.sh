#!/usr/bin/env bash
# Replicated writes: three Keel nodes (one Paxos group) versus a Redis primary with two
# replicas where the client sends WAIT 1 0 after each SET (the closest Redis gets to a write
# acknowledged by a replica), same machine, same client (bench/ack_writes.c), side by side,
# alternating which goes first. Reports SET throughput and p50/p99 at pipeline 1 and 16, and
# the Keel/Redis ratios. Every server is stopped by pid on exit.
#
# Environment (defaults in brackets):
#   KEEL_SERVER     keel-server binary          [<repo>/build/server/keel-server]
#   REDIS_SERVER    reference server            [redis-server]
#   REDIS_CLI       for PING, MEET, REPLICAOF   [redis-cli]
#   BENCH_SECONDS   seconds per case            [10]
#   BENCH_CLIENTS   connections                 [32]
#   BENCH_PIPELINES pipeline depths             [1 16]
#   BENCH_OUT       markdown output             [<repo>/bench/results/replication_latest.md]
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KEEL_SERVER=${KEEL_SERVER:-$REPO_ROOT/build/server/keel-server}
REDIS_SERVER=${REDIS_SERVER:-redis-server}
REDIS_CLI=${REDIS_CLI:-redis-cli}
BENCH_SECONDS=${BENCH_SECONDS:-10}
BENCH_CLIENTS=${BENCH_CLIENTS:-32}
BENCH_PIPELINES=${BENCH_PIPELINES:-1 16}
BENCH_OUT=${BENCH_OUT:-$REPO_ROOT/bench/results/replication_latest.md}

die() { echo "replication_bench.sh: $*" >&2; exit 1; }
for tool in "$REDIS_SERVER" "$REDIS_CLI" gcc python3; do
  command -v "$tool" >/dev/null || die "$tool not found"
done
[[ -x $KEEL_SERVER ]] || die "keel-server not found at $KEEL_SERVER"

# shellcheck source=bench/lib.sh
source "$REPO_ROOT/bench/lib.sh"
bench_init replication
gcc -O2 -pthread -o "$WORK/ack_writes" "$REPO_ROOT/bench/ack_writes.c" -lhiredis ||
  die "cannot build bench/ack_writes.c (needs libhiredis-dev)"

# Redis: a primary with AOF fsync every second and two replicas.
start_server redis1 "$REDIS_SERVER" --appendonly yes --appendfsync everysec --save ''
for r in redis2 redis3; do
  start_server "$r" "$REDIS_SERVER" --appendonly yes --appendfsync everysec --save '' \
    --replicaof 127.0.0.1 "${PORT[redis1]}"
done
wait_replicas() {  # server pattern: until INFO replication has two lines matching (20 s)
  local n
  for _ in $(seq 200); do
    n=$("$REDIS_CLI" -p "${PORT[$1]}" info replication | grep -c "$2" || true)
    [[ $n == 2 ]] && return 0
    sleep 0.1
  done
  die "$1 did not get its two replicas"
}
wait_replicas redis1 '^slave[0-9].*state=online'

# Keel: three nodes, one group, default appendfsync everysec like the Redis side: the log is
# written to the OS every cycle and fsynced once a second.
for k in keel1 keel2 keel3; do
  bus=$(free_port)
  start_server "$k" "$KEEL_SERVER" --cluster-enabled yes --cluster-port "$bus" --metrics-port 0
done
for _ in $(seq 100); do
  [[ $("$REDIS_CLI" -p "${PORT[keel1]}" role | head -n 1) == master ]] && break
  sleep 0.1
done
for k in keel2 keel3; do
  bus=$(grep -o 'cluster bus on port [0-9]*' "$WORK/$k.log" | grep -o '[0-9]*$')
  [[ $("$REDIS_CLI" -p "${PORT[keel1]}" cluster meet 127.0.0.1 "${PORT[$k]}" "$bus") == OK ]] ||
    die "CLUSTER MEET $k failed"
done
wait_replicas keel1 'voter=1'

run() {  # system pipeline -> "ops/s p50 p99 errors"
  local sys=$1 p=$2 out
  if [[ $sys == keel ]]; then
    out=$("$WORK/ack_writes" -p "${PORT[keel1]}" -c "$BENCH_CLIENTS" -P "$p" -s "$BENCH_SECONDS")
  else
    out=$("$WORK/ack_writes" -p "${PORT[redis1]}" -c "$BENCH_CLIENTS" -P "$p" -s "$BENCH_SECONDS" -w)
  fi
  python3 - "$out" <<'PY'
import sys
kv = dict(x.split("=") for x in sys.argv[1].split())
print(f"{int(kv['ops']) / float(kv['seconds']):.0f} {kv['p50_us']} {kv['p99_us']} {kv['errors']}")
PY
}

{
  echo "# Replicated writes: 3 Keel nodes vs Redis primary + 2 replicas with WAIT 1 0"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $BENCH_CLIENTS clients, ${BENCH_SECONDS}s per case."
  echo "Keel: acknowledged = on a majority's log (written every cycle, fsynced every second: appendfsync everysec) and applied. Redis: SET + WAIT 1 0, AOF everysec."
  echo
  echo "| pipeline | Keel ops/s | Redis ops/s | ratio | Keel p50 µs | Redis p50 µs | Keel p99 µs | Redis p99 µs | p99 ratio |"
  echo "|---|---|---|---|---|---|---|---|---|"
} >"$WORK/table.md"
i=0
for p in $BENCH_PIPELINES; do
  if (( i++ % 2 == 0 )); then
    k=$(run keel "$p"); r=$(run redis "$p")
  else
    r=$(run redis "$p"); k=$(run keel "$p")
  fi
  read -r kops kp50 kp99 kerr <<<"$k"
  read -r rops rp50 rp99 rerr <<<"$r"
  ratio=$(python3 -c "print(f'{$kops / max($rops, 1):.2f}')")
  p99r=$(python3 -c "print(f'{$kp99 / max($rp99, 1):.2f}')")
  echo "| $p | $kops | $rops | $ratio | $kp50 | $rp50 | $kp99 | $rp99 | $p99r |" >>"$WORK/table.md"
  [[ $kerr == 0 && $rerr == 0 ]] || echo "errors: keel $kerr, redis $rerr" >&2
done
mkdir -p "$(dirname "$BENCH_OUT")"
cp "$WORK/table.md" "$BENCH_OUT"
cat "$BENCH_OUT"
