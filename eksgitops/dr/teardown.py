"""`eksgitops dr teardown STACK`: an ordered destroy that avoids the known failures.

1. suspend the agent, so it does not recreate what the next steps delete (Flux: the
   FluxInstance, Kustomizations, HelmReleases; Argo CD: automated sync of every Application
   and of every ApplicationSet's template, or the ApplicationSet controller puts it back);
2. delete LoadBalancer Services, Ingresses and Gateways while their controller still runs,
   so the load balancers are deleted by it (left behind, they hold ENIs and security groups
   in the VPC and the VPC's deletion fails);
3. delete the PersistentVolumeClaims (with --snapshot-volumes, snapshot their EBS volumes
   first) so the CSI driver deletes the volumes, which Pulumi does not know;
4. wait until those objects are gone and no load balancer (v2 or Classic), ELB network
   interface or volume of the cluster is left in AWS;
5. on objects stuck in deletion, remove the finalizers of controllers that are gone (never
   while the controller runs: it would leak what it was cleaning up);
6. delete the security groups the load balancer controllers left (teardown_aws) and lift
   EKS deletion protection;
7. `pulumi destroy`, keeping the protected (durable) resources.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eksgitops.dr.aws import AwsClients
from eksgitops.dr.cluster_api import (
    APPLICATION,
    APPLICATION_SET,
    DEPLOYMENT,
    FLUX_INSTANCE,
    GATEWAY,
    GIT_REPOSITORY,
    HELM_RELEASE,
    INGRESS,
    KUSTOMIZATION,
    PV,
    PVC,
    SERVICE,
    ClusterApi,
    Kind,
    KindNotServed,
    ident,
)
from eksgitops.dr.context import DrFailure, StackContext
from eksgitops.dr.pulumi_workspace import PulumiWorkspace, StackNotFound
from eksgitops.dr.rebuild import Progress
from eksgitops.dr.report import DrReport
from eksgitops.dr.sync_status import FLUX_INSTANCE_NAME, FLUX_NAMESPACE, is_argo
from eksgitops.dr.teardown_aws import (
    aws_load_balancers,
    delete_security_groups,
    leftover_security_groups,
    lift_deletion_protection,
    snapshot_volumes,
    volumes_left,
)
from eksgitops.dr.waits import Clock, Probe, wait_until

Echo = Callable[[str], None]

# Which controller (namespace, deployment) owns a finalizer: it is removed by hand only
# when that controller is gone.
FINALIZER_OWNERS: dict[str, tuple[str, str]] = {
    "finalizers.fluxcd.io": ("flux-system", "kustomize-controller"),
    "resources-finalizer.argocd.argoproj.io": ("argocd", "argocd-application-controller"),
    "service.k8s.aws/resources": ("kube-system", "aws-load-balancer-controller"),
    "ingress.k8s.aws/resources": ("kube-system", "aws-load-balancer-controller"),
    "gateway.k8s.aws/resources": ("kube-system", "aws-load-balancer-controller"),
    "elbv2.k8s.aws/resources": ("kube-system", "aws-load-balancer-controller"),
}
# Flux's finalizer is shared by its controllers; the owner by kind.
FLUX_OWNER_BY_KIND = {
    "Kustomization": "kustomize-controller",
    "GitRepository": "source-controller",
    "HelmRelease": "helm-controller",
}
FINALIZER_KINDS = (
    KUSTOMIZATION,
    GIT_REPOSITORY,
    HELM_RELEASE,
    APPLICATION,
    SERVICE,
    INGRESS,
    GATEWAY,
    PVC,
)


@dataclass
class TeardownTimeouts:
    load_balancers: float = 15 * 60
    poll: float = 10.0
    snapshot_volumes: bool = False
    """--snapshot-volumes: snapshot each claim's EBS volume before the claim is deleted."""


@dataclass
class TeardownDeps:
    workspace: PulumiWorkspace
    cluster_api: Callable[[dict[str, Any]], ClusterApi]
    aws: AwsClients
    clock: Clock
    echo: Echo


def _each(api: ClusterApi, kind: Kind) -> list[dict[str, Any]]:
    try:
        return api.list(kind)
    except KindNotServed:
        return []


