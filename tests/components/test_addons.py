"""ClusterAddons: the managed add-ons in their two phases, pins, conflicts and EBS CSI's identity."""

from __future__ import annotations

import pulumi_aws as aws
import pytest

from components.addons import EBS_CSI_POLICY_ARN, AddonPhase, ClusterAddons, ClusterAddonsArgs
from components.spec import AddonSpec
from eksgitops.plan.engine import PlanResult, run_program

ADDON = "aws:eks/addon:Addon"
ALL = ("vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "aws-ebs-csi-driver")


def plan(phase: AddonPhase, addons: dict[str, AddonSpec] | None = None) -> PlanResult:
    chosen = addons if addons is not None else {name: AddonSpec() for name in ALL}

    def program():
        first = aws.iam.Role("must-exist-first", assume_role_policy="{}")
        ClusterAddons(
            "addons",
            ClusterAddonsArgs(
                cluster_name="dev", phase=phase, addons=chosen, depends_on=[first], tags={"t": "1"}
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
