"""teardown: the order of the steps, load balancers that never go (in the cluster and in AWS, via
moto), finalizers released only when their controller is gone, destroy keeping durable resources."""

from __future__ import annotations

from pathlib import Path

import pytest

from eksgitops.dr.aws import AwsClients
from eksgitops.dr.cluster_api import DEPLOYMENT, GATEWAY, HELM_RELEASE, INGRESS, KUSTOMIZATION, SERVICE
from eksgitops.dr.context import load_stack
from eksgitops.dr.report import DrReport
from eksgitops.dr.teardown import TeardownDeps, TeardownTimeouts, run_teardown
from eksgitops.dr.waits import WaitTimeout
from tests.dr.conftest import REGION, FakeClock, FakeCluster, FakeWorkspace, client, event, healthy_cluster

SHA = "d" * 40
LB_FINALIZER = "service.k8s.aws/resources"


def lb_service(name: str, namespace: str = "apps") -> dict:
    return {
        "metadata": {"name": name, "namespace": namespace, "finalizers": [LB_FINALIZER]},
        "spec": {"type": "LoadBalancer"},
    }


def controller(api: FakeCluster, running: bool = True) -> None:
    api.add(
        DEPLOYMENT,
        {
            "metadata": {"name": "aws-load-balancer-controller", "namespace": "kube-system"},
            "status": {"readyReplicas": 2 if running else 0},
        },
    )


def lb_controller_hook(api: FakeCluster) -> None:
    """The load balancer controller: deletes the AWS side, then drops its finalizer."""
    for key, obj in list(api.objects.items()):
        meta = obj["metadata"]
        if meta.get("deletionTimestamp") and LB_FINALIZER in (meta.get("finalizers") or []):
            del api.objects[key]


def finish_deletions(api: FakeCluster) -> None:
    """Every other controller finishes its deletions at once."""
    for key, obj in list(api.objects.items()):
        if obj["metadata"].get("deletionTimestamp"):
            del api.objects[key]


def setup(project: Path, api: FakeCluster, vpc_id: str | None = None):
    ctx = load_stack(
        "dev",
        stacks_dir=project / "stacks",
        project_dir=project,
        build_dir=project / "build",
        command="teardown",
    )
    workspace = FakeWorkspace(
        api.clock,
        outputs_value={"kubeconfig": "apiVersion: v1", "vpcId": vpc_id},
        destroy_events=[
            event("eks:index:Cluster", "eksgitops-dev", "delete"),
            event("aws:s3/bucket:Bucket", "escrow", "same"),
        ],
    )
    lines: list[str] = []
    deps = TeardownDeps(workspace, lambda outputs: api, AwsClients(REGION), api.clock, lines.append)
    return ctx, deps, DrReport("teardown", "dev", api.clock), workspace


def test_ordered_teardown(aws_env, project):
    api = healthy_cluster(FakeClock(), SHA)
    api.add(HELM_RELEASE, {"metadata": {"name": "podinfo", "namespace": "apps"}, "spec": {}})
    api.add(SERVICE, lb_service("web"))
    api.add(SERVICE, {"metadata": {"name": "internal", "namespace": "apps"}, "spec": {"type": "ClusterIP"}})
    api.add(
        INGRESS,
        {"metadata": {"name": "web", "namespace": "apps", "finalizers": ["ingress.k8s.aws/resources"]}},
    )
    api.add(GATEWAY, {"metadata": {"name": "public", "namespace": "gateway"}})
    controller(api)
    api.hooks.append(lb_controller_hook)
    api.hooks.append(finish_deletions)
    ctx, deps, report, workspace = setup(project, api)
    run_teardown(ctx, deps, report, TeardownTimeouts(load_balancers=120, poll=10))
    assert [p.name for p in report.phases] == [
        "suspend agent",
        "delete load balancers",
        "delete volumes",
        "load balancers gone",
        "finalizers",
        "leftover security groups",
        "deletion protection",
        "destroy",
    ]
    writes = [c for c in api.calls if c[0] in ("patch", "delete")]
    first_delete = next(i for i, c in enumerate(writes) if c[0] == "delete")
    suspended = writes[:first_delete]
    # The agent is suspended before anything is deleted.
    assert [c[1] for c in suspended] == ["FluxInstance", "Kustomization", "Kustomization", "HelmRelease"]
    assert '"fluxcd.controlplane.io/reconcile": "disabled"' in suspended[0][2]
    assert all('"suspend": true' in c[2] for c in suspended[1:])
    assert [c[1:] for c in writes[first_delete:]] == [
        ("Service", "web"),
        ("Ingress", "web"),
        ("Gateway", "public"),
    ]
    assert ("apps", "internal") in [(k[1], k[2]) for k in api.objects if k[0] == "services"]  # ClusterIP kept
    assert workspace.calls[-1] == ("destroy", {"keep_protected": True})
    assert "protected (durable) resources kept" in report.phases[-1].detail


def test_a_load_balancer_that_never_goes_away_times_out_naming_it(aws_env, project):

    api = healthy_cluster(FakeClock(), SHA)
    api.add(SERVICE, lb_service("web"))
    controller(api, running=True)  # running, but never finishes: its finalizer stays
    ctx, deps, report, workspace = setup(project, api)
    with pytest.raises(WaitTimeout) as caught:
        run_teardown(ctx, deps, report, TeardownTimeouts(load_balancers=300, poll=30))
    assert str(caught.value).startswith("timed out after 300s waiting for Service apps/web to be deleted")
    assert LB_FINALIZER in str(caught.value)
    assert report.stopped_at == "load balancers gone"
    assert not any(
        verb == "destroy" for verb, _ in workspace.calls
    )  # never destroys with a load balancer left


