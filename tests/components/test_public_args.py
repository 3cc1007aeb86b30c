"""Every public component's `*Args` refuses what the spec refuses, naming the argument (issue 24, item 1).

The walk covers every `*Args` dataclass of `eksgitops.components` (a new one without cases here
fails `test_every_public_args_class_is_walked`): each field with a value of the wrong type, and
`None`, empty and out-of-range values where the spec has a rule. Every refusal is a ValueError
or TypeError whose message starts with `<Args>.<field>`, says what was wrong and what is allowed.
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s
import pytest

import eksgitops.components as components_package
from eksgitops.components.addons import ClusterAddonsArgs
from eksgitops.components.cluster import EksCluster, EksClusterArgs
from eksgitops.components.cluster_role import ClusterRoleArgs
from eksgitops.components.fleet_escrow import FleetEscrowArgs
from eksgitops.components.gitops.agent import GitOpsAgentArgs
from eksgitops.components.gitops.argocd_agent import ArgoCdAgentArgs
from eksgitops.components.gitops.bridge_values import BridgeValues, FluxBridgeArgs
from eksgitops.components.gitops.eks_argocd import EksArgoCdArgs
from eksgitops.components.gitops.flux_agent import FluxAgentArgs
from eksgitops.components.gitops.flux_identities import FluxControllerIdentitiesArgs
from eksgitops.components.gitops.kubernetes_provider import ClusterKubernetesProviderArgs
from eksgitops.components.gitops.sops_key import SopsKeyArgs
from eksgitops.components.irsa_role import IrsaRole, IrsaRoleArgs
from eksgitops.components.network import NetworkArgs
from eksgitops.components.node_group import NodeGroupArgs
from eksgitops.components.node_role import NodeRoleArgs
from eksgitops.components.oidc_provider import OidcProviderArgs
from eksgitops.components.platform import PlatformArgs
from eksgitops.components.pod_identity_role import PodIdentityRoleArgs
from eksgitops.components.secrets_key import SecretsKeyArgs
from eksgitops.components.spec import load_spec
from eksgitops.components.spec.compute import NodeGroupSpec
from eksgitops.components.spec.gitops import GitOpsSpec
from eksgitops.components.spec.network import NetworkSpec
from eksgitops.plan.offline_engine import run_program
from tests.components.spec.helpers import minimal

KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = "arn:aws:iam::111122223333:role/platform-admin"
POLICY = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
ISSUER = "https://oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF0123456789"
PROVIDER = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF0123456789"
SUBNETS = ["subnet-0000000a", "subnet-0000000b"]


def bare(cls: type) -> Any:
    """An instance of a resource class without registering it (the Args check only its type)."""
    return object.__new__(cls)


def bridge() -> BridgeValues:
    return BridgeValues(
        environment="dev",
        cluster_name="dev",
        region="eu-west-1",
        account_id="111122223333",
        vpc_id="vpc-0123abcd",
        oidc_issuer_host=ISSUER.removeprefix("https://"),
        identity_role_arns={"app": ROLE},
    )


GITOPS = GitOpsSpec.model_validate({"repoUrl": "https://github.com/acme/fleet.git"}, by_alias=True)

# Good arguments of every public *Args: each must construct.
GOOD: dict[type, dict[str, Any]] = {
    EksClusterArgs: {
        "cluster_name": "dev",
        "kubernetes_version": "1.33",
        "vpc_id": "vpc-0123abcd",
        "private_subnet_ids": SUBNETS,
        "log_types": ["api", "audit"],
        "secrets_kms_key_arn": KEY,
        "node_groups": [NodeGroupSpec(name="general")],
        "service_cidr": "172.20.0.0/16",
        "node_egress_ips": ["203.0.113.7"],
        "tags": {"team": "platform"},
    },
    NodeGroupArgs: {
        "cluster": bare(eks.Cluster),
        "cluster_name": "dev",
        "spec": NodeGroupSpec(name="general"),
        "node_role": bare(aws.iam.Role),
        "subnet_ids": SUBNETS,
        "kubernetes_version": "1.33",
    },
    NetworkArgs: {"spec": NetworkSpec(), "cluster_name": "dev"},
    IrsaRoleArgs: {
        "role_name": "dev-app",
        "oidc_provider_arn": PROVIDER,
        "oidc_issuer": ISSUER,
        "namespace": "apps",
        "service_account": "app",
        "managed_policy_arns": [POLICY],
        "tags": {"team": "platform"},
    },
    PodIdentityRoleArgs: {
        "role_name": "dev-app",
        "cluster_name": "dev",
        "namespace": "apps",
        "service_account": "app",
        "managed_policy_arns": [POLICY],
    },
    NodeRoleArgs: {"role_name": "dev-node", "kind": "auto-mode"},
    ClusterRoleArgs: {"cluster_name": "dev", "auto_mode": True},
    SecretsKeyArgs: {"cluster_name": "dev", "existing_key_arn": KEY},
    SopsKeyArgs: {"cluster_name": "dev", "existing_key_arn": KEY},
    ClusterAddonsArgs: {
        "cluster_name": "dev",
        "phase": "before-compute",
        "addons": {},
        "kubernetes_version": "1.33",
    },
    FleetEscrowArgs: {
        "environment": "prod",
        "principal_arns": [ROLE],
        "region": "eu-west-1",
        "secret_replica_regions": ["eu-central-1"],
    },
    OidcProviderArgs: {"issuer_url": ISSUER},
    GitOpsAgentArgs: {
        "gitops": GITOPS,
        "environment": "dev",
        "cluster_name": "dev",
        "region": "eu-west-1",
        "cluster": bare(EksCluster),
        "bridge": bridge(),
        "addons": ["vpc-cni"],
    },
    ArgoCdAgentArgs: {"gitops": GITOPS, "environment": "dev", "bridge_variables": {"environment": "dev"}},
    EksArgoCdArgs: {
        "gitops": GITOPS,
        "environment": "dev",
        "cluster_name": "dev",
        "cluster": "dev",
        "cluster_arn": "arn:aws:eks:eu-west-1:111122223333:cluster/dev",
        "region": "eu-west-1",
        "bridge_variables": {"environment": "dev"},
        "k8s_provider": bare(k8s.Provider),
    },
    FluxAgentArgs: {"gitops": GITOPS, "bridge": bridge()},
    BridgeValues: dataclasses.asdict(bridge()),
    FluxBridgeArgs: {"values": bridge()},
    FluxControllerIdentitiesArgs: {"cluster_name": "dev", "cluster": "dev", "sops_key_arn": KEY},
    ClusterKubernetesProviderArgs: {
        "cluster_name": "dev",
        "endpoint": "https://ABC.gr7.eu-west-1.eks.amazonaws.com",
        "certificate_authority": "LS0t",
        "region": "eu-west-1",
    },
    PlatformArgs: {"spec": load_spec(minimal(), stack="dev", source="Pulumi.dev.yaml")},
}

# Values the spec refuses, beyond the wrong type every field is tried with: the issue's
# examples first (a 65-character IAM role name, service_cidr="8.8.0.0/16", …).
BAD: list[tuple[type, str, Any, str]] = [
    (IrsaRoleArgs, "role_name", "r" * 65, "65 characters long"),
    (PodIdentityRoleArgs, "role_name", "", "0 characters long"),
    (NodeRoleArgs, "role_name", "dev node", "not an IAM role name"),
    (EksClusterArgs, "service_cidr", "8.8.0.0/16", "not a range EKS accepts"),
    (EksClusterArgs, "log_types", ["bogus"], '"bogus" is not a control-plane log type'),
    (EksClusterArgs, "log_types", ["api", "api"], "lists api twice"),
    (EksClusterArgs, "private_subnet_ids", [], "has 0 subnet ids; at least 2"),
    (EksClusterArgs, "private_subnet_ids", ["subnet-a", "subnet-b"], "not a subnet id"),
    (EksClusterArgs, "vpc_id", "vpc-1", "not a VPC id"),
    (EksClusterArgs, "cluster_name", "Dev_Cluster", "not a valid cluster name"),
    (EksClusterArgs, "kubernetes_version", "1.99", "not a Kubernetes version EKS offers"),
    (EksClusterArgs, "node_egress_ips", ["203.0.113.0/24"], "not an IPv4 address"),
    (EksClusterArgs, "addons", {"bogus": None}, "not a managed add-on"),
    (SecretsKeyArgs, "existing_key_arn", "alias/x", "is a KMS alias"),
    (SopsKeyArgs, "existing_key_arn", "arn:aws:kms:eu-west-1:1:key/x", "not a KMS key ARN"),
    (
        SecretsKeyArgs,
        "existing_key_arn",
        "arn:aws-cn:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "names partition aws-cn, but region eu-west-1 is in aws",
    ),
    (EksClusterArgs, "tags", {"aws:owner": "me"}, "aws: prefix"),
    (ClusterRoleArgs, "tags", {"Team": "a", "team": "b"}, "only by case"),
    (NodeRoleArgs, "tags", {"team": "x" * 257}, "257 characters long"),
    (NodeRoleArgs, "tags", {f"k{i}": "v" for i in range(51)}, "has 51 tags; at most 50"),
    (FleetEscrowArgs, "region", "mars-1", "not an AWS region name"),
    (FleetEscrowArgs, "secret_replica_regions", ["eu-west-9"], "not a region AWS has opened"),
    (FleetEscrowArgs, "principal_arns", [], "at least 1"),
    (FleetEscrowArgs, "principal_arns", ["arn:aws:iam::1:role/x"], "not an IAM role or user ARN"),
    (FleetEscrowArgs, "noncurrent_version_days", 0, "out of range"),
    (FleetEscrowArgs, "environment", "x" * 40, "makes no valid escrow bucket name"),
    (IrsaRoleArgs, "managed_policy_arns", ["AmazonS3ReadOnlyAccess"], "not an IAM policy ARN"),
    (IrsaRoleArgs, "managed_policy_arns", [f"{POLICY}{i}" for i in range(21)], "at most 20"),
    (IrsaRoleArgs, "namespace", "Kube_System", "not a valid namespace"),
    (IrsaRoleArgs, "oidc_issuer", "https://example.com", "not an EKS OIDC issuer"),
    (IrsaRoleArgs, "oidc_provider_arn", ROLE, "not the ARN of an EKS cluster's IAM OIDC provider"),
    (PodIdentityRoleArgs, "service_account", "App", "not a valid service account name"),
    (ClusterAddonsArgs, "phase", "during-compute", "not an add-on phase"),
    (NodeRoleArgs, "kind", "self-managed", "not a node role kind"),
    (GitOpsAgentArgs, "region", "mars-1", "not an AWS region name"),
    (GitOpsAgentArgs, "addons", ["bogus"], "not a managed add-on"),
    (BridgeValues, "account_id", "1234", "not an AWS account id"),
    (BridgeValues, "identity_role_arns", {"Bad_Name": ROLE}, "not a valid identity name"),
    (FluxBridgeArgs, "namespace", "", "not a valid namespace"),
    (EksArgoCdArgs, "cluster_arn", "x" * 300, "not an EKS cluster ARN"),
    (FluxControllerIdentitiesArgs, "oci_repository_arn", "", "not an ECR repository ARN"),
    (ClusterKubernetesProviderArgs, "endpoint", "http://x", "not an HTTPS API server URL"),
    (ClusterKubernetesProviderArgs, "certificate_authority", "", "not base64 text"),
]

# Fields that take None (their default or a documented "unset").
NONE_OK = {
    (EksClusterArgs, "secrets_kms_key_arn"),
    (EksClusterArgs, "addons"),
    (EksClusterArgs, "service_cidr"),
    (NodeGroupArgs, "kubernetes_version"),
    (IrsaRoleArgs, "inline_policy"),
    (IrsaRoleArgs, "tags"),
    (PodIdentityRoleArgs, "inline_policy"),
    (PodIdentityRoleArgs, "tags"),
    (NodeRoleArgs, "tags"),
    (ClusterRoleArgs, "tags"),
    (SecretsKeyArgs, "existing_key_arn"),
    (SecretsKeyArgs, "tags"),
    (SopsKeyArgs, "existing_key_arn"),
    (SopsKeyArgs, "tags"),
    (ClusterAddonsArgs, "kubernetes_version"),
    (FleetEscrowArgs, "region"),
    (FleetEscrowArgs, "tags"),
    (OidcProviderArgs, "tags"),
    (GitOpsAgentArgs, "tags"),
    (EksArgoCdArgs, "tags"),
    (FluxAgentArgs, "labels"),
    (FluxControllerIdentitiesArgs, "sops_key_arn"),
    (FluxControllerIdentitiesArgs, "oci_repository_arn"),
    (FluxControllerIdentitiesArgs, "tags"),
    (PlatformArgs, "escrow"),
}


class Odd:
    """A value of no type any argument takes."""

    def __repr__(self) -> str:
        return "Odd()"


def public_args_classes() -> set[type]:
    found: set[type] = set()
    for info in pkgutil.walk_packages(components_package.__path__, "eksgitops.components."):
        if ".spec" in info.name or ".data" in info.name:
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                isinstance(value, type)
                and dataclasses.is_dataclass(value)
                and value.__module__ == info.name
                and (name.endswith("Args") or name == "BridgeValues")
            ):
                found.add(value)
    return found


def test_every_public_args_class_is_walked():
    assert public_args_classes() == set(GOOD)


@pytest.mark.parametrize("cls", list(GOOD), ids=lambda c: c.__name__)
def test_good_arguments_are_accepted(cls):
    cls(**GOOD[cls])


def refusal(cls: type, field: str, value: Any) -> Exception:
    with pytest.raises((ValueError, TypeError)) as caught:
        cls(**{**GOOD[cls], field: value})
    return caught.value


WRONG_TYPE = [(cls, f.name) for cls in GOOD for f in dataclasses.fields(cls) if f.init]


@pytest.mark.parametrize(("cls", "field"), WRONG_TYPE, ids=lambda v: getattr(v, "__name__", v))
def test_a_value_of_the_wrong_type_is_refused_naming_the_argument(cls, field):
    error = refusal(cls, field, Odd())
    assert isinstance(error, TypeError)
    assert str(error).startswith(f"{cls.__name__}.{field}: is Odd, not ")
    assert "; " in str(error) and "\n" not in str(error)


@pytest.mark.parametrize(
    ("cls", "field"), [c for c in WRONG_TYPE if c not in NONE_OK], ids=lambda v: getattr(v, "__name__", v)
)
def test_none_is_refused_where_the_argument_has_no_unset(cls, field):
    error = refusal(cls, field, None)
    assert str(error).startswith(f"{cls.__name__}.{field}: is empty, not ")


@pytest.mark.parametrize(
    ("cls", "field", "value", "message"), BAD, ids=lambda v: getattr(v, "__name__", None)
)
def test_a_value_the_spec_refuses_is_refused_by_the_component(cls, field, value, message):
    error = refusal(cls, field, value)
    assert isinstance(error, ValueError)
    assert str(error).startswith(f"{cls.__name__}.{field}")
    assert message in str(error)
    assert "; " in str(error) and "\n" not in str(error)


def test_an_output_is_checked_when_it_resolves_with_the_same_message():
    def program():
        IrsaRole(
            "app",
            IrsaRoleArgs(**{**GOOD[IrsaRoleArgs], "role_name": pulumi.Output.from_input("r" * 65)}),
        )

    with pytest.raises(Exception, match=r'IrsaRoleArgs\.role_name: "r{65}" is 65 characters long; 1 to 64'):
        run_program(program)


def test_a_known_output_that_passes_keeps_its_value():
    def program():
        role = IrsaRole(
            "app", IrsaRoleArgs(**{**GOOD[IrsaRoleArgs], "role_name": pulumi.Output.from_input("ok")})
        )
        pulumi.export("name", role.role_name)

    assert run_program(program).outputs["name"] == "ok"
