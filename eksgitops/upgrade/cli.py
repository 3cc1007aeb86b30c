"""`eksgitops upgrade …`: check a stack for the next Kubernetes minor, then apply it.

Exit codes: 0 ready (or done); 1 blocked, each blocker one line (or a phase failed); 2 a
mistake on the command line or in the stack file, before anything is read from Git or AWS.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from eksgitops import cli_params as P
from eksgitops.cli_params import checked
from eksgitops.dr.context import DrUsageError, StackContext, load_stack
from eksgitops.dr.options import StackArg, StacksDirOpt
from eksgitops.upgrade import versions

if TYPE_CHECKING:
    from eksgitops.fleet.credentials import Credentials

app = typer.Typer(
    name="upgrade",
    help="Upgrade a stack to the next Kubernetes minor: check offline first, then apply.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _group() -> None:
    """Upgrade a stack to the next Kubernetes minor: check offline first, then apply."""


ToOpt = Annotated[
    str, checked("--to", P.kubernetes_minor, help="Target Kubernetes minor, e.g. 1.36 (the next one).")
]
RepoOpt = Annotated[
    str | None,
    checked("--repo", P.repo, help="Fleet repository URL or path (default: the stack's gitops.repoUrl)."),
]
RevisionOpt = Annotated[
    str | None, checked("--revision", P.git_ref, help="Branch, tag or commit (default: the stack's branch).")
]
InsightsOpt = Annotated[
    bool,
    typer.Option(
        "--insights", help="Also read EKS upgrade insights of the running cluster (needs AWS credentials)."
    ),
]


def usage(lines: list[str] | str) -> typer.Exit:
    for line in [lines] if isinstance(lines, str) else lines:
        typer.echo(line, err=True)
    return typer.Exit(code=2)


def git_credentials(prefix: str) -> Credentials:
    """The Git credentials from the environment; a mistake there is a usage mistake (exit 2)."""
    from eksgitops.fleet.credentials import CredentialError, Credentials

    try:
        return Credentials.load()
    except CredentialError as exc:
        raise usage(f"{prefix}: Git credentials: {exc}") from None


def load(command: str, stack: str, stacks_dir: Path) -> StackContext:
    """The stack file, validated; a mistake in it is a usage mistake (exit 2)."""
    try:
        return load_stack(
            stack,
            stacks_dir=stacks_dir,
            project_dir=Path("."),
            build_dir=Path("build"),
            command=command,
            program="eksgitops upgrade",
        )
    except DrUsageError as err:
        raise usage(err.lines) from None


def load_for_upgrade(command: str, stack: str, target: str, stacks_dir: Path) -> StackContext:
    """The stack and a target that is a later minor; anything else is a usage mistake (exit 2)."""
    prefix = f"eksgitops upgrade {command}"
    if not versions.MINOR.fullmatch(target):
        raise usage(f"{prefix}: --to {target!r}: not a Kubernetes minor; a version such as 1.36")
    ctx = load(command, stack, stacks_dir)
    current = ctx.spec.kubernetes_version
    if versions.minor_number(target) <= versions.minor_number(current):
        raise usage(
            f"{prefix}: --to {target}: stack {stack} runs {current} already; a later minor "
            f"(next: 1.{versions.minor_number(current) + 1}); EKS cannot downgrade a control plane"
        )
    return ctx


@app.command()
def check(
    stack: StackArg,
    to: ToOpt,
    repo: RepoOpt = None,
    revision: RevisionOpt = None,
    insights: InsightsOpt = False,
    stacks_dir: StacksDirOpt = Path("stacks"),
) -> None:
    """Is STACK ready for --to? Version path, add-ons, the fleet's APIs, node groups, guardrails."""
    from eksgitops.components.spec.gitops import valid_ref_name
    from eksgitops.upgrade.check import INFO, WARNING, run_check

    if revision is not None and not valid_ref_name(revision):
        raise usage(
            f"eksgitops upgrade check: --revision {revision!r}: not a valid Git ref; a branch, tag or sha"
        )
    ctx = load_for_upgrade("check", stack, to, stacks_dir)
    creds = git_credentials("eksgitops upgrade check")
    result = run_check(ctx, to, repo=repo, revision=revision, creds=creds)
    if insights:
        _insights(result, ctx, to)
    for severity in (INFO, WARNING):
        for finding in result.findings:
            if finding.severity == severity:
                typer.echo(creds.scrub(finding.line()))
    for finding in result.blockers:
        typer.echo(creds.scrub(finding.line()), err=True)
    where = f"{ctx.stack} {result.current} -> {to}"
    if not result.ready:
        typer.echo(f"upgrade check {where}: blocked by {len(result.blockers)} finding(s)", err=True)
        raise typer.Exit(code=1)
    warned = sum(f.severity == WARNING for f in result.findings)
    typer.echo(f"upgrade check {where}: ready" + (f" ({warned} warning(s) to read)" if warned else ""))


