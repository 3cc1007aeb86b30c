"""The `access` section: access policies EKS has, in the stack's partition, one entry per principal."""

from __future__ import annotations

import json

import pytest

from components.spec import load_spec
from components.spec.data import access_policies
from tests.components.spec.helpers import ADMIN_ENTRY, ROOT, SRC, minimal, one_error

VIEWER = "arn:aws:iam::111122223333:role/viewer"


def entries(*more: dict[str, str]) -> dict[str, object]:
    return minimal(access={"entries": [ADMIN_ENTRY, *more]})


def test_the_policy_list_names_its_source() -> None:
    document = json.loads((ROOT / "components" / "data" / "eks_access_policies.json").read_text())
    assert document["_sources"] and set(document["forPeople"]) <= set(document["policies"])


@pytest.mark.parametrize("name", access_policies())
def test_every_eks_access_policy_loads_by_name_and_by_arn(name: str) -> None:
    arn = f"arn:aws:eks::aws:cluster-access-policy/{name}"
    spec = load_spec(entries({"principalArn": VIEWER, "policy": name}), stack="test", source=SRC)
    assert spec.access.entries[1].policy_arn == arn
    load_spec(entries({"principalArn": VIEWER, "policy": arn}), stack="test", source=SRC)


@pytest.mark.parametrize(
    ("policy", "phrase"),
    [
        ("arn:aws:eks::aws:cluster-access-policy/AmazonEKSMadeUpPolicy", "is not an EKS access policy"),
        ("AmazonEKSReadOnlyPolicy", "is not an EKS access policy"),
        ("arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSViewPolicy", "is in partition aws-cn"),
        ("arn:aws-us-gov:eks::aws:cluster-access-policy/AmazonEKSViewPolicy", "is in partition aws-us-gov"),
    ],
)
def test_a_policy_eks_does_not_have_here_is_refused(policy: str, phrase: str) -> None:
    one_error(entries({"principalArn": VIEWER, "policy": policy}), "access.entries[1].policy", phrase)


def test_an_arn_of_the_regions_partition_loads() -> None:
    policy = "arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    raw = minimal(
        region="cn-north-1",
        access={"entries": [{"principalArn": "arn:aws-cn:iam::111122223333:role/admin", "policy": policy}]},
        network={"azCount": 2},
    )
    assert load_spec(raw, stack="test", source=SRC).access.entries[0].policy_arn == policy


def test_one_principal_twice_by_case_is_refused() -> None:
    other = {"principalArn": ADMIN_ENTRY["principalArn"].replace("platform-admin", "Platform-Admin")}
    one_error(entries(other), "access.entries", "(IAM names ignore case)")
    load_spec(entries({"principalArn": VIEWER}), stack="test", source=SRC)
