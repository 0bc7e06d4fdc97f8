"""Runs every scripts/*.redis through each client against redis-server and Keel.

Commands go to both servers in turn (redis-server first) and each pair of replies is
compared under the line's annotations. All mismatches of a script are reported together.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from keelcompat.clients import open_session, run_command
from keelcompat.replies import compare
from keelcompat.script import Command, Sleep, parse_script

SCRIPT_DIR = Path(__file__).parent / "scripts"
MAX_REPORTED = 25

SCRIPTS = [parse_script(p) for p in sorted(SCRIPT_DIR.glob("*.redis"))]
CASES = [pytest.param(script, client, id=f"{script.name}-{client}")
         for script in SCRIPTS for client in script.clients]


def describe(script, client: str, cmd: Command, ref, keel) -> str:
    return (f"{script.path.name}:{cmd.lineno} [{client}] {cmd.text}\n"
            f"    redis: {ref.show()}\n"
            f"    keel : {keel.show()}")


@pytest.mark.parametrize("script,client", CASES)
def test_script(clean_servers, tools, script, client):
    ref = open_session(client, clean_servers.redis.port, tools)
    try:
        keel = open_session(client, clean_servers.keel.port, tools)
    except BaseException:
        ref.close()
        raise
    mismatches = []
    checked = 0
    try:
        for item in script.items:
            if isinstance(item, Sleep):
                time.sleep(item.seconds)
                continue
            if client in item.ann.skip:
                continue
            try:
                ref_reply = run_command(ref, item)
                keel_reply = run_command(keel, item)
            except Exception as e:
                raise AssertionError(f"{script.path.name}:{item.lineno} [{client}] "
                                     f"{item.text}\n    {type(e).__name__}: {e}") from e
            checked += 1
            if not compare(ref_reply, keel_reply, item.ann):
                mismatches.append(describe(script, client, item, ref_reply, keel_reply))
    finally:
        ref.close()
        keel.close()
    if mismatches:
        shown = mismatches[:MAX_REPORTED]
        more = len(mismatches) - len(shown)
        pytest.fail(f"{len(mismatches)} of {checked} replies differ"
                    + (f" (first {len(shown)} shown)" if more else "") + ":\n"
                    + "\n".join(shown), pytrace=False)
