"""Every flag value is checked before a command runs: exit 2, one line naming the flag (issue 24, item 6).

The fuzz walks every subcommand's `--help` for the flags that take a value and gives each one
values no command can use (empty, 5,000 characters, a terminal escape; for numbers nan, 1e400
and inf; for paths one through a file). Nothing may run: the exit code is 2, there is no
traceback, and the error names the flag.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from eksgitops.cli import app

RUNNER = CliRunner()
OPTION = re.compile(r"^\s+(?:-\w,\s+)?(--[a-z][a-z-]*)\s+(<[a-z]+>|\[[^\]]+\])", re.M)


def _help(args: list[str]) -> str:
    result = RUNNER.invoke(app, [*args, "--help"], terminal_width=200)
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


def _commands() -> list[list[str]]:
    commands: list[list[str]] = []
    for top in ("plan", "init", "fleet", "dr", "upgrade"):
        text = _help([top])
        if "Commands:" in text:
            names = re.findall(r"^  ([a-z][a-z-]*)\s", text.split("Commands:", 1)[1], re.M)
            commands += [[top, name] for name in names]
        else:
            commands.append([top])
    return commands


def _positionals(args: list[str]) -> list[str]:
    usage = _help(args).split("\n", 1)[0]
    return ["dev" for _ in re.findall(r"\{?\b(STACK|ENV|NAME)\b\}?", usage.split("[OPTIONS]", 1)[-1])]


FLAGS = [(args, flag, kind) for args in _commands() for flag, kind in OPTION.findall(_help(args))]


def _refused(args: list[str], flag: str, value: str) -> str:
    result = RUNNER.invoke(app, [*args, *_positionals(args), flag, value])
    assert result.exit_code == 2, (args, flag, value[:40], result.output[-400:])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert flag in result.stderr, result.stderr
    return result.stderr


def test_the_walk_finds_the_flags_the_issue_names() -> None:
    found = {(" ".join(args), flag) for args, flag, _ in FLAGS}
    for wanted in [
        ("plan", "--out"),
        ("plan", "--stacks-dir"),
        ("fleet bootstrap", "--branch"),
        ("fleet bootstrap", "--agent"),
        ("fleet bootstrap", "--ssh-key"),
        ("fleet verify", "--build-dir"),
        ("dr rebuild", "--poll"),
        ("dr rebuild", "--timeout-nodes"),
        ("dr rebuild", "--revision"),
        ("dr rebuild", "--region"),
    ]:
        assert wanted in found, wanted


@pytest.mark.parametrize(
    ("args", "value", "says"),
    [
        (["dr", "rebuild", "dev", "--poll"], "1e400", "error: --poll: inf is not a usable number of seconds"),
        (["dr", "rebuild", "dev", "--timeout-nodes"], "nan", "error: --timeout-nodes: nan is not a usable"),
        (["dr", "rebuild", "dev", "--timeout-nodes"], "0", "error: --timeout-nodes: 0.0 is less than 1"),
        (["dr", "rebuild", "dev", "--revision"], "r" * 5000, "error: --revision: is 5000 characters long"),
        (
            ["dr", "rebuild", "dev", "--revision"],
            "a..b",
            "error: --revision: 'a..b' is not a Git branch, tag or commit",
        ),
        (
            ["dr", "rebuild", "dev", "--region"],
            "mars-1",
            'error: --region: "mars-1" is not an AWS region name',
        ),
        (
            ["fleet", "bootstrap", "--env", "dev", "--agent"],
            "",
            "error: --agent: '' is not supported (allowed: flux, argocd)",
        ),
        (["fleet", "bootstrap", "--env", "dev", "--branch"], "", "error: --branch: is empty"),
        (["upgrade", "check", "dev", "--to"], "1.x", "error: --to: '1.x' is not a Kubernetes minor version"),
    ],
)
def test_the_issue_s_examples_are_one_line_naming_the_flag(args: list[str], value: str, says: str) -> None:
    result = RUNNER.invoke(app, [*args, value])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(says), lines


def test_an_empty_ssh_key_file_and_a_path_through_a_file(tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_bytes(b"")
    lines = _refused(["fleet", "bootstrap"], "--ssh-key", str(key)).strip().splitlines()
    assert lines == [f"error: --ssh-key: '{key}' is 0 bytes; a non-empty key file of at most 64 KiB"]
    lines = _refused(["plan"], "--out", str(key / "build")).strip().splitlines()
    assert lines == [f"error: --out: runs through the file '{key}'; a path whose folders are folders"]
    lines = _refused(["plan"], "--stacks-dir", "d" * 300).strip().splitlines()
    assert lines == ["error: --stacks-dir: has a name 300 bytes long; names of at most 255 bytes"]


def test_good_values_pass_the_checks(tmp_path: Path) -> None:
    # A real plan of a shipped stack with every checked flag given a usable value.
    root = Path(__file__).resolve().parents[1]
    result = RUNNER.invoke(app, ["plan", "dev", "--stacks-dir", str(root / "stacks"), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output[-2000:]


BAD_TEXT = st.sampled_from(["", "a" * 5000, "x\x1b[31m"])
# A path flag's "" is pathlib's "." (the current folder) by the time any check sees it.
BAD_PATH = st.sampled_from(["a" * 5000, "x\x1b[31m", "/dev/null/x"])
BAD_NUMBER = st.sampled_from(["nan", "1e400", "inf", "-1", ""])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FLAGS), st.data())
def test_fuzz_every_flag_of_every_subcommand(case: tuple[list[str], str, str], data: st.DataObject) -> None:
    args, flag, kind = case
    kinds = {"<float>": BAD_NUMBER, "<int>": BAD_NUMBER, "<path>": BAD_PATH}
    value = data.draw(kinds.get(kind, BAD_TEXT))
    _refused(args, flag, value)


@pytest.mark.parametrize(
    ("args", "flag", "kind"), FLAGS, ids=lambda v: " ".join(v) if isinstance(v, list) else v
)
def test_every_flag_refuses_a_value_no_command_can_use(args: list[str], flag: str, kind: str) -> None:
    value = {"<float>": "nan", "<int>": "nan", "<path>": "x\x1b[31m/" + "d" * 300}.get(kind, "a" * 5000)
    _refused(args, flag, value)
