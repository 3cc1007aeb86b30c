"""`eksgitops dr …`: preflight, rebuild, verify, teardown, drill (and escrow of the fleet repo).

Exit codes: 0 done; 1 the world is not as needed (a failed check, a timeout, a failed
`up`), with the phase it stopped in; 2 a mistake on the command line or in the stack
file, before anything is created or written. Every run that gets past its input writes
`<out>/dr/<stack>-<timestamp>.json` and `.md`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from eksgitops.dr.aws import AwsClients, error_text
from eksgitops.dr.cluster_api import ClusterApi, KubernetesClusterApi
from eksgitops.dr.context import DrFailure, DrUsageError, StackContext, load_stack
from eksgitops.dr.drill import DrillDeps, run_drill
from eksgitops.dr.escrow import EscrowError, store_bundle
from eksgitops.dr.fleet_check import (
    FleetVerifier,
    GitCheckError,
    SubprocessFleetVerifier,
    git_credentials,
    remote_head,
)
from eksgitops.dr.preflight import (
    PlanRunner,
    PreflightDeps,
    PreflightOptions,
    SubprocessPlanRunner,
    run_preflight,
)
from eksgitops.dr.rebuild import RebuildDeps, Timeouts, run_rebuild
from eksgitops.dr.report import CheckRow, DrReport
from eksgitops.dr.teardown import TeardownDeps, TeardownTimeouts, run_teardown
from eksgitops.dr.verify import verify_aws, verify_cluster
from eksgitops.dr.waits import Clock, SystemClock
from eksgitops.dr.workspace import AutomationWorkspace, PulumiWorkspace
from eksgitops.fleet.credentials import Credentials
from eksgitops.terminal_text import shown

app = typer.Typer(
    name="dr",
    help="Disaster recovery: preflight, rebuild, verify, teardown and drill, each phase measured.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@dataclass
class World:
    """Everything outside the process; tests replace it with fakes (`default_world`)."""

    clock: Clock
    aws: Callable[[str], AwsClients]
    workspace: Callable[[Path, dict[str, str]], PulumiWorkspace]
    cluster_api: Callable[[dict[str, Any]], ClusterApi]
    plan: Callable[[Path, Path, Path], PlanRunner]
    fleet: Callable[[Path], FleetVerifier]
    creds: Callable[[], Credentials]


def _kubernetes(outputs: dict[str, Any]) -> ClusterApi:
    kubeconfig = outputs.get("kubeconfig")
    if not kubeconfig:
        raise DrFailure("the stack has no kubeconfig output; was `up` completed?")
    return KubernetesClusterApi(kubeconfig)


def default_world() -> World:
    return World(
        clock=SystemClock(),
        aws=lambda region: AwsClients(region),
        workspace=lambda project, env: AutomationWorkspace(project, extra_env=env),
        cluster_api=_kubernetes,
        plan=lambda project, stacks, out: SubprocessPlanRunner(project, stacks, out),
        fleet=lambda project: SubprocessFleetVerifier(cwd=project),
        creds=Credentials.load,
    )


def _console(err: bool = False) -> Console:
    return Console(stderr=err, highlight=False, width=None if sys.stdout.isatty() else 160, soft_wrap=not err)


def _usage(error: DrUsageError) -> typer.Exit:
    for line in error.lines:
        typer.echo(shown(line), err=True)
    return typer.Exit(code=2)


StackArg = Annotated[
    str, typer.Argument(metavar="STACK", help="Stack name: stacks/Pulumi.<STACK>.yaml is read.")
]
StacksDirOpt = Annotated[Path, typer.Option("--stacks-dir", help="Folder of the Pulumi.<stack>.yaml files.")]
OutOpt = Annotated[Path, typer.Option("--out", help="Build folder: the plan's files and dr/ reports.")]
RegionOpt = Annotated[
    str | None, typer.Option("--region", help="Rebuild in this region instead of the spec's (region lost).")
]
RevisionOpt = Annotated[
    str | None,
    typer.Option("--revision", help="Branch, tag or commit expected (default: the spec's branch)."),
]
RepoOpt = Annotated[
    str | None,
    typer.Option("--repo-url", help="Read the fleet from this URL or path (a mirror) instead of repoUrl."),
]
EscrowOpt = Annotated[
    bool,
    typer.Option("--from-escrow", help="Read the fleet from the escrowed git bundle in S3 (Git host down)."),
]
EscrowBucketOpt = Annotated[
    str | None,
    typer.Option(
        "--escrow-bucket",
        help="Escrow bucket (default: the stack's escrow, eksgitops-escrow-<account>-<env>).",
    ),
]
SecretOpt = Annotated[
    str | None,
    typer.Option(
        "--credentials-secret",
        help="Git credentials secret, read in the target region (default: the stack's escrow).",
    ),
]
SopsOpt = Annotated[
    str | None,
    typer.Option(
        "--sops-key",
        help="SOPS KMS key ARN or alias (default from the spec, else alias/eksgitops-<env>-sops).",
    ),
]
BackendOpt = Annotated[
    str | None,
    typer.Option("--backend", help="Pulumi state backend URL (default PULUMI_BACKEND_URL or the login)."),
]
NodesTimeout = Annotated[
    float, typer.Option("--timeout-nodes", min=1, help="Seconds to wait for nodes Ready.")
]
AgentTimeout = Annotated[
    float, typer.Option("--timeout-agent", min=1, help="Seconds to wait for the agent Ready.")
]
WorkloadsTimeout = Annotated[
    float,
    typer.Option("--timeout-workloads", min=1, help="Seconds to wait for every Kustomization/Application."),
]
LbTimeout = Annotated[
    float, typer.Option("--timeout-load-balancers", min=1, help="Seconds to wait for load balancers to go.")
]
PollOpt = Annotated[float, typer.Option("--poll", min=0.01, help="Seconds between looks while waiting.")]


def _load(
    stack: str, stacks_dir: Path, out: Path, command: str, region: str | None = None, drill: bool = False
) -> StackContext:
    try:
        return load_stack(
            stack,
            stacks_dir=stacks_dir,
            project_dir=Path("."),
            build_dir=out,
            command=command,
            region=region,
            drill=drill,
        )
    except DrUsageError as err:
        raise _usage(err) from None


def _check_revision(command: str, revision: str | None) -> None:
    from components.spec.gitops import valid_ref_name

    if revision is not None and not valid_ref_name(revision):
        raise _usage(
            DrUsageError(
                f"eksgitops dr {command}: --revision {revision!r}: not a valid Git ref; "
                "a branch, tag or commit sha"
            )
        )


def _check_escrow(command: str, ctx: StackContext, wanted: bool, bucket: str | None) -> None:
    """Reading or writing the escrow needs one: the stack's (`eksgitops:escrow`) or --escrow-bucket."""
    if wanted and not ctx.escrow.enabled and not bucket:
        flag = "STACK" if command == "escrow" else "--from-escrow"
        raise _usage(
            DrUsageError(
                f"eksgitops dr {command}: {flag}: stack {ctx.environment} has no escrow "
                "(eksgitops:escrow.enabled is not true); turn it on and pulumi up, or give --escrow-bucket"
            )
        )


