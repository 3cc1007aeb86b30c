"""`upgrade apply --strategy blue-green`: a green cluster at the new version beside blue, traffic
moved by Route53 weights, then blue retired with the ordered teardown.

Green is the stack `<stack>-green`: its own cluster, roles and state, built from the same
stack file and Git revision, at the target version. What outlives a cluster is shared, never
duplicated: green uses the environment's escrow (it creates none) and blue's SOPS key (by
ARN), and the DNS zone is not the program's. Abort points, each leaving blue serving:

- green never healthy: green is torn down, weights never moved;
- green unhealthy during a hold, or a shift step failing: weights go back to blue 100%;
- until blue is retired `upgrade rollback` puts every weight back on blue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from eksgitops.components.gitops.sops_key import sops_alias_name
from eksgitops.components.spec import SpecError, load_spec
from eksgitops.dr.aws import AwsClients, error_text
from eksgitops.dr.cluster_api import GATEWAY, INGRESS, SERVICE, ClusterApi, Kind
from eksgitops.dr.context import DrFailure, StackContext
from eksgitops.dr.rebuild import RebuildDeps, Timeouts, run_rebuild
from eksgitops.dr.report import DrReport
from eksgitops.dr.sync_status import workloads_probe
from eksgitops.dr.teardown import TeardownDeps, TeardownTimeouts, run_teardown
from eksgitops.dr.verify import verify_aws, verify_cluster
from eksgitops.dr.waits import Probe, wait_until
from eksgitops.upgrade.green import GREEN_SUFFIX, derive_green
from eksgitops.upgrade.weights import BLUE, GREEN, WeightedName, delete_side, set_weights, targets

ENTRY_KINDS: dict[str, Kind] = {"service": SERVICE, "ingress": INGRESS, "gateway": GATEWAY}


@dataclass(frozen=True)
class Shift:
    steps: Sequence[int] = (10, 50, 100)
    """Green's share after each step, in percent; the last is 100."""
    hold: float = 10 * 60
    """Seconds at each step, watching green, before the next."""
    final_hold: float = 30 * 60
    """Seconds at 100% before blue is retired (the last point to roll back)."""
    endpoint_timeout: float = 15 * 60
    """Seconds for green's entry point to get its load balancer."""


@dataclass
class BlueGreenDeps:
    green: RebuildDeps
    green_teardown: TeardownDeps
    blue_teardown: TeardownDeps
    aws: AwsClients


def green_context(blue: StackContext, target: str, aws: AwsClients) -> StackContext:
    """`<stack>-green` at `target` (green.py), sharing blue's durable resources (escrow, SOPS key)."""
    sops = blue.spec.gitops.sops
    arn, alias = None, sops_alias_name(blue.spec.cluster_name)
    if sops.enabled and not sops.kms_key_arn:
        try:
            arn = aws.client("kms").describe_key(KeyId=alias)["KeyMetadata"]["Arn"]
        except Exception as exc:
            raise DrFailure(f"blue's SOPS key {alias}: {error_text(exc)}; green must reuse it") from None
    derived = derive_green(blue.raw, blue.stack, target, arn)
    if arn:
        derived.notes.append(f"green decrypts with blue's SOPS key {alias}")
    stack = blue.stack + GREEN_SUFFIX
    try:
        spec = load_spec(derived.raw, stack=stack, source=str(blue.stack_file))
    except SpecError as err:  # a bug of derive_green, never the user's: the stack validated as blue
        raise DrFailure("green's derived stack: " + "; ".join(err.lines)) from None
    return replace(
        blue,
        stack=stack,
        spec=spec,
        raw=derived.raw,
        source_stack=blue.stack,
        notes=[*blue.notes, *derived.notes],
        overrides={**blue.overrides, **derived.set},
        environment_escrow=blue.spec.escrow if blue.spec.escrow.enabled else None,
    )


def entry_hostname(api: ClusterApi, entry: str) -> Probe:
    """The load balancer name of `kind/namespace/name` (Service, Ingress or Gateway status)."""
    kind, namespace, name = entry.split("/")
    obj = api.get(ENTRY_KINDS[kind], name, namespace) or {}
    status = obj.get("status") or {}
    if kind == "gateway":
        hosts = [a.get("value") for a in status.get("addresses") or []]
    else:
        hosts = [
            i.get("hostname") or i.get("ip") for i in (status.get("loadBalancer") or {}).get("ingress") or []
        ]
    found = next((h for h in hosts if h), "")
    return Probe(bool(found), found or "no load balancer address yet", entry)


