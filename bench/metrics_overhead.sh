#!/usr/bin/env bash
# The cost of observability on the command path: Keel with metrics on vs off, side by side.
#
#   on:  --metrics-port <free> --latency-tracking yes, and /metrics scraped every second
#        during the runs (Prometheus's usual interval is 15 s: this is a harsher load);
#   off: --metrics-port 0 --latency-tracking no (no endpoint, no per-command histograms,
#        no block-cache counting; the CommandTable counters INFO needs stay, as always).
#
# Both servers run at once on free loopback ports with their own data directories; each
# redis-benchmark case runs against one, then the other, alternating which goes first, for
# BENCH_ROUNDS rounds. The table shows, for each side, the median requests/s and the median
# server CPU time per request (all threads, from /proc/<pid>/task/*/schedstat, in ns): on a
# shared, busy machine throughput swings with everyone else's load, CPU per request much
# less, so that column is the one that tells the cost. Written to
# bench/results/metrics_overhead.md. Servers stopped by pid on exit.
#
# Environment (defaults in brackets):
#   KEEL_SERVER      keel-server binary      [<repo>/build/server/keel-server]
#   REDIS_BENCHMARK  benchmark client        [redis-benchmark]
#   BENCH_TESTS      redis-benchmark tests   [set get incr]
#   BENCH_PIPELINES  pipeline depths (-P)    [1 16]
#   BENCH_CLIENTS    connections (-c)        [50]
#   BENCH_REQUESTS   requests per run (-n)   [100000]
#   BENCH_ROUNDS     rounds per case         [3]
#   BENCH_OUT        markdown output         [<repo>/bench/results/metrics_overhead.md]
#   QUICK=1          smoke run: 5000 requests, 1 round
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KEEL_SERVER=${KEEL_SERVER:-$REPO_ROOT/build/server/keel-server}
REDIS_BENCHMARK=${REDIS_BENCHMARK:-redis-benchmark}
BENCH_TESTS=${BENCH_TESTS:-set get incr}
BENCH_PIPELINES=${BENCH_PIPELINES:-1 16}
BENCH_CLIENTS=${BENCH_CLIENTS:-50}
BENCH_OUT=${BENCH_OUT:-$REPO_ROOT/bench/results/metrics_overhead.md}
if [[ ${QUICK:-0} == 1 ]]; then
  BENCH_REQUESTS=${BENCH_REQUESTS:-5000}
  BENCH_ROUNDS=${BENCH_ROUNDS:-1}
else
  BENCH_REQUESTS=${BENCH_REQUESTS:-100000}
  BENCH_ROUNDS=${BENCH_ROUNDS:-3}
fi

die() { echo "metrics_overhead.sh: $*" >&2; exit 1; }
for tool in "$REDIS_BENCHMARK" redis-cli curl python3; do
  command -v "$tool" >/dev/null || die "$tool not found"
done
[[ -x $KEEL_SERVER ]] || die "keel-server not found at $KEEL_SERVER (build it or set KEEL_SERVER)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/keel-metrics-bench.XXXXXX")
declare -A PID=() PORT=()
SCRAPER_PID=""

stop_pid() {  # SIGTERM, then SIGKILL after 10 s
  local pid=$1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$SCRAPER_PID"
  for name in "${!PID[@]}"; do stop_pid "${PID[$name]}"; done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_ports() {
  python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

read -r PORT[on] PORT[off] METRICS_PORT < <(free_ports 3)

start_keel() {  # name extra-args...
  local name=$1; shift
  mkdir -p "$WORK/$name"
  "$KEEL_SERVER" --port "${PORT[$name]}" --bind 127.0.0.1 --dir "$WORK/$name" \
    --loglevel warning "$@" >"$WORK/$name.log" 2>&1 &
  PID[$name]=$!
  for _ in $(seq 300); do
    redis-cli -p "${PORT[$name]}" ping 2>/dev/null | grep -q PONG && return 0
    kill -0 "${PID[$name]}" 2>/dev/null || die "keel ($name) exited: $(tail -5 "$WORK/$name.log")"
    sleep 0.1
  done
  die "keel ($name) did not answer PING"
}

start_keel on --metrics-port "$METRICS_PORT" --latency-tracking yes
start_keel off --metrics-port 0 --latency-tracking no
curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" | grep -q '^keel_build_info' ||
  die "the metrics endpoint of the 'on' server does not answer"

# A Prometheus stand-in: one scrape a second for the whole run.
( while true; do curl -sf -o /dev/null "http://127.0.0.1:$METRICS_PORT/metrics" || true; sleep 1; done ) &
SCRAPER_PID=$!

cpu_ns() {  # pid -> CPU time of all its threads so far, ns
  cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s += $1} END {printf "%.0f", s}'
}

run() {  # name test pipeline -> "requests/s cpu-ns-per-request"
  local before after rps
  before=$(cpu_ns "${PID[$1]}")
  rps=$("$REDIS_BENCHMARK" -p "${PORT[$1]}" -t "$2" -P "$3" -c "$BENCH_CLIENTS" -n "$BENCH_REQUESTS" \
    -r 100000 -d 16 --csv -q 2>/dev/null | tail -n 1 | cut -d, -f2 | tr -d '"')
  after=$(cpu_ns "${PID[$1]}")
  echo "$rps $(( (after - before) / BENCH_REQUESTS ))"
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

mkdir -p "$(dirname "$BENCH_OUT")"
{
  echo "# Keel metrics overhead: metrics on vs off"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -r)."
  echo "redis-benchmark -c $BENCH_CLIENTS -n $BENCH_REQUESTS -r 100000 -d 16, median of $BENCH_ROUNDS rounds;"
  echo "on = --metrics-port (scraped every 1 s) --latency-tracking yes; off = --metrics-port 0 --latency-tracking no."
  echo
  echo "| test | pipeline | on req/s | off req/s | on vs off | on CPU ns/req | off CPU ns/req | on vs off |"
  echo "|------|---------:|---------:|----------:|----------:|--------------:|---------------:|----------:|"
} >"$BENCH_OUT"

case_no=0
for test in $BENCH_TESTS; do
  for pipeline in $BENCH_PIPELINES; do
    declare -a on=() off=() on_cpu=() off_cpu=()
    for round in $(seq "$BENCH_ROUNDS"); do
      for side in $( (( (case_no + round) % 2 == 0 )) && echo "on off" || echo "off on"); do
        read -r rps cpu < <(run "$side" "$test" "$pipeline")
        if [[ $side == on ]]; then on+=("$rps"); on_cpu+=("$cpu"); else off+=("$rps"); off_cpu+=("$cpu"); fi
      done
    done
    case_no=$((case_no + 1))
    m_on=$(median "${on[@]}"); m_off=$(median "${off[@]}")
    c_on=$(median "${on_cpu[@]}"); c_off=$(median "${off_cpu[@]}")
    pct() { python3 -c "print(f'{(float($1) / float($2) - 1) * 100:+.1f}%')"; }
    printf '| %s | %s | %.0f | %.0f | %s | %.0f | %.0f | %s |\n' "$test" "$pipeline" \
      "$m_on" "$m_off" "$(pct "$m_on" "$m_off")" "$c_on" "$c_off" "$(pct "$c_on" "$c_off")" |
      tee -a "$BENCH_OUT"
    unset on off on_cpu off_cpu
  done
done
echo
echo "written to $BENCH_OUT"
