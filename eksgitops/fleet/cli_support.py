"""What the `fleet` commands share: one-line usage errors, the flag checks that need more than
one value, the credentials, the signature policy asked for, and the report they print.

`fleet verify`, `fleet bootstrap` (cli.py) and `fleet diff` (diff/command.py) call these, so
that each mistake reads the same whichever command it was made in.
"""

from __future__ import annotations

import math
import posixpath
from pathlib import Path

import typer

from eksgitops.cli_params import FlagError
from eksgitops.fleet import layout
from eksgitops.fleet.credentials import CredentialError, Credentials
from eksgitops.fleet.findings import Report
from eksgitops.fleet.repo import FleetError, RepoArgumentError, check_url
from eksgitops.fleet.signatures import SigningPolicy, TrustedKeysError, policy_for
from eksgitops.fleet.signing import SigningKey, SigningKeyError
from eksgitops.git_transport import TransportError, scrubbed_environment
from eksgitops.stack_gitops import StackGitOpsError, gitops_target
from eksgitops.terminal_text import shown

MAX_DEADLINE = 86_400.0


def _deadline(value: float) -> None:
    # Checked with the other flags, before anything else: a run needs a positive, finite budget.
    if not (math.isfinite(value) and 0 < value <= MAX_DEADLINE):
        raise FlagError(f"{value!r} is not a number of seconds", f"above 0 and at most {MAX_DEADLINE:g}")


def _usage(flag: str, problem: str) -> typer.Exit:
    typer.echo(f"error: {flag}: {shown(problem)}", err=True)
    return typer.Exit(code=2)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {shown(message)}", err=True)
    return typer.Exit(code=code)


def _check_git_environment() -> None:
    # First of all: even the branch-name check runs git, which must be able to read its environment.
    try:
        scrubbed_environment()
    except TransportError as exc:
        raise _fail(str(exc), 2) from None


def _failed(exc: FleetError, creds: Credentials, runtime_code: int = 1) -> typer.Exit:
    # A bad --repo path is the user's typo (2); anything else is the world's state.
    return _fail(creds.scrub(str(exc)), 2 if isinstance(exc, RepoArgumentError) else runtime_code)


def _check_env(env: str) -> None:
    if not layout.DNS1123_LABEL.fullmatch(env):
        raise _usage("--env", f"{env!r} is not a DNS-1123 label (lowercase a-z, 0-9 and '-', at most 63)")


def _check_path(path: str, flag: str = "--path") -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in path):
        raise _usage(flag, f"{path!r} contains control characters")
    norm = posixpath.normpath(path.replace("\\", "/"))
    if path.startswith("/") or norm in (".", "") or norm.split("/")[0] == ".." or ".." in path.split("/"):
        raise _usage(flag, f"{path!r} must be a relative path inside the repository without '..'")
    if norm.split("/")[0] in (".git", ".eksgitops"):
        raise _usage(flag, f"{path!r} is reserved")
    return norm


def _creds(ssh_key: Path | None, token_file: Path | None) -> Credentials:
    try:
        return Credentials.load(ssh_key=ssh_key, token_file=token_file)
    except CredentialError as exc:
        raise _usage("--ssh-key/--token-file", str(exc)) from None


def _signing_key(value: str | None) -> SigningKey | None:
    if value is None:
        return None
    try:
        return SigningKey.parse(value)
    except SigningKeyError as exc:
        raise _usage("--signing-key", str(exc)) from None


def _check_repo(repo: str, creds: Credentials) -> None:
    try:
        check_url(repo, creds)
    except RepoArgumentError as exc:
        raise _fail(str(exc), 2) from None


def _signing(
    trusted_keys: Path | None, mode: str | None, revision: str | None, stack: str | None, stacks_dir: Path
) -> SigningPolicy | None:
    """The signature check asked for: --trusted-keys, else the stack file's gitops.verify."""
    stack_verify = None
    if trusted_keys is None and stack is not None and (stacks_dir / f"Pulumi.{stack}.yaml").is_file():
        try:
            stack_verify = gitops_target(stack, stacks_dir, stacks_dir.parent).verify
        except StackGitOpsError as exc:
            raise _fail("\n".join(exc.lines), 2) from None
    try:
        return policy_for(
            trusted_keys=trusted_keys,
            mode=mode,  # type: ignore[arg-type]  # checked against MODES above
            revision=revision,
            stack=stack,
            stack_verify=stack_verify,
        )
    except TrustedKeysError as exc:
        raise _fail(str(exc), 2) from None


def print_report(report: Report, where: str, creds: Credentials | None = None) -> int:
    """Findings, what was not checked, and a summary; returns the exit code."""

    def clean(text: str) -> str:
        # File names, keys and values come from the repository: escapes are shown, not obeyed.
        return shown(creds.scrub(text) if creds is not None else text)

    for finding in report.findings:
        typer.echo(clean(str(finding)))
    for line in report.not_checked:
        typer.echo(clean(f"not checked: {line}"))
    if report.unvalidated_kinds:
        typer.echo(clean(f"not checked: no schema shipped for {', '.join(report.unvalidated_kinds)}"))
    for note in report.printed_notes:
        typer.echo(clean(f"note: {note}"))
    verdict = report.verdict(where)
    typer.echo(clean(verdict.summary), err=verdict.to_stderr)
    return verdict.code
