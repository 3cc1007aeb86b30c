"""`eksgitops dr teardown STACK`: an ordered destroy that avoids the known failures.

1. suspend the agent, so it does not recreate what the next steps delete;
2. delete LoadBalancer Services, Ingresses and Gateways while their controller still runs,
   so the load balancers are deleted by it (left behind, they hold ENIs and security groups
   in the VPC and the VPC's deletion fails);
3. wait until those objects are gone and no load balancer or ELB network interface of the
   cluster is left in AWS;
4. on objects stuck in deletion, remove the finalizers of controllers that are gone (never
   while the controller runs: it would leak what it was cleaning up);
5. `pulumi destroy`, keeping the protected (durable) resources.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eksgitops.dr.aws import AwsClients
from eksgitops.dr.cluster_api import (
    APPLICATION,
    DEPLOYMENT,
    FLUX_INSTANCE,
    GATEWAY,
    GIT_REPOSITORY,
    HELM_RELEASE,
    INGRESS,
    KUSTOMIZATION,
    SERVICE,
    ClusterApi,
    Kind,
    KindNotServed,
    ident,
)
from eksgitops.dr.context import StackContext
from eksgitops.dr.pulumi_workspace import PulumiWorkspace
from eksgitops.dr.rebuild import Progress
from eksgitops.dr.report import DrReport
from eksgitops.dr.sync_status import FLUX_INSTANCE_NAME, FLUX_NAMESPACE
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
FINALIZER_KINDS = (KUSTOMIZATION, GIT_REPOSITORY, HELM_RELEASE, APPLICATION, SERVICE, INGRESS, GATEWAY)
LB_CLUSTER_TAG = "elbv2.k8s.aws/cluster"


@dataclass
class TeardownTimeouts:
    load_balancers: float = 15 * 60
    poll: float = 10.0


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
    if agent == "argocd":
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


def aws_load_balancers(aws: AwsClients, cluster_name: str, vpc_id: str | None) -> list[str]:
    """Load balancers the cluster's controllers made, and ELB network interfaces left in the VPC."""
    left: list[str] = []
    elb = aws.client("elbv2")
    arns = [
        lb["LoadBalancerArn"]
        for page in elb.get_paginator("describe_load_balancers").paginate()
        for lb in page["LoadBalancers"]
    ]
    for start in range(0, len(arns), 20):  # DescribeTags takes at most 20 ARNs
        for desc in elb.describe_tags(ResourceArns=arns[start : start + 20])["TagDescriptions"]:
            tags = {t["Key"]: t.get("Value") for t in desc.get("Tags", [])}
            if (
                tags.get(LB_CLUSTER_TAG) == cluster_name
                or tags.get(f"kubernetes.io/cluster/{cluster_name}") == "owned"
            ):
                # ...:loadbalancer/app/<name>/<id> -> <name>/<id>
                left.append(
                    f"load balancer {desc['ResourceArn'].split(':loadbalancer/', 1)[-1].split('/', 1)[-1]}"
                )
    if vpc_id:
        enis = aws.client("ec2").describe_network_interfaces(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "description", "Values": ["ELB *"]}]
        )["NetworkInterfaces"]
        left += [f"network interface {e['NetworkInterfaceId']} ({e.get('Description', '')})" for e in enis]
    return left


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
    """The five steps; raises on the first that fails (the report says which)."""
    spec = ctx.spec
    if not selected:
        deps.workspace.select(ctx.stack)
    outputs = deps.workspace.outputs()
    if cluster_gone or not outputs.get("kubeconfig"):
        why = "--cluster-gone" if cluster_gone else "the stack has no cluster (no kubeconfig output)"
        for name in ("suspend agent", "delete load balancers", "load balancers gone", "finalizers"):
            report.skip(name, why)
    else:
        api = deps.cluster_api(outputs)
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
                in_aws = aws_load_balancers(deps.aws, spec.cluster_name, outputs.get("vpcId"))
                if in_aws:
                    return Probe(False, f"{len(in_aws)} left in AWS: {', '.join(in_aws[:3])}", in_aws[0])
                return Probe(True, "no load balancer left")

            seconds = wait_until(
                probe,
                subject="the cluster's load balancers",
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
    with report.phase("destroy") as phase:
        progress = Progress(deps.clock, report.model, deps.echo, verb="deleted")
        deps.workspace.destroy(progress, keep_protected=True)
        phase.detail = f"{progress.changed} resources deleted; protected (durable) resources kept"
