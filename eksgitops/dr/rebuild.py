"""`eksgitops dr rebuild STACK`: `pulumi up` with live progress, then bounded waits until Git is live.

Phases (each timed in the report): infrastructure (`up`, shown against the plan's modeled
critical path), nodes ready, agent ready, workloads synced at the expected revision. Every
wait has a timeout; a timeout names the object and the condition that held it up.
The IRSA trusts are re-pointed by `up` itself: the program derives each trust from the
current cluster's issuer, so a new cluster changes them in the same update.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eksgitops.dr.cluster_api import ClusterApi
from eksgitops.dr.context import StackContext
from eksgitops.dr.pulumi_workspace import PulumiWorkspace, ResourceEvent
from eksgitops.dr.report import DrReport, Model
from eksgitops.dr.sync_status import agent_probe, nodes_probe, workloads_probe
from eksgitops.dr.waits import Clock, Probe, wait_until

Echo = Callable[[str], None]


@dataclass
class Timeouts:
    """Bounds of each wait, in seconds."""

    nodes: float = 20 * 60
    agent: float = 15 * 60
    workloads: float = 30 * 60
    poll: float = 10.0


@dataclass
class RebuildDeps:
    workspace: PulumiWorkspace
    cluster_api: Callable[[dict[str, Any]], ClusterApi]
    """Makes the Kubernetes client from the stack outputs (their kubeconfig)."""
    clock: Clock
    echo: Echo


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


def bring_up(ctx: StackContext, deps: RebuildDeps, report: DrReport) -> dict[str, Any]:
    """The infrastructure phase: select (or create) the stack, `up`, return the outputs."""
    with report.phase("infrastructure") as phase:
        copy_from = ctx.source_stack if ctx.source_stack and ctx.source_stack != ctx.stack else None
        deps.workspace.select(ctx.stack, copy_config_from=copy_from, config=ctx.overrides or None)
        progress = Progress(deps.clock, report.model, deps.echo)
        try:
            deps.workspace.up(progress)
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
            result = workloads_probe(api, agent, sha)
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
    outputs = bring_up(ctx, deps, report)
    api = deps.cluster_api(outputs)
    wait_for_git(ctx, api, sha, deps, report, timeouts)
    return outputs
