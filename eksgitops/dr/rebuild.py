"""`eksgitops dr rebuild STACK`: `pulumi up` with live progress, then bounded waits until Git is live.

Phases (each timed in the report): infrastructure (`up`, shown against the plan's modeled
critical path), nodes ready, agent ready, workloads synced at the expected revision. Every
wait has a timeout; a timeout names the object and the condition that held it up.
The IRSA trusts are re-pointed by `up` itself: the program derives each trust from the
current cluster's issuer, so a new cluster changes them in the same update.

Run again after a rebuild that stopped half way, it completes, handling what Pulumi
documents for an interrupted update: pending operations left in the state are cleared by
`refresh --clear-pending-creates` (the report lists them: a create that did reach AWS must
be imported or deleted by hand), and a stack still leased by another update
(`ConcurrentUpdateError`) is waited for, then, only with --cancel-stale-update, cancelled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eksgitops.dr.cluster_api import ClusterApi
from eksgitops.dr.context import DrFailure, StackContext
from eksgitops.dr.pulumi_workspace import ConcurrentUpdate, PulumiWorkspace, ResourceEvent
from eksgitops.dr.report import DrReport, Model
from eksgitops.dr.sync_status import Accepts, agent_probe, nodes_probe, workloads_probe
from eksgitops.dr.waits import Clock, Probe, wait_until

Echo = Callable[[str], None]


@dataclass
class Timeouts:
    """Bounds of each wait, in seconds."""

    nodes: float = 20 * 60
    agent: float = 15 * 60
    workloads: float = 30 * 60
    poll: float = 10.0
    lock: float = 10 * 60
    """How long `up` waits for another update's lease on the stack (ConcurrentUpdateError)."""


@dataclass
class RebuildDeps:
    workspace: PulumiWorkspace
    cluster_api: Callable[[dict[str, Any]], ClusterApi]
    """Makes the Kubernetes client from the stack outputs (their kubeconfig)."""
    clock: Clock
    echo: Echo
    accepts: Accepts | None = None
    """Which other revisions count as the expected one (a descendant pushed meanwhile)."""
    repo_url: str | None = None
    """The fleet repository the cluster reads (Applications of other sources are not compared)."""
    cancel_stale: bool = False
    """--cancel-stale-update: `pulumi cancel` a lease still held once the lock wait is over."""


class Progress:
    """The live display of `up`: resources done, elapsed time against the modeled critical path."""

    def __init__(self, clock: Clock, model: Model, echo: Echo, verb: str = "created"):
        self.clock, self.model, self.echo, self.verb = clock, model, echo, verb
        self.start = clock.monotonic()
        self.done = 0
        self.changed = 0
        self.failed: list[str] = []

    def __call__(self, event: ResourceEvent) -> None:
        if not event.done:
            return
        elapsed = self.clock.monotonic() - self.start
        against = f" / modeled {self.model.seconds}s" if self.model.seconds is not None else " (no model)"
        if event.op == "failed":
            self.failed.append(event.urn)
            self.echo(f"[{elapsed:6.0f}s{against}] FAILED {event.type} {event.name}")
            return
        self.done += 1
        if event.op != "same":
            self.changed += 1
        self.echo(
            f"[{elapsed:6.0f}s{against}] {self.done:4d} done ({self.changed} {self.verb}) "
            f"{event.op} {event.type} {event.name}"
        )


def leased(action: Callable[[], None], what: str, stack: str, deps: RebuildDeps, lock: float) -> None:
    """Run `action` (up, refresh); while another update holds the stack, wait (bounded), then
    cancel it only when the operator said so (--cancel-stale-update): it may be a live one."""
    start = deps.clock.monotonic()
    pause = 5.0
    while True:
        try:
            action()
            return
        except ConcurrentUpdate as exc:
            waited = deps.clock.monotonic() - start
            if waited < lock:
                deps.echo(
                    f"{what}: another update holds stack {stack}; waiting ({waited:.0f}s of {lock:.0f}s)"
                )
                deps.clock.sleep(min(pause, lock - waited))
                pause = min(pause * 2, 60.0)
                continue
            if not deps.cancel_stale:
                raise DrFailure(
                    f"{what}: another update still holds stack {stack} after {waited:.0f}s ({exc}); if none "
                    f"is running (a rebuild that was killed), run `pulumi cancel --stack {stack}` or "
                    "run again with --cancel-stale-update"
                ) from None
            deps.echo(f"{what}: cancelling the stale update on stack {stack} (--cancel-stale-update)")
            deps.workspace.cancel()
            deps.cancel_stale = False  # once: a second conflict is a live update
            start = deps.clock.monotonic()


