"""Run the rules over one stack's resources, apply its waivers, and report.

A mandatory finding that no waiver covers fails the plan (exit 1); advisory findings and
waived ones are printed and written to `build/STACK/policy-report.json`, never hidden.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from components.spec.policy import WaiverSpec
from eksgitops.policy.model import Finding, Graph, Resource, Rule
from eksgitops.policy.rules import RULES
from eksgitops.terminal_text import shown

Status = Literal["passed", "violated", "waived", "not-applicable"]


@dataclass
class RuleResult:
    """One rule's verdict over the stack."""

    rule: Rule
    status: Status
    violations: list[Finding] = field(default_factory=list)
    """Mandatory findings no waiver covers: these fail the plan."""
    waived: list[tuple[Finding, WaiverSpec]] = field(default_factory=list)
    advisories: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    """URNs of the resources of the kinds the rule reads."""


@dataclass
class PolicyReport:
    """Every rule's verdict, and the waivers the stack declared."""

    results: list[RuleResult]
    waivers: list[WaiverSpec]
    unused_waivers: list[WaiverSpec]

    @property
    def failed(self) -> bool:
        return any(r.violations for r in self.results)

    def to_json(self) -> dict[str, Any]:
        def item(f: Finding) -> dict[str, str]:
            return {"urn": f.urn, "resource": f.resource, "message": f.message}

        return {
            "failed": self.failed,
            "rules": [
                {
                    "id": r.rule.id,
                    "title": r.rule.title,
                    "source": r.rule.source,
                    "status": r.status,
                    "violations": [item(f) for f in r.violations],
                    "waived": [{**item(f), "reason": w.reason} for f, w in r.waived],
                    "advisories": [item(f) for f in r.advisories],
                    "resources": r.checked,
                }
                for r in self.results
            ],
            "waivers": [w.model_dump(by_alias=True) for w in self.waivers],
            "unusedWaivers": [w.model_dump(by_alias=True) for w in self.unused_waivers],
        }


def waiver_for(finding: Finding, waivers: Sequence[WaiverSpec]) -> WaiverSpec | None:
    for waiver in waivers:
        if waiver.rule == finding.rule and waiver.resource in (None, finding.urn, finding.resource):
            return waiver
    return None


def evaluate_rule(rule: Rule, graph: Graph, waivers: Sequence[WaiverSpec]) -> RuleResult:
    checked = [r.urn for r in rule.judged(graph)]
    result = RuleResult(rule, "passed", checked=checked)
    for f in rule.judge(graph):
        waiver = waiver_for(f, waivers)
        if f.advisory:
            result.advisories.append(f)
        elif waiver is not None:
            result.waived.append((f, waiver))
        else:
            result.violations.append(f)
    if result.violations:
        result.status = "violated"
    elif result.waived:
        result.status = "waived"
    elif not checked:
        result.status = "not-applicable"
    return result


def evaluate(
    resources: Iterable[Resource], waivers: Sequence[WaiverSpec] = (), rules: Sequence[Rule] = RULES
) -> PolicyReport:
    graph = Graph(resources)
    results = [evaluate_rule(rule, graph, waivers) for rule in rules]
    used = {id(w) for r in results for _, w in r.waived}
    return PolicyReport(results, list(waivers), [w for w in waivers if id(w) not in used])


def from_recorded(records: Iterable[Any]) -> list[Resource]:
    """The plan's `RecordedResource`s as rule input (inputs made plain: secrets "[secret]")."""
    return [
        Resource(
            urn=r.urn,
            type=r.type,
            name=r.name,
            parent=r.parent,
            props=r.plain_inputs(),
            dependencies=tuple(r.dependencies),
            property_dependencies=dict(getattr(r, "property_dependencies", {}) or {}),
            synthesized=bool(getattr(r, "synthesized", False)),
            transforms=int(getattr(r, "transforms", 0) or 0),
        )
        for r in records
    ]


def report_lines(report: PolicyReport) -> list[str]:
    """The lines the plan prints: violations first (`RULE-ID <resource>: <what is wrong>`).

    Names, messages and waiver reasons come from the stack file: control characters are escaped.
    """
    lines = [f"{f.rule} {f.resource}: {f.message}" for r in report.results for f in r.violations]
    lines += [
        f"{f.rule} {f.resource}: {f.message} (waived: {w.reason})"
        for r in report.results
        for f, w in r.waived
    ]
    lines += [f"{f.rule} {f.resource}: {f.message} (advisory)" for r in report.results for f in r.advisories]
    return [shown(line) for line in lines]
