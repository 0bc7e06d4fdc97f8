"""DUMP on one server, RESTORE the payload into both, compare what comes out.

Keel's DUMP payloads need not be byte-identical to Redis's, but each server must restore
the other's payloads (and its own) to the same value, with the same TTL and options.
"""

from __future__ import annotations

import random
import struct

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


# ---------------------------------------------------------------- hashes, sets, sorted sets
#
# Each value is built on one server with one write command; its DUMP is restored into both
# servers, which must then hold the same value with the same OBJECT ENCODING and go on the
# same way after a write.

UNORDERED = Annotations(unordered=True)
_many = [str(i).encode() * (1 + i % 5) for i in range(600)]
COLLECTIONS = {
    "hash-small": [b"HSET", b"a", b"1", b"b", b"hello", b"-7", b"x", b"bin", b"\x00\xff"],
    "hash-long-value": [b"HSET", b"a", b"1", b"b", b"x" * 70],
    "hash-many": [b"HSET", *[v for i in range(600) for v in (b"f%d" % i, _many[i])]],
    "set-intset": [b"SADD", b"3", b"-1", b"2", b"9223372036854775807", b"-9223372036854775808"],
    "set-strings": [b"SADD", b"a", b"1", b"b", b"007", b""],
    "set-many-ints": [b"SADD", *[b"%d" % (i * 37) for i in range(600)]],
    "set-many": [b"SADD", *_many],
    "zset-small": [b"ZADD", b"1.5", b"a", b"2", b"b", b"-3", b"c", b"inf", b"top",
                   b"-inf", b"bottom", b"0.1", b"tenth", b"1e300", b"huge"],
    "zset-long-member": [b"ZADD", b"1", b"a", b"2", b"y" * 70],
    "zset-many": [b"ZADD", *[v for i in range(200) for v in (b"%d" % (i % 17), _many[i])]],
}
# Per type: the reads after RESTORE (with how to compare them) and a write.
_READS = {
    b"HSET": ([b"HGETALL"], [b"HLEN"], [b"HSET", b"new", b"v" * 80]),
    b"SADD": ([b"SMEMBERS"], [b"SCARD"], [b"SADD", b"new"]),
    b"ZADD": ([b"ZRANGE", b"0", b"-1", b"WITHSCORES"], [b"ZCARD"], [b"ZADD", b"5", b"z" * 80]),
}


@pytest.mark.parametrize("source", ["redis", "keel"])
@pytest.mark.parametrize("name", list(COLLECTIONS))
def test_dump_restore_collections(clean_servers, source, name):
    ref = PySession(clean_servers.redis.port)
    keel = PySession(clean_servers.keel.port)
    problems = []

    def both(args, ann=EXACT):
        ref_reply, keel_reply = ref.send_args(args), keel.send_args(args)
        if not compare(ref_reply, keel_reply, ann):
            shown = " ".join(repr(a)[:30] for a in args)
            problems.append(f"{shown}\n    redis: {ref_reply.show()[:300]}"
                            f"\n    keel : {keel_reply.show()[:300]}")

    command = COLLECTIONS[name]
    read_all, card, write = _READS[command[0]]
    # Compact hashes and intsets list in a defined order; hashtables do not.
    ordered = command[0] == b"ZADD" or name in ("hash-small", "set-intset")

    def read(key, ordered=ordered):
        both([read_all[0], key, *read_all[1:]], EXACT if ordered else UNORDERED)
        both([card[0], key])
        both([b"OBJECT", b"ENCODING", key])

    try:
        producer = ref if source == "redis" else keel
        assert producer.send_args([command[0], b"c", *command[1:]]).tree[0] == "int"
        dumped = producer.send_args([b"DUMP", b"c"]).tree
        assert dumped[0] == "str", f"DUMP on {source} replied {dumped!r}"
        payload = dumped[1]
        both([b"RESTORE", b"r", b"0", payload])
        read(b"r")
        both([b"TYPE", b"r"])
        both([b"RESTORE", b"r", b"0", payload])  # BUSYKEY
        both([b"SET", b"s", b"string"])
        both([b"RESTORE", b"s", b"100000", payload, b"REPLACE"])
        both([b"PTTL", b"s"], TTL_MS)
        read(b"s")
        both([b"RESTORE", b"abs", b"4102444800000", payload, b"ABSTTL"])
        both([b"PEXPIRETIME", b"abs"])
        both([b"RESTORE", b"past", b"1000", payload, b"ABSTTL"])
        both([b"EXISTS", b"past"])
        both([b"RESTORE", b"idle", b"0", payload, b"IDLETIME", b"500"])
        both([b"OBJECT", b"IDLETIME", b"idle"], Annotations(approx=2))
        both([b"RESTORE", b"freq", b"0", payload, b"FREQ", b"10"])
        both([write[0], b"r", *write[1:]])
        read(b"r", ordered=command[0] == b"ZADD")  # the write makes hashes and sets large
        both([b"RESTORE", b"bad", b"0", payload[:-1] + bytes([payload[-1] ^ 0xFF])])
        both([b"EXISTS", b"bad"])
    finally:
        ref.close()
        keel.close()
    assert not problems, (f"{name!r} DUMPed by {source}:\n" + "\n".join(problems))


