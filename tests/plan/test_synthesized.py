"""The plan's honesty: what only AWS knows is marked, and what pulumi-eks creates
inside its components is shown, counted and written, with the real pulumi-aws type tokens
and input names."""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path
from typing import Any

import pulumi_aws as aws
import pytest
from pulumi.runtime import mocks as pulumi_mocks
from rich.console import Console
from typer.testing import CliRunner

from eksgitops.cli import app
from eksgitops.plan.offline_engine import CloudMocks
from eksgitops.plan.render import count_table, counts

ROOT = Path(__file__).resolve().parents[2]
SYNTHESIZED_TYPES = {
    "aws:eks/cluster:Cluster",
    "aws:eks/accessEntry:AccessEntry",
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
    "aws:eks/nodeGroup:NodeGroup",
}
# The pulumi-aws SDK classes whose parameters are the wire inputs of each type (snake_case).
ARGS_OF: dict[str, Any] = {
    "aws:eks/cluster:Cluster": aws.eks.ClusterArgs,
    "aws:eks/accessEntry:AccessEntry": aws.eks.AccessEntryArgs,
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": aws.eks.AccessPolicyAssociationArgs,
    "aws:eks/nodeGroup:NodeGroup": aws.eks.NodeGroupArgs,
}
NESTED_ARGS_OF: dict[tuple[str, str], Any] = {
    ("aws:eks/cluster:Cluster", "vpcConfig"): aws.eks.ClusterVpcConfigArgs,
    ("aws:eks/cluster:Cluster", "accessConfig"): aws.eks.ClusterAccessConfigArgs,
    ("aws:eks/cluster:Cluster", "upgradePolicy"): aws.eks.ClusterUpgradePolicyArgs,
    ("aws:eks/cluster:Cluster", "encryptionConfig"): aws.eks.ClusterEncryptionConfigArgs,
    ("aws:eks/cluster:Cluster", "kubernetesNetworkConfig"): aws.eks.ClusterKubernetesNetworkConfigArgs,
    ("aws:eks/cluster:Cluster", "computeConfig"): aws.eks.ClusterComputeConfigArgs,
    ("aws:eks/cluster:Cluster", "storageConfig"): aws.eks.ClusterStorageConfigArgs,
    ("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "accessScope"): (
        aws.eks.AccessPolicyAssociationAccessScopeArgs
    ),
    ("aws:eks/nodeGroup:NodeGroup", "scalingConfig"): aws.eks.NodeGroupScalingConfigArgs,
    ("aws:eks/nodeGroup:NodeGroup", "launchTemplate"): aws.eks.NodeGroupLaunchTemplateArgs,
}


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def params(args_class: Any) -> set[str]:
    return set(inspect.signature(args_class.__init__).parameters) - {"self", "__self__"}


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("KUBECONFIG", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(var, raising=False)


def plan_document(stack: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], str]:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(
        app, ["plan", stack, "--out", str(tmp_path / "build")], env={"COLUMNS": "250"}
    )
    assert result.exit_code == 0, result.output
    return json.loads((tmp_path / "build" / stack / "resources.json").read_text()), result.stdout


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    monkeypatch = pytest.MonkeyPatch()
    try:
        for var in ("KUBECONFIG", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
            monkeypatch.delenv(var, raising=False)
        return plan_document("dev", tmp_path_factory.mktemp("dev"), monkeypatch)
    finally:
        monkeypatch.undo()


def test_what_pulumi_eks_creates_is_in_resources_json_marked_and_parented(dev):
    document, _ = dev
    resources = document["resources"]
    by_urn = {r["urn"]: r for r in resources}
    synthesized = [r for r in resources if r["synthesized"]]
    assert {r["type"] for r in synthesized} == SYNTHESIZED_TYPES
    for resource in synthesized:
        assert by_urn[resource["parent"]]["type"] in {"eks:index:Cluster", "eks:index:ManagedNodeGroup"}
        assert by_urn[resource["parent"]]["remote"] is True
        assert resource["custom"] is True
    assert all(r["synthesized"] is False for r in resources if r["type"] not in SYNTHESIZED_TYPES)


def test_who_gets_into_the_cluster_is_in_the_plan(dev):
    document, stdout = dev
    associations = [
        r["inputs"]
        for r in document["resources"]
        if r["type"] == "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
    ]
    granted = {(a["principalArn"], a["policyArn"].rsplit("/", 1)[-1]) for a in associations}
    assert granted == {
        ("arn:aws:iam::111122223333:role/platform-admin", "AmazonEKSClusterAdminPolicy"),
        ("arn:aws:iam::111122223333:role/developers", "AmazonEKSEditPolicy"),
    }
    assert "(created by pulumi-eks) aws:eks/accessPolicyAssociation:AccessPolicyAssociation" in stdout
    (cluster,) = [r for r in document["resources"] if r["type"] == "aws:eks/cluster:Cluster"]
    # The program's own transform (no creator admin) is applied to what pulumi-eks creates.
    assert cluster["inputs"]["accessConfig"]["bootstrapClusterCreatorAdminPermissions"] is False


def test_synthesized_inputs_are_real_pulumi_aws_input_names(dev):
    document, _ = dev
    for resource in (r for r in document["resources"] if r["synthesized"]):
        type_ = resource["type"]
        unknown_keys = {k for k in resource["inputs"] if snake(k) not in params(ARGS_OF[type_])}
        assert not unknown_keys, (type_, unknown_keys)
        for key, value in resource["inputs"].items():
            nested = NESTED_ARGS_OF.get((type_, key))
            if nested is not None and isinstance(value, dict):
                assert not {k for k in value if snake(k) not in params(nested)}, (type_, key, value)


def test_aws_resources_are_counted_apart_from_components_and_providers(dev):
    document, stdout = dev
    resources = document["resources"]
    aws_count = sum(1 for r in resources if r["custom"] and r["type"].startswith("aws:"))
    kubernetes_count = sum(1 for r in resources if r["custom"] and r["type"].startswith("kubernetes:"))
    assert kubernetes_count  # the GitOps agent
    assert document["counts"] == {
        "aws": aws_count,
        "kubernetes": kubernetes_count,
        "component": sum(1 for r in resources if not r["custom"]),
        "provider": sum(1 for r in resources if r["type"].startswith("pulumi:providers:")),
    }
    assert sum(document["counts"].values()) == len(resources)
    assert re.search(rf"total AWS resources\s*│\s*{aws_count} │", stdout)
    caption = " ".join(stdout.split())
    assert (
        f"plus {kubernetes_count} Kubernetes objects in the cluster (Helm releases included), and "
        f"{document['counts']['component']} components and 2 providers," in caption
    )
    assert "aws:eks/cluster:Cluster (created by pulumi-eks)" in stdout


def test_values_only_aws_knows_are_marked_never_invented(dev):
    document, _ = dev
    outputs = document["outputs"]
    assert outputs["oidcIssuerUrl"].startswith("https://(known after apply: ")
    assert outputs["oidcProviderArn"].startswith("(known after apply: ")
    text = json.dumps(document)
    assert "PLAN" not in text  # the old invented issuer id ended in PLAN
    assert "oidc.eks." not in text
    irsa = next(
        r
        for r in document["resources"]
        if r["type"] == "aws:iam/role:Role" and r["name"] == "eksgitops-dev-app-s3-reader"
    )
    trust = json.loads(irsa["inputs"]["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Principal"]["Federated"].startswith("(known after apply: ")


def test_count_table_of_nothing_is_zero():
    assert counts([]) == {"aws": 0, "kubernetes": 0, "component": 0, "provider": 0}
    console = Console(width=120, record=True)
    console.print(count_table([]))
    assert "and 0 components and 0 providers" in " ".join(console.export_text().split())


def test_the_offline_zones_include_an_opted_in_local_zone_unless_filtered_out():
    # So a network without the opt-in-status filter would be caught by its tests.
    mocks = CloudMocks(region="us-west-2")
    token = "aws:index/getAvailabilityZones:getAvailabilityZones"
    unfiltered, _ = mocks.call(pulumi_mocks.MockCallArgs(token, {"state": "available"}, ""))
    assert unfiltered["names"][0] == "us-west-2-lax-1a"
    filtered, _ = mocks.call(
        pulumi_mocks.MockCallArgs(
            token,
            {"state": "available", "filters": [{"name": "opt-in-status", "values": ["opt-in-not-required"]}]},
            "",
        )
    )
    assert filtered["names"][0] == "us-west-2a"


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_each_stack_shows_its_cluster_node_groups_and_admins(stack, tmp_path, monkeypatch):
    document, _ = plan_document(stack, tmp_path, monkeypatch)
    types = [r["type"] for r in document["resources"]]
    assert types.count("aws:eks/cluster:Cluster") == 1
    assert types.count("aws:eks/nodeGroup:NodeGroup") == types.count("eks:index:ManagedNodeGroup") == 2
    assert types.count("aws:eks/accessEntry:AccessEntry") == 2
    (cluster,) = [r for r in document["resources"] if r["type"] == "aws:eks/cluster:Cluster"]
    # Private subnets only, one per AZ.
    assert len(cluster["inputs"]["vpcConfig"]["subnetIds"]) == 3
    assert all("private" in s for s in cluster["inputs"]["vpcConfig"]["subnetIds"])
    assert cluster["inputs"]["deletionProtection"] is (stack == "prod")