def _insights(result, ctx: StackContext, target: str) -> None:
    from eksgitops.dr.aws import AwsClients, error_text
    from eksgitops.upgrade.check import BLOCKER, INFO, WARNING
    from eksgitops.upgrade.insights import read_insights

    try:
        found = read_insights(AwsClients(ctx.spec.region), ctx.spec.cluster_name, target)
    except Exception as exc:  # no credentials, no cluster: our findings still stand
        result.add(WARNING, "eks insights", f"not read: {error_text(exc)}")
        return
    if not found:
        result.add(INFO, "eks insights", f"EKS lists no upgrade insight for {target} yet")
    for item in found:
        severity = {"ERROR": BLOCKER, "WARNING": WARNING}.get(item.status, INFO)
        result.add(severity, "eks insights", item.line())


STRATEGIES = ("in-place", "blue-green")
StrategyOpt = Annotated[
    str,
    checked(
        "--strategy",
        P.choice(STRATEGIES),
        help="in-place: the stack's own cluster moves (the control plane cannot go back); "
        "blue-green: a new cluster STACK-green beside it, traffic moved by Route53 weights.",
    ),
]
YesOpt = Annotated[bool, typer.Option("--yes", help="Write the stack file and run the upgrade.")]
ZoneOpt = Annotated[
    str | None, checked("--zone-id", P.text, help="Route53 hosted zone of --record (blue-green).")
]
RecordOpt = Annotated[
    str | None, checked("--record", P.text, help="Weighted record name, e.g. app.example.com (blue-green).")
]
EntryOpt = Annotated[
    str | None,
    checked(
        "--entry", P.text, help="Green's entry point service|ingress|gateway/NAMESPACE/NAME (blue-green)."
    ),
]
StepsOpt = Annotated[str, checked("--steps", P.text, help="Green's share per step, percent, ending in 100.")]
HoldOpt = Annotated[float, checked("--hold", P.seconds_from(0), help="Seconds at each step, watching green.")]
FinalHoldOpt = Annotated[
    float, checked("--final-hold", P.seconds_from(0), help="Seconds at 100% before blue goes.")
]


def parse_steps(prefix: str, text: str) -> tuple[int, ...]:
    try:
        steps = tuple(int(p) for p in text.split(","))
    except ValueError:
        steps = ()
    if not steps or steps[-1] != 100 or any(b <= a for a, b in itertools.pairwise(steps)) or steps[0] < 1:
        raise usage(f"{prefix}: --steps {text!r}: not rising percentages ending in 100; e.g. 10,50,100")
    return steps


def check_entry(prefix: str, entry: str | None) -> str:
    from eksgitops.upgrade.blue_green import ENTRY_KINDS

    parts = (entry or "").split("/")
    if len(parts) != 3 or parts[0] not in ENTRY_KINDS or not all(parts):
        raise usage(
            f"{prefix}: --entry {entry!r}: required for blue-green; "
            f"{'|'.join(ENTRY_KINDS)}/NAMESPACE/NAME of green's load balancer"
        )
    return str(entry)


