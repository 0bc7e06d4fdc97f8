"""Starting and stopping the two servers under test (loopback only)."""

from __future__ import annotations

import atexit
import os
import shlex
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = float(os.environ.get("KEEL_COMPAT_START_TIMEOUT", "30"))
STOP_TIMEOUT = 10.0


class ServerError(RuntimeError):
    pass


def free_ports(count: int) -> list[int]:
    """Distinct free TCP ports on 127.0.0.1 (held open together, then released)."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def ping(port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class Server:
    def __init__(self, name: str, argv: list[str], port: int, log_path: Path):
        self.name, self.argv, self.port, self.log_path = name, argv, port, log_path
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT)
        atexit.register(self.stop)  # in case pytest is interrupted before its teardown
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerError(f"{self.name} exited with status {self.proc.returncode}: "
                                  f"{shlex.join(self.argv)}\n{self.log_tail()}")
            if ping(self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise ServerError(f"{self.name} did not answer PING on port {self.port} within "
                          f"{START_TIMEOUT}s: {shlex.join(self.argv)}\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(["--- log tail " + str(self.log_path)] + text[-lines:])

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited after STOP_TIMEOUT seconds."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        except ProcessLookupError:  # exited in the meantime
            self.proc.wait()


def find_program(env_var: str, default: str, what: str) -> str:
    path = os.environ.get(env_var) or default
    found = shutil.which(path) if os.sep not in path else (path if os.access(path, os.X_OK)
                                                          else None)
    if not found:
        raise ServerError(f"{what} not found at {path!r} (set {env_var})")
    return found


def keel_server_argv(port: int, data_dir: Path) -> list[str]:
    program = find_program("KEEL_SERVER", str(REPO_ROOT / "build/server/keel-server"),
                           "keel-server")
    extra = shlex.split(os.environ.get("KEEL_SERVER_ARGS", ""))
    return [program, *extra, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data_dir)]


def redis_server_argv(port: int, data_dir: Path) -> list[str]:
    program = find_program("REDIS_SERVER", "redis-server", "redis-server")
    return [program, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data_dir),
            "--save", "", "--appendonly", "no"]


class ServerPair:
    """The reference redis-server and Keel, started together, stopped by pid."""

    def __init__(self, base_dir: Path):
        redis_port, keel_port = free_ports(2)
        dirs = {}
        for name in ("redis", "keel"):
            dirs[name] = base_dir / name
            dirs[name].mkdir(parents=True, exist_ok=True)
        self.redis = Server("redis-server", redis_server_argv(redis_port, dirs["redis"]),
                            redis_port, base_dir / "redis.log")
        self.keel = Server("keel-server", keel_server_argv(keel_port, dirs["keel"]),
                           keel_port, base_dir / "keel.log")

    def start(self) -> None:
        try:
            self.redis.start()
            self.keel.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        try:
            self.keel.stop()
        finally:
            self.redis.stop()

    def flushall(self) -> None:
        from .resp import RespConnection

        for server in (self.redis, self.keel):
            conn = RespConnection(server.port)
            try:
                reply = conn.call([b"FLUSHALL"])
            finally:
                conn.close()
            if reply != ("status", b"OK"):
                raise ServerError(f"FLUSHALL on {server.name} replied {reply!r}")
