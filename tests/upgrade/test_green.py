"""Green, the derived stack of a blue/green upgrade: every shipped stack with every agent derives a
green the spec accepts (a refusal is a derivation bug), isolated from the live environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eksgitops.components.spec import load_spec
from eksgitops.components.spec.base import SecretValue
from eksgitops.components.spec.read import stack_config
from eksgitops.plan.cli import run_config
from eksgitops.upgrade.green import derive_green
from tests.upgrade.conftest import AGENTS, REPO_ROOT, with_agent

SOPS_ARN = "arn:aws:kms:eu-west-1:111122223333:key/0c5f4b8e-1111-2222-3333-444455556666"
# What AWS requires to be unique in an account and region, by resource type and input.
UNIQUE = {
    ("aws:eks/cluster:Cluster", "name"),
    ("aws:iam/role:Role", "name"),
    ("aws:cloudwatch/logGroup:LogGroup", "name"),
    ("aws:ec2/launchTemplate:LaunchTemplate", "name"),
    ("aws:kms/alias:Alias", "name"),
    ("aws:s3/bucket:Bucket", "bucket"),
    ("aws:secretsmanager/secret:Secret", "name"),
    ("aws:iam/policy:Policy", "name"),
}


def _with_sops_key(raw: dict[str, Any]) -> dict[str, Any]:
    """What `environment_sops_key` does with AWS: the environment's key pinned by ARN."""
    sops = raw["gitops"].get("sops")
    if not (isinstance(sops, dict) and sops.get("enabled")):
        return raw
    return {**raw, "gitops": {**raw["gitops"], "sops": {**sops, "kmsKeyArn": SOPS_ARN}}}


def _shipped(stack: str) -> dict[str, Any]:
    raw = stack_config(REPO_ROOT / "stacks" / f"Pulumi.{stack}.yaml", REPO_ROOT / "Pulumi.yaml")
    if stack == "dev":  # dev ships at the newest minor EKS offers: green goes to it from the one before
        raw = {**raw, "kubernetesVersion": "1.35"}
    return raw


@pytest.mark.parametrize("agent", AGENTS)
@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_every_shipped_stack_and_agent_derives_a_green_the_spec_accepts(stack, agent):
    blue = with_agent(_shipped(stack), agent)
    load_spec(blue, stack=stack, source="blue")  # the input is a valid stack
    sops = blue["gitops"].get("sops", {}).get("enabled")
    green = derive_green(blue, stack, "1.36")
    spec = load_spec(_with_sops_key(green.raw), stack=f"{stack}-green", source="green")
    assert spec.kubernetes_version == "1.36"
    assert spec.cluster_name == f"eksgitops-{stack}-green"
    assert spec.gitops.agent == agent
    assert spec.gitops.path == f"clusters/{stack}"  # the environment's own fleet path
    assert not spec.escrow.enabled
    if (blue.get("escrow") or {}).get(
        "enabled"
    ):  # off, and the keys only an enabled escrow may carry removed from Pulumi's copy
        assert green.overrides["eksgitops:escrow.enabled"] == "false"
        assert all(green.overrides[f"eksgitops:escrow.{k}"] is None for k in blue["escrow"] if k != "enabled")
    assert spec.cluster_role == "green" and green.overrides["eksgitops:clusterRole"] == "green"
    assert not spec.control_plane.deletion_protection
    assert not spec.gitops.image_automation
    if sops:
        assert spec.gitops.sops.kms_key_arn == SOPS_ARN  # the environment's key, not a new one
    assert green.overrides["eksgitops:clusterName"] == spec.cluster_name
    assert green.overrides["eksgitops:kubernetesVersion"] == "1.36"


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_the_second_slot_is_its_own_cluster(stack):
    green = derive_green(_shipped(stack), stack, "1.36", "-blue")
    spec = load_spec(_with_sops_key(green.raw), stack=f"{stack}-blue", source="green")
    assert spec.cluster_name == f"eksgitops-{stack}-blue" == green.overrides["eksgitops:clusterName"]
    assert spec.cluster_role == "green"


