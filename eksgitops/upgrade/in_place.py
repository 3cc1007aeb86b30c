"""`upgrade apply --strategy in-place`: the stack's own cluster moves, in EKS's documented order.

After the stack file says the new version, `up` runs in phases, each limited to its resources
(`pulumi up --target`) and each followed by a bounded check that it took:

1. control plane: the EKS cluster; then its version and ACTIVE status are read from EKS;
2. add-ons: every managed add-on (kube-proxy is never newer than the control plane this way);
   then the nodes must still be Ready (the CNI and kube-proxy serve them);
3. node groups: their launch templates and the groups (EKS replaces the nodes); then every
   node Ready with a kubelet of the new minor;
4. converge: a whole `up`, so nothing else is left behind the stack file.

The control plane cannot go back: a failure after phase 1 is fixed forward.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from eksgitops.dr.aws import AwsClients, error_text
from eksgitops.dr.cluster_api import NODE, ClusterApi, condition
from eksgitops.dr.rebuild import Progress, RebuildDeps
from eksgitops.dr.report import DrReport
from eksgitops.dr.waits import Probe, wait_until
from eksgitops.plan.offline_engine import PlanResult

CONTROL_PLANE = ("aws:eks/cluster:Cluster",)
ADDONS = ("aws:eks/addon:Addon",)
NODE_GROUPS = ("aws:ec2/launchTemplate:LaunchTemplate", "aws:eks/nodeGroup:NodeGroup")


@dataclass
class PhaseTimeouts:
    control_plane: float = 60 * 60
    """EKS takes 20-40 minutes for a control-plane minor."""
    addons: float = 20 * 60
    nodes: float = 60 * 60
    """Node replacement is rolling, about a node at a time."""
    poll: float = 15.0


@dataclass
class InPlaceDeps(RebuildDeps):
    """What a rebuild's phases need (the workspace, the cluster's API, the clock, the echo), and
    EKS to read the control plane's version from."""

    aws: AwsClients = field(kw_only=True)


def targets(plan: PlanResult, types: Sequence[str]) -> list[str]:
    """The URNs of the planned resources of these types (the program's own URNs, so `--target` hits)."""
    return sorted(r.urn for r in plan.resources if r.type in types)


def control_plane_probe(aws: AwsClients, cluster: str, target: str) -> Probe:
    try:
        info = aws.client("eks").describe_cluster(name=cluster)["cluster"]
    except Exception as exc:
        return Probe(False, error_text(exc), f"cluster {cluster}")
    version, status = info.get("version"), info.get("status")
    return Probe(version == target and status == "ACTIVE", f"{version} {status}", f"cluster {cluster}")


def nodes_at_probe(api: ClusterApi, want: int, target: str | None) -> Probe:
    """At least `want` nodes Ready, and with a target every Ready node's kubelet at that minor."""
    nodes = api.list(NODE)
    ready = [n for n in nodes if (c := condition(n)) and c.get("status") == "True"]
    if target is None:
        return Probe(len(ready) >= want, f"{len(ready)} of {len(nodes)} nodes Ready, {want} wanted", "nodes")
    kubelet = [str(((n.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion", "")) for n in ready]
    moved = [k for k in kubelet if k.startswith(f"v{target}.")]
    old = sorted({k for k in kubelet if not k.startswith(f"v{target}.")})
    seen = f"{len(moved)} of {len(nodes)} nodes Ready at {target}, {want} wanted"
    return Probe(
        len(moved) >= want and not old, seen + (f"; still at {', '.join(old)}" if old else ""), "nodes"
    )


def run_in_place(
    stack: str,
    cluster: str,
    target: str,
    want_nodes: int,
    plan: PlanResult,
    deps: InPlaceDeps,
    report: DrReport,
    timeouts: PhaseTimeouts,
) -> None:
    """The four phases; raises on the first that fails (the report says which)."""
    deps.workspace.select(stack)

    def up(name: str, types: Sequence[str] | None) -> None:
        urns = targets(plan, types) if types else None
        if types and not urns:
            report.skip(name, f"the stack has no {', '.join(t.split(':')[-1] for t in types)}")
            return
        with report.phase(name) as phase:
            progress = Progress(deps.clock, report.model, deps.echo, verb="changed")
            deps.workspace.up(progress, targets=urns)
            phase.detail = f"{progress.done} resources ({progress.changed} changed)"
            if urns is not None:
                phase.detail += f"; targets: {len(urns)}"

    def wait(name: str, check: Callable[[], Probe], subject: str, condition_: str, timeout: float) -> None:
        with report.phase(name) as phase:
            seconds = wait_until(
                check,
                subject=subject,
                condition=condition_,
                timeout=timeout,
                clock=deps.clock,
                interval=timeouts.poll,
            )
            phase.detail = f"{subject} {condition_} after {seconds:.0f}s"

    up("control plane", CONTROL_PLANE)
    wait(
        "control plane verified",
        lambda: control_plane_probe(deps.aws, cluster, target),
        f"cluster {cluster}",
        f"ACTIVE at {target}",
        timeouts.control_plane,
    )
    up("add-ons", ADDONS)
    api = deps.cluster_api(deps.workspace.outputs())
    if want_nodes:
        wait(
            "add-ons verified",
            lambda: nodes_at_probe(api, want_nodes, None),
            "nodes",
            f"Ready ({want_nodes} wanted)",
            timeouts.addons,
        )
    up("node groups", NODE_GROUPS)
    if want_nodes:
        wait(
            "node groups verified",
            lambda: nodes_at_probe(api, want_nodes, target),
            "nodes",
            f"Ready at {target} ({want_nodes} wanted)",
            timeouts.nodes,
        )
    up("converge", None)