def _creds(
    world: World, command: str, ctx: StackContext, repo_url: str | None, from_escrow: bool = False
) -> Credentials:
    url = repo_url or (None if from_escrow else ctx.spec.gitops.repo_url)
    flag = "--repo-url" if repo_url else "eksgitops:gitops.repoUrl"
    try:
        return git_credentials(world.creds, url, flag)
    except GitCheckError as exc:
        raise _usage(DrUsageError(f"eksgitops dr {command}: {exc}")) from None


@contextmanager
def _reported(report: DrReport, out: Path, command: str) -> Iterator[None]:
    """Write the report whatever happens; a failure is one line with the phase, exit 1."""
    ok = False
    reason = ""
    try:
        yield
        ok = True
    except typer.Exit as exc:
        ok = exc.exit_code == 0
        reason = report.reason or ("failed" if not ok else "")
        raise
    except Exception as exc:
        reason = str(exc) if isinstance(exc, DrFailure | EscrowError | GitCheckError) else error_text(exc)
        where = f" in phase {report.stopped_at}" if report.stopped_at else ""
        typer.echo(shown(f"eksgitops dr {command} {report.stack}: stopped{where}: {reason}"), err=True)
        raise typer.Exit(code=1) from None
    finally:
        report.finish(ok, reason)
        json_path, md_path = report.write(out)
        typer.echo(f"report: {md_path} and {json_path.name}", err=True)


