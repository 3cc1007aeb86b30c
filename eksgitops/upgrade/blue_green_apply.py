"""`upgrade apply --strategy blue-green` from the command line: which stack serves as blue (slots.py),
green in the next slot, the run (blue_green.py), then the stack file at the version that runs."""

from __future__ import annotations

from pathlib import Path

import typer

from eksgitops.dr.context import DrFailure, StackContext
from eksgitops.fleet.credentials import Credentials
from eksgitops.upgrade.blue_green import Shift
from eksgitops.upgrade.stack_edit import StackEdit
from eksgitops.upgrade.weights import WeightedName

PREFIX = "eksgitops upgrade apply"


def apply_blue_green(
    ctx: StackContext,
    to: str,
    revision: str | None,
    repo: str | None,
    creds: Credentials,
    record: WeightedName,
    entry: str,
    shift: Shift,
    yes: bool,
    out: Path,
    poll: float,
    edit: StackEdit,
) -> None:
    from eksgitops.dr import world as dr_world
    from eksgitops.dr.fleet_check import remote_head
    from eksgitops.dr.options import RecoverySource
    from eksgitops.dr.rebuild import Timeouts
    from eksgitops.dr.report import DrReport
    from eksgitops.dr.session import Session
    from eksgitops.dr.teardown import TeardownDeps, TeardownTimeouts
    from eksgitops.upgrade import slots
    from eksgitops.upgrade.blue_green import BlueGreenDeps, green_context, run_blue_green

    if not yes:
        typer.echo(edit.diff(), nl=False)
        typer.echo(
            f"{PREFIX} {ctx.stack}: would build a green cluster at {to} beside the one serving "
            f"{record.fqdn}, shift through {', '.join(f'{s}%' for s in shift.steps)}, retire the old "
            "one and write the diff above; nothing applied without --yes"
        )
        return
    world = dr_world.default_world()
    aws = world.aws(ctx.spec.region)
    report = DrReport("upgrade", ctx.stack, world.clock, ctx.model())
    report.facts.update({"from": ctx.spec.kubernetes_version, "to": to, "strategy": "blue-green"})
    source = RecoverySource(revision=revision, repo_url=repo)
    session = Session("apply", ctx, world, report, source, out, creds, "eksgitops upgrade", "upgrade")
    with session.reported():
        with report.phase("revision") as phase:
            url = repo or ctx.spec.gitops.repo_url
            if not url:
                raise DrFailure("the stack sets no gitops.repoUrl; give --repo")
            sha = remote_head(url, revision or ctx.spec.gitops.branch, creds=creds)
            phase.detail = f"green syncs {sha}, as blue"
        with report.phase("slots") as phase:
            live = slots.live_stack(aws, record, ctx.stack)
            # The live cluster, if a former green, is derived as it was built: at the file's version.
            blue = (
                ctx
                if live == ctx.stack
                else green_context(ctx, ctx.spec.kubernetes_version, aws, live[len(ctx.stack) :])
            )
            green = green_context(ctx, to, aws, slots.next_suffix(ctx.stack, live))
            phase.detail = f"blue is {blue.stack}, green will be {green.stack}"
        report.facts.update({"blue": blue.stack, "green": green.stack})
        report.facts.update({f"note {i}": n for i, n in enumerate(green.notes, 1)})
        # As a rebuild waits: a descendant of `sha` pushed meanwhile counts, and only Applications
        # of the fleet repository are compared to it.
        rebuild = session.rebuild_deps(sha=sha)
        green_ws = rebuild.workspace
        deps = BlueGreenDeps(
            green=rebuild,
            green_teardown=TeardownDeps(green_ws, world.cluster_api, aws, world.clock, session.echo),
            blue_teardown=TeardownDeps(
                world.workspace(ctx.project_dir, {}), world.cluster_api, aws, world.clock, session.echo
            ),
            aws=aws,
        )
        timeouts = Timeouts(poll=poll)
        run_blue_green(
            blue, green, sha, record, entry, deps, report, timeouts, TeardownTimeouts(poll=poll), shift
        )
        with report.phase("stack file") as phase:
            # The file says the version that runs, so the next rebuild or upgrade starts from it.
            edit.write()
            phase.detail = f"{ctx.stack_file}: kubernetesVersion {ctx.spec.kubernetes_version} -> {to}"
        typer.echo(f"{PREFIX} {ctx.stack}: {green.stack} at {to} serves {record.fqdn}; {blue.stack} retired")