@app.command()
def apply(
    stack: StackArg,
    to: ToOpt,
    strategy: StrategyOpt = "in-place",
    repo: RepoOpt = None,
    revision: RevisionOpt = None,
    yes: YesOpt = False,
    zone_id: ZoneOpt = None,
    record: RecordOpt = None,
    entry: EntryOpt = None,
    steps: StepsOpt = "10,50,100",
    hold: HoldOpt = 600.0,
    final_hold: FinalHoldOpt = 1800.0,
    timeout_control_plane: Annotated[
        float, checked("--timeout-control-plane", P.seconds_from(1), help="Seconds for the control plane.")
    ] = 60 * 60,
    timeout_addons: Annotated[
        float, checked("--timeout-addons", P.seconds_from(1), help="Seconds for the add-ons.")
    ] = 20 * 60,
    timeout_nodes: Annotated[
        float, checked("--timeout-nodes", P.seconds_from(1), help="Seconds for the nodes to move.")
    ] = 60 * 60,
    poll: Annotated[
        float, checked("--poll", P.seconds_from(0.01), help="Seconds between looks while waiting.")
    ] = 15.0,
    stacks_dir: StacksDirOpt = Path("stacks"),
    out: Annotated[Path, checked("--out", P.folder, help="Build folder: reports go to upgrade/.")] = Path(
        "build"
    ),
) -> None:
    """Check, show the stack-file diff, and with --yes upgrade: control plane, add-ons, node groups."""
    from eksgitops.components.spec.gitops import valid_ref_name
    from eksgitops.dr import world as dr_world
    from eksgitops.dr.options import RecoverySource
    from eksgitops.dr.report import DrReport
    from eksgitops.dr.session import Session
    from eksgitops.upgrade.check import run_check
    from eksgitops.upgrade.in_place import InPlaceDeps, PhaseTimeouts, run_in_place
    from eksgitops.upgrade.stack_edit import StackEditError, version_edit
    from eksgitops.upgrade.target_plan import plan_at

    prefix = "eksgitops upgrade apply"
    if strategy not in STRATEGIES:
        raise usage(f"{prefix}: --strategy {strategy!r}: not a strategy; one of {', '.join(STRATEGIES)}")
    if revision is not None and not valid_ref_name(revision):
        raise usage(f"{prefix}: --revision {revision!r}: not a valid Git ref; a branch, tag or sha")
    shares, where = (), ""
    if strategy == "blue-green":
        shares = parse_steps(prefix, steps)
        where = check_entry(prefix, entry)
        if not zone_id or not record:
            raise usage(
                f"{prefix}: --zone-id and --record: required for blue-green; "
                "the weighted record's zone and name"
            )
    ctx = load_for_upgrade("apply", stack, to, stacks_dir)
    creds = git_credentials(prefix)
    result = run_check(ctx, to, repo=repo, revision=revision, creds=creds)
    if not result.ready:
        for finding in result.blockers:
            typer.echo(creds.scrub(finding.line()), err=True)
        typer.echo(
            f"{prefix} {stack}: blocked by {len(result.blockers)} finding(s); nothing changed", err=True
        )
        raise typer.Exit(code=1)
    defaults = {k: v for k, v in ctx.raw.items() if k not in _stack_keys(ctx)}
    try:
        edit = version_edit(ctx.stack_file, to, defaults, ctx.stack)
    except StackEditError as exc:
        raise usage(f"{prefix}: {exc}") from None
    if strategy == "blue-green":
        from eksgitops.upgrade.blue_green import Shift
        from eksgitops.upgrade.blue_green_apply import apply_blue_green
        from eksgitops.upgrade.weights import WeightedName

        shift = Shift(shares, hold, final_hold)
        record_name = WeightedName(str(zone_id), str(record))
        apply_blue_green(ctx, to, revision, repo, creds, record_name, where, shift, yes, out, poll, edit)
        return
    typer.echo(edit.diff(), nl=False)
    if not yes:
        typer.echo(f"{prefix} {stack}: nothing applied; review the diff, then run again with --yes")
        return
    plan = plan_at(ctx.raw, ctx.stack, str(ctx.stack_file), to, ctx.project_dir)
    if plan.result is None or plan.spec is None:  # run_check passed, so the target validates
        raise usage(plan.spec_errors or f"{prefix}: the target stack did not plan")
    world = dr_world.default_world()
    report = DrReport("upgrade", ctx.stack, world.clock, ctx.model())
    report.facts.update({"from": result.current, "to": to, "strategy": strategy})
    session = Session(
        "apply", ctx, world, report, RecoverySource(), out, creds, "eksgitops upgrade", "upgrade"
    )
    with session.reported():
        with report.phase("stack file") as phase:
            edit.write()
            phase.detail = f"{ctx.stack_file}: kubernetesVersion {result.current} -> {to}"
        deps = InPlaceDeps(
            workspace=world.workspace(ctx.project_dir, {}),
            cluster_api=world.cluster_api,
            clock=world.clock,
            echo=session.echo,
            aws=world.aws(ctx.spec.region),
        )
        want = sum(g.desired_size for g in plan.spec.node_groups)
        timeouts = PhaseTimeouts(timeout_control_plane, timeout_addons, timeout_nodes, poll)
        run_in_place(ctx.stack, plan.spec.cluster_name, to, want, plan.result, deps, report, timeouts)
        typer.echo(f"{prefix} {stack}: at {to} (control plane, add-ons, node groups)")


def _stack_keys(ctx: StackContext) -> set[str]:
    from eksgitops.components.spec.read.stack_file import raw_config_from_stack_file

    return set(raw_config_from_stack_file(ctx.stack_file))


@app.command()
def rollback(
    stack: StackArg,
    zone_id: Annotated[str, checked("--zone-id", P.text, help="Route53 hosted zone of --record.")],
    record: Annotated[
        str, checked("--record", P.text, help="The weighted record name, e.g. app.example.com.")
    ],
    stacks_dir: StacksDirOpt = Path("stacks"),
) -> None:
    """Put every weight of --record back on blue (any time before blue is retired)."""
    from eksgitops.dr.aws import AwsClients, error_text
    from eksgitops.dr.context import DrFailure
    from eksgitops.dr.waits import SystemClock
    from eksgitops.upgrade.weights import WeightedName, force_blue

    prefix = "eksgitops upgrade rollback"
    ctx = load("rollback", stack, stacks_dir)
    name = WeightedName(zone_id, record)
    aws = AwsClients(ctx.spec.region)
    try:
        force_blue(aws, name, SystemClock(), 5.0)
    except DrFailure as exc:
        typer.echo(f"{prefix} {stack}: {exc}", err=True)
        raise typer.Exit(code=1) from None
    except Exception as exc:
        typer.echo(f"{prefix} {stack}: {error_text(exc)}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"{prefix} {stack}: {name.fqdn}: blue 100, green 0")
