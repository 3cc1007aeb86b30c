"""The command-line tools a rebuild runs, checked first by every dr command as `eksgitops doctor`
checks them: the Pulumi CLI (3.115 or later) and the AWS CLI v2 (the kubeconfig's exec plugin
runs `aws eks get-token`). One set of checks, two faces: the doctor's lines, preflight's rows."""

from __future__ import annotations

from eksgitops.doctor.checks import Ask, Check, ask_path, aws_cli, pulumi_cli
from eksgitops.dr.report import CheckRow

Which = Ask
__all__ = ["Which", "ask_path", "tools"]
"""(program, version args) -> the first line it printed, or None when it is not on PATH."""


def _row(check: Check, side: str) -> CheckRow:
    # Never "pass" for what did not run: the doctor's checks are pass or fail here.
    return CheckRow(check.name, check.status == "pass", check.detail, side)


def tools(which: Which | None = None) -> list[CheckRow]:
    ask = which or ask_path
    return [_row(pulumi_cli(ask), "state"), _row(aws_cli(ask), "aws")]
