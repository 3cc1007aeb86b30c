"""The compute sections: managed node groups (`nodeGroups`) and EKS Auto Mode (`autoMode`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field
from pydantic import model_validator as _model_validator

from eksgitops.components.spec.base import (
    SpecModel,
)
from eksgitops.components.spec.data import instance_architecture, instance_types
from eksgitops.components.spec.syntax import (
    AMI_TYPES,
    DNS_SUBDOMAIN,
    EKS_LABEL_LENGTH,
    INSTANCE_TYPE,
    LABEL_NAME,
    MAX_GROUP_NODES,
    MAX_NODE_GROUP_NAME,
    MAX_TAINTS,
    RESERVED_LABEL_DOMAINS,
    check,
    dns,
    fail,
    fmt,
    no_repeats,
    unique,
)

after = _model_validator(mode="after")


def _taint_key(key: str) -> str:
    prefix, _, name = key.rpartition("/")
    ok = bool(name) and len(name) <= 63 and bool(LABEL_NAME.fullmatch(name))
    if not ok or (prefix and (len(prefix) > 253 or not DNS_SUBDOMAIN.fullmatch(prefix))):
        raise fail(
            f"{fmt(key)} is not a valid Kubernetes label key",
            "[prefix/]name: name up to 63 of letters, digits, '-', '_', '.', alphanumeric at both ends; "
            "prefix a DNS subdomain",
        )
    if len(key) > EKS_LABEL_LENGTH:
        # Kubernetes would take a 253-character prefix; EKS counts the whole key.
        raise fail(
            f"is {len(key)} characters long", f"at most {EKS_LABEL_LENGTH} characters, prefix included (EKS)"
        )
    return key


def _label_key(key: str) -> str:
    _taint_key(key)
    domain = key.rpartition("/")[0]
    reserved = next((d for d in RESERVED_LABEL_DOMAINS if domain == d or domain.endswith(f".{d}")), None)
    if reserved:
        raise fail(
            f"{fmt(key)} uses the prefix {domain}/, which Kubernetes reserves and EKS refuses",
            f"a prefix of your own (not {reserved} or a subdomain of it), e.g. example.com/role",
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
TaintKey = Annotated[str, AfterValidator(_taint_key)]


def _node_label_value(value: str) -> str:
    # EKS CreateNodegroup's labelValue is 1 to 63 characters (Kubernetes itself allows an empty
    # value, so the taint value keeps _label_value's "or empty").
    if not value:
        raise fail("is empty; EKS refuses a node group label without a value", "1 to 63 characters")
    return _label_value(value) or value


LabelValue = Annotated[str, AfterValidator(_node_label_value)]


class TaintSpec(SpecModel):
    """A Kubernetes taint put on every node of a group."""

    key: TaintKey
    """Taint key (Kubernetes label-key syntax, at most 63 characters)."""
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


def _instance_type(value: str) -> str:
    if not INSTANCE_TYPE.fullmatch(value):
        raise fail(f"{fmt(value)} is not an EC2 instance type", "family.size, e.g. m6i.large or c7g.xlarge")
    if value not in instance_types():
        family = value.split(".", 1)[0]
        sizes = sorted((t for t in instance_types() if t.startswith(f"{family}.")), key=lambda t: (len(t), t))
        raise fail(
            f"{fmt(value)} is not an EC2 instance type",
            ("sizes of " + family + ": " + ", ".join(sizes[:8]) + (", …" if len(sizes) > 8 else ""))
            if sizes
            else "a type of components/data/ec2_instance_types.json (from botocore), e.g. m6i.large",
        )
    if instance_architecture(value) == "mac":
        raise fail(
            f"{fmt(value)} is a Mac instance, which runs on dedicated hosts only",
            "a type a managed node group can run (Linux on x86_64 or arm64)",
        )
    return value


InstanceType = Annotated[str, AfterValidator(_instance_type)]


class NodeGroupSpec(SpecModel):
    """An EKS managed node group in the private subnets (no SSH; SSM instead)."""

    name: Annotated[
        str,
        dns("node group name"),
        check(
            lambda v: len(v) <= MAX_NODE_GROUP_NAME,
            lambda v: f"is {len(v)} characters long; the group is named {v}- plus a 26-character suffix",
            f"at most {MAX_NODE_GROUP_NAME} characters (EKS names a node group in up to 63)",
        ),
    ]
    """DNS-1123 label of at most 36 characters; unique in the stack."""
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
    taints: Annotated[
        list[TaintSpec],
        check(
            lambda v: len(v) <= MAX_TAINTS,
            lambda v: f"has {len(v)} taints",
            f"at most {MAX_TAINTS} (EKS's limit per node group)",
        ),
        no_repeats(
            lambda t: f"{t.key}:{t.effect}",
            "has two taints {} (key:effect)".format,
            "one taint per key and effect (Kubernetes refuses the node)",
        ),
    ] = Field(default_factory=list)
    """Kubernetes taints on every node (at most 50, one per key and effect)."""
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
        ami_arch = "arm64" if "_ARM_" in self.ami_type else "x86_64"
        for j, itype in enumerate(self.instance_types):
            arch = instance_architecture(itype)
            if arch != ami_arch:
                raise fail(
                    f"{itype} is {arch} but amiType {self.ami_type} is {ami_arch}",
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
