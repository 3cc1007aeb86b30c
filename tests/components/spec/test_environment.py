"""The environment spec: shipped stacks load, defaults are safe, every mistake is reported."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import config as runtime_config

from components.spec import SpecError, load_spec
from components.spec.base import SecretValue
from components.spec.data import (
    default_kubernetes_version,
    offered_kubernetes_versions,
    supported_kubernetes_versions,
)
from components.spec.environment import STRUCTURED_KEYS, TOP_LEVEL_KEYS
from components.spec.read import (
    config_for_pulumi,
    project_config_defaults,
    raw_config_from_pulumi,
    raw_config_from_stack_file,
)
from tests.components.spec.helpers import (
    ADMIN_ENTRY,
    FLEET,
    GROUP,
    PREFIX,
    ROOT,
    S3_READ,
    SRC,
    errors,
    load_stack,
    minimal,
    one_error,
)

# --- shipped stacks and defaults ------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_shipped_stacks_load(stack: str) -> None:
    spec = load_stack(stack)
    assert spec.environment == stack
    assert spec.gitops.path == f"clusters/{stack}"
    assert spec.access.entries[0].principal_arn.startswith("arn:aws:iam::111122223333:role/")
    assert {"team", "cost-center"} <= set(spec.tags)
    assert spec.endpoint.private_access


def test_shipped_stacks_differ_like_real_environments() -> None:
    dev, staging, prod = load_stack("dev"), load_stack("staging"), load_stack("prod")
    assert (dev.network.zone_count, dev.network.nat_gateways) == (2, "single")
    assert dev.endpoint.public_access and dev.endpoint.public_access_cidrs
    assert {g.capacity_type for g in dev.node_groups} == {"SPOT"}
    assert staging.network.zone_count == 3
    assert (prod.network.zone_count, prod.network.nat_gateways) == (3, "one-per-az")
    assert not prod.endpoint.public_access
    assert {g.capacity_type for g in prod.node_groups} == {"ON_DEMAND"}
    assert any(g.taints for g in prod.node_groups)
    modes = {i.mode for s in (dev, staging, prod) for i in s.identities}
    assert modes == {"irsa", "pod-identity"}


def test_project_file_declares_every_key() -> None:
    assert set(project_config_defaults(ROOT / "Pulumi.yaml")) | {"region"} == set(TOP_LEVEL_KEYS)


def test_defaults_pass_the_security_checklist() -> None:
    spec = load_spec(minimal(), stack="test", source=SRC)
    assert spec.cluster_name == "eksgitops-test"
    assert spec.kubernetes_version == default_kubernetes_version()
    assert spec.kubernetes_version in supported_kubernetes_versions()
    assert spec.endpoint.private_access and not spec.endpoint.public_access  # EKS-ENDPOINT
    assert set(spec.logging) == {"api", "audit", "authenticator", "controllerManager", "scheduler"}
    assert spec.secrets_kms_key_arn is None  # EKS-SECRETS-KMS: a new key, rotation on
    assert spec.access.authentication_mode == "API"  # EKS-ACCESS
    assert spec.node_groups[0].imds_hop_limit == 1  # NODE-IMDSV2
    assert spec.network.nat_gateways == "one-per-az"
    assert set(spec.enabled_addons()) == {
        "vpc-cni",
        "coredns",
        "kube-proxy",
        "eks-pod-identity-agent",
        "aws-ebs-csi-driver",
    }
    assert spec.network.private_subnet_cidrs() == ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"]
    assert spec.network.public_subnet_cidrs() == ["10.0.96.0/24", "10.0.97.0/24", "10.0.98.0/24"]
    assert spec.gitops.path == "clusters/test"


def test_empty_strings_from_project_defaults_mean_unset() -> None:
    spec = load_spec(
        minimal(clusterName="", kubernetesVersion="", secretsKmsKeyArn=""), stack="t", source=SRC
    )
    assert spec.cluster_name == "eksgitops-t"
    assert spec.secrets_kms_key_arn is None


def test_auto_mode_alone_and_with_node_groups() -> None:
    auto = {
        "region": "eu-west-1",
        "autoMode": {"enabled": True},
        "access": {"entries": [ADMIN_ENTRY]},
        "gitops": dict(FLEET),
    }
    assert load_spec(auto, stack="test", source=SRC).auto_mode.enabled
    assert load_spec({**auto, "nodeGroups": [GROUP]}, stack="test", source=SRC).node_groups


def test_existing_vpc() -> None:
    net = {
        "vpcId": "vpc-0123456789abcdef0",
        "privateSubnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
        "publicSubnetIds": ["subnet-01234567"],
    }
    spec = load_spec(minimal(network=net), stack="test", source=SRC)
    assert spec.network.existing and spec.network.vpc_cidr is None


# --- exact lines ----------------------------------------------------------------------


def test_missing_region_and_no_compute() -> None:
    assert errors({}) == [
        f"{PREFIX}gitops.repoUrl: is required with agent flux; the fleet repository's URL, or agent none",
        f"{PREFIX}region: is required; an AWS region such as eu-west-1",
    ]
    # Rules across sections run once the keys they compare are well formed, all together.
    gitops = {"repoUrl": "https://github.com/example/fleet.git"}
    assert errors({"region": "eu-west-1", "gitops": gitops}) == [
        f"{PREFIX}access.entries: has no cluster-wide AmazonEKSClusterAdminPolicy entry, and the cluster's "
        "creator gets no permanent admin; an entry {principalArn: <the role that runs pulumi up or your "
        "admins' role>} (policy AmazonEKSClusterAdminPolicy is the default, no namespaces)",
        f"{PREFIX}nodeGroups: no compute: no node groups and autoMode.enabled is not true; "
        "at least one node group, or autoMode.enabled: true (or both)",
    ]


def test_a_cluster_wide_admin_entry_is_required() -> None:
    # The creator gets no implicit admin (EKS-ACCESS), so some entry must administer the cluster.
    scoped = {"principalArn": ADMIN_ENTRY["principalArn"], "namespaces": ["apps"]}
    one_error(minimal(access={"entries": [scoped]}), "access.entries", "no cluster-wide")
    viewer = {"principalArn": ADMIN_ENTRY["principalArn"], "policy": "AmazonEKSViewPolicy"}
    one_error(minimal(access={"entries": [viewer]}), "access.entries", "no cluster-wide")
    full_arn = {**ADMIN_ENTRY, "policy": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"}
    assert load_spec(minimal(access={"entries": [full_arn]}), stack="test", source=SRC).access.entries


@pytest.mark.parametrize("name", ["node", "cluster", "auto-node", "ebs-csi"])
def test_identity_names_of_the_platform_roles_are_reserved(name: str) -> None:
    # `<cluster>-node` etc. are the platform's own roles: an identity of that name would collide.
    identity = {"name": name, "namespace": "a", "serviceAccount": "a", "managedPolicyArns": [S3_READ]}
    one_error(minimal(identities=[identity]), "identities[0].name", "platform's own")
    assert load_spec(minimal(identities=[{**identity, "name": "nodes"}]), stack="test", source=SRC)


def test_unknown_key_did_you_mean() -> None:
    assert one_error(minimal(network={"vpcCidrr": "10.0.0.0/16"}), "network.vpcCidrr", "") == (
        f'{PREFIX}network.vpcCidrr: unknown key, did you mean "vpcCidr"?; allowed keys here: '
        "availabilityZones, azCount, natGateways, privateSubnetIds, privateSubnetPrefix, publicSubnetIds, "
        "publicSubnetPrefix, serviceCidr, vpcCidr, vpcId"
    )
    one_error(minimal(nodeGroup=[]), "nodeGroup", 'did you mean "nodeGroups"?')
    one_error(minimal(environment="x"), "environment", "unknown key")
    one_error(minimal(nodeGroups=[{**GROUP, "min_size": 1}]), "nodeGroups[0].min_size", '"minSize"')


def test_vpc_too_small() -> None:
    assert one_error(minimal(network={"vpcCidr": "10.0.0.0/24"}), "network.vpcCidr", "") == (
        f"{PREFIX}network.vpcCidr: VPC 10.0.0.0/24 too small for 3 private /19 and 3 public /24 subnets; "
        "a VPC of /17 or larger, or longer subnet prefixes"
    )


def test_node_group_sizes_out_of_order() -> None:
    group = {**GROUP, "minSize": 3, "desiredSize": 2, "maxSize": 5}
    assert one_error(minimal(nodeGroups=[group]), "nodeGroups[0].minSize", "") == (
        f"{PREFIX}nodeGroups[0].minSize: 3 is greater than desiredSize 2; minSize <= desiredSize <= maxSize"
    )
    one_error(minimal(nodeGroups=[{**GROUP, "maxSize": 1}]), "nodeGroups[0].desiredSize", "maxSize 1")


def test_kubernetes_version() -> None:
    offered = ", ".join(f'"{v}"' for v in offered_kubernetes_versions())
    assert one_error(minimal(kubernetesVersion="1.29"), "kubernetesVersion", "") == (
        f'{PREFIX}kubernetesVersion: "1.29" is not a Kubernetes version EKS offers; '
        f"one of {offered} (offered by EKS)"
    )
    one_error(
        minimal(kubernetesVersion=1.3), "kubernetesVersion", "the number 1.3 (an unquoted 1.30?): quote it"
    )


def test_versions_in_extended_support_are_offered_until_their_end() -> None:
    # Extended support is EKS-VERSION's business (tests/policy/test_posture_in_the_rules.py),
    # but a version past its end of extended support is gone: EKS creates no cluster on it.
    assert offered_kubernetes_versions(date(2026, 11, 27))[:2] == ["1.32", "1.33"]
    assert "1.32" not in supported_kubernetes_versions(date(2026, 11, 27))
    assert "1.32" not in offered_kubernetes_versions(date(2027, 3, 24))
    assert set(supported_kubernetes_versions()) < set(offered_kubernetes_versions())
    assert load_spec(minimal(kubernetesVersion="1.33"), stack="test", source=SRC).kubernetes_version == "1.33"


def test_public_endpoint_syntax_and_reachability() -> None:
    # How far the endpoint is open is EKS-ENDPOINT's: the spec takes these, the plan fails them.
    for endpoint in ({"publicAccess": True}, {"publicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}):
        assert load_spec(minimal(endpoint=endpoint), stack="test", source=SRC).endpoint.public_access
    one_error(
        minimal(endpoint={"publicAccess": True, "publicAccessCidrs": ["::/0"]}),
        "endpoint.publicAccessCidrs[0]",
        "IPv6",
    )
    bad = {"publicAccess": True, "publicAccessCidrs": ["203.0.113.1/24"]}
    one_error(minimal(endpoint=bad), "endpoint.publicAccessCidrs[0]", "host bits set")
    one_error(minimal(endpoint={"privateAccess": False}), "endpoint", "both off")


def test_tags_reserved_prefix_and_type() -> None:
    assert one_error(minimal(tags={"AWS:owner": "me"}), "tags.AWS:owner", "") == (
        f"{PREFIX}tags.AWS:owner: uses the aws: prefix, which AWS reserves; a key not starting with aws:"
    )
    one_error(minimal(tags={"cost-center": 1001}), "tags.cost-center", "the number 1001, not a string")


# --- one line per rule: key path and key phrase ---------------------------------------

BAD_INPUTS: list[tuple[dict[str, Any], str, str]] = [
    ({"region": "eu-west1"}, "region", "not an AWS region name"),
    ({"clusterName": "Prod_Cluster"}, "clusterName", "not a valid cluster name"),
    ({"clusterName": "a" * 64}, "clusterName", "DNS-1123"),
    ({"network": {"vpcCidr": "10.0.0.300/16"}}, "network.vpcCidr", "not an IPv4 CIDR"),
    ({"network": {"vpcCidr": "10.0.0.0/8"}}, "network.vpcCidr", "/16 to /28"),
    ({"network": {"azCount": 7}}, "network.azCount", "2 to 6"),
    ({"network": {"azCount": 1}}, "network.azCount", "out of range"),
    (
        {"network": {"availabilityZones": ["eu-west-1a", "us-east-1b"]}},
        "network.availabilityZones[1]",
        "of eu-west-1",
    ),
    ({"network": {"availabilityZones": ["eu-west-1a", "eu-west-1a"]}}, "network.availabilityZones", "twice"),
    ({"network": {"availabilityZones": ["eu-west-1a"]}}, "network.availabilityZones", "2 to 6"),
    (
        {"network": {"privateSubnetPrefix": 16}},
        "network.privateSubnetPrefix",
        "not longer than the VPC's /16",
    ),
    ({"network": {"serviceCidr": "10.0.0.0/16"}}, "network.serviceCidr", "overlaps the VPC CIDR 10.0.0.0/16"),
    ({"network": {"serviceCidr": "bogus"}}, "network.serviceCidr", "not an IPv4 CIDR"),
    ({"network": {"natGateways": "two"}}, "network.natGateways", "one of one-per-az, single"),
    (
        {"network": {"vpcId": "vpc-0123456789abcdef0", "privateSubnetIds": []}},
        "network.privateSubnetIds",
        "at least two AZs",
    ),
    (
        {"network": {"vpcId": "vpc-12", "privateSubnetIds": ["subnet-01234567", "subnet-89abcdef"]}},
        "network.vpcId",
        "not a VPC id",
    ),
    (
        {"network": {"vpcId": "vpc-01234567", "privateSubnetIds": ["subnet-01234567", "subnet-xyz"]}},
        "network.privateSubnetIds[1]",
        "not a subnet id",
    ),
    (
        {
            "network": {
                "vpcId": "vpc-01234567",
                "vpcCidr": "10.0.0.0/16",
                "privateSubnetIds": ["subnet-01234567", "subnet-89abcdef"],
            }
        },
        "network.vpcCidr",
        "set together with vpcId",
    ),
    ({"logging": ["api", "api"]}, "logging", "twice"),
    ({"logging": ["api", "audits"]}, "logging[1]", 'did you mean "audit"?'),
    ({"secretsKmsKeyArn": "arn:aws:kms:eu-west-1:111122223333:alias/eks"}, "secretsKmsKeyArn", "alias"),
    ({"secretsKmsKeyArn": "arn:aws:kms:eu-west-1:1111:key/x"}, "secretsKmsKeyArn", "not a KMS key ARN"),
    (
        {"secretsKmsKeyArn": "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
        "secretsKmsKeyArn",
        "key is in us-east-1",
    ),
    (
        {"access": {"entries": [{"principalArn": "arn:aws:iam::111122223333:group/admins"}]}},
        "access.entries[0].principalArn",
        "not an IAM role or user ARN",
    ),
    (
        {"access": {"entries": [{"principalArn": "arn:aws:iam::111122223333:role/a", "policy": "Admin"}]}},
        "access.entries[0].policy",
        "not an EKS access policy",
    ),
    (
        {
            "access": {
                "entries": [{"principalArn": "arn:aws:iam::111122223333:role/a", "namespaces": ["Apps"]}]
            }
        },
        "access.entries[0].namespaces[0]",
        "not a valid namespace",
    ),
    (
        {"access": {"authenticationMode": "CONFIG_MAP", "entries": [ADMIN_ENTRY]}},
        "access.authenticationMode",
        "one of API",
    ),
    ({"nodeGroups": [{**GROUP, "instanceTypes": []}]}, "nodeGroups[0].instanceTypes", "is empty"),
    ({"nodeGroups": [{**GROUP, "instanceTypes": ["large"]}]}, "nodeGroups[0].instanceTypes[0]", "not an EC2"),
    (
        {"nodeGroups": [{**GROUP, "instanceTypes": ["m6i.large"], "amiType": "AL2023_ARM_64_STANDARD"}]},
        "nodeGroups[0].instanceTypes[0]",
        "x86_64 but amiType",
    ),
    (
        {"nodeGroups": [{**GROUP, "amiType": "AL2_x86_64"}]},
        "nodeGroups[0].amiType",
        "not a supported AMI type",
    ),
    ({"nodeGroups": [{**GROUP, "diskSize": 10}]}, "nodeGroups[0].diskSize", "20 to 16384"),
    ({"nodeGroups": [{**GROUP, "minSize": -1}]}, "nodeGroups[0].minSize", "negative"),
    (
        {"nodeGroups": [{**GROUP, "maxSize": 0, "minSize": 0, "desiredSize": 0}]},
        "nodeGroups[0].maxSize",
        "below 1",
    ),
    (
        {"nodeGroups": [{**GROUP, "maxSize": "5"}]},
        "nodeGroups[0].maxSize",
        'the string "5", not a whole number',
    ),
    ({"nodeGroups": [{"name": "Gen"}]}, "nodeGroups[0].name", "not a valid node group name"),
    ({"nodeGroups": [GROUP, GROUP]}, "nodeGroups", "two node groups named general"),
    ({"nodeGroups": [{}]}, "nodeGroups[0].name", "is required"),
    ({"nodeGroups": [{**GROUP, "labels": {"-bad": "x"}}]}, "nodeGroups[0].labels.-bad", "label key"),
    ({"nodeGroups": [{**GROUP, "labels": {"ok": "bad value"}}]}, "nodeGroups[0].labels.ok", "label value"),
    (
        {"nodeGroups": [{**GROUP, "taints": [{"key": "k", "effect": "NoSchedule"}]}]},
        "nodeGroups[0].taints[0].effect",
        'did you mean "NO_SCHEDULE"?',
    ),
    (
        {"nodeGroups": [{**GROUP, "capacityType": "spot"}]},
        "nodeGroups[0].capacityType",
        'did you mean "SPOT"?',
    ),
    ({"addons": {"vpc_cni": {}}}, "addons.vpc_cni", 'did you mean "vpc-cni"?'),
    ({"addons": {"coredns": {"version": "1.11.1"}}}, "addons.coredns.version", "not an EKS add-on version"),
    ({"gitops": {"repoUrl": "http://github.com/example/fleet.git"}}, "gitops.repoUrl", "neither an https://"),
    (
        {"gitops": {"repoUrl": "https://user:tok@github.com/example/fleet.git"}},
        "gitops.repoUrl",
        "credentials",
    ),
    ({"gitops": {"agent": "jenkins"}}, "gitops.agent", "one of flux, argocd"),
    ({"gitops": {"branch": "feature..x"}}, "gitops.branch", "not a valid Git branch name"),
    ({"gitops": {"path": "/clusters/dev"}}, "gitops.path", "not a relative path"),
    ({"gitops": {"path": "clusters/../../etc"}}, "gitops.path", "climbs out with .."),
    ({"tags": {f"k{i}": "v" for i in range(41)}}, "tags", "at most 40"),
    ({"tags": {"k" * 129: "v"}}, "tags." + "k" * 129, "1 to 128 characters"),
    ({"tags": {"team": "v" * 257}}, "tags.team", "at most 256"),
    ({"tags": {"team": "a;b"}}, "tags.team", "characters AWS refuses"),
]

IDENTITY = {"name": "app", "namespace": "apps", "serviceAccount": "app"}
POLICY_ARN = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
BAD_IDENTITIES: list[tuple[list[dict[str, Any]], str, str]] = [
    ([IDENTITY], "identities[0]", "grants nothing"),
    (
        [{**IDENTITY, "managedPolicyArns": ["arn:aws:iam::aws:role/x"]}],
        "identities[0].managedPolicyArns[0]",
        "IAM policy ARN",
    ),
    ([{**IDENTITY, "name": "App", "managedPolicyArns": [POLICY_ARN]}], "identities[0].name", "identity name"),
    (
        [{**IDENTITY, "namespace": "a_b", "managedPolicyArns": [POLICY_ARN]}],
        "identities[0].namespace",
        "namespace",
    ),
    (
        [{**IDENTITY, "mode": "kiam", "managedPolicyArns": [POLICY_ARN]}],
        "identities[0].mode",
        "pod-identity, irsa",
    ),
    ([{**IDENTITY, "policy": {"Version": "2012-10-17"}}], "identities[0].policy.Statement", "missing"),
    (
        [{**IDENTITY, "policy": {"Statement": [{"Effect": "Allow", "Resource": "*"}]}}],
        "identities[0].policy.Statement[0].Action",
        "missing or empty",
    ),
    (
        [{**IDENTITY, "policy": {"Statement": [{"Effect": "allow", "Action": "s3:Get*", "Resource": "*"}]}}],
        "identities[0].policy.Statement[0].Effect",
        "Allow or Deny",
    ),
    (
        [
            {**IDENTITY, "managedPolicyArns": [POLICY_ARN]},
            {**IDENTITY, "name": "b", "managedPolicyArns": [POLICY_ARN]},
        ],
        "identities",
        "two identities for service account apps/app",
    ),
    (
        [
            {**IDENTITY, "managedPolicyArns": [POLICY_ARN]},
            {**IDENTITY, "serviceAccount": "b", "managedPolicyArns": [POLICY_ARN]},
        ],
        "identities",
        "two identities named app",
    ),
]


@pytest.mark.parametrize(
    ("override", "path", "phrase"), BAD_INPUTS, ids=[c[1] + ":" + c[2] for c in BAD_INPUTS]
)
def test_each_rule_reports_one_line(override: dict[str, Any], path: str, phrase: str) -> None:
    one_error(minimal(**override), path, phrase)


@pytest.mark.parametrize(("identities", "path", "phrase"), BAD_IDENTITIES, ids=[c[2] for c in BAD_IDENTITIES])
def test_identity_rules(identities: list[dict[str, Any]], path: str, phrase: str) -> None:
    one_error(minimal(identities=identities), path, phrase)


def test_pod_identity_needs_its_agent() -> None:
    ident = {**IDENTITY, "managedPolicyArns": [POLICY_ARN]}
    addons = {"eks-pod-identity-agent": {"enabled": False}, "aws-ebs-csi-driver": {"enabled": False}}
    raw = minimal(identities=[ident], addons=addons)
    one_error(raw, "addons.eks-pod-identity-agent.enabled", "uses mode pod-identity")
    load_spec({**raw, "identities": [{**ident, "mode": "irsa"}]}, stack="test", source=SRC)


def test_lines_have_the_required_form() -> None:
    lines = errors(minimal(region="x", network={"azCount": 9}, tags={"aws:x": "y"}))
    for line in lines:
        assert line.startswith(PREFIX)
        assert line.count("; ") == 1, line
        assert "Input should be" not in line and "http" not in line
    assert lines == sorted(lines, key=lambda s: s.split(": ")[1])


# --- stack files ----------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "Pulumi.test.yaml"
    path.write_text(text)
    return path


def test_stack_file_reads_like_pulumi(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
config:
  aws:region: eu-west-1
  eksgitops:kubernetesVersion: 1.30
  region: eu-west-1
  eksgitops:tags:
    team: platform
    token:
      secure: AAABAKc2ZXQ=
  eksgitops:clusterName:
    secure: AAABAEhlbGxv
""",
    )
    raw = raw_config_from_stack_file(path)
    assert raw["kubernetesVersion"] == "1.30"  # the source text, not the float 1.3
    assert raw["region"] == "eu-west-1"  # a bare key belongs to the project
    assert "aws:region" not in raw and "region" in raw
    assert raw["tags"]["team"] == "platform"
    assert isinstance(raw["tags"]["token"], SecretValue)
    assert isinstance(raw["clusterName"], SecretValue)
    assert str(raw["clusterName"]) == "[secret]" and "AAAB" not in repr(raw["clusterName"])


