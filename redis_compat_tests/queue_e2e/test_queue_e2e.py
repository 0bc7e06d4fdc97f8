"""End-to-end queue test: real clients move messages through Keel while it is killed.

Python (redis-py) and Node.js (ioredis) producers push QUEUE_MESSAGES messages into a stream
consumer group (XADD / XREADGROUP / XACK / XAUTOCLAIM) and as many into a BLMOVE reliable list
queue (LPUSH / BLMOVE to a per-consumer processing list / LREM), while several consumers of
both languages work them off. The keel-server process is killed with SIGKILL and restarted on
the same data directory twice: once while producers are still writing, once while consumers
drain. Workers reconnect, re-read their pending work (XREADGROUP history, XAUTOCLAIM, the
processing list) and go on. Afterwards the workers' logs must show:

  - every message whose push was acknowledged was processed at least once;
  - nothing was processed that no producer sent;
  - no entry or element was acknowledged (XACK / LREM returning 1) twice, and none was
    delivered again after its acknowledgement was confirmed;
  - the server ends with nothing pending: PEL empty, queue and processing lists empty.

    KEEL_SERVER           the keel-server binary (default build/server/keel-server)
    KEEL_SERVER_ARGS      extra keel-server arguments (default "--metrics-port 0")
    KEEL_QUEUE_MESSAGES   messages per queue (default 100000)

Needs Node.js and npm (Debian: apt-get install nodejs npm); ioredis is installed from
package-lock.json into node_modules/ with `npm ci` when missing.
"""

from __future__ import annotations

import collections
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
MESSAGES = int(os.environ.get("KEEL_QUEUE_MESSAGES", "100000"))
DEADLINE_S = 170


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_node_modules() -> list[str]:
    node = shutil.which("node") or shutil.which("nodejs")
    npm = shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("Node.js and npm are required (Debian: apt-get install nodejs npm)",
                    pytrace=False)
    if not (HERE / "node_modules" / "ioredis").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True,
                       stdout=subprocess.DEVNULL)
    return [node, str(HERE / "worker.js")]


class Keel:
    """keel-server as a child process on a fixed port and data directory."""

    def __init__(self, binary: str, port: int, data: Path, log: Path):
        # Extra arguments first, as the compatibility runner places them; by default the
        # Prometheus endpoint is off so a keel-server running elsewhere cannot collide.
        extra = os.environ.get("KEEL_SERVER_ARGS", "--metrics-port 0").split()
        self.argv = [binary] + extra + ["--port", str(port), "--bind", "127.0.0.1", "--dir",
                                        str(data)]
        self.port, self.log, self.proc = port, log, None

    def start(self) -> None:
        with open(self.log, "a") as out:
            self.proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_timeout=1).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise AssertionError(f"keel-server did not start, see {self.log}")

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def read_logs(paths: list[Path]) -> list[list[str]]:
    out = []
    for p in paths:
        if p.exists():
            out.extend(line.split(" ") for line in p.read_text().splitlines() if line)
    return out


