"""`upgrade apply --strategy blue-green`: a green cluster at the new version beside blue, traffic
moved by Route53 weights, then blue retired with the ordered teardown; green becomes the new blue.

Green is built from the environment's stack file (green.py) in the slot slots.py picks, from the
same Git revision, at the target version. What outlives a cluster is shared, never duplicated:
green uses the environment's escrow (it creates none) and its SOPS key (by ARN), and the DNS
zone is not the program's. The weights live in Route53 only (weights.py): apply moves them by
conditional changes from the values it set last and re-reads them before every step, at every
look of a hold and before blue is retired; `upgrade rollback` sets blue 100 unconditionally and
so always wins, and apply stops when it sees it. Abort points, each leaving blue serving:

- green never healthy: green is torn down, weights never moved;
- green unhealthy during a hold, a shift step failing, SIGINT or SIGTERM during the shift:
  weights go back to blue 100% (signals are held off while that one change runs);
- an operator's `upgrade rollback` before blue is retired: apply stops, changing nothing.

Once green served every step it becomes blue: in one change batch its record takes the set
identifier `blue` (fields carried over) and the marker names its stack; its config says
`clusterRole: primary` (one `up`); then the old blue goes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from eksgitops.components.spec import SpecError, load_spec
from eksgitops.dr.aws import AwsClients
from eksgitops.dr.cluster_api import GATEWAY, INGRESS, SERVICE, ClusterApi, ClusterApiError, Kind
from eksgitops.dr.context import DrFailure, StackContext
from eksgitops.dr.derive import DeriveError, environment_sops_key
from eksgitops.dr.rebuild import Progress, RebuildDeps, Timeouts, run_rebuild
from eksgitops.dr.report import DrReport
from eksgitops.dr.sync_status import workloads_probe
from eksgitops.dr.teardown import TeardownDeps, TeardownTimeouts, run_teardown
from eksgitops.dr.verify import verify_aws, verify_cluster
from eksgitops.dr.waits import Clock, Probe, wait_until
from eksgitops.upgrade import slots
from eksgitops.upgrade.green import GREEN_SUFFIX, derive_green
from eksgitops.upgrade.interrupts import Interrupted, InterruptedShift, deferred, interruptible
from eksgitops.upgrade.weights import (
    BLUE,
    GREEN,
    Rrset,
    WeightedName,
    WeightsChanged,
    change,
    expect,
    force_blue,
    green_record,
    read,
    with_weight,
)

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
    unreadable: float = 5 * 60
    """Seconds green's API may stay unreadable (throttled, connections dropped) during a hold
    before that counts as unhealthy; each failed look is retried with backoff until then."""


@dataclass
class BlueGreenDeps:
    green: RebuildDeps
    green_teardown: TeardownDeps
    blue_teardown: TeardownDeps
    aws: AwsClients


def green_context(
    env: StackContext, target: str, aws: AwsClients, suffix: str = GREEN_SUFFIX
) -> StackContext:
    """The stack `<stack><suffix>` at `target` (green.py), sharing the environment's escrow and SOPS
    key. `env` is the stack file's own context; a former green that serves is derived the same way
    at the version it runs (`target` = the file's version)."""
    derived = derive_green(env.raw, env.stack, target, suffix)
    try:
        sops = environment_sops_key(derived.raw, env.spec.cluster_name, aws)
    except DeriveError as exc:
        raise DrFailure(f"{exc}; green must reuse it") from None
    stack = env.stack + suffix
    try:
        spec = load_spec(sops.raw, stack=stack, source=str(env.stack_file))
    except SpecError as err:  # a bug of the derivation, never the user's: the stack validated as blue
        raise DrFailure("green's derived stack: " + "; ".join(err.lines)) from None
    return replace(
        env,
        stack=stack,
        spec=spec,
        raw=sops.raw,
        source_stack=env.stack,
        notes=[*env.notes, *derived.notes, *sops.notes],
        overrides={**env.overrides, **derived.overrides, **sops.overrides},
        environment_escrow=env.spec.escrow if env.spec.escrow.enabled else None,
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
        rows += verify_cluster(
            api,
            green.spec.gitops.agent,
            sha,
            bridge,
            accepts=deps.green.accepts,
            repo_url=deps.green.repo_url,
        )
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
    """Green up and proven, traffic shifted step by step, roles swapped, blue retired; raises at
    the first abort."""
    clock, poll = deps.green.clock, timeouts.poll
    start = read(deps.aws, record)
    if BLUE not in start:
        raise DrFailure(
            f"Route53 {record.fqdn}: no weighted record with set identifier blue; create it first"
        )
    last = {BLUE: 100} | ({GREEN: 0} if GREEN in start else {})
    expect(start, last, record)  # mid-shift already (another apply?): `upgrade rollback` first
    try:
        api = _green_up(green, sha, deps, report, timeouts)
        with report.phase("green endpoint") as phase:
            found: list[str] = []

            def probe() -> Probe:
                try:
                    result = entry_hostname(api, entry)
                except ClusterApiError as exc:  # throttled or dropped: not yet
                    return Probe(False, str(exc), entry)
                found[:] = [result.seen]
                return result

            wait_until(
                probe,
                subject=entry,
                condition="given a load balancer",
                timeout=shift.endpoint_timeout,
                clock=clock,
                interval=poll,
            )
            phase.detail = found[0]
    except Exception:
        # Abort point 1: blue never saw a change; green goes, its durable resources were blue's.
        run_teardown(green, deps.green_teardown, report, teardown, selected=True)
        raise
    green_rrs = green_record(start[BLUE], found[0], _lb_zone(deps.aws, found[0]))
    agent = green.spec.gitops.agent
    shifted = False
    try:
        with interruptible():
            for i, percent in enumerate(shift.steps):
                with report.phase(f"shift green {percent}%") as phase:
                    now = read(deps.aws, record)
                    expect(now, last, record)
                    shifted = True
                    after = {
                        BLUE: with_weight(now[BLUE], 100 - percent),
                        GREEN: with_weight(green_rrs, percent),
                    }
                    change(deps.aws, record, now, after, f"eksgitops upgrade: green {percent}%", clock, poll)
                    last = {BLUE: 100 - percent, GREEN: percent}
                    phase.detail = f"{record.fqdn}: blue {100 - percent}, green {percent} (INSYNC)"
                final = i == len(shift.steps) - 1
                with report.phase("final hold" if final else f"hold at {percent}%") as phase:
                    seconds = shift.final_hold if final else shift.hold
                    _hold(
                        api,
                        agent,
                        sha,
                        seconds,
                        deps,
                        poll,
                        shift.unreadable,
                        lambda seen=dict(last): _still(deps, record, seen),
                    )
                    phase.detail = "green stayed Ready at " + sha[:12]
            with report.phase("roles swapped") as phase:
                now = read(deps.aws, record)
                expect(now, last, record)  # the last point where a rollback wins
                _swap(deps, record, now, green.stack, clock, poll)
                phase.detail = f"{record.fqdn}: blue is now {green.stack} (100); the marker names it"
    except WeightsChanged:
        raise  # someone else owns the weights now (a rollback): nothing of ours to undo
    except (Exception, Interrupted) as exc:
        if shifted:  # Abort point 2: every weight back on blue, green kept for a look.
            with deferred(), report.phase("rollback") as phase:
                force_blue(deps.aws, record, clock, poll)
                phase.detail = f"{record.fqdn}: blue 100, green 0"
        if isinstance(exc, Interrupted):
            raise InterruptedShift(f"{exc}; {record.fqdn}: every weight back on blue") from None
        raise
    _promote(green, deps, report)
    run_teardown(blue, deps.blue_teardown, report, teardown)


def _promote(green: StackContext, deps: BlueGreenDeps, report: DrReport) -> None:
    """Green serves: its bridge says `cluster_role: primary` from now on, so the fleet's writers
    (external-dns, …) that stood down on a green come up on it before the old blue goes."""
    with report.phase("green promoted") as phase:
        ws = deps.green.workspace
        ws.select(green.stack, create=False, config={"eksgitops:clusterRole": "primary"})
        progress = Progress(deps.green.clock, report.model, deps.green.echo, verb="changed")
        ws.up(progress)
        phase.detail = f"{green.stack}: clusterRole primary ({progress.changed} changed)"


def _still(deps: BlueGreenDeps, record: WeightedName, last: dict[str, int]) -> None:
    expect(read(deps.aws, record), last, record)


def _swap(
    deps: BlueGreenDeps, record: WeightedName, now: dict[str, Rrset], live: str, clock: Clock, poll: float
) -> None:
    """Green's record becomes blue's (its fields kept) and the marker names green's stack: one batch."""
    new_blue = {**now[GREEN], "SetIdentifier": BLUE, "Weight": 100}
    before: dict[str, Rrset] = dict(now)
    old = slots.read_marker(deps.aws, record)
    if old is not None:
        before["marker"] = old
    after = {BLUE: new_blue, "marker": slots.marker(record, live)}
    change(deps.aws, record, before, after, f"eksgitops upgrade: {live} serves as blue", clock, poll)


def _lb_zone(aws: AwsClients, hostname: str) -> str | None:
    """The canonical hosted zone of green's load balancer (an alias record needs it)."""
    for service, key in (("elbv2", "LoadBalancers"), ("elb", "LoadBalancerDescriptions")):
        try:
            pages = aws.client(service).get_paginator("describe_load_balancers").paginate()
            for page in pages:
                for lb in page.get(key, []):
                    if str(lb.get("DNSName", "")).lower() == hostname.lower():
                        return lb.get("CanonicalHostedZoneId") or lb.get("CanonicalHostedZoneNameID")
        except Exception:
            continue
    return None


def _hold(
    api: ClusterApi,
    agent: str,
    sha: str,
    seconds: float,
    deps: BlueGreenDeps,
    poll: float,
    unreadable: float,
    still_ours: Callable[[], None],
) -> None:
    """Watch green for `seconds`: every look must find its workloads Ready at `sha`, and the weights
    as this run set them. A look that cannot be made (throttled, connection dropped) is "not yet",
    retried with backoff; green unreadable for longer than `unreadable` counts as unhealthy."""
    clock = deps.green.clock
    start = clock.monotonic()
    failing_since: float | None = None
    backoff = min(poll, 1.0)
    while True:
        still_ours()
        try:
            probe = workloads_probe(api, agent, sha, accepts=deps.green.accepts, repo_url=deps.green.repo_url)
        except ClusterApiError as exc:
            now = clock.monotonic()
            failing_since = now if failing_since is None else failing_since
            if now - failing_since >= unreadable:
                raise DrFailure(
                    f"green unreadable during the hold for {now - failing_since:.0f}s: {exc}"
                ) from None
            deps.green.echo(f"green not readable ({exc}); looking again in {backoff:.0f}s")
            clock.sleep(backoff)
            backoff = min(backoff * 2, max(poll, 1.0))
            continue
        failing_since, backoff = None, min(poll, 1.0)
        if not probe.done:
            raise DrFailure(f"green unhealthy during the hold: {probe.subject or 'workloads'}: {probe.seen}")
        if clock.monotonic() - start >= seconds:
            return
        clock.sleep(min(poll, seconds))
