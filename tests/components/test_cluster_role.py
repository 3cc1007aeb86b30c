"""ClusterRole: trust, managed policies (with and without Auto Mode) and parenting, planned offline."""

from __future__ import annotations

import json

import pulumi

from eksgitops.components.cluster_role import ClusterRole, ClusterRoleArgs
from eksgitops.plan.offline_engine import PlanResult, run_program

ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"


def plan(auto_mode: bool = False) -> PlanResult:
    def program():
        role = ClusterRole("cr", ClusterRoleArgs(cluster_name="dev", auto_mode=auto_mode, tags={"team": "x"}))
        pulumi.export("arn", role.arn)

    return run_program(program)


def attached(result: PlanResult) -> list[str]:
    return sorted(r.inputs["policyArn"].rsplit("/", 1)[-1] for r in result.by_type(ATTACHMENT))


def test_role_is_named_for_the_cluster_and_trusts_eks_with_tag_session():
    result = plan()
    role = result.one("aws:iam/role:Role", "cr")
    assert role.inputs["name"] == "dev-cluster"
    assert role.inputs["tags"] == {"team": "x"}
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "eks.amazonaws.com"}
    assert sorted(statement["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
    assert result.outputs["arn"] == "arn:aws:iam::000000000000:role/dev-cluster"


def test_without_auto_mode_only_the_cluster_policy():
    assert attached(plan()) == ["AmazonEKSClusterPolicy"]


def test_auto_mode_adds_the_four_policies_auto_mode_requires():
    assert attached(plan(auto_mode=True)) == [
        "AmazonEKSBlockStoragePolicy",
        "AmazonEKSClusterPolicy",
        "AmazonEKSComputePolicy",
        "AmazonEKSLoadBalancingPolicy",
        "AmazonEKSNetworkingPolicy",
    ]


def test_attachments_target_the_role_and_every_child_is_parented():
    result = plan(auto_mode=True)
    component = result.one("eksgitops:cluster:ClusterRole", "cr")
    role = result.one("aws:iam/role:Role", "cr")
    for attachment in result.by_type(ATTACHMENT):
        assert attachment.inputs["policyArn"].startswith("arn:aws:iam::aws:policy/")
        assert attachment.inputs["role"] == "dev-cluster"
        assert role.urn in attachment.dependencies
    children = [r for r in result.resources if r is not component]
    assert children and all(r.parent == component.urn for r in children)
