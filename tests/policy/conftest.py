"""One offline plan of each shipped stack per test session: the rules judge what it registers."""

from __future__ import annotations

from pathlib import Path

import pytest

from eksgitops.plan.cli import run_plan
from eksgitops.plan.offline_engine import PlanResult

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def plans() -> dict[str, PlanResult]:
    return {
        stack: run_plan(stack, stacks_dir=ROOT / "stacks", project_dir=ROOT)
        for stack in ("dev", "staging", "prod")
    }
