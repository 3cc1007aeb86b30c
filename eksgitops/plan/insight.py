"""What the plan says after the resources: the policy summary and the rebuild critical path.

Writes `build/STACK/policy-report.json`, `graph.mmd` and `critical-path.json`, and prints
the violations (`RULE-ID <resource>: <what is wrong>`), the waivers, a table of every rule's
verdict, and the modeled rebuild time with the chain that sets it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from components.spec.policy import WaiverSpec
from eksgitops.plan.critical_path import CriticalPath, critical_path, describe, write_critical_path
from eksgitops.plan.engine import PlanResult
from eksgitops.plan.graph import ResourceGraph, write_mermaid
from eksgitops.policy.evaluate import PolicyReport, evaluate, from_recorded, report_lines


@dataclass
class Insight:
    report: PolicyReport
    path: CriticalPath


def analyse(result: PlanResult, waivers: Sequence[WaiverSpec], out_dir: Path) -> Insight:
    """Run the rules and the critical-path model over a plan; write their files under out_dir."""
    report = evaluate(from_recorded(result.resources), waivers)
    graph = ResourceGraph(result.resources)
    path = critical_path(graph)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "policy-report.json").write_text(json.dumps(report.to_json(), indent=2) + "\n")
    write_mermaid(graph, out_dir / "graph.mmd", [step.urn for step in path.chain])
    write_critical_path(path, out_dir / "critical-path.json")
    return Insight(report, path)


def policy_table(report: PolicyReport) -> Table:
    table = Table(title="Policy summary (docs/policy.md)")
    table.add_column("rule")
    table.add_column("verdict")
    table.add_column("resources", justify="right")
    styles = {"passed": "green", "violated": "bold red", "waived": "yellow", "not-applicable": "dim"}
    for r in report.results:
        detail = r.status
        if r.advisories:
            detail += f" ({len(r.advisories)} advisory)"
        table.add_row(r.rule.id, Text(detail, style=styles[r.status]), str(len(r.checked)))
    return table


def print_insight(insight: Insight, console: Console) -> None:
    report = insight.report
    for line in report_lines(report):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    for waiver in report.waivers:
        scope = waiver.resource or "every resource"
        console.print(f"Waiver {waiver.rule} ({scope}): {waiver.reason}", markup=False, soft_wrap=True)
    for waiver in report.unused_waivers:
        console.print(
            f"Waiver {waiver.rule} ({waiver.resource or 'every resource'}) matched nothing", markup=False
        )
    console.print(policy_table(report))
    violated = sum(1 for r in report.results if r.violations)
    if violated:
        console.print(f"Policy: {violated} rule(s) violated; the plan fails (exit 1).", markup=False)
    else:
        console.print("Policy: no mandatory violation.", markup=False)
    for line in describe(insight.path):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
