"""`eksgitops fleet …`: scaffold/bootstrap a fleet repository and verify a revision.

Exit codes (docs/fleet.md): bootstrap 0 pushed or up to date, 1 refused (verify found errors)
or a runtime failure, 2 a bad flag value or no kustomize engine. Verify 0 will reconcile,
1 will not reconcile (errors), 3 will reconcile but with policy findings, 2 a bad flag value
(or no engine, or no bridge.json for --stack), 4 could not verify (git, network, credentials).
Messages are one line, never a traceback.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from eksgitops import cli_params as P
from eksgitops.cli_params import checked, flag
from eksgitops.fleet import bootstrap as ops
from eksgitops.fleet import budget, layout
from eksgitops.fleet.cli_support import (
    _check_env,
    _check_git_environment,
    _check_path,
    _check_repo,
    _creds,
    _deadline,
    _fail,
    _failed,
    _signing,
    _signing_key,
    _usage,
    print_report,
)
from eksgitops.fleet.diff.command import diff as diff_command
from eksgitops.fleet.findings import UNVERIFIED, failure_document
from eksgitops.fleet.kustomize_engine import EngineMissing
from eksgitops.fleet.repo import FleetError, RepoArgumentError, git_check_ref_format
from eksgitops.fleet.schema import kubernetes_versions
from eksgitops.fleet.signatures import MODES, SigningPolicy, TrustedKeysError, policy_for
from eksgitops.fleet.signing import unsigned_refusal
from eksgitops.fleet.stack_bridge import BridgeError, StackBridge, from_stack_file
from eksgitops.fleet.stack_bridge import load as load_bridge
from eksgitops.fleet.substitute import VAR_NAME
from eksgitops.fleet.verify import VerifyRequest
from eksgitops.stack_gitops import StackGitOpsError, gitops_target
from eksgitops.terminal_text import shown

# --agent's choices, shown in --help and completed by the shell; checked below with the
# other flags, so that a wrong value ends in the same one-line error.
BRANCH, GIT_REF = flag("--branch", P.git_ref), flag("--revision", P.git_ref)
REPO_PATH = flag("--path", P.repo_path)
AGENT_CHOICES = {
    "callback": flag("--agent", P.choice(layout.AGENTS)),
    "metavar": "[" + "|".join(layout.AGENTS) + "]",
    "autocompletion": lambda: list(layout.AGENTS),
}


app = typer.Typer(
    name="fleet",
    help="Scaffold, bootstrap and verify the GitOps fleet repository (Flux or Argo CD).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

RepoOpt = Annotated[str, checked("--repo", P.repo, help="Repository URL (https, ssh, git) or local path.")]
EnvOpt = Annotated[str, checked("--env", P.dns_label, help="Environment name (a DNS-1123 label), e.g. dev.")]
SshKeyOpt = Annotated[
    Path | None,
    checked("--ssh-key", P.key_file, help="SSH private key file (default: $EKSGITOPS_GIT_SSH_KEY)."),
]
TokenFileOpt = Annotated[
    Path | None,
    checked(
        "--token-file",
        P.key_file,
        help="File holding an HTTPS token (default: $EKSGITOPS_GIT_TOKEN_FILE, else the token in "
        "$EKSGITOPS_GIT_TOKEN).",
    ),
]


@app.command()
def bootstrap(
    repo: Annotated[
        str | None, checked("--repo", P.repo, help="Repository URL (https, ssh, git) or local path.")
    ] = None,
    env: Annotated[
        str | None, checked("--env", P.dns_label, help="Environment name (a DNS-1123 label), e.g. dev.")
    ] = None,
    branch: Annotated[
        str | None, typer.Option(help="Branch the agent syncs (default main).", callback=BRANCH)
    ] = None,
    agent: Annotated[str | None, typer.Option(help="GitOps agent (default flux).", **AGENT_CHOICES)] = None,
    path: Annotated[
        str | None, typer.Option(help="Path the agent syncs (default clusters/<env>).", callback=REPO_PATH)
    ] = None,
    stack: Annotated[
        str | None,
        checked(
            "--stack",
            P.text,
            help="Take --env, --repo, --branch, --path and --agent from stacks/Pulumi.<STACK>.yaml.",
        ),
    ] = None,
    stacks_dir: Annotated[Path, checked("--stacks-dir", P.folder, help="Folder of the stack files.")] = Path(
        "stacks"
    ),
    image_automation: Annotated[
        bool, typer.Option("--image-automation", help="Add Flux image automation for the sample app.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the files; commit nothing.")] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Overwrite files changed since written, or the other agent's layout."),
    ] = False,
    signing_key: Annotated[
        str | None,
        checked(
            "--signing-key",
            P.text,
            help="Sign the commit: an OpenPGP key id or fingerprint (gpg.format openpgp) or an SSH key file "
            "(gpg.format ssh). Required when the stack has gitops.verify.",
        ),
    ] = None,
    ssh_key: SshKeyOpt = None,
    token_file: TokenFileOpt = None,
) -> None:
    """Clone the repo (or start an empty one), write the environment's layout, verify it, commit, push."""
    _check_git_environment()
    key = _signing_key(signing_key)
    trust: SigningPolicy | None = None
    provided: StackBridge | None = None
    if stack is not None:
        try:
            target = gitops_target(stack, stacks_dir, stacks_dir.parent)
            # What the stack provides, checked against the layout before anything is pushed.
            provided = from_stack_file(stack, stacks_dir)
        except StackGitOpsError as exc:
            raise _fail("\n".join(exc.lines), 2) from None
        except BridgeError as exc:
            raise _fail(str(exc), 2) from None
        env, repo = env or stack, repo or target.repo_url
        branch, path = branch or target.branch, path or target.path
        agent = agent or ("flux" if target.agent == "flux" else "argocd")
        trust = policy_for(
            trusted_keys=None, mode=None, revision=None, stack=stack, stack_verify=target.verify
        )
        if trust is not None and key is None and not dry_run:
            raise _usage("--signing-key", unsigned_refusal(f"stack {stack}"))
    if repo is None or env is None:
        raise _usage("--repo" if repo is None else "--env", "is required (or give --stack)")
    branch, agent = branch or "main", agent or "flux"
    _check_env(env)
    if agent not in layout.AGENTS:
        raise _usage("--agent", f"{agent!r} is not supported (allowed: {', '.join(layout.AGENTS)})")
    if not git_check_ref_format(branch):
        raise _usage("--branch", f"{branch!r} is not a valid branch name")
    if image_automation and agent != "flux":
        raise _usage("--image-automation", "is available with --agent flux only")
    norm_path = _check_path(path) if path is not None else None
    creds = _creds(ssh_key, token_file)
    _check_repo(repo, creds)
    opts = layout.Options(
        env=env, agent=agent, path=norm_path, branch=branch, image_automation=image_automation
    )
    try:
        # Paths and notes name the repository's files: escapes are shown, not obeyed.
        echo = lambda line: typer.echo(shown(line))  # noqa: E731
        with budget.running(budget.Budget()):  # the caps on builds and files, for the whole run
            ops.bootstrap(
                repo,
                opts,
                creds,
                echo=echo,
                dry_run=dry_run,
                force=force,
                signing_key=key,
                trust=trust,
                stack=provided,
            )
    except EngineMissing as exc:
        raise _fail(str(exc), 2) from None
    except budget.LimitReached as exc:
        raise _fail(creds.scrub(str(exc)), 1) from None
    except ops.VerifyRefused as exc:
        for finding in exc.report.findings:
            typer.echo(shown(creds.scrub(str(finding))))
        if exc.foreign_layers:
            layers = shown(", ".join(layer + "/" for layer in exc.foreign_layers))
            typer.echo(
                "note: these layers already existed and were kept as they are: "
                f"{layers}; the findings come from combining "
                "them with this environment's files. Adapt those layers, or bootstrap with another --path, "
                "or into an empty repository.",
                err=True,
            )
        raise _fail(str(exc), 1) from None
    except FleetError as exc:
        raise _failed(exc, creds) from None


