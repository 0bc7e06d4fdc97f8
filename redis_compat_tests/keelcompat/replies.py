"""Reply trees, the parsers that build them, and the comparison rules.

Every client's reply becomes a tree of tuples so that annotations work the same way for
all of them:
    ('str', b'..')  ('status', b'..')  ('error', b'..')  ('int', 5)  ('nil',)
    ('array', (..))  ('set', (..))  ('push', (..))  ('map', ((k, v), ..))
    ('double', b'..')  ('bool', True)  ('verbatim', b'..')  ('bignum', b'..')
    ('invalid',)            a line the client refused to split (nothing was sent)
    ('scan', (k, ..))       sorted union of the keys of a full SCAN iteration
    ('masked', tag)         a value hidden by @mask
redis-py cannot tell status replies from bulk strings: both come out as 'str'.
"""

from __future__ import annotations

import dataclasses
import re

from .script import Annotations

AGGREGATES = ("array", "set", "push")


@dataclasses.dataclass(frozen=True)
class Reply:
    """One reply: a tree, or redis-cli's printed text (compared verbatim by default)."""

    tree: tuple | None = None
    text: str | None = None

    def parsed(self) -> tuple:
        return self.tree if self.tree is not None else parse_cli_output(self.text)

    def exact(self):
        return self.text if self.text is not None else self.tree

    def show(self) -> str:
        if self.text is not None:
            return self.text if "\n" not in self.text else "\n" + self.text
        return render(self.tree)


# ---- rendering ----

def quote(data: bytes) -> str:
    out = []
    for b in data:
        ch = chr(b)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= b <= 0x7E:
            out.append(ch)
        else:
            out.append("\\x%02x" % b)
    return '"' + "".join(out) + '"'


_PREFIX = {"str": "$", "status": "+", "error": "-", "double": ",", "verbatim": "=",
           "bignum": "("}
_BRACKETS = {"array": "*", "set": "~", "push": ">"}


def render(tree: tuple) -> str:
    """One line, in the same notation keel_hiredis_client prints."""
    tag = tree[0]
    if tag in _PREFIX:
        return _PREFIX[tag] + quote(tree[1])
    if tag == "int":
        return ":%d" % tree[1]
    if tag == "nil":
        return "_"
    if tag == "bool":
        return "#t" if tree[1] else "#f"
    if tag in _BRACKETS:
        return "%s%d[%s]" % (_BRACKETS[tag], len(tree[1]), " ".join(render(e) for e in tree[1]))
    if tag == "map":
        inner = " ".join(render(k) + " " + render(v) for k, v in tree[1])
        return "%%%d{%s}" % (len(tree[1]), inner)
    if tag == "scan":
        return "scan-union[%s]" % " ".join(quote(k) for k in tree[1])
    if tag == "masked":
        return "<%s>" % tree[1]
    if tag == "invalid":
        return "!invalid"
    return repr(tree)


# ---- keel_hiredis_client output ----

class ParseError(ValueError):
    pass


def parse_hiredis_line(line: str) -> tuple:
    """Parses one line printed by keel_hiredis_client."""
    if line == "!invalid":
        return ("invalid",)
    if line.startswith("!"):
        raise ParseError("hiredis client: " + line)
    tree, pos = _parse_canonical(line, 0)
    if pos != len(line):
        raise ParseError(f"trailing data in {line!r}")
    return tree


def _parse_quoted(s: str, pos: int) -> tuple[bytes, int]:
    if s[pos : pos + 1] != '"':
        raise ParseError(f"expected a quote at {pos} in {s!r}")
    pos += 1
    out = bytearray()
    while True:
        ch = s[pos]
        if ch == '"':
            return bytes(out), pos + 1
        if ch == "\\":
            if s[pos + 1] == "x":
                out.append(int(s[pos + 2 : pos + 4], 16))
                pos += 4
            else:
                out += s[pos + 1].encode()
                pos += 2
        else:
            out += ch.encode()
            pos += 1


def _parse_canonical(s: str, pos: int) -> tuple[tuple, int]:
    tag = s[pos]
    for name, prefix in _PREFIX.items():
        if tag == prefix:
            data, pos = _parse_quoted(s, pos + 1)
            return (name, data), pos
    if tag == ":":
        m = re.compile(r"-?\d+").match(s, pos + 1)
        return ("int", int(m.group())), m.end()
    if tag == "_":
        return ("nil",), pos + 1
    if tag == "#":
        return ("bool", s[pos + 1] == "t"), pos + 2
    if tag in "*~>%":
        m = re.compile(r"\d+").match(s, pos + 1)
        count, pos = int(m.group()), m.end()
        close = "}" if tag == "%" else "]"
        pos += 1  # opening bracket
        items = []
        while s[pos] != close:
            if s[pos] == " ":
                pos += 1
            item, pos = _parse_canonical(s, pos)
            items.append(item)
        pos += 1
        if tag == "%":
            if len(items) != 2 * count:
                raise ParseError(f"bad map size in {s!r}")
            return ("map", tuple(zip(items[0::2], items[1::2]))), pos
        if len(items) != count:
            raise ParseError(f"bad aggregate size in {s!r}")
        return ({"*": "array", "~": "set", ">": "push"}[tag], tuple(items)), pos
    raise ParseError(f"unexpected {tag!r} at {pos} in {s!r}")


# ---- redis-cli output (--no-raw, as printed when stdout is not a terminal) ----

