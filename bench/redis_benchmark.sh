#!/usr/bin/env bash
# Keel vs redis-server, side by side, with redis-benchmark (see bench/README.md).
#
# Starts keel-server (its default fsync policy) and redis-server (AOF, fsync every
# second, no RDB snapshots) on free loopback ports, runs the same redis-benchmark
# matrix against both -- alternating which server goes first from case to case, so
# machine noise hits both -- prints a table and writes it to bench/results/latest.md.
# Both servers are stopped by pid on exit.
#
# Environment (defaults in brackets):
#   KEEL_SERVER       keel-server binary        [<repo>/build/server/keel-server]
#   REDIS_SERVER      reference server          [redis-server]
#   REDIS_BENCHMARK   benchmark client          [redis-benchmark]
#   REDIS_CLI         used to wait for PING     [redis-cli]
#   BENCH_TESTS       redis-benchmark tests     [set get incr mset]
#   BENCH_SIZES       value sizes in bytes (-d) [16 1024 65536]
#   BENCH_PIPELINES   pipeline depths (-P)      [1 16]
#   BENCH_CLIENTS     connections (-c)          [50]
#   BENCH_REQUESTS    requests per case (-n)    [200000]; scaled down for large values
#                     and for MSET, see requests_for below
#   BENCH_KEYSPACE    random keys (-r)          [100000]; capped so one case's data
#                     stays under ~64 MB
#   BENCH_OUT         markdown output           [<repo>/bench/results/latest.md]
#   QUICK=1           smoke run: 2000 requests per case
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KEEL_SERVER=${KEEL_SERVER:-$REPO_ROOT/build/server/keel-server}
REDIS_SERVER=${REDIS_SERVER:-redis-server}
REDIS_BENCHMARK=${REDIS_BENCHMARK:-redis-benchmark}
REDIS_CLI=${REDIS_CLI:-redis-cli}
BENCH_TESTS=${BENCH_TESTS:-set get incr mset}
BENCH_SIZES=${BENCH_SIZES:-16 1024 65536}
BENCH_PIPELINES=${BENCH_PIPELINES:-1 16}
BENCH_CLIENTS=${BENCH_CLIENTS:-50}
BENCH_KEYSPACE=${BENCH_KEYSPACE:-100000}
BENCH_OUT=${BENCH_OUT:-$REPO_ROOT/bench/results/latest.md}
if [[ ${QUICK:-0} == 1 ]]; then
  BENCH_REQUESTS=${BENCH_REQUESTS:-2000}
  MIN_REQUESTS=100
else
  BENCH_REQUESTS=${BENCH_REQUESTS:-200000}
  MIN_REQUESTS=1000
fi

die() { echo "redis_benchmark.sh: $*" >&2; exit 1; }

for tool in "$REDIS_SERVER" "$REDIS_BENCHMARK" "$REDIS_CLI" python3; do
  command -v "$tool" >/dev/null || die "$tool not found"
done
[[ -x $KEEL_SERVER ]] || die "keel-server not found at $KEEL_SERVER (build it or set KEEL_SERVER)"

# shellcheck source=bench/lib.sh
source "$REPO_ROOT/bench/lib.sh"
bench_init bench

start_servers() {
  start_server redis "$REDIS_SERVER" --appendonly yes --appendfsync everysec --save ''
  start_server keel "$KEEL_SERVER"
}

# Requests for one case: BENCH_REQUESTS, times 4096/size for values over 4 KB, divided
# by 10 for MSET (10 keys per call), never below MIN_REQUESTS.
requests_for() {  # test size
  local n=$BENCH_REQUESTS
  (( $2 > 4096 )) && n=$(( n * 4096 / $2 ))
  [[ $1 == mset ]] && n=$(( n / 10 ))
  (( n < MIN_REQUESTS )) && n=$MIN_REQUESTS
  echo "$n"
}

# Random keys for one case: BENCH_KEYSPACE, capped at 64 MB of values.
keyspace_for() {  # test size
  local bytes=$2 r
  [[ $1 == mset ]] && bytes=$(( bytes * 10 ))
  r=$(( 64 * 1024 * 1024 / bytes ))
  (( r > BENCH_KEYSPACE )) && r=$BENCH_KEYSPACE
  (( r < 1 )) && r=1
  echo "$r"
}