def test_stack_file_with_many_mistakes_reports_all_at_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
config:
  eksgitops:region: eu-west-1
  eksgitops:kubernetesVersion: 1.29
  eksgitops:network:
    vpcCidr: 10.0.0.0/24
  eksgitops:endpoint:
    privateAccess: false
  eksgitops:nodeGroups:
    - name: general
      minSize: 4
      desiredSize: 2
      maxSize: 3
    - name: general
      instanceTypes: []
  eksgitops:gitops:
    repoUrl: ftp://example.com/fleet
    path: ../fleet
  eksgitops:tags:
    aws:owner: me
  eksgitops:nodegroups: []
""",
    )
    lines = errors(raw_config_from_stack_file(path))
    paths = [line.split(": ")[1] for line in lines]
    # access.entries (no admin) and nodeGroups (two named general) compare keys: they
    # are reported once every node group is well formed.
    assert paths == [
        "eksgitops:endpoint",
        "eksgitops:gitops.path",
        "eksgitops:gitops.repoUrl",
        "eksgitops:kubernetesVersion",
        "eksgitops:network.vpcCidr",
        "eksgitops:nodeGroups[0].minSize",
        "eksgitops:nodeGroups[1].instanceTypes",
        "eksgitops:nodegroups",
        "eksgitops:tags.aws:owner",
    ]
    assert 'did you mean "nodeGroups"?' in lines[7]


def test_stack_file_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        raw_config_from_stack_file(tmp_path / "missing.yaml")
    assert info.value.lines[0].startswith(f"{tmp_path / 'missing.yaml'}: cannot read")
    bad = write(tmp_path, "config:\n  eksgitops:region: eu-west-1\n  eksgitops:tags: [a\n")
    with pytest.raises(SpecError) as info:
        raw_config_from_stack_file(bad)
    assert len(info.value.lines) == 1
    assert info.value.lines[0].startswith(f"{bad}:4: not valid YAML")


def test_secret_values_are_reported_not_shown() -> None:
    line = one_error(minimal(clusterName=SecretValue("AAAB")), "clusterName", "is a Pulumi secret")
    assert "AAAB" not in line


# --- Pulumi config --------------------------------------------------------------------


@pytest.fixture
def pulumi_config() -> Any:
    token = runtime_config.CONFIG.set({})
    pulumi.runtime.settings._set_project("eksgitops")
    yield
    runtime_config.CONFIG.reset(token)


def test_raw_config_from_pulumi_decodes_structured_keys(pulumi_config: None) -> None:
    pulumi.runtime.set_all_config(
        {
            "eksgitops:region": "eu-west-1",
            "eksgitops:kubernetesVersion": "1.35",
            "eksgitops:nodeGroups": json.dumps([GROUP]),
            "eksgitops:access": json.dumps({"entries": [ADMIN_ENTRY]}),
            "eksgitops:tags": '{"team": "platform"}',
            "eksgitops:gitops": json.dumps(FLEET),
            "aws:region": "eu-west-1",
        }
    )
    raw = raw_config_from_pulumi()
    assert raw == {
        "region": "eu-west-1",
        "kubernetesVersion": "1.35",
        "nodeGroups": [GROUP],
        "access": {"entries": [ADMIN_ENTRY]},
        "tags": {"team": "platform"},
        "gitops": FLEET,
    }
    assert load_spec(raw, stack="test", source=SRC).tags == {"team": "platform"}


def test_raw_config_from_pulumi_reports_bad_json(pulumi_config: None) -> None:
    pulumi.runtime.set_all_config(
        {
            "eksgitops:region": "eu-west-1",
            "eksgitops:nodeGroups": "[{oops",
            "eksgitops:access": json.dumps({"entries": [ADMIN_ENTRY]}),
            "eksgitops:gitops": json.dumps(FLEET),
        }
    )
    one_error(raw_config_from_pulumi(), "nodeGroups", "is not valid JSON")


def test_config_for_pulumi_round_trips(pulumi_config: None) -> None:
    raw = raw_config_from_stack_file(ROOT / "stacks" / "Pulumi.prod.yaml")
    config, secret_keys = config_for_pulumi(raw)
    assert secret_keys == []
    assert all(k.startswith("eksgitops:") and isinstance(v, str) for k, v in config.items())
    for key in STRUCTURED_KEYS & set(raw):
        json.loads(config[f"eksgitops:{key}"])
    pulumi.runtime.set_all_config(config, secret_keys)
    assert raw_config_from_pulumi() == raw


def test_config_for_pulumi_marks_secrets() -> None:
    raw = {"region": "eu-west-1", "gitops": {"token": SecretValue("AAAB")}, "clusterName": SecretValue("x")}
    config, secret_keys = config_for_pulumi(raw, project="other")
    assert config["other:clusterName"] == "[secret]"
    assert json.loads(config["other:gitops"]) == {"token": "[secret]"}
    assert sorted(secret_keys) == ["other:clusterName", "other:gitops"]
    assert "AAAB" not in json.dumps(config)


# --- issue 6: what slipped through before ---------------------------------------------

STATEMENT = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}


def _policy(**statement: Any) -> list[dict[str, Any]]:
    return [{**IDENTITY, "policy": {"Version": "2012-10-17", "Statement": [{**STATEMENT, **statement}]}}]


ISSUE_6: list[tuple[dict[str, Any], str, str]] = [
    ({"region": "eu-west-\u0661"}, "region", "not an AWS region name"),  # Arabic-Indic digit
    ({"region": "eu-west-\uff11"}, "region", "not an AWS region name"),  # full-width digit
    ({"region": "xx-west-1"}, "region", "not an AWS region name"),
    ({"region": "eu-west-1\n"}, "region", "not an AWS region name"),
    ({"clusterName": "dev\n"}, "clusterName", "not a valid cluster name"),
    ({"network": {"azCount": 4}}, "network.azCount", "more than the 3 zones of eu-west-1"),
    (
        {"network": {"availabilityZones": ["eu-west-1a", "eu-west-1d"]}},
        "network.availabilityZones[1]",
        "one of eu-west-1a, eu-west-1b, eu-west-1c",
    ),
    (
        {"access": {"entries": [{"principalArn": "arn:aws:iam::١١١١٢٢٢٢٣٣٣٣:role/a"}]}},
        "access.entries[0].principalArn",
        "not an IAM role or user ARN",
    ),
    (
        {"access": {"entries": [{"principalArn": "arn:aws:iam::111122223333:role/adminé"}]}},
        "access.entries[0].principalArn",
        "not an IAM role or user name",
    ),
    (
        {"access": {"entries": [{"principalArn": "arn:aws:iam::111122223333:role/" + "a" * 65}]}},
        "access.entries[0].principalArn",
        "1 to 64",
    ),
    (
        {"access": {"entries": [{"principalArn": "arn:aws-xx:iam::111122223333:role/a"}]}},
        "access.entries[0].principalArn",
        "not an IAM role or user ARN",
    ),
    (
        {"access": {"entries": [{"principalArn": "arn:aws-cn:iam::111122223333:role/a"}]}},
        "access.entries[0].principalArn",
        "partition aws-cn",
    ),
    ({"nodeGroups": [{**GROUP, "maxSize": 1000000}]}, "nodeGroups[0].maxSize", "above 1000"),
    ({"nodeGroups": [{**GROUP, "maxSize": 2**64}]}, "nodeGroups[0].maxSize", "above 1000"),
    ({"nodeGroups": [{**GROUP, "imdsHopLimit": 2.0}]}, "nodeGroups[0].imdsHopLimit", "the number 2.0, not"),
    ({"nodeGroups": [{**GROUP, "imdsHopLimit": True}]}, "nodeGroups[0].imdsHopLimit", "boolean true, not"),
    (
        {"nodeGroups": [{**GROUP, "imdsHopLimit": "1"}]},
        "nodeGroups[0].imdsHopLimit",
        'string "1", not a whole',
    ),
    ({"nodeGroups": [{**GROUP, "imdsHopLimit": 0}]}, "nodeGroups[0].imdsHopLimit", "1 to 64"),
    ({"nodeGroups": [{**GROUP, "imdsHopLimit": 65}]}, "nodeGroups[0].imdsHopLimit", "1 to 64"),
    (
        {"identities": _policy(Principal="*")},
        "identities[0].policy.Statement[0].Principal",
        "identity policy",
    ),
    (
        {"identities": _policy(Action="GetObject")},
        "identities[0].policy.Statement[0].Action",
        "service:Action",
    ),
    ({"identities": _policy(Action=[1])}, "identities[0].policy.Statement[0].Action[0]", "not a string"),
    ({"identities": _policy(Resource="x")}, "identities[0].policy.Statement[0].Resource", "* or an ARN"),
    (
        {"identities": _policy(Resource=[f"arn:aws:s3:::bucket-{i:05}/*" for i in range(500)])},
        "identities[0].policy",
        "10240",
    ),
    ({"tags": {"eksgitops:environment": "x"}}, "tags.eksgitops:environment", "project's own tags"),
    ({"network": {"privateSubnetPrefix": 17}}, "network.vpcCidr", "even in a /16"),
    (
        {"access": {"authenticationMode": "API_AND_CONFIG_MAP", "entries": [ADMIN_ENTRY]}},
        "access.authenticationMode",
        "one of API",
    ),
    (
        {"addons": {"eks-pod-identity-agent": {"enabled": False}}},
        "addons.eks-pod-identity-agent.enabled",
        "aws-ebs-csi-driver is on",
    ),
    ({"addons": {"vpc-cni": {"enabled": False}}}, "addons.vpc-cni.enabled", "never become Ready"),
    ({"addons": {"coredns": {"enabled": False}}}, "addons.coredns.enabled", "without Auto Mode"),
]


@pytest.mark.parametrize(("override", "path", "phrase"), ISSUE_6, ids=[c[1] + ":" + c[2] for c in ISSUE_6])
def test_what_slipped_through_is_one_line(override: dict[str, Any], path: str, phrase: str) -> None:
    one_error(minimal(**override), path, phrase)


def test_auto_mode_without_pools_needs_node_groups() -> None:
    auto = {"enabled": True, "nodePools": []}
    raw = {
        "region": "eu-west-1",
        "autoMode": auto,
        "access": {"entries": [ADMIN_ENTRY]},
        "gitops": {"repoUrl": "https://github.com/example/fleet.git"},
    }
    one_error(raw, "nodeGroups", "autoMode.nodePools is empty")
    assert load_spec({**raw, "nodeGroups": [GROUP]}, stack="test", source=SRC).auto_mode.node_pools == []
    # Auto Mode runs vpc-cni, kube-proxy and coredns itself: turning the add-ons off is fine.
    off = {n: {"enabled": False} for n in ("vpc-cni", "kube-proxy", "coredns")}
    assert load_spec({**raw, "autoMode": {"enabled": True}, "addons": off}, stack="test", source=SRC)


def test_good_inputs_of_the_new_rules_pass() -> None:
    ok = minimal(
        region="us-west-1",
        network={"availabilityZones": ["us-west-1a", "us-west-1b"]},
        nodeGroups=[{**GROUP, "maxSize": 1000, "imdsHopLimit": 64}],
        tags={"team": "x", "eksgitopsteam": "y"},
        identities=_policy(Action=["s3:Get*", "kms:Decrypt"], Resource=["arn:aws:s3:::b/*"]),
    )
    spec = load_spec(ok, stack="test", source=SRC)
    assert spec.node_groups[0].max_size == 1000
    assert (
        load_spec(
            minimal(
                region="us-gov-west-1",
                access={"entries": [{"principalArn": "arn:aws-us-gov:iam::111122223333:role/path/to/admin"}]},
            ),
            stack="test",
            source=SRC,
        ).region
        == "us-gov-west-1"
    )


def test_credentials_in_urls_never_reach_a_message() -> None:
    for url in ("http://user:TOKEN@host/x.git", "ssh://git:TOKEN@host/x.git", "https://TOKEN@host/x.git"):
        lines = errors(minimal(gitops={"repoUrl": url}))
        assert lines and all("TOKEN" not in line for line in lines), lines


def test_unclear_messages_of_issue_6_are_clear() -> None:
    line = one_error(minimal(nodeGroups=[{**GROUP, "imdsHopLimit": "1"}]), "nodeGroups[0].imdsHopLimit", "")
    assert "did you mean" not in line
    line = one_error(minimal(network={"privateSubnetPrefix": 17}), "network.vpcCidr", "")
    assert "a VPC of /" not in line  # no VPC larger than /16 exists to suggest


# --- tag keys by case, and characters that break a line ----------------------------------


def test_tag_keys_that_differ_only_by_case_are_refused() -> None:
    one_error(
        minimal(tags={"team": "a", "Team": "b"}), "tags.Team", 'differs from the key "team" only by case'
    )
    assert load_spec(minimal(tags={"team": "a", "owner": "A"}), stack="test", source=SRC).tags["owner"] == "A"


@pytest.mark.parametrize(
    ("override", "path", "char"),
    [
        ({"gitops": {**FLEET, "path": "clusters/a\nb"}}, "gitops.path", "U+000A"),
        ({"gitops": {**FLEET, "branch": "main\u2028x"}}, "gitops.branch", "U+2028"),
        ({"tags": {"team": "a\u0085"}}, "tags.team", "U+0085"),
        (
            {"policy": {"waivers": [{"rule": "EKS-ENDPOINT", "reason": "ok\u2029then"}]}},
            "policy.waivers[0].reason",
            "U+2029",
        ),
    ],
)
def test_a_control_or_line_break_character_names_its_key(
    override: dict[str, Any], path: str, char: str
) -> None:
    one_error(minimal(**override), path, char)


def test_a_line_separator_quoted_in_a_line_is_shown_escaped() -> None:
    lines = errors(minimal(gitops={**FLEET, "branch": "a..\u2028\u0085b\u2029"}))
    assert len(lines) == 1 and "\\u2028\\x85b\\u2029" in lines[0], lines
    assert len(lines[0].splitlines()) == 1
