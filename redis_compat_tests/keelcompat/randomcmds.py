"""A seeded generator of random string/key commands over a small keyspace.

The commands depend only on the seed, never on replies, so a seed reproduces a run.
Arguments are mostly valid, with a share of invalid ones (bad numbers, unknown options,
wrong arity) so error paths are compared too. Expiry times are either long (>= 1000 s)
or already past, so no key expires between the moment one server and the other
execute a command.
"""

from __future__ import annotations

import random

from .script import Annotations

KEYS = [b"k1", b"k2", b"k3", b"n1", b"n2", b"bits", b"bin\x00\r\n", b""]
FUTURE_S = 4102444800  # 2100-01-01
PLAIN = Annotations()
TTL_S = Annotations(approx=2)
TTL_MS = Annotations(approx=1500)
TYPE_ONLY = Annotations(type_only=True)
UNORDERED = Annotations(unordered=True)
SCAN = Annotations(scan=True)


def b(value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


class CommandGenerator:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.table = [
            (6, self.set_cmd), (6, self.get_like), (3, self.getex), (2, self.getset_like),
            (2, self.mget), (2, self.mset), (2, self.setex), (3, self.append),
            (6, self.counter), (3, self.incrbyfloat), (3, self.getrange), (3, self.setrange),
            (1, self.lcs), (3, self.setbit), (2, self.getbit), (2, self.bitcount),
            (2, self.bitpos), (2, self.bitop), (3, self.bitfield), (2, self.delete),
            (2, self.exists), (2, self.type_cmd), (3, self.expire), (4, self.ttl),
            (1, self.persist), (2, self.rename), (2, self.copy), (1, self.move),
            (1, self.keys_cmd), (1, self.scan), (1, self.randomkey), (1, self.touch),
            (2, self.object_cmd), (1, self.dump), (1, self.select), (1, self.swapdb),
            (1, self.dbsize), (1, self.ping_echo), (1, self.other_type),
            (0.2, self.flushdb),
        ]
        self.weights = [w for w, _ in self.table]

    # ---- argument helpers ----

    def key(self) -> bytes:
        if self.rng.random() < 0.1:
            return b"r%d" % self.rng.randrange(4)
        return self.rng.choice(KEYS)

    def string_key(self) -> bytes:
        """For commands that write non-numbers: mostly not the counters n1/n2."""
        key = self.key()
        return key if key not in (b"n1", b"n2") or self.maybe(0.3) else b"k1"

    def number_key(self) -> bytes:
        """Mostly n1/n2, which the generator tends to fill with numbers."""
        return self.rng.choice([b"n1", b"n2"]) if self.maybe(0.7) else self.key()

    def odd(self, *choices: bytes) -> bytes:
        return self.rng.choice(choices)

    def keys(self, lo: int = 1, hi: int = 4) -> list[bytes]:
        return [self.key() for _ in range(self.rng.randint(lo, hi))]

    def value(self) -> bytes:
        r = self.rng
        kind = r.randrange(6)
        if kind == 0:
            return b(r.choice([0, 1, -1, r.randint(-1000, 1000), r.randint(-10**12, 10**12)]))
        if kind == 1:
            return r.choice([b"9223372036854775807", b"-9223372036854775808",
                             b"9223372036854775806", b"12345678901234567890", b"007",
                             b" 1", b"+1", b"-0", b"1.5", b"1e3", b"0.1", b"-2.5e-3"])
        if kind == 2:
            return bytes(r.choice(b"abcdefghxyz") for _ in range(r.randint(0, 12)))
        if kind == 3:
            return bytes(r.randrange(256) for _ in range(r.randint(1, 8)))
        if kind == 4:
            return b"a" * r.randint(40, 50)  # around the embstr/raw limit
        return r.choice([b"", b"hello", b"foobar", b"\x00", b"\xff\xf0\x00", b"\r\n"])

    def number(self) -> bytes:
        r = self.rng
        if r.random() < 0.85:
            return b(r.choice([r.randint(-100, 100), r.randint(-10**15, 10**15), 2**63 - 1,
                               -(2**63)]))
        return r.choice([b"1.5", b"-0.25", b"3e2"])

    def bad_number(self) -> bytes:
        return self.rng.choice([b"abc", b"1.5", b"", b"-", b"99999999999999999999",
                                b"0x10", b" 1", b"1 "])

    def int_arg(self, lo: int, hi: int, bad: float = 0.08) -> bytes:
        if self.rng.random() < bad:
            return self.bad_number()
        return b(self.rng.randint(lo, hi))

    def seconds(self) -> bytes:
        r = self.rng.random()
        if r < 0.75:
            return b(self.rng.randint(1000, 100000))
        if r < 0.9:
            return b(self.rng.randint(-5, 0))
        return self.rng.choice([self.bad_number(), b"9223372036854775807"])

    def millis(self) -> bytes:
        r = self.rng.random()
        if r < 0.75:
            return b(self.rng.randint(1000000, 100000000))
        if r < 0.9:
            return b(self.rng.randint(-5, 0))
        return self.rng.choice([self.bad_number(), b"9223372036854775807"])

    def unix_seconds(self) -> bytes:
        r = self.rng.random()
        if r < 0.7:
            return b(FUTURE_S + self.rng.randint(0, 100000))
        if r < 0.9:
            return b(self.rng.randint(-1, 1600000000))
        return self.bad_number()

    def unix_millis(self) -> bytes:
        r = self.rng.random()
        if r < 0.7:
            return b(FUTURE_S * 1000 + self.rng.randint(0, 100000000))
        if r < 0.9:
            return b(self.rng.randint(-1, 1600000000000))
        return self.bad_number()

    def maybe(self, p: float = 0.5) -> bool:
        return self.rng.random() < p

    # ---- commands ----

    def set_cmd(self):
        key = self.key()
        value = self.number() if key in (b"n1", b"n2") and self.maybe(0.8) else self.value()
        args = [b"SET", key, value]
        r = self.rng
        choice = r.randrange(7)
        if choice == 1:
            args += [b"EX", self.seconds()]
        elif choice == 2:
            args += [b"PX", self.millis()]
        elif choice == 3:
            args += [b"EXAT", self.unix_seconds()]
        elif choice == 4:
            args += [b"PXAT", self.unix_millis()]
        elif choice == 5:
            args += [b"KEEPTTL"]
        if self.maybe(0.3):
            args.append(r.choice([b"NX", b"XX", b"nx"]))
        if self.maybe(0.25):
            args.append(b"GET")
        if self.maybe(0.04):
            args.append(r.choice([b"EX", b"PX", b"FOO", b"NX", b"KEEPTTL"]))
        if self.maybe(0.1):
            options = args[3:]
            r.shuffle(options)
            args[3:] = options
        return args, PLAIN

    def get_like(self):
        name = self.rng.choice([b"GET", b"GET", b"GETDEL", b"STRLEN"])
        return [name, self.key()], PLAIN

    def getex(self):
        args = [b"GETEX", self.key()]
        option = self.rng.randrange(7)
        if option == 1:
            args += [b"EX", self.seconds()]
        elif option == 2:
            args += [b"PX", self.millis()]
        elif option == 3:
            args += [b"EXAT", self.unix_seconds()]
        elif option == 4:
            args += [b"PXAT", self.unix_millis()]
        elif option == 5:
            args += [b"PERSIST"]
        if self.maybe(0.05):
            args.append(self.rng.choice([b"PERSIST", b"EX", b"BAD"]))
        return args, PLAIN

    def getset_like(self):
        name = self.rng.choice([b"GETSET", b"SETNX"])
        return [name, self.key(), self.value()], PLAIN

    def mget(self):
        return [b"MGET"] + self.keys(1, 5), PLAIN

    def mset(self):
        name = self.rng.choice([b"MSET", b"MSET", b"MSETNX"])
        args = [name]
        for _ in range(self.rng.randint(1, 3)):
            args += [self.key(), self.value()]
        if self.maybe(0.05):
            args.pop()
        return args, PLAIN

    def setex(self):
        if self.maybe():
            return [b"SETEX", self.key(), self.seconds(), self.value()], PLAIN
        return [b"PSETEX", self.key(), self.millis(), self.value()], PLAIN

    def append(self):
        return [b"APPEND", self.string_key(), self.value()[:8]], PLAIN

    def counter(self):
        r = self.rng
        name = r.choice([b"INCR", b"DECR", b"INCRBY", b"DECRBY"])
        if name in (b"INCR", b"DECR"):
            return [name, self.number_key()], PLAIN
        amount = r.choice([self.int_arg(-100, 100), b"9223372036854775807",
                           b"-9223372036854775808", b(r.randint(-2**63, 2**63 - 1))])
        return [name, self.number_key(), amount], PLAIN

    def incrbyfloat(self):
        r = self.rng
        amount = r.choice([b"1", b"-1", b"0.1", b"1.5", b"-0.25", b"1e3", b"2.5e-3", b"inf",
                           b"nan", b"abc", b"1e308", b"-1e308", b".5", b"5.",
                           b"%.6f" % r.uniform(-1000, 1000), b(r.randint(-50, 50))])
        return [b"INCRBYFLOAT", self.number_key(), amount], PLAIN

    def getrange(self):
        name = self.rng.choice([b"GETRANGE", b"SUBSTR"])
        return [name, self.key(), self.int_arg(-30, 30), self.int_arg(-30, 30)], PLAIN

    def setrange(self):
        offset = self.int_arg(-1, 60) if self.maybe(0.6) else self.int_arg(0, 200)
        if self.maybe(0.04):
            offset = b"536870912"
        return [b"SETRANGE", self.string_key(), offset, self.value()[:10]], PLAIN

    def lcs(self):
        args = [b"LCS", self.key(), self.key()]
        option = self.rng.randrange(4)
        if option == 1:
            args.append(b"LEN")
        elif option >= 2:
            args.append(b"IDX")
            if self.maybe():
                args += [b"MINMATCHLEN", self.int_arg(-1, 4)]
            if self.maybe():
                args.append(b"WITHMATCHLEN")
        return args, PLAIN

    def setbit(self):
        bit = self.rng.choice([b"0", b"1", b"1"]) if self.maybe(0.92) else self.odd(b"2", b"-1")
        offset = self.int_arg(0, 100, 0.03) if self.maybe() else self.int_arg(0, 2000, 0.03)
        if self.maybe(0.04):
            offset = self.odd(b"4294967296", b"-1")
        return [b"SETBIT", self.string_key(), offset, bit], PLAIN

    def getbit(self):
        return [b"GETBIT", self.key(), self.int_arg(0, 300)], PLAIN

    def range_args(self) -> list[bytes]:
        args = []
        if self.maybe(0.6):
            args += [self.int_arg(-20, 20), self.int_arg(-20, 20)]
            if self.maybe(0.4):
                args.append(self.rng.choice([b"BIT", b"BYTE", b"bit", b"FOO"]))
        return args

    def bitcount(self):
        args = [b"BITCOUNT", self.key()] + self.range_args()
        if self.maybe(0.05):
            args = args[:3]
        return args, PLAIN

    def bitpos(self):
        args = [b"BITPOS", self.key(), self.rng.choice([b"0", b"1", b"1", b"2"])]
        if self.maybe(0.5):
            args.append(self.int_arg(-10, 10))
            if self.maybe(0.5):
                args.append(self.int_arg(-10, 10))
                if self.maybe(0.4):
                    args.append(self.rng.choice([b"BIT", b"BYTE"]))
        return args, PLAIN

    def bitop(self):
        op = self.rng.choice([b"AND", b"OR", b"XOR", b"NOT", b"not", b"NAND"])
        sources = self.keys(1, 1 if op.upper() == b"NOT" and self.maybe(0.8) else 3)
        return [b"BITOP", op, self.key()] + sources, PLAIN

    def bitfield_type(self) -> bytes:
        r = self.rng
        if r.random() < 0.05:
            return r.choice([b"u64", b"i65", b"i0", b"x8"])
        if r.random() < 0.5:
            return b"i%d" % r.randint(1, 64)
        return b"u%d" % r.randint(1, 63)

    def bitfield(self):
        r = self.rng
        read_only = self.maybe(0.25)
        args = [b"BITFIELD_RO" if read_only else b"BITFIELD", self.key()]
        for _ in range(r.randint(0, 4)):
            offset = r.choice([b(r.randint(0, 200)), b"#%d" % r.randint(0, 20)])
            op = r.randrange(10 if not read_only else 12)
            if op < 4 or op >= 10:
                args += [b"GET", self.bitfield_type(), offset]
            elif op < 6:
                args += [b"SET", self.bitfield_type(), offset,
                         b(r.choice([0, 1, -1, 127, 255, 1000, -(2**63), 2**63 - 1]))]
            elif op < 9:
                args += [b"INCRBY", self.bitfield_type(), offset, b(r.randint(-300, 300))]
            else:
                args += [b"OVERFLOW", r.choice([b"WRAP", b"SAT", b"FAIL", b"BAD"])]
        return args, PLAIN

    def delete(self):
        return [self.rng.choice([b"DEL", b"UNLINK"])] + self.keys(1, 3), PLAIN

    def exists(self):
        return [b"EXISTS"] + self.keys(1, 4), PLAIN

    def type_cmd(self):
        return [b"TYPE", self.key()], PLAIN

    def expire(self):
        r = self.rng
        kind = r.randrange(4)
        if kind == 0:
            args = [b"EXPIRE", self.key(), self.seconds()]
        elif kind == 1:
            args = [b"PEXPIRE", self.key(), self.millis()]
        elif kind == 2:
            args = [b"EXPIREAT", self.key(), self.unix_seconds()]
        else:
            args = [b"PEXPIREAT", self.key(), self.unix_millis()]
        for _ in range(r.choice([0, 0, 1, 1, 2])):
            args.append(r.choice([b"NX", b"XX", b"GT", b"LT", b"gt", b"BAD"]))
        return args, PLAIN

    def ttl(self):
        name = self.rng.choice([b"TTL", b"PTTL", b"EXPIRETIME", b"PEXPIRETIME"])
        ann = TTL_MS if name.startswith(b"P") else TTL_S
        return [name, self.key()], ann

    def persist(self):
        return [b"PERSIST", self.key()], PLAIN

    def rename(self):
        return [self.rng.choice([b"RENAME", b"RENAMENX"]), self.key(), self.key()], PLAIN

    def copy(self):
        args = [b"COPY", self.key(), self.key()]
        if self.maybe(0.3):
            args += [b"DB", self.db()]
        if self.maybe(0.4):
            args.append(b"REPLACE")
        return args, PLAIN

    def move(self):
        return [b"MOVE", self.key(), self.db()], PLAIN

    def db(self) -> bytes:
        if self.maybe(0.1):
            return self.odd(b"16", b"-1", b"x")
        return self.odd(b"0", b"1", b"2")

    def pattern(self) -> bytes:
        return self.rng.choice([b"*", b"k*", b"?1", b"k[12]", b"*n*", b"[^k]*", b"r?",
                                b"bin*", b"\\k1", b"*\x00*", b""])

    def keys_cmd(self):
        return [b"KEYS", self.pattern()], UNORDERED

    def scan(self):
        args = [b"SCAN", b"0"]
        if self.maybe():
            args += [b"MATCH", self.pattern()]
        if self.maybe():
            args += [b"COUNT", self.rng.choice([b"1", b"2", b"10", b"1000"])]
        if self.maybe(0.3):
            args += [b"TYPE", self.rng.choice([b"string", b"list", b"hash", b"none"])]
        return args, SCAN

    def randomkey(self):
        return [b"RANDOMKEY"], TYPE_ONLY

    def touch(self):
        return [b"TOUCH"] + self.keys(1, 3), PLAIN

    def object_cmd(self):
        sub = self.rng.choice([b"ENCODING", b"REFCOUNT", b"IDLETIME", b"FREQ"])
        # encodings and refcounts are exact in the scripts; here only their types
        ann = PLAIN if sub == b"FREQ" else TYPE_ONLY
        return [b"OBJECT", sub, self.key()], ann

    def dump(self):
        return [b"DUMP", self.key()], TYPE_ONLY

    def select(self):
        return [b"SELECT", self.rng.choice([b"0", b"0", self.db()])], PLAIN

    def swapdb(self):
        return [b"SWAPDB", self.rng.choice([b"0", b"1"]), self.db()], PLAIN

    def dbsize(self):
        return [b"DBSIZE"], PLAIN

    def ping_echo(self):
        if self.maybe():
            return [b"PING"] + ([self.value()] if self.maybe() else []), PLAIN
        return [b"ECHO", self.value()], PLAIN

    def other_type(self):
        """Non-string values, so WRONGTYPE paths get exercised."""
        r = self.rng
        kind = r.randrange(3)
        if kind == 0:
            return [b"RPUSH", self.key(), self.value()], PLAIN
        if kind == 1:
            return [b"SADD", self.key(), self.value()], PLAIN
        return [b"HSET", self.key(), b"f", self.value()], PLAIN

    def flushdb(self):
        return [b"FLUSHDB"], PLAIN

    # ---- driver ----

    def next(self) -> tuple[list[bytes], Annotations]:
        _, make = self.rng.choices(self.table, weights=self.weights)[0]
        args, ann = make()
        if ann.plain() and self.rng.random() < 0.03 and len(args) > 1:  # arity errors
            args = args[:-1] if self.maybe() else args + [b"extra"]
        return args, ann
