"""Every key that names a region takes only a region AWS has opened, of the cluster's partition."""

from __future__ import annotations

import pytest

from components.spec import load_spec
from tests.components.spec.helpers import SRC, errors, minimal, one_error

KMS = "arn:{}:kms:{}:111122223333:key/0123abcd-0123-4567-89ab-0123456789ab"


@pytest.mark.parametrize(
    ("region", "phrase"),
    [
        ("eu-west-9", "is not a region AWS has opened"),
        ("us-east-7", "is not a region AWS has opened"),
        ("mars-1", "is not an AWS region name"),
        ("", "is not an AWS region name"),
    ],
)
def test_the_cluster_region_is_one_aws_has_opened(region: str, phrase: str) -> None:
    lines = errors(minimal(region=region))
    assert any(line.startswith(f"{SRC}: eksgitops:region: ") and phrase in line for line in lines), lines


@pytest.mark.parametrize(
    ("escrow", "key", "phrase"),
    [
        ({"region": "eu-west-9"}, "escrow.region", "is not a region AWS has opened"),
        ({"region": "us-gov-west-1"}, "escrow.region", "is in partition aws-us-gov"),
        ({"secretReplicaRegions": ["mars-1"]}, "escrow.secretReplicaRegions[0]", "is not an AWS region name"),
        (
            {"secretReplicaRegions": ["cn-north-1"]},
            "escrow.secretReplicaRegions[0]",
            "is in partition aws-cn",
        ),
    ],
)
def test_escrow_regions_are_opened_regions_of_the_partition(
    escrow: dict[str, object], key: str, phrase: str
) -> None:
    one_error(minimal(escrow={"enabled": True, **escrow}), key, phrase)


def test_escrow_in_other_regions_of_the_partition_loads() -> None:
    escrow = {"enabled": True, "region": "eu-central-1", "secretReplicaRegions": ["eu-north-1", "us-east-1"]}
    assert load_spec(minimal(escrow=escrow), stack="test", source=SRC).escrow.region == "eu-central-1"


def test_the_secrets_key_is_in_the_clusters_region() -> None:
    load_spec(minimal(secretsKmsKeyArn=KMS.format("aws", "eu-west-1")), stack="test", source=SRC)
    one_error(
        minimal(secretsKmsKeyArn=KMS.format("aws", "eu-west-9")),
        "secretsKmsKeyArn",
        "the cluster in eu-west-1",
    )
