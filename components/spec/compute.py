"""The compute sections: managed node groups (`nodeGroups`) and EKS Auto Mode (`autoMode`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field
from pydantic import model_validator as _model_validator

from components.spec.base import (
    SpecModel,
)
from components.spec.syntax import (
    AMI_TYPES,
    ARM_FAMILY,
    DNS_SUBDOMAIN,
    INSTANCE_TYPE,
    LABEL_NAME,
    MAX_GROUP_NODES,
    check,
    dns,
    fail,
    fmt,
    unique,
)

after = _model_validator(mode="after")


def _label_key(key: str) -> str:
    prefix, _, name = key.rpartition("/")
    ok = bool(name) and len(name) <= 63 and bool(LABEL_NAME.fullmatch(name))
    if not ok or (prefix and (len(prefix) > 253 or not DNS_SUBDOMAIN.fullmatch(prefix))):
        raise fail(
            f"{fmt(key)} is not a valid Kubernetes label key",
            "[prefix/]name: name up to 63 of letters, digits, '-', '_', '.', alphanumeric at both ends; "
            "prefix a DNS subdomain",
        )
    return key


def _label_value(value: str | None) -> str | None:
    if value and (len(value) > 63 or not LABEL_NAME.fullmatch(value)):
        raise fail(
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

    name: Annotated[str, dns("node group name")]
    """DNS-1123 label; unique in the stack."""
    instance_types: Annotated[
        list[InstanceType],
        check(bool, lambda v: "is empty", "at least one instance type, e.g. [m6i.large]"),
        unique("instance type"),
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
                raise fail(
                    f"{itype} is {arch[arm_type]} but amiType {self.ami_type} is {arch[arm_ami]}",
                    "instance types of the AMI's architecture",
                    "instanceTypes",
                    j,
                )
        low, want, high = self.min_size, self.desired_size, self.max_size
        order = "minSize <= desiredSize <= maxSize"
        if low > want:
            raise fail(f"{low} is greater than desiredSize {want}", order, "minSize")
        if want > high:
            raise fail(f"{want} is greater than maxSize {high}", order, "desiredSize")
        return self


class AutoModeSpec(SpecModel):
    """EKS Auto Mode; may be combined with managed node groups."""

    enabled: bool = False
    """EKS Auto Mode: AWS runs compute, storage and load balancing."""
    node_pools: Annotated[list[Literal["general-purpose", "system"]], unique("node pool")] = Field(
        default_factory=lambda: ["general-purpose", "system"]
    )
    """Built-in node pools to turn on; empty leaves node pools to Git (then node groups are needed)."""