@app.command()
def verify(
    repo: Annotated[
        str | None,
        checked(
            "--repo", P.repo, help="Repository URL (https, ssh, git) or local path (default: the stack's)."
        ),
    ] = None,
    env: Annotated[
        str | None,
        checked(
            "--env", P.dns_label, help="Environment name (a DNS-1123 label), e.g. dev (default: the stack)."
        ),
    ] = None,
    revision: Annotated[
        str | None,
        typer.Option(help="Branch, tag or commit to check (default: the remote's HEAD).", callback=GIT_REF),
    ] = None,
    path: Annotated[
        str | None, typer.Option(help="Path the agent syncs (default clusters/<env>).", callback=REPO_PATH)
    ] = None,
    since: Annotated[
        str | None,
        checked(
            "--since",
            P.git_ref,
            help="Rebuild what files changed since this branch, tag or commit touch; take the rest "
            "from the build cache.",
        ),
    ] = None,
    stack: Annotated[
        str | None,
        checked(
            "--stack",
            P.text,
            help="Take variables and identities from build/STACK/bridge.json (run `eksgitops plan STACK`).",
        ),
    ] = None,
    stacks_dir: Annotated[
        Path,
        checked(
            "--stacks-dir",
            P.folder,
            help="Folder of the stack files (gitops.verify is read there); build/ is looked for beside it.",
        ),
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
        str | None, typer.Option(help="Default: as bootstrap recorded it, else flux.", **AGENT_CHOICES)
    ] = None,
    lockdown: Annotated[
        bool | None,
        typer.Option(
            "--no-cross-namespace-refs/--cross-namespace-refs",
            help="Assume the Flux controllers refuse (FLUX-LOCKDOWN, the agent's default) or allow "
            "cross-namespace references (default: from --stack, else not assumed and listed).",
        ),
    ] = None,
    source_root: Annotated[
        str | None,
        checked(
            "--root",
            P.repo_path,
            help="Folder of the repository that is the root of the source the agent syncs (an OCI "
            "artifact or a GitRepository of a subfolder); paths are relative to it.",
        ),
    ] = None,
    kubernetes_version: Annotated[
        str | None,
        checked(
            "--kubernetes-version",
            P.kubernetes_minor,
            help="Check against this Kubernetes version's built-in schemas, e.g. 1.36 (default: the "
            "stack's kubernetesVersion with --stack, else the newest shipped).",
        ),
    ] = None,
    trusted_keys: Annotated[
        Path | None,
        checked(
            "--trusted-keys",
            P.path,
            help="File of OpenPGP (armored) and SSH public keys: check the revision's signature as "
            "source-controller would (with --stack: the stack's gitops.verify keys).",
        ),
    ] = None,
    signature_mode: Annotated[
        str | None,
        checked(
            "--signature-mode",
            P.choice(MODES),
            help="With --trusted-keys: HEAD (default), Tag or TagAndHEAD.",
        ),
    ] = None,
    ssh_key: SshKeyOpt = None,
    token_file: TokenFileOpt = None,
    deadline: Annotated[
        float,
        checked(
            "--deadline",
            _deadline,
            help="Seconds the whole run may take, clone included; then it stops with exit 4.",
        ),
    ] = budget.DEFAULT_DEADLINE,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON document (eksgitops/fleet/verify.schema.json) instead of the lines; "
            "same exit codes.",
        ),
    ] = False,
) -> None:
    """Tell whether a revision will reconcile: real kustomize builds, strict schemas, references, pins."""
    _check_git_environment()
    env = env or stack
    if env is None:
        raise _usage("--env", "is required (or give --stack)")
    _check_env(env)
    if revision is not None and (
        not revision.strip() or revision.startswith("-") or not revision.isprintable()
    ):
        raise _usage("--revision", f"{revision!r} is not a branch, tag or commit")
    if since is not None and (not since.strip() or since.startswith("-") or not since.isprintable()):
        raise _usage("--since", f"{since!r} is not a branch, tag or commit")
    for name in var or []:
        if not VAR_NAME.fullmatch(name):
            raise _usage(
                "--var", f"{name!r} is not a variable name (letters, digits and _, not first a digit)"
            )
    for name in identity or []:
        if not layout.DNS1123_LABEL.fullmatch(name):
            raise _usage("--identity", f"{name!r} is not an identity name (a DNS-1123 label)")
    if agent is not None and agent not in layout.AGENTS:
        raise _usage("--agent", f"{agent!r} is not supported (allowed: {', '.join(layout.AGENTS)})")
    root_folder = _check_path(source_root, "--root") if source_root is not None else ""
    if kubernetes_version is not None and kubernetes_version not in kubernetes_versions():
        raise _usage(
            "--kubernetes-version",
            f"{kubernetes_version!r} has no shipped schemas (allowed: {', '.join(kubernetes_versions())})",
        )
    if stack is not None and (var or identity):
        raise _usage("--stack", "takes variables and identities from bridge.json; drop --var/--identity")
    if stack is not None and lockdown is not None:
        raise _usage(
            "--stack",
            "takes FLUX-LOCKDOWN from bridge.json; drop --no-cross-namespace-refs/--cross-namespace-refs",
        )
    bridge: StackBridge | None = None
    if stack is not None:
        try:
            bridge = load_bridge(stack, build_dir or stacks_dir.parent / "build")
        except BridgeError as exc:
            raise _fail(str(exc), 2) from None
    if path is not None:
        env_path = _check_path(path)
    elif bridge is not None:
        env_path = _check_path(bridge.path)
    else:
        env_path = f"clusters/{env}"
    repo = repo or (bridge.repo_url if bridge is not None else None)
    if not repo:
        raise _usage("--repo", "is required (or give --stack, whose plan names the repository)")
    if signature_mode is not None and signature_mode not in MODES:
        raise _usage("--signature-mode", f"{signature_mode!r} is not a mode (allowed: {', '.join(MODES)})")
    signing = _signing(trusted_keys, signature_mode, revision, stack, stacks_dir)
    if signing is not None and signing.tag is not None and revision is None:
        revision = signing.tag  # a Tag mode: the agent follows the tag
    creds = _creds(ssh_key, token_file)
    _check_repo(repo, creds)
    urls = list(repo_url or [])
    if bridge is not None:
        request = VerifyRequest.from_stack(
            bridge,
            env_path,
            env=env,
            agent=agent,
            repo_urls=urls,
            since=since,
            kubernetes_version=kubernetes_version,
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
            since=since,
            kubernetes_version=kubernetes_version,
        )
    try:
        if root_folder:
            request = replace(request, root=root_folder)
        with budget.running(budget.Budget(deadline=deadline)):
            report, sha = ops.verify(repo, revision, creds, request, signing=signing)
    except (EngineMissing, TrustedKeysError) as exc:
        raise _fail(str(exc), 2) from None
    except budget.LimitReached as exc:
        if as_json:
            typer.echo(json.dumps(failure_document(env_path, creds.scrub(str(exc)), exc.exit_code), indent=2))
        raise _fail(creds.scrub(str(exc)), exc.exit_code) from None
    except FleetError as exc:
        if as_json and not isinstance(exc, RepoArgumentError):
            document = failure_document(env_path, creds.scrub(str(exc)), UNVERIFIED)
            typer.echo(json.dumps(document, indent=2))
        raise _failed(exc, creds, UNVERIFIED) from None
    if as_json:
        # json.dumps writes every control character as \uXXXX: nothing in it acts on a terminal.
        document = report.document(env_path, sha, creds.scrub)
        typer.echo(json.dumps(document, indent=2))
        raise typer.Exit(code=document["exitCode"])
    raise typer.Exit(code=print_report(report, f"{shown(env_path)} at {sha[:7]}", creds))


app.command(name="diff")(diff_command)  # eksgitops/fleet/diff/command.py: its flags are verify's
