"""Seeded random hash, set and sorted-set commands, sent to redis-server and Keel (redis-py).

    KEEL_COLLECTION_SEEDS      seeds to run: "1-5" (default), "7", "1,4,9" or "1-3,10"
    KEEL_COLLECTION_COMMANDS   commands per seed (default 2500)

The generator (CollectionGenerator below) draws every command of the three families over a
few keys per type, with members from a small vocabulary (so they collide), integers (for
intsets), 70-byte members (for encoding conversions) and now and then a bulk add of up to 300
members (past the listpack/intset limits and the rank trie's expansion threshold). Scores
include infinities, exclusive bounds and invalid numbers; a share of the commands use wrong
arity, bad options or a key of another type. Commands depend only on the seed.

Replies are compared exactly, except that:
  - replies whose order Redis leaves to its hash tables (SMEMBERS, SINTER/SUNION/SDIFF,
    HGETALL/HKEYS/HVALS, ZUNION... of hashtable/skiplist-encoded values) are compared as
    sorted lists; OBJECT ENCODING is compared exactly after every write that may convert;
  - HSCAN/SSCAN/ZSCAN run to cursor 0 and the sorted union of what they returned is compared;
  - random picks (HRANDFIELD, SRANDMEMBER, ZRANDMEMBER, SPOP of part of a set) are checked
    for their size, distinctness and membership; after a random SPOP both servers get the
    members back and lose the ones Redis popped, so their contents stay equal.
  - lex-range commands on a skiplist-encoded set whose members have different scores are
    not sent (Redis leaves their result unspecified); listpack-encoded ones are.
A run stops at the first mismatch and prints the seed, the command, both replies, the
commands before it and a one-line reproduction.
"""

from __future__ import annotations

import os
import random

import pytest

from keelcompat.clients import PySession
from keelcompat.replies import Reply, render
from keelcompat.script import args_to_line
from keelcompat.seeds import parse_seeds

HISTORY = 15


SEEDS = parse_seeds(os.environ.get("KEEL_COLLECTION_SEEDS", "1-5"))
COMMANDS = int(os.environ.get("KEEL_COLLECTION_COMMANDS", "2500"))

HASHES = [b"h1", b"h2", b"h\x00bin"]
SETS = [b"s1", b"s2", b"s3"]
ZSETS = [b"z1", b"z2", b"z3"]
OTHER = [b"str", b"nokey"]
WORDS = [b"a", b"b", b"c", b"d", b"e", b"f", b"", b"ab", b"abc", b"b\x00", b"\xff", b"x" * 70]

# Compare modes.
EXACT, UNORDERED, SCAN, RANDOM = "exact", "unordered", "scan", "random"


