"""The compute sections: instance types from botocore's EC2 model, labels, taints and names EKS takes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.spec import load_spec
from components.spec.data import instance_architecture, instance_types
from tests.components.spec.helpers import ROOT, SRC, minimal, one_error

DATA = ROOT / "components" / "data" / "ec2_instance_types.json"


def group(**fields: Any) -> dict[str, Any]:
    return minimal(nodeGroups=[{"name": "general", **fields}])


def test_the_instance_type_file_is_the_installed_botocore_enum() -> None:
    import botocore
    import botocore.session

    document = json.loads(DATA.read_text())
    enum = botocore.session.get_session().get_service_model("ec2").shape_for("InstanceType").enum
    assert document["botocoreVersion"] == botocore.__version__, (
        "regenerate: components/data/generate_ec2_instance_types.py"
    )
    assert document["instanceTypes"] == sorted(enum)
    families = {t.split(".", 1)[0] for t in enum}
    assert set(document["architectures"]) == families


@pytest.mark.parametrize(
    ("instance_type", "architecture"),
    [
        ("m6i.large", "x86_64"),
        ("m7g.large", "arm64"),
        ("a1.large", "arm64"),
        ("c6gn.large", "arm64"),
        ("p6e-gb200.36xlarge", "arm64"),
        ("m7i-flex.large", "x86_64"),
        ("g5g.xlarge", "arm64"),
        ("g4dn.xlarge", "x86_64"),
        ("mac2.metal", "mac"),
    ],
)
def test_each_family_has_its_architecture(instance_type: str, architecture: str) -> None:
    assert instance_type in instance_types()
    assert instance_architecture(instance_type) == architecture


@pytest.mark.parametrize("instance_type", ["m6i.huge", "zz9.large", "m6i.larg", "a.b"])
def test_an_instance_type_ec2_does_not_have_is_refused(instance_type: str) -> None:
    one_error(
        group(instanceTypes=[instance_type]), "nodeGroups[0].instanceTypes[0]", "is not an EC2 instance type"
    )


def test_instance_types_of_the_ami_architecture_load() -> None:
    arm = {"instanceTypes": ["m7g.large", "r8gd.xlarge"], "amiType": "BOTTLEROCKET_ARM_64"}
    spec = load_spec(group(**arm), stack="test", source=SRC)
    assert spec.node_groups[0].instance_types == ["m7g.large", "r8gd.xlarge"]
    one_error(
        group(instanceTypes=["m6i.large"], amiType="AL2023_ARM_64_STANDARD"),
        "nodeGroups[0].instanceTypes[0]",
        "is x86_64",
    )
    one_error(group(instanceTypes=["mac1.metal"]), "nodeGroups[0].instanceTypes[0]", "Mac instance")


@pytest.mark.parametrize(
    ("key", "phrase"),
    [
        ("kubernetes.io/role", "which Kubernetes reserves"),
        ("node-role.kubernetes.io/worker", "which Kubernetes reserves"),
        ("k8s.io/x", "which Kubernetes reserves"),
        ("sub.k8s.io/x", "which Kubernetes reserves"),
        ("example.com/" + "a" * 60, "at most 63 characters, prefix included"),
        ("a" * 254 + "/x", "is not a valid Kubernetes label key"),
        ("example.com/" + "a" * 64, "is not a valid Kubernetes label key"),
    ],
)
def test_label_keys_eks_refuses(key: str, phrase: str) -> None:
    one_error(group(labels={key: "x"}), f"nodeGroups[0].labels.{key}", phrase)


def test_label_keys_eks_takes() -> None:
    labels = {"example.com/" + "a" * 51: "x", "kubernetes.iox/a": "b", "mykubernetes.io/a": "b", "role": "x"}
    spec = load_spec(group(labels=labels), stack="test", source=SRC)
    assert spec.node_groups[0].labels == labels


def test_taints_within_eks_limits() -> None:
    taints = [{"key": f"t{i}"} for i in range(49)] + [{"key": "t0", "effect": "NO_EXECUTE"}]
    spec = load_spec(group(taints=taints), stack="test", source=SRC)
    assert len(spec.node_groups[0].taints) == 50
    one_error(group(taints=[*taints, {"key": "t50"}]), "nodeGroups[0].taints", "has 51 taints")
    one_error(
        group(taints=[{"key": "a"}, {"key": "a", "value": "b"}]),
        "nodeGroups[0].taints",
        "has two taints a:NO_SCHEDULE",
    )
    long_key = {"key": "example.com/" + "a" * 52}
    one_error(group(taints=[long_key]), "nodeGroups[0].taints[0].key", "at most 63 characters")


def test_node_group_names_fit_the_name_eks_gets() -> None:
    load_spec(group(name="g" * 36), stack="test", source=SRC)
    one_error(minimal(nodeGroups=[{"name": "g" * 37}]), "nodeGroups[0].name", "at most 36 characters")
