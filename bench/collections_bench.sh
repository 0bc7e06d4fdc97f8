#!/usr/bin/env bash
# Hashes, sets and sorted sets: Keel vs redis-server side by side (see bench/README.md).
#
# For each collection size N (COLL_SIZES, default "1000 100000"; COLL_SIZES="1000 10000000"
# for the 10M-element run, which needs ~3 GB of RAM for Redis and a few minutes per fill):
#   1. fills a hash (hbig: f:i -> v), a set (sbig: m:i) and a sorted set (zbig: m:i with
#      i written as 12 zero-padded digits, like redis-benchmark's __rand_int__,
#      distinct integer scores in a shuffled order) with N elements on both servers, through
#      `redis-cli --pipe` (pipelined, 1000 elements per command), and times the fills;
#   2. runs redis-benchmark cases on both servers, alternating which goes first:
#        HSET hbig f:<rand below N> v      SADD sbig m:<rand below N>
#        ZADD zbig <rand> m:<rand below N> ZSCORE zbig m:<rand below N>
#        ZRANK zbig m:<rand below N>       ZRANGE zbig N/2 N/2+10 (by index)
#        ZRANGE zbig N/2 N/2+10 WITHSCORES ZCOUNT zbig <N/4> <3N/4>
#      each with COLL_CLIENTS connections (default 50) at pipeline 1, plus the ZRANK and ZRANGE
#      cases with one connection (latency of a lone client);
#   3. times DEL of the three keys on each server (O(1) in Keel: one metadata record);
#   4. prints a table with requests/s, p50/p99 latency and the Keel/Redis throughput ratio,
#      and writes it to bench/results/collections.md (COLL_OUT).
# Keel runs with its default fsync policy; Redis with AOF (appendfsync everysec), no RDB.
# Both servers are stopped by pid on exit.
#
# Environment (defaults in brackets):
#   KEEL_SERVER      keel-server binary      [<repo>/build/server/keel-server]
#   REDIS_SERVER     reference server        [redis-server]
#   REDIS_BENCHMARK  benchmark client        [redis-benchmark]
#   REDIS_CLI        loader / PING           [redis-cli]
#   COLL_SIZES       collection sizes        [1000 100000]
#   COLL_REQUESTS    requests per case       [100000]
#   COLL_CLIENTS     connections             [50]
#   COLL_OUT         markdown output         [<repo>/bench/results/collections.md]
#   QUICK=1          smoke run: N = 1000 and 2000 requests per case
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KEEL_SERVER=${KEEL_SERVER:-$REPO_ROOT/build/server/keel-server}
REDIS_SERVER=${REDIS_SERVER:-redis-server}
REDIS_BENCHMARK=${REDIS_BENCHMARK:-redis-benchmark}
REDIS_CLI=${REDIS_CLI:-redis-cli}
COLL_CLIENTS=${COLL_CLIENTS:-50}
COLL_OUT=${COLL_OUT:-$REPO_ROOT/bench/results/collections.md}
if [[ ${QUICK:-0} == 1 ]]; then
  COLL_SIZES=${COLL_SIZES:-1000}
  COLL_REQUESTS=${COLL_REQUESTS:-2000}
else
  COLL_SIZES=${COLL_SIZES:-1000 100000}
  COLL_REQUESTS=${COLL_REQUESTS:-100000}
fi

die() { echo "collections_bench.sh: $*" >&2; exit 1; }

for tool in "$REDIS_SERVER" "$REDIS_BENCHMARK" "$REDIS_CLI" python3; do
  command -v "$tool" >/dev/null || die "$tool not found"
done
[[ -x $KEEL_SERVER ]] || die "keel-server not found at $KEEL_SERVER (build it or set KEEL_SERVER)"

# shellcheck source=bench/lib.sh
source "$REPO_ROOT/bench/lib.sh"
bench_init coll-bench

start_servers() {
  start_server redis "$REDIS_SERVER" --appendonly yes --appendfsync everysec --save ''
  start_server keel "$KEEL_SERVER"
}