def b(value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


class CollectionGenerator:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.table = [
            # hashes
            (6, self.hset), (1, self.hsetnx), (3, self.hget), (2, self.hdel), (1, self.hlen),
            (1, self.hstrlen), (1, self.hexists), (3, self.hgetall), (3, self.hincr),
            (1, self.hrandfield), (1, self.hscan),
            # sets
            (6, self.sadd), (2, self.srem), (1, self.scard), (2, self.sismember),
            (2, self.smembers), (1, self.srandmember), (2, self.spop), (2, self.smove),
            (3, self.set_algebra), (2, self.set_store), (1, self.sintercard), (1, self.sscan),
            # sorted sets
            (8, self.zadd), (2, self.zincrby), (2, self.zrem), (1, self.zcard),
            (2, self.zscore), (3, self.zrank), (3, self.zcount), (7, self.zrange),
            (2, self.zrange_legacy), (1, self.zrangestore), (2, self.zremrange), (2, self.zpop),
            (1, self.zmpop), (1, self.zrandmember), (2, self.zcombine), (1, self.zintercard),
            (1, self.zscan),
            # shared
            (2, self.bulk), (2, self.encoding), (1, self.wrong_type), (0.5, self.delete),
            (0.3, self.expire_ttl),
        ]
        self.weights = [w for w, _ in self.table]

    # ---- argument helpers ----

    def maybe(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, choices):
        return self.rng.choice(choices)

    def hkey(self) -> bytes:
        return self.pick(HASHES) if self.maybe(0.95) else self.pick(SETS + ZSETS + OTHER)

    def skey(self) -> bytes:
        return self.pick(SETS) if self.maybe(0.95) else self.pick(HASHES + ZSETS + OTHER)

    def zkey(self) -> bytes:
        return self.pick(ZSETS) if self.maybe(0.95) else self.pick(HASHES + SETS + OTHER)

    def member(self) -> bytes:
        r = self.rng.random()
        if r < 0.55:
            return self.pick(WORDS[:6])
        if r < 0.8:
            return b(self.rng.randint(-5, 20))
        if r < 0.9:
            return b"m%d" % self.rng.randrange(300)
        return self.pick(WORDS)

    def members(self, lo: int = 1, hi: int = 4) -> list[bytes]:
        return [self.member() for _ in range(self.rng.randint(lo, hi))]

    def value(self) -> bytes:
        r = self.rng.random()
        if r < 0.4:
            return b(self.rng.randint(-100, 100))
        if r < 0.5:
            return self.pick([b"1.5", b"-0.25", b"1e3", b" 1", b"007", b"9223372036854775807"])
        if r < 0.9:
            return self.pick(WORDS)
        return b"v" * self.rng.randint(60, 70)

    def score(self) -> bytes:
        r = self.rng.random()
        if r < 0.6:
            return b(self.rng.randint(-10, 10))
        if r < 0.8:
            return b(self.rng.randint(-40, 40) / 4)
        if r < 0.93:
            return self.pick([b"inf", b"-inf", b"+inf", b"1e300", b"-0", b"0.1", b"1e-5"])
        return self.pick([b"abc", b"nan", b"", b"1x", b"(1"])

    def bound(self) -> bytes:
        r = self.rng.random()
        if r < 0.7:
            v = b(self.rng.randint(-10, 10))
            return b"(" + v if self.maybe(0.3) else v
        if r < 0.95:
            return self.pick([b"-inf", b"+inf", b"(-inf", b"(inf", b"(2.5", b"2.5"])
        return self.pick([b"abc", b"nan", b"(", b"[1"])

    def lex(self) -> bytes:
        r = self.rng.random()
        if r < 0.8:
            return self.pick([b"[", b"("]) + self.pick(WORDS[:6] + [b"m1", b"m2", b"1"])
        if r < 0.95:
            return self.pick([b"-", b"+"])
        return self.pick([b"a", b"", b"-x"])

    def index(self) -> bytes:
        if self.maybe(0.05):
            return self.pick([b"x", b"1.5", b""])
        return b(self.rng.randint(-12, 12))

    def count(self, lo: int = -5, hi: int = 8) -> bytes:
        if self.maybe(0.05):
            return self.pick([b"x", b"-9223372036854775808", b"1.5"])
        return b(self.rng.randint(lo, hi))

    def limit(self) -> list[bytes]:
        if not self.maybe(0.3):
            return []
        return [b"LIMIT", b(self.rng.randint(-1, 6)), b(self.rng.randint(-1, 5))]

    # ---- hashes ----

    def hset(self):
        args = [self.pick([b"HSET", b"HSET", b"HMSET"]), self.hkey()]
        for _ in range(self.rng.randint(1, 3)):
            args += [self.member(), self.value()]
        if self.maybe(0.03):
            args.append(b"odd")
        return args, EXACT

    def hsetnx(self):
        return [b"HSETNX", self.hkey(), self.member(), self.value()], EXACT

    def hget(self):
        if self.maybe(0.5):
            return [b"HGET", self.hkey(), self.member()], EXACT
        return [b"HMGET", self.hkey()] + self.members(1, 4), EXACT

    def hdel(self):
        return [b"HDEL", self.hkey()] + self.members(1, 3), EXACT

    def hlen(self):
        return [b"HLEN", self.hkey()], EXACT

    def hstrlen(self):
        return [b"HSTRLEN", self.hkey(), self.member()], EXACT

    def hexists(self):
        return [b"HEXISTS", self.hkey(), self.member()], EXACT

    def hgetall(self):
        return [self.pick([b"HGETALL", b"HKEYS", b"HVALS"]), self.hkey()], "ordered-if-compact"

    def hincr(self):
        if self.maybe(0.6):
            amount = self.pick([b(self.rng.randint(-10, 10)), b"9223372036854775807", b"x"])
            return [b"HINCRBY", self.hkey(), self.member(), amount], EXACT
        amount = self.pick([b"1.5", b"-0.25", b"10", b"1e3", b"inf", b"x", b"3.0e-2"])
        return [b"HINCRBYFLOAT", self.hkey(), self.member(), amount], EXACT

    def hrandfield(self):
        args = [b"HRANDFIELD", self.hkey()]
        if self.maybe(0.8):
            args.append(self.count())
            if self.maybe(0.4):
                args.append(self.pick([b"WITHVALUES", b"withvalues", b"WITHVALUE"]))
        return args, RANDOM

    def hscan(self):
        args = [b"HSCAN", self.hkey(), b"0"]
        if self.maybe(0.3):
            args += [b"MATCH", self.pick([b"*", b"a*", b"m1*", b"?", b"[ab]*"])]
        if self.maybe(0.3):
            args += [b"COUNT", self.pick([b"1", b"5", b"100", b"0", b"x"])]
        return args, SCAN

    # ---- sets ----

    def sadd(self):
        return [b"SADD", self.skey()] + self.members(1, 5), EXACT

    def srem(self):
        return [b"SREM", self.skey()] + self.members(1, 4), EXACT

    def scard(self):
        return [b"SCARD", self.skey()], EXACT

    def sismember(self):
        if self.maybe(0.5):
            return [b"SISMEMBER", self.skey(), self.member()], EXACT
        return [b"SMISMEMBER", self.skey()] + self.members(1, 4), EXACT

    def smembers(self):
        return [b"SMEMBERS", self.skey()], "ordered-if-compact"

    def srandmember(self):
        args = [b"SRANDMEMBER", self.skey()]
        if self.maybe(0.8):
            args.append(self.count())
        return args, RANDOM

    def spop(self):
        args = [b"SPOP", self.skey()]
        if self.maybe(0.6):
            args.append(self.count(0, 10))
        return args, "spop"

    def smove(self):
        return [b"SMOVE", self.skey(), self.skey(), self.member()], EXACT

    def set_algebra(self):
        name = self.pick([b"SINTER", b"SUNION", b"SDIFF"])
        return [name] + [self.skey() for _ in range(self.rng.randint(1, 3))], UNORDERED

    def set_store(self):
        name = self.pick([b"SINTERSTORE", b"SUNIONSTORE", b"SDIFFSTORE"])
        return [name, self.skey()] + [self.skey() for _ in range(self.rng.randint(1, 3))], EXACT

    def sintercard(self):
        keys = [self.skey() for _ in range(self.rng.randint(1, 3))]
        n = len(keys) if self.maybe(0.9) else self.pick([0, len(keys) + 1])
        args = [b"SINTERCARD", b(n)] + keys
        if self.maybe(0.4):
            args += [b"LIMIT", self.pick([b"0", b"1", b"2", b"-1"])]
        return args, EXACT

    def sscan(self):
        args = [b"SSCAN", self.skey(), b"0"]
        if self.maybe(0.3):
            args += [b"MATCH", self.pick([b"*", b"1*", b"m*", b"?"])]
        if self.maybe(0.3):
            args += [b"COUNT", self.pick([b"1", b"7", b"1000"])]
        return args, SCAN

    # ---- sorted sets ----

    def zadd(self):
        args = [b"ZADD", self.zkey()]
        if self.maybe(0.35):
            opts = [b"NX", b"XX", b"GT", b"LT", b"CH", b"INCR"]
            args += self.rng.sample(opts, self.rng.randint(1, 2))
        n = 1 if b"INCR" in args and self.maybe(0.9) else self.rng.randint(1, 4)
        for _ in range(n):
            args += [self.score(), self.member()]
        return args, EXACT

    def zincrby(self):
        return [b"ZINCRBY", self.zkey(), self.score(), self.member()], EXACT

    def zrem(self):
        return [b"ZREM", self.zkey()] + self.members(1, 4), EXACT

    def zcard(self):
        return [b"ZCARD", self.zkey()], EXACT

    def zscore(self):
        if self.maybe(0.5):
            return [b"ZSCORE", self.zkey(), self.member()], EXACT
        return [b"ZMSCORE", self.zkey()] + self.members(1, 4), EXACT

    def zrank(self):
        return [self.pick([b"ZRANK", b"ZREVRANK"]), self.zkey(), self.member()], EXACT

    def zcount(self):
        if self.maybe(0.5):
            return [b"ZCOUNT", self.zkey(), self.bound(), self.bound()], EXACT
        return [b"ZLEXCOUNT", self.zkey(), self.lex(), self.lex()], EXACT

    def zrange(self):
        kind = self.rng.randrange(3)
        args = [b"ZRANGE", self.zkey()]
        if kind == 0:
            args += [self.index(), self.index()]
        elif kind == 1:
            args += [self.bound(), self.bound(), b"BYSCORE"]
        else:
            args += [self.lex(), self.lex(), b"BYLEX"]
        if self.maybe(0.4):
            args.append(b"REV")
        args += self.limit()
        if self.maybe(0.4):
            args.append(b"WITHSCORES")
        if self.maybe(0.1) and len(args) > 5:
            options = args[4:]
            self.rng.shuffle(options)
            args[4:] = options
        return args, EXACT

    def zrange_legacy(self):
        name = self.pick([b"ZREVRANGE", b"ZRANGEBYSCORE", b"ZREVRANGEBYSCORE", b"ZRANGEBYLEX",
                          b"ZREVRANGEBYLEX"])
        key = self.zkey()
        if name == b"ZREVRANGE":
            args = [name, key, self.index(), self.index()]
        elif b"LEX" in name:
            args = [name, key, self.lex(), self.lex()]
        else:
            args = [name, key, self.bound(), self.bound()]
        if b"LEX" not in name and self.maybe(0.4):
            args.append(b"WITHSCORES")
        if name != b"ZREVRANGE":
            args += self.limit()
        return args, EXACT

    def zrangestore(self):
        args = [b"ZRANGESTORE", self.zkey(), self.zkey()]
        kind = self.rng.randrange(3)
        if kind == 0:
            args += [self.index(), self.index()]
        elif kind == 1:
            args += [self.bound(), self.bound(), b"BYSCORE"]
        else:
            args += [self.lex(), self.lex(), b"BYLEX"]
        if self.maybe(0.3):
            args.append(b"REV")
        if kind != 0:
            args += self.limit()
        return args, EXACT

    def zremrange(self):
        kind = self.rng.randrange(3)
        key = self.zkey()
        if kind == 0:
            return [b"ZREMRANGEBYRANK", key, self.index(), self.index()], EXACT
        if kind == 1:
            return [b"ZREMRANGEBYSCORE", key, self.bound(), self.bound()], EXACT
        return [b"ZREMRANGEBYLEX", key, self.lex(), self.lex()], EXACT

    def zpop(self):
        args = [self.pick([b"ZPOPMIN", b"ZPOPMAX"]), self.zkey()]
        if self.maybe(0.5):
            args.append(self.count(-1, 5))
        return args, EXACT

    def zmpop(self):
        keys = [self.zkey() for _ in range(self.rng.randint(1, 3))]
        blocking = self.maybe(0.3)
        args = ([b"BZMPOP", b"0.01"] if blocking else [b"ZMPOP"]) + [b(len(keys))] + keys
        args.append(self.pick([b"MIN", b"MAX", b"max"]))
        if self.maybe(0.5):
            args += [b"COUNT", self.count(0, 5)]
        if self.maybe(0.2):
            return [self.pick([b"BZPOPMIN", b"BZPOPMAX"])] + keys + [b"0.01"], EXACT
        return args, EXACT

    def zrandmember(self):
        args = [b"ZRANDMEMBER", self.zkey()]
        if self.maybe(0.8):
            args.append(self.count())
            if self.maybe(0.4):
                args.append(self.pick([b"WITHSCORES", b"withscores", b"WITHSCORE"]))
        return args, RANDOM

    def zcombine(self):
        op = self.pick([b"ZUNION", b"ZINTER", b"ZDIFF"])
        store = self.maybe(0.4)
        keys = [self.zkey() if self.maybe(0.8) else self.skey()
                for _ in range(self.rng.randint(1, 3))]
        args = [op + b"STORE", self.zkey()] if store else [op]
        args += [b(len(keys))] + keys
        if op != b"ZDIFF" and self.maybe(0.4):
            args += [b"WEIGHTS"] + [self.pick([b"1", b"2", b"-1", b"0.5", b"0", b"inf"])
                                    for _ in keys]
        if op != b"ZDIFF" and self.maybe(0.3):
            args += [b"AGGREGATE", self.pick([b"SUM", b"MIN", b"MAX", b"avg"])]
        if not store and self.maybe(0.5):
            args.append(b"WITHSCORES")
        return args, EXACT

    def zintercard(self):
        keys = [self.zkey() for _ in range(self.rng.randint(1, 3))]
        args = [b"ZINTERCARD", b(len(keys))] + keys
        if self.maybe(0.4):
            args += [b"LIMIT", self.pick([b"0", b"1", b"3", b"-1"])]
        return args, EXACT

    def zscan(self):
        args = [b"ZSCAN", self.zkey(), b"0"]
        if self.maybe(0.3):
            args += [b"MATCH", self.pick([b"*", b"m1*", b"?"])]
        if self.maybe(0.3):
            args += [b"COUNT", self.pick([b"1", b"7", b"1000"])]
        return args, SCAN

    # ---- shared ----

    def bulk(self):
        """Many members at once: crosses the encoding limits and the trie's threshold."""
        n = self.rng.randint(20, 300)
        kind = self.rng.randrange(3)
        if kind == 0:
            args = [b"HSET", self.pick(HASHES)]
            for _ in range(n):
                args += [b"m%d" % self.rng.randrange(600), self.value()]
        elif kind == 1:
            args = [b"SADD", self.pick(SETS)]
            ints = self.maybe(0.5)
            for _ in range(n):
                args.append(b(self.rng.randrange(1000)) if ints
                            else b"m%d" % self.rng.randrange(600))
        else:
            args = [b"ZADD", self.pick(ZSETS)]
            same = self.maybe(0.3)  # one score: lex ranges, equal-score ranks
            for _ in range(n):
                args += [b"0" if same else b(self.rng.randint(-50, 50)),
                         b"m%d" % self.rng.randrange(600)]
        return args, EXACT

    def encoding(self):
        return [b"OBJECT", b"ENCODING", self.pick(HASHES + SETS + ZSETS)], EXACT

    def wrong_type(self):
        return [b"SET", b"str", self.value()], EXACT

    def delete(self):
        return [b"DEL", self.pick(HASHES + SETS + ZSETS)], EXACT

    def expire_ttl(self):
        key = self.pick(HASHES + SETS + ZSETS)
        if self.maybe(0.5):
            return [b"EXPIRE", key, b"1000"], EXACT
        return [b"TYPE", key], EXACT

    def next(self):
        _, fn = self.rng.choices(self.table, weights=self.weights)[0]
        return fn()


# ---- comparison ----

def sorted_tree(tree: tuple) -> tuple:
    if tree[0] in ("array", "set"):
        return (tree[0], tuple(sorted(tree[1], key=render)))
    return tree


def scan_all(session, args: list[bytes]) -> tuple:
    """HSCAN/SSCAN/ZSCAN from cursor 0 to the end: the sorted elements seen (each rendered),
    or the error."""
    seen = set()
    cursor = b"0"
    for _ in range(100000):
        tree = session.send_args(args[:2] + [cursor] + args[3:]).tree
        if tree[0] != "array":
            return tree
        cursor = tree[1][0][1]
        seen.update(render(t) for t in tree[1][1][1])
        if cursor == b"0":
            return ("array", tuple(("str", e.encode()) for e in sorted(seen)))
    raise AssertionError("scan did not finish")


def compact(ref, key: bytes) -> bool:
    tree = ref.send_args([b"OBJECT", b"ENCODING", key]).tree
    return tree[0] == "str" and tree[1] in (b"listpack", b"intset")


def lex_defined(ref, args: list[bytes]) -> bool:
    """False for a lex-range command on a skiplist whose members have different scores: Redis
    leaves that result unspecified (it depends on the skiplist's random levels)."""
    upper = [a.upper() for a in args]
    if not (b"LEX" in upper[0] or b"BYLEX" in upper):
        return True
    key = args[2] if upper[0] == b"ZRANGESTORE" else args[1]
    enc = ref.send_args([b"OBJECT", b"ENCODING", key]).tree
    if enc[0] != "str" or enc[1] != b"skiplist":
        return True
    first = ref.send_args([b"ZRANGE", key, b"0", b"0", b"WITHSCORES"]).tree
    last = ref.send_args([b"ZRANGE", key, b"-1", b"-1", b"WITHSCORES"]).tree
    return float(first[1][1][1]) == float(last[1][1][1])


def members_of(ref, key: bytes) -> set:
    t = ref.send_args([b"TYPE", key]).tree
    kind = t[1] if t[0] in ("str", "status") else b"none"
    if kind == b"hash":
        tree = ref.send_args([b"HKEYS", key]).tree
    elif kind == b"set":
        tree = ref.send_args([b"SMEMBERS", key]).tree
    elif kind == b"zset":
        tree = ref.send_args([b"ZRANGE", key, b"0", b"-1"]).tree
    else:
        return set()
    return {t[1] for t in tree[1]}


def check_random(args: list[bytes], ref_tree: tuple, keel_tree: tuple, universe: set) -> str | None:
    """None if Keel's random pick is as valid as Redis's."""
    if ref_tree[0] != keel_tree[0]:
        return "different reply types"
    if ref_tree[0] in ("error", "nil", "int"):
        return None if ref_tree == keel_tree else "different replies"
    if ref_tree[0] == "str":
        return None if keel_tree[1] in universe else "not a member"
    if len(ref_tree[1]) != len(keel_tree[1]):
        return "different lengths"
    with_values = len(args) == 4
    items = keel_tree[1][0::2] if with_values else keel_tree[1]
    names = [t[1] for t in items]
    if any(n not in universe for n in names):
        return "not a member"
    count = int(args[2]) if len(args) > 2 else 1
    if count > 0 and len(set(names)) != len(names):
        return "repeated members for a positive count"
    return None


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"seed{s}")
def test_random_collections(clean_servers, seed):
    ref = PySession(clean_servers.redis.port)
    keel = PySession(clean_servers.keel.port)
    generator = CollectionGenerator(seed)
    history: list[str] = []
    try:
        for index in range(COMMANDS):
            args, mode = generator.next()
            line = args_to_line(args)
            problem = None
            if mode == "ordered-if-compact":
                mode = EXACT if compact(ref, args[1]) else UNORDERED
            if mode == "spop":
                card = ref.send_args([b"SCARD", args[1]]).tree
                n = int(args[2]) if len(args) > 2 and args[2].lstrip(b"-").isdigit() else 1
                size = card[1] if card[0] == "int" else 0
                # Popping all, or none, is deterministic; popping most of a set rebuilds it
                # from random survivors, so its encoding could differ: not generated.
                if size == 0 or n == 0 or n >= size or len(args) == 2 and size == 1:
                    mode = EXACT if size == 0 or compact(ref, args[1]) else UNORDERED
                elif len(args) > 2 and n * 5 > size:
                    args = [b"SCARD", args[1]]
                    line = args_to_line(args)
                    mode = EXACT
                else:
                    mode = "random-pop"
            if not lex_defined(ref, args):
                args, mode = [b"ZCARD", args[1]], EXACT
                line = args_to_line(args)
            universe = members_of(ref, args[1]) if mode in (RANDOM, "random-pop") else set()
            if mode == SCAN:
                ref_tree, keel_tree = scan_all(ref, args), scan_all(keel, args)
            else:
                ref_tree = ref.send_args(args).tree
                keel_tree = keel.send_args(args).tree
            if mode == EXACT:
                problem = None if ref_tree == keel_tree else "replies differ"
            elif mode in (UNORDERED, SCAN):
                same = sorted_tree(ref_tree) == sorted_tree(keel_tree)
                problem = None if same else "replies differ (compared unordered)"
            elif mode == RANDOM:
                problem = check_random(args, ref_tree, keel_tree, universe)
            elif mode == "random-pop":
                problem = check_random(args, ref_tree, keel_tree, universe)
                if problem is None and ref_tree[0] in ("str", "array"):
                    # Resync: both end up without exactly what Redis popped.
                    def names(tree):
                        return [tree[1]] if tree[0] == "str" else [t[1] for t in tree[1]]
                    back = names(keel_tree)
                    keel.send_args([b"SADD", args[1]] + back)
                    keel.send_args([b"SREM", args[1]] + names(ref_tree))
            if problem:
                before = "\n".join("    " + h for h in history[-HISTORY:]) or "    (none)"
                pytest.fail(
                    f"seed {seed}, command #{index}: {line}\n  {problem}\n"
                    f"    redis: {Reply(tree=ref_tree).show()[:2000]}\n"
                    f"    keel : {Reply(tree=keel_tree).show()[:2000]}\n"
                    f"  commands before it:\n{before}\n"
                    f"  reproduce: KEEL_COLLECTION_SEEDS={seed} "
                    f"KEEL_COLLECTION_COMMANDS={index + 1} "
                    f"python3 -m pytest -q redis_compat_tests/test_random_collections.py",
                    pytrace=False)
            history.append(f"#{index} {line[:200]}  -> {render(ref_tree)[:160]}")
    finally:
        ref.close()
        keel.close()
