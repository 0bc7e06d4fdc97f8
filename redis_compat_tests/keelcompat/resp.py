"""A minimal raw-socket RESP2/RESP3 client, so replies can be seen exactly as sent."""

from __future__ import annotations

import socket


class RespError(Exception):
    pass


def encode_command(args: list[bytes]) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class RespConnection:
    def __init__(self, port: int, timeout: float = 30.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.reader = self.sock.makefile("rb")

    def close(self) -> None:
        self.reader.close()
        self.sock.close()

    def call(self, args: list[bytes]) -> tuple:
        self.sock.sendall(encode_command(args))
        return self.read_reply()

    def _line(self) -> bytes:
        line = self.reader.readline()
        if not line.endswith(b"\r\n"):
            raise RespError("connection closed or bad line: %r" % line)
        return line[:-2]

    def _blob(self, length: int) -> bytes:
        data = self.reader.read(length + 2)
        if len(data) != length + 2 or not data.endswith(b"\r\n"):
            raise RespError("short or unterminated bulk reply")
        return data[:-2]

    def read_reply(self) -> tuple:
        """Reads one reply as a tree (see replies.py); attributes are skipped."""
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return ("status", rest)
        if kind == b"-":
            return ("error", rest)
        if kind == b":":
            return ("int", int(rest))
        if kind == b"$":
            return ("nil",) if rest == b"-1" else ("str", self._blob(int(rest)))
        if kind == b"*":
            if rest == b"-1":
                return ("nil",)
            return ("array", tuple(self.read_reply() for _ in range(int(rest))))
        if kind == b"_":
            return ("nil",)
        if kind == b",":
            return ("double", rest)
        if kind == b"#":
            return ("bool", rest == b"t")
        if kind == b"(":
            return ("bignum", rest)
        if kind == b"!":
            return ("error", self._blob(int(rest)))
        if kind == b"=":
            return ("verbatim", self._blob(int(rest)))
        if kind == b"%":
            return ("map", tuple((self.read_reply(), self.read_reply())
                                 for _ in range(int(rest))))
        if kind == b"~":
            return ("set", tuple(self.read_reply() for _ in range(int(rest))))
        if kind == b">":
            return ("push", tuple(self.read_reply() for _ in range(int(rest))))
        if kind == b"|":
            for _ in range(2 * int(rest)):
                self.read_reply()
            return self.read_reply()
        raise RespError("unknown reply type in %r" % line)
