"""`eksgitops fleet …`: scaffold/bootstrap a fleet repository and verify a revision.

Exit codes: 0 done (verify: no findings); 1 runtime failure (git, network, credentials) or
verify findings; 2 a bad flag value. Messages are one line, never a traceback.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Annotated

import typer

from eksgitops.fleet import bootstrap as ops
from eksgitops.fleet import layout
from eksgitops.fleet.credentials import CredentialError, Credentials
from eksgitops.fleet.repo import FleetError, RepoArgumentError, git_check_ref_format

app = typer.Typer(
    name="fleet",
    help="Scaffold, bootstrap and verify the GitOps fleet repository (Flux or Argo CD).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

RepoOpt = Annotated[str, typer.Option("--repo", help="Repository URL (https, ssh, git) or local path.")]
EnvOpt = Annotated[str, typer.Option("--env", help="Environment name (a DNS-1123 label), e.g. dev.")]
SshKeyOpt = Annotated[
    Path | None, typer.Option("--ssh-key", help="SSH private key file (default: $EKSGITOPS_GIT_SSH_KEY).")
]
TokenFileOpt = Annotated[
    Path | None,
    typer.Option("--token-file", help="File holding an HTTPS token (default: $EKSGITOPS_GIT_TOKEN)."),
]


def _usage(flag: str, problem: str) -> typer.Exit:
    typer.echo(f"error: {flag}: {problem}", err=True)
    return typer.Exit(code=2)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=code)


def _failed(exc: FleetError, creds: Credentials) -> typer.Exit:
    # A bad --repo path is the user's typo (2); anything else is the world's state (1).
    return _fail(creds.scrub(str(exc)), 2 if isinstance(exc, RepoArgumentError) else 1)


def _check_env(env: str) -> None:
    if not layout.DNS1123_LABEL.match(env):
        raise _usage("--env", f"{env!r} is not a DNS-1123 label (lowercase a-z, 0-9 and '-', at most 63)")


def _check_path(path: str) -> str:
    norm = posixpath.normpath(path.replace("\\", "/"))
    if path.startswith("/") or norm in (".", "") or norm.split("/")[0] == ".." or ".." in path.split("/"):
        raise _usage("--path", f"{path!r} must be a relative path inside the repository without '..'")
    if norm.split("/")[0] in (".git", ".eksgitops"):
        raise _usage("--path", f"{path!r} is reserved")
    return norm


def _creds(ssh_key: Path | None, token_file: Path | None) -> Credentials:
    try:
        return Credentials.load(ssh_key=ssh_key, token_file=token_file)
    except CredentialError as exc:
        raise _usage("--ssh-key/--token-file", str(exc)) from None


@app.command()
def bootstrap(
    repo: RepoOpt,
    env: EnvOpt,
    branch: Annotated[str, typer.Option(help="Branch the agent syncs.")] = "main",
    agent: Annotated[str, typer.Option(help="GitOps agent: flux or argocd.")] = "flux",
    path: Annotated[str | None, typer.Option(help="Path the agent syncs (default clusters/<env>).")] = None,
    image_automation: Annotated[
        bool, typer.Option("--image-automation", help="Add Flux image automation for the sample app.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the files; commit nothing.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite files changed since written.")] = False,
    ssh_key: SshKeyOpt = None,
    token_file: TokenFileOpt = None,
) -> None:
    """Clone the repo (or start an empty one), write the environment's layout, commit, push."""
    _check_env(env)
    if agent not in layout.AGENTS:
        raise _usage("--agent", f"{agent!r} is not supported (allowed: {', '.join(layout.AGENTS)})")
    if not git_check_ref_format(branch):
        raise _usage("--branch", f"{branch!r} is not a valid branch name")
    if image_automation and agent != "flux":
        raise _usage("--image-automation", "is available with --agent flux only")
    norm_path = _check_path(path) if path is not None else None
    creds = _creds(ssh_key, token_file)
    opts = layout.Options(
        env=env, agent=agent, path=norm_path, branch=branch, image_automation=image_automation
    )
    try:
        ops.bootstrap(repo, opts, creds, echo=typer.echo, dry_run=dry_run, force=force)
    except FleetError as exc:
        raise _failed(exc, creds) from None


@app.command()
def verify(
    repo: RepoOpt,
    env: EnvOpt,
    revision: Annotated[
        str | None, typer.Option(help="Branch, tag or commit to check (default: the remote's HEAD).")
    ] = None,
    path: Annotated[str | None, typer.Option(help="Path the agent syncs (default clusters/<env>).")] = None,
    var: Annotated[
        list[str] | None, typer.Option("--var", help="Extra substitution variable provided (repeatable).")
    ] = None,
    identity: Annotated[
        list[str] | None,
        typer.Option("--identity", help="Workload identity of the stack; adds <identity>_role_arn."),
    ] = None,
    ssh_key: SshKeyOpt = None,
    token_file: TokenFileOpt = None,
) -> None:
    """Tell whether a revision will reconcile: builds, references, variables, secrets, pins."""
    _check_env(env)
    env_path = _check_path(path) if path is not None else f"clusters/{env}"
    creds = _creds(ssh_key, token_file)
    try:
        report, sha = ops.verify(repo, env_path, env, revision, list(identity or []), set(var or []), creds)
    except FleetError as exc:
        raise _failed(exc, creds) from None
    for finding in report.findings:
        typer.echo(str(finding))
    where = f"{env_path} at {sha[:7]}"
    if report.findings:
        typer.echo(f"verify: {len(report.findings)} finding(s) in {where}", err=True)
        raise typer.Exit(code=1)
    typer.echo(
        f"verify: {where} will reconcile ({report.objects} objects in {report.builds} builds, no findings)"
    )
