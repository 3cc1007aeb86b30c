"""`eksgitops fleet diff`: what merging head into base does to the cluster (registered by fleet/cli.py).

Exit codes (docs/fleet.md), beside verify's: 0 no change, 1 the head will not reconcile, 2 a bad
flag value (or no engine, or no bridge.json for --stack), 4 could not diff (git, network,
credentials, a revision not found), 5 changes, 6 changes of which some are destructive.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from eksgitops import cli_params as P
from eksgitops.cli_params import checked, flag
from eksgitops.fleet import layout
from eksgitops.fleet.diff.document import document, failure_document
from eksgitops.fleet.diff.lines import print_result
from eksgitops.fleet.diff.markdown import DEFAULT_MAX_CHARS, GITHUB_LIMIT, failure_comment, render
from eksgitops.fleet.diff.model import COULD_NOT_DIFF
from eksgitops.fleet.kustomize_engine import EngineMissing
from eksgitops.fleet.repo import FleetError, RepoArgumentError
from eksgitops.fleet.schema import kubernetes_versions
from eksgitops.fleet.stack_bridge import BridgeError, StackBridge
from eksgitops.fleet.stack_bridge import load as load_bridge
from eksgitops.fleet.substitute import VAR_NAME
from eksgitops.fleet.verify import VerifyRequest
from eksgitops.terminal_text import shown

_AGENTS = {"metavar": "[" + "|".join(layout.AGENTS) + "]", "autocompletion": lambda: list(layout.AGENTS)}


def _revision(flag: str, value: str | None) -> None:
    from eksgitops.fleet.cli import _usage

    if value is not None and (not value.strip() or value.startswith("-") or not value.isprintable()):
        raise _usage(flag, f"{value!r} is not a branch, tag or commit")


def _max_chars(value: int) -> None:
    # Checked with the other flags, before the required ones are looked for.
    if not 2_000 <= value < GITHUB_LIMIT:
        raise P.FlagError(
            f"{value} is outside 2000..{GITHUB_LIMIT - 1}", "a number of characters in that range"
        )


def diff(
    repo: Annotated[str, checked("--repo", P.repo, help="Repository URL (https, ssh, git) or local path.")],
    env: Annotated[str, checked("--env", P.dns_label, help="Environment name (a DNS-1123 label), e.g. dev.")],
    base: Annotated[
        str,
        checked(
            "--base", P.git_ref, help="Branch, tag or commit the change is compared with (the PR's base)."
        ),
    ],
    revision: Annotated[
        str | None,
        typer.Option(
            help="Branch, tag or commit of the change (default: the remote's HEAD).",
            callback=flag("--revision", P.git_ref),
        ),
    ] = None,
    path: Annotated[
        str | None,
        typer.Option(
            help="Path the agent syncs (default clusters/<env>).", callback=flag("--path", P.repo_path)
        ),
    ] = None,
    stack: Annotated[
        str | None,
        checked(
            "--stack",
            P.dns_label,
            help="Take variables and identities from build/STACK/bridge.json (run `eksgitops plan STACK`).",
        ),
    ] = None,
    stacks_dir: Annotated[
        Path,
        checked("--stacks-dir", P.folder, help="Folder of the stack files; build/ is looked for beside it."),
    ] = Path("stacks"),
    build_dir: Annotated[
        Path | None,
        checked(
            "--build-dir",
            P.folder,
            help="Where `eksgitops plan` wrote <STACK>/ (default: build/ beside --stacks-dir).",
        ),
    ] = None,
    var: Annotated[
        list[str] | None, checked("--var", P.text, help="Extra substitution variable provided (repeatable).")
    ] = None,
    identity: Annotated[
        list[str] | None,
        checked("--identity", P.text, help="Workload identity of the stack; adds <identity>_role_arn."),
    ] = None,
    repo_url: Annotated[
        list[str] | None,
        checked(
            "--repo-url",
            P.repo,
            help="URL Argo CD Applications use for this repository when --repo is a local path (repeatable).",
        ),
    ] = None,
    agent: Annotated[
        str | None,
        typer.Option(
            help="Default: as bootstrap recorded it, else flux.",
            callback=flag("--agent", P.choice(layout.AGENTS)),
            **_AGENTS,
        ),
    ] = None,
    lockdown: Annotated[
        bool | None,
        typer.Option(
            "--no-cross-namespace-refs/--cross-namespace-refs",
            help="As for `fleet verify`: whether the Flux controllers refuse cross-namespace references.",
        ),
    ] = None,
    source_root: Annotated[
        str | None,
        checked(
            "--root",
            P.repo_path,
            help="Folder of the repository that is the root of the source the agent syncs; paths are "
            "relative to it (as for `fleet verify`).",
        ),
    ] = None,
    kubernetes_version: Annotated[
        str | None,
        checked(
            "--kubernetes-version",
            P.kubernetes_minor,
            help="Verify head against this Kubernetes version's built-in schemas (as for `fleet verify`).",
        ),
    ] = None,
    ssh_key: Annotated[
        Path | None,
        checked("--ssh-key", P.key_file, help="SSH private key file (default: $EKSGITOPS_GIT_SSH_KEY)."),
    ] = None,
    token_file: Annotated[
        Path | None,
        checked("--token-file", P.key_file, help="File holding an HTTPS token (as for `fleet verify`)."),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print one JSON document (eksgitops/fleet/diff/diff.schema.json)."),
    ] = False,
    as_markdown: Annotated[
        bool, typer.Option("--markdown", help="Print a pull-request comment (Markdown); same exit codes.")
    ] = False,
    max_chars: Annotated[
        int,
        checked(
            "--max-chars",
            _max_chars,
            help=f"Largest --markdown comment, in characters (2000 to {GITHUB_LIMIT - 1}); what does not fit "
            "is named in a note.",
        ),
    ] = DEFAULT_MAX_CHARS,
) -> None:
    """Show what merging a revision does to the cluster: objects created, updated and deleted per
    Kustomization or Application, destructive changes flagged, the revision verified."""
    from eksgitops.fleet import cli

    cli._check_git_environment()
    cli._check_env(env)
    _revision("--base", base)
    _revision("--revision", revision)
    if as_json and as_markdown:
        raise cli._usage("--json/--markdown", "choose one output")
    for name in var or []:
        if not VAR_NAME.fullmatch(name):
            raise cli._usage(
                "--var", f"{name!r} is not a variable name (letters, digits and _, not first a digit)"
            )
    for name in identity or []:
        if not layout.DNS1123_LABEL.fullmatch(name):
            raise cli._usage("--identity", f"{name!r} is not an identity name (a DNS-1123 label)")
    if agent is not None and agent not in layout.AGENTS:
        raise cli._usage("--agent", f"{agent!r} is not supported (allowed: {', '.join(layout.AGENTS)})")
    root_folder = cli._check_path(source_root, "--root") if source_root is not None else ""
    if kubernetes_version is not None and kubernetes_version not in kubernetes_versions():
        raise cli._usage(
            "--kubernetes-version",
            f"{kubernetes_version!r} has no shipped schemas (allowed: {', '.join(kubernetes_versions())})",
        )
    if stack is not None and (var or identity):
        raise cli._usage("--stack", "takes variables and identities from bridge.json; drop --var/--identity")
    if stack is not None and lockdown is not None:
        raise cli._usage(
            "--stack",
            "takes FLUX-LOCKDOWN from bridge.json; drop --no-cross-namespace-refs/--cross-namespace-refs",
        )
    bridge: StackBridge | None = None
    if stack is not None:
        try:
            bridge = load_bridge(stack, build_dir or stacks_dir.parent / "build")
        except BridgeError as exc:
            raise cli._fail(str(exc), 2) from None
    env_path = cli._check_path(path) if path is not None else None
    if env_path is None:
        env_path = cli._check_path(bridge.path) if bridge is not None else f"clusters/{env}"
    creds = cli._creds(ssh_key, token_file)
    cli._check_repo(repo, creds)
    urls = list(repo_url or [])
    if bridge is not None:
        request = VerifyRequest.from_stack(
            bridge, env_path, env=env, agent=agent, repo_urls=urls, kubernetes_version=kubernetes_version
        )
    else:
        request = VerifyRequest.from_flags(
            env_path,
            env=env,
            agent=agent,
            repo_urls=urls,
            identities=identity or [],
            variables=var or [],
            cross_namespace_refs="unknown" if lockdown is None else "refused" if lockdown else "allowed",
            kubernetes_version=kubernetes_version,
        )
    if root_folder:
        request = replace(request, root=root_folder)
    from eksgitops.fleet.diff.run import diff as run_diff  # GitPython: loaded only when it runs

    try:
        result = run_diff(repo, base, revision, creds, request)
    except EngineMissing as exc:
        raise cli._fail(str(exc), 2) from None
    except FleetError as exc:
        if as_json and not isinstance(exc, RepoArgumentError):
            typer.echo(json.dumps(failure_document(env_path, creds.scrub(str(exc))), indent=2))
        if as_markdown and not isinstance(exc, RepoArgumentError):
            typer.echo(failure_comment(env_path, creds.scrub(str(exc))), nl=False)
        raise cli._failed(exc, creds, COULD_NOT_DIFF) from None
    code = result.exit_code()
    if as_json:
        # json.dumps writes every control character as \\uXXXX: nothing in it acts on a terminal.
        typer.echo(json.dumps(document(result, creds.scrub), indent=2))
    elif as_markdown:
        typer.echo(render(result, max_chars, creds.scrub), nl=False)
    else:
        print_result(result, typer.echo, creds.scrub)
        typer.echo(shown(creds.scrub(result.summary())), err=code == 1)
    raise typer.Exit(code=code)
