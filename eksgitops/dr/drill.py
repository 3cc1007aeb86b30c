"""`eksgitops dr drill STACK`: rebuild into the parallel stack STACK-drill, verify, report, tear down.

The drill's cluster has its own name (`<cluster>-drill`, so its own role names) and follows
the environment's own Git path, so it rehearses exactly what a real recovery would do,
without touching the real cluster. It always tears down, also after a failure, so that a
monthly schedule never leaves a cluster running.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from eksgitops.components.spec import SpecError, load_spec
from eksgitops.dr.aws import AwsClients
from eksgitops.dr.context import DRILL_SUFFIX, DrFailure, StackContext
from eksgitops.dr.derive import DeriveError, environment_sops_key
from eksgitops.dr.rebuild import RebuildDeps, Timeouts, run_rebuild
from eksgitops.dr.report import DrReport
from eksgitops.dr.teardown import TeardownDeps, TeardownTimeouts, run_teardown
from eksgitops.dr.verify import verify_aws, verify_cluster


@dataclass
class DrillDeps:
    rebuild: RebuildDeps
    teardown: TeardownDeps
    aws: AwsClients


def with_environment_sops_key(ctx: StackContext, aws: AwsClients) -> StackContext:
    """The drill decrypts the fleet's secrets with the environment's SOPS key, not a new one."""
    environment_cluster = ctx.spec.cluster_name.removesuffix(DRILL_SUFFIX)
    try:
        pinned = environment_sops_key(ctx.raw, environment_cluster, aws)
    except DeriveError as exc:
        raise DrFailure(f"{exc}; the drill must decrypt with it") from None
    if not pinned.overrides:
        return ctx
    try:
        spec = load_spec(pinned.raw, stack=ctx.stack, source=str(ctx.stack_file))
    except SpecError as err:  # a derivation bug: say so rather than blame the stack file
        raise DrFailure(f"the drill's derived config is refused: {'; '.join(err.lines)}") from None
    return replace(
        ctx,
        spec=spec,
        raw=pinned.raw,
        overrides={**ctx.overrides, **pinned.overrides},
        notes=[*ctx.notes, *pinned.notes],
    )


def run_drill(
    ctx: StackContext,
    sha: str,
    deps: DrillDeps,
    report: DrReport,
    timeouts: Timeouts,
    teardown_timeouts: TeardownTimeouts,
) -> bool:
    """Rebuild, verify, then tear down whatever happened; True when all of it went cleanly.

    A failure in the rebuild or verify is raised after the teardown; a failed teardown is
    raised too (a drill cluster may then be left: the report and the message say so).
    """
    failure: Exception | None = None
    try:
        outputs = run_rebuild(ctx, sha, deps.rebuild, report, timeouts)
        with report.phase("verify") as phase:
            rows = verify_aws(ctx.spec, deps.aws)
            bridge = outputs.get("bridge") if isinstance(outputs.get("bridge"), dict) else None
            api = deps.rebuild.cluster_api(outputs)
            rows += verify_cluster(
                api,
                ctx.spec.gitops.agent,
                sha,
                bridge,
                accepts=deps.rebuild.accepts,
                repo_url=deps.rebuild.repo_url,
            )
            report.checks += rows
            failed = [r for r in rows if not r.ok]
            phase.detail = f"{len(rows) - len(failed)} of {len(rows)} checks pass"
            if failed:
                raise DrFailure("verify: " + "; ".join(f"{r.check}: {r.reason}" for r in failed))
    except Exception as exc:  # recorded; the teardown below still runs
        failure = exc
        report.facts["drill failure"] = str(exc)
    try:
        # The infrastructure phase selected the drill stack; tear down whatever it built.
        run_teardown(ctx, deps.teardown, report, teardown_timeouts, selected=True)
    except Exception as exc:
        report.facts["teardown failure"] = str(exc)
        if failure is None:
            raise
        raise DrFailure(f"{failure}; then the teardown failed too: {exc}") from None
    if failure is not None:
        raise failure
    return True
