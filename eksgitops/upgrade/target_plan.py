"""The stack as it would be at the target version: validated, run offline, judged by the guardrails.

The stack file's values with `kubernetesVersion` set to the target (and add-on pins the target
does not offer moved with it, see pins.py) go through the same spec
and the same in-process program as `eksgitops plan`, so what `upgrade check` judges is what
`pulumi up` would be asked to do after the edit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eksgitops.components.spec import EnvironmentSpec, SpecError
from eksgitops.plan.cli import run_config
from eksgitops.plan.manifests import bridge_document
from eksgitops.plan.offline_engine import PlanResult
from eksgitops.policy.evaluate import PolicyReport, evaluate, from_recorded, report_lines
from eksgitops.upgrade.pins import at_target


@dataclass
class TargetPlan:
    spec: EnvironmentSpec | None
    spec_errors: list[str] = field(default_factory=list)
    """One line per mistake when the stack does not validate at the target version."""
    result: PlanResult | None = None
    policy: PolicyReport | None = None

    def bridge(self) -> dict[str, Any] | None:
        if self.spec is None or self.result is None:
            return None
        return bridge_document(self.result, self.spec)

    def violations(self) -> list[str]:
        return report_lines(self.policy) if self.policy is not None and self.policy.failed else []


def plan_at(raw: dict[str, Any], stack: str, source: str, target: str, project_dir: Path) -> TargetPlan:
    """Validate and run the stack as the upgrade leaves it (kubernetesVersion = target, pins the target
    does not offer moved); the guardrails judge the result."""
    moved, _ = at_target(raw, target)
    try:
        spec, result = run_config(moved, stack=stack, source=source, project_dir=project_dir.resolve())
    except SpecError as err:
        return TargetPlan(None, list(err.lines))
    policy = evaluate(from_recorded(result.resources), spec.policy.waivers)
    return TargetPlan(spec, [], result, policy)