def _table(rows: list[CheckRow], title: str) -> None:
    table = Table(title=title, title_justify="left")
    for column in ("check", "side", "result", "reason"):
        table.add_column(column, overflow="fold")
    for row in rows:
        # Text, not markup: reasons quote git, AWS and the fleet repository, escapes shown.
        cells = (row.check, row.side, "pass" if row.ok else "FAIL", row.reason)
        table.add_row(*(Text(shown(cell)) for cell in cells))
    _console().print(table)


def _preflight_phase(
    ctx: StackContext, opts: PreflightOptions, world: World, report: DrReport, creds: Credentials, out: Path
) -> str:
    stacks_dir = ctx.stack_file.parent
    deps = PreflightDeps(
        aws=world.aws(ctx.spec.region),
        plan=world.plan(ctx.project_dir, stacks_dir, out),
        fleet=world.fleet(ctx.project_dir),
        creds=creds,
        regional=world.aws,
    )
    with report.phase("preflight") as phase:
        result = run_preflight(ctx, opts, deps)
        report.checks += result.rows
        _table(result.rows, f"preflight {ctx.stack} ({ctx.spec.region})")
        failed = [r for r in result.rows if not r.ok]
        phase.detail = f"{len(result.rows) - len(failed)} of {len(result.rows)} checks pass"
        if failed or result.sha is None:
            raise DrFailure(
                f"{len(failed)} preflight check(s) failed: "
                + "; ".join(f"{r.check}: {r.reason}" for r in failed)
            )
    return result.sha


@app.command()
def preflight(
    stack: StackArg,
    revision: RevisionOpt = None,
    region: RegionOpt = None,
    repo_url: RepoOpt = None,
    from_escrow: EscrowOpt = False,
    escrow_bucket: EscrowBucketOpt = None,
    credentials_secret: SecretOpt = None,
    sops_key: SopsOpt = None,
    backend: BackendOpt = None,
    stacks_dir: StacksDirOpt = Path("stacks"),
    out: OutOpt = Path("build"),
) -> None:
    """Check everything a rebuild needs before anything is created; exit 1 if any check fails."""
    _check_revision("preflight", revision)
    ctx = _load(stack, stacks_dir, out, "preflight", region)
    _check_escrow("preflight", ctx, from_escrow, escrow_bucket)
    world = default_world()
    creds = _creds(world, "preflight", ctx, repo_url, from_escrow)
    opts = PreflightOptions(
        revision, repo_url, from_escrow, escrow_bucket, credentials_secret, sops_key, backend
    )
    report = DrReport("preflight", ctx.stack, world.clock, ctx.model())
    report.facts.update({"region": ctx.spec.region, **{f"note {i}": n for i, n in enumerate(ctx.notes, 1)}})
    with _reported(report, out, "preflight"):
        sha = _preflight_phase(ctx, opts, world, report, creds, out)
        typer.echo(f"preflight: {ctx.stack} can be rebuilt from {sha[:12]}")


def _rebuild_deps(ctx: StackContext, world: World, env: dict[str, str] | None = None) -> RebuildDeps:
    return RebuildDeps(
        workspace=world.workspace(ctx.project_dir, env or {}),
        cluster_api=world.cluster_api,
        clock=world.clock,
        echo=lambda line: _console().print(line, markup=False),
    )


@app.command()
def rebuild(
    stack: StackArg,
    revision: RevisionOpt = None,
    region: RegionOpt = None,
    repo_url: RepoOpt = None,
    from_escrow: EscrowOpt = False,
    escrow_bucket: EscrowBucketOpt = None,
    credentials_secret: SecretOpt = None,
    sops_key: SopsOpt = None,
    backend: BackendOpt = None,
    timeout_nodes: NodesTimeout = 20 * 60,
    timeout_agent: AgentTimeout = 15 * 60,
    timeout_workloads: WorkloadsTimeout = 30 * 60,
    poll: PollOpt = 10.0,
    stacks_dir: StacksDirOpt = Path("stacks"),
    out: OutOpt = Path("build"),
) -> None:
    """Preflight, `pulumi up` with live progress, then wait for the agent and workloads at the revision."""
    _check_revision("rebuild", revision)
    ctx = _load(stack, stacks_dir, out, "rebuild", region)
    _check_escrow("rebuild", ctx, from_escrow, escrow_bucket)
    world = default_world()
    creds = _creds(world, "rebuild", ctx, repo_url, from_escrow)
    opts = PreflightOptions(
        revision, repo_url, from_escrow, escrow_bucket, credentials_secret, sops_key, backend
    )
    report = DrReport("rebuild", ctx.stack, world.clock, ctx.model())
    report.facts.update({"region": ctx.spec.region, **{f"note {i}": n for i, n in enumerate(ctx.notes, 1)}})
    with _reported(report, out, "rebuild"):
        sha = _preflight_phase(ctx, opts, world, report, creds, out)
        report.facts["revision"] = sha
        run_rebuild(
            ctx,
            sha,
            _rebuild_deps(ctx, world),
            report,
            Timeouts(timeout_nodes, timeout_agent, timeout_workloads, poll),
        )
        typer.echo(f"rebuild: {ctx.stack} is Ready at {sha[:12]}")