# Runs one case on one server; prints "rps p50 p99" (from redis-benchmark --csv).
run_case() {  # name test size pipeline requests keyspace
  local name=$1 test=$2 size=$3 pipeline=$4 requests=$5 keyspace=$6 out
  out=$("$REDIS_BENCHMARK" -h 127.0.0.1 -p "${PORT[$name]}" -t "$test" -n "$requests" \
    -c "$BENCH_CLIENTS" -d "$size" -P "$pipeline" -r "$keyspace" --csv 2>"$WORK/bench.err") ||
    { cat "$WORK/bench.err" >&2; die "redis-benchmark failed against $name"; }
  # header: "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms",
  #         "p95_latency_ms","p99_latency_ms","max_latency_ms"
  awk -F'"' 'NR == 2 { print $4, $10, $14 }' <<<"$out" | grep . ||
    { echo "$out" >&2; die "no CSV result from redis-benchmark against $name"; }
}

main() {
  start_servers
  echo "redis-server on port ${PORT[redis]} (pid ${PID[redis]}), keel-server on port" \
    "${PORT[keel]} (pid ${PID[keel]}); $BENCH_CLIENTS clients" >&2

  local results=$WORK/results.tsv case=0
  : >"$results"
  for pipeline in $BENCH_PIPELINES; do
    for size in $BENCH_SIZES; do
      for test in $BENCH_TESTS; do
        # -d does not change INCR: run it once per pipeline depth
        if [[ $test == incr && $size != "${BENCH_SIZES%% *}" ]]; then continue; fi
        local shown_size=$size requests keyspace order redis_r keel_r
        [[ $test == incr ]] && shown_size=-
        requests=$(requests_for "$test" "$size")
        keyspace=$(keyspace_for "$test" "$size")
        if (( case % 2 == 0 )); then order="redis keel"; else order="keel redis"; fi
        for name in $order; do
          local r
          r=$(run_case "$name" "$test" "$size" "$pipeline" "$requests" "$keyspace")
          if [[ $name == redis ]]; then redis_r=$r; else keel_r=$r; fi
        done
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "${test^^}" "$shown_size" "$pipeline" \
          "$requests" "$redis_r" "$keel_r" >>"$results"
        echo "  ${test^^} size=$shown_size P=$pipeline n=$requests:" \
          "redis $redis_r | keel $keel_r" >&2
        case=$((case + 1))
      done
    done
  done

  local table
  table=$(awk -F'\t' '
    function human(b) { return b >= 1024 ? (b / 1024 >= 1024 ? b / 1048576 " MB" : b / 1024 " KB") : b " B" }
    BEGIN {
      print "| test | size | pipeline | requests | Redis rps | Redis p50 ms | Redis p99 ms | Keel rps | Keel p50 ms | Keel p99 ms | Keel/Redis rps |"
      print "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|"
    }
    {
      split($5, r, " "); split($6, k, " ")
      size = ($2 == "-") ? "-" : human($2)
      ratio = (r[1] > 0) ? sprintf("%.2f", k[1] / r[1]) : "n/a"
      printf "| %s | %s | %s | %s | %.0f | %s | %s | %.0f | %s | %s | %s |\n",
        $1, size, $3, $4, r[1], r[2], r[3], k[1], k[2], k[3], ratio
    }' "$results")

  echo
  # the same table, aligned for the terminal
  awk 'NR != 2 {
      sub(/^[|] /, ""); sub(/ [|]$/, "")
      split($0, f, / [|] /)
      printf "%-6s %6s %8s %8s | %9s %12s %12s | %9s %11s %11s | %s\n",
        f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11]
    }' <<<"$table"

  mkdir -p "$(dirname "$BENCH_OUT")"
  {
    echo "# Keel vs Redis: redis-benchmark"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); host: $(uname -srm), $(nproc) CPUs"
    echo "- redis-server: $("$REDIS_SERVER" --version | head -n 1)"
    echo "  (--appendonly yes --appendfsync everysec --save '')"
    echo "- keel-server: $KEEL_SERVER (default fsync policy)"
    echo "- redis-benchmark: -c $BENCH_CLIENTS, -r up to $BENCH_KEYSPACE random keys" \
      "(capped at 64 MB of values per case), --csv; requests per case in the table"
    echo "- rps = requests per second; p50/p99 = latency percentiles in ms." \
      "Keel/Redis > 1 means Keel is faster."
    [[ ${QUICK:-0} == 1 ]] && echo "- QUICK=1 smoke run: numbers are not meaningful"
    echo
    echo "$table"
  } >"$BENCH_OUT"
  echo >&2
  echo "written to $BENCH_OUT" >&2
}

main "$@"
