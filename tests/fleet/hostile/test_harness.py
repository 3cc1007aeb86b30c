"""The harness itself catches what the hostile tests rely on it to catch."""

from __future__ import annotations

import urllib.request

import pytest

from tests.fleet.conftest import git
from tests.fleet.hostile.harness import CANARY_ENV, CANARY_FILE_TEXT, Link, Sandbox, site_packages


def test_a_write_outside_the_command_temp_folder_is_caught(sandbox: Sandbox) -> None:
    (sandbox.tmp / "outside" / "pwned").write_text("x")
    with pytest.raises(AssertionError, match="written outside"):
        sandbox.assert_untouched()


def test_a_pth_in_site_packages_is_caught_and_removed(sandbox: Sandbox) -> None:
    planted = site_packages() / "eksgitops-hostile-test.pth"
    planted.write_text("# harmless\n")
    with pytest.raises(AssertionError, match=r"eksgitops-hostile-test\.pth"):
        sandbox.assert_untouched()


def test_writes_inside_the_command_temp_folder_are_allowed_but_must_be_cleaned(sandbox: Sandbox) -> None:
    scratch = sandbox.cmd_tmp / "eksgitops-x"
    scratch.mkdir()
    with pytest.raises(AssertionError, match="left temporary folders"):
        sandbox.assert_untouched()
    scratch.rmdir()
    sandbox.assert_untouched()


def test_a_contact_with_the_canary_server_is_caught(sandbox: Sandbox) -> None:
    with urllib.request.urlopen(f"{sandbox.canary.url}/x", timeout=5) as resp:
        resp.read()
    with pytest.raises(AssertionError, match="canary server was contacted"):
        sandbox.assert_untouched()


@pytest.mark.parametrize("value", [*CANARY_ENV.values(), CANARY_FILE_TEXT.strip()])
def test_every_canary_value_is_a_leak(sandbox: Sandbox, value: str) -> None:
    sandbox.assert_no_leak("harmless output")
    with pytest.raises(AssertionError, match="leaked"):
        sandbox.assert_no_leak(f"error: something {value} here")


def test_hostile_remote_keeps_symlinks_and_resets_the_snapshot(sandbox: Sandbox, hostile_remote) -> None:
    bare = hostile_remote({"a.yaml": "x: 1\n", "b": Link("/etc")})
    assert git("--git-dir", str(bare), "ls-tree", "main", "b").startswith("120000 ")
    sandbox.assert_untouched()
