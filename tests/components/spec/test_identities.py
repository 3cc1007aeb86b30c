"""The `identities` section: the shipped stacks' identities and their inline IAM policies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components.spec import load_spec
from components.spec.read import stack_config
from tests.components.spec.helpers import FLEET, SRC, minimal, one_error

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_ebs_backup_identity_has_a_narrow_policy(stack):
    raw = stack_config(ROOT / "stacks" / f"Pulumi.{stack}.yaml", ROOT / "Pulumi.yaml")
    spec = load_spec(raw, stack=stack, source=f"stacks/Pulumi.{stack}.yaml")
    (backup,) = [i for i in spec.identities if i.name == "ebs-backup"]
    assert backup.managed_policy_arns == []
    assert backup.policy is not None
    actions = {
        a
        for s in backup.policy["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert actions == {
        "ec2:DescribeVolumes",
        "ec2:DescribeSnapshots",
        "ec2:CreateSnapshot",
        "ec2:CreateTags",
        "ec2:DeleteSnapshot",
    }
    # Writes are never on every resource.
    for statement in backup.policy["Statement"]:
        if statement["Action"] not in (["ec2:DescribeVolumes", "ec2:DescribeSnapshots"],):
            assert statement["Resource"] != "*", statement


# --- IAM's policy grammar ----------------------------------------------------------------

STATEMENT = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*"}


def inline(*statements: dict[str, Any], **identity: Any) -> dict[str, Any]:
    app = {"name": "app", "namespace": "apps", "serviceAccount": "app", **identity}
    if statements:
        app["policy"] = {"Version": "2012-10-17", "Statement": list(statements)}
    return minimal(identities=[app])


@pytest.mark.parametrize(
    ("statements", "key", "phrase"),
    [
        ([{**STATEMENT, "Sid": "read-bucket"}], "Statement[0].Sid", "ASCII letters and digits only"),
        ([{**STATEMENT, "Sid": "A"}, {**STATEMENT, "Sid": "A"}], "Statement[1].Sid", "is the Sid of another"),
        (
            [{**STATEMENT, "Condition": {"NullIfExists": {"aws:TagKeys": "true"}}}],
            "Statement[0].Condition.NullIfExists",
            "is not an IAM condition operator",
        ),
        (
            [{**STATEMENT, "Condition": {"stringEquals": {"aws:TagKeys": "a"}}}],
            "Statement[0].Condition.stringEquals",
            'did you mean "StringEquals"?',
        ),
        ([{**STATEMENT, "NotAction": "s3:*"}], "Statement[0].NotAction", "either Action or NotAction"),
        ([{**STATEMENT, "NotResource": "*"}], "Statement[0].NotResource", "either Resource or NotResource"),
        (
            [{**STATEMENT, "Resource": ["*", "arn:aws-cn:s3:::bucket"]}],
            "Statement[0].Resource[1]",
            "is in partition aws-cn, but region eu-west-1 is in aws",
        ),
    ],
)
def test_what_iam_refuses_in_an_inline_policy(
    statements: list[dict[str, Any]], key: str, phrase: str
) -> None:
    one_error(inline(*statements), f"identities[0].policy.{key}", phrase)


def test_what_iam_takes_in_an_inline_policy() -> None:
    conditions = {
        "StringEqualsIfExists": {"aws:TagKeys": "a"},
        "ForAllValues:StringLike": {"aws:TagKeys": ["a*"]},
        "ForAnyValue:ArnLikeIfExists": {"aws:SourceArn": "arn:aws:s3:::*"},
        "Null": {"aws:TagKeys": "false"},
    }
    raw = inline({**STATEMENT, "Sid": "Read1", "Condition": conditions}, {**STATEMENT, "Sid": "Read2"})
    spec = load_spec(raw, stack="test", source=SRC)
    assert spec.identities[0].policy is not None


def test_at_most_twenty_managed_policies_on_a_role() -> None:
    arns = [f"arn:aws:iam::111122223333:policy/p{i}" for i in range(21)]
    load_spec(inline(managedPolicyArns=arns[:20]), stack="test", source=SRC)
    one_error(
        inline(managedPolicyArns=arns), "identities[0].managedPolicyArns", "lists 21 policies; at most 20"
    )


# --- service accounts the platform binds itself --------------------------------------------


def test_the_bound_service_accounts_are_the_components_own() -> None:
    from components.addons import EBS_CSI_SERVICE_ACCOUNT
    from components.gitops.flux_identities import FLUX_NAMESPACE
    from components.spec import identities

    assert identities.EBS_CSI_SERVICE_ACCOUNT == ("kube-system", EBS_CSI_SERVICE_ACCOUNT)
    assert identities.FLUX_NAMESPACE == FLUX_NAMESPACE


@pytest.mark.parametrize(
    ("extra", "namespace", "account", "owner"),
    [
        ({}, "kube-system", "ebs-csi-controller-sa", "the aws-ebs-csi-driver add-on"),
        (
            {"gitops": {**FLEET, "sops": {"enabled": True}}},
            "flux-system",
            "kustomize-controller",
            "gitops.sops",
        ),
    ],
)
def test_an_identity_cannot_take_a_service_account_the_platform_binds(
    extra: dict[str, Any], namespace: str, account: str, owner: str
) -> None:
    raw = inline(STATEMENT, namespace=namespace, serviceAccount=account)
    one_error({**raw, **extra}, "identities[0].serviceAccount", f"is already bound by the platform ({owner})")


def test_the_same_service_account_is_free_when_the_feature_is_off() -> None:
    raw = inline(STATEMENT, namespace="kube-system", serviceAccount="ebs-csi-controller-sa")
    load_spec({**raw, "addons": {"aws-ebs-csi-driver": {"enabled": False}}}, stack="test", source=SRC)
    load_spec(
        inline(STATEMENT, namespace="flux-system", serviceAccount="kustomize-controller"),
        stack="test",
        source=SRC,
    )