def clear_pending(ctx: StackContext, deps: RebuildDeps, report: DrReport, lock: float) -> None:
    """An interrupted update left pending operations: `refresh --clear-pending-creates`, reported."""
    pending = deps.workspace.pending_operations()
    if not pending:
        return
    report.facts["pending operations cleared"] = "; ".join(pending)
    deps.echo(
        f"the last update of {ctx.stack} was interrupted with {len(pending)} pending operation(s): "
        + "; ".join(pending)
        + " - refreshing with --clear-pending-creates (a create that reached AWS must be imported or deleted)"
    )
    leased(
        lambda: deps.workspace.refresh(lambda event: None, clear_pending_creates=True),
        "refresh",
        ctx.stack,
        deps,
        lock,
    )


def bring_up(
    ctx: StackContext, deps: RebuildDeps, report: DrReport, timeouts: Timeouts | None = None
) -> dict[str, Any]:
    """The infrastructure phase: select (or create) the stack, `up`, return the outputs."""
    lock = (timeouts or Timeouts()).lock
    with report.phase("infrastructure") as phase:
        copy_from = ctx.source_stack if ctx.source_stack and ctx.source_stack != ctx.stack else None
        deps.workspace.select(ctx.stack, copy_config_from=copy_from, config=ctx.overrides or None)
        clear_pending(ctx, deps, report, lock)
        progress = Progress(deps.clock, report.model, deps.echo)
        try:
            leased(lambda: deps.workspace.up(progress), "up", ctx.stack, deps, lock)
        finally:
            report.facts["resources done"] = progress.done
            report.facts["resources changed"] = progress.changed
            if progress.failed:
                report.facts["resources failed"] = ", ".join(progress.failed)
        outputs = deps.workspace.outputs()
        phase.detail = (
            f"{progress.done} resources ({progress.changed} changed); modeled {report.model.describe()}"
        )
    return outputs


def wait_for_git(
    ctx: StackContext, api: ClusterApi, sha: str, deps: RebuildDeps, report: DrReport, timeouts: Timeouts
) -> None:
    """Nodes, then the agent, then every Kustomization/Application at `sha`."""
    spec = ctx.spec
    agent = spec.gitops.agent
    want_nodes = sum(g.desired_size for g in spec.node_groups)
    if want_nodes == 0:
        report.skip("nodes ready", "no managed node groups (Auto Mode starts nodes for pods on demand)")
    else:
        with report.phase("nodes ready") as phase:
            seconds = _wait(
                lambda: nodes_probe(api, want_nodes),
                "nodes",
                f"Ready ({want_nodes} wanted)",
                timeouts.nodes,
                deps,
                timeouts.poll,
            )
            phase.detail = f"{want_nodes} nodes Ready after {seconds:.0f}s"
    with report.phase("agent ready") as phase:
        probe_subject = "the GitOps agent"
        _wait(lambda: agent_probe(api, agent), probe_subject, "Ready", timeouts.agent, deps, timeouts.poll)
        phase.detail = f"{agent} Ready"
    with report.phase("workloads synced") as phase:
        last: list[Probe] = []

        def probe() -> Probe:
            result = workloads_probe(api, agent, sha, accepts=deps.accepts, repo_url=deps.repo_url)
            last[:] = [result]
            return result

        _wait(
            probe,
            "the workloads",
            f"Ready and Healthy at {sha[:12]}",
            timeouts.workloads,
            deps,
            timeouts.poll,
        )
        phase.detail = last[0].seen if last else ""


def _wait(
    check: Callable[[], Probe], subject: str, condition: str, timeout: float, deps: RebuildDeps, poll: float
) -> float:
    seen: list[str] = []

    def on_poll(probe: Probe, elapsed: float) -> None:
        line = f"{probe.subject or subject}: {probe.seen}"
        if not seen or seen[-1] != line:  # show changes, not every poll
            deps.echo(f"[{elapsed:6.0f}s] {line}")
            seen.append(line)

    return wait_until(
        check,
        subject=subject,
        condition=condition,
        timeout=timeout,
        clock=deps.clock,
        interval=poll,
        on_poll=on_poll,
    )


def run_rebuild(
    ctx: StackContext, sha: str, deps: RebuildDeps, report: DrReport, timeouts: Timeouts
) -> dict[str, Any]:
    """Infrastructure, nodes, agent, workloads. Raises on the first phase that fails."""
    outputs = bring_up(ctx, deps, report, timeouts)
    api = deps.cluster_api(outputs)
    wait_for_git(ctx, api, sha, deps, report, timeouts)
    return outputs
