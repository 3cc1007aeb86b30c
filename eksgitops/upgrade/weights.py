"""Traffic between blue and green: two Route53 weighted records of one name, set identifiers
`blue` (the live cluster) and `green` (the new one), and who may move them.

Only those records and the upgrade's marker are ever changed: the hosted zone is shared and
durable (neither created nor deleted here), and other records of the name are left alone.

Each change is conditional: one change batch that DELETEs the records exactly as they were
read and CREATEs them anew. Route53 applies a batch all or nothing and refuses a DELETE that
does not match the record, so a change made by someone else between our read and our write
(an operator's `upgrade rollback`) makes ours fail instead of overwriting it. Every change is
waited for until Route53 reports it INSYNC. A record's own fields (TTL, health check, alias
target, routing) are carried over; only the weight, or green's value, changes.

Weights are the percentage going to each side (Route53 accepts 0-255).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from eksgitops.dr.aws import AwsClients, error_text
from eksgitops.dr.context import DrFailure
from eksgitops.dr.waits import Clock, Probe, wait_until

BLUE, GREEN = "blue", "green"
TTL = 60
"""Seconds resolvers may keep green's answer when blue's record names no TTL (an alias)."""
INSYNC_TIMEOUT = 5 * 60.0
"""Route53 propagates a change to its name servers within about a minute."""

Rrset = dict[str, Any]


@dataclass(frozen=True)
class WeightedName:
    zone_id: str
    name: str
    """The record's name, e.g. app.example.com (a trailing dot is added)."""
    type: str = "CNAME"

    @property
    def fqdn(self) -> str:
        return self.name if self.name.endswith(".") else self.name + "."


class WeightsChanged(DrFailure):
    """The records are not as this run left them: someone else (a rollback) moved them."""


def read(aws: AwsClients, record: WeightedName) -> dict[str, Rrset]:
    """{set identifier: the record set as Route53 returns it} of the name's weighted records."""
    r53 = aws.client("route53")
    page = r53.list_resource_record_sets(
        HostedZoneId=record.zone_id, StartRecordName=record.fqdn, StartRecordType=record.type, MaxItems="100"
    )
    found: dict[str, Rrset] = {}
    for rrs in page.get("ResourceRecordSets", []):
        if rrs["Name"] != record.fqdn or rrs["Type"] != record.type or "SetIdentifier" not in rrs:
            continue
        found[rrs["SetIdentifier"]] = rrs
    return found


def value_of(rrs: Rrset) -> str:
    alias = rrs.get("AliasTarget")
    if alias:
        return str(alias.get("DNSName", "")).rstrip(".")
    values = [r["Value"] for r in rrs.get("ResourceRecords", [])]
    return values[0] if values else ""


def targets(aws: AwsClients, record: WeightedName) -> dict[str, tuple[str, int]]:
    """{set identifier: (value, weight)}: what each side points at and gets."""
    return {side: (value_of(rrs), int(rrs.get("Weight", 0))) for side, rrs in read(aws, record).items()}


def green_record(blue: Rrset, hostname: str, lb_zone: str | None) -> Rrset:
    """Green's record: blue's fields (TTL, type, alias evaluation) pointing at green's load balancer.

    Blue's health check is blue's and not copied: a health check names one endpoint."""
    green = {k: copy.deepcopy(v) for k, v in blue.items() if k not in ("HealthCheckId", "ResourceRecords")}
    green["SetIdentifier"] = GREEN
    if "AliasTarget" in blue:
        if not lb_zone:
            raise DrFailure(
                f"{blue['Name']} is an alias record: green's load balancer {hostname} has no hosted zone "
                "id (not an ELB of this region?)"
            )
        green["AliasTarget"] = {**blue["AliasTarget"], "HostedZoneId": lb_zone, "DNSName": hostname}
    else:
        green["ResourceRecords"] = [{"Value": hostname}]
        green.setdefault("TTL", TTL)
    return green


def with_weight(rrs: Rrset, weight: int) -> Rrset:
    return {**copy.deepcopy(rrs), "Weight": weight}


