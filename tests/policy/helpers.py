"""Crafting violations: the planned resources with one input changed."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from typing import Any

from eksgitops.plan.engine import PlanResult
from eksgitops.policy.evaluate import evaluate, from_recorded
from eksgitops.policy.model import Resource


def resources(plan: PlanResult) -> list[Resource]:
    return from_recorded(plan.resources)


def change(
    items: Sequence[Resource], match: Callable[[Resource], bool], edit: Callable[[dict[str, Any]], None]
) -> list[Resource]:
    """A copy of `items` where every resource `match` selects has its props edited."""
    out = []
    hits = 0
    for r in items:
        if match(r):
            props = json.loads(json.dumps(r.props))
            edit(props)
            r = dataclasses.replace(r, props=props)
            hits += 1
        out.append(r)
    assert hits, "the edit matched no resource: the test would check nothing"
    return out


def of_type(type_: str) -> Callable[[Resource], bool]:
    return lambda r: r.type == type_


def statuses(items: Sequence[Resource], waivers: Sequence[Any] = ()) -> dict[str, str]:
    return {r.rule.id: r.status for r in evaluate(items, waivers).results}


def messages(items: Sequence[Resource], rule: str) -> list[str]:
    report = evaluate(items)
    return [f.message for r in report.results if r.rule.id == rule for f in r.violations]