_CLI_EMPTY = {"(empty array)": "array", "(empty list or set)": "array", "(empty set)": "set",
              "(empty hash)": "map", "(empty push)": "push"}
_CLI_ESCAPES = {"n": b"\n", "r": b"\r", "t": b"\t", "a": b"\a", "b": b"\b"}


def _unrepr(s: str) -> tuple[bytes, int]:
    """Reads a string printed by redis-cli (sdscatrepr); returns (bytes, end)."""
    assert s[0] == '"'
    out = bytearray()
    pos = 1
    while True:
        if pos >= len(s):
            raise ParseError(f"unterminated string in {s!r}")
        ch = s[pos]
        if ch == '"':
            return bytes(out), pos + 1
        if ch == "\\":
            e = s[pos + 1]
            if e == "x":
                out.append(int(s[pos + 2 : pos + 4], 16))
                pos += 4
                continue
            out += _CLI_ESCAPES.get(e, e.encode())
            pos += 2
        else:
            out += ch.encode()
            pos += 1


def _cli_scalar(line: str) -> tuple:
    if line.startswith('"'):
        data, end = _unrepr(line)
        if end != len(line):
            raise ParseError(f"trailing data after string: {line!r}")
        return ("str", data)
    if line.startswith("(integer) "):
        return ("int", int(line[10:]))
    if line.startswith("(error) "):
        return ("error", line[8:].encode())
    if line == "(nil)":
        return ("nil",)
    if line.startswith("(double) "):
        return ("double", line[9:].encode())
    if line in ("(true)", "(false)"):
        return ("bool", line == "(true)")
    if line.startswith("(big number) "):
        return ("bignum", line[13:].encode())
    if line in _CLI_EMPTY:
        kind = _CLI_EMPTY[line]
        return (kind, ())
    if line == "Invalid argument(s)":
        return ("invalid",)
    return ("status", line.encode())


_INDEX = re.compile(r"^( *)(\d+)([)~#]) ")


def parse_cli_output(text: str) -> tuple:
    return _parse_cli_lines(text.split("\n"))


def _parse_cli_lines(lines: list[str]) -> tuple:
    m = _INDEX.match(lines[0])
    if not m or m.group(2) != "1":
        if len(lines) != 1:
            raise ParseError("multi-line scalar: %r" % lines)
        return _cli_scalar(lines[0])
    width = len(m.group(1)) + len(m.group(2))
    sep = m.group(3)
    pad = " " * (width + 2)
    elements: list[list[str]] = []
    for line in lines:
        m = _INDEX.match(line)
        if m and m.group(3) == sep and len(m.group(1)) + len(m.group(2)) == width \
                and int(m.group(2)) == len(elements) + 1:
            elements.append([line[m.end():]])
        elif elements and line.startswith(pad):
            elements[-1].append(line[len(pad):])
        else:
            raise ParseError("cannot parse redis-cli output line %r" % line)
    if sep == "#":
        return ("map", tuple(_cli_map_entry(e) for e in elements))
    kind = "set" if sep == "~" else "array"
    return (kind, tuple(_parse_cli_lines(e) for e in elements))


def _cli_map_entry(lines: list[str]) -> tuple:
    first = lines[0]
    if first.startswith('"'):
        key_bytes, end = _unrepr(first)
        key = ("str", key_bytes)
    else:
        end = first.index(" => ")
        key = _cli_scalar(first[:end])
    if first[end : end + 4] != " => ":
        raise ParseError("bad map entry %r" % first)
    value_lines = [first[end + 4 :]] + lines[1:]
    if value_lines[0] == "" and len(value_lines) > 1:  # an aggregate starts on a new line
        value_lines = value_lines[1:]
    return (key, _parse_cli_lines(value_lines))


# ---- comparison ----

def type_of(tree: tuple) -> str:
    return tree[0]


def _mask(tree: tuple, fields: tuple[bytes, ...]) -> tuple:
    def hide(key, value):
        if key[0] in ("str", "status") and key[1] in fields:
            return ("masked", value[0])
        return value

    if tree[0] == "map":
        return ("map", tuple((k, hide(k, v)) for k, v in tree[1]))
    if tree[0] == "array" and len(tree[1]) % 2 == 0:  # RESP2 flattened map
        items = list(tree[1])
        for i in range(0, len(items), 2):
            items[i + 1] = hide(items[i], items[i + 1])
        return ("array", tuple(items))
    return tree


def _unordered(tree: tuple) -> tuple:
    if tree[0] in AGGREGATES:
        return (tree[0], tuple(sorted(tree[1], key=render)))
    if tree[0] == "map":
        return ("map", tuple(sorted(tree[1], key=lambda kv: render(kv[0]) + render(kv[1]))))
    return tree


def compare(a: Reply, b: Reply, ann: Annotations) -> bool:
    """True if the two replies match under the annotations."""
    if ann.plain():
        return a.exact() == b.exact()
    ta, tb = a.parsed(), b.parsed()
    if ann.mask:
        ta, tb = _mask(ta, ann.mask), _mask(tb, ann.mask)
    if ann.unordered:
        ta, tb = _unordered(ta), _unordered(tb)
    if ann.type_only:
        return type_of(ta) == type_of(tb)
    if ann.approx is not None and ta[0] == tb[0] == "int":
        return abs(ta[1] - tb[1]) <= ann.approx
    return ta == tb