def suspend_agent(api: ClusterApi, agent: str) -> list[str]:
    """Stop reconciliation; return what was suspended."""
    done: list[str] = []
    if is_argo(agent):
        # ApplicationSets first: their controller rewrites the Applications from the template.
        for appset in _each(api, APPLICATION_SET):
            name, ns = ident(appset)
            api.patch(
                APPLICATION_SET,
                name,
                ns,
                {"spec": {"template": {"spec": {"syncPolicy": {"automated": None}}}}},
            )
            done.append(APPLICATION_SET.describe(name, ns))
        for app in _each(api, APPLICATION):
            name, ns = ident(app)
            api.patch(APPLICATION, name, ns, {"spec": {"syncPolicy": {"automated": None}}})
            done.append(APPLICATION.describe(name, ns))
        return done
    try:
        if api.get(FLUX_INSTANCE, FLUX_INSTANCE_NAME, FLUX_NAMESPACE) is not None:
            api.patch(
                FLUX_INSTANCE,
                FLUX_INSTANCE_NAME,
                FLUX_NAMESPACE,
                {"metadata": {"annotations": {"fluxcd.controlplane.io/reconcile": "disabled"}}},
            )
            done.append(FLUX_INSTANCE.describe(FLUX_INSTANCE_NAME, FLUX_NAMESPACE))
    except KindNotServed:
        pass
    for kind in (KUSTOMIZATION, HELM_RELEASE):
        for obj in _each(api, kind):
            name, ns = ident(obj)
            api.patch(kind, name, ns, {"spec": {"suspend": True}})
            done.append(kind.describe(name, ns))
    return done


def load_balancer_objects(api: ClusterApi) -> list[tuple[Kind, dict[str, Any]]]:
    """Services of type LoadBalancer, Ingresses and Gateways: what makes AWS load balancers."""
    found: list[tuple[Kind, dict[str, Any]]] = [
        (SERVICE, s) for s in _each(api, SERVICE) if s.get("spec", {}).get("type") == "LoadBalancer"
    ]
    found += [(INGRESS, i) for i in _each(api, INGRESS)]
    found += [(GATEWAY, g) for g in _each(api, GATEWAY)]
    return found


def claims_and_volumes(api: ClusterApi) -> tuple[list[dict[str, Any]], list[str]]:
    """The PersistentVolumeClaims, and the EBS volume ids of the PersistentVolumes bound to them."""
    claims = _each(api, PVC)
    bound = {c.get("spec", {}).get("volumeName") for c in claims}
    volumes = [
        pv["spec"]["csi"]["volumeHandle"]
        for pv in _each(api, PV)
        if pv.get("metadata", {}).get("name") in bound
        and str((pv.get("spec", {}).get("csi") or {}).get("volumeHandle", "")).startswith("vol-")
    ]
    return claims, sorted(volumes)


def _controller_running(api: ClusterApi, namespace: str, name: str) -> bool:
    deployment = api.get(DEPLOYMENT, name, namespace)
    return bool(deployment and (deployment.get("status", {}).get("readyReplicas") or 0) > 0)


def release_orphaned_finalizers(api: ClusterApi) -> tuple[list[str], list[str]]:
    """On objects being deleted: drop finalizers whose controller is gone; keep the others.

    Returns (released, left for a running controller).
    """
    released: list[str] = []
    waiting: list[str] = []
    for kind in FINALIZER_KINDS:
        for obj in _each(api, kind):
            meta = obj.get("metadata", {})
            finalizers = list(meta.get("finalizers") or [])
            if not meta.get("deletionTimestamp") or not finalizers:
                continue
            name, ns = ident(obj)
            keep: list[str] = []
            for finalizer in finalizers:
                owner = FINALIZER_OWNERS.get(finalizer)
                if owner is None:
                    keep.append(finalizer)  # unknown owner: not ours to judge
                    waiting.append(f"{kind.describe(name, ns)}: {finalizer} (unknown controller, left)")
                    continue
                owner_ns, owner_name = owner
                if finalizer == "finalizers.fluxcd.io":
                    owner_name = FLUX_OWNER_BY_KIND.get(kind.kind, owner_name)
                if _controller_running(api, owner_ns, owner_name):
                    keep.append(finalizer)
                    waiting.append(f"{kind.describe(name, ns)}: {finalizer} ({owner_ns}/{owner_name} runs)")
                else:
                    released.append(f"{kind.describe(name, ns)}: {finalizer} ({owner_ns}/{owner_name} gone)")
            if keep != finalizers:
                api.patch(kind, name, ns, {"metadata": {"finalizers": keep}})
    return released, waiting


