"""A three-process Keel cluster (one Paxos replica group) driven by real cluster clients.

* redis-cli -c and redis-py's RedisCluster write and read through any node, following MOVED
  from followers to the leader;
* the CLUSTER commands answer in the shapes cluster clients parse;
* kill -9 of the leader during a write load: writes resume through the cluster client within
  a second or so, and every acknowledged write is on every replica afterwards;
* one follower stopped (SIGSTOP): the group keeps serving; two of three stopped: no write is
  acknowledged, and none is lost when they come back;
* CLUSTER MEET refuses a node that holds data, and fails in bounded time on an address where
  no Keel node listens.

Every process is started on free loopback ports and stopped by pid at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import redis
from redis.cluster import RedisCluster

from keelcompat.servers import Server, find_program, free_ports, keel_server_argv


class Node:
    def __init__(self, base: Path, port: int, bus: int, extra=()):
        self.port, self.bus = port, bus
        self.dir = base / f"node-{port}"
        self.dir.mkdir(parents=True, exist_ok=True)
        argv = keel_server_argv(port, self.dir) + [
            "--cluster-enabled", "yes", "--cluster-port", str(bus), "--metrics-port", "0",
            "--appendfsync", "always", *extra]
        self.server = Server(f"keel-{port}", argv, port, self.dir / "keel.log")

    def start(self):
        self.server.start()

    def kill9(self):
        proc = self.server.proc
        if proc is not None and proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()

    def signal(self, sig):
        os.kill(self.server.proc.pid, sig)

    def client(self, socket_timeout=5, **kw) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=socket_timeout, **kw)


def cluster_info(node: Node) -> dict:
    text = node.client().execute_command("CLUSTER", "INFO")
    if isinstance(text, bytes):
        text = text.decode()
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def wait_for(what, predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (redis.RedisError, OSError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def role(node: Node) -> str:
    return node.client().execute_command("ROLE")[0].decode()


class Cluster:
    def __init__(self, base: Path, count: int = 3, extra=()):
        ports = free_ports(2 * count)
        self.nodes = [Node(base, ports[i], ports[count + i], extra) for i in range(count)]

    def start(self):
        for n in self.nodes:
            n.start()
        first = self.nodes[0]
        wait_for("the first node to lead", lambda: role(first) == "master")
        for n in self.nodes[1:]:
            assert first.client().execute_command(
                "CLUSTER", "MEET", "127.0.0.1", n.port, n.bus) in (b"OK", "OK", True)
        wait_for("every node to be a voter", self.all_voters)

    def all_voters(self) -> bool:
        info = self.leader().client().info("replication")
        voters = [v for k, v in info.items() if k.startswith("slave")]
        return len(voters) == len(self.nodes) - 1 and all(
            ",voter=1" in str(v) or v.get("voter") == 1 for v in voters)

    def leader(self, among=None) -> Node:
        for n in among or self.nodes:
            try:
                if role(n) == "master":
                    return n
            except (redis.RedisError, OSError):
                continue
        raise AssertionError("no leader")

    def stop(self):
        for n in self.nodes:
            proc = n.server.proc
            if proc is not None and proc.poll() is None:
                try:
                    os.kill(proc.pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
            n.server.stop()


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(tmp_path)
    try:
        c.start()
        yield c
    finally:
        c.stop()


def rc(node: Node) -> RedisCluster:
    return RedisCluster(host="127.0.0.1", port=node.port, socket_timeout=5,
                        cluster_error_retry_attempts=20)


def test_redis_cli_c_writes_and_reads_through_any_node(cluster):
    cli = find_program("REDIS_CLI", "redis-cli", "redis-cli")
    for i, n in enumerate(cluster.nodes):
        out = subprocess.run([cli, "-c", "-p", str(n.port), "SET", f"cli:{i}", f"v{i}"],
                             capture_output=True, text=True, timeout=30)
        assert out.stdout.strip() == "OK", out
    for i, n in enumerate(cluster.nodes):
        other = cluster.nodes[(i + 1) % len(cluster.nodes)]
        out = subprocess.run([cli, "-c", "-p", str(other.port), "GET", f"cli:{i}"],
                             capture_output=True, text=True, timeout=30)
        assert out.stdout.strip() == f"v{i}", out
    # Without -c a follower redirects to the leader, as Redis Cluster does.
    follower = next(n for n in cluster.nodes if n is not cluster.leader())
    with pytest.raises(redis.ResponseError, match=r"^MOVED \d+ 127\.0\.0\.1:\d+$"):
        follower.client().get("cli:0")


def test_redis_py_rediscluster_through_a_follower(cluster):
    follower = next(n for n in cluster.nodes if n is not cluster.leader())
    client = rc(follower)
    for i in range(200):
        assert client.set(f"py:{i}", i)
    assert [client.get(f"py:{i}") for i in range(0, 200, 50)] == [b"0", b"50", b"100", b"150"]
    assert client.incr("py:counter") == 1
    pipe = client.pipeline()
    for i in range(20):
        pipe.rpush("py:list", i)
    assert pipe.execute()[-1] == 20
    assert client.lrange("py:list", 0, 2) == [b"0", b"1", b"2"]
    client.close()


def test_cluster_commands_answer_in_the_shapes_clients_parse(cluster):
    leader = cluster.leader()
    c = leader.client()
    slots = c.execute_command("CLUSTER", "SLOTS")
    assert len(slots) == 1 and slots[0][0] == 0 and slots[0][1] == 16383
    assert slots[0][2][1] == leader.port  # the primary is the leader
    assert sorted(n[1] for n in slots[0][2:]) == sorted(n.port for n in cluster.nodes)
    nodes = c.execute_command("CLUSTER", "NODES")
    nodes = nodes.decode() if isinstance(nodes, bytes) else nodes
    lines = [l for l in str(nodes).splitlines() if l.strip()]
    assert len(lines) == 3 and sum("master" in l for l in lines) == 1
    myid = c.execute_command("CLUSTER", "MYID")
    assert len(myid) == 40
    assert cluster_info(leader)["cluster_state"] == "ok"
    assert c.execute_command("CLUSTER", "KEYSLOT", "{user1000}.following") == 3443
    assert c.info("cluster")["cluster_enabled"] == 1
    c.set("{tag}a", 1)
    c.set("{tag}b", 2)
    slot = c.execute_command("CLUSTER", "KEYSLOT", "{tag}")
    assert c.execute_command("CLUSTER", "COUNTKEYSINSLOT", slot) == 2
    assert sorted(c.execute_command("CLUSTER", "GETKEYSINSLOT", slot, 10)) == [b"{tag}a", b"{tag}b"]
    with pytest.raises(redis.ResponseError, match="Invalid slot"):
        c.execute_command("CLUSTER", "COUNTKEYSINSLOT", 16384)
    with pytest.raises(redis.ResponseError, match="unknown subcommand"):
        c.execute_command("CLUSTER", "NOSUCH")
    with pytest.raises(redis.ResponseError, match="not allowed in cluster mode"):
        c.execute_command("SELECT", 1)
    # READONLY lets a follower serve reads of its applied state.
    follower = next(n for n in cluster.nodes if n is not leader)
    f = follower.client()
    assert f.execute_command("READONLY") in (b"OK", True)
    wait_for("the follower to apply", lambda: f.get("{tag}a") == b"1")


def test_meet_refuses_a_node_with_data_and_an_address_without_keel(tmp_path, cluster):
    leader = cluster.leader()
    loner = Node(tmp_path / "loner", *free_ports(2))
    loner.start()
    try:
        wait_for("the loner to lead itself", lambda: role(loner) == "master")
        loner.client().set("mine", "1")
        with pytest.raises(redis.ResponseError, match="holds data"):
            leader.client().execute_command("CLUSTER", "MEET", "127.0.0.1", loner.port, loner.bus)
        assert loner.client().get("mine") == b"1"  # nothing merged, nothing lost
    finally:
        loner.server.stop()
    nobody = free_ports(1)[0]
    start = time.monotonic()
    with pytest.raises(redis.ResponseError, match="no Keel node answered"):
        leader.client().execute_command("CLUSTER", "MEET", "127.0.0.1", nobody, nobody)
    assert time.monotonic() - start < 5
    # An address that accepts but never answers: MEET gives up within its bound, and the
    # node's io threads serve other clients meanwhile.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    try:
        port = silent.getsockname()[1]
        outcome = {}

        def meet():
            try:
                leader.client(socket_timeout=10).execute_command(
                    "CLUSTER", "MEET", "127.0.0.1", port, port)
            except redis.ResponseError as e:
                outcome["error"] = str(e)

        start = time.monotonic()
        t = threading.Thread(target=meet)
        t.start()
        time.sleep(0.2)
        for _ in range(20):
            ping_start = time.monotonic()
            assert leader.client().ping()
            assert time.monotonic() - ping_start < 0.5
        t.join(10)
        assert "no Keel node answered" in outcome.get("error", "")
        assert time.monotonic() - start < 5
    finally:
        silent.close()


def test_kill_9_of_the_leader_loses_no_acknowledged_write(cluster):
    acknowledged: list[tuple[float, str]] = []
    errors: list[str] = []
    stop = threading.Event()

    def writer():
        client = None
        i = 0
        while not stop.is_set():
            key = f"ack:{i}"
            try:
                if client is None:
                    # Any live node will do: the client learns the leader from CLUSTER SLOTS.
                    live = [n for n in cluster.nodes if n.server.proc.poll() is None]
                    client = rc(live[i % len(live)])
                client.set(key, i)
                acknowledged.append((time.monotonic(), key))
            except Exception as e:  # noqa: BLE001 (unknown outcome, no leader, client reinit)
                errors.append(f"{type(e).__name__}: {e}")
                client = None  # start over from the live nodes
                time.sleep(0.01)
            i += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        time.sleep(1.0)
        old = cluster.leader()
        old.kill9()
        killed_at = time.monotonic()
        wait_for("writes to resume after the kill",
                 lambda: sum(1 for ts, _ in acknowledged if ts > killed_at) >= 50, timeout=30)
    finally:
        stop.set()
        t.join(timeout=60)
    after = [ts for ts, _ in acknowledged if ts > killed_at]
    window = after[0] - killed_at
    print(f"\nacknowledged {len(acknowledged)} writes, {len(errors)} errors, writes resumed "
          f"{window:.3f} s after kill -9 of the leader; first errors: {errors[:3]}")
    assert window < 5.0
    survivors = [n for n in cluster.nodes if n is not old]
    assert cluster.leader(survivors) is not old
    keys = [k for _, k in acknowledged]
    # The old leader comes back with its data directory and catches up.
    old.start()
    for n in cluster.nodes:
        c = n.client()
        c.execute_command("READONLY")
        wait_for(f"node {n.port} to hold every acknowledged write",
                 lambda: c.get(keys[-1]) is not None)
        values = c.mget(keys)
        missing = [k for k, v in zip(keys, values) if v is None]
        assert not missing, f"node {n.port} lost {len(missing)} acknowledged writes"


def test_a_stopped_follower_does_not_stop_the_group_and_two_stopped_block_writes(cluster):
    leader = cluster.leader()
    followers = [n for n in cluster.nodes if n is not leader]
    followers[0].signal(signal.SIGSTOP)
    try:
        c = leader.client()
        for i in range(50):
            assert c.set(f"one-down:{i}", i)
        followers[1].signal(signal.SIGSTOP)
        # No majority: the write is not acknowledged (the client gives up first).
        slow = leader.client(socket_timeout=1.5)
        with pytest.raises((redis.TimeoutError, redis.ResponseError)):
            slow.set("two-down", "x")
    finally:
        for f in followers:
            f.signal(signal.SIGCONT)
    client = rc(leader)
    wait_for("the group to serve again", lambda: client.set("after", "1"))
    for i in range(50):
        assert client.get(f"one-down:{i}") == str(i).encode()
    for n in cluster.nodes:
        c = n.client()
        c.execute_command("READONLY")
        wait_for(f"node {n.port} to catch up", lambda: c.get("after") == b"1")
        assert c.get("one-down:49") == b"49"
    client.close()


def info_int(node: Node, field: str) -> int:
    return int(node.client().info("replication")[field])


def test_a_replica_that_lost_its_disk_rejoins_and_catches_up_from_a_snapshot(tmp_path):
    # A small compaction threshold: the log no longer holds the first writes.
    c = Cluster(tmp_path, extra=("--cluster-log-compact-bytes", "64kb"))
    try:
        c.start()
        leader = c.leader()
        client = leader.client()
        pipe = client.pipeline(transaction=False)
        for i in range(3000):
            pipe.set(f"snap:{i}", "v" * 100)
            pipe.hset(f"snaph:{i % 50}", f"f{i}", i)
        pipe.execute()
        assert info_int(leader, "keel_paxos_log_compactions") > 0
        assert info_int(leader, "keel_paxos_log_bytes") < 64 * 1024
        lost = next(n for n in c.nodes if n is not leader)
        old_id = lost.client().execute_command("CLUSTER", "MYID")
        lost.kill9()
        shutil.rmtree(lost.dir)
        lost.dir.mkdir()
        lost.start()  # a new node (new id), alone and empty
        assert client.execute_command("CLUSTER", "FORGET", old_id) in (b"OK", "OK", True)
        wait_for("the old node to be removed",
                 lambda: old_id not in client.execute_command("CLUSTER", "NODES"))
        assert client.execute_command(
            "CLUSTER", "MEET", "127.0.0.1", lost.port, lost.bus) in (b"OK", "OK", True)
        wait_for("the new node to be a voter", c.all_voters, timeout=30)
        wait_for("the new node to install a snapshot",
                 lambda: info_int(lost, "keel_paxos_snapshots_installed") == 1)
        assert info_int(leader, "keel_paxos_snapshots_sent") >= 1
        r = lost.client()
        r.execute_command("READONLY")
        client.set("after-snapshot", "1")
        wait_for("the new node to apply later writes", lambda: r.get("after-snapshot") == b"1")
        assert r.dbsize() == client.dbsize()
        assert r.get("snap:0") == b"v" * 100
        assert r.get("snap:2999") == b"v" * 100
        assert r.hlen("snaph:7") == 60
    finally:
        c.stop()


def test_wait_blocks_until_the_replicas_hold_the_write_or_the_timeout(cluster):
    leader = cluster.leader()
    c = leader.client()
    assert c.set("w", "1")
    # Both replicas get it (a majority already had it when SET was acknowledged).
    assert c.execute_command("WAIT", 2, 5000) == 2
    follower = next(n for n in cluster.nodes if n is not leader)
    follower.signal(signal.SIGSTOP)
    try:
        assert c.set("w", "2")
        assert c.execute_command("WAIT", 1, 0) >= 1  # enough already: no waiting
        start = time.monotonic()
        assert c.execute_command("WAIT", 2, 400) == 1  # the stopped one never answers
        assert time.monotonic() - start >= 0.35
        # A blocked WAIT is answered as soon as the replica catches up.
        result = {}
        waiter = threading.Thread(
            target=lambda: result.setdefault("n", c.execute_command("WAIT", 2, 0)))
        waiter.start()
        time.sleep(0.3)
        assert waiter.is_alive()
    finally:
        follower.signal(signal.SIGCONT)
    waiter.join(10)
    assert result.get("n") == 2
    assert c.execute_command("WAIT", -1, 0) == 2
    with pytest.raises(redis.ResponseError, match="timeout is negative"):
        c.execute_command("WAIT", 1, -1)
    with pytest.raises(redis.ResponseError, match="WAIT cannot be used with replica"):
        follower.client().execute_command("WAIT", 1, 0)


def read_replies(sock, count, timeout=10.0):
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while data.count(b"\r\n") < count and time.monotonic() < deadline:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n")[:count]


def test_a_pipeline_whose_commit_fails_gets_one_error_per_command_and_keeps_its_connection(
        cluster):
    leader = cluster.leader()
    followers = [n for n in cluster.nodes if n is not leader]
    sock = socket.create_connection(("127.0.0.1", leader.port))
    try:
        sock.sendall(b"PING\r\n")
        assert read_replies(sock, 1) == [b"+PONG"]
        for f in followers:
            f.signal(signal.SIGSTOP)
        try:
            # No majority: the leader steps down with the batch (three writes, one log
            # entry) in flight; its outcome is unknown, and each of the commands says so.
            sock.sendall(b"SET p1 a\r\nINCR p2\r\nSET p3 b\r\n")
            replies = read_replies(sock, 3)
        finally:
            for f in followers:
                f.signal(signal.SIGCONT)
        assert len(replies) == 3, replies
        assert all(r.startswith(b"-TIMEOUT") for r in replies), replies
        # The same connection goes on; a read after the failure is not run on a replica
        # without a leader: certainly not executed, so CLUSTERDOWN (or MOVED once there is
        # a leader again).
        sock.sendall(b"PING\r\nGET p1\r\n")
        replies = read_replies(sock, 2)
        assert replies[0] == b"+PONG"
        assert replies[1].startswith((b"-CLUSTERDOWN", b"-MOVED", b"$", b"-TIMEOUT")), replies
    finally:
        sock.close()


def test_publish_on_any_node_reaches_subscribers_on_every_node(cluster):
    subs = []
    for n in cluster.nodes:
        p = n.client().pubsub()
        p.subscribe("news")
        assert p.get_message(timeout=2)["type"] == "subscribe"
        subs.append(p)
    publisher = cluster.nodes[1].client()
    assert publisher.publish("news", "hello") == 1  # this node's own subscribers
    for p, n in zip(subs, cluster.nodes):
        msg = None
        deadline = time.monotonic() + 5
        while msg is None and time.monotonic() < deadline:
            msg = p.get_message(timeout=0.5)
        assert msg is not None and msg["data"] == b"hello", f"node {n.port}: {msg}"
        p.close()


def test_ioredis_and_node_redis_cluster_clients_through_a_follower(cluster):
    node = shutil.which("node")
    if node is None:
        pytest.fail("node not found: install Debian's nodejs and npm", pytrace=False)
    node_dir = Path(__file__).parent / "node_clients"
    if not (node_dir / "node_modules" / "ioredis").is_dir():
        pytest.fail(f"ioredis is not installed: run `npm ci --prefix {node_dir}`", pytrace=False)
    follower = next(n for n in cluster.nodes if n is not cluster.leader())
    proc = subprocess.run([node, str(node_dir / "cluster_clients.js"), str(follower.port)],
                          capture_output=True, timeout=120, cwd=node_dir, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    for client in ("ioredis", "noderedis"):
        assert out[client]["got"] == ["0", "25", "50", "75"], out
        assert out[client]["multi"] == [1, 2], out
