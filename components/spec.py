"""The environment spec: the one place where a stack's configuration is read and checked.

Components trust a validated `EnvironmentSpec`; they never read Pulumi config themselves.
Keys in the stack file are camelCase under the `eksgitops:` namespace; attributes here
are snake_case.

How it is used:
- `load_spec(raw, stack=..., source=...)` -> a validated `EnvironmentSpec`, or raises
  `SpecError` whose `.lines` hold the problems found, sorted by key path, each exactly
  `"<source>: eksgitops:<key path>: <what is wrong>; <what is allowed>"`, e.g.
  `stacks/Pulumi.dev.yaml: eksgitops:nodeGroups[0].minSize: 3 is greater than desiredSize 2; ...`.
  Nothing is registered with Pulumi before this returns; callers print the lines and
  exit 2 (no traceback).
- The models below are the single source of truth: strict types, `Annotated` checks and
  field/model validators that raise `SpecValueError`. pydantic reports every key that is
  wrong on its own; a rule that compares keys (sizes in order, subnets fit the VPC, some
  admin entry exists) runs once the keys it compares are well formed, so fixing one
  line can reveal another.
- `raw` is the project's config with the `eksgitops:` prefix removed: top-level scalars
  (`SCALAR_KEYS`) are strings, as Pulumi hands them over; the keys in `STRUCTURED_KEYS`
  are parsed dicts/lists (Pulumi hands those over as JSON).
- `raw_config_from_stack_file(path)` and `project_config_defaults(path)` (components.stack_file)
  read the files strictly; `raw_config_from_pulumi()` reads the running program's config;
  `config_for_pulumi(raw)` is the inverse, for `pulumi.runtime.set_all_config` offline.
- Credentials: a field typed `SecretValue` holds a credential and takes only a Pulumi
  secret; a secret anywhere else is refused. Secrets are never printed.
- The spec refuses what AWS itself would reject (or what would leave a cluster nobody can
  manage); posture (an open endpoint, an IMDS hop limit above 1, an admin-equivalent
  policy, a version outside standard support) is judged once, by the rules in
  eksgitops/policy over what the program registers, where a stack can waive it with a
  reason. Defaults pass every rule of the security checklist.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Annotated, Any, Literal, NamedTuple, TypeVar, get_args, get_origin

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, ValidationInfo
from pydantic import model_validator as _model_validator
from pydantic.alias_generators import to_pascal
from pydantic_core import InitErrorDetails

from components.addon_versions import known_addon_versions
from components.gitops_spec import GitOpsSpec
from components.iam_documents import RESERVED_ROLE_NAMES
from components.policy_spec import PolicySpec
from components.spec_errors import KeyPath, SpecValueError, format_path
from components.spec_errors import SpecError as SpecError  # re-exported: the public API
from components.spec_model import SECRET_PLACEHOLDER, SecretValue, SpecModel, check
from components.stack_file import PROJECT
from components.stack_file import project_config_defaults as project_config_defaults  # re-exported
from components.stack_file import raw_config_from_stack_file as raw_config_from_stack_file  # re-exported

after = _model_validator(mode="after")


# --- data -----------------------------------------------------------------------------


@cache
def _data(name: str) -> dict[str, Any]:
    return json.loads(resources.files("components").joinpath(f"data/{name}").read_text())


def offered_kubernetes_versions(today: date | None = None) -> list[str]:
    """Kubernetes minor versions EKS still offers (standard or extended support), oldest first.

    From data/kubernetes_versions.json; a version past its end of extended support is gone
    (EKS creates no cluster on it). Standard support is the EKS-VERSION rule's business.
    """
    today = today or date.today()
    versions = _data("kubernetes_versions.json")["versions"]
    offered = [v["version"] for v in versions if date.fromisoformat(v["endOfExtendedSupport"]) >= today]
    return sorted(offered, key=lambda v: tuple(int(p) for p in v.split(".")))


def supported_kubernetes_versions(today: date | None = None) -> list[str]:
    """The offered versions still in EKS standard support (what EKS-VERSION passes), oldest first."""
    today = today or date.today()
    ends = {v["version"]: v["endOfStandardSupport"] for v in _data("kubernetes_versions.json")["versions"]}
    return [v for v in offered_kubernetes_versions(today) if date.fromisoformat(ends[v]) >= today]


def default_kubernetes_version() -> str:
    """The version a stack gets when it does not set kubernetesVersion."""
    return _data("kubernetes_versions.json")["default"]


def region_partition(region: str) -> str | None:
    """The AWS partition whose region names `region` fits (data/aws_regions.json), or None."""
    patterns = _data("aws_regions.json")["partitions"]
    return next((p for p, rx in patterns.items() if re.fullmatch(rx, region, re.ASCII)), None)


def zone_names(region: str) -> list[str] | None:
    """The Availability Zones a new account has in `region`, or None when the file lacks it."""
    entry = _data("aws_regions.json")["regions"].get(region)
    if entry is None:
        return None
    letters = entry.get("letters", "abcdefgh")
    return [f"{region}{letter}" for letter in letters[: entry["zones"]]]


# --- shared syntax (ASCII only: `[0-9]`, never `\d`; always fullmatch) -----------------

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
DNS_LABEL_ALLOWED = (
    "a DNS-1123 label: 1-63 lowercase letters, digits and '-', starting and ending alphanumeric"
)
PARTITION = r"aws(-cn|-us-gov|-iso|-iso-[bef]|-eusc)?"
VPC_ID = re.compile(r"vpc-[0-9a-f]{8}([0-9a-f]{9})?")
SUBNET_ID = re.compile(r"subnet-[0-9a-f]{8}([0-9a-f]{9})?")
KMS_KEY_ARN = re.compile(
    rf"arn:(?P<partition>{PARTITION}):kms:(?P<region>[a-z0-9-]+):[0-9]{{12}}:key/"
    r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})"
)
# IAM names: ASCII letters, digits and +=,.@_- (64 characters for a role or user); a path
# is /-separated printable ASCII (IAM User Guide, "IAM object quotas" and "IAM identifiers").
IAM_NAME = re.compile(r"[A-Za-z0-9+=,.@_-]{1,64}")
PRINCIPAL_ARN = re.compile(
    rf"arn:(?P<partition>{PARTITION}):iam::[0-9]{{12}}:(role|user)(?P<path>/([!-.0-~]+/)*)(?P<name>[^/]+)"
)
POLICY_ARN = re.compile(
    rf"arn:{PARTITION}:iam::(aws|[0-9]{{12}}):policy(/[!-.0-~]+)*/[A-Za-z0-9+=,.@_-]{{1,128}}"
)
ACCESS_POLICY_ARN = re.compile(rf"arn:{PARTITION}:eks::aws:cluster-access-policy/[A-Za-z0-9]+")
# Short names of the EKS access policies an admin entry plausibly uses (AWS also ships
# policies for Auto Mode nodes and add-ons, which are not for people).
ACCESS_POLICIES = (
    "AmazonEKSAdminPolicy",
    "AmazonEKSAdminViewPolicy",
    "AmazonEKSClusterAdminPolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSViewPolicy",
)
CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"
INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*\.[a-z0-9-]+")
# Graviton (arm64) families carry a "g" right after the generation digit: m7g, c6gn, t4g, r8gd.
ARM_FAMILY = re.compile(r"(a1|[a-z]+[0-9]+g[a-z]*)\.")
# Linux managed node group AMI types of the EKS API for the supported versions. AL2 ends
# with Kubernetes 1.32; CUSTOM needs a launch template image and Windows needs extra
# cluster setup — neither is built by this project.
AMI_TYPES = (
    "AL2023_x86_64_STANDARD",
    "AL2023_ARM_64_STANDARD",
    "AL2023_x86_64_NVIDIA",
    "AL2023_ARM_64_NVIDIA",
    "AL2023_x86_64_NEURON",
    "BOTTLEROCKET_x86_64",
    "BOTTLEROCKET_ARM_64",
    "BOTTLEROCKET_x86_64_FIPS",
    "BOTTLEROCKET_ARM_64_FIPS",
    "BOTTLEROCKET_x86_64_NVIDIA",
    "BOTTLEROCKET_ARM_64_NVIDIA",
)
ADDON_VERSION = re.compile(r"v[0-9]+\.[0-9]+\.[0-9]+-eksbuild\.[0-9]+")
LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
# AWS tag characters: Unicode letters, digits and spaces, and _ . : / = + - @.
TAG_CHARS = re.compile(r"[\w .:/=+\-@]*")
# AWS allows 50 tags a resource; the project adds its own (environment, cluster,
# managed-by, Kubernetes discovery tags…), so a stack gets 40 and 10 stay in reserve.
MAX_STACK_TAGS = 40
# The project's own tags (eksgitops:environment, eksgitops:cluster) live under this prefix.
RESERVED_TAG_PREFIX = f"{PROJECT}:"
# Upper bound of a managed node group's maxSize. AWS's service quota "Nodes per managed
# node group" is 450 by default and adjustable (https://docs.aws.amazon.com/eks/latest/
# userguide/service-quotas.html, checked 2026-11-27); issue 6 sets the bound this project
# accepts at 1000, so a group sized beyond it is a typo, and one above 450 needs a raised quota.
MAX_GROUP_NODES = 1000
# IAM's limit on a role's inline policies, counted without whitespace (IAM quotas page).
MAX_INLINE_POLICY = 10_240


def fmt(value: Any) -> str:
    """A value as the user wrote it, for messages (a secret is never shown)."""
    if isinstance(value, SecretValue):
        return SECRET_PLACEHOLDER
    return f'"{value}"' if isinstance(value, str) else json.dumps(value, default=str)


def _fail(what: str, allowed: str, *at: str | int) -> SpecValueError:
    return SpecValueError(what, allowed, at)


def _dns(what: str) -> AfterValidator:
    return check(
        lambda v: bool(DNS_LABEL.fullmatch(v)), lambda v: f"{fmt(v)} is not a valid {what}", DNS_LABEL_ALLOWED
    )


def _no_repeats(key: Callable[[Any], Any], what: Callable[[Any], str], allowed: str) -> AfterValidator:
    """No two items with the same `key`: `what(key)` and `allowed` for the first repeat."""

    def validate(items: list[Any]) -> list[Any]:
        keys = [key(item) for item in items]
        repeat = next((k for i, k in enumerate(keys) if k in keys[:i]), None)
        if repeat is not None:
            raise _fail(what(repeat), allowed)
        return items

    return AfterValidator(validate)


def _unique(what: str) -> AfterValidator:
    """No item twice: `lists <item> twice; each <what> once`."""
    return _no_repeats(lambda v: v, lambda v: f"lists {v} twice", f"each {what} once")


def _ipv4(value: str, allowed: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        kind = "has host bits set" if "has host bits set" in str(exc) else "is not an IPv4 CIDR"
        raise _fail(f"{fmt(value)} {kind}", allowed) from None
    if not isinstance(net, ipaddress.IPv4Network) or not value.isascii():
        raise _fail(
            f"{fmt(value)} is IPv6" if value.isascii() else f"{fmt(value)} is not an IPv4 CIDR", allowed
        )
    return net


def _context(info: ValidationInfo, key: str) -> Any:
    return (info.context or {}).get(key)


# --- network --------------------------------------------------------------------------

VPC_CIDR_ALLOWED = "an IPv4 CIDR such as 10.0.0.0/16 (/16 to /28)"
SERVICE_CIDR_ALLOWED = (
    "an IPv4 CIDR /12 to /24 inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, not overlapping the VPC"
)
PRIVATE_RANGES = [ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
NEW_VPC_KEYS = (
    "availability_zones",
    "az_count",
    "nat_gateways",
    "private_subnet_prefix",
    "public_subnet_prefix",
)


def _vpc_cidr(value: str | None) -> str | None:
    if value is not None:
        vpc = _ipv4(value, VPC_CIDR_ALLOWED)
        if not 16 <= vpc.prefixlen <= 28:
            raise _fail(f"{vpc} has a /{vpc.prefixlen} prefix", "/16 to /28 (the VPC limits)")
    return value


def _service_cidr(value: str | None) -> str | None:
    if value is not None:
        service = _ipv4(value, SERVICE_CIDR_ALLOWED)
        if not 12 <= service.prefixlen <= 24 or not any(service.subnet_of(r) for r in PRIVATE_RANGES):
            raise _fail(f"{service} is not a range EKS accepts for services", SERVICE_CIDR_ALLOWED)
    return value


def _zones(value: list[str] | None, info: ValidationInfo) -> list[str] | None:
    if not value:
        return value
    if not 2 <= len(value) <= 6:
        raise _fail(f"lists {len(value)} zone(s)", "2 to 6 zones")
    region = _context(info, "region")
    known = zone_names(region) if region else None
    for i, zone in enumerate(value):
        if region and not (zone.startswith(region) and re.fullmatch(r"[a-z]", zone[len(region) :], re.ASCII)):
            raise _fail(
                f"{fmt(zone)} is not an availability zone of {region}", f"zone names such as {region}a", i
            )
        if known is not None and zone not in known:
            raise _fail(
                f"{fmt(zone)} is not an availability zone of {region}", "one of " + ", ".join(known), i
            )
    return value


def _az_count(value: int, info: ValidationInfo) -> int:
    if not 2 <= value <= 6:
        raise _fail(f"{value} is out of range", "2 to 6 availability zones")
    region = _context(info, "region")
    known = zone_names(region) if region else None
    if known is not None and value > len(known):
        raise _fail(f"{value} is more than the {len(known)} zones of {region}", f"2 to {len(known)}")
    return value


SubnetPrefix = Annotated[
    int, check(lambda v: 16 <= v <= 28, lambda v: f"/{v} is not a valid subnet prefix", "16 to 28")
]


def subnets_fit(vpc: ipaddress.IPv4Network, zones: int, private: int, public: int) -> bool:
    """Whether NetworkSpec's carving (private first, then public after them) finds room."""
    if private <= vpc.prefixlen or public <= vpc.prefixlen:
        return False
    private_end = zones * 2 ** (32 - private)
    block = 2 ** (32 - public)
    public_start = -(-private_end // block) * block  # align up to the public block size
    return private_end <= vpc.num_addresses and public_start + zones * block <= vpc.num_addresses


SubnetId = Annotated[
    str,
    check(
        lambda v: bool(SUBNET_ID.fullmatch(v)),
        lambda v: f"{fmt(v)} is not a subnet id",
        "subnet- and 8 or 17 hex digits",
    ),
]


class NetworkSpec(SpecModel):
    """Either a new VPC (vpc_cidr set) or an existing one (vpc_id set)."""

    vpc_cidr: Annotated[str | None, AfterValidator(_vpc_cidr)] = "10.0.0.0/16"
    """CIDR of a new VPC (/16 to /28)."""
    availability_zones: Annotated[list[str] | None, AfterValidator(_zones), _unique("zone")] = None
    """Explicit AZ names of the region; when unset, the first `az_count` AZs of the region."""
    az_count: Annotated[int, AfterValidator(_az_count)] = 3
    """How many AZs a new VPC spans (2-6, at most the region's zones)."""
    nat_gateways: Literal["one-per-az", "single"] = "one-per-az"
    """One NAT gateway per AZ (survives an AZ outage) or a single one (cheaper)."""
    private_subnet_prefix: SubnetPrefix = 19
    """Prefix length of each private (node) subnet."""
    public_subnet_prefix: SubnetPrefix = 24
    """Prefix length of each public (load balancer) subnet."""
    service_cidr: Annotated[str | None, AfterValidator(_service_cidr)] = None
    """Kubernetes service CIDR; must not overlap the VPC. Unset lets EKS choose."""
    vpc_id: Annotated[
        str | None,
        check(
            lambda v: v is None or bool(VPC_ID.fullmatch(v)),
            lambda v: f"{fmt(v)} is not a VPC id",
            "vpc- and 8 or 17 hex digits",
        ),
    ] = None
    """An existing VPC (vpc-...); with it, private_subnet_ids and public_subnet_ids."""
    private_subnet_ids: Annotated[list[SubnetId], _unique("subnet")] = Field(default_factory=list)
    """Existing private subnets (subnet-...) for nodes."""
    public_subnet_ids: Annotated[list[SubnetId], _unique("subnet")] = Field(default_factory=list)
    """Existing public subnets (subnet-...) for internet-facing load balancers."""

    @_model_validator(mode="wrap")
    @classmethod
    def _existing_vpc_has_no_cidr(cls, data: Any, handler: Callable[[Any], NetworkSpec]) -> NetworkSpec:
        # An existing VPC has no CIDR of ours; the field's default is for new VPCs.
        if isinstance(data, dict) and data.get("vpcId") is not None and "vpcCidr" not in data:
            data = {**data, "vpcCidr": None}
        return handler(data)

    @after
    def _one_kind_of_vpc(self) -> NetworkSpec:
        if self.existing:
            if self.vpc_cidr is not None:
                raise _fail(
                    "is set together with vpcId",
                    "either vpcId (an existing VPC) or vpcCidr (a new one), not both",
                    "vpcCidr",
                )
            for key in NEW_VPC_KEYS:
                if key in self.model_fields_set:
                    raise _fail(
                        "only applies to a new VPC, but vpcId is set",
                        "leave it out with an existing VPC",
                        _alias(key),
                    )
            if len(self.private_subnet_ids) < 2:
                raise _fail(
                    f"has {len(self.private_subnet_ids)} subnet(s); EKS needs subnets in at least two AZs",
                    "at least 2 private subnet ids",
                    "privateSubnetIds",
                )
            both = sorted(set(self.private_subnet_ids) & set(self.public_subnet_ids))
            if both:
                raise _fail(f"{both[0]} is also a private subnet", "separate subnets", "publicSubnetIds")
            return self
        for key in ("private_subnet_ids", "public_subnet_ids"):
            if getattr(self, key):
                raise _fail("is set without vpcId", "subnet ids only with an existing vpcId", _alias(key))
        zones_set = self.availability_zones and "az_count" in self.model_fields_set
        if zones_set and self.az_count != self.zone_count:
            raise _fail(
                f"is {self.az_count} but availabilityZones lists {self.zone_count}",
                "leave azCount out when availabilityZones is set",
                "azCount",
            )
        if self.vpc_cidr is None:
            raise _fail("is empty", VPC_CIDR_ALLOWED, "vpcCidr")
        vpc = ipaddress.IPv4Network(self.vpc_cidr)
        if self.service_cidr and ipaddress.IPv4Network(self.service_cidr).overlaps(vpc):
            raise _fail(
                f"{self.service_cidr} overlaps the VPC CIDR {vpc}", SERVICE_CIDR_ALLOWED, "serviceCidr"
            )
        private, public, zones = self.private_subnet_prefix, self.public_subnet_prefix, self.zone_count
        for key in ("private_subnet_prefix", "public_subnet_prefix"):
            # A default prefix that does not fit is the VPC's problem: reported as too small.
            if key in self.model_fields_set and getattr(self, key) <= vpc.prefixlen:
                raise _fail(
                    f"/{getattr(self, key)} is not longer than the VPC's /{vpc.prefixlen}",
                    f"a prefix longer than /{vpc.prefixlen}",
                    _alias(key),
                )
        if not subnets_fit(vpc, zones, private, public):
            need = next(
                (
                    p
                    for p in range(vpc.prefixlen - 1, 15, -1)
                    if subnets_fit(ipaddress.IPv4Network(f"10.0.0.0/{p}"), zones, private, public)
                ),
                None,
            )
            raise _fail(
                f"VPC {vpc} too small for {zones} private /{private} and {zones} public /{public} subnets",
                f"a VPC of /{need} or larger, or longer subnet prefixes"
                if need
                else "longer subnet prefixes (they do not fit even in a /16, the largest VPC AWS allows)",
                "vpcCidr",
            )
        return self

    @property
    def existing(self) -> bool:
        """True when the cluster goes into an existing VPC (vpc_id set; vpc_cidr is then None)."""
        return self.vpc_id is not None

    @property
    def zone_count(self) -> int:
        """How many AZs a new VPC spans: the explicit list's length, else az_count."""
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
        # has already checked that both fit in the VPC (subnets_fit).
        assert self.vpc_cidr is not None
        vpc = ipaddress.IPv4Network(self.vpc_cidr)  # validation allows IPv4 only
        private = list(vpc.subnets(new_prefix=self.private_subnet_prefix))[: self.zone_count]
        end = private[-1].broadcast_address + 1 if private else vpc.network_address
        public: list[ipaddress.IPv4Network] = []
        for candidate in vpc.subnets(new_prefix=self.public_subnet_prefix):
            if len(public) == self.zone_count:
                break
            if candidate.network_address >= end:
                public.append(candidate)
        return [str(n) for n in private], [str(n) for n in public]


def _alias(field: str) -> str:
    parts = field.split("_")
    return parts[0] + "".join(p.title() for p in parts[1:])


# --- control plane --------------------------------------------------------------------


def _public_cidr(value: str) -> str:
    # Only the syntax: how far the endpoint is open is EKS-ENDPOINT's (and a waiver's) business.
    _ipv4(value, "an IPv4 CIDR such as 203.0.113.0/24")
    return value


class EndpointSpec(SpecModel):
    """Who can reach the Kubernetes API server (checklist EKS-ENDPOINT)."""

    private_access: bool = True
    """Reach the API server from inside the VPC."""
    public_access: bool = False
    """Reach the API server from the internet (only from public_access_cidrs)."""
    public_access_cidrs: Annotated[list[Annotated[str, AfterValidator(_public_cidr)]], _unique("CIDR")] = (
        Field(default_factory=list)
    )
    """Allow-list for the public endpoint; empty means 0.0.0.0/0 to EKS (EKS-ENDPOINT fails it)."""

    @after
    def _reachable(self) -> EndpointSpec:
        if not self.private_access and not self.public_access:
            raise _fail(
                "privateAccess and publicAccess are both off, so nothing can reach the API server",
                "privateAccess: true (publicAccess optional, with an allow-list)",
            )
        return self


def _principal_arn(value: str, info: ValidationInfo) -> str:
    allowed = "arn:aws:iam::<12-digit account>:role/<name> (or :user/<name>)"
    match = PRINCIPAL_ARN.fullmatch(value)
    if not match or len(match["path"]) > 512:
        raise _fail(f"{fmt(value)} is not an IAM role or user ARN", allowed)
    if not IAM_NAME.fullmatch(match["name"]):
        raise _fail(
            f"the name {fmt(match['name'])} is not an IAM role or user name",
            "1 to 64 ASCII letters, digits and +=,.@_-",
        )
    _same_partition(match["partition"], info)
    return value


def _same_partition(partition: str, info: ValidationInfo) -> None:
    region = _context(info, "region")
    if region and partition != region_partition(region):
        raise _fail(
            f"is in partition {partition}, but region {region} is in {region_partition(region)}",
            f"an ARN of partition {region_partition(region)}",
        )


Namespace = Annotated[str, _dns("namespace")]


class AccessEntrySpec(SpecModel):
    """One principal granted cluster access through an EKS access entry."""

    principal_arn: Annotated[str, AfterValidator(_principal_arn)]
    """IAM role or user ARN granted access."""
    policy: Annotated[
        str,
        check(
            lambda v: v in ACCESS_POLICIES or bool(ACCESS_POLICY_ARN.fullmatch(v)),
            lambda v: f"{fmt(v)} is not an EKS access policy",
            "one of " + ", ".join(ACCESS_POLICIES) + " or arn:aws:eks::aws:cluster-access-policy/<Name>",
        ),
    ] = CLUSTER_ADMIN_POLICY
    """EKS access policy: a short name (AmazonEKSClusterAdminPolicy, AmazonEKSAdminPolicy,
    AmazonEKSEditPolicy, AmazonEKSViewPolicy) or its full arn:aws:eks::aws:cluster-access-policy/ ARN."""
    namespaces: Annotated[list[Namespace], _unique("namespace")] = Field(default_factory=list)
    """Scope: empty means the whole cluster, otherwise these namespaces."""

    @property
    def policy_arn(self) -> str:
        """The access policy as a full ARN."""
        if self.policy.startswith("arn:"):
            return self.policy
        return f"arn:aws:eks::aws:cluster-access-policy/{self.policy}"


class AccessSpec(SpecModel):
    """How people authenticate to the cluster (checklist EKS-ACCESS)."""

    authentication_mode: Literal["API"] = "API"
    """API: access entries only. API_AND_CONFIG_MAP is refused: pulumi-eks would write the
    aws-auth ConfigMap with the deployer's credentials (docs/configuration.md)."""
    entries: Annotated[
        list[AccessEntrySpec],
        _no_repeats(
            lambda e: e.principal_arn, "has two entries for {}".format, "one access entry per principal"
        ),
    ] = Field(default_factory=list)
    """Admins and other principals, each through an explicit access entry."""


# --- compute --------------------------------------------------------------------------


def _label_key(key: str) -> str:
    prefix, _, name = key.rpartition("/")
    ok = bool(name) and len(name) <= 63 and bool(LABEL_NAME.fullmatch(name))
    if not ok or (prefix and (len(prefix) > 253 or not DNS_SUBDOMAIN.fullmatch(prefix))):
        raise _fail(
            f"{fmt(key)} is not a valid Kubernetes label key",
            "[prefix/]name: name up to 63 of letters, digits, '-', '_', '.', alphanumeric at both ends; "
            "prefix a DNS subdomain",
        )
    return key


def _label_value(value: str | None) -> str | None:
    if value and (len(value) > 63 or not LABEL_NAME.fullmatch(value)):
        raise _fail(
            f"{fmt(value)} is not a valid Kubernetes label value",
            "up to 63 of letters, digits, '-', '_', '.', alphanumeric at both ends (or empty)",
        )
    return value


LabelKey = Annotated[str, AfterValidator(_label_key)]
LabelValue = Annotated[str, AfterValidator(_label_value)]


class TaintSpec(SpecModel):
    """A Kubernetes taint put on every node of a group."""

    key: LabelKey
    """Taint key (Kubernetes label-key syntax)."""
    value: Annotated[str | None, AfterValidator(_label_value)] = None
    """Taint value (label-value syntax), optional."""
    effect: Literal["NO_SCHEDULE", "NO_EXECUTE", "PREFER_NO_SCHEDULE"] = "NO_SCHEDULE"
    """EKS spelling of NoSchedule / NoExecute / PreferNoSchedule."""


def _size(low: int, high: int) -> AfterValidator:
    what = {0: "is negative", 1: "is below 1"}.get(low, f"is below {low}")
    allowed = f"{low} to {high} (AWS's per-group bound)"
    return check(
        lambda v: low <= v <= high, lambda v: f"{v} {what}" if v < low else f"{v} is above {high}", allowed
    )


InstanceType = Annotated[
    str,
    check(
        lambda v: bool(INSTANCE_TYPE.fullmatch(v)),
        lambda v: f"{fmt(v)} is not an EC2 instance type",
        "family.size, e.g. m6i.large or c7g.xlarge",
    ),
]


class NodeGroupSpec(SpecModel):
    """An EKS managed node group in the private subnets (no SSH; SSM instead)."""

    name: Annotated[str, _dns("node group name")]
    """DNS-1123 label; unique in the stack."""
    instance_types: Annotated[
        list[InstanceType],
        check(bool, lambda v: "is empty", "at least one instance type, e.g. [m6i.large]"),
        _unique("instance type"),
    ] = Field(default_factory=lambda: ["m6i.large"])
    """EC2 instance types (family.size), all of the AMI's architecture; several help spot."""
    capacity_type: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"
    """On-demand or spot capacity."""
    min_size: Annotated[int, _size(0, MAX_GROUP_NODES)] = 1
    """Fewest nodes (0 to 1000)."""
    desired_size: Annotated[int, _size(0, MAX_GROUP_NODES)] = 2
    """Nodes at creation (min_size <= desired_size <= max_size)."""
    max_size: Annotated[int, _size(1, MAX_GROUP_NODES)] = 3
    """Most nodes (1 to 1000; AWS's default quota is 450 per group)."""
    disk_size: Annotated[
        int, check(lambda v: 20 <= v <= 16384, lambda v: f"{v} GiB is out of range", "20 to 16384 GiB")
    ] = 50
    """Root volume size in GiB (gp3, encrypted), 20-16384."""
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    """Kubernetes labels on every node."""
    taints: list[TaintSpec] = Field(default_factory=list)
    """Kubernetes taints on every node."""
    ami_type: Annotated[
        str,
        check(
            lambda v: v in AMI_TYPES,
            lambda v: f"{fmt(v)} is not a supported AMI type",
            "one of " + ", ".join(AMI_TYPES),
        ),
    ] = "AL2023_x86_64_STANDARD"
    """EKS AMI type (AMI_TYPES): AL2023_* or BOTTLEROCKET_*."""
    imds_hop_limit: Annotated[
        int,
        check(lambda v: 1 <= v <= 64, lambda v: f"the number {v} is out of range", "1 to 64 (EC2's range)"),
    ] = 1
    """IMDSv2 hop limit: 1 keeps pods off the node's credentials; above 1 fails NODE-IMDSV2 unless waived."""

    @after
    def _consistent(self) -> NodeGroupSpec:
        arm_ami = "_ARM_" in self.ami_type
        for j, itype in enumerate(self.instance_types):
            arm_type = bool(ARM_FAMILY.match(itype))
            if arm_type != arm_ami:
                arch = {True: "arm64", False: "x86_64"}
                raise _fail(
                    f"{itype} is {arch[arm_type]} but amiType {self.ami_type} is {arch[arm_ami]}",
                    "instance types of the AMI's architecture",
                    "instanceTypes",
                    j,
                )
        low, want, high = self.min_size, self.desired_size, self.max_size
        order = "minSize <= desiredSize <= maxSize"
        if low > want:
            raise _fail(f"{low} is greater than desiredSize {want}", order, "minSize")
        if want > high:
            raise _fail(f"{want} is greater than maxSize {high}", order, "desiredSize")
        return self


class AutoModeSpec(SpecModel):
    """EKS Auto Mode; may be combined with managed node groups."""

    enabled: bool = False
    """EKS Auto Mode: AWS runs compute, storage and load balancing."""
    node_pools: Annotated[list[Literal["general-purpose", "system"]], _unique("node pool")] = Field(
        default_factory=lambda: ["general-purpose", "system"]
    )
    """Built-in node pools to turn on; empty leaves node pools to Git (then node groups are needed)."""


class AddonSpec(SpecModel):
    """One EKS managed add-on."""

    enabled: bool = True
    """Install the add-on (all five are on unless a stack turns one off)."""
    version: Annotated[
        str | None,
        check(
            lambda v: v is None or bool(ADDON_VERSION.fullmatch(v)),
            lambda v: f"{fmt(v)} is not an EKS add-on version",
            "v<major>.<minor>.<patch>-eksbuild.<n>, e.g. v1.19.2-eksbuild.1",
        ),
    ] = None
    """Pin, e.g. v1.19.2-eksbuild.1; unset takes the default for the cluster version."""


# The retention values CloudWatch Logs accepts (PutRetentionPolicy).
LogRetentionDays = Literal[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653
]


class ControlPlaneSpec(SpecModel):
    """Control-plane settings EKS would otherwise pick silently (what it costs, what survives a mistake)."""

    deletion_protection: bool = False
    """Refuse to delete the cluster (EKS deletion protection); turn it on for production."""
    upgrade_policy: Literal["STANDARD", "EXTENDED"] = "STANDARD"
    """Support type at the end of standard support: STANDARD upgrades the cluster automatically,
    EXTENDED keeps the version on paid extended support (EKS's silent default when unset)."""
    log_retention_days: LogRetentionDays = 90
    """Retention of the control-plane log group `/aws/eks/<cluster>/cluster` (EKS creates it
    with no expiry otherwise)."""


AddonName = Literal["vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "aws-ebs-csi-driver"]
LogType = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]


# --- identities and their IAM policies ------------------------------------------------

POLICY_ALLOWED = 'an IAM policy: {Version: "2012-10-17", Statement: [{Effect, Action, Resource}, ...]}'
ACTION = re.compile(r"\*|[a-z0-9-]+:[A-Za-z0-9*?]+")
RESOURCE = re.compile(r"\*|arn:[^:\s]+:[^:\s]*:[^:\s]*:[^:\s]*:\S+")


def _strings(value: Any, test: re.Pattern[str], what: str, allowed: str, key: str) -> None:
    """A string or list of strings at `key`, each matching `test`."""
    items = value if isinstance(value, list) else [value]
    for i, item in enumerate(items):
        at = (key, i) if isinstance(value, list) else (key,)
        if not isinstance(item, str):
            raise _fail(f"is {_describe(item)}, not a string", allowed, *at)
        if not test.fullmatch(item):
            raise _fail(f"{fmt(item)} is not {what}", allowed, *at)
    if not items:
        raise _fail("is empty", allowed, key)


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()


class PolicyStatement(SpecModel):
    """One statement of an identity's inline policy (IAM JSON policy grammar)."""

    model_config = ConfigDict(alias_generator=to_pascal)
    sid: str | None = None
    """Statement id."""
    effect: str | None = None
    """Allow or Deny."""
    action: Any = None
    """service:Action strings (or *)."""
    not_action: Any = None
    """service:Action strings (or *)."""
    resource: Any = None
    """ARNs (or *)."""
    not_resource: Any = None
    """ARNs (or *)."""
    condition: dict[str, dict[str, Any]] | None = None
    """Condition operators; dates are strings, as IAM reads them."""
    principal: Any = None
    """Not allowed: an identity policy names no principal."""
    not_principal: Any = None
    """Not allowed: an identity policy names no principal."""

    @after
    def _grammar(self) -> PolicyStatement:
        for key in ("principal", "not_principal"):
            if getattr(self, key) is not None:
                raise _fail(
                    "names a principal, which an identity policy cannot",
                    "leave it out: the role's trust policy says who assumes it",
                    to_pascal(key),
                )
        if self.effect not in ("Allow", "Deny"):
            raise _fail(f"is {fmt(self.effect)}", "Allow or Deny", "Effect")
        actions = "an action or list of actions, e.g. s3:GetObject"
        if self.action is None and self.not_action is None:
            raise _fail("is missing or empty", actions, "Action")
        if self.resource is None and self.not_resource is None:
            raise _fail("is missing", "a resource ARN or list of ARNs", "Resource")
        arns = "* or ARNs (arn:<partition>:<service>:<region>:<account>:<resource>)"
        for key, test, what, allowed in (
            ("Action", ACTION, "an action (service:Action)", actions),
            ("NotAction", ACTION, "an action (service:Action)", actions),
            ("Resource", RESOURCE, "* or an ARN", arns),
            ("NotResource", RESOURCE, "* or an ARN", arns),
        ):
            value = getattr(self, _snake(key))
            if value is not None:
                _strings(value, test, what, allowed, key)
        for operator, test in (self.condition or {}).items():
            for key, value in test.items():
                for item in value if isinstance(value, list) else [value]:
                    if not isinstance(item, str | int | float | bool):
                        at = ("Condition", operator, key)
                        raise _fail(f"holds {_describe(item)}", "strings, numbers or booleans", *at)
        return self


class PolicyDocument(SpecModel):
    """An identity's inline IAM policy."""

    model_config = ConfigDict(alias_generator=to_pascal)
    version: str | None = None
    """"2012-10-17" (an unquoted 2012-10-17 reads the same)."""
    id: str | None = None
    """Policy id."""
    statement: list[PolicyStatement] | None = None
    """The statements (at least one)."""

    @after
    def _document(self) -> PolicyDocument:
        if self.version is not None and self.version != "2012-10-17":
            raise _fail(f"{fmt(self.version)} is not an IAM policy version", '"2012-10-17"', "Version")
        if not self.statement:
            raise _fail("is missing or not a non-empty list", POLICY_ALLOWED, "Statement")
        size = len(json.dumps(self.model_dump(by_alias=True, exclude_unset=True), separators=(",", ":")))
        if size > MAX_INLINE_POLICY:
            raise _fail(
                f"is {size} characters long", f"at most {MAX_INLINE_POLICY} (IAM's inline policy limit)"
            )
        return self


def _policy_arn(value: str, info: ValidationInfo) -> str:
    if not POLICY_ARN.fullmatch(value):
        raise _fail(
            f"{fmt(value)} is not an IAM policy ARN",
            "arn:aws:iam::aws:policy/<name> or arn:aws:iam::<account>:policy/<name>",
        )
    _same_partition(value.split(":")[1], info)
    return value


class IdentitySpec(SpecModel):
    """An IAM role for one Kubernetes service account (Pod Identity or IRSA)."""

    name: Annotated[
        str,
        _dns("identity name"),
        check(
            lambda v: v not in RESERVED_ROLE_NAMES,
            lambda v: f"{fmt(v)} is the name of the platform's own <cluster>-{v} role",
            "any other name (reserved: " + ", ".join(RESERVED_ROLE_NAMES) + ")",
        ),
    ]
    """DNS-1123 label; becomes `<name>_role_arn` in the GitOps bridge."""
    namespace: Namespace
    """Namespace of the service account (DNS-1123 label)."""
    service_account: Annotated[str, _dns("service account name")]
    """Service account name (DNS-1123 label); one identity per namespace/service account."""
    managed_policy_arns: Annotated[list[Annotated[str, AfterValidator(_policy_arn)]], _unique("policy")] = (
        Field(default_factory=list)
    )
    """Managed policies attached to the role (arn:aws:iam::aws:policy/… or an account's)."""
    policy_document: PolicyDocument | None = Field(default=None, alias="policy")
    """Inline IAM policy document (Version/Statement); `policy` gives it as written."""
    mode: Literal["pod-identity", "irsa"] = "pod-identity"
    """Pod Identity (survives a cluster rebuild) or IRSA (trusts the cluster's OIDC issuer)."""

    @property
    def policy(self) -> dict[str, Any] | None:
        """The inline policy document as the stack wrote it, or None."""
        doc = self.policy_document
        return None if doc is None else doc.model_dump(by_alias=True, exclude_unset=True)

    @after
    def _grants_something(self) -> IdentitySpec:
        if not self.managed_policy_arns and self.policy_document is None:
            raise _fail("grants nothing", "managedPolicyArns, an inline policy, or both")
        return self


# --- scalars and tags -----------------------------------------------------------------


def _region(value: str) -> str:
    if region_partition(value) is None:
        raise _fail(f"{fmt(value)} is not an AWS region name", "a region such as eu-west-1")
    return value


def _versions_allowed() -> str:
    return "one of " + ", ".join(f'"{v}"' for v in offered_kubernetes_versions()) + " (offered by EKS)"


def _kubernetes_version(value: str) -> str:
    if value not in offered_kubernetes_versions():
        raise _fail(f"{fmt(value)} is not a Kubernetes version EKS offers", _versions_allowed())
    return value


def _kms_key(value: str | None, info: ValidationInfo) -> str | None:
    if value is None:
        return value
    allowed = "a KMS key ARN arn:aws:kms:<region>:<account>:key/<key id> (not an alias)"
    if ":alias/" in value:
        raise _fail(f"{fmt(value)} is a KMS alias; EKS encryption needs the key itself", allowed)
    match = KMS_KEY_ARN.fullmatch(value)
    if not match:
        raise _fail(f"{fmt(value)} is not a KMS key ARN", allowed)
    region = _context(info, "region")
    if region and match["region"] != region:
        raise _fail(f"key is in {match['region']}, the cluster in {region}", "a key in the cluster's region")
    return value


TAG_ALLOWED = "letters, digits, spaces and _ . : / = + - @"


def _tags(tags: dict[str, str]) -> dict[str, str]:
    if len(tags) > MAX_STACK_TAGS:
        raise _fail(
            f"has {len(tags)} tags", f"at most {MAX_STACK_TAGS} (AWS allows 50; the project adds its own)"
        )
    for key, value in tags.items():
        if key.lower().startswith("aws:"):
            raise _fail("uses the aws: prefix, which AWS reserves", "a key not starting with aws:", key)
        if key.lower().startswith(RESERVED_TAG_PREFIX):
            raise _fail(
                f"uses the {RESERVED_TAG_PREFIX} prefix of the project's own tags",
                f"a key not starting with {RESERVED_TAG_PREFIX}",
                key,
            )
        if not 1 <= len(key) <= 128:
            raise _fail(f"key is {len(key)} characters long", "1 to 128 characters", key)
        if not TAG_CHARS.fullmatch(key):
            raise _fail("key has characters AWS refuses", TAG_ALLOWED, key)
        if len(value) > 256:
            raise _fail(f"value is {len(value)} characters long", "at most 256 characters", key)
        if not TAG_CHARS.fullmatch(value):
            raise _fail("value has characters AWS refuses", TAG_ALLOWED, key)
    return tags


# --- escrow ---------------------------------------------------------------------------

# S3 keeps noncurrent versions for at least a day; ten years bounds a typo (36500).
MAX_BUNDLE_RETENTION_DAYS = 3650
# The escrow bucket is `eksgitops-escrow-<12-digit account>-<stack>` (components.fleet_escrow):
# at most 63 characters leaves 33 for the stack name.
ESCROW_BUCKET_PREFIX_LENGTH = len("eksgitops-escrow-") + 12 + 1


def _escrow_region(value: str, info: ValidationInfo) -> str:
    _region(value)
    region = _context(info, "region")
    if region and region_partition(value) != region_partition(region):
        raise _fail(
            f"{fmt(value)} is in partition {region_partition(value)}, the cluster's region {region} "
            f"in {region_partition(region)}",
            f"a region of partition {region_partition(region)}",
        )
    return value


EscrowRegion = Annotated[str, AfterValidator(_escrow_region)]


class EscrowSpec(SpecModel):
    """Durable escrow of the fleet repository (`git bundle`s in S3) and its Git credentials
    (a Secrets Manager secret), kept when the cluster is torn down (components.fleet_escrow)."""

    enabled: bool = False
    """Create the escrow bucket and secret (protected, retained on delete)."""
    region: EscrowRegion | None = None
    """Region of the bucket and the secret; unset means the cluster's region. Another region
    keeps the escrow when the cluster's region is lost."""
    secret_replica_regions: Annotated[list[EscrowRegion], _unique("region")] = Field(default_factory=list)
    """Regions the Git credentials secret is replicated to (Secrets Manager replicas)."""
    bundle_retention_days: Annotated[
        int,
        check(
            lambda v: 1 <= v <= MAX_BUNDLE_RETENTION_DAYS,
            lambda v: f"{v} is out of range",
            f"1 to {MAX_BUNDLE_RETENTION_DAYS} days",
        ),
    ] = 90
    """Days a superseded bundle is kept (S3 noncurrent version expiration)."""

    @after
    def _consistent(self, info: ValidationInfo) -> EscrowSpec:
        if not self.enabled:
            for key in ("region", "secret_replica_regions", "bundle_retention_days"):
                if key in self.model_fields_set:
                    raise _fail(
                        "is set but escrow.enabled is not true, so no escrow is created",
                        "enabled: true, or leave it out",
                        _alias(key),
                    )
            return self
        home = self.region or _context(info, "region")
        for i, replica in enumerate(self.secret_replica_regions):
            if replica == home:
                raise _fail(
                    f"{fmt(replica)} is the escrow's own region",
                    "other regions (Secrets Manager replicates a secret to regions other than its own)",
                    "secretReplicaRegions",
                    i,
                )
        return self


class EnvironmentSpec(SpecModel):
    """One stack's validated configuration; build it with `load_spec`."""

    environment: str
    """The stack name (dev, staging, prod…)."""
    region: Annotated[str, AfterValidator(_region)]
    """AWS region, e.g. eu-west-1 (required); a name of a known partition (data/aws_regions.json)."""
    cluster_name: Annotated[str, _dns("cluster name")]
    """EKS cluster name (DNS-1123 label); defaults to eksgitops-<stack>."""
    kubernetes_version: Annotated[str, AfterValidator(_kubernetes_version)]
    """Kubernetes minor version EKS offers (components/data/kubernetes_versions.json); EKS-VERSION
    fails one outside standard support."""
    network: NetworkSpec = Field(default_factory=NetworkSpec)
    """New or existing VPC."""
    endpoint: EndpointSpec = Field(default_factory=EndpointSpec)
    """API server endpoint access."""
    logging: Annotated[list[LogType], _unique("log type")] = Field(
        default_factory=lambda: ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    )
    """Control-plane log types sent to CloudWatch (all five by default)."""
    secrets_kms_key_arn: Annotated[str | None, AfterValidator(_kms_key)] = None
    """Existing KMS key for secrets envelope encryption; unset creates one with rotation on."""
    access: AccessSpec = Field(default_factory=AccessSpec)
    """Authentication mode and access entries."""
    node_groups: Annotated[
        list[NodeGroupSpec],
        _no_repeats(lambda g: g.name, "has two node groups named {}".format, "unique node group names"),
    ] = Field(default_factory=list)
    """Managed node groups (at least one, unless Auto Mode with built-in node pools is on)."""
    auto_mode: AutoModeSpec = Field(default_factory=AutoModeSpec)
    """EKS Auto Mode."""
    addons: dict[AddonName, AddonSpec] = Field(default_factory=dict)
    """Per-add-on overrides (enabled, version pin); see enabled_addons()."""
    identities: Annotated[
        list[IdentitySpec],
        _no_repeats(lambda i: i.name, "has two identities named {}".format, "unique identity names"),
        _no_repeats(
            lambda i: f"{i.namespace}/{i.service_account}",
            "has two identities for service account {}".format,
            "one identity per namespace and service account",
        ),
    ] = Field(default_factory=list)
    """Workload identities (IAM roles for service accounts)."""
    gitops: GitOpsSpec = Field(default_factory=GitOpsSpec)
    """The GitOps agent's source."""
    policy: PolicySpec = Field(default_factory=PolicySpec)
    """Waivers of the guardrail rules, each with a reason (components.policy_spec)."""
    tags: Annotated[dict[str, str], AfterValidator(_tags)] = Field(default_factory=dict)
    """AWS tags on every resource (at most 40; no aws: or eksgitops: prefix)."""
    control_plane: ControlPlaneSpec = Field(default_factory=ControlPlaneSpec)
    """Deletion protection, upgrade policy and control-plane log retention."""
    escrow: EscrowSpec = Field(default_factory=EscrowSpec)
    """Durable escrow of the fleet repository and its Git credentials (off unless enabled)."""

    def enabled_addons(self) -> dict[str, AddonSpec]:
        """All five managed add-ons unless a stack turns one off; each with its pin."""
        names: tuple[str, ...] = get_args(AddonName)
        chosen = {name: self.addons.get(name, AddonSpec()) for name in names}  # type: ignore[call-overload]
        return {name: addon for name, addon in chosen.items() if addon.enabled}

    @after
    def _escrow_names_fit(self) -> EnvironmentSpec:
        # The bucket name carries the stack name; S3 takes 3-63 of a-z, 0-9 and '-'.
        longest = 63 - ESCROW_BUCKET_PREFIX_LENGTH
        env = self.environment
        if self.escrow.enabled and (len(env) > longest or not DNS_LABEL.fullmatch(env)):
            raise _fail(
                f"the stack name {fmt(env)} makes no valid escrow bucket name "
                f"(eksgitops-escrow-<account>-{env})",
                f"a stack name of at most {longest} of a-z, 0-9 and '-', or enabled: false",
                "escrow",
                "enabled",
            )
        return self

    @after
    def _works_on_aws(self) -> EnvironmentSpec:
        _raise_all(list(self._cross_checks()))
        return self

    def _cross_checks(self) -> Iterator[SpecValueError]:
        """Rules across sections: each yields its line; all are reported together."""
        auto = self.auto_mode
        if not self.node_groups and not (auto.enabled and auto.node_pools):
            if auto.enabled:
                # EKS rejects a compute config with a node role but no node pools, and
                # without pools or groups nothing could run.
                yield _fail(
                    "no compute: autoMode.nodePools is empty and there are no node groups",
                    "a built-in node pool (general-purpose, system) or at least one node group",
                    "nodeGroups",
                )
            else:
                yield _fail(
                    "no compute: no node groups and autoMode.enabled is not true",
                    "at least one node group, or autoMode.enabled: true (or both)",
                    "nodeGroups",
                )
        enabled = self.enabled_addons()
        if not auto.enabled:
            # bootstrap_self_managed_addons is off: without these nodes never become Ready.
            for name in ("vpc-cni", "kube-proxy", "coredns"):
                if name not in enabled:
                    yield _fail(
                        "is false without Auto Mode: nodes would have no pod network, service "
                        "routing or cluster DNS and never become Ready",
                        "keep it on (or turn on autoMode, which runs it itself)",
                        "addons",
                        name,
                        "enabled",
                    )
        # Auto Mode nodes run the Pod Identity agent themselves; node groups need the add-on.
        agent_missing = "eks-pod-identity-agent" not in enabled and bool(self.node_groups or not auto.enabled)
        pod_identities = [i for i, ident in enumerate(self.identities) if ident.mode == "pod-identity"]
        if agent_missing and pod_identities:
            yield _fail(
                f"is false but identities[{pod_identities[0]}] uses mode pod-identity",
                "keep the agent on, or use mode irsa for those identities",
                "addons",
                "eks-pod-identity-agent",
                "enabled",
            )
        elif agent_missing and "aws-ebs-csi-driver" in enabled:
            yield _fail(
                "is false but aws-ebs-csi-driver is on, and that driver gets its AWS credentials "
                "through Pod Identity",
                "keep the agent on, or turn aws-ebs-csi-driver off",
                "addons",
                "eks-pod-identity-agent",
                "enabled",
            )
        # EKS refuses an add-on version it does not offer for the cluster's Kubernetes
        # version, minutes into an apply; the data file says what is offered.
        for name, addon in self.addons.items():
            known = known_addon_versions(name, self.kubernetes_version)
            if addon.version is None or known is None or addon.version in known:
                continue
            yield _fail(
                f"{addon.version} is not a {name} version known to be offered for Kubernetes "
                f"{self.kubernetes_version}",
                "one of " + ", ".join(known) + " (components/data/addon_versions.json; "
                "or remove the pin to follow the Kubernetes version)",
                "addons",
                name,
                "version",
            )
        # Without the private endpoint, nodes reach the API server through NAT: the components
        # add a new VPC's NAT addresses to the allow-list, but an existing VPC's are unknown.
        if self.network.existing and not self.endpoint.private_access:
            yield _fail(
                "is false with an existing VPC, so nodes could only reach the API server through NAT "
                "addresses this program does not know",
                "privateAccess: true (or a new VPC, whose NAT addresses are added to the allow-list)",
                "endpoint",
                "privateAccess",
            )
        # Not posture (no rule covers it): the cluster is created without the creator's implicit
        # admin entry, so a stack without a cluster-wide admin entry builds a cluster nobody can manage.
        if not any(
            e.policy.rsplit("/", 1)[-1] == CLUSTER_ADMIN_POLICY and not e.namespaces
            for e in self.access.entries
        ):
            yield _fail(
                "has no cluster-wide AmazonEKSClusterAdminPolicy entry, and the cluster's creator gets no "
                "permanent admin",
                "an entry {principalArn: <the role that runs pulumi up or your admins' role>} "
                "(policy AmazonEKSClusterAdminPolicy is the default, no namespaces)",
                "access",
                "entries",
            )


def _raise_all(errors: list[SpecValueError]) -> None:
    """Report several SpecValueErrors of one validator at once (pydantic merges them)."""
    if errors:
        details = [
            InitErrorDetails(
                type="value_error", loc=e.at, input=None, ctx={"error": SpecValueError(e.what, e.allowed)}
            )
            for e in errors
        ]
        raise ValidationError.from_exception_data("spec", details)


# --- reading config -------------------------------------------------------------------

SCALAR_KEYS = frozenset({"region", "clusterName", "kubernetesVersion", "secretsKmsKeyArn"})
"""Top-level keys whose values are plain strings in Pulumi config."""
TOP_LEVEL_KEYS = frozenset(
    f.alias or n for n, f in EnvironmentSpec.model_fields.items() if n != "environment"
)
"""Every key a stack may set under eksgitops: (`environment` comes from the stack name)."""
STRUCTURED_KEYS = TOP_LEVEL_KEYS - SCALAR_KEYS
"""Top-level keys whose values are objects/lists: Pulumi hands them to the program as JSON."""


@dataclass(frozen=True)
class InvalidJson:
    """A structured key whose Pulumi config text is not JSON; load_spec reports it."""

    text: str
    error: str


def credential_paths(model: type[BaseModel] = EnvironmentSpec) -> list[KeyPath]:
    """Key paths (camelCase, "*" for any list index or mapping key) of the fields typed SecretValue."""
    found: list[KeyPath] = []

    def walk(annotation: Any, path: KeyPath) -> None:
        annotation = _strip_optional(annotation)
        if annotation is SecretValue:
            found.append(path)
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for name, field in annotation.model_fields.items():
                walk(field.annotation, (*path, field.alias or name))
        elif get_origin(annotation) in (list, dict):
            walk(get_args(annotation)[-1], (*path, "*"))

    walk(model, ())
    return found


def _wrap_credentials(value: Any, pattern: KeyPath) -> Any:
    """`value` with the leaves at `pattern` (relative) turned into SecretValue."""
    if not pattern:
        return SecretValue(value) if isinstance(value, str) else value
    head, rest = pattern[0], pattern[1:]
    if isinstance(value, dict):
        return {k: _wrap_credentials(v, rest) if head in ("*", k) else v for k, v in value.items()}
    if isinstance(value, list) and head == "*":
        return [_wrap_credentials(v, rest) for v in value]
    return value


def raw_config_from_pulumi(model: type[BaseModel] = EnvironmentSpec) -> dict[str, Any]:
    """The project's keys (prefix removed) from the running Pulumi program's config.

    A real `pulumi up` passes config in the PULUMI_CONFIG environment variable; mocks and
    the offline plan use `pulumi.runtime.set_all_config`. Both are read, the latter wins.
    Structured keys are JSON-decoded; text that is not JSON is kept as an `InvalidJson`
    marker so that `load_spec` reports it with everything else. Pulumi marks a key secret
    as a whole: a secret scalar becomes a SecretValue, and in a secret structured key the
    leaves at the model's credential paths do (`.value` is the plaintext under `pulumi up`).
    """
    import pulumi
    from pulumi.runtime import config as runtime_config

    namespace = pulumi.get_project() or PROJECT
    prefix = f"{namespace}:"
    merged: dict[str, Any] = {}
    env_config = runtime_config.get_config_env() if "PULUMI_CONFIG" in os.environ else {}
    for source_map in (env_config, runtime_config.CONFIG.get()):
        for key, value in source_map.items():
            if key.startswith(prefix):
                merged[key[len(prefix) :]] = value
    secret = set(runtime_config.get_config_secret_keys_env())
    paths = credential_paths(model)
    raw: dict[str, Any] = {}
    for key, value in merged.items():
        is_secret = runtime_config.is_config_secret(prefix + key) or prefix + key in secret
        if key in STRUCTURED_KEYS and isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                value = InvalidJson(SECRET_PLACEHOLDER if is_secret else value, exc.msg)
            if is_secret:
                for path in paths:
                    if path[0] == key:
                        value = _wrap_credentials(value, path[1:])
        elif is_secret and isinstance(value, str):
            value = SecretValue(value)
        raw[key] = value
    return raw


def spec_from_pulumi() -> EnvironmentSpec:
    """The validated spec of the running Pulumi program's stack; SpecError if it is wrong."""
    import pulumi

    stack = pulumi.get_stack()
    try:
        return load_spec(raw_config_from_pulumi(), stack=stack, source=f"stacks/Pulumi.{stack}.yaml")
    except SpecError as err:
        # Pulumi marks a structured key secret as a whole and hands over its plaintext JSON,
        # so a value that is not at a credential field may still be a secret: hide them all.
        hidden = sorted(_secret_texts(), key=len, reverse=True)
        lines = err.lines
        for text in hidden:
            lines = [line.replace(text, SECRET_PLACEHOLDER) for line in lines]
        raise SpecError(lines) from None


def _secret_texts() -> set[str]:
    """Every string (4 characters or more) inside the program's secret config keys."""
    from pulumi.runtime import config as runtime_config

    found: set[str] = set()

    def collect(value: Any) -> None:
        if isinstance(value, str) and len(value) >= 4:
            found.add(value)
        for child in value.values() if isinstance(value, dict) else value if isinstance(value, list) else []:
            collect(child)

    keys = set(runtime_config.get_config_secret_keys_env()) | set(runtime_config._SECRET_KEYS.get())
    for key in keys:
        value = runtime_config.get_config(key)
        try:
            collect(json.loads(value) if isinstance(value, str) else value)
        except json.JSONDecodeError:
            collect(value)
    return found


def config_for_pulumi(raw: Mapping[str, Any], project: str = PROJECT) -> tuple[dict[str, str], list[str]]:
    """The inverse of raw_config_from_pulumi: `{"<project>:key": "string or JSON"}` and the secret keys.

    Secret markers become SECRET_PLACEHOLDER and their key is listed as secret (a
    structured value with a secret inside is secret as a whole, as in Pulumi).
    """
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in raw.items():
        full = f"{project}:{key}"
        plain = _placeholders(value)
        config[full] = plain if isinstance(plain, str) else json.dumps(plain)
        if plain != value:
            secret_keys.append(full)
    return config, secret_keys


def _placeholders(value: Any) -> Any:
    if isinstance(value, SecretValue):
        return SECRET_PLACEHOLDER
    if isinstance(value, dict):
        return {k: _placeholders(v) for k, v in value.items()}
    return [_placeholders(v) for v in value] if isinstance(value, list) else value


# --- validation -----------------------------------------------------------------------


class Problem(NamedTuple):
    """One mistake: where (key path), what is wrong, and what is allowed."""

    path: KeyPath
    what: str
    allowed: str


def default_cluster_name(stack: str) -> str:
    """The cluster name a stack gets when it does not set clusterName."""
    return f"{PROJECT}-{stack}"


def load_spec(raw: Mapping[str, Any], *, stack: str, source: str) -> EnvironmentSpec:
    """Validate a stack's raw config; raise SpecError listing the problems found."""
    # Pulumi.yaml declares "" as the default of the optional scalars (a declared key
    # without a default is required by Pulumi), so "" means "not set".
    data = {k: v for k, v in raw.items() if not (k in SCALAR_KEYS - {"region"} and v == "")}
    problems: list[Problem] = []
    if "environment" in data:  # it comes from the stack name
        problems.append(
            Problem(
                ("environment",), "unknown key", "allowed keys here: " + ", ".join(sorted(TOP_LEVEL_KEYS))
            )
        )
        del data["environment"]
    if "clusterName" not in data and not DNS_LABEL.fullmatch(default_cluster_name(stack)):
        problems.append(
            Problem(
                ("clusterName",),
                f'"{default_cluster_name(stack)}" is not a valid cluster name '
                f"(the default, from stack {stack})",
                DNS_LABEL_ALLOWED,
            )
        )
    data.setdefault("clusterName", default_cluster_name(stack))
    data.setdefault("kubernetesVersion", default_kubernetes_version())
    version = data["kubernetesVersion"]
    if isinstance(version, int | float) and not isinstance(version, bool):
        # YAML reads an unquoted 1.30 as the number 1.3: the trailing zero is gone.
        guess = f"{version:.2f}" if isinstance(version, float) else str(version)
        problems.append(
            Problem(
                ("kubernetesVersion",),
                f"is the number {version} (an unquoted {guess}?): quote it",
                _versions_allowed(),
            )
        )
        data["kubernetesVersion"] = default_kubernetes_version()
    gitops = data.get("gitops", {})
    if isinstance(gitops, dict) and gitops.get("path") is None:
        data["gitops"] = {**gitops, "path": f"clusters/{stack}"}
    region = data.get("region")
    context = {"region": region if isinstance(region, str) and region_partition(region) else None}
    spec, found = validate(EnvironmentSpec, {**data, "environment": stack}, context)
    # A problem explained above beats pydantic's words for the same key.
    problems += [p for p in found if p.path not in {q.path for q in problems}]
    if problems or spec is None:
        raise SpecError(format_problems(problems, source))
    return spec


M = TypeVar("M", bound=BaseModel)


def validate(
    model: type[M], data: Mapping[str, Any], context: dict[str, Any] | None = None
) -> tuple[M | None, list[Problem]]:
    """`model` built from camelCase `data`, or None and every problem pydantic found."""
    try:
        return model.model_validate(data, by_alias=True, by_name=False, context=context or {}), []
    except ValidationError as exc:
        return None, _pydantic_problems(exc, model)


def format_problems(problems: list[Problem], source: str) -> list[str]:
    """The SpecError lines, sorted by key path, without duplicates."""

    def order(problem: Problem) -> tuple[Any, ...]:
        return (
            tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in problem.path),
            problem.what,
        )

    lines: list[str] = []
    for problem in sorted(problems, key=order):
        line = f"{source}: eksgitops:{format_path(problem.path)}: {problem.what}; {problem.allowed}"
        if line not in lines:
            lines.append(line)
    return lines


