"""`eksgitops dr …`: preflight, rebuild, verify, teardown, drill (and escrow of the fleet repo).

Exit codes: 0 done; 1 the world is not as needed (a failed check, a timeout, a failed
`up`), with the phase it stopped in; 2 a mistake on the command line or in the stack
file, before anything is created or written. Every run that gets past its input writes
`<out>/dr/<stack>-<timestamp>.json` and `.md`.

The options are declared in `options.py`, the world in `world.py`, and what every command
does before and around its steps in `session.py`; a command here is its own steps only.
"""

from __future__ import annotations

import typer

from eksgitops.dr.context import DrFailure, DrUsageError, StackContext
from eksgitops.dr.drill import DrillDeps, run_drill, with_environment_sops_key
from eksgitops.dr.escrow import store_bundle
from eksgitops.dr.fleet_check import remote_head
from eksgitops.dr.options import (
    AGENT_SECONDS,
    BUILD_DIR,
    LOAD_BALANCERS_SECONDS,
    NODES_SECONDS,
    POLL_SECONDS,
    STACKS_DIR,
    WORKLOADS_SECONDS,
    AgentTimeout,
    BackendOpt,
    CancelStaleOpt,
    ClusterGoneOpt,
    EscrowBucketOpt,
    EscrowOpt,
    JsonOpt,
    LbTimeout,
    NodesTimeout,
    OutOpt,
    PollOpt,
    RecoverySource,
    RegionOpt,
    RepoOpt,
    RevisionOpt,
    SecretOpt,
    SnapshotOpt,
    SopsOpt,
    StackArg,
    StacksDirOpt,
    WorkloadsTimeout,
    YesOpt,
)
from eksgitops.dr.pulumi_workspace import StackNotFound
from eksgitops.dr.rebuild import Timeouts, run_rebuild
from eksgitops.dr.session import open_session, table
from eksgitops.dr.teardown import TeardownTimeouts, run_teardown
from eksgitops.dr.verify import verify_aws, verify_cluster

app = typer.Typer(
    name="dr",
    help="Disaster recovery: preflight, rebuild, verify, teardown and drill, each phase measured.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


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
    as_json: JsonOpt = False,
    stacks_dir: StacksDirOpt = STACKS_DIR,
    out: OutOpt = BUILD_DIR,
) -> None:
    """Check everything a rebuild needs before anything is created; exit 1 if any check fails."""
    source = RecoverySource(
        revision, region, repo_url, from_escrow, escrow_bucket, credentials_secret, sops_key, backend
    )
    session = open_session("preflight", stack, source, stacks_dir=stacks_dir, out=out)
    with session.reported():
        sha = session.preflight(as_json=as_json)
        if not as_json:
            typer.echo(f"preflight: {session.ctx.stack} can be rebuilt from {sha[:12]}")


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
    timeout_nodes: NodesTimeout = NODES_SECONDS,
    timeout_agent: AgentTimeout = AGENT_SECONDS,
    timeout_workloads: WorkloadsTimeout = WORKLOADS_SECONDS,
    poll: PollOpt = POLL_SECONDS,
    cancel_stale: CancelStaleOpt = False,
    stacks_dir: StacksDirOpt = STACKS_DIR,
    out: OutOpt = BUILD_DIR,
) -> None:
    """Preflight, `pulumi up` with live progress, then wait for the agent and workloads at the revision."""
    source = RecoverySource(
        revision, region, repo_url, from_escrow, escrow_bucket, credentials_secret, sops_key, backend
    )
    session = open_session("rebuild", stack, source, stacks_dir=stacks_dir, out=out)
    with session.reported():
        sha = session.preflight()
        session.report.facts["revision"] = sha
        timeouts = Timeouts(timeout_nodes, timeout_agent, timeout_workloads, poll)
        deps = session.rebuild_deps(sha=sha, cancel_stale=cancel_stale)
        run_rebuild(session.ctx, sha, deps, session.report, timeouts)
        typer.echo(f"rebuild: {session.ctx.stack} is Ready at {sha[:12]}")


