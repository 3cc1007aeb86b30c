"""`upgrade check`: is a stack ready to move to the next Kubernetes minor? Offline, read-only.

Each area ends in findings: a blocker stops the upgrade (exit 1), a warning is to read, an
info line says what will happen. Nothing here writes to the stack file, Git or the cloud.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eksgitops.components.spec.data import default_addon_version, known_addon_versions
from eksgitops.dr.context import StackContext
from eksgitops.fleet.credentials import Credentials
from eksgitops.upgrade import apis, versions
from eksgitops.upgrade.fleet_objects import FleetObjects, FleetUnreadable, stack_objects
from eksgitops.upgrade.pins import pin_moves
from eksgitops.upgrade.target_plan import TargetPlan, plan_at

BLOCKER, WARNING, INFO = "blocker", "warning", "info"
CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
# EKS's documented order: the control plane first; kube-proxy must never be newer than it
# (managing-kube-proxy.html), coredns and the CNI follow it; nodes last, never newer than it.
ADDON_ORDER = (
    "all add-ons move after the control plane (kube-proxy must never be newer than it), then the node groups"
)


@dataclass(frozen=True)
class Finding:
    severity: str
    area: str
    text: str

    def line(self) -> str:
        return f"{self.severity.upper()} {self.area}: {self.text}"


@dataclass
class UpgradeCheck:
    stack: str
    current: str
    target: str
    findings: list[Finding] = field(default_factory=list)
    fleet_sha: str | None = None

    def add(self, severity: str, area: str, text: str) -> None:
        self.findings.append(Finding(severity, area, text))

    @property
    def blockers(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == BLOCKER]

    @property
    def ready(self) -> bool:
        return not self.blockers


def version_path(check: UpgradeCheck) -> None:
    steps = versions.path(check.current, check.target)
    offered = versions.offered()
    shown = " -> ".join(steps)
    if len(steps) > 2:
        check.add(
            BLOCKER,
            "version",
            f"{shown}: EKS upgrades the control plane one minor at a time; "
            f"upgrade to {steps[1]} first, then run upgrade check again",
        )
    else:
        check.add(INFO, "version", f"{shown}: the next minor")
    for step in steps[1:]:
        if step not in offered:
            check.add(
                BLOCKER,
                "version",
                f"{step} is not offered by EKS in components/data/kubernetes_versions.json "
                f"(checked {versions.checked_on()}; offered: {', '.join(offered)}); "
                "add it there with its dates once AWS publishes them",
            )
    days = versions.standard_support_days(check.current)
    if days is not None:
        check.add(INFO, "version", f"{check.current}: {_days(days)} of standard support")


def _days(days: int) -> str:
    return f"{days} days left" if days >= 0 else f"ended {-days} days ago: in paid extended support"


def addons(check: UpgradeCheck, ctx: StackContext) -> None:
    moves = {m.addon: m for m in pin_moves(ctx.raw, check.target)}
    for name in sorted(ctx.spec.enabled_addons()):
        pin = ctx.spec.addons[name].version if name in ctx.spec.addons else None
        known = known_addon_versions(name, check.target)
        if pin is not None:
            # A pin the target does not offer moves with the version (pins.py): the target stack
            # below is judged with it moved, and `apply` writes both in one edit.
            if name in moves:
                check.add(INFO, "add-ons", moves[name].line(check.target))
            elif known is None:
                check.add(
                    WARNING,
                    "add-ons",
                    f"{name} {pin} is pinned, and components/data/addon_versions.json has no {check.target} "
                    "entry to check it against; check `aws eks describe-addon-versions`",
                )
            elif pin in known:
                check.add(INFO, "add-ons", f"{name}: pinned {pin}, known for {check.target}")
            continue
        default = default_addon_version(name, check.target)
        if default is None:
            check.add(
                WARNING,
                "add-ons",
                f"{name}: components/data/addon_versions.json has no version for {check.target}; "
                "EKS would install its own default",
            )
        else:
            check.add(INFO, "add-ons", f"{name}: {default} for {check.target}")
    check.add(INFO, "add-ons", ADDON_ORDER)


def target_stack(check: UpgradeCheck, plan: TargetPlan) -> None:
    """The spec and the guardrails at the target version, and what the planned nodes would run."""
    version_said = any(f.area == "version" and f.severity == BLOCKER for f in check.findings)
    for line in plan.spec_errors:
        if version_said and "eksgitops:kubernetesVersion:" in line:
            continue  # the version blocker above says it, with what to do
        check.add(BLOCKER, "stack", line)
    if plan.result is None:
        check.add(
            WARNING,
            "guardrails",
            f"not judged, nor the node groups: the stack does not validate at {check.target} "
            "(see the blockers)",
        )
        return
    for line in plan.violations():
        check.add(BLOCKER, "guardrails", line)
    if plan.policy is not None and not plan.policy.failed:
        check.add(INFO, "guardrails", f"no mandatory violation at {check.target}")
    for res in plan.result.resources:
        inputs = res.plain_inputs()
        if res.type == CLUSTER and inputs.get("version") != check.target:
            check.add(BLOCKER, "stack", f"cluster {res.name} would run {inputs.get('version')}")
        if res.type == NODE_GROUP:
            _node_group(check, res.name, inputs)
        if res.type == LAUNCH_TEMPLATE and inputs.get("imageId"):
            check.add(
                BLOCKER,
                "node groups",
                f"launch template {res.name} pins imageId {inputs['imageId']}: its nodes would keep "
                "the old AMI; let amiType choose the image",
            )


def _node_group(check: UpgradeCheck, name: str, inputs: dict[str, Any]) -> None:
    ami = str(inputs.get("amiType") or "")
    if versions.ami_refused(ami, check.target):
        check.add(
            BLOCKER,
            "node groups",
            f"{name}: amiType {ami} has no AMI for {check.target}; use {versions.AMI_INSTEAD}",
        )
    if inputs.get("releaseVersion"):
        check.add(
            BLOCKER,
            "node groups",
            f"{name}: releaseVersion {inputs['releaseVersion']} is an AMI release of the old minor; unpin it",
        )
    if inputs.get("version") not in (None, check.target):
        check.add(BLOCKER, "node groups", f"{name} would stay at {inputs.get('version')}")
    elif ami:
        check.add(INFO, "node groups", f"{name}: {ami} at {check.target}")


def fleet(check: UpgradeCheck, built: FleetObjects) -> None:
    check.fleet_sha = built.sha
    for finding in built.report.errors:
        check.add(BLOCKER, "fleet", f"fleet verify: {finding}")
    found = 0
    for item in built.objects:
        for f in apis.check_object(item.obj, item.file, check.current, check.target):
            found += 1
            check.add(f.severity, "fleet", f.line())
    check.add(
        INFO,
        "fleet",
        f"{len(built.objects)} objects at {built.sha[:12]} checked against "
        + apis.SOURCE.format(minor=check.target)
        + (f"; {found} finding(s)" if found else "; every API is served"),
    )


def run_check(
    ctx: StackContext,
    target: str,
    *,
    repo: str | None,
    revision: str | None,
    creds: Credentials,
    read_fleet: Callable[..., FleetObjects] = stack_objects,
) -> UpgradeCheck:
    check = UpgradeCheck(ctx.stack, ctx.spec.kubernetes_version, target)
    version_path(check)
    addons(check, ctx)
    plan = plan_at(ctx.raw, ctx.stack, str(ctx.stack_file), target, ctx.project_dir)
    target_stack(check, plan)
    if target not in apis.shipped_minors():
        check.add(
            BLOCKER,
            "fleet",
            f"no schemas for Kubernetes {target} in kubernetes-validate "
            f"(it ships {', '.join(apis.shipped_minors())}); upgrade the pinned package",
        )
        return check
    # The bridge does not depend on the version: when the target does not validate, the
    # current stack's plan says which variables and identities the layout may use.
    bridge = (
        plan.bridge()
        or plan_at(ctx.raw, ctx.stack, str(ctx.stack_file), check.current, ctx.project_dir).bridge()
    )
    if bridge is None:
        check.add(BLOCKER, "fleet", "the stack's plan did not run; fix the stack lines above")
        return check
    url = repo or str(bridge.get("repoUrl") or "")
    if not url:
        check.add(BLOCKER, "fleet", "the stack sets no gitops.repoUrl; give --repo")
        return check
    try:
        built = read_fleet(url, revision or str(bridge.get("branch") or "main"), bridge, creds)
    except FleetUnreadable as exc:
        check.add(BLOCKER, "fleet", f"cannot build the layout: {exc}")
        return check
    fleet(check, built)
    return check
