"""The environment spec: the one place where a stack's configuration is read and checked.

Components trust a validated `EnvironmentSpec`; they never read Pulumi config themselves.
Keys in the stack file are camelCase under the `eksgitops:` namespace; attributes here
are snake_case.

CONTRACT (skeleton written first so components can be built against it; validation,
loading and error reporting are filled in by the spec work):
- `load_spec(raw, stack=..., source=...)` -> EnvironmentSpec, or raises SpecError whose
  `.lines` are `"<source>: eksgitops:<key path>: <what is wrong>; <what is allowed>"`.
- `raw_config_from_stack_file(path)` -> dict of the `eksgitops:` keys (prefix removed),
  read the way the Pulumi CLI reads them (top-level scalars stay strings).
- `raw_config_from_pulumi()` -> the same dict, read from the running Pulumi program.
"""

from __future__ import annotations

import ipaddress
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


AddonName = Literal["vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "aws-ebs-csi-driver"]
LogType = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]


class NetworkSpec(_Model):
    """Either a new VPC (vpc_cidr set) or an existing one (vpc_id set)."""

    vpc_cidr: str | None = "10.0.0.0/16"
    """CIDR of a new VPC (/16 to /28)."""
    availability_zones: list[str] | None = None
    """Explicit AZ names; when unset, the first `az_count` AZs of the region."""
    az_count: int = 3
    """How many AZs a new VPC spans (2-6)."""
    nat_gateways: Literal["one-per-az", "single"] = "one-per-az"
    """One NAT gateway per AZ (survives an AZ outage) or a single one (cheaper)."""
    private_subnet_prefix: int = 19
    """Prefix length of each private (node) subnet."""
    public_subnet_prefix: int = 24
    """Prefix length of each public (load balancer) subnet."""
    service_cidr: str | None = None
    """Kubernetes service CIDR; must not overlap the VPC. Unset lets EKS choose."""
    vpc_id: str | None = None
    """An existing VPC (vpc-...); with it, private_subnet_ids and public_subnet_ids."""
    private_subnet_ids: list[str] = Field(default_factory=list)
    """Existing private subnets (subnet-...) for nodes."""
    public_subnet_ids: list[str] = Field(default_factory=list)
    """Existing public subnets (subnet-...) for internet-facing load balancers."""

    @property
    def existing(self) -> bool:
        return self.vpc_id is not None

    @property
    def zone_count(self) -> int:
        return len(self.availability_zones) if self.availability_zones else self.az_count

    def private_subnet_cidrs(self) -> list[str]:
        """CIDRs of the private subnets of a new VPC, one per AZ, carved from the start."""
        return self._carve()[0]

    def public_subnet_cidrs(self) -> list[str]:
        """CIDRs of the public subnets of a new VPC, one per AZ, after the private ones."""
        return self._carve()[1]

    def _carve(self) -> tuple[list[str], list[str]]:
        # Private (node) subnets first and large, since pods take VPC addresses with the
        # VPC CNI; public subnets only hold load balancers and NAT gateways. Validation
        # has already checked that both fit in the VPC.
        assert self.vpc_cidr is not None
        vpc = ipaddress.ip_network(self.vpc_cidr)
        private = list(vpc.subnets(new_prefix=self.private_subnet_prefix))[: self.zone_count]
        end = private[-1].broadcast_address + 1 if private else vpc.network_address
        public: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for candidate in vpc.subnets(new_prefix=self.public_subnet_prefix):
            if len(public) == self.zone_count:
                break
            if candidate.network_address >= end:
                public.append(candidate)
        return [str(n) for n in private], [str(n) for n in public]


class EndpointSpec(_Model):
    private_access: bool = True
    """Reach the API server from inside the VPC."""
    public_access: bool = False
    """Reach the API server from the internet (only from public_access_cidrs)."""
    public_access_cidrs: list[str] = Field(default_factory=list)
    """Allow-list for the public endpoint; required (non-empty, no 0.0.0.0/0) when it is on."""