@app.command()
def verify(
    stack: StackArg,
    revision: RevisionOpt = None,
    repo_url: RepoOpt = None,
    stacks_dir: StacksDirOpt = Path("stacks"),
    out: OutOpt = Path("build"),
) -> None:
    """Check the AWS side (boto3) and the cluster side against the spec, Git and the stack outputs."""
    _check_revision("verify", revision)
    ctx = _load(stack, stacks_dir, out, "verify")
    world = default_world()
    creds = _creds(world, "verify", ctx, repo_url)
    report = DrReport("verify", ctx.stack, world.clock, ctx.model())
    with _reported(report, out, "verify"):
        workspace = world.workspace(ctx.project_dir, {})
        with report.phase("git revision") as phase:
            url = repo_url or ctx.spec.gitops.repo_url
            if not url:
                raise DrFailure("the stack sets no gitops.repoUrl; give --repo-url")
            sha = remote_head(url, revision or ctx.spec.gitops.branch, creds=creds)
            phase.detail = f"{revision or ctx.spec.gitops.branch} is {sha}"
        with report.phase("aws") as phase:
            rows = verify_aws(ctx.spec, world.aws(ctx.spec.region))
            phase.detail = f"{sum(r.ok for r in rows)} of {len(rows)} pass"
        report.checks += rows
        with report.phase("cluster") as phase:
            workspace.select(ctx.stack)
            outputs = workspace.outputs()
            bridge = outputs.get("bridge") if isinstance(outputs.get("bridge"), dict) else None
            cluster_rows = verify_cluster(world.cluster_api(outputs), ctx.spec.gitops.agent, sha, bridge)
            phase.detail = f"{sum(r.ok for r in cluster_rows)} of {len(cluster_rows)} pass"
        report.checks += cluster_rows
        _table(report.checks, f"verify {ctx.stack} at {sha[:12]}")
        failed = [r for r in report.checks if not r.ok]
        if failed:
            report.stopped_at = None
            raise DrFailure(
                f"{len(failed)} check(s) failed: " + "; ".join(f"{r.check}: {r.reason}" for r in failed)
            )
        typer.echo(f"verify: {ctx.stack} is what the spec and Git say ({len(report.checks)} checks)")


@app.command()
def teardown(
    stack: StackArg,
    cluster_gone: Annotated[
        bool,
        typer.Option(
            "--cluster-gone",
            help="The cluster is unreachable: skip the in-cluster steps and let Pulumi drop its objects.",
        ),
    ] = False,
    timeout_load_balancers: LbTimeout = 15 * 60,
    poll: PollOpt = 10.0,
    yes: Annotated[bool, typer.Option("--yes", help="Do it (teardown destroys the cluster).")] = False,
    stacks_dir: StacksDirOpt = Path("stacks"),
    out: OutOpt = Path("build"),
) -> None:
    """Ordered destroy: suspend the agent, remove load balancers, free finalizers, destroy (durable kept)."""
    ctx = _load(stack, stacks_dir, out, "teardown")
    if not yes:
        raise _usage(
            DrUsageError(
                f"eksgitops dr teardown: --yes: required; teardown destroys stack {stack} and its cluster"
            )
        )
    world = default_world()
    # pulumi-kubernetes drops objects of an unreachable cluster from state instead of failing.
    env = {"PULUMI_K8S_DELETE_UNREACHABLE": "true"} if cluster_gone else {}
    report = DrReport("teardown", ctx.stack, world.clock, ctx.model())
    with _reported(report, out, "teardown"):
        deps = TeardownDeps(
            workspace=world.workspace(ctx.project_dir, env),
            cluster_api=world.cluster_api,
            aws=world.aws(ctx.spec.region),
            clock=world.clock,
            echo=lambda line: _console().print(line, markup=False),
        )
        run_teardown(
            ctx, deps, report, TeardownTimeouts(timeout_load_balancers, poll), cluster_gone=cluster_gone
        )
        typer.echo(f"teardown: {ctx.stack} destroyed; durable resources kept")


