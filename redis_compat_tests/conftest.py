"""Session fixtures: the two servers (redis-server and Keel) and the client programs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from keelcompat.servers import (REPO_ROOT, Server, ServerError, ServerPair, find_program,
                                free_ports, redis_server_argv)


class Tools:
    """Paths of the client programs; a missing one fails only the tests that need it."""

    def __init__(self):
        self.redis_cli = find_program("REDIS_CLI", "redis-cli", "redis-cli")

    @staticmethod
    def hiredis_client() -> str:
        default = REPO_ROOT / "build/redis_compat_tests/keel_hiredis_client"
        path = os.environ.get("KEEL_HIREDIS_CLIENT") or str(default)
        if not os.access(path, os.X_OK):
            pytest.fail(f"hiredis client not found at {path}: build the CMake target "
                        "keel_hiredis_client, or compile it with\n  gcc -O1 -Wall -Wextra "
                        "-o /tmp/keel_hiredis_client redis_compat_tests/keel_hiredis_client.c "
                        "-lhiredis\nand set KEEL_HIREDIS_CLIENT=/tmp/keel_hiredis_client",
                        pytrace=False)
        return path


@pytest.fixture(scope="session")
def tools() -> Tools:
    try:
        return Tools()
    except ServerError as e:
        error = str(e)
    pytest.fail(error, pytrace=False)


@pytest.fixture(scope="session")
def servers(tmp_path_factory):
    """Starts redis-server and keel-server once per session; stops both by pid at the end."""
    error = None
    try:
        pair = ServerPair(Path(tmp_path_factory.mktemp("servers")))
        pair.start()
    except ServerError as e:
        error = str(e)
    if error:
        pytest.fail(error, pytrace=False)
    try:
        yield pair
    finally:
        pair.stop()


@pytest.fixture(scope="session")
def reference(tmp_path_factory):
    """A redis-server of its own, for the tests of the runner itself."""
    base = Path(tmp_path_factory.mktemp("reference"))
    port = free_ports(1)[0]
    error = None
    try:
        server = Server("redis-server", redis_server_argv(port, base), port,
                        base / "redis.log")
        server.start()
    except ServerError as e:
        error = str(e)
    if error:
        pytest.fail(error, pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def clean_servers(servers):
    """Both servers, FLUSHALLed."""
    servers.flushall()
    return servers