def test_a_load_balancer_left_in_aws_blocks_the_destroy(aws_env, project):

    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.10.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.10.{i}.0/24", AvailabilityZone=f"{REGION}{z}")["Subnet"][
            "SubnetId"
        ]
        for i, z in enumerate("ab")
    ]
    elb = client("elbv2")
    lb = elb.create_load_balancer(
        Name="k8s-apps-web-0123456789",
        Subnets=subnets,
        Tags=[{"Key": "elbv2.k8s.aws/cluster", "Value": "eksgitops-dev"}],
    )["LoadBalancers"][0]
    elb.create_load_balancer(
        Name="someone-elses", Subnets=subnets, Tags=[{"Key": "elbv2.k8s.aws/cluster", "Value": "other"}]
    )
    api = healthy_cluster(FakeClock(), SHA)
    ctx, deps, report, _workspace = setup(project, api, vpc_id=vpc)
    with pytest.raises(WaitTimeout) as caught:
        run_teardown(ctx, deps, report, TeardownTimeouts(load_balancers=60, poll=20))
    assert (
        caught.value.subject
        == "load balancer k8s-apps-web-0123456789/" + lb["LoadBalancerArn"].rsplit("/", 1)[-1]
    )
    assert "someone-elses" not in str(caught.value)
    # Once it is gone, the teardown goes through.
    elb.delete_load_balancer(LoadBalancerArn=lb["LoadBalancerArn"])
    report2 = DrReport("teardown", "dev", api.clock)
    run_teardown(ctx, deps, report2, TeardownTimeouts(load_balancers=60, poll=20))
    assert report2.phases[-1].name == "destroy" and report2.phases[-1].status == "ok"


def test_finalizers_are_released_only_when_their_controller_is_gone(aws_env, project):

    api = healthy_cluster(FakeClock(), SHA)
    # Stuck in deletion: a Kustomization whose kustomize-controller is gone, and one
    # HelmRelease whose helm-controller still runs, and an object of an unknown controller.
    api.add(
        KUSTOMIZATION,
        {
            "metadata": {
                "name": "old",
                "namespace": "flux-system",
                "finalizers": ["finalizers.fluxcd.io"],
                "deletionTimestamp": "2026-01-01T00:00:00Z",
            }
        },
    )
    api.add(
        HELM_RELEASE,
        {
            "metadata": {
                "name": "db",
                "namespace": "apps",
                "finalizers": ["finalizers.fluxcd.io"],
                "deletionTimestamp": "2026-01-01T00:00:00Z",
            }
        },
    )
    api.add(
        SERVICE,
        {
            "metadata": {
                "name": "x",
                "namespace": "apps",
                "finalizers": ["example.com/custom"],
                "deletionTimestamp": "2026-01-01T00:00:00Z",
            },
            "spec": {"type": "ClusterIP"},
        },
    )
    api.add(
        DEPLOYMENT,
        {"metadata": {"name": "helm-controller", "namespace": "flux-system"}, "status": {"readyReplicas": 1}},
    )
    ctx, deps, report, _workspace = setup(project, api)
    run_teardown(ctx, deps, report, TeardownTimeouts(load_balancers=60, poll=20))
    assert ("kustomizations", "flux-system", "old") not in api.objects  # released: its controller is gone
    assert api.objects[("helmreleases", "apps", "db")]["metadata"]["finalizers"] == ["finalizers.fluxcd.io"]
    assert api.objects[("services", "apps", "x")]["metadata"]["finalizers"] == ["example.com/custom"]
    detail = next(p.detail for p in report.phases if p.name == "finalizers")
    assert (
        "released Kustomization flux-system/old: finalizers.fluxcd.io (flux-system/kustomize-controller gone)"
        in detail
    )
    assert "left HelmRelease apps/db: finalizers.fluxcd.io (flux-system/helm-controller runs)" in detail
    assert "example.com/custom (unknown controller, left)" in detail


def test_cluster_gone_skips_the_cluster_steps(aws_env, project):

    api = FakeCluster(FakeClock())
    ctx, deps, report, _workspace = setup(project, api)
    run_teardown(ctx, deps, report, TeardownTimeouts(), cluster_gone=True)
    assert [(p.name, p.status) for p in report.phases] == [
        ("suspend agent", "skipped"),
        ("delete load balancers", "skipped"),
        ("delete volumes", "skipped"),
        ("load balancers gone", "skipped"),
        ("finalizers", "skipped"),
        ("leftover security groups", "ok"),
        ("deletion protection", "ok"),
        ("destroy", "ok"),
    ]
    assert api.calls == []


def test_argo_cd_applications_lose_automated_sync(aws_env, project):
    from eksgitops.dr.cluster_api import APPLICATION

    text = (project / "stacks" / "Pulumi.dev.yaml").read_text()
    # SOPS decryption is a Flux feature; an Argo CD stack has none.
    argocd = text.replace("agent: flux", "agent: argocd").replace("    sops:\n      enabled: true\n", "")
    (project / "stacks" / "Pulumi.dev.yaml").write_text(argocd)
    api = FakeCluster(FakeClock())
    api.add(
        APPLICATION,
        {
            "metadata": {"name": "root", "namespace": "argocd"},
            "spec": {"syncPolicy": {"automated": {"prune": True, "selfHeal": True}, "syncOptions": ["x"]}},
        },
    )
    ctx, deps, report, _ = setup(project, api)
    run_teardown(ctx, deps, report, TeardownTimeouts(load_balancers=60, poll=20))
    assert api.objects[("applications", "argocd", "root")]["spec"]["syncPolicy"] == {"syncOptions": ["x"]}
