"""`eksgitops doctor [STACK]`: does this machine have what a real `pulumi up`, `dr` and `upgrade` need?

Offline by default (in the spirit of `flux check --pre`): tools and their versions, the state
backend, and, with a stack, the tools its settings call for. `--online` adds what only a call
to AWS can tell (whose credentials these are). Exit 1 when something needed is missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from eksgitops.doctor.checks import (
    Check,
    aws_cli,
    credentials,
    git,
    kustomize_engine,
    pulumi_cli,
    signing_tools,
    state_backend,
)

__all__ = ["Check", "DoctorResult", "doctor", "run_checks"]


@dataclass(frozen=True)
class DoctorResult:
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(check.status != "fail" for check in self.checks)

    def document(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [check.as_dict() for check in self.checks]}


def run_checks(
    *,
    project_dir: Path,
    config: dict[str, Any] | None = None,
    region: str | None = None,
    accounts: set[str] | None = None,
    backend: str | None = None,
    online: bool = False,
) -> DoctorResult:
    """Every check, in the order a new user meets what it checks."""
    return DoctorResult(
        [
            pulumi_cli(),
            aws_cli(),
            git(),
            kustomize_engine(),
            state_backend(project_dir, backend, online),
            signing_tools(config),
            credentials(region, accounts or set(), online),
        ]
    )


def _stack_config(stack: str, stacks_dir: Path) -> tuple[dict[str, Any], str | None, set[str]]:
    """The stack's config as the spec reads it, its region and the accounts its AWS provider
    allows (`aws:allowedAccountIds`); exit 2 naming the mistake."""
    from eksgitops.components.spec.base import DNS_LABEL
    from eksgitops.components.spec.errors import SpecError
    from eksgitops.components.spec.read import stack_config
    from eksgitops.terminal_text import shown

    if not DNS_LABEL.fullmatch(stack):
        typer.echo(
            f"eksgitops doctor: STACK {shown(repr(stack))}: not a stack name; "
            "a DNS-1123 label such as dev (a-z, 0-9, -, at most 63)",
            err=True,
        )
        raise typer.Exit(code=2)
    stack_file = stacks_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        typer.echo(f"eksgitops doctor: STACK {stack!r}: no stack file {shown(str(stack_file))}", err=True)
        raise typer.Exit(code=2)
    try:
        raw = stack_config(stack_file, Path("Pulumi.yaml"))
    except SpecError as err:
        typer.echo("\n".join(err.lines), err=True)
        raise typer.Exit(code=2) from None
    region = raw.get("region")
    return raw, region if isinstance(region, str) else None, _allowed_accounts(stack_file)


def _allowed_accounts(stack_file: Path) -> set[str]:
    """`aws:allowedAccountIds`, which the spec leaves to the AWS provider. The file already passed
    the spec's bounded reader, so a plain parse cannot blow up here."""
    import yaml

    try:
        document = yaml.safe_load(stack_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, yaml.YAMLError):
        return set()
    config = document.get("config") if isinstance(document, dict) else None
    allowed = config.get("aws:allowedAccountIds") if isinstance(config, dict) else None
    return {str(account) for account in allowed} if isinstance(allowed, list) else set()


SYMBOL = {"pass": "pass   ", "fail": "FAIL   ", "skipped": "skipped"}


def doctor(
    stack: Annotated[
        str | None,
        typer.Argument(metavar="[STACK]", help="Also check what stacks/Pulumi.<STACK>.yaml calls for."),
    ] = None,
    stacks_dir: Annotated[
        Path, typer.Option("--stacks-dir", help="Folder of the Pulumi.<stack>.yaml files.")
    ] = Path("stacks"),
    online: Annotated[
        bool, typer.Option("--online", help="Also ask AWS (STS) whose credentials these are.")
    ] = False,
    backend: Annotated[
        str | None, typer.Option("--backend", help="The Pulumi state backend URL, if not the CLI's login.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON document and nothing else.")
    ] = False,
) -> None:
    """Check this machine for what `pulumi up`, `dr` and `upgrade` need: pass, FAIL or skipped.

    Nothing reaches the network unless --online is given. Exit 1 when something needed is missing.
    """
    from eksgitops.terminal_text import shown

    config, region, accounts = _stack_config(stack, stacks_dir) if stack else (None, None, set())
    result = run_checks(
        project_dir=Path("."), config=config, region=region, accounts=accounts, backend=backend, online=online
    )
    if as_json:
        typer.echo(json.dumps(result.document(), indent=2))
    else:
        width = max(len(check.name) for check in result.checks)
        for check in result.checks:
            typer.echo(f"{SYMBOL[check.status]}  {check.name.ljust(width)}  {shown(check.detail)}")
        failed = [check.name for check in result.checks if check.status == "fail"]
        typer.echo(
            f"doctor: {len(failed)} missing ({', '.join(failed)})" if failed else "doctor: nothing missing"
        )
    if not result.ok:
        raise typer.Exit(code=1)
