#!/usr/bin/env python3
"""Failover: a client writes continuously to a three-node Keel cluster; the leader is killed
with kill -9 N times (restarted with its data after each failover); reports the
unavailability window of each kill (from the kill to the first acknowledged write after it):
p50 and max. Goal (issue 12): max under 1 s. Run by bench/failover_bench.sh."""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import redis

KEEL = os.environ.get("KEEL_SERVER", os.path.join(os.path.dirname(__file__), "..",
                                                  "build/server/keel-server"))
KILLS = int(os.environ.get("BENCH_KILLS", "20"))


def free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


class Node:
    def __init__(self, base, port, bus):
        self.port, self.bus, self.dir = port, bus, os.path.join(base, str(port))
        os.makedirs(self.dir, exist_ok=True)
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [KEEL, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--cluster-enabled", "yes", "--cluster-port", str(self.bus), "--metrics-port", "0"],
            stdout=open(os.path.join(self.dir, "keel.log"), "ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if redis.Redis(port=self.port, socket_timeout=1).ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"node {self.port} did not start")

    def kill9(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def role(self):
        return redis.Redis(port=self.port, socket_timeout=0.5).execute_command("ROLE")[0]


def leader(nodes):
    for n in nodes:
        try:
            if n.proc.poll() is None and n.role() == b"master":
                return n
        except redis.RedisError:
            pass
    return None


def main():
    base = tempfile.mkdtemp(prefix="keel-failover.")
    ports = free_ports(6)
    nodes = [Node(base, ports[i], ports[3 + i]) for i in range(3)]
    try:
        for n in nodes:
            n.start()
        while leader(nodes[:1]) is None:
            time.sleep(0.05)
        for n in nodes[1:]:
            redis.Redis(port=nodes[0].port).execute_command("CLUSTER", "MEET", "127.0.0.1",
                                                            n.port, n.bus)
        time.sleep(2)
        acked = []  # monotonic times of acknowledged writes
        stop = threading.Event()

        def writer():
            conn, i = None, 0
            while not stop.is_set():
                try:
                    if conn is None:
                        l = leader(nodes)
                        if l is None:
                            time.sleep(0.005)
                            continue
                        conn = redis.Redis(port=l.port, socket_timeout=1)
                    conn.set(f"f:{i}", i)
                    acked.append(time.monotonic())
                    i += 1
                except redis.RedisError:
                    conn = None

        t = threading.Thread(target=writer)
        t.start()
        windows = []
        for k in range(KILLS):
            time.sleep(0.5)
            l = leader(nodes)
            while l is None:
                time.sleep(0.01)
                l = leader(nodes)
            killed = time.monotonic()
            l.kill9()
            while not acked or acked[-1] <= killed:
                time.sleep(0.005)
                if time.monotonic() - killed > 30:
                    raise RuntimeError("writes did not resume within 30 s")
            first = next(a for a in acked if a > killed)
            windows.append(first - killed)
            print(f"kill {k + 1}: writes resumed after {windows[-1] * 1000:.0f} ms", flush=True)
            l.start()
        stop.set()
        t.join()
        print(f"kills={len(windows)} p50_ms={statistics.median(windows) * 1000:.0f} "
              f"max_ms={max(windows) * 1000:.0f} writes={len(acked)}")
    finally:
        for n in nodes:
            n.stop()
        subprocess.run(["rm", "-rf", base])


if __name__ == "__main__":
    sys.exit(main())