# Payloads neither server's DUMP writes (other encodings, other limits, malformed objects),
# with a correct footer: both servers must restore them to the same value and encoding, or
# refuse them with the same error.

_CRC_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x95AC9329AC4BC9B5 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)


def _payload(body: bytes) -> bytes:
    """body + RDB version 10 + CRC-64 (Jones, reflected), as DUMP ends a payload."""
    data = body + b"\x0a\x00"
    crc = 0
    for b in data:
        crc = _CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return data + crc.to_bytes(8, "little")


def _rdb_string(s: bytes) -> bytes:
    if len(s) < 64:
        return bytes([len(s)]) + s
    if len(s) < 16384:
        return bytes([0x40 | (len(s) >> 8), len(s) & 0xFF]) + s
    return b"\x80" + len(s).to_bytes(4, "big") + s


def _listpack(items: list[bytes]) -> bytes:
    """Every item as a string element (6- or 12-bit length)."""
    body = b""
    for s in items:
        head = bytes([0x80 | len(s)]) if len(s) < 64 else bytes([0xE0 | (len(s) >> 8),
                                                                  len(s) & 0xFF])
        entry = head + s
        body += entry + bytes([len(entry)])  # back-length: entries here stay under 128 bytes
    return (6 + len(body) + 1).to_bytes(4, "little") + len(items).to_bytes(2, "little") \
        + body + b"\xff"


def _intset(values: list[int], width: int = 2) -> bytes:
    return (width.to_bytes(4, "little") + len(values).to_bytes(4, "little")
            + b"".join(v.to_bytes(width, "little", signed=True) for v in values))


CRAFTED = {
    "hash-listpack-long-value": b"\x10" + _rdb_string(_listpack([b"a", b"1", b"b", b"x" * 70])),
    "hash-listpack-513": b"\x10" + _rdb_string(
        _listpack([v for i in range(513) for v in (b"f%d" % i, b"v")])),
    "hash-plain-ints": b"\x04\x02\x011\x012\x013\x014",
    "zset-listpack-long-member": b"\x11" + _rdb_string(_listpack([b"y" * 70, b"1", b"b", b"2"])),
    "zset-listpack-129": b"\x11" + _rdb_string(
        _listpack([v for i in range(129) for v in (b"m%d" % i, b"%d" % i)])),
    "zset-text-scores": b"\x03\x03\x01a\x032.5\x01b\xfe\x01c\xff",
    "zset-2-many": b"\x05\x40\x81" + b"".join(
        _rdb_string(b"m%d" % i) + struct.pack("<d", i * 1.5) for i in range(129)),
    "intset-513": b"\x0b" + _rdb_string(_intset(list(range(513)))),
    "intset-64-bit": b"\x0b" + _rdb_string(_intset([-(2 ** 40), 7], 8)),
    "set-non-canonical-ints": b"\x02\x02\x03007\x011",
    "set-ints": b"\x02\x02\x0210\x02-3",
}


