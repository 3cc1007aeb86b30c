"""The value checks behind `components.spec`: pure functions over the raw config.

They work on the raw dict (camelCase keys, as read from the stack file or from Pulumi)
rather than on the pydantic models, because a model is only built when every field is
well typed, and the point is to report every mistake at once: a bad CIDR must still be
reported when a node group elsewhere has a typo. So each check looks only at values of
the type it expects and stays silent otherwise — pydantic reports the type error.

Each check yields `Problem(path, what, allowed)`; `components.spec` formats them.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any, NamedTuple

from components.iam_documents import RESERVED_ROLE_NAMES

Path = tuple[str | int, ...]


class Problem(NamedTuple):
    """One mistake: where (key path), what is wrong, and what is allowed."""

    path: Path
    what: str
    allowed: str


# --- data -----------------------------------------------------------------------------


@cache
def kubernetes_versions() -> dict[str, Any]:
    """The versions data file (components/data/kubernetes_versions.json), parsed once."""
    text = resources.files("components").joinpath("data/kubernetes_versions.json").read_text()
    return json.loads(text)


def supported_kubernetes_versions() -> list[str]:
    """Kubernetes minor versions in EKS standard support, oldest first."""
    versions = [v["version"] for v in kubernetes_versions()["versions"]]
    return sorted(versions, key=lambda v: tuple(int(p) for p in v.split(".")))


def default_kubernetes_version() -> str:
    """The version a stack gets when it does not set kubernetesVersion."""
    return kubernetes_versions()["default"]


# --- shared syntax --------------------------------------------------------------------

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS_LABEL_ALLOWED = (
    "a DNS-1123 label: 1-63 lowercase letters, digits and '-', starting and ending alphanumeric"
)
REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d")
VPC_ID = re.compile(r"vpc-[0-9a-f]{8}([0-9a-f]{9})?")
SUBNET_ID = re.compile(r"subnet-[0-9a-f]{8}([0-9a-f]{9})?")
KMS_KEY_ARN = re.compile(
    r"arn:aws[a-z-]*:kms:(?P<region>[a-z0-9-]+):\d{12}:key/"
    r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})"
)
PRINCIPAL_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]{1,512}")
POLICY_ARN = re.compile(r"arn:aws[a-z-]*:iam::(aws|\d{12}):policy/[\w+=,.@/-]{1,512}")
ACCESS_POLICY_ARN = re.compile(r"arn:aws[a-z-]*:eks::aws:cluster-access-policy/[A-Za-z0-9]+")
# Short names of the EKS access policies an admin entry plausibly uses (AWS also ships
# policies for Auto Mode nodes and add-ons, which are not for people).
ACCESS_POLICIES = (
    "AmazonEKSAdminPolicy",
    "AmazonEKSAdminViewPolicy",
    "AmazonEKSClusterAdminPolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSViewPolicy",
)
INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*\.[a-z0-9-]+")
# Graviton (arm64) families carry a "g" right after the generation digit: m7g, c6gn, t4g, r8gd.
ARM_FAMILY = re.compile(r"(a1|[a-z]+\d+g[a-z]*)\.")
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
ADDON_VERSION = re.compile(r"v\d+\.\d+\.\d+-eksbuild\.\d+")
LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
TAG_CHARS = re.compile(r"[\w .:/=+\-@]*")
# AWS allows 50 tags a resource; the project adds its own (environment, cluster,
# managed-by, Kubernetes discovery tags…), so a stack gets 40 and 10 stay in reserve.
MAX_STACK_TAGS = 40

# Defaults the checks need when a key is absent (they mirror the model defaults).
NETWORK_DEFAULTS: dict[str, Any] = {
    "vpcCidr": "10.0.0.0/16",
    "azCount": 3,
    "privateSubnetPrefix": 19,
    "publicSubnetPrefix": 24,
}
SIZE_DEFAULTS = {"minSize": 1, "desiredSize": 2, "maxSize": 3}


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def fmt(value: Any) -> str:
    """A value as the user wrote it, for messages."""
    if isinstance(value, str):
        return f'"{value}"'
    return json.dumps(value)


def dns_label(path: Path, value: Any, what: str = "name") -> Iterator[Problem]:
    if isinstance(value, str) and (len(value) > 63 or not DNS_LABEL.fullmatch(value)):
        yield Problem(path, f"{fmt(value)} is not a valid {what}", DNS_LABEL_ALLOWED)


def duplicates(values: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    dups: list[Any] = []
    for v in values:
        if v in seen and v not in dups:
            dups.append(v)
        seen.add(v)
    return dups


def dicts(value: Any) -> list[tuple[int, dict[str, Any]]]:
    """The mapping items of a list, with their index (others are pydantic's to report)."""
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def ipv4_network(value: Any) -> ipaddress.IPv4Network | str:
    """The network, or why it is not one."""
    if not isinstance(value, str):
        return "is not a string"
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        if "has host bits set" in str(exc):
            return f"{fmt(value)} has host bits set"
        return f"{fmt(value)} is not an IPv4 CIDR"
    if not isinstance(net, ipaddress.IPv4Network):
        return f"{fmt(value)} is IPv6"
    return net


# --- top level ------------------------------------------------------------------------


def check_all(raw: Mapping[str, Any]) -> list[Problem]:
    """Every value problem in a stack's raw config (types are pydantic's job)."""
    region = raw.get("region")
    region = region if isinstance(region, str) and REGION.fullmatch(region) else None
    problems: list[Problem] = []
    problems += check_scalars(raw)
    network = raw.get("network", {})
    if isinstance(network, dict):
        problems += check_network(network, region)
    endpoint = raw.get("endpoint", {})
    if isinstance(endpoint, dict):
        problems += check_endpoint(endpoint)
    problems += check_logging(raw.get("logging"))
    access_problems = list(check_access(raw.get("access")))
    problems += access_problems
    if not access_problems:  # a malformed entry is reported as such, not also as "no admin"
        problems += check_cluster_admin(raw.get("access"))
    problems += check_compute(raw)
    problems += check_addons(raw)
    problems += check_identities(raw.get("identities"))
    problems += check_tags(raw.get("tags"))
    return problems


def check_scalars(raw: Mapping[str, Any]) -> Iterator[Problem]:
    region = raw.get("region")
    if isinstance(region, str) and not REGION.fullmatch(region):
        yield Problem(("region",), f"{fmt(region)} is not an AWS region name", "a region such as eu-west-1")
    cluster = raw.get("clusterName")
    if isinstance(cluster, str):
        yield from dns_label(("clusterName",), cluster, "cluster name")
    yield from check_kubernetes_version(("kubernetesVersion",), raw.get("kubernetesVersion"))
    key = raw.get("secretsKmsKeyArn")
    if isinstance(key, str) and key:
        yield from check_kms_key(key, region)


def check_kubernetes_version(path: Path, value: Any) -> Iterator[Problem]:
    supported = supported_kubernetes_versions()
    allowed = "one of " + ", ".join(f'"{v}"' for v in supported) + " (EKS standard support)"
    if isinstance(value, float | int) and not isinstance(value, bool):
        # YAML reads an unquoted 1.30 as the number 1.3: the trailing zero is gone.
        guess = f"{value:.2f}" if isinstance(value, float) else str(value)
        yield Problem(path, f"is the number {value} (an unquoted {guess}?): quote it", allowed)
    elif isinstance(value, str) and value and value not in supported:
        yield Problem(path, f"{fmt(value)} is not a Kubernetes version in EKS standard support", allowed)


def check_kms_key(key: str, region: str | None) -> Iterator[Problem]:
    path: Path = ("secretsKmsKeyArn",)
    allowed = "a KMS key ARN arn:aws:kms:<region>:<account>:key/<key id> (not an alias)"
    if ":alias/" in key:
        yield Problem(path, f"{fmt(key)} is a KMS alias; EKS encryption needs the key itself", allowed)
        return
    match = KMS_KEY_ARN.fullmatch(key)
    if not match:
        yield Problem(path, f"{fmt(key)} is not a KMS key ARN", allowed)
    elif region and match["region"] != region:
        yield Problem(
            path, f"key is in {match['region']}, the cluster in {region}", "a key in the cluster's region"
        )


# --- network --------------------------------------------------------------------------


def check_network(net: dict[str, Any], region: str | None) -> Iterator[Problem]:
    if "vpcId" in net and net["vpcId"] is not None:
        yield from check_existing_vpc(net)
    else:
        yield from check_new_vpc(net, region)
    service = net.get("serviceCidr")
    if service is not None:
        yield from check_service_cidr(net, service)


def check_existing_vpc(net: dict[str, Any]) -> Iterator[Problem]:
    vpc_id = net["vpcId"]
    if isinstance(vpc_id, str) and not VPC_ID.fullmatch(vpc_id):
        yield Problem(("network", "vpcId"), f"{fmt(vpc_id)} is not a VPC id", "vpc- and 8 or 17 hex digits")
    if net.get("vpcCidr") is not None:
        yield Problem(
            ("network", "vpcCidr"),
            "is set together with vpcId",
            "either vpcId (an existing VPC) or vpcCidr (a new one), not both",
        )
    for key in ("availabilityZones", "azCount", "natGateways", "privateSubnetPrefix", "publicSubnetPrefix"):
        if key in net:
            yield Problem(
                ("network", key),
                "only applies to a new VPC, but vpcId is set",
                "leave it out with an existing VPC",
            )
    private = net.get("privateSubnetIds", [])
    if isinstance(private, list) and len(private) < 2:
        yield Problem(
            ("network", "privateSubnetIds"),
            f"has {len(private)} subnet(s); EKS needs subnets in at least two AZs",
            "at least 2 private subnet ids",
        )
    for key in ("privateSubnetIds", "publicSubnetIds"):
        ids = net.get(key, [])
        if not isinstance(ids, list):
            continue
        for i, sid in enumerate(ids):
            if isinstance(sid, str) and not SUBNET_ID.fullmatch(sid):
                yield Problem(
                    ("network", key, i), f"{fmt(sid)} is not a subnet id", "subnet- and 8 or 17 hex digits"
                )
        for dup in duplicates([s for s in ids if isinstance(s, str)]):
            yield Problem(("network", key), f"lists {dup} twice", "each subnet once")
    both = set(_strs(net.get("privateSubnetIds"))) & set(_strs(net.get("publicSubnetIds")))
    for sid in sorted(both):
        yield Problem(("network", "publicSubnetIds"), f"{sid} is also a private subnet", "separate subnets")


def _strs(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def check_new_vpc(net: dict[str, Any], region: str | None) -> Iterator[Problem]:
    for key in ("privateSubnetIds", "publicSubnetIds"):
        if net.get(key):
            yield Problem(("network", key), "is set without vpcId", "subnet ids only with an existing vpcId")
    zones = yield from check_zones(net, region)
    cidr = net.get("vpcCidr", NETWORK_DEFAULTS["vpcCidr"])
    vpc = ipv4_network(cidr) if cidr is not None else "is empty"
    if isinstance(vpc, str):
        if isinstance(cidr, str) or cidr is None:
            yield Problem(("network", "vpcCidr"), vpc, "an IPv4 CIDR such as 10.0.0.0/16 (/16 to /28)")
        return
    if not 16 <= vpc.prefixlen <= 28:
        yield Problem(
            ("network", "vpcCidr"), f"{vpc} has a /{vpc.prefixlen} prefix", "/16 to /28 (the VPC limits)"
        )
        return
    prefixes: dict[str, int] = {}
    for key in ("privateSubnetPrefix", "publicSubnetPrefix"):
        value = net.get(key, NETWORK_DEFAULTS[key])
        if not is_int(value):
            continue
        if not 16 <= value <= 28:
            yield Problem(("network", key), f"/{value} is not a valid subnet prefix", "16 to 28")
        elif value <= vpc.prefixlen and key in net:
            yield Problem(
                ("network", key),
                f"/{value} is not longer than the VPC's /{vpc.prefixlen}",
                f"a prefix longer than /{vpc.prefixlen}",
            )
        else:
            # A default prefix that does not fit is the VPC's problem: reported as too small.
            prefixes[key] = value
    if zones is None or len(prefixes) < 2:
        return
    private, public = prefixes["privateSubnetPrefix"], prefixes["publicSubnetPrefix"]
    if not subnets_fit(vpc, zones, private, public):
        sizes = range(vpc.prefixlen - 1, 15, -1)
        need = next((p for p in sizes if _fits_size(p, zones, private, public)), 16)
        yield Problem(
            ("network", "vpcCidr"),
            f"VPC {vpc} too small for {zones} private /{private} and {zones} public /{public} subnets",
            f"a VPC of /{need} or larger, or longer subnet prefixes",
        )


def check_zones(net: dict[str, Any], region: str | None) -> Iterator[Problem]:
    """Check the AZ settings; return the zone count when it is usable (a generator return)."""
    zones = net.get("availabilityZones")
    count = net.get("azCount", NETWORK_DEFAULTS["azCount"])
    if isinstance(zones, list) and zones:
        names = [z for z in zones if isinstance(z, str)]
        ok = True
        if not 2 <= len(zones) <= 6:
            ok = False
            yield Problem(("network", "availabilityZones"), f"lists {len(zones)} zone(s)", "2 to 6 zones")
        for i, zone in enumerate(zones):
            if not isinstance(zone, str):
                continue
            if region and not re.fullmatch(re.escape(region) + r"[a-z]", zone):
                ok = False
                yield Problem(
                    ("network", "availabilityZones", i),
                    f"{fmt(zone)} is not an availability zone of {region}",
                    f"zone names such as {region}a",
                )
        for dup in duplicates(names):
            ok = False
            yield Problem(("network", "availabilityZones"), f"lists {dup} twice", "each zone once")
        if "azCount" in net and is_int(count) and count != len(zones):
            yield Problem(
                ("network", "azCount"),
                f"is {count} but availabilityZones lists {len(zones)}",
                "leave azCount out when availabilityZones is set",
            )
        return len(zones) if ok else None
    if not is_int(count):
        return None
    if not 2 <= count <= 6:
        yield Problem(("network", "azCount"), f"{count} is out of range", "2 to 6 availability zones")
        return None
    return count


def _fits_size(vpc_prefix: int, zones: int, private: int, public: int) -> bool:
    if private <= vpc_prefix or public <= vpc_prefix:
        return False
    return subnets_fit(ipaddress.IPv4Network(f"10.0.0.0/{vpc_prefix}"), zones, private, public)


def subnets_fit(vpc: ipaddress.IPv4Network, zones: int, private: int, public: int) -> bool:
    """Whether NetworkSpec's carving (private first, then public after them) finds room."""
    size = vpc.num_addresses
    private_end = zones * 2 ** (32 - private)
    if private_end > size:
        return False
    block = 2 ** (32 - public)
    public_start = -(-private_end // block) * block  # align up to the public block size
    return public_start + zones * block <= size


def check_service_cidr(net: dict[str, Any], value: Any) -> Iterator[Problem]:
    path: Path = ("network", "serviceCidr")
    allowed = (
        "an IPv4 CIDR /12 to /24 inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, not overlapping the VPC"
    )
    service = ipv4_network(value)
    if isinstance(service, str):
        if isinstance(value, str):
            yield Problem(path, service, allowed)
        return
    private_ranges = [ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
    if not 12 <= service.prefixlen <= 24 or not any(service.subnet_of(r) for r in private_ranges):
        yield Problem(path, f"{service} is not a range EKS accepts for services", allowed)
    if net.get("vpcId") is None:
        vpc = ipv4_network(net.get("vpcCidr", NETWORK_DEFAULTS["vpcCidr"]))
        if isinstance(vpc, ipaddress.IPv4Network) and service.overlaps(vpc):
            yield Problem(path, f"{service} overlaps the VPC CIDR {vpc}", allowed)


# --- control plane --------------------------------------------------------------------


def check_endpoint(endpoint: dict[str, Any]) -> Iterator[Problem]:
    private = endpoint.get("privateAccess", True)
    public = endpoint.get("publicAccess", False)
    if private is False and public is False:
        yield Problem(
            ("endpoint",),
            "privateAccess and publicAccess are both off, so nothing can reach the API server",
            "privateAccess: true (publicAccess optional, with an allow-list)",
        )
    cidrs = endpoint.get("publicAccessCidrs", [])
    if public is True and isinstance(cidrs, list) and not cidrs:
        yield Problem(
            ("endpoint", "publicAccessCidrs"),
            "is empty while publicAccess is on, which EKS reads as 0.0.0.0/0",
            "the CIDRs allowed to reach the public endpoint, e.g. [203.0.113.0/24]",
        )
    if not isinstance(cidrs, list):
        return
    for i, cidr in enumerate(cidrs):
        net = ipv4_network(cidr)
        if isinstance(net, str):
            if isinstance(cidr, str):
                yield Problem(
                    ("endpoint", "publicAccessCidrs", i), net, "an IPv4 CIDR such as 203.0.113.0/24"
                )
        elif net.prefixlen == 0:
            yield Problem(
                ("endpoint", "publicAccessCidrs", i),
                "0.0.0.0/0 opens the API server to the whole internet",
                "the specific CIDRs that need access",
            )
    for dup in duplicates([c for c in cidrs if isinstance(c, str)]):
        yield Problem(("endpoint", "publicAccessCidrs"), f"lists {dup} twice", "each CIDR once")


def check_logging(value: Any) -> Iterator[Problem]:
    if isinstance(value, list):
        for dup in duplicates([v for v in value if isinstance(v, str)]):
            yield Problem(("logging",), f"lists {dup} twice", "each log type once")


def check_access(access: Any) -> Iterator[Problem]:
    if not isinstance(access, dict):
        return
    entries = dicts(access.get("entries"))
    for i, entry in entries:
        path: Path = ("access", "entries", i)
        arn = entry.get("principalArn")
        if isinstance(arn, str) and not PRINCIPAL_ARN.fullmatch(arn):
            yield Problem(
                (*path, "principalArn"),
                f"{fmt(arn)} is not an IAM role or user ARN",
                "arn:aws:iam::<12-digit account>:role/<name> (or :user/<name>)",
            )
        policy = entry.get("policy")
        if isinstance(policy, str) and not (policy in ACCESS_POLICIES or ACCESS_POLICY_ARN.fullmatch(policy)):
            yield Problem(
                (*path, "policy"),
                f"{fmt(policy)} is not an EKS access policy",
                "one of " + ", ".join(ACCESS_POLICIES) + " or arn:aws:eks::aws:cluster-access-policy/<Name>",
            )
        namespaces = entry.get("namespaces", [])
        if isinstance(namespaces, list):
            for j, ns in enumerate(namespaces):
                yield from dns_label((*path, "namespaces", j), ns, "namespace")
            for dup in duplicates([n for n in namespaces if isinstance(n, str)]):
                yield Problem((*path, "namespaces"), f"lists {dup} twice", "each namespace once")
    arns = [e.get("principalArn") for _, e in entries if isinstance(e.get("principalArn"), str)]
    for dup in duplicates(arns):
        yield Problem(("access", "entries"), f"has two entries for {dup}", "one access entry per principal")


CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"


def check_cluster_admin(access: Any) -> Iterator[Problem]:
    """Someone must administer the cluster through an explicit access entry.

    The cluster is created without the creator's implicit admin entry (EKS-ACCESS), so a
    stack without a cluster-wide admin entry would build a cluster nobody can manage.
    """
    if access is not None and not isinstance(access, dict):
        return  # a type error, reported by pydantic
    entries = dicts((access or {}).get("entries"))
    for _, entry in entries:
        policy = entry.get("policy", CLUSTER_ADMIN_POLICY)
        if (
            isinstance(policy, str)
            and policy.rsplit("/", 1)[-1] == CLUSTER_ADMIN_POLICY
            and not entry.get("namespaces")
        ):
            return
    yield Problem(
        ("access", "entries"),
        "has no cluster-wide AmazonEKSClusterAdminPolicy entry, and the cluster's creator gets no "
        "permanent admin",
        "an entry {principalArn: <the role that runs pulumi up or your admins' role>} "
        "(policy AmazonEKSClusterAdminPolicy is the default, no namespaces)",
    )


# --- compute --------------------------------------------------------------------------


def check_compute(raw: Mapping[str, Any]) -> Iterator[Problem]:
    groups = raw.get("nodeGroups", [])
    auto = raw.get("autoMode", {})
    auto_on = isinstance(auto, dict) and auto.get("enabled") is True
    if isinstance(groups, list) and not groups and not auto_on and (isinstance(auto, dict) or auto is None):
        yield Problem(
            ("nodeGroups",),
            "no compute: no node groups and autoMode.enabled is not true",
            "at least one node group, or autoMode.enabled: true (or both)",
        )
    if isinstance(auto, dict) and isinstance(auto.get("nodePools"), list):
        for dup in duplicates([p for p in auto["nodePools"] if isinstance(p, str)]):
            yield Problem(("autoMode", "nodePools"), f"lists {dup} twice", "each node pool once")
    items = dicts(groups)
    for i, group in items:
        yield from check_node_group(("nodeGroups", i), group)
    names = [g.get("name") for _, g in items if isinstance(g.get("name"), str)]
    for dup in duplicates(names):
        yield Problem(("nodeGroups",), f"has two node groups named {dup}", "unique node group names")


def check_node_group(path: Path, group: dict[str, Any]) -> Iterator[Problem]:
    yield from dns_label((*path, "name"), group.get("name"), "node group name")
    types = group.get("instanceTypes", ["m6i.large"])
    if isinstance(types, list):
        if not types:
            yield Problem(
                (*path, "instanceTypes"), "is empty", "at least one instance type, e.g. [m6i.large]"
            )
        for j, itype in enumerate(types):
            if isinstance(itype, str) and not INSTANCE_TYPE.fullmatch(itype):
                yield Problem(
                    (*path, "instanceTypes", j),
                    f"{fmt(itype)} is not an EC2 instance type",
                    "family.size, e.g. m6i.large or c7g.xlarge",
                )
        for dup in duplicates([t for t in types if isinstance(t, str)]):
            yield Problem((*path, "instanceTypes"), f"lists {dup} twice", "each instance type once")
        ami = group.get("amiType", "AL2023_x86_64_STANDARD")
        if isinstance(ami, str) and ami in AMI_TYPES:
            arm_ami = "_ARM_" in ami
            for j, itype in enumerate(types):
                if isinstance(itype, str) and INSTANCE_TYPE.fullmatch(itype):
                    arm_type = bool(ARM_FAMILY.match(itype))
                    if arm_type != arm_ami:
                        yield Problem(
                            (*path, "instanceTypes", j),
                            f"{itype} is {'arm64' if arm_type else 'x86_64'} but amiType {ami} is "
                            f"{'arm64' if arm_ami else 'x86_64'}",
                            "instance types of the AMI's architecture",
                        )
    sizes = {k: group.get(k, d) for k, d in SIZE_DEFAULTS.items()}
    if is_int(sizes["minSize"]) and sizes["minSize"] < 0:
        yield Problem((*path, "minSize"), f"{sizes['minSize']} is negative", "0 or more")
    if is_int(sizes["maxSize"]) and sizes["maxSize"] < 1:
        yield Problem((*path, "maxSize"), f"{sizes['maxSize']} is below 1", "1 or more")
    low, want, high = (v if is_int(v) else None for v in sizes.values())
    order = "minSize <= desiredSize <= maxSize"
    # Pairwise, so that one badly typed size does not hide the order of the other two.
    if low is not None and want is not None and low > want:
        yield Problem((*path, "minSize"), f"{low} is greater than desiredSize {want}", order)
    if want is not None and high is not None and want > high:
        yield Problem((*path, "desiredSize"), f"{want} is greater than maxSize {high}", order)
    elif low is not None and high is not None and low > high and (want is None or low <= want):
        yield Problem((*path, "minSize"), f"{low} is greater than maxSize {high}", order)
    disk = group.get("diskSize")
    if isinstance(disk, int) and not isinstance(disk, bool) and not 20 <= disk <= 16384:
        yield Problem((*path, "diskSize"), f"{disk} GiB is out of range", "20 to 16384 GiB")
    ami = group.get("amiType")
    if isinstance(ami, str) and ami not in AMI_TYPES:
        yield Problem(
            (*path, "amiType"), f"{fmt(ami)} is not a supported AMI type", "one of " + ", ".join(AMI_TYPES)
        )
    labels = group.get("labels", {})
    if isinstance(labels, dict):
        for key, value in labels.items():
            yield from check_label((*path, "labels", key), key, value)
    for j, taint in dicts(group.get("taints")):
        tpath: Path = (*path, "taints", j)
        key = taint.get("key")
        if isinstance(key, str):
            yield from check_label_key((*tpath, "key"), key)
        value = taint.get("value")
        if isinstance(value, str):
            yield from check_label_value((*tpath, "value"), value)


def check_label(path: Path, key: str, value: Any) -> Iterator[Problem]:
    yield from check_label_key(path, key)
    if isinstance(value, str):
        yield from check_label_value(path, value)


def check_label_key(path: Path, key: str) -> Iterator[Problem]:
    prefix, _, name = key.rpartition("/")
    ok = bool(name) and len(name) <= 63 and bool(LABEL_NAME.fullmatch(name))
    if prefix and (len(prefix) > 253 or not DNS_SUBDOMAIN.fullmatch(prefix)):
        ok = False
    if not ok:
        yield Problem(
            path,
            f"{fmt(key)} is not a valid Kubernetes label key",
            "[prefix/]name: name up to 63 of letters, digits, '-', '_', '.', alphanumeric at both ends; "
            "prefix a DNS subdomain",
        )


def check_label_value(path: Path, value: str) -> Iterator[Problem]:
    if value and (len(value) > 63 or not LABEL_NAME.fullmatch(value)):
        yield Problem(
            path,
            f"{fmt(value)} is not a valid Kubernetes label value",
            "up to 63 of letters, digits, '-', '_', '.', alphanumeric at both ends (or empty)",
        )


# --- add-ons and identities -----------------------------------------------------------


def check_addons(raw: Mapping[str, Any]) -> Iterator[Problem]:
    addons = raw.get("addons", {})
    if not isinstance(addons, dict):
        return
    for name, addon in addons.items():
        if not isinstance(addon, dict):
            continue
        version = addon.get("version")
        if isinstance(version, str) and not ADDON_VERSION.fullmatch(version):
            yield Problem(
                ("addons", name, "version"),
                f"{fmt(version)} is not an EKS add-on version",
                "v<major>.<minor>.<patch>-eksbuild.<n>, e.g. v1.19.2-eksbuild.1",
            )
    agent = addons.get("eks-pod-identity-agent")
    auto = raw.get("autoMode")
    auto_on = isinstance(auto, dict) and auto.get("enabled") is True
    pod_identities = [
        i for i, ident in dicts(raw.get("identities")) if ident.get("mode", "pod-identity") == "pod-identity"
    ]
    if isinstance(agent, dict) and agent.get("enabled") is False and pod_identities and not auto_on:
        yield Problem(
            ("addons", "eks-pod-identity-agent", "enabled"),
            f"is false but identities[{pod_identities[0]}] uses mode pod-identity",
            "keep the agent on, or use mode irsa for those identities",
        )


def check_identities(value: Any) -> Iterator[Problem]:
    items = dicts(value)
    for i, ident in items:
        path: Path = ("identities", i)
        yield from dns_label((*path, "name"), ident.get("name"), "identity name")
        if ident.get("name") in RESERVED_ROLE_NAMES:
            yield Problem(
                (*path, "name"),
                f"{fmt(ident['name'])} is the name of the platform's own <cluster>-{ident['name']} role",
                "any other name (reserved: " + ", ".join(RESERVED_ROLE_NAMES) + ")",
            )
        yield from dns_label((*path, "namespace"), ident.get("namespace"), "namespace")
        yield from dns_label((*path, "serviceAccount"), ident.get("serviceAccount"), "service account name")
        arns = ident.get("managedPolicyArns", [])
        if isinstance(arns, list):
            for j, arn in enumerate(arns):
                if isinstance(arn, str) and not POLICY_ARN.fullmatch(arn):
                    yield Problem(
                        (*path, "managedPolicyArns", j),
                        f"{fmt(arn)} is not an IAM policy ARN",
                        "arn:aws:iam::aws:policy/<name> or arn:aws:iam::<account>:policy/<name>",
                    )
            for dup in duplicates([a for a in arns if isinstance(a, str)]):
                yield Problem((*path, "managedPolicyArns"), f"lists {dup} twice", "each policy once")
        policy = ident.get("policy")
        if isinstance(policy, dict):
            yield from check_policy_document((*path, "policy"), policy)
        if isinstance(arns, list) and not arns and policy is None:
            yield Problem(path, "grants nothing", "managedPolicyArns, an inline policy, or both")
    names = [x.get("name") for _, x in items if isinstance(x.get("name"), str)]
    for dup in duplicates(names):
        yield Problem(("identities",), f"has two identities named {dup}", "unique identity names")
    accounts = [
        (x.get("namespace"), x.get("serviceAccount"))
        for _, x in items
        if isinstance(x.get("namespace"), str) and isinstance(x.get("serviceAccount"), str)
    ]
    for ns, sa in duplicates(accounts):
        yield Problem(
            ("identities",),
            f"has two identities for service account {ns}/{sa}",
            "one identity per namespace and service account",
        )


def check_policy_document(path: Path, doc: dict[str, Any]) -> Iterator[Problem]:
    allowed = 'an IAM policy: {Version: "2012-10-17", Statement: [{Effect, Action, Resource}, ...]}'
    version = doc.get("Version")
    if version is not None and version != "2012-10-17":
        yield Problem((*path, "Version"), f"{fmt(version)} is not an IAM policy version", '"2012-10-17"')
    for key in doc:
        if key not in ("Version", "Statement", "Id"):
            yield Problem((*path, key), "is not a policy document key", "Version, Id, Statement")
    statements = doc.get("Statement")
    if not isinstance(statements, list) or not statements:
        yield Problem((*path, "Statement"), "is missing or not a non-empty list", allowed)
        return
    for i, stmt in enumerate(statements):
        spath: Path = (*path, "Statement", i)
        if not isinstance(stmt, dict):
            yield Problem(spath, "is not a mapping", allowed)
            continue
        effect = stmt.get("Effect")
        if effect not in ("Allow", "Deny"):
            yield Problem((*spath, "Effect"), f"is {fmt(effect)}", "Allow or Deny")
        if not _actions(stmt.get("Action")) and not _actions(stmt.get("NotAction")):
            yield Problem(
                (*spath, "Action"), "is missing or empty", "an action or list of actions, e.g. s3:GetObject"
            )
        if stmt.get("Resource") is None and stmt.get("NotResource") is None:
            yield Problem((*spath, "Resource"), "is missing", "a resource ARN or list of ARNs")
        if (
            effect == "Allow"
            and "*" in _actions(stmt.get("Action"))
            and "*" in _actions(stmt.get("Resource"))
        ):
            yield Problem(
                (*spath, "Action"),
                'allows "*" on Resource "*" (full admin)',
                "the actions and resources the workload needs",
            )


def _actions(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


# --- tags ------------------------------------------------------------------


def check_tags(tags: Any) -> Iterator[Problem]:
    if not isinstance(tags, dict):
        return
    if len(tags) > MAX_STACK_TAGS:
        yield Problem(
            ("tags",),
            f"has {len(tags)} tags",
            f"at most {MAX_STACK_TAGS} (AWS allows 50; the project adds its own)",
        )
    for key, value in tags.items():
        path: Path = ("tags", key)
        if not isinstance(key, str):
            continue  # pydantic reports a non-string key
        if key.lower().startswith("aws:"):
            yield Problem(path, "uses the aws: prefix, which AWS reserves", "a key not starting with aws:")
        if not 1 <= len(key) <= 128:
            yield Problem(path, f"key is {len(key)} characters long", "1 to 128 characters")
        if not TAG_CHARS.fullmatch(key):
            yield Problem(
                path, "key has characters AWS refuses", "letters, digits, spaces and _ . : / = + - @"
            )
        if isinstance(value, str):
            if len(value) > 256:
                yield Problem(path, f"value is {len(value)} characters long", "at most 256 characters")
            if not TAG_CHARS.fullmatch(value):
                yield Problem(
                    path, "value has characters AWS refuses", "letters, digits, spaces and _ . : / = + - @"
                )
