#!/usr/bin/env bash
# Queue throughput, Keel vs redis-server side by side: LPUSH, RPOP, BLMOVE, XADD and
# XREADGROUP with redis-benchmark.
#
#   bench/queues_bench.sh                # 100000 requests per case, about a minute
#   QUICK=1 bench/queues_bench.sh        # smoke run, seconds; numbers are meaningless
#
# Starts keel-server (its default fsync policy: WAL written before every reply, fsync once a
# second) and redis-server (AOF, fsync every second, no RDB) on free loopback ports, then for
# each pipeline depth (FLUSHALL first) runs, on both servers, alternating which goes first:
#   LPUSH bq:list <rand>                         n requests
#   RPOP bq:list                                 n requests (pops what LPUSH pushed)
#   BLMOVE bq:rot bq:rot RIGHT LEFT 0            n requests on a 1000-element list (each
#                                                call is served at once: the blocking
#                                                command's fast path, a rotation)
#   XADD bq:stream * f <rand>                    n requests
#   XREADGROUP GROUP g c COUNT 10 STREAMS bq:stream >
#                                                n/10 requests, 10 new entries each (the
#                                                group is created at 0 after the XADDs)
# Prints a table (requests per second, p50/p99 latency, Keel/Redis ratio) and writes it as
# markdown to BENCH_OUT. Both servers are stopped by pid on exit.
#
# Environment (defaults in brackets):
#   KEEL_SERVER       keel-server binary        [<repo>/build/server/keel-server]
#   KEEL_ARGS         extra keel-server args    [--metrics-port 0] (empty for a redis-server)
#   REDIS_SERVER      reference server          [redis-server]
#   REDIS_BENCHMARK   benchmark client          [redis-benchmark]
#   REDIS_CLI         used for setup            [redis-cli]
#   BENCH_PIPELINES   pipeline depths (-P)      [1 16]
#   BENCH_CLIENTS     connections (-c)          [50]
#   BENCH_REQUESTS    requests per case (-n)    [100000]
#   BENCH_OUT         markdown output           [<repo>/bench/results/queues_latest.md]
#   LIST_PREFILL      elements put in bq:list before LPUSH/RPOP [0]; e.g. 10000000 to
#                     measure push/pop at the ends of a 10M-element list (the fill takes a
#                     while on Keel: about a minute per 10M on 2 cores)
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KEEL_SERVER=${KEEL_SERVER:-$REPO_ROOT/build/server/keel-server}
KEEL_ARGS=${KEEL_ARGS---metrics-port 0}
REDIS_SERVER=${REDIS_SERVER:-redis-server}
REDIS_BENCHMARK=${REDIS_BENCHMARK:-redis-benchmark}
REDIS_CLI=${REDIS_CLI:-redis-cli}
BENCH_PIPELINES=${BENCH_PIPELINES:-1 16}
BENCH_CLIENTS=${BENCH_CLIENTS:-50}
BENCH_OUT=${BENCH_OUT:-$REPO_ROOT/bench/results/queues_latest.md}
LIST_PREFILL=${LIST_PREFILL:-0}
if [[ ${QUICK:-0} == 1 ]]; then
  BENCH_REQUESTS=${BENCH_REQUESTS:-2000}
else
  BENCH_REQUESTS=${BENCH_REQUESTS:-100000}
fi

die() { echo "queues_bench.sh: $*" >&2; exit 1; }

for tool in "$REDIS_SERVER" "$REDIS_BENCHMARK" "$REDIS_CLI" python3; do
  command -v "$tool" >/dev/null || die "$tool not found"
done
[[ -x $KEEL_SERVER ]] || die "keel-server not found at $KEEL_SERVER (build it or set KEEL_SERVER)"

# shellcheck source=bench/lib.sh
source "$REPO_ROOT/bench/lib.sh"
bench_init qbench

cli() {  # name args...
  local name=$1
  shift
  "$REDIS_CLI" -h 127.0.0.1 -p "${PORT[$name]}" "$@"
}

start_servers() {
  start_server redis "$REDIS_SERVER" --appendonly yes --appendfsync everysec --save ''
  # shellcheck disable=SC2086  # KEEL_ARGS is a list of words
  start_server keel "$KEEL_SERVER" $KEEL_ARGS
}

# Runs one command on one server; prints "rps p50 p99" (from redis-benchmark --csv).
run_case() {  # name pipeline requests command...
  local name=$1 pipeline=$2 requests=$3 out
  shift 3
  out=$("$REDIS_BENCHMARK" -h 127.0.0.1 -p "${PORT[$name]}" -n "$requests" \
    -c "$BENCH_CLIENTS" -P "$pipeline" -r 100000 --csv "$@" 2>"$WORK/bench.err") ||
    { cat "$WORK/bench.err" >&2; die "redis-benchmark failed against $name"; }
  awk -F'"' 'NR == 2 { print $4, $10, $14 }' <<<"$out" | grep . ||
    { echo "$out" >&2; die "no CSV result from redis-benchmark against $name"; }
}