def change(
    aws: AwsClients,
    record: WeightedName,
    before: dict[str, Rrset],
    after: dict[str, Rrset],
    comment: str,
    clock: Clock,
    poll: float,
) -> None:
    """One conditional batch from `before` (exactly as read) to `after`, waited for until INSYNC."""
    changes: list[dict[str, Any]] = []
    for side, rrs in before.items():
        if after.get(side) != rrs:
            changes.append({"Action": "DELETE", "ResourceRecordSet": rrs})
    for side, rrs in after.items():
        if before.get(side) != rrs:
            changes.append({"Action": "CREATE", "ResourceRecordSet": rrs})
    if not changes:
        return
    r53 = aws.client("route53")
    try:
        info = r53.change_resource_record_sets(
            HostedZoneId=record.zone_id, ChangeBatch={"Comment": comment[:256], "Changes": changes}
        )["ChangeInfo"]
    except Exception as exc:
        code = (getattr(exc, "response", None) or {}).get("Error", {}).get("Code")
        if code in ("InvalidChangeBatch", "InvalidInput"):
            raise WeightsChanged(
                f"Route53 {record.fqdn}: the records changed since they were read ({error_text(exc)}); "
                "someone else moved the weights"
            ) from None
        raise DrFailure(f"Route53 {record.fqdn}: {comment}: {error_text(exc)}") from None
    wait_insync(aws, str(info["Id"]), clock, poll)


def wait_insync(aws: AwsClients, change_id: str, clock: Clock, poll: float) -> None:
    r53 = aws.client("route53")

    def probe() -> Probe:
        try:
            status = r53.get_change(Id=change_id)["ChangeInfo"]["Status"]
        except Exception as exc:  # a throttled or dropped look is "not yet"
            return Probe(False, error_text(exc))
        return Probe(status == "INSYNC", str(status))

    wait_until(
        probe,
        subject=f"Route53 change {change_id}",
        condition="INSYNC",
        timeout=INSYNC_TIMEOUT,
        clock=clock,
        interval=min(poll, 10.0),
    )


def shares(blue_percent: int) -> dict[str, int]:
    return {BLUE: blue_percent, GREEN: 100 - blue_percent}


def expect(current: dict[str, Rrset], wanted: dict[str, int], record: WeightedName) -> None:
    """Stop unless the weights are the ones this run set last (a rollback moved them otherwise)."""
    seen = {side: int(rrs.get("Weight", 0)) for side, rrs in current.items()}
    if {s: seen.get(s) for s in wanted} != wanted:
        shown = ", ".join(f"{side} {seen[side]}" for side in sorted(seen)) or "no weighted records"
        raise WeightsChanged(
            f"Route53 {record.fqdn}: weights are {shown}, not the "
            + ", ".join(f"{s} {w}" for s, w in sorted(wanted.items()))
            + " this upgrade set: someone else moved them (upgrade rollback?); stopped without a change"
        )


def force_blue(aws: AwsClients, record: WeightedName, clock: Clock, poll: float) -> dict[str, Rrset]:
    """Every weight on blue (UPSERT, unconditional: a rollback always wins), waited for until INSYNC."""
    current = read(aws, record)
    if BLUE not in current:
        raise DrFailure(f"{record.fqdn} has no blue record: blue is retired, nothing to go back to")
    wanted = {side: with_weight(rrs, 100 if side == BLUE else 0) for side, rrs in current.items()}
    changes = [
        {"Action": "UPSERT", "ResourceRecordSet": rrs}
        for side, rrs in wanted.items()
        if side in (BLUE, GREEN) and rrs != current[side]
    ]
    if changes:
        try:
            info = aws.client("route53").change_resource_record_sets(
                HostedZoneId=record.zone_id,
                ChangeBatch={"Comment": "eksgitops upgrade rollback: blue 100", "Changes": changes},
            )["ChangeInfo"]
        except Exception as exc:
            raise DrFailure(
                f"Route53 {record.fqdn}: cannot put every weight on blue: {error_text(exc)}"
            ) from None
        wait_insync(aws, str(info["Id"]), clock, poll)
    return wanted
