"""The `identities` section: the shipped stacks' identities and their inline IAM policies."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.spec import load_spec
from components.spec.read import stack_config

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
