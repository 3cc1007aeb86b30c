"""The command-line tools a rebuild runs: the Pulumi CLI (3.115 or later: the Automation API
options dr uses) and the AWS CLI v2 (the kubeconfig's exec plugin runs `aws eks get-token`)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable

from eksgitops.dr.report import CheckRow

PULUMI_MIN = (3, 115)
Which = Callable[[str, list[str]], str | None]
"""(program, version args) -> what it printed, or None when it is not on PATH."""


def path_which(program: str, args: list[str]) -> str | None:
    found = shutil.which(program)
    if found is None:
        return None
    try:
        proc = subprocess.run([found, *args], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"(could not run: {exc})"
    return (proc.stdout + proc.stderr).strip()[:300]


def _pulumi(which: Which) -> CheckRow:
    check = "Pulumi CLI"
    out = which("pulumi", ["version"])
    if out is None:
        return CheckRow(check, False, "no `pulumi` on PATH; install 3.115 or later", "state")
    match = re.search(r"v?(\d+)\.(\d+)\.(\d+)", out)
    if not match:
        return CheckRow(check, False, f"`pulumi version` printed {out!r}; 3.115 or later wanted", "state")
    version = (int(match[1]), int(match[2]))
    ok = version >= PULUMI_MIN
    want = "" if ok else "; 3.115 or later wanted"
    return CheckRow(check, ok, f"pulumi {match[0].lstrip('v')}{want}", "state")


def _aws(which: Which) -> CheckRow:
    check = "AWS CLI v2"
    out = which("aws", ["--version"])
    if out is None:
        return CheckRow(check, False, "no `aws` on PATH; the kubeconfig runs `aws eks get-token`", "aws")
    match = re.search(r"aws-cli/(\d+)\.(\d+)\.(\d+)", out)
    if not match:
        return CheckRow(check, False, f"`aws --version` printed {out!r}; aws-cli/2 wanted", "aws")
    ok = int(match[1]) >= 2
    return CheckRow(
        check, ok, f"aws-cli/{match[1]}.{match[2]}.{match[3]}" + ("" if ok else "; v2 wanted"), "aws"
    )


def tools(which: Which | None = None) -> list[CheckRow]:
    which = which or path_which
    return [_pulumi(which), _aws(which)]
