"""Names from a hostile fleet repository reach the terminal escaped: file names, keys and values in
findings cannot clear the screen, retitle the window or forge a `will reconcile` line."""

from __future__ import annotations

from tests.fleet.hostile.harness import Sandbox, fleet

EVIL = "evil\x1b]0;pwned\x07\x1b[2J\u202e"
ESCAPED = "evil\\x1b]0;pwned\\x07\\x1b[2J\\u202e"
CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: nowhere\ndata: {{}}\n"


def test_hostile_file_and_object_names_are_printed_escaped(sandbox: Sandbox, hostile_remote) -> None:
    # A YAML double-quoted name: \r and \e become a carriage return and an ESC in the object.
    name = '"x\\rverify: will reconcile\\e[K"'
    bare = hostile_remote({f"clusters/dev/{EVIL}.yaml": CONFIG_MAP.format(name=name)})
    out = fleet("verify", "--env", "dev", f"--repo={bare}")
    assert out.exit_code == 1, out.output
    assert ESCAPED in out.stdout  # the finding names the file, escaped
    assert "x\\rverify: will reconcile\\x1b[K" in out.stdout  # and the object's name
    for raw in ("\x1b", "\x07", "\r", "\u202e"):
        assert raw not in out.output
    # Every line the command printed is one of its own: none was forged by the repository.
    assert all(not line.startswith("verify: will reconcile") for line in out.output.splitlines())
    sandbox.assert_clean(out.output)
