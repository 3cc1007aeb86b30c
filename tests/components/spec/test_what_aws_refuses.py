"""What AWS refuses is refused by the spec (issue 24, item 4); each case cites where AWS says so."""

from __future__ import annotations

import pytest

from eksgitops.components.spec import load_spec
from eksgitops.components.spec.rules import kms_key_arn
from tests.components.spec.helpers import ADMIN_ENTRY, GROUP, SRC, minimal, one_error

KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_a_node_group_label_needs_a_value() -> None:
    # EKS API reference, CreateNodegroup: labels, "Value Length Constraints: Minimum length
    # of 1. Maximum length of 63." (botocore eks service-2.json: labelValue min 1, max 63).
    raw = minimal(nodeGroups=[{**GROUP, "labels": {"team": ""}}])
    one_error(raw, "nodeGroups[0].labels.team", "EKS refuses a node group label without a value")
    load_spec(minimal(nodeGroups=[{**GROUP, "labels": {"team": "a"}}]), stack="test", source=SRC)


def test_a_taint_may_still_have_no_value() -> None:
    # EKS API reference, Taint: value "Minimum length of 0".
    taint = {"key": "dedicated", "effect": "NO_SCHEDULE"}
    load_spec(minimal(nodeGroups=[{**GROUP, "taints": [taint]}]), stack="test", source=SRC)


def test_a_secrets_key_of_another_partition_is_refused() -> None:
    # AWS General Reference, "Amazon Resource Names": eu-west-1 is in partition aws, and a
    # KMS key of one partition cannot encrypt for a cluster of another.
    china = KEY.replace("arn:aws:", "arn:aws-cn:")
    one_error(minimal(secretsKmsKeyArn=china), "secretsKmsKeyArn", "names partition aws-cn")
    with pytest.raises(ValueError, match="names partition aws-cn"):
        kms_key_arn(china)
    assert kms_key_arn(KEY)


@pytest.mark.parametrize("suffix", ["-s3alias", "--ol-s3", "--x-s3", "--table-s3"])
def test_an_escrow_bucket_name_ending_as_s3_reserves_is_refused(suffix: str) -> None:
    # S3 User Guide, "General purpose bucket naming rules": names must not end with -s3alias,
    # --ol-s3, .mrap, --x-s3 or --table-s3.
    stack = "dev" + suffix
    with pytest.raises(Exception) as info:
        load_spec(minimal(escrow={"enabled": True}), stack=stack, source=SRC)
    assert "which S3 reserves" in str(info.value) and "eksgitops:escrow.enabled" in str(info.value)


def test_an_access_entry_for_the_node_role_is_refused() -> None:
    # EKS User Guide, "Create access entries": EKS creates the EC2_LINUX (managed node groups)
    # and EC2 (Auto Mode) entries for node roles itself, and a principal is in one entry only.
    node = {"principalArn": "arn:aws:iam::111122223333:role/eksgitops-test-node"}
    raw = minimal(access={"entries": [ADMIN_ENTRY, node]})
    one_error(raw, "access.entries[1].principalArn", "the platform's node role")
    auto = {"principalArn": "arn:aws:iam::111122223333:role/eksgitops-test-auto-node"}
    one_error(minimal(access={"entries": [ADMIN_ENTRY, auto]}), "access.entries[1].principalArn")


@pytest.mark.parametrize("addon", ["vpc-cni", "kube-proxy", "coredns"])
def test_auto_mode_with_node_groups_still_needs_the_node_addons(addon: str) -> None:
    # EKS User Guide, "Automate cluster infrastructure with EKS Auto Mode": Auto Mode runs
    # networking and DNS on the nodes it launches; managed node groups need the add-ons.
    raw = minimal(autoMode={"enabled": True}, addons={addon: {"enabled": False}})
    one_error(raw, f"addons.{addon}.enabled", "Auto Mode runs it only on its own nodes")
    auto_only = minimal(
        autoMode={"enabled": True, "nodePools": ["general-purpose"]},
        nodeGroups=[],
        addons={addon: {"enabled": False}},
    )
    load_spec(auto_only, stack="test", source=SRC)


def test_a_managed_policy_path_beyond_iams_limit_is_refused() -> None:
    # IAM API reference, CreatePolicy: Path "Maximum length of 512".
    long_path = "arn:aws:iam::111122223333:policy/" + "p/" * 300 + "Name"
    identity = {"name": "app", "namespace": "apps", "serviceAccount": "app"} | {
        "managedPolicyArns": [long_path]
    }
    one_error(
        minimal(identities=[identity]), "identities[0].managedPolicyArns[0]", "a policy path of at most 512"
    )


def test_an_empty_zone_list_is_refused_not_turned_into_three_zones() -> None:
    one_error(minimal(network={"availabilityZones": []}), "network.availabilityZones", "is empty")
    spec = load_spec(
        minimal(network={"availabilityZones": ["eu-west-1a", "eu-west-1b"]}), stack="t", source=SRC
    )
    assert spec.network.zone_count == 2


def test_public_access_without_cidrs_loads_as_the_docs_say() -> None:
    # docs/configuration.md: EKS opens it to 0.0.0.0/0; the EKS-ENDPOINT rule, not the spec, fails it.
    spec = load_spec(minimal(endpoint={"publicAccess": True}), stack="test", source=SRC)
    assert spec.endpoint.public_access and spec.endpoint.public_access_cidrs == []
