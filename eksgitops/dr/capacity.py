"""Room in the region for a rebuild: its availability zones and the VPC and Elastic IP quotas.

Checked before anything is created, because a rebuild that runs out of zones or addresses
fails half-way, after the control plane (the slowest part) is already being made.
"""

from __future__ import annotations

from eksgitops.dr.aws import AwsClients, error_text
from eksgitops.dr.context import StackContext
from eksgitops.dr.report import CheckRow, guarded

# Service Quotas codes and the AWS defaults used when Service Quotas does not answer.
VPC_QUOTA = ("vpc", "L-F678F1CE", 5)  # VPCs per Region
EIP_QUOTA = ("ec2", "L-0263D0A3", 5)  # EC2-VPC Elastic IPs


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


def _quota(aws: AwsClients, service: str, code: str, default: int) -> tuple[int, str]:
    try:
        value = aws.client("service-quotas").get_service_quota(ServiceCode=service, QuotaCode=code)["Quota"][
            "Value"
        ]
        return int(value), f"quota {int(value)}"
    except Exception as exc:
        return default, f"AWS default quota {default} (Service Quotas: {error_text(exc)})"


def quotas(ctx: StackContext, aws: AwsClients) -> list[CheckRow]:
    net = ctx.spec.network
    if net.existing:

        def existing() -> CheckRow:
            aws.client("ec2").describe_vpcs(VpcIds=[net.vpc_id])
            return CheckRow(
                "VPC", True, f"existing VPC {net.vpc_id} found; no new VPC or NAT addresses needed", "aws"
            )

        return [guarded("VPC", "aws", existing)]

    def vpcs() -> CheckRow:
        used = sum(len(page["Vpcs"]) for page in aws.client("ec2").get_paginator("describe_vpcs").paginate())
        limit, source = _quota(aws, *VPC_QUOTA)
        ok = used + 1 <= limit
        return CheckRow("VPC quota", ok, f"{used} VPCs in use, 1 more needed, {source}", "aws")

    def eips() -> CheckRow:
        need = net.zone_count if net.nat_gateways == "one-per-az" else 1
        used = len(
            aws.client("ec2").describe_addresses(Filters=[{"Name": "domain", "Values": ["vpc"]}])["Addresses"]
        )
        limit, source = _quota(aws, *EIP_QUOTA)
        ok = used + need <= limit
        return CheckRow(
            "Elastic IP quota",
            ok,
            f"{used} in use, {need} more for NAT gateways ({net.nat_gateways}), {source}",
            "aws",
        )

    return [guarded("VPC quota", "aws", vpcs), guarded("Elastic IP quota", "aws", eips)]
