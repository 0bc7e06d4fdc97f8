"""DUMP on one server, RESTORE the payload into both, compare what comes out.

Keel's DUMP payloads need not be byte-identical to Redis's, but each server must restore
the other's payloads (and its own) to the same value, with the same TTL and options.
"""

from __future__ import annotations

import random

import pytest

from keelcompat.clients import PySession
from keelcompat.replies import compare
from keelcompat.script import Annotations

_rng = random.Random(20240601)
VALUES = {
    "empty": b"",
    "word": b"hello",
    "int-small": b"7",
    "int": b"12345",
    "int-negative": b"-98765",
    "int-max": b"9223372036854775807",
    "int-min": b"-9223372036854775808",
    "int-too-big": b"9223372036854775808",
    "int-leading-zero": b"0123",
    "float": b"3.14159",
    "binary": b"\x00\r\n\xff\xfe\x80\x01",
    "embstr-limit": b"e" * 44,
    "raw": b"r" * 45,
    "compressible": b"abc" * 400,
    "random-bytes": bytes(_rng.randrange(256) for _ in range(3000)),
    "large": b"0123456789abcdef" * 8192,
}
EXACT = Annotations()
TTL_MS = Annotations(approx=1500)


def _check_restore(ref: PySession, keel: PySession, payload: bytes) -> list[str]:
    """Runs the same RESTORE sequence on both servers; returns the differences."""
    steps = [
        ([b"RESTORE", b"plain", b"0", payload], EXACT),
        ([b"GET", b"plain"], EXACT),
        ([b"TYPE", b"plain"], EXACT),
        ([b"STRLEN", b"plain"], EXACT),
        ([b"OBJECT", b"ENCODING", b"plain"], EXACT),
        ([b"TTL", b"plain"], EXACT),
        ([b"RESTORE", b"plain", b"0", payload], EXACT),  # BUSYKEY
        ([b"RESTORE", b"plain", b"100000", payload, b"REPLACE"], EXACT),
        ([b"PTTL", b"plain"], TTL_MS),
        ([b"GET", b"plain"], EXACT),
        ([b"RESTORE", b"abs", b"4102444800000", payload, b"ABSTTL"], EXACT),
        ([b"PEXPIRETIME", b"abs"], EXACT),
        ([b"RESTORE", b"past", b"1000", payload, b"ABSTTL"], EXACT),
        ([b"EXISTS", b"past"], EXACT),
        ([b"RESTORE", b"idle", b"0", payload, b"IDLETIME", b"500"], EXACT),
        ([b"OBJECT", b"IDLETIME", b"idle"], Annotations(approx=2)),
        ([b"RESTORE", b"freq", b"0", payload, b"FREQ", b"10"], EXACT),
        ([b"GET", b"freq"], EXACT),
        ([b"RESTORE", b"bad", b"0", payload[:-1] + bytes([payload[-1] ^ 0xFF])], EXACT),
        ([b"RESTORE", b"bad", b"0", payload[:-3]], EXACT),
        ([b"EXISTS", b"bad"], EXACT),
        ([b"DEL", b"plain", b"abs", b"idle", b"freq"], EXACT),
    ]
    problems = []
    for args, ann in steps:
        ref_reply, keel_reply = ref.send_args(args), keel.send_args(args)
        if not compare(ref_reply, keel_reply, ann):
            shown = " ".join(repr(a)[:40] for a in args)
            problems.append(f"{shown}\n    redis: {ref_reply.show()[:300]}"
                            f"\n    keel : {keel_reply.show()[:300]}")
    return problems


@pytest.mark.parametrize("source", ["redis", "keel"])
@pytest.mark.parametrize("name", list(VALUES))
def test_dump_restore(clean_servers, source, name):
    value = VALUES[name]
    ref = PySession(clean_servers.redis.port)
    keel = PySession(clean_servers.keel.port)
    try:
        producer = ref if source == "redis" else keel
        assert producer.send_args([b"SET", b"src", value]).tree[0] == "str"
        dumped = producer.send_args([b"DUMP", b"src"]).tree
        assert dumped[0] == "str", f"DUMP on {source} replied {dumped!r}"
        problems = _check_restore(ref, keel, dumped[1])
    finally:
        ref.close()
        keel.close()
    assert not problems, (f"payload DUMPed by {source} for {name!r}:\n"
                          + "\n".join(problems))


