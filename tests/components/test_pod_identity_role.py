"""PodIdentityRole: trust, association and parenting, planned offline."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from eksgitops.components.pod_identity_role import PodIdentityRole, PodIdentityRoleArgs
from eksgitops.plan.offline_engine import PlanResult, run_program

EBS = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
INLINE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "route53:ChangeResourceRecordSets", "Resource": "*"}],
}


def args(**overrides) -> PodIdentityRoleArgs:
    values: dict[str, Any] = {
        "role_name": "dev-external-dns",
        "cluster_name": "dev",
        "namespace": "external-dns",
        "service_account": "external-dns",
    }
    values.update(overrides)
    return PodIdentityRoleArgs(**values)


def plan(role_args: PodIdentityRoleArgs) -> PlanResult:
    def program():
        role = PodIdentityRole("dns", role_args)
        pulumi.export("role_arn", role.role_arn)
        pulumi.export("role_name", role.role_name)

    return run_program(program)


def test_trust_policy():
    role = plan(args()).one("aws:iam/role:Role", "dns")
    assert role.inputs["name"] == "dev-external-dns"
    trust = json.loads(role.inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert sorted(statement["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
    # Scoped to this account's Pod Identity agent, this cluster and this service account.
    assert statement["Condition"] == {
        "StringEquals": {
            "aws:SourceAccount": "000000000000",
            "aws:RequestTag/eks-cluster-name": "dev",
            "aws:RequestTag/kubernetes-namespace": "external-dns",
            "aws:RequestTag/kubernetes-service-account": "external-dns",
        }
    }


def test_trust_names_the_cluster_known_only_later():
    role = plan(args(cluster_name=pulumi.Output.from_input("prod"))).one("aws:iam/role:Role", "dns")
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Condition"]["StringEquals"]["aws:RequestTag/eks-cluster-name"] == "prod"


def test_association_inputs():
    result = plan(args())
    association = result.one("aws:eks/podIdentityAssociation:PodIdentityAssociation", "dns")
    assert association.inputs == {
        "clusterName": "dev",
        "namespace": "external-dns",
        "serviceAccount": "external-dns",
        "roleArn": "arn:aws:iam::000000000000:role/dev-external-dns",
    }
    # The ARN is the role's output, not a copy: the association waits for the role.
    assert result.one("aws:iam/role:Role").urn in association.dependencies


def test_cluster_name_from_an_output():
    association = plan(args(cluster_name=pulumi.Output.from_input("prod"))).one(
        "aws:eks/podIdentityAssociation:PodIdentityAssociation"
    )
    assert association.inputs["clusterName"] == "prod"


def test_without_association():
    def program():
        role = PodIdentityRole("ebs", args(create_association=False, managed_policy_arns=[EBS]))
        pulumi.export("association_id", role.association_id)
        pulumi.export("role_arn", role.role_arn)

    result = run_program(program)
    assert result.by_type("aws:eks/podIdentityAssociation:PodIdentityAssociation") == []
    assert result.outputs == {
        "association_id": None,
        "role_arn": "arn:aws:iam::000000000000:role/dev-external-dns",
    }


def test_outputs():
    assert plan(args()).outputs == {
        "role_arn": "arn:aws:iam::000000000000:role/dev-external-dns",
        "role_name": "dev-external-dns",
    }


def test_policies_and_parenting():
    result = plan(args(managed_policy_arns=[EBS], inline_policy=INLINE, tags={"team": "platform"}))
    component = result.one("eksgitops:identity:PodIdentityRole", "dns")
    children = [r for r in result.resources if r is not component]
    assert sorted(r.type for r in children) == [
        "aws:eks/podIdentityAssociation:PodIdentityAssociation",
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    ]
    assert all(r.parent == component.urn for r in children)
    attachment = result.one("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attachment.inputs == {"role": "dev-external-dns", "policyArn": EBS}
    assert json.loads(result.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"]) == INLINE
    assert result.one("aws:iam/role:Role").inputs["tags"] == {"team": "platform"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"namespace": "-bad"}, "namespace"),
        ({"service_account": "Bad"}, "service account"),
        (
            {"inline_policy": ["not", "a", "dict"]},
            "PodIdentityRoleArgs.inline_policy: is a list, not a mapping",
        ),
    ],
)
def test_bad_values_are_refused_at_construction(overrides, message):
    with pytest.raises((ValueError, TypeError), match=message):
        PodIdentityRole("bad", args(**overrides))