def test_image_automation_is_off_and_the_credentials_read_only_in_green():
    blue = _shipped("staging")
    blue["gitops"] = {
        **blue["gitops"],
        "imageAutomation": True,
        "credentials": {"type": "https", "token": SecretValue("not-a-real-token"), "readOnly": False},
    }
    load_spec(blue, stack="staging", source="blue")
    green = derive_green(blue, "staging", "1.36")
    spec = load_spec(green.raw, stack="staging-green", source="green")
    assert not spec.gitops.image_automation
    assert spec.gitops.credentials is not None and spec.gitops.credentials.read_only
    assert green.overrides["eksgitops:gitops.imageAutomation"] == "false"
    assert green.overrides["eksgitops:gitops.credentials.readOnly"] == "true"


def test_prods_deletion_protection_is_off_in_green():
    green = derive_green(_shipped("prod"), "prod", "1.36")
    assert green.overrides["eksgitops:controlPlane.deletionProtection"] == "false"
    assert (
        load_spec(_with_sops_key(green.raw), stack="prod-green", source="g").control_plane.upgrade_policy
        == "STANDARD"
    )


def _unique_names(raw: dict[str, Any], stack: str) -> dict[tuple[str, str], set[str]]:
    _, result = run_config(raw, stack=stack, source="t", project_dir=REPO_ROOT)
    names: dict[tuple[str, str], set[str]] = {}
    for res in result.resources:
        for key, value in res.plain_inputs().items():
            if (res.type, key) in UNIQUE and isinstance(value, str):
                names.setdefault((res.type, key), set()).add(value)
    return names


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_green_takes_no_name_aws_requires_unique_from_blue(stack):
    blue = _shipped(stack)
    green = derive_green(blue, stack, "1.36")
    blue_names = _unique_names(blue, stack)
    green_names = _unique_names(_with_sops_key(green.raw), f"{stack}-green")
    for kind, names in green_names.items():
        assert not names & blue_names.get(kind, set()), kind
    # The environment's durable resources are blue's: green creates no escrow and no SOPS key.
    assert ("aws:s3/bucket:Bucket", "bucket") not in green_names
    assert ("aws:secretsmanager/secret:Secret", "name") not in green_names
    assert not any("sops" in n for n in green_names.get(("aws:kms/alias:Alias", "name"), set()))
    assert green_names[("aws:eks/cluster:Cluster", "name")] == {f"eksgitops-{stack}-green"}


def test_the_derivation_does_not_touch_blues_config():
    blue = _shipped("prod")
    before = repr(blue)
    derive_green(blue, "prod", "1.36")
    assert repr(blue) == before
    assert Path(REPO_ROOT / "stacks" / "Pulumi.prod.yaml").is_file()


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_apply_derives_green_from_the_shipped_stack_as_it_stands(aws_env, project, stack):
    # The drill's old derivation turned the escrow off but kept escrow.region/bundleRetentionDays,
    # and green was built the same way: the spec refused green for staging and prod.
    from eksgitops.dr.aws import AwsClients
    from eksgitops.dr.context import load_stack
    from eksgitops.upgrade.blue_green import green_context

    aws = AwsClients("eu-west-1")
    key = aws.client("kms").create_key()["KeyMetadata"]["KeyId"]
    aws.client("kms").create_alias(AliasName=f"alias/eksgitops-{stack}-sops", TargetKeyId=key)
    blue = load_stack(
        stack,
        stacks_dir=project / "stacks",
        project_dir=project,
        build_dir=project / "build",
        command="apply",
        program="eksgitops upgrade",
    )
    green = green_context(blue, "1.36", aws)
    assert green.stack == f"{stack}-green" and green.source_stack == stack
    assert green.spec.cluster_name == f"eksgitops-{stack}-green"
    assert green.escrow.enabled  # the environment's escrow, which green reads and never creates
    assert not green.spec.escrow.enabled
    if stack == "prod":
        arn = aws.client("kms").describe_key(KeyId=key)["KeyMetadata"]["Arn"]
        assert green.overrides["eksgitops:gitops.sops.kmsKeyArn"] == arn