@app.command()
def verify(
    stack: StackArg,
    revision: RevisionOpt = None,
    repo_url: RepoOpt = None,
    stacks_dir: StacksDirOpt = STACKS_DIR,
    out: OutOpt = BUILD_DIR,
) -> None:
    """Check the AWS side (boto3) and the cluster side against the spec, Git and the stack outputs."""
    session = open_session(
        "verify", stack, RecoverySource(revision, repo_url=repo_url), stacks_dir=stacks_dir, out=out
    )
    ctx, world, report = session.ctx, session.world, session.report
    with session.reported():
        workspace = world.workspace(ctx.project_dir, {})
        with report.phase("git revision") as phase:
            url = repo_url or ctx.spec.gitops.repo_url
            if not url:
                raise DrFailure("the stack sets no gitops.repoUrl; give --repo-url")
            sha = remote_head(url, revision or ctx.spec.gitops.branch, creds=session.creds)
            phase.detail = f"{revision or ctx.spec.gitops.branch} is {sha}"
        with report.phase("aws") as phase:
            rows = verify_aws(ctx.spec, world.aws(ctx.spec.region))
            phase.detail = f"{sum(r.ok for r in rows)} of {len(rows)} pass"
        report.checks += rows
        with report.phase("cluster") as phase:
            try:
                workspace.select(ctx.stack, create=False)  # verify never creates a stack
            except StackNotFound:
                raise DrFailure(f"stack {ctx.stack} does not exist in the state backend") from None
            outputs = workspace.outputs()
            bridge = outputs.get("bridge") if isinstance(outputs.get("bridge"), dict) else None
            cluster_rows = verify_cluster(
                world.cluster_api(outputs),
                ctx.spec.gitops.agent,
                sha,
                bridge,
                accepts=session.revision_judge(sha),
                repo_url=ctx.spec.gitops.repo_url,
            )
            phase.detail = f"{sum(r.ok for r in cluster_rows)} of {len(cluster_rows)} pass"
        report.checks += cluster_rows
        table(report.checks, f"verify {ctx.stack} at {sha[:12]}")
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
    cluster_gone: ClusterGoneOpt = False,
    timeout_load_balancers: LbTimeout = LOAD_BALANCERS_SECONDS,
    poll: PollOpt = POLL_SECONDS,
    snapshot_volumes: SnapshotOpt = False,
    yes: YesOpt = False,
    stacks_dir: StacksDirOpt = STACKS_DIR,
    out: OutOpt = BUILD_DIR,
) -> None:
    """Ordered destroy: suspend the agent, remove load balancers, free finalizers, destroy (durable kept)."""

    def confirmed(ctx: StackContext) -> None:
        if not yes:
            raise DrUsageError(
                f"eksgitops dr teardown: --yes: required; teardown destroys stack {stack} and its cluster"
            )

    session = open_session("teardown", stack, None, stacks_dir=stacks_dir, out=out, require=confirmed)
    # pulumi-kubernetes drops objects of an unreachable cluster from state instead of failing.
    env = {"PULUMI_K8S_DELETE_UNREACHABLE": "true"} if cluster_gone else {}
    with session.reported():
        timeouts = TeardownTimeouts(timeout_load_balancers, poll, snapshot_volumes)
        deps = session.teardown_deps(env=env)
        run_teardown(session.ctx, deps, session.report, timeouts, cluster_gone=cluster_gone)
        typer.echo(f"teardown: {session.ctx.stack} destroyed; durable resources kept")


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
    timeout_nodes: NodesTimeout = NODES_SECONDS,
    timeout_agent: AgentTimeout = AGENT_SECONDS,
    timeout_workloads: WorkloadsTimeout = WORKLOADS_SECONDS,
    timeout_load_balancers: LbTimeout = LOAD_BALANCERS_SECONDS,
    poll: PollOpt = POLL_SECONDS,
    cancel_stale: CancelStaleOpt = False,
    stacks_dir: StacksDirOpt = STACKS_DIR,
    out: OutOpt = BUILD_DIR,
) -> None:
    """Rebuild into STACK-drill (its own cluster), verify, report, tear down; safe to schedule monthly."""
    source = RecoverySource(
        revision, region, repo_url, from_escrow, escrow_bucket, credentials_secret, sops_key, backend
    )
    session = open_session("drill", stack, source, stacks_dir=stacks_dir, out=out, drill=True)
    with session.reported():
        with session.report.phase("derive") as phase:
            session.ctx = with_environment_sops_key(session.ctx, session.world.aws(session.ctx.spec.region))
            phase.detail = "; ".join(session.ctx.notes)
        sha = session.preflight()
        session.report.facts["revision"] = sha
        rebuild_deps = session.rebuild_deps(sha=sha, cancel_stale=cancel_stale)
        teardown_deps = session.teardown_deps(rebuild_deps)
        deps = DrillDeps(rebuild_deps, teardown_deps, teardown_deps.aws)
        timeouts = Timeouts(timeout_nodes, timeout_agent, timeout_workloads, poll)
        run_drill(
            session.ctx, sha, deps, session.report, timeouts, TeardownTimeouts(timeout_load_balancers, poll)
        )
        table(session.report.checks, f"drill {session.ctx.stack} verify")
        typer.echo(f"drill: {session.ctx.stack} rebuilt, verified and torn down at {sha[:12]}")


@app.command()
def escrow(
    stack: StackArg,
    repo_url: RepoOpt = None,
    escrow_bucket: EscrowBucketOpt = None,
    stacks_dir: StacksDirOpt = STACKS_DIR,
    out: OutOpt = BUILD_DIR,
) -> None:
    """Refresh the escrowed `git bundle` of the fleet repository in the versioned S3 bucket."""

    def has_url(ctx: StackContext) -> None:
        if not (repo_url or ctx.spec.gitops.repo_url):
            raise DrUsageError("eksgitops dr escrow: --repo-url: required; the stack sets no gitops.repoUrl")

    # The escrow is what this command writes: a stack without one needs --escrow-bucket.
    source = RecoverySource(repo_url=repo_url, from_escrow=True, escrow_bucket=escrow_bucket)
    session = open_session("escrow", stack, source, stacks_dir=stacks_dir, out=out, require=has_url)
    ctx = session.ctx
    url = str(repo_url or ctx.spec.gitops.repo_url)
    with session.reported(), session.report.phase("bundle") as phase:
        # The escrow's own region: it may differ from the cluster's (eksgitops:escrow.region).
        aws = session.world.aws(ctx.escrow_region)
        stored = store_bundle(url, aws, ctx.environment, bucket=escrow_bucket, creds=session.creds)
        phase.detail = (
            f"s3://{stored.bucket}/{stored.key} version {stored.version_id} "
            f"({stored.size} bytes, {stored.heads} refs)"
        )
        where = {"bundle": f"s3://{stored.bucket}/{stored.key}", "version": stored.version_id}
        session.report.facts.update({**where, "sha256": stored.sha256})
    typer.echo(f"escrow: {phase.detail}")
