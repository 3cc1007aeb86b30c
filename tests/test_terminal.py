"""The CLI in a real terminal: width, wrapping, -h, "did you mean", usage names, examples, completion.

The terminal tests run `eksgitops` under a pseudo-terminal of 80 and of 200 columns, as a
user's shell would, and read what it drew.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from eksgitops.cli import SUBCOMMANDS, app
from eksgitops.cli_help import EXAMPLES

ROOT = Path(__file__).resolve().parents[1]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
EKSGITOPS = [str(Path(sys.executable).parent / "eksgitops")]


def _in_terminal(args: list[str], columns: int, cwd: Path) -> str:
    """Run the CLI with a pseudo-terminal of `columns` as stdout, stderr and stdin; return the screen text."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["TERM"] = "xterm-256color"
    proc = subprocess.Popen(
        [*EKSGITOPS, *args],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        cwd=cwd,
        env=env,
        close_fds=True,
    )
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                data = os.read(leader, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    proc.wait(timeout=30)
    os.close(leader)
    text = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    # What the spinner drew and erased is not on the screen at the end.
    return ANSI.sub("", text)


@pytest.mark.parametrize("columns", [80, 200])
def test_the_plan_fits_the_terminal_and_wraps_json_between_tokens(columns: int, tmp_path: Path) -> None:
    screen = _in_terminal(["plan", "dev", "--out", str(tmp_path / "build")], columns, ROOT)
    lines = [line for line in screen.split("\n") if "\r" not in line]
    assert any("Plan dev:" in line for line in lines), screen[-2000:]
    too_wide = [line for line in lines if cell_len(line) > columns]
    assert not too_wide, too_wide[:3]
    log_types = next(i for i, line in enumerate(lines) if "enabledClusterLogTypes=" in line)
    value = " ".join(line.split("│")[-1].strip() for line in lines[log_types : log_types + 3])
    for token in ('"api"', '"audit"', '"authenticator"', '"controllerManager"', '"scheduler"'):
        assert token in value, value  # each JSON token whole, never folded across lines
    if columns == 200:
        assert max(cell_len(line) for line in lines) > 100  # the room is used


def _drawn(text: str) -> list[int]:
    """Widths of the lines rich lays out (the tree and the tables), not the one-line records."""
    return [cell_len(line) for line in text.splitlines() if any(c in line for c in "│├└┃━─")]


def test_piped_output_is_100_columns_or_columns_and_records_stay_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    piped = subprocess.run(
        [*EKSGITOPS, "plan", "dev", "--out", str(tmp_path / "a")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert piped.returncode == 0, piped.stderr
    assert 90 < max(_drawn(piped.stdout)) <= 100
    # In a CI log each record is one line to grep, however long.
    last = piped.stdout.splitlines()[-1]
    assert last.startswith("Plan dev: ") and last.endswith(
        "files in build/dev/".replace("build", str(tmp_path / "a"))
    )
    wide = subprocess.run(
        [*EKSGITOPS, "plan", "dev", "--out", str(tmp_path / "b")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**env, "COLUMNS": "160"},
    )
    assert 100 < max(_drawn(wide.stdout)) <= 160


def _every_command() -> list[str]:
    found = []
    for name in SUBCOMMANDS:
        result = CliRunner().invoke(app, [name, "--help"])
        commands = result.stdout.split("Commands:", 1)
        if len(commands) == 2:
            found += [
                f"{name} {line.split()[0]}" for line in commands[1].splitlines() if line.startswith("  ")
            ]
        else:
            found.append(name)
    return found


def test_h_works_everywhere_and_help_ends_with_examples_whose_flags_exist() -> None:
    assert CliRunner().invoke(app, ["-h"]).exit_code == 0
    commands = _every_command()
    assert {"plan", "doctor", "fleet verify", "dr drill", "upgrade check"} <= set(commands)
    for command in commands:
        result = CliRunner().invoke(app, [*command.split(), "-h"], terminal_width=100)
        assert result.exit_code == 0, (command, result.output)
        assert command in EXAMPLES, command
        tail = result.stdout.rstrip().split("Examples:", 1)
        assert len(tail) == 2, (command, result.stdout[-300:])
        examples = [line.strip() for line in tail[1].strip().splitlines()]
        assert 1 <= len(examples) <= 2 and all(
            line.startswith(("eksgitops ", "pulumi ")) for line in examples
        )
        flags = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", result.stdout.split("Examples:", 1)[0]))
        for example in examples:
            for flag in re.findall(r"(?<![\w-])--[a-z][a-z-]*", example.split("$(")[0]):
                assert flag in flags, (command, flag)


def test_usage_lines_name_arguments_plainly() -> None:
    result = CliRunner().invoke(app, ["plan", "-h"])
    assert "Usage: eksgitops plan [OPTIONS] STACK\n" in result.stdout
    assert "{STACK}" not in result.stdout and "STACK <str>" not in result.stdout
    assert "Usage: eksgitops doctor [OPTIONS] [STACK]\n" in CliRunner().invoke(app, ["doctor", "-h"]).stdout


@pytest.mark.parametrize(
    ("typed", "meant"), [("plna", "plan"), ("doctr", "doctor"), ("fleet verfy", "verify")]
)
def test_a_mistyped_command_gets_did_you_mean(typed: str, meant: str) -> None:
    result = CliRunner().invoke(app, typed.split())
    assert result.exit_code == 2
    assert f"Did you mean '{meant}'?" in result.output


def _complete(words: str, cwd: Path) -> list[str]:
    env = {
        **os.environ,
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
        "_EKSGITOPS_COMPLETE": "complete_bash",
    }
    done = subprocess.run([*EKSGITOPS], capture_output=True, text=True, cwd=cwd, env=env, check=False)
    return done.stdout.split()


def test_stack_names_and_kubernetes_versions_complete(tmp_path: Path) -> None:
    (tmp_path / "stacks").mkdir()
    for name in ("dev", "demo", "prod"):
        (tmp_path / "stacks" / f"Pulumi.{name}.yaml").write_text("config: {}\n")
    assert _complete("eksgitops plan de", tmp_path) == ["demo", "dev"]
    assert _complete("eksgitops dr drill p", tmp_path) == ["prod"]
    versions = _complete("eksgitops upgrade check dev --to 1.", tmp_path)
    assert versions and versions[0] == max(versions, key=lambda v: tuple(map(int, v.split("."))))


def test_the_first_make_plan_says_it_is_installing(tmp_path: Path) -> None:
    done = subprocess.run(
        ["make", "-n", "-f", str(ROOT / "Makefile"), "plan", f"VENV={tmp_path / 'venv'}"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    lines = done.stdout.splitlines()
    install = next(i for i, line in enumerate(lines) if "install -r requirements.txt" in line)
    assert any(line.startswith("echo") and "Installing" in line for line in lines[:install]), lines
