"""`eksgitops dr drill STACK`: rebuild into the parallel stack STACK-drill, verify, report, tear down.

The drill's cluster has its own name (`<cluster>-drill`, so its own role names) and follows
the environment's own Git path, so it rehearses exactly what a real recovery would do,
without touching the real cluster. It always tears down, also after a failure, so that a
monthly schedule never leaves a cluster running.
"""

from __future__ import annotations

from dataclasses import dataclass

from eksgitops.dr.aws import AwsClients
from eksgitops.dr.context import DrFailure, StackContext
from eksgitops.dr.rebuild import RebuildDeps, Timeouts, run_rebuild
from eksgitops.dr.report import DrReport
from eksgitops.dr.teardown import TeardownDeps, TeardownTimeouts, run_teardown
from eksgitops.dr.verify import verify_aws, verify_cluster


@dataclass
class DrillDeps:
    rebuild: RebuildDeps
    teardown: TeardownDeps
    aws: AwsClients


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
            rows += verify_cluster(deps.rebuild.cluster_api(outputs), ctx.spec.gitops.agent, sha, bridge)
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
