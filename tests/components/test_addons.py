"""ClusterAddons: the managed add-ons in their two phases, pins, conflicts and EBS CSI's identity."""

from __future__ import annotations

import pulumi_aws as aws
import pytest

from components.addons import EBS_CSI_POLICY_ARN, AddonPhase, ClusterAddons, ClusterAddonsArgs
from components.spec.addons import AddonSpec
from components.spec.data import addon_versions, default_addon_version, supported_kubernetes_versions
from eksgitops.plan.engine import PlanResult, run_program

ADDON = "aws:eks/addon:Addon"
ALL = ("vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "aws-ebs-csi-driver")


def plan(
    phase: AddonPhase, addons: dict[str, AddonSpec] | None = None, kubernetes_version: str | None = None
) -> PlanResult:
    chosen = addons if addons is not None else {name: AddonSpec() for name in ALL}

    def program():
        first = aws.iam.Role("must-exist-first", assume_role_policy="{}")
        ClusterAddons(
            "addons",
            ClusterAddonsArgs(
                cluster_name="dev",
                phase=phase,
                addons=chosen,
                kubernetes_version=kubernetes_version,
                depends_on=[first],
                tags={"t": "1"},
            ),
        )

    return run_program(program)


def names(result: PlanResult) -> list[str]:
    return sorted(r.inputs["addonName"] for r in result.by_type(ADDON))


def test_before_compute_is_what_nodes_need_to_become_ready():
    assert names(plan("before-compute")) == ["eks-pod-identity-agent", "kube-proxy", "vpc-cni"]


def test_after_compute_is_what_needs_nodes_to_run_on():
    assert names(plan("after-compute")) == ["aws-ebs-csi-driver", "coredns"]


def test_only_enabled_addons_are_created():
    result = plan("before-compute", {"vpc-cni": AddonSpec(), "kube-proxy": AddonSpec(enabled=False)})
    assert names(result) == ["vpc-cni"]


@pytest.mark.parametrize("phase", ["before-compute", "after-compute"])
def test_versions_pinned_when_given_absent_otherwise_and_conflicts_overwritten(phase):
    pins = {name: AddonSpec.model_construct(version=f"v1.0.0-{name}") for name in ("vpc-cni", "coredns")}
    result = plan(phase, {name: pins.get(name, AddonSpec()) for name in ALL})
    for addon in result.by_type(ADDON):
        name = addon.inputs["addonName"]
        assert addon.inputs["clusterName"] == "dev"
        assert addon.inputs["resolveConflictsOnCreate"] == "OVERWRITE"
        assert addon.inputs["resolveConflictsOnUpdate"] == "OVERWRITE"
        assert addon.inputs["tags"] == {"t": "1"}
        if name in pins:
            assert addon.inputs["addonVersion"] == f"v1.0.0-{name}"
        else:
            assert "addonVersion" not in addon.inputs


def test_ebs_csi_driver_gets_its_own_pod_identity_role_through_the_addon():
    result = plan("after-compute")
    ebs = result.one(ADDON, "addons-aws-ebs-csi-driver")
    assert ebs.inputs["podIdentityAssociations"] == [
        {"roleArn": "arn:aws:iam::000000000000:role/dev-ebs-csi", "serviceAccount": "ebs-csi-controller-sa"}
    ]
    role = result.one("aws:iam/role:Role", "addons-ebs-csi")
    assert role.inputs["name"] == "dev-ebs-csi"
    assert "pods.eks.amazonaws.com" in role.inputs["assumeRolePolicy"]
    (attachment,) = result.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment.inputs["policyArn"] == EBS_CSI_POLICY_ARN
    # The add-on owns the association; a second one from the role would fight it.
    assert not result.by_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
    coredns = result.one(ADDON, "addons-coredns")
    assert "podIdentityAssociations" not in coredns.inputs


@pytest.mark.parametrize("phase", ["before-compute", "after-compute"])
def test_addons_wait_for_what_they_are_told_to(phase):
    result = plan(phase)
    first = result.one("aws:iam/role:Role", "must-exist-first")
    assert all(first.urn in addon.dependencies for addon in result.by_type(ADDON))


def test_children_are_parented_to_the_component():
    result = plan("after-compute")
    component = result.one("eksgitops:cluster:ClusterAddons", "addons")
    assert all(addon.parent == component.urn for addon in result.by_type(ADDON))
    assert result.one("eksgitops:identity:PodIdentityRole", "addons-ebs-csi").parent == component.urn


def versions(result: PlanResult) -> dict[str, str | None]:
    return {r.inputs["addonName"]: r.inputs.get("addonVersion") for r in result.by_type(ADDON)}


@pytest.mark.parametrize("kubernetes_version", ["1.34", "1.35", "1.36"])
def test_unpinned_addons_follow_the_kubernetes_version(kubernetes_version):
    # Unset, EKS picks a version at creation and never moves it, not even when the cluster is
    # upgraded; the data file gives one per Kubernetes version.
    result = {
        **versions(plan("before-compute", kubernetes_version=kubernetes_version)),
        **versions(plan("after-compute", kubernetes_version=kubernetes_version)),
    }
    assert result == {name: default_addon_version(name, kubernetes_version) for name in ALL}
    assert all(result.values())


def test_raising_the_kubernetes_version_moves_the_addons():
    before = versions(plan("before-compute", kubernetes_version="1.35"))
    after = versions(plan("before-compute", kubernetes_version="1.36"))
    assert before["kube-proxy"] == "v1.35.0-eksbuild.2"
    assert after["kube-proxy"] == "v1.36.0-eksbuild.21"
    assert before["vpc-cni"] != after["vpc-cni"]


def test_a_pin_wins_over_the_data():
    result = plan("before-compute", {"vpc-cni": AddonSpec(version="v1.22.3-eksbuild.1")}, "1.36")
    assert versions(result) == {"vpc-cni": "v1.22.3-eksbuild.1"}


@pytest.mark.parametrize("phase", ["before-compute", "after-compute"])
def test_turning_an_addon_off_leaves_its_workloads_running(phase):
    # preserve: deleting the aws.eks.Addon keeps the DaemonSets (vpc-cni, kube-proxy) on the nodes.
    assert all(addon.inputs["preserve"] is True for addon in plan(phase).by_type(ADDON))


def test_the_data_covers_every_supported_kubernetes_version_and_addon():
    data = addon_versions()
    assert data["_sources"] and data["_checked"]
    for version in supported_kubernetes_versions():
        entries = data["versions"][version]
        assert set(entries) == set(ALL), version
        for name, entry in entries.items():
            assert entry["default"] in entry["known"], (version, name)
            assert entry["source"] in data["_sources"], (version, name)
        # kube-proxy is built per Kubernetes minor: its versions carry the cluster's.
        assert all(v.startswith(f"v{version}.") for v in entries["kube-proxy"]["known"])