def run_teardown(
    ctx: StackContext,
    deps: TeardownDeps,
    report: DrReport,
    timeouts: TeardownTimeouts,
    *,
    cluster_gone: bool = False,
    selected: bool = False,
) -> None:
    """The seven steps; raises on the first that fails (the report says which)."""
    spec = ctx.spec
    if not selected:
        try:
            # Select only: a teardown that created the stack it was asked to destroy would
            # leave an empty stack behind and report success on a name typed wrong.
            deps.workspace.select(ctx.stack, create=False)
        except StackNotFound:
            raise DrFailure(
                f"stack {ctx.stack} does not exist in the state backend; nothing to tear down"
            ) from None
    outputs = deps.workspace.outputs()
    if cluster_gone or not outputs.get("kubeconfig"):
        why = "--cluster-gone" if cluster_gone else "the stack has no cluster (no kubeconfig output)"
        for name in ("suspend agent", "delete load balancers", "delete volumes", "load balancers gone"):
            report.skip(name, why)
        report.skip("finalizers", why)
    else:
        _in_cluster(ctx, deps.cluster_api(outputs), outputs, deps, report, timeouts)
    with report.phase("leftover security groups") as phase:
        groups = leftover_security_groups(deps.aws, spec.cluster_name)
        deleted, failed = delete_security_groups(deps.aws, groups)
        phase.detail = "; ".join([f"deleted {d}" for d in deleted] + failed) or "none left"
        if failed:
            raise DrFailure("security groups left by the load balancer controllers: " + "; ".join(failed))
    with report.phase("deletion protection") as phase:
        phase.detail = lift_deletion_protection(deps.aws, spec.cluster_name)
        deps.echo(phase.detail)
    with report.phase("destroy") as phase:
        progress = Progress(deps.clock, report.model, deps.echo, verb="deleted")
        deps.workspace.destroy(progress, keep_protected=True)
        phase.detail = f"{progress.changed} resources deleted; protected (durable) resources kept"


def _in_cluster(
    ctx: StackContext,
    api: ClusterApi,
    outputs: dict[str, Any],
    deps: TeardownDeps,
    report: DrReport,
    timeouts: TeardownTimeouts,
) -> None:
    spec = ctx.spec
    with report.phase("suspend agent") as phase:
        suspended = suspend_agent(api, spec.gitops.agent)
        phase.detail = (
            f"suspended {len(suspended)}: {', '.join(suspended)}" if suspended else "nothing to suspend"
        )
        deps.echo(f"suspend agent: {phase.detail}")
    with report.phase("delete load balancers") as phase:
        objects = load_balancer_objects(api)
        for kind, obj in objects:
            name, ns = ident(obj)
            api.delete(kind, name, ns)
        phase.detail = ", ".join(kind.describe(*ident(o)) for kind, o in objects) or "none"
        deps.echo(f"deleted: {phase.detail}")
    with report.phase("delete volumes") as phase:
        claims, volume_ids = claims_and_volumes(api)
        snapshots = (
            snapshot_volumes(deps.aws, volume_ids, spec.cluster_name) if timeouts.snapshot_volumes else []
        )
        for claim in claims:
            name, ns = ident(claim)
            api.delete(PVC, name, ns)
        phase.detail = f"{len(claims)} claims deleted, volumes {', '.join(volume_ids) or 'none'}" + (
            f"; snapshots {', '.join(snapshots)}" if snapshots else ""
        )
        deps.echo(f"delete volumes: {phase.detail}")
    with report.phase("load balancers gone") as phase:

        def probe() -> Probe:
            left = load_balancer_objects(api)
            if left:
                kind, obj = left[0]
                finalizers = obj.get("metadata", {}).get("finalizers") or []
                return Probe(
                    False,
                    f"{len(left)} object(s) still there; finalizers {finalizers}",
                    kind.describe(*ident(obj)),
                )
            claims_left = _each(api, PVC)
            if claims_left:
                return Probe(
                    False, f"{len(claims_left)} claim(s) still there", PVC.describe(*ident(claims_left[0]))
                )
            in_aws = aws_load_balancers(deps.aws, spec.cluster_name, outputs.get("vpcId"))
            in_aws += [f"volume {v}" for v in volumes_left(deps.aws, volume_ids)]
            if in_aws:
                return Probe(False, f"{len(in_aws)} left in AWS: {', '.join(in_aws[:3])}", in_aws[0])
            return Probe(True, "no load balancer or volume left")

        seconds = wait_until(
            probe,
            subject="the cluster's load balancers and volumes",
            condition="deleted",
            timeout=timeouts.load_balancers,
            clock=deps.clock,
            interval=timeouts.poll,
        )
        phase.detail = f"gone after {seconds:.0f}s"
    with report.phase("finalizers") as phase:
        released, waiting = release_orphaned_finalizers(api)
        phase.detail = (
            "; ".join([f"released {r}" for r in released] + [f"left {w}" for w in waiting])
            or "no object stuck in deletion"
        )