def _did_you_mean(word: str, options: list[str]) -> str:
    folded = {o.lower().replace("_", "").replace("-", ""): o for o in options}
    exact = folded.get(word.lower().replace("_", "").replace("-", ""))
    close = [exact] if exact else difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f', did you mean "{close[0]}"?' if close and close[0] != word else ""


# Hints for required keys, by key name.
_REQUIRED_HINTS = {
    "region": "an AWS region such as eu-west-1",
    "name": DNS_LABEL_ALLOWED,
    "namespace": DNS_LABEL_ALLOWED,
    "serviceAccount": DNS_LABEL_ALLOWED,
    "principalArn": "an IAM role ARN such as arn:aws:iam::111122223333:role/platform-admin",
    "key": "a Kubernetes label key",
}

_EXPECTED = {
    "string_type": ("a string", "a string"),
    "int_type": ("a whole number", "a whole number"),
    "bool_type": ("true or false", "true or false"),
    "list_type": ("a list", "a YAML list"),
    "dict_type": ("a mapping", "a mapping of keys to values"),
    "model_type": ("a mapping", "a mapping of keys (see docs/configuration.md)"),
    "model_attributes_type": ("a mapping", "a mapping of keys (see docs/configuration.md)"),
}


def _describe(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f'the string "{value}"'
    if isinstance(value, SecretValue):
        return "a Pulumi secret"
    return {list: "a list", dict: "a mapping"}.get(type(value), type(value).__name__)


def _pydantic_problems(exc: ValidationError, model: type[BaseModel]) -> list[Problem]:
    """pydantic's errors, rewritten as (key path, what is wrong, what is allowed)."""
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        kind, value = err["type"], err.get("input")
        path = loc[:-1] if loc and loc[-1] == "[key]" else loc
        annotation = _annotation_at(model, loc[:-2] if path != loc else loc)
        if path != loc:  # a mapping's key: the mapping's key type
            annotation = _strip_optional(get_args(annotation)[0]) if get_origin(annotation) is dict else None
        if isinstance(value, SecretValue) and kind != "plaintext_credential":
            what, allowed = "is a Pulumi secret (secure:), but this key holds no credentials", "a plain value"
        elif isinstance(value, InvalidJson):
            what, allowed = (
                f"is not valid JSON ({value.error})",
                "a mapping or list, which Pulumi passes as JSON",
            )
        elif kind == "plaintext_credential":
            what = f"is {'a plain value' if value is not None else 'empty'}, but it holds a credential"
            key = f"'{PROJECT}:{format_path(path)}'"
            allowed = f"set it as a secret: pulumi config set --secret --path {key} <value>"
        elif kind == "extra_forbidden":
            keys = _allowed_keys(model, path[:-1])
            what, allowed = (
                "unknown key" + _did_you_mean(str(path[-1]), keys),
                "allowed keys here: " + ", ".join(keys),
            )
        elif kind == "missing":
            what, allowed = (
                "is required",
                _REQUIRED_HINTS.get(str(path[-1]), "set it (see docs/configuration.md)"),
            )
        elif kind == "literal_error":
            options = get_args(annotation) if annotation is not None else ()
            allowed = "one of " + ", ".join(str(o) for o in options)
            literal_types = {type(o) for o in options}
            if type(value) not in literal_types:
                # The right words in the wrong type: "1" for 1, 2.0 or true for 2.
                kinds = {str: "a string", int: "a whole number"}
                what = f"is {_describe(value)}, not " + " or ".join(
                    sorted(kinds.get(t, t.__name__) for t in literal_types)
                )
            else:
                what = f"{_describe(value)} is not allowed" + _did_you_mean(
                    str(value), [str(o) for o in options]
                )
        elif kind in _EXPECTED:
            expected, allowed = _EXPECTED[kind]
            if kind == "string_type" and isinstance(value, int | float | bool):
                # YAML turned an unquoted 1.30, 8080 or true into a number or boolean.
                allowed = "a string: quote the value in YAML"
            what = f"is {_describe(value)}, not {expected}"
        elif kind == "value_error" and isinstance(
            spec_error := err.get("ctx", {}).get("error"), SpecValueError
        ):
            path, what, allowed = (*path, *spec_error.at), spec_error.what, spec_error.allowed
        else:
            message = str(err["msg"]).replace("Input should be", "should be").replace("Value error, ", "")
            what, allowed = message[:1].lower() + message[1:], "see docs/configuration.md"
        problems.append(Problem(path, what, allowed))
    return problems


def _strip_optional(annotation: Any) -> Any:
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) is not Literal and type(None) in get_args(annotation) and len(args) == 1:
        annotation = args[0]
    return get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation


def _annotation_at(model: type[BaseModel], loc: tuple[Any, ...]) -> Any:
    """The declared type at a key path of `model`, or None if it cannot be followed."""
    annotation: Any = model
    for part in loc:
        annotation = _strip_optional(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = next((f for n, f in annotation.model_fields.items() if part in (n, f.alias)), None)
            if field is None:
                return None
            annotation = field.annotation
        elif get_origin(annotation) is list and isinstance(part, int):
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]
        else:
            return None
    return _strip_optional(annotation)


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    annotation = _annotation_at(model, loc)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation is EnvironmentSpec:
            return sorted(TOP_LEVEL_KEYS)
        return sorted(f.alias or n for n, f in annotation.model_fields.items())
    return []