class AccessEntrySpec(_Model):
    principal_arn: str
    """IAM role or user ARN granted access."""
    policy: str = "AmazonEKSClusterAdminPolicy"
    """EKS access policy: a short name (AmazonEKSClusterAdminPolicy, AmazonEKSAdminPolicy,
    AmazonEKSEditPolicy, AmazonEKSViewPolicy) or its full arn:aws:eks::aws:cluster-access-policy/ ARN."""
    namespaces: list[str] = Field(default_factory=list)
    """Scope: empty means the whole cluster, otherwise these namespaces."""

    @property
    def policy_arn(self) -> str:
        if self.policy.startswith("arn:"):
            return self.policy
        return f"arn:aws:eks::aws:cluster-access-policy/{self.policy}"


class AccessSpec(_Model):
    authentication_mode: Literal["API", "API_AND_CONFIG_MAP"] = "API"
    """API (access entries only) or API_AND_CONFIG_MAP while migrating from aws-auth."""
    entries: list[AccessEntrySpec] = Field(default_factory=list)
    """Admins and other principals, each through an explicit access entry."""


class TaintSpec(_Model):
    key: str
    value: str | None = None
    effect: Literal["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"] = "NO_SCHEDULE"


class NodeGroupSpec(_Model):
    name: str
    """DNS-1123 label; unique in the stack."""
    instance_types: list[str] = Field(default_factory=lambda: ["m6i.large"])
    capacity_type: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"
    min_size: int = 1
    desired_size: int = 2
    max_size: int = 3
    disk_size: int = 50
    """Root volume size in GiB (gp3, encrypted)."""
    labels: dict[str, str] = Field(default_factory=dict)
    taints: list[TaintSpec] = Field(default_factory=list)
    ami_type: str = "AL2023_x86_64_STANDARD"
    imds_hop_limit: Literal[1, 2] = 1
    """IMDSv2 hop limit: 1 keeps pods off the node's credentials; 2 only if pods need IMDS."""


class AutoModeSpec(_Model):
    enabled: bool = False
    """EKS Auto Mode: AWS runs compute, storage and load balancing."""
    node_pools: list[Literal["general-purpose", "system"]] = Field(
        default_factory=lambda: ["general-purpose", "system"]
    )


class AddonSpec(_Model):
    enabled: bool = True
    version: str | None = None
    """Pin, e.g. v1.19.2-eksbuild.1; unset takes the default for the cluster version."""


class IdentitySpec(_Model):
    name: str
    """DNS-1123 label; becomes `<name>_role_arn` in the GitOps bridge."""
    namespace: str
    service_account: str
    managed_policy_arns: list[str] = Field(default_factory=list)
    policy: dict | None = None
    """Inline IAM policy document (Version/Statement)."""
    mode: Literal["pod-identity", "irsa"] = "pod-identity"


class GitOpsSpec(_Model):
    agent: Literal["flux", "argocd"] = "flux"
    repo_url: str | None = None
    """https://… or SSH (git@host:path, ssh://…)."""
    branch: str = "main"
    path: str | None = None
    """Relative path in the fleet repo; default clusters/<stack>."""


class EnvironmentSpec(_Model):
    environment: str
    """The stack name (dev, staging, prod…)."""
    region: str
    cluster_name: str
    kubernetes_version: str
    network: NetworkSpec = Field(default_factory=NetworkSpec)
    endpoint: EndpointSpec = Field(default_factory=EndpointSpec)
    logging: list[LogType] = Field(
        default_factory=lambda: ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    )
    secrets_kms_key_arn: str | None = None
    """Existing KMS key for secrets envelope encryption; unset creates one with rotation on."""
    access: AccessSpec = Field(default_factory=AccessSpec)
    node_groups: list[NodeGroupSpec] = Field(default_factory=list)
    auto_mode: AutoModeSpec = Field(default_factory=AutoModeSpec)
    addons: dict[AddonName, AddonSpec] = Field(default_factory=dict)
    identities: list[IdentitySpec] = Field(default_factory=list)
    gitops: GitOpsSpec = Field(default_factory=GitOpsSpec)
    tags: dict[str, str] = Field(default_factory=dict)

    def enabled_addons(self) -> dict[str, AddonSpec]:
        """All five managed add-ons unless a stack turns one off; each with its pin."""
        names: tuple[str, ...] = get_args(AddonName)
        chosen = {name: self.addons.get(name, AddonSpec()) for name in names}  # type: ignore[call-overload]
        return {name: addon for name, addon in chosen.items() if addon.enabled}


class SpecError(Exception):
    """Every mistake in a stack's config, one line each, ready to print."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines
