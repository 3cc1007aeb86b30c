"""The CLI's conventions: --version, completion, the subcommand list, choices, the shipped pack, progress."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

import eksgitops
from eksgitops.cli import app
from eksgitops.progress import progress

ROOT = Path(__file__).resolve().parents[1]


def test_version_comes_from_the_package() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"eksgitops {eksgitops.__version__}\n"
    assert 'dynamic = ["version"]' in (ROOT / "pyproject.toml").read_text()


def test_root_help_lists_every_subcommand_and_completion() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in ("init", "plan", "fleet", "dr", "policy-pack-path", "--install-completion", "--version"):
        assert name in result.stdout, name


def test_root_help_never_cuts_a_summary_at_80_columns() -> None:
    result = CliRunner().invoke(app, ["--help"], terminal_width=80)
    commands = result.stdout.split("Commands:", 1)[1]
    assert "..." not in commands and "…" not in commands
    assert "Write a first stack file for ENV" in result.stdout


def test_completion_script_is_generated_for_bash() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "eksgitops.entry", "--show-completion", "bash"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "complete -o default -F" in done.stdout and "COMP_WORDS" in done.stdout


def test_agent_is_a_choice_in_help_and_a_wrong_one_is_one_line() -> None:
    runner = CliRunner()
    assert "[flux|argocd]" in runner.invoke(app, ["fleet", "bootstrap", "--help"]).stdout
    assert "flux|argocd|eks-argocd" in runner.invoke(app, ["init", "--help"]).stdout
    result = runner.invoke(app, ["fleet", "verify", "--repo", "/nowhere", "--env", "dev", "--agent", "spin"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: --agent: 'spin' is not supported (allowed: flux, argocd)"
    ]


def test_policy_pack_path_prints_the_shipped_pack() -> None:
    result = CliRunner().invoke(app, ["policy-pack-path"])
    assert result.exit_code == 0, result.output
    pack = Path(result.stdout.strip())
    assert pack.is_absolute() and (pack / "PulumiPolicy.yaml").is_file()
    assert pack.resolve() == (ROOT / "policies").resolve()
    requirements = (pack / "requirements.txt").read_text()
    # Installed, the pack has no constraints file beside it: every requirement is pinned itself.
    lines = [line for line in requirements.splitlines() if line and not line.startswith("#")]
    assert lines and all("==" in line and not line.startswith("-c") for line in lines), lines


def _terminal(buffer: io.StringIO) -> Console:
    return Console(file=buffer, force_terminal=True, width=80)


def test_progress_shows_a_spinner_on_a_terminal_once_a_step_takes_time() -> None:
    shown = io.StringIO()
    with progress("Cloning the fleet repo", console=_terminal(shown), delay=0.05):
        time.sleep(0.4)
    assert "Cloning the fleet repo" in shown.getvalue()
    quick = io.StringIO()
    with progress("Quick", console=_terminal(quick), delay=5):
        pass
    assert "Quick" not in quick.getvalue()


def test_progress_is_silent_off_a_terminal_or_when_disabled() -> None:
    piped = io.StringIO()
    with progress("Planning", console=Console(file=piped), delay=0):
        time.sleep(0.1)
    assert piped.getvalue() == ""
    off = io.StringIO()
    with progress("Planning", console=_terminal(off), enabled=False, delay=0):
        time.sleep(0.1)
    assert off.getvalue() == ""
