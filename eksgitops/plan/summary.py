"""The plan as data: `eksgitops plan --json` (schema: plan.schema.json), its final line and plan.md.

The JSON document is what a script reads instead of the rich output: the same facts (counts,
resources, outputs with secrets masked, the policy verdicts, the modeled rebuild time, the
files written and, with `--against`, the diff against the stack's state). The exit code is the
same as without `--json`. `plan.md` is the same summary for a pull-request comment.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from eksgitops.plan.against import Diff, diff_lines
from eksgitops.plan.engine import PlanResult
from eksgitops.plan.insight import Insight
from eksgitops.plan.render import counts, shown_outputs

SCHEMA_VERSION = 1
CREATE_FROM_NOTHING = (
    "This is a create-from-nothing view: everything is shown as if the stack were empty. "
    "To see what changes against a deployed stack, pass --against <file from `pulumi stack export`>."
)


def schema() -> dict[str, Any]:
    """The JSON Schema of `eksgitops plan --json` (shipped as eksgitops/plan/plan.schema.json)."""
    return json.loads(resources.files("eksgitops.plan").joinpath("plan.schema.json").read_text())


def final_line(stack: str, result: PlanResult, insight: Insight, folder: Path, against: Diff | None) -> str:
    """The plan's last line, and all that `-q` prints besides the errors."""
    total = counts(result.resources)
    if against is None:
        what = (
            f"{total['aws']} AWS resources and {total['kubernetes']} Kubernetes objects "
            "to create from nothing"
        )
    else:
        what = f"against {against.source}: {against.summary()}"
    violated = sum(1 for r in insight.report.results if r.violations)
    verdict = f"policy: {violated} rule(s) violated" if violated else "policy: passed"
    return f"Plan {stack}: {what}; {verdict}; files in {folder}/"


def document(
    stack: str,
    project: str,
    result: PlanResult,
    insight: Insight,
    folder: Path,
    files: list[Path],
    against: Diff | None,
) -> dict[str, Any]:
    """The `--json` document (see plan.schema.json)."""
    report = insight.report
    return {
        "schemaVersion": SCHEMA_VERSION,
        "project": project,
        "stack": stack,
        "view": "create-from-nothing" if against is None else "against-state",
        "counts": counts(result.resources),
        "resources": [
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "parent": r.parent,
                "custom": r.custom,
                "synthesized": r.synthesized,
            }
            for r in result.resources
        ],
        "outputs": shown_outputs(result),
        "policy": {
            "failed": report.failed,
            "violations": [
                {"rule": f.rule, "urn": f.urn, "resource": f.resource, "message": f.message}
                for r in report.results
                for f in r.violations
            ],
            "rules": [{"id": r.rule.id, "status": r.status} for r in report.results],
            "waivers": [w.model_dump(by_alias=True) for w in report.waivers],
        },
        "criticalPath": insight.path.to_json(),
        "files": [str(p) for p in files],
        "folder": str(folder),
        "against": against.to_json() if against is not None else None,
    }


def markdown(stack: str, line: str, insight: Insight, against: Diff | None) -> str:
    """plan.md: the pull-request comment of the plan (what CI posts when it has no credentials)."""
    out = [f"### eksgitops plan `{stack}`", "", line, ""]
    if against is None:
        out += [f"> {CREATE_FROM_NOTHING}", ""]
    else:
        out += ["```diff", *diff_lines(against), "```", ""]
    violations = [v for r in insight.report.results for v in r.violations]
    if violations:
        out += ["**Policy violations**", ""]
        out += [f"- `{v.rule}` {v.resource}: {v.message}" for v in violations]
        out.append("")
    return "\n".join(out)
