#!/usr/bin/env bash
# A local Keel cluster: N keel-server processes forming one Paxos replica group.
#   scripts/cluster.sh start [N] [first-port]   N nodes (default 3) on ports 7001.. (bus +10000),
#                                               data and logs under ./data/cluster-<port>/
#   scripts/cluster.sh stop                     stops every node this script started
#   scripts/cluster.sh status                   CLUSTER NODES as the first node sees it
# The first node founds the group; each other node joins it through CLUSTER MEET. Clients:
#   redis-cli -c -p 7001   (or any node; followers answer MOVED to the leader)
# Extra keel-server options can be given in KEEL_CLUSTER_ARGS, e.g. "--appendfsync always".
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
data="${KEEL_CLUSTER_DATA:-$root/data}"
cmd="${1:-status}"

wait_port() {  # port: waits until the node answers PING (10 s at most)
  for _ in $(seq 1 100); do
    if redis-cli -p "$1" ping >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "node on port $1 did not start; see $data/cluster-$1/keel.log" >&2
  return 1
}

case "$cmd" in
  start)
    n="${2:-3}"
    first="${3:-7001}"
    bash "$root/scripts/deps.sh"
    bin="$(bash "$root/scripts/build.sh" keel-server | tail -n 1)/server/keel-server"
    for i in $(seq 0 $((n - 1))); do
      port=$((first + i))
      dir="$data/cluster-$port"
      mkdir -p "$dir"
      # shellcheck disable=SC2086
      "$bin" --port "$port" --cluster-enabled yes --dir "$dir" --metrics-port 0 \
        --pidfile "$dir/keel.pid" --logfile "$dir/keel.log" ${KEEL_CLUSTER_ARGS:-} \
        </dev/null >/dev/null 2>&1 &
      echo "$port" >>"$data/cluster.ports"
      wait_port "$port"
    done
    for i in $(seq 1 $((n - 1))); do
      port=$((first + i))
      out="$(redis-cli -p "$first" cluster meet 127.0.0.1 "$port")"
      case "$out" in
        OK) ;;
        *"already"*|*"holds data"*) echo "node $port: $out (it keeps its own group)" >&2 ;;
        *) echo "CLUSTER MEET 127.0.0.1 $port: $out" >&2 ;;
      esac
    done
    sleep 1
    redis-cli -p "$first" cluster nodes
    ;;
  stop)
    [ -f "$data/cluster.ports" ] || exit 0
    for port in $(sort -u "$data/cluster.ports"); do
      pidfile="$data/cluster-$port/keel.pid"
      if [ -f "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null || true; fi
    done
    for port in $(sort -u "$data/cluster.ports"); do
      pidfile="$data/cluster-$port/keel.pid"
      for _ in $(seq 1 50); do [ -f "$pidfile" ] || break; sleep 0.1; done
    done
    rm -f "$data/cluster.ports"
    ;;
  status)
    port="$(head -n 1 "$data/cluster.ports" 2>/dev/null || echo 7001)"
    redis-cli -p "$port" cluster nodes
    ;;
  *)
    echo "usage: $0 start [N] [first-port] | stop | status" >&2
    exit 2
    ;;
esac
