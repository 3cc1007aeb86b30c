"""IrsaRole: trust, policies and parenting, planned offline."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from eksgitops.components.irsa_role import IrsaRole, IrsaRoleArgs
from eksgitops.plan.offline_engine import PlanResult, run_program

PROVIDER = "arn:aws:iam::000000000000:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"
HOST = "oidc.eks.us-east-1.amazonaws.com/id/ABC"
EBS = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"
S3 = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
INLINE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:us-east-1:1:key/k"}],
}


def args(**overrides) -> IrsaRoleArgs:
    values: dict[str, Any] = {
        "role_name": "dev-ebs-csi",
        "oidc_provider_arn": PROVIDER,
        "oidc_issuer": f"https://{HOST}",
        "namespace": "kube-system",
        "service_account": "ebs-csi-controller-sa",
    }
    values.update(overrides)
    return IrsaRoleArgs(**values)


def plan(role_args: IrsaRoleArgs) -> PlanResult:
    def program():
        role = IrsaRole("ebs", role_args)
        pulumi.export("role_arn", role.role_arn)
        pulumi.export("role_name", role.role_name)

    return run_program(program)


def test_trust_policy_is_exact():
    result = plan(args())
    role = result.one("aws:iam/role:Role", "ebs")
    assert role.inputs["name"] == "dev-ebs-csi"
    assert json.loads(role.inputs["assumeRolePolicy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{HOST}:sub": "system:serviceaccount:kube-system:ebs-csi-controller-sa",
                        f"{HOST}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ],
    }
    assert "StringLike" not in role.inputs["assumeRolePolicy"]


def test_issuer_from_an_output_without_scheme():
    result = plan(args(oidc_issuer=pulumi.Output.from_input(HOST)))
    trust = json.loads(result.one("aws:iam/role:Role").inputs["assumeRolePolicy"])
    assert set(trust["Statement"][0]["Condition"]["StringEquals"]) == {f"{HOST}:sub", f"{HOST}:aud"}


def test_outputs():
    result = plan(args())
    assert result.outputs == {
        "role_arn": "arn:aws:iam::000000000000:role/dev-ebs-csi",
        "role_name": "dev-ebs-csi",
    }


def test_managed_and_inline_policies():
    key = pulumi.Output.from_input("arn:aws:kms:us-east-1:1:key/from-output")
    inline = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": key}],
    }
    result = plan(args(managed_policy_arns=[EBS, S3], inline_policy=inline))
    attachments = {
        r.name: r.inputs for r in result.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    }
    assert attachments == {
        "ebs-AmazonEBSCSIDriverPolicy": {"role": "dev-ebs-csi", "policyArn": EBS},
        "ebs-AmazonS3ReadOnlyAccess": {"role": "dev-ebs-csi", "policyArn": S3},
    }
    policy = result.one("aws:iam/rolePolicy:RolePolicy")
    assert policy.inputs["role"] == "dev-ebs-csi"
    assert (
        json.loads(policy.inputs["policy"])["Statement"][0]["Resource"]
        == "arn:aws:kms:us-east-1:1:key/from-output"
    )


def test_no_policies_means_role_only():
    result = plan(args())
    assert sorted(r.type for r in result.resources) == ["aws:iam/role:Role", "eksgitops:identity:IrsaRole"]


def test_managed_arns_known_later_are_named_by_index_and_same_names_are_told_apart():
    other_ebs = "arn:aws:iam::111111111111:policy/AmazonEBSCSIDriverPolicy"
    result = plan(args(managed_policy_arns=[EBS, other_ebs, pulumi.Output.from_input(S3)]))
    names = sorted(r.name for r in result.by_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"))
    assert len(names) == 3
    assert names[-1] == "ebs-policy-2"
    assert all(n.startswith("ebs-AmazonEBSCSIDriverPolicy-") for n in names[:2])


def test_every_child_is_parented_to_the_component():
    result = plan(args(managed_policy_arns=[EBS], inline_policy=INLINE))
    component = result.one("eksgitops:identity:IrsaRole", "ebs")
    children = [r for r in result.resources if r is not component]
    assert len(children) == 3
    assert all(r.parent == component.urn for r in children)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"namespace": "Kube_System"}, "namespace"),
        ({"service_account": "*"}, "service account"),
        ({"inline_policy": {"Version": "2012-10-17"}}, "Statement"),
        ({"inline_policy": {"Statement": ["s3:GetObject"]}}, r"Statement\[0\] must be a dict"),
        ({"managed_policy_arns": [EBS, EBS]}, "IrsaRoleArgs.managed_policy_arns: lists .* twice"),
    ],
)
def test_bad_values_are_refused_at_construction(overrides, message):
    with pytest.raises(ValueError, match=message):
        IrsaRole("bad", args(**overrides))
