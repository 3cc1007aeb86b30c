"""The `network` section: a new VPC carved into subnets, or an existing VPC and its subnets."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationInfo
from pydantic import model_validator as _model_validator

from eksgitops.components.spec import rules
from eksgitops.components.spec.base import (
    SpecModel,
)
from eksgitops.components.spec.data import (
    zone_names,
)
from eksgitops.components.spec.rules import SERVICE_CIDR_ALLOWED, VPC_CIDR_ALLOWED
from eksgitops.components.spec.syntax import (
    alias,
    check,
    context_value,
    fail,
    fmt,
    unique,
)

after = _model_validator(mode="after")


NEW_VPC_KEYS = (
    "availability_zones",
    "az_count",
    "nat_gateways",
    "private_subnet_prefix",
    "public_subnet_prefix",
)


def _vpc_cidr(value: str | None) -> str | None:
    return None if value is None else rules.vpc_cidr(value)


def _service_cidr(value: str | None) -> str | None:
    return None if value is None else rules.service_cidr(value)


def _zones(value: list[str] | None, info: ValidationInfo) -> list[str] | None:
    if value is None:
        return value
    if not value:
        # An empty list would quietly become the first azCount zones.
        raise fail("is empty", "2 to 6 zone names of the region, or leave it out for the first azCount zones")
    if not 2 <= len(value) <= 6:
        raise fail(f"lists {len(value)} zone(s)", "2 to 6 zones")
    region = context_value(info, "region")
    known = zone_names(region) if region else None
    for i, zone in enumerate(value):
        if region and not (zone.startswith(region) and re.fullmatch(r"[a-z]", zone[len(region) :], re.ASCII)):
            raise fail(
                f"{fmt(zone)} is not an availability zone of {region}", f"zone names such as {region}a", i
            )
        if known is not None and zone not in known:
            raise fail(
                f"{fmt(zone)} is not an availability zone of {region}", "one of " + ", ".join(known), i
            )
    return value


def _az_count(value: int, info: ValidationInfo) -> int:
    if not 2 <= value <= 6:
        raise fail(f"{value} is out of range", "2 to 6 availability zones")
    region = context_value(info, "region")
    known = zone_names(region) if region else None
    if known is not None and value > len(known):
        raise fail(f"{value} is more than the {len(known)} zones of {region}", f"2 to {len(known)}")
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


SubnetId = Annotated[str, AfterValidator(rules.subnet_id)]


class NetworkSpec(SpecModel):
    """Either a new VPC (vpc_cidr set) or an existing one (vpc_id set)."""

    vpc_cidr: Annotated[str | None, AfterValidator(_vpc_cidr)] = "10.0.0.0/16"
    """CIDR of a new VPC (/16 to /28)."""
    availability_zones: Annotated[list[str] | None, AfterValidator(_zones), unique("zone")] = None
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
    vpc_id: Annotated[str | None, AfterValidator(lambda v: None if v is None else rules.vpc_id(v))] = None
    """An existing VPC (vpc-...); with it, private_subnet_ids and public_subnet_ids."""
    private_subnet_ids: Annotated[list[SubnetId], unique("subnet")] = Field(default_factory=list)
    """Existing private subnets (subnet-...) for nodes."""
    public_subnet_ids: Annotated[list[SubnetId], unique("subnet")] = Field(default_factory=list)
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
                raise fail(
                    "is set together with vpcId",
                    "either vpcId (an existing VPC) or vpcCidr (a new one), not both",
                    "vpcCidr",
                )
            for key in NEW_VPC_KEYS:
                if key in self.model_fields_set:
                    raise fail(
                        "only applies to a new VPC, but vpcId is set",
                        "leave it out with an existing VPC",
                        alias(key),
                    )
            if len(self.private_subnet_ids) < 2:
                raise fail(
                    f"has {len(self.private_subnet_ids)} subnet(s); EKS needs subnets in at least two AZs",
                    "at least 2 private subnet ids",
                    "privateSubnetIds",
                )
            both = sorted(set(self.private_subnet_ids) & set(self.public_subnet_ids))
            if both:
                raise fail(f"{both[0]} is also a private subnet", "separate subnets", "publicSubnetIds")
            return self
        for key in ("private_subnet_ids", "public_subnet_ids"):
            if getattr(self, key):
                raise fail("is set without vpcId", "subnet ids only with an existing vpcId", alias(key))
        zones_set = self.availability_zones and "az_count" in self.model_fields_set
        if zones_set and self.az_count != self.zone_count:
            raise fail(
                f"is {self.az_count} but availabilityZones lists {self.zone_count}",
                "leave azCount out when availabilityZones is set",
                "azCount",
            )
        if self.vpc_cidr is None:
            raise fail("is empty", VPC_CIDR_ALLOWED, "vpcCidr")
        vpc = ipaddress.IPv4Network(self.vpc_cidr)
        if self.service_cidr and ipaddress.IPv4Network(self.service_cidr).overlaps(vpc):
            raise fail(
                f"{self.service_cidr} overlaps the VPC CIDR {vpc}", SERVICE_CIDR_ALLOWED, "serviceCidr"
            )
        private, public, zones = self.private_subnet_prefix, self.public_subnet_prefix, self.zone_count
        for key in ("private_subnet_prefix", "public_subnet_prefix"):
            # A default prefix that does not fit is the VPC's problem: reported as too small.
            if key in self.model_fields_set and getattr(self, key) <= vpc.prefixlen:
                raise fail(
                    f"/{getattr(self, key)} is not longer than the VPC's /{vpc.prefixlen}",
                    f"a prefix longer than /{vpc.prefixlen}",
                    alias(key),
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
            raise fail(
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
