"""Room in the region for a rebuild: its zones, the Kubernetes version, and the quotas a new
environment consumes.

Checked before anything is created, because a rebuild that runs out of zones, addresses or
vCPUs fails half-way, after the control plane (the slowest part) is already being made.
A quota Service Quotas does not let us read (AccessDenied) is "could not check" (a skipped
row), never a guessed default.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eksgitops.dr.aws import AwsClients, error_text
from eksgitops.dr.context import StackContext
from eksgitops.dr.report import CheckRow, guarded, skipped

# Service Quotas (service code, quota code).
VPC_QUOTA = ("vpc", "L-F678F1CE")  # VPCs per Region
EIP_QUOTA = ("ec2", "L-0263D0A3")  # EC2-VPC Elastic IPs
IGW_QUOTA = ("vpc", "L-A4707A72")  # Internet gateways per Region
NAT_QUOTA = ("vpc", "L-FE5A380F")  # NAT gateways per Availability Zone
EKS_QUOTA = ("eks", "L-1194D53C")  # Clusters
VCPU_QUOTA = ("ec2", "L-1216C47A")  # Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) vCPUs
STANDARD_FAMILIES = tuple("acdhimrtz")


class CouldNotCheck(Exception):
    """Service Quotas (or a usage call) refused us: the check is skipped, with the reason."""


def zones(ctx: StackContext, aws: AwsClients) -> CheckRow:
    check = "availability zones"
    net = ctx.spec.network

    def body() -> CheckRow:
        answer = aws.client("ec2").describe_availability_zones(
            Filters=[{"Name": "zone-type", "Values": ["availability-zone"]}]
        )
        available = sorted(
            z["ZoneName"] for z in answer["AvailabilityZones"] if z.get("State") == "available"
        )
        region = ctx.spec.region
        if net.existing:
            return CheckRow(check, True, f"existing VPC {net.vpc_id}: its subnets fix the zones", "aws")
        if net.availability_zones:
            missing = [z for z in net.availability_zones if z not in available]
            if missing:
                return CheckRow(
                    check,
                    False,
                    f"{', '.join(missing)} not available in {region} (available: {', '.join(available)})",
                    "aws",
                )
            return CheckRow(check, True, f"{', '.join(net.availability_zones)} available in {region}", "aws")
        if len(available) < net.az_count:
            return CheckRow(
                check,
                False,
                f"{region} has {len(available)} available zones, the spec needs {net.az_count}",
                "aws",
            )
        return CheckRow(
            check, True, f"{region} has {len(available)} available zones, {net.az_count} needed", "aws"
        )

    return guarded(check, "aws", body)


def _denied(exc: Exception) -> bool:
    text = error_text(exc)
    return text.startswith(("AccessDenied", "UnauthorizedOperation", "AccessDeniedException"))


def version_offered(ctx: StackContext, aws: AwsClients) -> CheckRow:
    """EKS still creates clusters of the spec's version (eks:DescribeClusterVersions)."""
    check = "Kubernetes version offered"
    version = ctx.spec.kubernetes_version
    try:
        answer = aws.client("eks").describe_cluster_versions(clusterVersions=[version])
    except Exception as exc:
        return skipped(check, f"could not check: {error_text(exc)}")
    found = [v for v in answer.get("clusterVersions", []) if v.get("clusterVersion") == version]
    if not found:
        return CheckRow(
            check, False, f"EKS no longer offers {version}; upgrade the spec's kubernetesVersion", "aws"
        )
    status = found[0].get("versionStatus") or found[0].get("status") or "?"
    ok = str(status).upper() in ("STANDARD_SUPPORT", "EXTENDED_SUPPORT")
    return CheckRow(check, ok, f"{version} is {status}", "aws")


def _quota(aws: AwsClients, service: str, code: str) -> tuple[int, str]:
    """The applied quota, else AWS's default for it (a quota never changed has no applied value)."""
    sq = aws.client("service-quotas")
    try:
        value = sq.get_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]["Value"]
        return int(value), f"quota {int(value)} ({code})"
    except Exception as exc:
        if _denied(exc):
            raise CouldNotCheck(f"could not check: Service Quotas {code}: {error_text(exc)}") from None
        if "NoSuchResource" not in error_text(exc):
            raise CouldNotCheck(f"could not check: Service Quotas {code}: {error_text(exc)}") from None
    try:
        value = sq.get_aws_default_service_quota(ServiceCode=service, QuotaCode=code)["Quota"]["Value"]
    except Exception as exc:
        raise CouldNotCheck(f"could not check: Service Quotas {code}: {error_text(exc)}") from None
    return int(value), f"AWS default quota {int(value)} ({code})"