# ---------------------------------------------------------------- streams
#
# Each scenario builds a stream "s" on one server; its DUMP is restored into both servers as
# "r", which must then read the same (entries, XINFO STREAM [FULL] with the node layout,
# groups, pending entries and consumers) and go on the same way (new entries filling the last
# node, approximate and exact trims, group reads, claims and acknowledgements).


def _value(i: int) -> str:
    """Values of every listpack encoding: small and large integers, strings, long strings."""
    return [str(i), str(-i * 1000), f"s{i}", str(i * 100000000000), "x" * (60 + i % 9),
            f"0{i}"][i % 6]


def _many_entries() -> list[list[str]]:
    cmds = []
    for i in range(330):
        fields = ["f", _value(i)] + (["g", "extra"] if i % 7 == 3 else [])
        cmds.append(["XADD", "s", f"{1000 + i}-{i % 3}", *fields])
    cmds.append(["XADD", "s", "2000-0", "big", "abc" * 1700])  # compressible, a node alone
    cmds.append(["XDEL", "s", "1005-2", "1099-0", "1150-0", "1151-1", "1329-2", "2000-0"])
    cmds.append(["XDEL", "s", *[f"{1000 + i}-{i % 3}" for i in range(200, 300)]])  # a node
    cmds.append(["XTRIM", "s", "MINID", "1003"])
    cmds += [["XGROUP", "CREATE", "s", "g1", "0"],
             ["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "40", "STREAMS", "s", ">"],
             ["XREADGROUP", "GROUP", "g1", "bob", "COUNT", "25", "STREAMS", "s", ">"],
             ["XACK", "s", "g1", "1004-1", "1014-2", "1040-1"],
             ["XCLAIM", "s", "g1", "carol", "0", "1010-1", "1011-2", "RETRYCOUNT", "5"],
             ["XDEL", "s", "1012-0"],  # pending but deleted
             ["XGROUP", "CREATE", "s", "g2", "1200-0", "ENTRIESREAD", "150"],
             ["XGROUP", "CREATECONSUMER", "s", "g2", "idle"],
             ["XGROUP", "CREATE", "s", "7", "$"]]
    return cmds


STREAMS = {
    "entries": [["XADD", "s", "1-1", "f", "1"], ["XADD", "s", "1-2", "f", "-5000"],
                ["XADD", "s", "2-0", "f", "hello", "g", "7"], ["XADD", "s", "3-5", "f", "0123"],
                ["XADD", "s", "4-0", "f", "12345678901"]],
    "tombstones-groups": [
        ["XADD", "s", "1-1", "f", "1"], ["XADD", "s", "1-2", "f", "-5000"],
        ["XADD", "s", "2-0", "f", "hello", "g", "7"], ["XADD", "s", "3-5", "f", "0123"],
        ["XADD", "s", "4-0", "f", "12345678901"], ["XDEL", "s", "1-2"],
        ["XGROUP", "CREATE", "s", "g1", "0"],
        ["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "2", "STREAMS", "s", ">"],
        ["XREADGROUP", "GROUP", "g1", "bob", "STREAMS", "s", ">"], ["XACK", "s", "g1", "3-5"],
        ["XDEL", "s", "4-0"], ["XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "3"],
        ["XGROUP", "CREATECONSUMER", "s", "g2", "carol"]],
    "many-nodes": _many_entries(),
    "emptied": [["XADD", "s", "5-5", "f", "v"], ["XDEL", "s", "5-5"],
                ["XGROUP", "CREATE", "s", "g", "$"]],
    "mkstream": [["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]],
    "setid": [["XADD", "s", "7-1", "a", "1"], ["XADD", "s", "8-1", "a", "2"],
              ["XSETID", "s", "100-0", "ENTRIESADDED", "50", "MAXDELETEDID", "50-0"],
              ["XGROUP", "CREATE", "s", "g", "0", "ENTRIESREAD", "10"]],
}


def _stream_checks(groups: list[bytes]) -> list[list]:
    checks = [["TYPE", "r"], ["OBJECT", "ENCODING", "r"], ["XLEN", "r"],
              ["XRANGE", "r", "-", "+"], ["XREVRANGE", "r", "+", "-", "COUNT", "3"],
              ["XINFO", "STREAM", "r"], ["XINFO", "STREAM", "r", "FULL"],
              ["XINFO", "STREAM", "r", "FULL", "COUNT", "0"], ["XINFO", "GROUPS", "r"]]
    for g in groups:
        checks.append(["XPENDING", "r", g])
        checks.append(["XPENDING", "r", g, "-", "+", "1000"])  # idle masked below
    return checks


def _after_restore(groups: list[bytes]) -> list[list]:
    """Carries on with the restored stream: the node layout and the groups must behave alike."""
    cmds = [["XADD", "r", "99999-0", "f", "new"], ["XADD", "r", "99999-1", "other", "fields"]]
    cmds += [["XADD", "r", f"100000-{i}", "f", _value(i)] for i in range(120)]
    cmds.append(["XINFO", "STREAM", "r"])
    for g in groups:
        cmds += [["XREADGROUP", "GROUP", g, "newbie", "COUNT", "3", "STREAMS", "r", ">"],
                 ["XAUTOCLAIM", "r", g, "claimer", "0", "0-0", "COUNT", "1000", "JUSTID"],
                 ["XREADGROUP", "GROUP", g, "claimer", "STREAMS", "r", "0"],
                 ["XPENDING", "r", g]]
    cmds += [["XTRIM", "r", "MAXLEN", "~", "60"], ["XINFO", "STREAM", "r"],
             ["XTRIM", "r", "MINID", "100000-50"], ["XINFO", "STREAM", "r"],
             ["XRANGE", "r", "-", "+", "COUNT", "5"], ["XINFO", "GROUPS", "r"]]
    return cmds


def _without_idle(tree: tuple) -> tuple:
    """XPENDING's extended form with each entry's idle time (index 2) dropped."""
    if tree[0] != "array":
        return tree
    return ("array", tuple(("array", e[1][:2] + e[1][3:]) if e[0] == "array" else e
                           for e in tree[1]))


@pytest.mark.parametrize("source", ["redis", "keel"])
@pytest.mark.parametrize("name", list(STREAMS))
def test_dump_restore_streams(clean_servers, source, name):
    ref = PySession(clean_servers.redis.port)
    keel = PySession(clean_servers.keel.port)
    problems = []

    def both(args, ann=EXACT, strip_idle=False):
        args = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        ref_reply, keel_reply = ref.send_args(args), keel.send_args(args)
        same = (_without_idle(ref_reply.tree) == _without_idle(keel_reply.tree)
                if strip_idle else compare(ref_reply, keel_reply, ann))
        if not same:
            shown = " ".join(a.decode(errors="replace")[:30] for a in args)
            problems.append(f"{shown}\n    redis: {ref_reply.show()[:600]}"
                            f"\n    keel : {keel_reply.show()[:600]}")
        return ref_reply

    try:
        producer = ref if source == "redis" else keel
        for cmd in STREAMS[name]:
            reply = producer.send_args([str(a).encode() for a in cmd])
            assert reply.tree[0] != "error", f"{cmd} on {source}: {reply.show()}"
        dumped = producer.send_args([b"DUMP", b"s"]).tree
        assert dumped[0] == "str", f"DUMP on {source} replied {dumped!r}"
        payload = dumped[1]
        both([b"RESTORE", b"r", b"0", payload])
        both([b"RESTORE", b"r", b"0", payload])  # BUSYKEY
        both([b"RESTORE", b"t", b"100000", payload])
        both([b"PTTL", b"t"], TTL_MS)
        both([b"RESTORE", b"bad", b"0", payload[:-1] + bytes([payload[-1] ^ 0xFF])])
        groups = [g[1][1][1] for g in ref.send_args([b"XINFO", b"GROUPS", b"r"]).tree[1]]
        for args in _stream_checks(groups):
            both(args, strip_idle=args[0] == "XPENDING" and len(args) > 3)
        # Each server's DUMP of the restored stream restores on the other alike.
        for a, b in ((ref, keel), (keel, ref)):
            again = a.send_args([b"DUMP", b"r"]).tree[1]
            b.send_args([b"RESTORE", b"r2", b"0", again])
        both([b"XINFO", b"STREAM", b"r2", b"FULL", b"COUNT", b"0"])
        for args in _after_restore(groups):
            both(args)
    finally:
        ref.close()
        keel.close()
    assert not problems, (f"stream {name!r} DUMPed by {source}:\n" + "\n".join(problems))


# ---------------------------------------------------------------- lists
#
# Redis 7.0 DUMPs a list as a quicklist of listpacks (RDB type 18), Keel as a plain RDB list
# (type 1); each server must restore both.

LISTS = {
    "short": [b"a"],
    "encodings": [b"a", b"1", b"-5000", b"0123", b"12345678901", b"x" * 70, b"", b"y" * 5000],
    "many": [str(i).encode() * (1 + i % 7) for i in range(2000)],  # several quicklist nodes
    "compressible": [b"abc" * 400] * 20,
}


@pytest.mark.parametrize("source", ["redis", "keel"])
@pytest.mark.parametrize("name", list(LISTS))
def test_dump_restore_lists(clean_servers, source, name):
    ref = PySession(clean_servers.redis.port)
    keel = PySession(clean_servers.keel.port)
    problems = []

    def both(args, ann=EXACT):
        ref_reply, keel_reply = ref.send_args(args), keel.send_args(args)
        if not compare(ref_reply, keel_reply, ann):
            shown = " ".join(repr(a)[:30] for a in args)
            problems.append(f"{shown}\n    redis: {ref_reply.show()[:300]}"
                            f"\n    keel : {keel_reply.show()[:300]}")

    try:
        producer = ref if source == "redis" else keel
        assert producer.send_args([b"RPUSH", b"l", *LISTS[name]]).tree[0] == "int"
        dumped = producer.send_args([b"DUMP", b"l"]).tree
        assert dumped[0] == "str", f"DUMP on {source} replied {dumped!r}"
        payload = dumped[1]
        steps = [
            ([b"RESTORE", b"r", b"0", payload], EXACT),
            ([b"LRANGE", b"r", b"0", b"-1"], EXACT),
            ([b"LLEN", b"r"], EXACT),
            ([b"TYPE", b"r"], EXACT),
            ([b"OBJECT", b"ENCODING", b"r"], EXACT),
            ([b"RESTORE", b"r", b"0", payload], EXACT),  # BUSYKEY
            ([b"SET", b"s", b"string"], EXACT),
            ([b"RESTORE", b"s", b"100000", payload, b"REPLACE"], EXACT),
            ([b"PTTL", b"s"], TTL_MS),
            ([b"LRANGE", b"s", b"-3", b"-1"], EXACT),
            ([b"LPUSH", b"r", b"head"], EXACT),
            ([b"RPOP", b"r", b"2"], EXACT),
            ([b"LINDEX", b"r", b"1"], EXACT),
            ([b"RESTORE", b"bad", b"0", payload[:-1] + bytes([payload[-1] ^ 0xFF])], EXACT),
        ]
        for args, ann in steps:
            both(args, ann)
    finally:
        ref.close()
        keel.close()
    assert not problems, (f"list {name!r} DUMPed by {source}:\n" + "\n".join(problems))