@app.command()
def drill(
    stack: StackArg,
    revision: RevisionOpt = None,
    region: RegionOpt = None,
    repo_url: RepoOpt = None,
    from_escrow: EscrowOpt = False,
    escrow_bucket: EscrowBucketOpt = None,
    credentials_secret: SecretOpt = None,
    sops_key: SopsOpt = None,
    backend: BackendOpt = None,
    timeout_nodes: NodesTimeout = 20 * 60,
    timeout_agent: AgentTimeout = 15 * 60,
    timeout_workloads: WorkloadsTimeout = 30 * 60,
    timeout_load_balancers: LbTimeout = 15 * 60,
    poll: PollOpt = 10.0,
    stacks_dir: StacksDirOpt = Path("stacks"),
    out: OutOpt = Path("build"),
) -> None:
    """Rebuild into STACK-drill (its own cluster), verify, report, tear down; safe to schedule monthly."""
    _check_revision("drill", revision)
    ctx = _load(stack, stacks_dir, out, "drill", region, drill=True)
    _check_escrow("drill", ctx, from_escrow, escrow_bucket)
    world = default_world()
    creds = _creds(world, "drill", ctx, repo_url, from_escrow)
    opts = PreflightOptions(
        revision, repo_url, from_escrow, escrow_bucket, credentials_secret, sops_key, backend
    )
    report = DrReport("drill", ctx.stack, world.clock, ctx.model())
    report.facts.update({"region": ctx.spec.region, **{f"note {i}": n for i, n in enumerate(ctx.notes, 1)}})
    with _reported(report, out, "drill"):
        sha = _preflight_phase(ctx, opts, world, report, creds, out)
        report.facts["revision"] = sha
        rebuild_deps = _rebuild_deps(ctx, world)
        aws = world.aws(ctx.spec.region)
        teardown_deps = TeardownDeps(
            rebuild_deps.workspace, world.cluster_api, aws, world.clock, rebuild_deps.echo
        )
        run_drill(
            ctx,
            sha,
            DrillDeps(rebuild_deps, teardown_deps, aws),
            report,
            Timeouts(timeout_nodes, timeout_agent, timeout_workloads, poll),
            TeardownTimeouts(timeout_load_balancers, poll),
        )
        _table(report.checks, f"drill {ctx.stack} verify")
        typer.echo(f"drill: {ctx.stack} rebuilt, verified and torn down at {sha[:12]}")


@app.command()
def escrow(
    stack: StackArg,
    repo_url: RepoOpt = None,
    escrow_bucket: EscrowBucketOpt = None,
    stacks_dir: StacksDirOpt = Path("stacks"),
    out: OutOpt = Path("build"),
) -> None:
    """Refresh the escrowed `git bundle` of the fleet repository in the versioned S3 bucket."""
    ctx = _load(stack, stacks_dir, out, "escrow")
    _check_escrow("escrow", ctx, True, escrow_bucket)
    url = repo_url or ctx.spec.gitops.repo_url
    if not url:
        raise _usage(
            DrUsageError("eksgitops dr escrow: --repo-url: required; the stack sets no gitops.repoUrl")
        )
    world = default_world()
    creds = _creds(world, "escrow", ctx, repo_url)
    report = DrReport("escrow", ctx.stack, world.clock, ctx.model())
    with _reported(report, out, "escrow"):
        with report.phase("bundle") as phase:
            # The escrow's own region: it may differ from the cluster's (eksgitops:escrow.region).
            stored = store_bundle(
                url, world.aws(ctx.escrow_region), ctx.environment, bucket=escrow_bucket, creds=creds
            )
            phase.detail = (
                f"s3://{stored.bucket}/{stored.key} version {stored.version_id} "
                f"({stored.size} bytes, {stored.heads} refs)"
            )
            report.facts.update(
                {
                    "bundle": f"s3://{stored.bucket}/{stored.key}",
                    "version": stored.version_id,
                    "sha256": stored.sha256,
                }
            )
        typer.echo(f"escrow: {phase.detail}")
