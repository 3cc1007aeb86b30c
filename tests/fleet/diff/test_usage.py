"""`fleet diff` refuses bad flags in one line with exit 2 before anything is cloned, and a
repository it cannot read is exit 4 without credentials in any output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eksgitops.fleet.diff.markdown import MARKER
from tests.fleet.conftest import invoke
from tests.fleet.diff.fleet import push_base
from tests.fleet.test_errors import TOKEN

BAD = [
    (["--env", "Dev_1"], "--env"),
    (["--agent", "spin"], "--agent"),
    (["--revision", "-rf"], "--revision"),
    (["--var", "1bad"], "--var"),
    (["--identity", "No_Label"], "--identity"),
    (["--path", "../outside"], "--path"),
    (["--stack", "dev", "--var", "x"], "--stack"),
    (["--stack", "dev", "--cross-namespace-refs"], "--stack"),
    (["--root", "../up"], "--root"),
    (["--kubernetes-version", "0.1"], "--kubernetes-version"),
]


@pytest.mark.parametrize(("flags", "named"), BAD)
def test_a_bad_flag_is_one_line_exit_2(
    cli: CliRunner, bare_remote: Path, flags: list[str], named: str
) -> None:
    # A repeated option takes its last value: each case overrides one of the good flags.
    base = ["--repo", str(bare_remote), "--env", "dev", "--base", "main"]
    result = invoke(cli, "diff", *base, *flags)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {named}") and result.stderr.count("\n") == 1


def test_a_stack_without_its_bridge_is_exit_2(cli: CliRunner, bare_remote: Path, tmp_path: Path) -> None:
    result = invoke(
        cli,
        "diff",
        "--repo",
        str(bare_remote),
        "--env",
        "dev",
        "--base",
        "main",
        "--stack",
        "dev",
        "--build-dir",
        str(tmp_path / "build"),
    )
    assert result.exit_code == 2 and "eksgitops plan dev" in result.stderr


def test_an_unreadable_repository_is_exit_4_without_the_token(
    cli: CliRunner, deny_server: str, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    url = deny_server.replace("http://", f"http://robot:{TOKEN}@") + "/fleet.git"
    args = ["diff", "--repo", url, "--env", "dev", "--base", "main", "--token-file", str(token_file)]
    result = invoke(cli, *args, "--json")
    assert result.exit_code == 4 and "authentication" in result.stderr
    assert TOKEN not in result.output and "robot" not in result.output
    assert json.loads(result.stdout)["outcome"] == "could not diff"
    assert invoke(cli, "diff", "--repo", str(tmp_path), "--env", "dev", "--base", "main").exit_code == 2


def test_the_comment_says_why_nothing_could_be_compared(
    cli: CliRunner, bare_remote: Path, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    push_base(work, bare_remote)
    args = [
        "diff",
        "--repo",
        str(bare_remote),
        "--env",
        "dev",
        "--base",
        "main",
        "--revision",
        "gone@x",
        "--markdown",
    ]
    result = invoke(cli, *args)
    assert result.exit_code == 4
    assert result.stdout.startswith(
        MARKER + "\n### Cluster changes of <code>clusters/dev</code>: could not diff"
    )
    assert "gone&#64;&#8203;x" in result.stdout and "not found" in result.stdout