def test_queues_survive_two_kill_nines_with_python_and_node_clients(tmp_path):
    node_worker = ensure_node_modules()
    binary = os.environ.get("KEEL_SERVER") or str(REPO / "build/server/keel-server")
    port = free_port()
    keel = Keel(binary, port, tmp_path / "data", tmp_path / "keel.log")
    keel.start()
    workers: list[subprocess.Popen] = []
    try:
        r = redis.Redis(port=port, socket_timeout=5, decode_responses=True)
        r.xgroup_create("jobs", "g", id="$", mkstream=True)

        logs = {"stream-producer": [], "list-producer": [], "stream-consumer": [],
                "list-consumer": []}

        def spawn(lang: str, role: str, name: str, *extra: int) -> None:
            log = tmp_path / f"{role}-{name}.log"
            logs[role].append(log)
            argv = (node_worker if lang == "node" else
                    [sys.executable, str(HERE / "py_worker.py")])
            workers.append(subprocess.Popen(argv + [role, str(port), name, str(log)] +
                                            [str(e) for e in extra]))

        half = MESSAGES // 2
        for role in ("stream-producer", "list-producer"):
            spawn("py", role, "pyprod", 1, half)
            spawn("node", role, "nodeprod", half + 1, MESSAGES)
        for role in ("stream-consumer", "list-consumer"):
            for i in range(2):
                spawn("py", role, f"py{i}")
                spawn("node", role, f"node{i}")
        producers = [w for w in workers if "producer" in " ".join(map(str, w.args))]

        start = time.monotonic()

        def elapsed() -> float:
            return time.monotonic() - start

        def probe(fn, default):
            try:
                return fn()
            except redis.RedisError:
                return default

        # Kill 1: while producing. Kill 2: while consuming.
        def list_acks() -> int:
            return sum(1 for p in logs["list-consumer"] if p.exists()
                       for line in p.read_text().splitlines() if line.startswith("A "))

        kills = []
        while len(kills) < 2 and elapsed() < DEADLINE_S:
            length = probe(lambda: r.xlen("jobs"), 0)
            read = probe(lambda: r.xinfo_groups("jobs")[0]["entries-read"] or 0, 0)
            listed = list_acks() if kills else 0
            if (not kills and length >= MESSAGES * 3 // 10) or \
               (kills and (read >= MESSAGES * 8 // 10 or listed >= MESSAGES // 2)):
                keel.kill9()
                kills.append((round(elapsed(), 1), length, read, listed))
                time.sleep(0.3)
                keel.start()
            time.sleep(0.05 if not kills else 0.3)
        assert len(kills) == 2, f"the run ended before the second kill: {kills}"

        for w in producers:
            w.wait(timeout=max(1, DEADLINE_S - elapsed()))
            assert w.returncode == 0, f"producer {w.args} failed"

        def drained() -> bool:
            pending = r.xpending("jobs", "g")["pending"]
            lag = r.xinfo_groups("jobs")[0]["lag"]
            busy = [k for k in r.scan_iter("processing:*") if r.llen(k) > 0]
            return pending == 0 and lag == 0 and r.llen("queue") == 0 and not busy

        while not probe(drained, False):
            assert elapsed() < DEADLINE_S, "queues were not drained in time"
            time.sleep(0.2)
        r.set("e2e:stop", "1")
        for w in workers:
            w.wait(timeout=max(1, DEADLINE_S - elapsed()))
            assert w.returncode == 0, f"worker {w.args} failed"
        final_len = r.xlen("jobs")
        duration = elapsed()
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait()
        keel.stop()

    # ---- the stream ----
    produced = set()     # messages whose XADD was acknowledged
    for ev in read_logs(logs["stream-producer"]):
        if ev[0] == "S":
            produced.add(int(ev[1]))
    assert produced == set(range(1, MESSAGES + 1))
    processed_msgs, processed = set(), collections.defaultdict(list)
    acked = collections.defaultdict(list)
    for ev in read_logs(logs["stream-consumer"]):
        if ev[0] == "P":
            processed_msgs.add(int(ev[2]))
            processed[ev[1]].append(int(ev[3]))
        elif ev[0] == "A" and ev[2] == "1":
            acked[ev[1]].append(int(ev[3]))
    assert produced <= processed_msgs, f"lost: {sorted(produced - processed_msgs)[:10]}"
    twice = [e for e, ts in acked.items() if len(ts) > 1]
    assert not twice, f"stream entries acknowledged twice: {twice[:10]}"
    late = [e for e, ts in acked.items() if max(processed[e]) > ts[0]]
    assert not late, f"stream entries delivered after their acknowledgement: {late[:10]}"
    assert final_len >= MESSAGES
    stream_redelivered = sum(len(v) - 1 for v in processed.values())

    # ---- the list ----
    pushed, sent = set(), set()
    for ev in read_logs(logs["list-producer"]):
        if ev[0] == "L":
            pushed.add(int(ev[1]))
        elif ev[0] == "T":
            sent.add(ev[1])
    assert pushed == set(range(1, MESSAGES + 1))
    items_done = collections.defaultdict(list)
    removed = collections.defaultdict(list)
    list_msgs = set()
    for ev in read_logs(logs["list-consumer"]):
        if ev[0] == "P":
            items_done[ev[1]].append(int(ev[3]))
            list_msgs.add(int(ev[2]))
        elif ev[0] == "A" and ev[2] == "1":
            removed[ev[1]].append(int(ev[3]))
    assert pushed <= list_msgs, f"lost: {sorted(pushed - list_msgs)[:10]}"
    unknown = set(items_done) - sent
    assert not unknown, f"processed elements nobody sent: {sorted(unknown)[:10]}"
    twice = [e for e, ts in removed.items() if len(ts) > 1]
    assert not twice, f"list elements acknowledged twice: {twice[:10]}"
    late = [e for e, ts in removed.items() if max(items_done[e]) > ts[0]]
    assert not late, f"list elements delivered after their acknowledgement: {late[:10]}"
    list_redelivered = sum(len(v) - 1 for v in items_done.values())

    print(f"\nqueue e2e: {MESSAGES} messages per queue in {duration:.1f} s; kills at "
          f"(s, XLEN, stream entries read, list acks) {kills}; stream entries "
          f"{final_len}, redelivered {stream_redelivered}; list elements processed "
          f"{len(items_done)}, redelivered {list_redelivered}")
