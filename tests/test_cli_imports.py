"""Each subcommand imports only what it uses: `plan` never loads GitPython, `fleet` never the Pulumi SDKs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import sys
from typer.testing import CliRunner
from eksgitops.cli import app
result = CliRunner().invoke(app, {args!r})
assert result.exit_code == 0, result.output
loaded = [m for m in {modules!r} if m in sys.modules]
print(",".join(loaded))
"""


def _loaded(args: list[str], modules: list[str]) -> list[str]:
    code = PROBE.format(args=args, modules=modules)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return [m for m in out.stdout.strip().split(",") if m]


def test_the_root_command_imports_no_subcommand() -> None:
    assert _loaded(["--help"], ["git", "pulumi", "eksgitops.fleet.cli", "eksgitops.plan.cli"]) == [
        # --help lists the subcommands with their summaries, which loads both; nothing else does.
        "git",
        "pulumi",
        "eksgitops.fleet.cli",
        "eksgitops.plan.cli",
    ]
    code = "import sys, eksgitops.cli; print(sorted(m for m in ('git', 'pulumi') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_plan_does_not_load_the_fleet_tooling() -> None:
    assert _loaded(["plan", "--help"], ["git", "eksgitops.fleet.cli"]) == []


def test_fleet_does_not_load_the_pulumi_sdks() -> None:
    assert _loaded(["fleet", "--help"], ["pulumi", "pulumi_aws", "pulumi_eks", "eksgitops.plan.cli"]) == []