def _green_up(
    green: StackContext, sha: str, deps: BlueGreenDeps, report: DrReport, timeouts: Timeouts
) -> ClusterApi:
    outputs = run_rebuild(green, sha, deps.green, report, timeouts)
    api = deps.green.cluster_api(outputs)
    with report.phase("green verified") as phase:
        rows = verify_aws(green.spec, deps.aws)
        bridge = outputs.get("bridge") if isinstance(outputs.get("bridge"), dict) else None
        rows += verify_cluster(api, green.spec.gitops.agent, sha, bridge)
        report.checks += rows
        failed = [r for r in rows if not r.ok]
        phase.detail = f"{len(rows) - len(failed)} of {len(rows)} checks pass"
        if failed:
            raise DrFailure("green verify: " + "; ".join(f"{r.check}: {r.reason}" for r in failed))
    return api


def run_blue_green(
    blue: StackContext,
    green: StackContext,
    sha: str,
    record: WeightedName,
    entry: str,
    deps: BlueGreenDeps,
    report: DrReport,
    timeouts: Timeouts,
    teardown: TeardownTimeouts,
    shift: Shift,
) -> None:
    """Green up and proven, traffic shifted step by step, blue retired; raises at the first abort."""
    blue_value = targets(deps.aws, record).get(BLUE, ("", 0))[0]
    if not blue_value:
        raise DrFailure(
            f"Route53 {record.fqdn}: no weighted record with set identifier blue; create it first"
        )
    try:
        api = _green_up(green, sha, deps, report, timeouts)
        with report.phase("green endpoint") as phase:
            found: list[str] = []

            def probe() -> Probe:
                result = entry_hostname(api, entry)
                found[:] = [result.seen]
                return result

            wait_until(
                probe,
                subject=entry,
                condition="given a load balancer",
                timeout=shift.endpoint_timeout,
                clock=deps.green.clock,
                interval=timeouts.poll,
            )
            phase.detail = found[0]
    except Exception:
        # Abort point 1: blue never saw a change; green goes, its durable resources were blue's.
        run_teardown(green, deps.green_teardown, report, teardown, selected=True)
        raise
    values = {BLUE: blue_value, GREEN: found[0]}
    agent = green.spec.gitops.agent
    shifted = False
    try:
        for i, percent in enumerate(shift.steps):
            with report.phase(f"shift green {percent}%") as phase:
                shifted = True
                set_weights(deps.aws, record, values, percent)
                phase.detail = f"{record.fqdn}: blue {100 - percent}, green {percent}"
            last = i == len(shift.steps) - 1
            with report.phase("final hold" if last else f"hold at {percent}%") as phase:
                _hold(api, agent, sha, shift.final_hold if last else shift.hold, deps, timeouts.poll)
                phase.detail = "green stayed Ready at " + sha[:12]
    except Exception:
        if shifted:  # Abort point 2: every weight back on blue, green kept for a look.
            with report.phase("rollback") as phase:
                set_weights(deps.aws, record, values, 0)
                phase.detail = f"{record.fqdn}: blue 100, green 0"
        raise
    run_teardown(blue, deps.blue_teardown, report, teardown)
    with report.phase("blue record removed") as phase:
        delete_side(deps.aws, record, BLUE)
        phase.detail = f"{record.fqdn}: only green answers; the zone stays"


def _hold(api: ClusterApi, agent: str, sha: str, seconds: float, deps: BlueGreenDeps, poll: float) -> None:
    """Watch green for `seconds`: every look must find its workloads Ready at `sha`."""
    clock = deps.green.clock
    start = clock.monotonic()
    while True:
        probe = workloads_probe(api, agent, sha)
        if not probe.done:
            raise DrFailure(f"green unhealthy during the hold: {probe.subject or 'workloads'}: {probe.seen}")
        if clock.monotonic() - start >= seconds:
            return
        clock.sleep(min(poll, seconds))
