#!/usr/bin/env python3
"""Prints each command of a script with the reply one server gives, for writing scripts.

    python3 redis_compat_tests/show_replies.py [--client py|cli|hiredis|resp3]
        [--port P | --server PROGRAM] scripts/strings.redis ...

Without --port a throw-away redis-server (or --server PROGRAM, e.g. keel-server) is
started on a free loopback port and stopped at the end. The database is FLUSHALLed
before each script, as in the suite.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from keelcompat.clients import open_session, run_command  # noqa: E402
from keelcompat.resp import RespConnection  # noqa: E402
from keelcompat.script import CLIENTS, Sleep, parse_script  # noqa: E402
from keelcompat.servers import Server, find_program, free_ports  # noqa: E402


class _Tools:
    def __init__(self, hiredis_client: str):
        self.redis_cli = find_program("REDIS_CLI", "redis-cli", "redis-cli")
        self._hiredis = hiredis_client

    def hiredis_client(self) -> str:
        return self._hiredis


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scripts", nargs="+", type=Path)
    parser.add_argument("--client", choices=CLIENTS, default="cli")
    parser.add_argument("--port", type=int, help="use a server already listening here")
    parser.add_argument("--server", default="redis-server",
                        help="program to start when --port is not given")
    parser.add_argument("--hiredis-client",
                        default="build/redis_compat_tests/keel_hiredis_client")
    opts = parser.parse_args()

    tools = _Tools(opts.hiredis_client)
    server = None
    port = opts.port
    with tempfile.TemporaryDirectory(prefix="keel-show-") as tmp:
        if port is None:
            port = free_ports(1)[0]
            program = find_program("SERVER", opts.server, opts.server)
            argv = [program, "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp]
            if Path(program).name == "redis-server":
                argv += ["--save", "", "--appendonly", "no"]
            server = Server(Path(program).name, argv, port, Path(tmp) / "server.log")
            server.start()
        try:
            for path in opts.scripts:
                script = parse_script(path)
                print(f"=== {path} [{opts.client}]")
                conn = RespConnection(port)
                conn.call([b"FLUSHALL"])
                conn.close()
                session = open_session(opts.client, port, tools)
                try:
                    for item in script.items:
                        if isinstance(item, Sleep):
                            time.sleep(item.seconds)
                            continue
                        if opts.client in item.ann.skip:
                            continue
                        print(f"{item.lineno:4d}> {item.text}")
                        for line in run_command(session, item).show().strip("\n").split("\n"):
                            print(f"      {line}")
                finally:
                    session.close()
        finally:
            if server is not None:
                server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
