"""Which Pulumi stack serves as blue, so that blue/green runs more than once.

The first upgrade of `<stack>` builds `<stack>-green`; once it serves, it becomes the new
blue (its record takes the set identifier `blue`) and the next upgrade builds `<stack>-blue`,
then `<stack>-green` again, and so on. The original `<stack>` is never built again as a
green: its state keeps the environment's protected, durable resources (escrow, SOPS key).

Which stack is live is written beside the weighted records, in the same change batch as
the roles swap, as a TXT record `_eksgitops-upgrade.<name>` reading `"live=<stack>"`; no
marker means the original `<stack>`.
"""

from __future__ import annotations

from typing import Any

from eksgitops.dr.aws import AwsClients
from eksgitops.dr.context import DrFailure
from eksgitops.upgrade.weights import WeightedName

SUFFIXES = ("-green", "-blue")
MARKER_TTL = 300


def marker_name(record: WeightedName) -> str:
    return f"_eksgitops-upgrade.{record.fqdn}"


def read_marker(aws: AwsClients, record: WeightedName) -> dict[str, Any] | None:
    name = marker_name(record)
    page = aws.client("route53").list_resource_record_sets(
        HostedZoneId=record.zone_id, StartRecordName=name, StartRecordType="TXT", MaxItems="1"
    )
    for rrs in page.get("ResourceRecordSets", []):
        if rrs["Name"] == name and rrs["Type"] == "TXT":
            return rrs
    return None


def marker(record: WeightedName, live: str) -> dict[str, Any]:
    return {
        "Name": marker_name(record),
        "Type": "TXT",
        "TTL": MARKER_TTL,
        "ResourceRecords": [{"Value": f'"live={live}"'}],
    }


def live_stack(aws: AwsClients, record: WeightedName, stack: str) -> str:
    """The stack serving as blue: the marker's, else `stack` itself."""
    found = read_marker(aws, record)
    if found is None:
        return stack
    values = [str(r.get("Value", "")).strip('"') for r in found.get("ResourceRecords", [])]
    live = values[0].removeprefix("live=") if values and values[0].startswith("live=") else ""
    if live not in {stack, *(stack + s for s in SUFFIXES)}:
        raise DrFailure(
            f"{marker_name(record)} reads {values!r}: not live=<stack> of {stack}, {stack}-green or "
            f"{stack}-blue; another environment's record? (delete the marker only if {stack} serves)"
        )
    return live


def suffix_of(stack: str, live: str) -> str:
    return live[len(stack) :]


def next_suffix(stack: str, live: str) -> str:
    """The slot the new cluster is built in: never the live one, never the original."""
    return "-blue" if suffix_of(stack, live) == "-green" else "-green"