# Malformed objects. Redis 7.0 refuses some (duplicate set members, empty values, NaN scores,
# cut or impossible objects) and, without sanitize-dump-payload, takes others as they are
# (a duplicate hash field, an odd listpack), leaving a corrupt value that can crash it later,
# or reads a cut object on into the payload's footer.
# Keel refuses them all with Redis's error for the first kind.
MALFORMED = {
    "hash-duplicate": b"\x04\x02\x01a\x011\x01a\x012",
    "hash-listpack-duplicate": b"\x10" + _rdb_string(_listpack([b"a", b"1", b"a", b"2"])),
    "set-duplicate": b"\x02\x02\x01a\x01a",
    "hash-empty": b"\x04\x00",
    "hash-listpack-odd": b"\x10" + _rdb_string(_listpack([b"a", b"1", b"b"])),
    "zset-nan": b"\x05\x01\x01a" + b"\x00" * 6 + b"\xf8\x7f",
    "zset-truncated": b"\x05\x02\x01a" + b"\x00" * 8 + b"\x01b\x00",
    "intset-empty": b"\x0b" + _rdb_string(_intset([])),
    "intset-width-3": b"\x0b" + _rdb_string(b"\x03\x00\x00\x00\x01\x00\x00\x00abc"),
}
REDIS_REFUSES_TOO = ("set-duplicate", "hash-empty", "zset-nan", "intset-empty", "intset-width-3")


@pytest.mark.parametrize("name", list(MALFORMED))
def test_restore_refuses_malformed_collections(clean_servers, name):
    keel = PySession(clean_servers.keel.port)
    ref = PySession(clean_servers.redis.port)
    payload = _payload(MALFORMED[name])
    try:
        if name in REDIS_REFUSES_TOO:
            assert ref.send_args([b"RESTORE", b"r", b"0", payload]).tree == (
                "error", b"ResponseError: Bad data format")
        assert keel.send_args([b"RESTORE", b"r", b"0", payload]).tree == (
            "error", b"ResponseError: Bad data format")
        assert keel.send_args([b"EXISTS", b"r"]).tree == ("int", 0)
        assert keel.send_args([b"PING"]).tree == ("str", b"PONG")
    finally:
        keel.close()
        ref.close()


@pytest.mark.parametrize("name", list(CRAFTED))
def test_restore_crafted_collections(clean_servers, name):
    ref = PySession(clean_servers.redis.port)
    keel = PySession(clean_servers.keel.port)
    payload = _payload(CRAFTED[name])
    problems = []
    try:
        steps = [
            [b"RESTORE", b"r", b"0", payload],
            [b"TYPE", b"r"],
            [b"OBJECT", b"ENCODING", b"r"],
            [b"DUMP", b"r"],  # (only compared for being there)
        ]
        for args in steps:
            ref_reply, keel_reply = ref.send_args(args), keel.send_args(args)
            ann = Annotations(type_only=True) if args[0] == b"DUMP" else EXACT
            if not compare(ref_reply, keel_reply, ann):
                problems.append(f"{args[0]!r} {args[1]!r}\n    redis: {ref_reply.show()[:300]}"
                                f"\n    keel : {keel_reply.show()[:300]}")
        kind = ref.send_args([b"TYPE", b"r"]).tree[1]
        read = {b"hash": [b"HGETALL", b"r"], b"set": [b"SMEMBERS", b"r"],
                b"zset": [b"ZRANGE", b"r", b"0", b"-1", b"WITHSCORES"]}.get(kind)
        if read:
            ref_reply, keel_reply = ref.send_args(read), keel.send_args(read)
            if not compare(ref_reply, keel_reply, UNORDERED if kind != b"zset" else EXACT):
                problems.append(f"{read[0]!r}\n    redis: {ref_reply.show()[:300]}"
                                f"\n    keel : {keel_reply.show()[:300]}")
    finally:
        ref.close()
        keel.close()
    assert not problems, f"crafted {name!r}:\n" + "\n".join(problems)
