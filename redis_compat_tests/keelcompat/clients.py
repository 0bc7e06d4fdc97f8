"""One session per (client, server): redis-py, redis-cli, the hiredis program, raw RESP3.

Every session has send(cmd) for a script Command and send_args(args) for a command built
at run time; both return a replies.Reply.
"""

from __future__ import annotations

import os
import select
import subprocess
import time

import redis

from .replies import Reply, parse_hiredis_line
from .resp import RespConnection
from .script import Command, args_to_line

REPLY_TIMEOUT = 30.0


class SessionError(RuntimeError):
    pass


class PySession:
    """redis-py, RESP2, raw execute_command with every response callback removed."""

    name = "py"

    def __init__(self, port: int):
        self.client = redis.Redis(host="127.0.0.1", port=port, decode_responses=False,
                                  single_connection_client=True,
                                  socket_timeout=REPLY_TIMEOUT)
        self.client.response_callbacks.clear()

    @staticmethod
    def to_tree(value) -> tuple:
        if isinstance(value, bytes):
            return ("str", value)
        if isinstance(value, bool):  # before int: bool is an int
            return ("int", int(value))
        if isinstance(value, int):
            return ("int", value)
        if value is None:
            return ("nil",)
        if isinstance(value, list):
            return ("array", tuple(PySession.to_tree(v) for v in value))
        if isinstance(value, redis.ResponseError):
            return ("error", f"{type(value).__name__}: {value}".encode())
        raise SessionError(f"redis-py returned an unexpected {type(value).__name__}: {value!r}")

    def send_args(self, args: list[bytes]) -> Reply:
        try:
            value = self.client.execute_command(*args)
        except redis.ResponseError as e:
            value = e
        return Reply(tree=self.to_tree(value))

    def send(self, cmd: Command) -> Reply:
        return self.send_args(cmd.args)

    def close(self) -> None:
        self.client.close()


class Resp3Session:
    """Raw socket; switches to RESP3 with HELLO 3 on connect."""

    name = "resp3"

    def __init__(self, port: int):
        self.conn = RespConnection(port, timeout=REPLY_TIMEOUT)
        hello = self.conn.call([b"HELLO", b"3"])
        if hello[0] != "map":
            self.conn.close()
            raise SessionError(f"HELLO 3 did not return a map: {hello!r}")

    def send_args(self, args: list[bytes]) -> Reply:
        return Reply(tree=self.conn.call(args))

    def send(self, cmd: Command) -> Reply:
        return self.send_args(cmd.args)

    def close(self) -> None:
        self.conn.close()


class _LineProcess:
    """A child process fed one line at a time; output is read without blocking forever."""

    def __init__(self, argv: list[str], env: dict | None = None):
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env)
        self.buffer = b""

    def write(self, text: str) -> None:
        try:
            self.proc.stdin.write(text.encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise SessionError(f"{self.argv[0]} exited (status {self.proc.poll()})") from None

    def read_line(self) -> str:
        deadline = time.monotonic() + REPLY_TIMEOUT
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SessionError(f"no output from {self.argv[0]} in {REPLY_TIMEOUT}s; "
                                   f"got so far: {self.buffer!r}")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise SessionError(f"{self.argv[0]} exited (status {self.proc.wait()}); "
                                       f"output so far: {self.buffer!r}")
                self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode("utf-8", errors="backslashreplace")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()


class CliSession:
    """redis-cli --no-raw in its read-eval-print loop, stdin and stdout being pipes.

    After each command an ECHO of a marker is sent, so the end of the (possibly
    multi-line) printed reply is the line showing the marker.
    """

    name = "cli"
    MARKER = "keel-compat-end-of-reply"

    def __init__(self, port: int, redis_cli: str):
        env = dict(os.environ, REDISCLI_HISTFILE="/dev/null", REDISCLI_RCFILE="/dev/null")
        self.io = _LineProcess([redis_cli, "-h", "127.0.0.1", "-p", str(port), "--no-raw"],
                               env=env)

    def send_line(self, text: str) -> Reply:
        if "\n" in text or "\r" in text:
            raise SessionError("a redis-cli line cannot contain a newline")
        self.io.write(f"{text}\nECHO {self.MARKER}\n")
        lines = []
        while True:
            line = self.io.read_line()
            if line == f'"{self.MARKER}"':
                break
            lines.append(line)
        return Reply(text="\n".join(lines))

    def send(self, cmd: Command) -> Reply:
        return self.send_line(cmd.text)

    def send_args(self, args: list[bytes]) -> Reply:
        return self.send_line(args_to_line(args))

    def close(self) -> None:
        self.io.close()


class HiredisSession:
    """redis_compat_tests/keel_hiredis_client: one line in, one canonical reply line out."""

    name = "hiredis"

    def __init__(self, port: int, program: str):
        self.io = _LineProcess([program, "-h", "127.0.0.1", "-p", str(port)])

    def send_line(self, text: str) -> Reply:
        self.io.write(text + "\n")
        return Reply(tree=parse_hiredis_line(self.io.read_line()))

    def send(self, cmd: Command) -> Reply:
        return self.send_line(cmd.text)

    def send_args(self, args: list[bytes]) -> Reply:
        return self.send_line(args_to_line(args))

    def close(self) -> None:
        self.io.close()


def open_session(client: str, port: int, tools) -> object:
    if client == "py":
        return PySession(port)
    if client == "resp3":
        return Resp3Session(port)
    if client == "cli":
        return CliSession(port, tools.redis_cli)
    if client == "hiredis":
        return HiredisSession(port, tools.hiredis_client())
    raise ValueError(client)


def scan_all(session, args: list[bytes]) -> Reply:
    """Runs SCAN from cursor args[1] to the end; returns the sorted union of the keys.

    A reply that is not a [cursor, keys] pair (an error, say) is returned as it is.
    """
    keys: set[bytes] = set()
    cursor = args[1]
    for _ in range(100000):
        reply = session.send_args([args[0], cursor] + list(args[2:]))
        tree = reply.parsed()
        if tree[0] != "array" or len(tree[1]) != 2 or tree[1][0][0] != "str" \
                or tree[1][1][0] != "array":
            return reply
        cursor = tree[1][0][1]
        keys.update(k[1] for k in tree[1][1][1])
        if cursor == b"0":
            return Reply(tree=("scan", tuple(sorted(keys))))
    raise SessionError("SCAN did not finish after 100000 calls")


def run_command(session, cmd: Command) -> Reply:
    return scan_all(session, cmd.args) if cmd.ann.scan else session.send(cmd)

