"""Every type token the plan and the policies compare against is the one its SDK registers."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml
from pulumi.type_token import get_type_token

from components import type_tokens

# Each SDK class that registers one of the tokens (a Kubernetes custom resource has no class:
# its token is `kubernetes:<apiVersion>:<kind>`, checked against the CRD the cluster serves).
SDK_CLASS = {
    "KUBERNETES_PROVIDER": "pulumi_kubernetes.Provider",
    "EKS_CLUSTER": "pulumi_eks.Cluster",
    "EKS_MANAGED_NODE_GROUP": "pulumi_eks.ManagedNodeGroup",
    "VPC": "pulumi_aws.ec2.Vpc",
    "SUBNET": "pulumi_aws.ec2.Subnet",
    "NAT_GATEWAY": "pulumi_aws.ec2.NatGateway",
    "EIP": "pulumi_aws.ec2.Eip",
    "INTERNET_GATEWAY": "pulumi_aws.ec2.InternetGateway",
    "ROUTE": "pulumi_aws.ec2.Route",
    "ROUTE_TABLE": "pulumi_aws.ec2.RouteTable",
    "ROUTE_TABLE_ASSOCIATION": "pulumi_aws.ec2.RouteTableAssociation",
    "LAUNCH_TEMPLATE": "pulumi_aws.ec2.LaunchTemplate",
    "IAM_ROLE": "pulumi_aws.iam.Role",
    "IAM_ROLE_POLICY_ATTACHMENT": "pulumi_aws.iam.RolePolicyAttachment",
    "IAM_ROLE_POLICY": "pulumi_aws.iam.RolePolicy",
    "IAM_POLICY": "pulumi_aws.iam.Policy",
    "IAM_USER_POLICY": "pulumi_aws.iam.UserPolicy",
    "IAM_GROUP_POLICY": "pulumi_aws.iam.GroupPolicy",
    "IAM_OIDC_PROVIDER": "pulumi_aws.iam.OpenIdConnectProvider",
    "KMS_KEY": "pulumi_aws.kms.Key",
    "KMS_ALIAS": "pulumi_aws.kms.Alias",
    "AWS_EKS_CLUSTER": "pulumi_aws.eks.Cluster",
    "EKS_ADDON": "pulumi_aws.eks.Addon",
    "EKS_POD_IDENTITY_ASSOCIATION": "pulumi_aws.eks.PodIdentityAssociation",
    "EKS_ACCESS_ENTRY": "pulumi_aws.eks.AccessEntry",
    "EKS_ACCESS_POLICY_ASSOCIATION": "pulumi_aws.eks.AccessPolicyAssociation",
    "EKS_NODE_GROUP": "pulumi_aws.eks.NodeGroup",
    "EKS_CAPABILITY": "pulumi_aws.eks.Capability",
    "LOG_GROUP": "pulumi_aws.cloudwatch.LogGroup",
    "HELM_RELEASE": "pulumi_kubernetes.helm.v3.Release",
    "HELM_CHART": "pulumi_kubernetes.helm.v4.Chart",
    "K8S_NAMESPACE": "pulumi_kubernetes.core.v1.Namespace",
    "K8S_CONFIG_MAP": "pulumi_kubernetes.core.v1.ConfigMap",
    "K8S_SECRET": "pulumi_kubernetes.core.v1.Secret",
}
CUSTOM_RESOURCES = {"FLUX_INSTANCE", "FLUX_RECEIVER", "ARGO_APPLICATION"}
# Registered by the core SDK's own constructors (pulumi/runtime/stack.py, pulumi/stack_reference.py),
# which pass the token to the engine rather than declaring it on the class.
RUNTIME = {"STACK": "pulumi:pulumi:Stack", "STACK_REFERENCE": "pulumi:pulumi:StackReference"}

# The upstream CRDs the project ships (a copy of shared/crds, checked byte for byte elsewhere).
CRDS = Path(__file__).resolve().parents[2] / "eksgitops" / "fleet" / "schemas"

TOKENS = {name: value for name, value in vars(type_tokens).items() if name.isupper()}


def _cls(dotted: str) -> type:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_every_token_is_checked_here() -> None:
    assert set(TOKENS) == set(SDK_CLASS) | CUSTOM_RESOURCES | set(RUNTIME)


@pytest.mark.parametrize("name", sorted(SDK_CLASS))
def test_token_is_the_sdks(name: str) -> None:
    assert get_type_token(_cls(SDK_CLASS[name])) == TOKENS[name]


@pytest.mark.parametrize("name", sorted(CUSTOM_RESOURCES))
def test_custom_resource_token_names_a_served_crd_version(name: str) -> None:
    package, api_version, kind = TOKENS[name].split(":")
    assert package == "kubernetes"
    group, version = api_version.split("/")
    served = set()
    for path in CRDS.glob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            spec = (doc or {}).get("spec") or {}
            if spec.get("group") == group and (spec.get("names") or {}).get("kind") == kind:
                served |= {v["name"] for v in spec.get("versions", []) if v.get("served")}
    assert version in served, TOKENS[name]


@pytest.mark.parametrize("name", sorted(RUNTIME))
def test_runtime_token_is_the_one_the_sdk_registers(name: str) -> None:
    sdk = Path(importlib.import_module("pulumi").__file__ or "").parent
    sources = (sdk / "runtime" / "stack.py").read_text() + (sdk / "stack_reference.py").read_text()
    assert f'"{RUNTIME[name]}"' in sources
    assert TOKENS[name] == RUNTIME[name]
