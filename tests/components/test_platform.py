"""Platform: one environment from one spec, every AWS call through its own provider."""

from __future__ import annotations

import json
from typing import Any

import pytest

from eksgitops.components.platform import CLUSTER_TAG, ENVIRONMENT_TAG, Platform, PlatformArgs
from eksgitops.components.spec import EnvironmentSpec, load_spec
from eksgitops.plan.offline_engine import PlanResult, run_program

ADMIN = {"principalArn": "arn:aws:iam::111122223333:role/platform-admin"}
S3_READ = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
IDENTITIES = [
    {"name": "reports", "namespace": "apps", "serviceAccount": "reports", "managedPolicyArns": [S3_READ]},
    {
        "name": "queue-worker",
        "namespace": "apps",
        "serviceAccount": "worker",
        "managedPolicyArns": [S3_READ],
        "mode": "irsa",
    },
]


def spec(**overrides: Any) -> EnvironmentSpec:
    raw: dict[str, Any] = {
        "region": "eu-west-1",
        "network": {"azCount": 2, "natGateways": "single"},
        "access": {"entries": [ADMIN]},
        "nodeGroups": [{"name": "general"}],
        "identities": IDENTITIES,
        "tags": {"team": "platform"},
        "gitops": {"repoUrl": "https://github.com/example/fleet.git"},
        **overrides,
    }
    return load_spec(raw, stack="qa", source="stacks/Pulumi.qa.yaml")


def plan(environment: EnvironmentSpec) -> PlanResult:
    def program() -> None:
        Platform(environment.cluster_name, PlatformArgs(spec=environment)).export_stack_outputs()

    return run_program(program, stack="qa", region=environment.region)


@pytest.fixture(scope="module")
def default_plan() -> PlanResult:
    return plan(spec())


def test_every_aws_resource_goes_through_the_platform_provider(default_plan: PlanResult) -> None:
    # No resource may fall back to the default provider, which reads ambient aws:region.
    provider = default_plan.one("pulumi:providers:aws")
    assert provider.plain_inputs()["region"] == "eu-west-1"
    custom = [r for r in default_plan.resources if r.custom and r.type.startswith("aws:")]
    assert custom
    assert {r.provider.split("::")[3] for r in custom} == {provider.name}
    for remote in (r for r in default_plan.resources if r.remote):
        assert remote.providers["aws"].split("::")[3] == provider.name, remote.type


def test_default_tags_name_the_environment_and_keep_the_stacks_own(default_plan: PlanResult) -> None:
    # Provider inputs travel JSON-encoded, as the engine hands them to the provider plugin.
    tags = json.loads(default_plan.one("pulumi:providers:aws").plain_inputs()["defaultTags"])["tags"]
    assert tags == {ENVIRONMENT_TAG: "qa", CLUSTER_TAG: "eksgitops-qa", "team": "platform"}


def test_one_role_per_identity_under_the_platform_with_a_derived_name(default_plan: PlanResult) -> None:
    platform = default_plan.one("eksgitops:platform:Platform")
    children = {r.name: r.type for r in default_plan.resources if r.parent == platform.urn}
    assert children["eksgitops-qa-reports"] == "eksgitops:identity:PodIdentityRole"
    assert children["eksgitops-qa-queue-worker"] == "eksgitops:identity:IrsaRole"
    role_names = {r.plain_inputs()["name"] for r in default_plan.by_type("aws:iam/role:Role")}
    assert {"eksgitops-qa-reports", "eksgitops-qa-queue-worker"} <= role_names


def test_stack_outputs_and_the_secret_kubeconfig(default_plan: PlanResult) -> None:
    outputs = default_plan.outputs
    assert set(outputs) == {
        "environment",
        "region",
        "clusterName",
        "endpoint",
        "oidcIssuerUrl",
        "oidcProviderArn",
        "kubeconfig",
        "nodeRoleArn",
        "vpcId",
        "identityRoleArns",
        "bridge",
        "gitopsAgent",
        "gitopsRepoUrl",
        "gitopsBranch",
        "gitopsPath",
    }
    assert default_plan.secret_outputs == {"kubeconfig"}
    assert outputs["identityRoleArns"] == {
        "reports": "arn:aws:iam::000000000000:role/eksgitops-qa-reports",
        "queue-worker": "arn:aws:iam::000000000000:role/eksgitops-qa-queue-worker",
    }
    # Only EKS knows the issuer's id: the plan shows a placeholder, not an invented id.
    assert (
        outputs["oidcIssuerUrl"]
        == "https://(known after apply: eksgitops-qa-cluster-eksCluster.identities[0].oidcs[0].issuer)"
    )
    assert outputs["oidcProviderArn"] == "(known after apply: eksgitops-qa-cluster-oidc.arn)"


def test_existing_vpc_is_used_as_is() -> None:
    existing = spec(
        network={
            "vpcId": "vpc-0123456789abcdef0",
            "privateSubnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
            "publicSubnetIds": ["subnet-0123456789abcdef2", "subnet-0123456789abcdef3"],
        }
    )
    result = plan(existing)
    assert not [
        r for r in result.resources if r.type.startswith("aws:ec2/") and "launchTemplate" not in r.type
    ]
    cluster = result.one("eks:index:Cluster").plain_inputs()
    assert cluster["vpcId"] == "vpc-0123456789abcdef0"
    assert cluster["privateSubnetIds"] == ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]


def test_public_only_endpoint_lets_the_nodes_in_through_their_nat_addresses() -> None:
    # Without the private endpoint, nodes reach the API server from the NAT gateways' addresses.
    endpoint = {"privateAccess": False, "publicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}
    result = plan(spec(endpoint=endpoint))
    cidrs = result.one("eks:index:Cluster").plain_inputs()["publicAccessCidrs"]
    assert cidrs == ["203.0.113.0/24", "(known after apply: eksgitops-qa-network-nat-eip-0.publicIp)/32"]


def test_the_cluster_is_given_private_subnets_and_the_control_plane_settings() -> None:
    result = plan(spec(controlPlane={"deletionProtection": True, "logRetentionDays": 30}))
    cluster = result.one("eks:index:Cluster").plain_inputs()
    assert "publicSubnetIds" not in cluster
    assert cluster["deletionProtection"] is True
    assert result.one("aws:cloudwatch/logGroup:LogGroup").inputs["retentionInDays"] == 30
