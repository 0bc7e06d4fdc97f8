# bench/lib.sh: what the side-by-side benchmark scripts share (sourced, never run).
#
# Servers are tracked by name in two associative arrays, PID and PORT. bench_init creates
# WORK (a temporary directory holding each server's data and log) and installs the traps
# that, on exit, errors or Ctrl-C, stop every started server by its pid (SIGTERM, SIGKILL
# after STOP_SECONDS) and remove WORK. A script may define bench_extra_cleanup to stop
# helpers of its own first. The sourcing script defines die() and REDIS_CLI.

STOP_SECONDS=${STOP_SECONDS:-30}

bench_init() {  # tag: names the temporary directory
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/keel-$1.XXXXXX")
  declare -gA PID=() PORT=()
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

stop_server() {  # name
  local name=$1 pid=${PID[$1]:-}
  [[ -n $pid ]] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq $((STOP_SECONDS * 10))); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "$name (pid $pid) ignored SIGTERM; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
  PID[$name]=
}

bench_cleanup() {
  if declare -F bench_extra_cleanup >/dev/null; then bench_extra_cleanup; fi
  local name
  for name in "${!PID[@]}"; do stop_server "$name"; done
  [[ -n ${WORK:-} ]] && rm -rf "$WORK"
}

# A free 127.0.0.1 port that no server of this run uses.
free_port() {
  local port used
  while true; do
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    used=0
    for p in "${PORT[@]}"; do [[ $p == "$port" ]] && used=1; done
    (( used )) || { echo "$port"; return; }
  done
}

wait_ready() {  # name: until it answers PING (30 s), or die with the end of its log
  local name=$1
  for _ in $(seq 300); do
    kill -0 "${PID[$name]}" 2>/dev/null || { tail -n 20 "$WORK/$name.log" >&2; die "$name exited"; }
    if [[ $("$REDIS_CLI" -h 127.0.0.1 -p "${PORT[$name]}" ping 2>/dev/null) == PONG ]]; then
      return 0
    fi
    sleep 0.1
  done
  tail -n 20 "$WORK/$name.log" >&2
  die "$name did not answer PING on port ${PORT[$name]}"
}

# Starts `program args...` as server `name` on a free port, bound to 127.0.0.1, with its
# data under $WORK/name-data and its output in $WORK/name.log, and waits until it answers.
start_server() {  # name program args...
  local name=$1 program=$2
  shift 2
  mkdir -p "$WORK/$name-data"
  PORT[$name]=$(free_port)
  "$program" --port "${PORT[$name]}" --bind 127.0.0.1 --dir "$WORK/$name-data" "$@" \
    >"$WORK/$name.log" 2>&1 &
  PID[$name]=$!
  wait_ready "$name"
}
