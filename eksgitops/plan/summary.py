"""The plan as data: `eksgitops plan --json` (schema: plan.schema.json), its final line and plan.md.

The JSON document is what a script reads instead of the rich output: the same facts (counts,
resources, outputs with secrets masked, the policy verdicts, the modeled rebuild time, the
files written and, with `--against`, the diff against the stack's state). The exit code is the
same as without `--json`. `plan.md` is the same summary for a pull-request comment.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from eksgitops.plan.against import Diff, banner_lines, diff_lines
from eksgitops.plan.insight import Insight
from eksgitops.plan.markdown_text import code_block, code_span, public_path
from eksgitops.plan.offline_engine import PlanResult
from eksgitops.plan.render import counts, shown_outputs
from eksgitops.terminal_text import shown

SCHEMA_VERSION = 1
CREATE_FROM_NOTHING = (
    "This is a create-from-nothing view: everything is shown as if the stack were empty. "
    "To see what changes against a deployed stack, pass --against <file from `pulumi stack export`>."
)
# The same for plan.md, where `<file …>` would read as an HTML tag.
CREATE_FROM_NOTHING_MD = CREATE_FROM_NOTHING.replace(
    "--against <file from `pulumi stack export`>", "`--against <file from pulumi stack export>`"
)


def schema() -> dict[str, Any]:
    """The JSON Schema of `eksgitops plan --json` (shipped as eksgitops/plan/plan.schema.json)."""
    return json.loads(resources.files("eksgitops.plan").joinpath("plan.schema.json").read_text())


def final_line(
    stack: str,
    result: PlanResult,
    insight: Insight,
    folder: Path,
    against: Diff | None,
    quote: Callable[[str], str] = shown,
) -> str:
    """The plan's last line, and all that `-q` prints besides the errors.

    `quote` shows the paths it names (the state file, the folder): escaped for a terminal by
    default; plan.md quotes them as code, without a local absolute path.
    """
    total = counts(result.resources)
    if against is None:
        what = (
            f"{total['aws']} AWS resources and {total['kubernetes']} Kubernetes objects "
            "to create from nothing"
        )
    else:
        what = f"against {quote(against.source)}: {against.summary()}"
    violated = sum(1 for r in insight.report.results if r.violations)
    verdict = f"policy: {violated} rule(s) violated" if violated else "policy: passed"
    return f"Plan {stack}: {what}; {verdict}; files in {quote(f'{folder}/')}"


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


def _md_quote(path: str) -> str:
    # The folder (with its trailing /) keeps its last two parts: `build/dev/`, not `dev/`.
    return code_span(public_path(path, keep=2) + "/" if path.endswith("/") else public_path(path))


MAX_DIFF_LINES = 400
"""Diff lines plan.md shows at most: a pull-request comment is capped (65,536 characters on
GitHub) and shares it with the cluster's diff; diff.json keeps every line."""


def markdown(stack: str, result: PlanResult, insight: Insight, folder: Path, against: Diff | None) -> str:
    """plan.md: the pull-request comment of the plan (what CI posts when it has no credentials).

    Everything quoted from the stack file, the state file or the program is in code (see
    markdown_text), and no absolute local path is written.
    """
    line = final_line(stack, result, insight, folder, against, quote=_md_quote)
    out = [f"### eksgitops plan {code_span(stack)}", ""]
    if against is not None:
        out += [f"> **{shown(b)}**" for b in banner_lines(against)]
        out += [""] if banner_lines(against) else []
    out += [line, ""]
    if against is None:
        out += [f"> {CREATE_FROM_NOTHING_MD}", ""]
    else:
        lines = diff_lines(against, source=public_path(against.source))
        cut = len(lines) - MAX_DIFF_LINES
        out += code_block(lines[:MAX_DIFF_LINES], "diff")
        if cut > 0:
            out.append(f"{cut} more lines are in `diff.json` (cut to keep the comment under GitHub's limit).")
        out.append("")
    violations = [v for r in insight.report.results for v in r.violations]
    if violations:
        out += ["**Policy violations**", ""]
        out += [f"- {code_span(v.rule)} {code_span(v.resource)}: {code_span(v.message)}" for v in violations]
        out.append("")
    return "\n".join(out)
