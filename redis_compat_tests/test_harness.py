"""Tests of the runner itself, against a redis-server of its own (Keel is not involved).

* the Python splitter, keel_hiredis_client and redis-cli split lines the same way;
* the redis-cli output parser and redis-py agree on every plain line of every script;
* the comparison rules behave as documented.
"""

from __future__ import annotations

import pytest

from keelcompat.clients import CliSession, HiredisSession, PySession, run_command
from keelcompat.replies import Reply, compare, parse_cli_output
from keelcompat.resp import RespConnection
from keelcompat.script import Annotations, Command, Sleep, SplitError, split_line
from test_scripts import SCRIPTS

TRICKY_LINES = [
    'ECHO plain',
    'ECHO "double quoted with spaces"',
    "ECHO 'single quoted with spaces'",
    'ECHO "\\x00\\x01\\x7f\\x80\\xff"',
    'ECHO "\\xAb\\xcD"',
    'ECHO "\\n\\r\\t\\b\\a"',
    'ECHO "\\q\\"\\\\"',
    "ECHO 'it\\'s' ",
    "ECHO 'back\\slash\\n'",
    'ECHO "\\x4"',
    'ECHO "\\xZZ"',
    'ECHO mid"dle quote"',
    "ECHO mid'dle quote'",
    'ECHO ""',
    "ECHO ''",
    "   ECHO    spaced    ",
    "ECHO\ttabbed",
    'ECHO "été"',
    "ECHO #notacomment",
    'ECHO "unterminated',
    "ECHO 'unterminated",
    'ECHO "closing"quote',
    "ECHO 'closing'quote",
    'ECHO "trailing backslash\\',
]


def test_split_line_examples():
    assert split_line('SET "a b" c') == ([b"SET", b"a b", b"c"], 11)
    assert split_line("GET k  # @approx 1", allow_comment=True) == ([b"GET", b"k"], 7)
    assert split_line("BITFIELD k GET i8 #1", allow_comment=True)[0][-1] == b"#1"
    assert split_line('X "\\x00\\xff"')[0] == [b"X", b"\x00\xff"]
    with pytest.raises(SplitError):
        split_line('X "a"b')


def _cli_view(reply: Reply):
    tree = reply.parsed()
    if tree[0] == "invalid":
        return "invalid"
    assert tree[0] == "str", reply.show()
    return tree[1]


@pytest.mark.parametrize("line", TRICKY_LINES)
def test_clients_split_alike(reference, tools, line):
    """redis-cli, keel_hiredis_client and split_line turn a line into the same bytes."""
    try:
        expected = split_line(line)[0][1]
    except SplitError:
        expected = "invalid"
    cli = CliSession(reference.port, tools.redis_cli)
    hiredis = HiredisSession(reference.port, tools.hiredis_client())
    try:
        assert _cli_view(cli.send_line(line)) == expected
        assert _cli_view(hiredis.send_line(line)) == expected
    finally:
        cli.close()
        hiredis.close()


def _plain_str(tree: tuple) -> tuple:
    """redis-py cannot tell status replies from strings: make both 'str'."""
    tag = tree[0]
    if tag == "status":
        return ("str", tree[1])
    if tag == "error":  # redis-py drops the 'ERR ' prefix and names the exception class
        return ("error",)
    if tag in ("array", "set", "push"):
        return (tag, tuple(_plain_str(t) for t in tree[1]))
    return tree


def _run_plain(session, port: int, script) -> list:
    conn = RespConnection(port)
    conn.call([b"FLUSHALL"])
    conn.close()
    out = []
    for item in script.items:
        if isinstance(item, Command) and item.ann.plain() and session.name not in item.ann.skip:
            out.append((item.lineno, item.text, _plain_str(run_command(session, item).parsed())))
    return out


@pytest.mark.parametrize("script", [s for s in SCRIPTS if "py" in s.clients
                                    and not any(isinstance(i, Sleep) for i in s.items)],
                         ids=lambda s: s.name)
def test_cli_parser_matches_redis_py(reference, tools, script):
    cli = CliSession(reference.port, tools.redis_cli)
    try:
        via_cli = _run_plain(cli, reference.port, script)
    finally:
        cli.close()
    py = PySession(reference.port)
    try:
        via_py = _run_plain(py, reference.port, script)
    finally:
        py.close()
    assert len(via_cli) == len(via_py)
    for a, b in zip(via_cli, via_py):
        assert a == b


def test_compare_rules():
    one, two = Reply(tree=("int", 100)), Reply(tree=("int", 101))
    assert not compare(one, two, Annotations())
    assert compare(one, two, Annotations(approx=1))
    assert not compare(one, Reply(tree=("int", 102)), Annotations(approx=1))
    assert compare(Reply(tree=("str", b"a")), Reply(tree=("str", b"b")),
                   Annotations(type_only=True))
    assert not compare(Reply(tree=("str", b"a")), Reply(tree=("nil",)),
                       Annotations(type_only=True))
    ab = Reply(text='1) "a"\n2) "b"')
    ba = Reply(text='1) "b"\n2) "a"')
    assert not compare(ab, ba, Annotations())
    assert compare(ab, ba, Annotations(unordered=True))
    hello_a = Reply(tree=("map", ((("str", b"id"), ("int", 3)), (("str", b"proto"), ("int", 3)))))
    hello_b = Reply(tree=("map", ((("str", b"id"), ("int", 9)), (("str", b"proto"), ("int", 3)))))
    assert not compare(hello_a, hello_b, Annotations())
    assert compare(hello_a, hello_b, Annotations(mask=(b"id",)))
    assert parse_cli_output('1# "id" => (integer) 3\n2# "m" => (empty array)') == \
        ("map", ((("str", b"id"), ("int", 3)), (("str", b"m"), ("array", ()))))