def _room(
    check: str, used: Callable[[], int], need: int, quota: tuple[str, str], aws: AwsClients, what: str
) -> CheckRow:
    def body() -> CheckRow:
        try:
            limit, source = _quota(aws, *quota)
            in_use = used()
        except CouldNotCheck as exc:
            return skipped(check, str(exc))
        except Exception as exc:
            if _denied(exc):
                return skipped(check, f"could not check: {error_text(exc)}")
            raise
        ok = in_use + need <= limit
        return CheckRow(check, ok, f"{in_use} {what} in use, {need} more needed, {source}", "aws")

    return guarded(check, "aws", body)


def _count(aws: AwsClients, method: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    client = aws.client("ec2")
    return [item for page in client.get_paginator(method).paginate(**kwargs) for item in page[key]]


def _vcpus(aws: AwsClients, types: list[str]) -> dict[str, int]:
    if not types:
        return {}
    answer = aws.client("ec2").describe_instance_types(InstanceTypes=sorted(set(types)))["InstanceTypes"]
    return {t["InstanceType"]: int(t["VCpuInfo"]["DefaultVCpus"]) for t in answer}


def _standard(instance_type: str) -> bool:
    return instance_type[:1].lower() in STANDARD_FAMILIES


def quotas(ctx: StackContext, aws: AwsClients) -> list[CheckRow]:
    spec = ctx.spec
    net = spec.network
    rows: list[CheckRow] = []
    if net.existing:

        def existing() -> CheckRow:
            aws.client("ec2").describe_vpcs(VpcIds=[net.vpc_id])
            return CheckRow(
                "VPC", True, f"existing VPC {net.vpc_id} found; no new VPC or NAT addresses needed", "aws"
            )

        rows.append(guarded("VPC", "aws", existing))
    else:
        nat_need = net.zone_count if net.nat_gateways == "one-per-az" else 1
        rows += [
            _room("VPC quota", lambda: len(_count(aws, "describe_vpcs", "Vpcs")), 1, VPC_QUOTA, aws, "VPCs"),
            _room(
                "Elastic IP quota",
                # No filter: the EC2 model lists no `domain` filter for DescribeAddresses.
                lambda: sum(
                    1
                    for a in aws.client("ec2").describe_addresses()["Addresses"]
                    if a.get("Domain", "vpc") == "vpc"
                ),
                nat_need,
                EIP_QUOTA,
                aws,
                "Elastic IPs",
            ),
            _room(
                "internet gateway quota",
                lambda: len(_count(aws, "describe_internet_gateways", "InternetGateways")),
                1,
                IGW_QUOTA,
                aws,
                "internet gateways",
            ),
            _room(
                "NAT gateway quota",
                lambda: _nat_busiest_zone(aws),
                1,
                NAT_QUOTA,
                aws,
                "NAT gateways (busiest zone)",
            ),
        ]
    rows.append(
        _room(
            "EKS cluster quota",
            lambda: len(aws.client("eks").list_clusters(maxResults=100).get("clusters", [])),
            1,
            EKS_QUOTA,
            aws,
            "clusters",
        )
    )
    groups = [g for g in spec.node_groups if g.capacity_type == "ON_DEMAND" and g.desired_size]
    types = [g.instance_types[0] for g in groups if g.instance_types]
    if groups:

        def need() -> int:
            sizes = _vcpus(aws, types)
            return sum(
                sizes.get(g.instance_types[0], 0) * g.desired_size
                for g in groups
                if g.instance_types and _standard(g.instance_types[0])
            )

        def used() -> int:
            running = _count(
                aws,
                "describe_instances",
                "Reservations",
                Filters=[{"Name": "instance-state-name", "Values": ["running"]}],
            )
            instances = [
                i for r in running for i in r.get("Instances", []) if i.get("InstanceLifecycle") != "spot"
            ]
            sizes = _vcpus(aws, [i["InstanceType"] for i in instances if _standard(i["InstanceType"])])
            return sum(sizes.get(i["InstanceType"], 0) for i in instances)

        def body() -> CheckRow:
            try:
                wanted = need()
            except Exception as exc:
                return skipped("On-Demand vCPU quota", f"could not check: {error_text(exc)}")
            return _room("On-Demand vCPU quota", used, wanted, VCPU_QUOTA, aws, "On-Demand standard vCPUs")

        rows.append(body())
    return rows


def _nat_busiest_zone(aws: AwsClients) -> int:
    """NAT gateways (pending, available or deleting) in the zone that has the most."""
    gateways = _count(
        aws,
        "describe_nat_gateways",
        "NatGateways",
        Filters=[{"Name": "state", "Values": ["pending", "available", "deleting"]}],
    )
    subnets = {g["SubnetId"] for g in gateways if g.get("SubnetId")}
    zone_of: dict[str, str] = {}
    if subnets:
        for subnet in aws.client("ec2").describe_subnets(SubnetIds=sorted(subnets))["Subnets"]:
            zone_of[subnet["SubnetId"]] = subnet["AvailabilityZone"]
    per_zone: dict[str, int] = {}
    for gateway in gateways:
        zone = zone_of.get(gateway.get("SubnetId", ""), "?")
        per_zone[zone] = per_zone.get(zone, 0) + 1
    return max(per_zone.values(), default=0)
