"""Traffic between blue and green: two Route53 weighted records of one name, set identifiers
`blue` and `green`, each pointing at its cluster's load balancer.

Only those two record sets are ever changed: the hosted zone is shared and durable (neither
created nor deleted here), and other records of the name are left alone. Weights are the
percentage going to each side (Route53 accepts 0-255; 0 on both would send to both evenly).
"""

from __future__ import annotations

from dataclasses import dataclass

from eksgitops.dr.aws import AwsClients, error_text
from eksgitops.dr.context import DrFailure

BLUE, GREEN = "blue", "green"
TTL = 60
"""Seconds resolvers may keep an answer: a shift is seen by most clients within a minute."""


@dataclass(frozen=True)
class WeightedName:
    zone_id: str
    name: str
    """The record's name, e.g. app.example.com (a trailing dot is added)."""
    type: str = "CNAME"

    @property
    def fqdn(self) -> str:
        return self.name if self.name.endswith(".") else self.name + "."


def targets(aws: AwsClients, record: WeightedName) -> dict[str, tuple[str, int]]:
    """{set identifier: (value, weight)} of the name's weighted records."""
    r53 = aws.client("route53")
    page = r53.list_resource_record_sets(
        HostedZoneId=record.zone_id, StartRecordName=record.fqdn, StartRecordType=record.type
    )
    found: dict[str, tuple[str, int]] = {}
    for rrs in page.get("ResourceRecordSets", []):
        if rrs["Name"] != record.fqdn or rrs["Type"] != record.type or "SetIdentifier" not in rrs:
            continue
        values = [r["Value"] for r in rrs.get("ResourceRecords", [])]
        found[rrs["SetIdentifier"]] = (values[0] if values else "", int(rrs.get("Weight", 0)))
    return found


def set_weights(aws: AwsClients, record: WeightedName, values: dict[str, str], green_percent: int) -> None:
    """UPSERT both records in one change batch: green gets `green_percent`, blue the rest."""
    if not 0 <= green_percent <= 100:
        raise ValueError(green_percent)
    weights = {BLUE: 100 - green_percent, GREEN: green_percent}
    changes = [
        {
            "Action": "UPSERT",
            "ResourceRecordSet": {
                "Name": record.fqdn,
                "Type": record.type,
                "SetIdentifier": side,
                "Weight": weights[side],
                "TTL": TTL,
                "ResourceRecords": [{"Value": values[side]}],
            },
        }
        for side in (BLUE, GREEN)
    ]
    try:
        aws.client("route53").change_resource_record_sets(
            HostedZoneId=record.zone_id,
            ChangeBatch={"Comment": f"eksgitops upgrade: green {green_percent}%", "Changes": changes},
        )
    except Exception as exc:
        raise DrFailure(
            f"Route53 {record.fqdn}: cannot set green to {green_percent}%: {error_text(exc)}"
        ) from None


def delete_side(aws: AwsClients, record: WeightedName, side: str) -> None:
    """Remove one side's record (blue, once retired); the zone and other records stay."""
    r53 = aws.client("route53")
    page = r53.list_resource_record_sets(
        HostedZoneId=record.zone_id, StartRecordName=record.fqdn, StartRecordType=record.type
    )
    for rrs in page.get("ResourceRecordSets", []):
        if rrs["Name"] == record.fqdn and rrs["Type"] == record.type and rrs.get("SetIdentifier") == side:
            r53.change_resource_record_sets(
                HostedZoneId=record.zone_id,
                ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": rrs}]},
            )
