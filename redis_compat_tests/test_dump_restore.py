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