# Writes the RESP commands that fill hbig, sbig and zbig with N elements each, 1000 per
# command. zbig's scores are a permutation of 0..N-1, so ranks are known: rank(m:i) = score.
gen_fill() {  # N
  python3 - "$1" <<'EOF'
import sys
n = int(sys.argv[1])
out = sys.stdout.buffer
def cmd(args):
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    out.write(b"".join(parts))
step = 1000
# A permutation of 0..n-1 with no common factor: score(i) = i * k mod n.
k = 2654435761 % n if n > 1 else 0
from math import gcd
while n > 1 and gcd(k, n) != 1:
    k += 1
for start in range(0, n, step):
    idx = range(start, min(n, start + step))
    h, s, z = [b"HSET", b"hbig"], [b"SADD", b"sbig"], [b"ZADD", b"zbig"]
    for i in idx:
        m = b"m:%012d" % i  # redis-benchmark's __rand_int__ is 12 zero-padded digits
        h += [b"f:%012d" % i, b"v"]
        s.append(m)
        z += [b"%d" % ((i * k) % n if n > 1 else 0), m]
    cmd(h); cmd(s); cmd(z)
EOF
}

fill() {  # name N -> prints seconds
  local name=$1 n=$2 start end
  "$REDIS_CLI" -h 127.0.0.1 -p "${PORT[$name]}" FLUSHALL >/dev/null
  start=$(date +%s.%N)
  gen_fill "$n" | "$REDIS_CLI" -h 127.0.0.1 -p "${PORT[$name]}" --pipe >"$WORK/fill.out" 2>&1 ||
    { cat "$WORK/fill.out" >&2; die "fill of $name failed"; }
  end=$(date +%s.%N)
  grep -q "errors: 0" "$WORK/fill.out" || { cat "$WORK/fill.out" >&2; die "fill of $name had errors"; }
  for key in hbig sbig zbig; do
    local card
    case $key in
      hbig) card=$("$REDIS_CLI" -h 127.0.0.1 -p "${PORT[$name]}" HLEN hbig) ;;
      sbig) card=$("$REDIS_CLI" -h 127.0.0.1 -p "${PORT[$name]}" SCARD sbig) ;;
      zbig) card=$("$REDIS_CLI" -h 127.0.0.1 -p "${PORT[$name]}" ZCARD zbig) ;;
    esac
    [[ $card == "$n" ]] || die "$name: $key has $card elements, expected $n"
  done
  python3 -c "print(f'{$end - $start:.1f}')"
}

# Deletes the three collections from one server; prints seconds (Redis frees the elements
# in DEL itself; Keel deletes one metadata record and leaves the elements to compaction).
time_del() {  # name N -> prints seconds
  local name=$1 n=$2 start end deleted
  start=$(date +%s.%N)
  deleted=$("$REDIS_CLI" -h 127.0.0.1 -p "${PORT[$name]}" DEL hbig sbig zbig)
  end=$(date +%s.%N)
  [[ $deleted == 3 ]] || die "$name: DEL hbig sbig zbig replied $deleted (N=$n)"
  python3 -c "print(f'{$end - $start:.3f}')"
}

# Runs one case on one server; prints "rps p50 p99".
run_case() {  # name clients requests args...
  local name=$1 clients=$2 requests=$3 out
  shift 3
  out=$("$REDIS_BENCHMARK" -h 127.0.0.1 -p "${PORT[$name]}" -n "$requests" -c "$clients" \
    -r "$RAND" --csv "$@" 2>"$WORK/bench.err") ||
    { cat "$WORK/bench.err" >&2; die "redis-benchmark failed against $name: $*"; }
  awk -F'"' 'NR == 2 { print $4, $10, $14 }' <<<"$out" | grep . ||
    { echo "$out" >&2; die "no CSV result from redis-benchmark against $name"; }
}

