"""SecretsKey: a rotating customer key with an alias and a root-admin key policy, or an existing ARN."""

from __future__ import annotations

import json

import pulumi

from eksgitops.components.secrets_key import SecretsKey, SecretsKeyArgs
from eksgitops.plan.offline_engine import PlanResult, run_program

EXISTING = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def plan(existing: str | None = None) -> PlanResult:
    def program():
        key = SecretsKey("sk", SecretsKeyArgs(cluster_name="dev", existing_key_arn=existing))
        pulumi.export("key_arn", key.key_arn)
        pulumi.export("alias_name", key.alias_name)

    return run_program(program)


def test_created_key_has_rotation_on_and_is_symmetric():
    key = plan().one("aws:kms/key:Key", "sk")
    assert key.inputs["enableKeyRotation"] is True
    assert key.inputs["keyUsage"] == "ENCRYPT_DECRYPT"
    assert key.inputs["customerMasterKeySpec"] == "SYMMETRIC_DEFAULT"
    assert key.inputs["deletionWindowInDays"] == 30


def test_key_policy_keeps_the_account_root_as_administrator():
    policy = json.loads(plan().one("aws:kms/key:Key", "sk").inputs["policy"])
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"AWS": "arn:aws:iam::000000000000:root"}
    assert statement["Action"] == "kms:*"  # not "*" (IAM-NO-WILDCARD-ADMIN)


def test_alias_names_the_cluster_and_targets_the_key():
    result = plan()
    alias = result.one("aws:kms/alias:Alias", "sk")
    assert alias.inputs["name"] == "alias/dev-eks-secrets"
    assert alias.inputs["targetKeyId"] == "(known after apply: sk.arn)"
    assert result.one("aws:kms/key:Key", "sk").urn in alias.dependencies
    assert result.outputs["alias_name"] == "alias/dev-eks-secrets"


def test_every_child_is_parented_to_the_component():
    result = plan()
    component = result.one("eksgitops:cluster:SecretsKey", "sk")
    children = [r for r in result.resources if r is not component]
    assert len(children) == 2
    assert all(r.parent == component.urn for r in children)


def test_an_existing_key_is_passed_through_and_nothing_is_created():
    result = plan(existing=EXISTING)
    assert not result.by_type("aws:kms/key:Key")
    assert not result.by_type("aws:kms/alias:Alias")
    assert result.outputs["key_arn"] == EXISTING
    assert result.outputs["alias_name"] is None