setup() {  # name step
  local name=$1
  case $2 in
    flush) cli "$name" flushall >/dev/null ;;
    rot)
      local args=() i
      for i in $(seq 1000); do args+=("e$i"); done
      cli "$name" rpush bq:rot "${args[@]}" >/dev/null
      ;;
    group) cli "$name" xgroup create bq:stream g 0 >/dev/null ;;
    prefill)
      (( LIST_PREFILL > 0 )) || return 0
      # RPUSH bq:list in batches of 1000 single-byte elements, through redis-cli --pipe.
      python3 - "$LIST_PREFILL" <<'PY' | cli "$name" --pipe >/dev/null
import sys
total = int(sys.argv[1])
out = sys.stdout.buffer
while total > 0:
    n = min(total, 1000)
    out.write(b"*%d\r\n$5\r\nRPUSH\r\n$7\r\nbq:list\r\n" % (n + 2) + b"$1\r\nx\r\n" * n)
    total -= n
PY
      echo "  $name: bq:list prefilled, LLEN $(cli "$name" llen bq:list)" >&2
      ;;
  esac
}

main() {
  start_servers
  echo "redis-server on port ${PORT[redis]} (pid ${PID[redis]}), keel-server on port" \
    "${PORT[keel]} (pid ${PID[keel]}); $BENCH_CLIENTS clients" >&2
  local results=$WORK/results.tsv case=0 n=$BENCH_REQUESTS
  local xrg_n=$(( n / 10 > 0 ? n / 10 : 1 ))
  : >"$results"
  for pipeline in $BENCH_PIPELINES; do
    for name in redis keel; do
      setup "$name" flush
      setup "$name" rot
      setup "$name" prefill
    done
    local label requests
    for spec in "LPUSH|$n|LPUSH bq:list __rand_int__" \
                "RPOP|$n|RPOP bq:list" \
                "BLMOVE|$n|BLMOVE bq:rot bq:rot RIGHT LEFT 0" \
                "XADD|$n|XADD bq:stream * f __rand_int__" \
                "XREADGROUP|$xrg_n|XREADGROUP GROUP g c COUNT 10 STREAMS bq:stream >"; do
      IFS='|' read -r label requests cmd <<<"$spec"
      if [[ $label == XREADGROUP ]]; then
        for name in redis keel; do setup "$name" group; done
      fi
      local order redis_r keel_r r
      if (( case % 2 == 0 )); then order="redis keel"; else order="keel redis"; fi
      local words
      read -r -a words <<<"$cmd"  # split into words without globbing the "*" of XADD
      for name in $order; do
        r=$(run_case "$name" "$pipeline" "$requests" "${words[@]}")
        if [[ $name == redis ]]; then redis_r=$r; else keel_r=$r; fi
      done
      printf '%s\t%s\t%s\t%s\t%s\n' "$label" "$pipeline" "$requests" "$redis_r" "$keel_r" \
        >>"$results"
      echo "  $label P=$pipeline n=$requests: redis $redis_r | keel $keel_r" >&2
      case=$((case + 1))
    done
    # Sanity: every XADD landed and the group read them all.
    for name in redis keel; do
      echo "  $name: XLEN $(cli "$name" xlen bq:stream)," \
        "pending $(cli "$name" xpending bq:stream g | head -n 1)" >&2
    done
  done

  local table
  table=$(awk -F'\t' '
    BEGIN {
      print "| command | pipeline | requests | Redis rps | Redis p50 ms | Redis p99 ms | Keel rps | Keel p50 ms | Keel p99 ms | Keel/Redis rps |"
      print "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"
    }
    {
      split($4, r, " "); split($5, k, " ")
      ratio = (r[1] > 0) ? sprintf("%.2f", k[1] / r[1]) : "n/a"
      printf "| %s | %s | %s | %.0f | %s | %s | %.0f | %s | %s | %s |\n",
        $1, $2, $3, r[1], r[2], r[3], k[1], k[2], k[3], ratio
    }' "$results")
  echo
  awk 'NR != 2 {
      sub(/^[|] /, ""); sub(/ [|]$/, "")
      split($0, f, / [|] /)
      printf "%-10s %4s %8s | %9s %7s %7s | %9s %7s %7s | %s\n",
        f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10]
    }' <<<"$table"
  mkdir -p "$(dirname "$BENCH_OUT")"
  {
    echo "# Keel vs Redis: queue commands"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); host: $(uname -srm), $(nproc) CPUs"
    echo "- redis-server: $("$REDIS_SERVER" --version | head -n 1)"
    echo "  (--appendonly yes --appendfsync everysec --save '')"
    echo "- keel-server: $KEEL_SERVER (default fsync policy)"
    echo "- redis-benchmark -c $BENCH_CLIENTS -r 100000 --csv; XREADGROUP reads 10 entries per call"
    (( LIST_PREFILL > 0 )) &&
      echo "- bq:list held $LIST_PREFILL elements before LPUSH and RPOP (LIST_PREFILL)"
    [[ ${QUICK:-0} == 1 ]] && echo "- QUICK=1 smoke run: numbers are not meaningful"
    echo
    echo "$table"
  } >"$BENCH_OUT"
  echo >&2
  echo "written to $BENCH_OUT" >&2
}

main "$@"