main() {
  start_servers
  echo "redis-server on port ${PORT[redis]} (pid ${PID[redis]}), keel-server on port" \
    "${PORT[keel]} (pid ${PID[keel]})" >&2
  local results=$WORK/results.tsv case=0
  : >"$results"
  for n in $COLL_SIZES; do
    RAND=$n
    local redis_fill keel_fill mid=$(( n / 2 ))
    echo "filling hbig/sbig/zbig with $n elements each..." >&2
    redis_fill=$(fill redis "$n")
    keel_fill=$(fill keel "$n")
    echo "  fill: redis ${redis_fill}s | keel ${keel_fill}s" >&2
    printf '%s\t%s\t%s\t%s\t%s %s\t%s %s\n' "$n" "fill (3 x $n elements, pipelined)" "1" "-" \
      "$redis_fill" "s" "$keel_fill" "s" >>"$results"
    local -a cases=(
      "$COLL_CLIENTS|HSET hbig f:__rand_int__ v"
      "$COLL_CLIENTS|SADD sbig m:__rand_int__"
      "$COLL_CLIENTS|ZADD zbig __rand_int__ m:__rand_int__"
      "$COLL_CLIENTS|ZSCORE zbig m:__rand_int__"
      "$COLL_CLIENTS|ZRANK zbig m:__rand_int__"
      "$COLL_CLIENTS|ZRANGE zbig $mid $(( mid + 10 ))"
      "$COLL_CLIENTS|ZRANGE zbig $mid $(( mid + 10 )) WITHSCORES"
      "$COLL_CLIENTS|ZCOUNT zbig $(( n / 4 )) $(( 3 * n / 4 ))"
      "1|ZRANK zbig m:__rand_int__"
      "1|ZRANGE zbig $mid $(( mid + 10 ))"
    )
    for spec in "${cases[@]}"; do
      local clients=${spec%%|*} command=${spec#*|} requests=$COLL_REQUESTS order r redis_r keel_r
      (( clients == 1 )) && requests=$(( COLL_REQUESTS / 10 > 100 ? COLL_REQUESTS / 10 : 100 ))
      if (( case % 2 == 0 )); then order="redis keel"; else order="keel redis"; fi
      for name in $order; do
        # shellcheck disable=SC2086  # the command is split into words on purpose
        r=$(run_case "$name" "$clients" "$requests" $command)
        if [[ $name == redis ]]; then redis_r=$r; else keel_r=$r; fi
      done
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$command" "$clients" "$requests" "$redis_r" \
        "$keel_r" >>"$results"
      echo "  N=$n c=$clients $command: redis $redis_r | keel $keel_r" >&2
      case=$((case + 1))
    done
    local redis_del keel_del
    redis_del=$(time_del redis "$n")
    keel_del=$(time_del keel "$n")
    echo "  DEL: redis ${redis_del}s | keel ${keel_del}s" >&2
    printf '%s\t%s\t%s\t%s\t%s %s\t%s %s\n' "$n" "DEL hbig sbig zbig (3 x $n elements)" "1" "-" \
      "$redis_del" "s" "$keel_del" "s" >>"$results"
  done

  local table
  table=$(awk -F'\t' '
    BEGIN {
      print "| N | command | clients | requests | Redis rps | Redis p50 ms | Redis p99 ms | Keel rps | Keel p50 ms | Keel p99 ms | Keel/Redis |"
      print "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    }
    {
      split($5, r, " "); split($6, k, " ")
      if (r[2] == "s") {  # a fill: seconds, the ratio is Redis time / Keel time
        ratio = (k[1] > 0) ? sprintf("%.2f", r[1] / k[1]) : "n/a"
        printf "| %s | %s | %s | %s | %ss | | | %ss | | | %s |\n", $1, $2, $3, $4, r[1], k[1], ratio
        next
      }
      ratio = (r[1] > 0) ? sprintf("%.2f", k[1] / r[1]) : "n/a"
      printf "| %s | `%s` | %s | %s | %.0f | %s | %s | %.0f | %s | %s | %s |\n",
        $1, $2, $3, $4, r[1], r[2], r[3], k[1], k[2], k[3], ratio
    }' "$results")
  echo
  echo "$table"
  mkdir -p "$(dirname "$COLL_OUT")"
  {
    echo "# Collections: Keel vs Redis"
    echo
    echo "\`bench/collections_bench.sh\`, $(date -u '+%Y-%m-%d %H:%M UTC'), sizes: $COLL_SIZES," \
      "$(nproc) CPUs. Keel/Redis above 1: Keel is faster (for fills: Redis time / Keel time)."
    echo
    echo "$table"
  } >"$COLL_OUT"
  echo "written to $COLL_OUT" >&2
}

main "$@"
