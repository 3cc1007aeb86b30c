"""NodeRole: EC2 trust and only the policies NODE-IAM allows (or Auto Mode's minimal two)."""

from __future__ import annotations

import json

import pulumi

from eksgitops.components.node_role import NodeRole, NodeRoleArgs, NodeRoleKind
from eksgitops.plan.offline_engine import PlanResult, run_program

ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"


def plan(kind: NodeRoleKind = "managed") -> PlanResult:
    def program():
        role = NodeRole("nr", NodeRoleArgs(role_name="dev-node", kind=kind))
        pulumi.export("arn", role.arn)

    return run_program(program)


def attached(result: PlanResult) -> list[str]:
    return sorted(r.inputs["policyArn"] for r in result.by_type(ATTACHMENT))


def test_managed_node_role_has_exactly_the_three_node_iam_policies():
    result = plan()
    assert attached(result) == [
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
        "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    ]
    # No inline policy and no SSM: anything more would widen every node.
    assert not result.by_type("aws:iam/rolePolicy:RolePolicy")
    assert "managedPolicyArns" not in result.one("aws:iam/role:Role").inputs


def test_node_role_trusts_ec2_only():
    result = plan()
    role = result.one("aws:iam/role:Role", "nr")
    assert role.inputs["name"] == "dev-node"
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement == {
        "Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    assert result.outputs["arn"] == "arn:aws:iam::000000000000:role/dev-node"


def test_auto_mode_node_role_has_the_minimal_policies():
    assert attached(plan("auto-mode")) == [
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodeMinimalPolicy",
    ]


def test_every_child_is_parented_to_the_component():
    result = plan()
    component = result.one("eksgitops:cluster:NodeRole", "nr")
    children = [r for r in result.resources if r is not component]
    assert len(children) == 4
    assert all(r.parent == component.urn for r in children)
