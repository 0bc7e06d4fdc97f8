#!/usr/bin/env bash
# Pub/Sub fan-out, Keel vs redis-server side by side: 1,000 subscribers of one channel, one
# publisher, messages delivered per second (see bench/README.md).
#
# Builds bench/pubsub_fanout.c with gcc into a temporary directory, starts keel-server and
# redis-server (no persistence: pub/sub does not touch it) on free loopback ports, then for
# every message size runs the load program against both servers BENCH_ROUNDS times,
# alternating which goes first, and prints the median deliveries/s of each and the
# Keel/Redis ratio (also written as markdown to BENCH_OUT). Both servers are stopped by pid
# on exit.
#
# Environment (defaults in brackets):
#   KEEL_SERVER       keel-server binary         [<repo>/build/server/keel-server]
#   REDIS_SERVER      reference server           [redis-server]
#   REDIS_CLI         used to wait for PING      [redis-cli]
#   CC                C compiler                 [gcc]
#   BENCH_SUBSCRIBERS subscribers of the channel [1000]
#   BENCH_MESSAGES    messages published per run [2000]; times 256/size for payloads
#                     over 256 bytes (at least 100), so a run moves at most ~512 MB
#   BENCH_SIZES       payload sizes in bytes     [16 256 4096]
#   BENCH_WINDOW      PUBLISHes in flight        [64]
#   BENCH_ROUNDS      runs per server and size   [3]
#   BENCH_OUT         markdown output            [<repo>/bench/results/pubsub_fanout.md]
#   QUICK=1           smoke run: 100 subscribers, 200 messages, one round
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KEEL_SERVER=${KEEL_SERVER:-$REPO_ROOT/build/server/keel-server}
REDIS_SERVER=${REDIS_SERVER:-redis-server}
REDIS_CLI=${REDIS_CLI:-redis-cli}
CC=${CC:-gcc}
if [[ ${QUICK:-0} == 1 ]]; then
  BENCH_SUBSCRIBERS=${BENCH_SUBSCRIBERS:-100}
  BENCH_MESSAGES=${BENCH_MESSAGES:-200}
  BENCH_ROUNDS=${BENCH_ROUNDS:-1}
fi
BENCH_SUBSCRIBERS=${BENCH_SUBSCRIBERS:-1000}
BENCH_MESSAGES=${BENCH_MESSAGES:-2000}
BENCH_SIZES=${BENCH_SIZES:-16 256 4096}
BENCH_WINDOW=${BENCH_WINDOW:-64}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_OUT=${BENCH_OUT:-$REPO_ROOT/bench/results/pubsub_fanout.md}

die() { echo "pubsub_fanout.sh: $*" >&2; exit 1; }

for tool in "$REDIS_SERVER" "$REDIS_CLI" "$CC" python3; do
  command -v "$tool" >/dev/null || die "$tool not found"
done
[[ -x $KEEL_SERVER ]] || die "keel-server not found at $KEEL_SERVER (build it or set KEEL_SERVER)"

# shellcheck source=bench/lib.sh
source "$REPO_ROOT/bench/lib.sh"
bench_init fanout

start_servers() {
  start_server redis "$REDIS_SERVER" --appendonly no --save ''
  start_server keel "$KEEL_SERVER"
}

messages_for() {  # size
  local n=$BENCH_MESSAGES
  (( $1 > 256 )) && n=$(( n * 256 / $1 ))
  (( n < 100 )) && n=100
  echo "$n"
}

# One run against one server; prints its deliveries/s.
run_case() {  # name size
  local name=$1 size=$2 out
  out=$("$WORK/pubsub_fanout" -p "${PORT[$name]}" -s "$BENCH_SUBSCRIBERS" \
    -m "$(messages_for "$size")" -d "$size" -w "$BENCH_WINDOW" -c "fanout-$size" 2>&1) ||
    { echo "$out" >&2; die "pubsub_fanout failed against $name"; }
  echo "    $name: $out" >&2
  sed -n 's/.*deliveries_per_sec=\([0-9]*\).*/\1/p' <<<"$out"
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

main() {
  "$CC" -O2 -Wall -Wextra -Werror -o "$WORK/pubsub_fanout" "$REPO_ROOT/bench/pubsub_fanout.c" ||
    die "could not build bench/pubsub_fanout.c"
  start_servers
  echo "redis-server on port ${PORT[redis]} (pid ${PID[redis]}), keel-server on port" \
    "${PORT[keel]} (pid ${PID[keel]}); $BENCH_SUBSCRIBERS subscribers, $BENCH_MESSAGES" \
    "messages per run, $BENCH_ROUNDS rounds" >&2

  local rows="" run=0
  for size in $BENCH_SIZES; do
    local redis_all="" keel_all=""
    for round in $(seq "$BENCH_ROUNDS"); do
      local order
      if (( run % 2 == 0 )); then order="redis keel"; else order="keel redis"; fi
      echo "  size=$size round=$round:" >&2
      for name in $order; do
        local r
        r=$(run_case "$name" "$size")
        if [[ $name == redis ]]; then redis_all+=" $r"; else keel_all+=" $r"; fi
      done
      run=$((run + 1))
    done
    local redis_m keel_m
    redis_m=$(median <<<"$redis_all")
    keel_m=$(median <<<"$keel_all")
    rows+="$size $(messages_for "$size") $redis_m $keel_m"$'\n'
  done

  local table
  table=$(awk -v subs="$BENCH_SUBSCRIBERS" '
    BEGIN {
      print "| subscribers | messages | payload | Redis deliveries/s | Keel deliveries/s | Keel/Redis |"
      print "|---:|---:|---:|---:|---:|---:|"
    }
    NF == 4 {
      printf "| %d | %d | %d B | %.0f | %.0f | %.2f |\n", subs, $2, $1, $3, $4,
        ($3 > 0 ? $4 / $3 : 0)
    }' <<<"$rows")
  echo
  echo "$table"
  mkdir -p "$(dirname "$BENCH_OUT")"
  {
    echo "# Pub/Sub fan-out: Keel vs Redis"
    echo
    echo "\`bench/pubsub_fanout.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs;" \
      "median of $BENCH_ROUNDS runs; one publisher, up to $BENCH_WINDOW PUBLISHes in flight."
    echo
    echo "$table"
  } >"$BENCH_OUT"
  echo >&2
  echo "written to $BENCH_OUT" >&2
}

main "$@"
