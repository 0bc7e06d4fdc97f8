"""Command scripts: redis-cli style argument splitting and the *.redis file format.

A script line is one of
    SET key value                    a command, in redis-cli syntax
    SET key value  # @approx 1       a command with annotations (after a lone '#')
    # any text                       a comment
    # @sleep 0.3                     a directive (see DIRECTIVES)
A lone '#' token (outside quotes) starts a trailing comment; '#1' (as in BITFIELD offsets)
is an ordinary argument. Words of a trailing comment that start with '@' are annotations
(see ANNOTATIONS); other words are free text.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

CLIENTS = ("py", "cli", "hiredis", "resp3")

# annotation -> number of values it takes (given as the next word)
ANNOTATIONS = {
    "@unordered": 0,  # compare array/set elements (and map pairs) as multisets
    "@approx": 1,  # integers may differ by up to N (TTL-like replies)
    "@type": 0,  # compare only the reply type: string, integer, nil, array, error...
    "@mask": 1,  # comma list of map fields whose values are compared by type only
    "@scan": 0,  # SCAN: iterate to the end, compare the union of the keys returned
    "@skip": 1,  # comma list of clients that do not run this line
}
DIRECTIVES = {
    "@sleep": 1,  # sleep N seconds (once for both servers)
    "@clients": 1,  # file level: comma list of clients that run this script
}


class ScriptError(ValueError):
    pass


class SplitError(ValueError):
    pass


_HEX = "0123456789abcdefABCDEF"
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "a": "\a"}


def split_line(line: str, allow_comment: bool = False) -> tuple[list[bytes], int]:
    """Splits a line like redis-cli does; returns (args, end).

    `end` is where the command ends: len(line), or with allow_comment the position of a
    lone unquoted '#' token. Raises SplitError on unbalanced quotes or on a closing quote
    followed by something other than whitespace.
    """
    args: list[bytes] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i].isspace():
            i += 1
        if i >= n:
            return args, n
        if allow_comment and line[i] == "#" and (i + 1 == n or line[i + 1].isspace()):
            return args, i
        token = bytearray()
        quote = None
        while True:
            c = line[i] if i < n else ""
            if quote == '"':
                if c == "":
                    raise SplitError("unbalanced double quotes")
                if c == "\\" and line[i + 1 : i + 2] == "x" and len(line[i + 2 : i + 4]) == 2 \
                        and all(h in _HEX for h in line[i + 2 : i + 4]):
                    token.append(int(line[i + 2 : i + 4], 16))
                    i += 4
                    continue
                if c == "\\" and i + 1 < n:
                    e = line[i + 1]
                    token += _ESCAPES.get(e, e).encode()
                    i += 2
                    continue
                if c == '"':
                    if i + 1 < n and not line[i + 1].isspace():
                        raise SplitError("closing quote must be followed by a space")
                    i += 1
                    break
                token += c.encode()
            elif quote == "'":
                if c == "":
                    raise SplitError("unbalanced single quotes")
                if c == "\\" and line[i + 1 : i + 2] == "'":
                    token += b"'"
                    i += 2
                    continue
                if c == "'":
                    if i + 1 < n and not line[i + 1].isspace():
                        raise SplitError("closing quote must be followed by a space")
                    i += 1
                    break
                token += c.encode()
            else:
                if c == "" or c.isspace():
                    break
                if c in "\"'":
                    quote = c
                else:
                    token += c.encode()
            i += 1
        args.append(bytes(token))


def quote_arg(arg: bytes) -> str:
    """One argument in double quotes, escaped so that split_line gives it back."""
    out = ['"']
    for b in arg:
        ch = chr(b)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= b <= 0x7E:
            out.append(ch)
        else:
            out.append("\\x%02x" % b)
    out.append('"')
    return "".join(out)


def args_to_line(args: list[bytes]) -> str:
    """A redis-cli line for args (plain words left bare, anything else quoted)."""
    plain = re.compile(rb"^[A-Za-z0-9_.:{}@$%^&*+=/<>?!,|-]+$")
    return " ".join(a.decode() if plain.match(a) and not a.startswith(b"#") else quote_arg(a)
                    for a in args)


@dataclasses.dataclass(frozen=True)
class Annotations:
    unordered: bool = False
    approx: int | None = None
    type_only: bool = False
    mask: tuple[bytes, ...] = ()
    scan: bool = False
    skip: frozenset[str] = frozenset()

    def plain(self) -> bool:
        """True if replies are compared exactly."""
        return not (self.unordered or self.approx is not None or self.type_only
                    or self.mask or self.scan)


@dataclasses.dataclass(frozen=True)
class Command:
    lineno: int
    text: str  # the command as written, for redis-cli and the hiredis client
    args: list[bytes]  # the same split into arguments, for redis-py and raw RESP
    ann: Annotations = Annotations()


@dataclasses.dataclass(frozen=True)
class Sleep:
    lineno: int
    seconds: float


@dataclasses.dataclass
class Script:
    path: Path
    clients: tuple[str, ...]
    items: list

    @property
    def name(self) -> str:
        return self.path.stem


def _client_list(value: str, where: str) -> frozenset[str]:
    names = frozenset(v for v in value.split(",") if v)
    unknown = names - set(CLIENTS)
    if unknown or not names:
        raise ScriptError(f"{where}: unknown client(s) {sorted(unknown)}; known: {CLIENTS}")
    return names


def _parse_words(words: list[str], table: dict, where: str) -> dict[str, str | None]:
    """Picks '@name [value]' pairs out of comment words."""
    found: dict[str, str | None] = {}
    k = 0
    while k < len(words):
        word = words[k]
        k += 1
        if not word.startswith("@"):
            continue  # free comment text
        if word not in table:
            raise ScriptError(f"{where}: unknown annotation {word!r}; known: {sorted(table)}")
        value = None
        if table[word]:
            if k >= len(words):
                raise ScriptError(f"{where}: {word} needs a value")
            value = words[k]
            k += 1
        found[word] = value
    return found


def parse_annotations(comment: str, where: str) -> Annotations:
    found = _parse_words(comment.split(), ANNOTATIONS, where)
    try:
        approx = int(found["@approx"]) if "@approx" in found else None
    except ValueError:
        raise ScriptError(f"{where}: @approx needs an integer") from None
    mask = tuple(f.encode() for f in found["@mask"].split(",")) if "@mask" in found else ()
    skip = _client_list(found["@skip"], where) if "@skip" in found else frozenset()
    return Annotations(unordered="@unordered" in found, approx=approx,
                       type_only="@type" in found, mask=mask, scan="@scan" in found,
                       skip=skip)


def parse_script(path: Path) -> Script:
    clients: tuple[str, ...] = CLIENTS
    items: list = []
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        where = f"{path.name}:{lineno}"
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            found = _parse_words(line[1:].split(), DIRECTIVES, where) \
                if line[1:].lstrip().startswith("@") else {}
            if "@sleep" in found:
                items.append(Sleep(lineno, float(found["@sleep"])))
            if "@clients" in found:
                if items:
                    raise ScriptError(f"{where}: @clients must come before the first command")
                clients = tuple(c for c in CLIENTS if c in _client_list(found["@clients"], where))
            continue
        try:
            args, end = split_line(line, allow_comment=True)
        except SplitError as e:
            raise ScriptError(f"{where}: {e}") from None
        ann = parse_annotations(line[end + 1 :], where) if end < len(line) else Annotations()
        if ann.scan and (len(args) < 2 or args[0].upper() != b"SCAN"):
            raise ScriptError(f"{where}: @scan is for 'SCAN <cursor> ...' lines")
        items.append(Command(lineno, line[:end].rstrip(), args, ann))
    if not any(isinstance(item, Command) for item in items):
        raise ScriptError(f"{path.name}: no commands")
    return Script(path, clients, items)
