"""What the plan says after the resources: the policy summary, the rebuild critical path and
how long the stack's Kubernetes version stays in standard support.

Writes `build/STACK/policy-report.json`, `graph.mmd` (components), `graph-resources.mmd`
and `critical-path.json`, and prints
the violations (`RULE-ID <resource>: <what is wrong>`), the waivers, a table of every rule's
verdict, the modeled rebuild time with the chain that sets it, and the days left in EKS
standard support (from `components/data/kubernetes_versions.json`, whose sources are in the
file), with `eksgitops upgrade check` suggested when fewer than 90 remain.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from eksgitops.components.spec.policy import WaiverSpec
from eksgitops.plan.critical_path import CriticalPath, critical_path, describe, write_critical_path
from eksgitops.plan.graph import ResourceGraph, write_graphs
from eksgitops.plan.offline_engine import PlanResult
from eksgitops.policy.evaluate import PolicyReport, evaluate, from_recorded, report_lines
from eksgitops.terminal_text import shown

SUGGEST_UPGRADE_DAYS = 90
"""Under this many days of standard support left, the plan suggests `upgrade check`: about one
EKS release cycle, time to check, fix the fleet and move through dev, staging and prod."""
CLUSTER = "aws:eks/cluster:Cluster"


@dataclass
class Insight:
    report: PolicyReport
    path: CriticalPath
    support: list[str]
    """The standard-support lines (empty when the plan has no EKS cluster)."""


def support_lines(version: str, stack: str, today: date | None = None) -> list[str]:
    """Days left in standard support for `version`, and the upgrade to check when they run short."""
    data = json.loads(
        resources.files("eksgitops.components").joinpath("data/kubernetes_versions.json").read_text()
    )
    entry = next((v for v in data["versions"] if v["version"] == version), None)
    if entry is None:
        return [f"Kubernetes {version}: not in components/data/kubernetes_versions.json; no support dates"]
    today = today or date.today()
    end = date.fromisoformat(entry["endOfStandardSupport"])
    days = (end - today).days
    if days >= 0:
        line = f"Kubernetes {version}: {days} days left in EKS standard support (ends {end.isoformat()})"
    else:
        extended = entry["endOfExtendedSupport"]
        line = (
            f"Kubernetes {version}: standard support ended {end.isoformat()} ({-days} days ago); "
            f"paid extended support until {extended}"
        )
    lines = [line]
    if days < SUGGEST_UPGRADE_DAYS:
        nxt = f"1.{int(version.split('.')[1]) + 1}"
        lines.append(f"Under {SUGGEST_UPGRADE_DAYS} days: run `eksgitops upgrade check {stack} --to {nxt}`")
    return lines


def _cluster_version(result: PlanResult) -> str | None:
    for res in result.resources:
        if res.type == CLUSTER:
            version = res.plain_inputs().get("version")
            return version if isinstance(version, str) else None
    return None


def analyse(
    result: PlanResult,
    waivers: Sequence[WaiverSpec],
    out_dir: Path,
    stack: str = "",
    today: date | None = None,
) -> Insight:
    """Run the rules and the critical-path model over a plan; write their files under out_dir."""
    report = evaluate(from_recorded(result.resources), waivers)
    graph = ResourceGraph(result.resources)
    path = critical_path(graph)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "policy-report.json").write_text(json.dumps(report.to_json(), indent=2) + "\n")
    write_graphs(graph, out_dir, [step.urn for step in path.chain])
    write_critical_path(path, out_dir / "critical-path.json")
    version = _cluster_version(result)
    support = support_lines(version, stack or out_dir.name, today) if version else []
    return Insight(report, path, support)


def policy_table(report: PolicyReport) -> Table:
    table = Table(title="Policy summary (docs/policy.md)")
    table.add_column("rule", overflow="fold")
    table.add_column("verdict", overflow="fold")
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
        console.print(line, markup=False, highlight=False, soft_wrap=not console.is_terminal)
    for waiver in report.waivers:
        scope = waiver.resource or "every resource"
        console.print(
            shown(f"Waiver {waiver.rule} ({scope}): {waiver.reason}"),
            markup=False,
            soft_wrap=not console.is_terminal,
        )
    for waiver in report.unused_waivers:
        scope = waiver.resource or "every resource"
        console.print(shown(f"Waiver {waiver.rule} ({scope}) matched nothing"), markup=False)
    console.print(policy_table(report))
    violated = sum(1 for r in report.results if r.violations)
    if violated:
        console.print(f"Policy: {violated} rule(s) violated; the plan fails (exit 1).", markup=False)
    else:
        console.print("Policy: no mandatory violation.", markup=False)
    for line in describe(insight.path):
        console.print(line, markup=False, highlight=False, soft_wrap=not console.is_terminal)
    for line in insight.support:
        console.print(line, markup=False, highlight=False, soft_wrap=not console.is_terminal)
