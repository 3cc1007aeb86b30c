"""The `eksgitops` process as users run it (`main()`: its garbage-collector settings and the heap
frozen at the end) keeps exit codes, messages and everything written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _eksgitops(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eksgitops.cli", *args], cwd=ROOT, capture_output=True, text=True
    )


def test_a_usage_error_still_ends_in_one_line_and_exit_code_2() -> None:
    result = _eksgitops("plan", "nosuch")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "eksgitops plan: STACK 'nosuch': no stack file stacks/Pulumi.nosuch.yaml; "
        "available: dev, prod, staging"
    ]


def test_a_plan_still_writes_and_prints_everything(tmp_path: Path) -> None:
    result = _eksgitops("plan", "dev", "--quiet", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    resources = json.loads((tmp_path / "dev" / "resources.json").read_text())["resources"]
    assert len(resources) > 50
    assert (tmp_path / "dev" / "policy-report.json").is_file()
    # -q: only the final line (no error to print), and it reaches the pipe.
    assert result.stdout.splitlines() == [
        f"Plan dev: 49 AWS resources and 4 Kubernetes objects to create from nothing; policy: passed; "
        f"files in {tmp_path / 'dev'}/"
    ]
