"""`eksgitops plan STACK --against STATE`: the planned resources compared with a stack's state.

The plan alone is a create-from-nothing view. Given the file `pulumi stack export` writes
(deployment version 3), this compares each planned resource with the one of the same URN in
that state: what would be created, deleted, updated (with the input paths that change) and
replaced (an update touching a property that forces a new resource on that type, from
`data/replace_on_change.json`, which names its sources).

What it cannot know, it does not guess:
- a planned value only the cloud knows (`(known after apply …)`, the plan's account id
  000000000000) is not compared;
- a secret is compared by path only, never shown (both sides read "[secret]"), so a changed
  secret value is not seen;
- the children a packaged component (pulumi-eks) creates inside itself are compared only where
  the plan synthesizes them; the others are counted as not compared, never as deletions;
- provider defaults recorded in the state (`__defaults`, or zero values) are not removals.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from eksgitops.components.document_limits import DocumentLimit, Limits, load_json
from eksgitops.plan.offline_engine import PLAN_ACCOUNT_ID, PlanResult, RecordedResource, plain

STATE_VERSION = 3
STATE_FILE_LIMITS = Limits(chars=512 << 20, depth=100)
"""A stack export: large for a large stack, but never nested deeper than a few dozen levels."""
STACK_TYPE = "pulumi:pulumi:Stack"
UNKNOWN_MARK = "(known after apply"
ACTIONS = ("create", "replace", "update", "delete")


class StateFileError(ValueError):
    """The --against file is not a usable `pulumi stack export` (the message says why)."""


@dataclass
class StateResource:
    urn: str
    type: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    defaults: set[str]


@dataclass
class PathChange:
    path: str
    before: Any
    after: Any
    forces_replacement: bool = False


@dataclass
class Change:
    action: str
    urn: str
    type: str
    name: str
    paths: list[PathChange] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "paths": [
                {
                    "path": p.path,
                    "before": p.before,
                    "after": p.after,
                    "forcesReplacement": p.forces_replacement,
                }
                for p in self.paths
            ],
        }


@dataclass
class Diff:
    source: str
    changes: list[Change]
    unchanged: int
    not_compared: list[str]
    """State URNs inside packaged components the plan cannot see."""

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)

    def summary(self) -> str:
        parts = [f"{self.count(a)} to {a}" for a in ACTIONS]
        text = f"{', '.join(parts)}, {self.unchanged} unchanged"
        if self.not_compared:
            text += f"; {len(self.not_compared)} inside packaged components not compared"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "against": self.source,
            "counts": {**{a: self.count(a) for a in ACTIONS}, "unchanged": self.unchanged},
            "changes": [c.to_json() for c in self.changes],
            "notCompared": self.not_compared,
        }


@cache
def replace_paths() -> dict[str, tuple[str, ...]]:
    text = resources.files("eksgitops.plan").joinpath("data/replace_on_change.json").read_text()
    return {t: tuple(entry["paths"]) for t, entry in json.loads(text)["types"].items()}


def forcing_paths(type_: str) -> tuple[str, ...]:
    table = replace_paths()
    if type_ in table:
        return table[type_]
    family = type_.split(":", 1)[0] + ":*"
    return table.get(family, ())


def forces_replacement(type_: str, path: str) -> bool:
    return any(path == p or path.startswith((p + ".", p + "[")) for p in forcing_paths(type_))


def load_state(path: Path) -> dict[str, StateResource]:
    """The resources of a `pulumi stack export` file, by URN; StateFileError if it is not one."""
    try:
        document = load_json(path.read_text(), STATE_FILE_LIMITS)
    except OSError as exc:
        raise StateFileError(f"cannot read {path} ({exc.strerror})") from None
    except DocumentLimit as exc:
        # 100,000 nested lists would end in a RecursionError: refused before json reads them.
        raise StateFileError(f"{path}: {exc.problem}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise StateFileError(f"{path} is not JSON") from None
    if not isinstance(document, dict) or "deployment" not in document:
        raise StateFileError(f"{path} has no 'deployment'; the output of `pulumi stack export`")
    if document.get("version") != STATE_VERSION:
        raise StateFileError(
            f"{path} is deployment version {document.get('version')!r}; version {STATE_VERSION} "
            "(`pulumi stack export` of Pulumi 3)"
        )
    deployment = document["deployment"] or {}
    found: dict[str, StateResource] = {}
    for raw in deployment.get("resources") or []:
        if not isinstance(raw, dict) or not isinstance(raw.get("urn"), str):
            raise StateFileError(f"{path}: a resource without a 'urn'")
        inputs = raw.get("inputs") or {}
        defaults = inputs.pop("__defaults", []) if isinstance(inputs, dict) else []
        found[raw["urn"]] = StateResource(
            urn=raw["urn"],
            type=str(raw.get("type", "")),
            parent=str(raw.get("parent") or ""),
            custom=bool(raw.get("custom")),
            inputs=plain(inputs) if isinstance(inputs, dict) else {},
            defaults=set(defaults) if isinstance(defaults, list) else set(),
        )
    return found


def _unknowable(value: Any) -> bool:
    """A planned value the plan cannot know (the cloud assigns it, or the account id)."""
    if isinstance(value, str):
        return UNKNOWN_MARK in value or PLAN_ACCOUNT_ID in value
    if isinstance(value, Mapping):
        return any(_unknowable(v) for v in value.values())
    if isinstance(value, list):
        return any(_unknowable(v) for v in value)
    return False


def _is_zero(value: Any) -> bool:
    return value in (None, False, 0, "", [], {})


def _compare(before: Any, after: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for key in sorted(set(before) | set(after)):
            sub = f"{path}.{key}" if path else str(key)
            if key not in after:
                if not _is_zero(before[key]):
                    yield sub, before[key], None
            elif key not in before:
                if not _unknowable(after[key]):
                    yield sub, None, after[key]
            else:
                yield from _compare(before[key], after[key], sub)
        return
    if _unknowable(after):
        return
    if isinstance(before, list) and isinstance(after, list):
        scalars = all(not isinstance(v, dict | list) for v in [*before, *after])
        if scalars and sorted(map(json.dumps, before)) == sorted(map(json.dumps, after)):
            return  # the same set in another order (subnet ids, CIDRs): no change
        if len(before) == len(after) and not scalars:
            for index, (b, a) in enumerate(zip(before, after, strict=True)):
                yield from _compare(b, a, f"{path}[{index}]")
            return
    if before != after:
        yield path, before, after


def changed_paths(planned: RecordedResource, state: StateResource) -> list[PathChange]:
    after = planned.plain_inputs()
    before = {k: v for k, v in state.inputs.items() if k in after or k not in state.defaults}
    return [
        PathChange(path, b, a, forces_replacement(planned.type, path))
        for path, b, a in _compare(before, after, "")
    ]


def _inside_remote(urn: str, state: Mapping[str, StateResource], remote: set[str]) -> bool:
    parent = state[urn].parent
    seen: set[str] = set()
    while parent and parent not in seen:
        if parent in remote:
            return True
        seen.add(parent)
        parent = state[parent].parent if parent in state else ""
    return False


def engine_urns(result: PlanResult) -> dict[str, str]:
    """Each planned resource's URN as the engine forms it, by the plan's URN.

    Pulumi's mocks put only the parent's own type before a child's type; the engine puts the
    parent's whole chain (`A$B$C`), so a nested resource's URN in a state reads differently.
    Rebuilt from the parents, the two match.
    """
    by_urn = {r.urn: r for r in result.resources}
    found: dict[str, str] = {}

    def qualified(urn: str) -> str:
        resource = by_urn[urn]
        parent = by_urn.get(resource.parent)
        if parent is None or parent.type == STACK_TYPE:
            return resource.type
        return f"{qualified(parent.urn)}${resource.type}"

    for urn, resource in by_urn.items():
        head = urn.split("::", 2)
        found[urn] = f"{head[0]}::{head[1]}::{qualified(urn)}::{resource.name}"
    return found


def diff(result: PlanResult, state: Mapping[str, StateResource], source: str) -> Diff:
    urns = engine_urns(result)
    planned = {urns[r.urn]: r for r in result.resources if r.type != STACK_TYPE}
    remote = {urns[r.urn] for r in result.resources if r.remote}
    changes: list[Change] = []
    unchanged = 0
    for urn, resource in planned.items():
        old = state.get(urn)
        if old is None:
            changes.append(Change("create", urn, resource.type, resource.name))
            continue
        paths = changed_paths(resource, old)
        if not paths:
            unchanged += 1
            continue
        action = "replace" if any(p.forces_replacement for p in paths) else "update"
        changes.append(Change(action, urn, resource.type, resource.name, paths))
    not_compared: list[str] = []
    for urn, old in state.items():
        if urn in planned or old.type == STACK_TYPE:
            continue
        if old.type.startswith("pulumi:providers:") and urn.rsplit("::", 1)[-1].startswith("default"):
            continue  # the engine's default providers: never registered by a program
        if _inside_remote(urn, state, remote):
            not_compared.append(urn)
            continue
        changes.append(Change("delete", urn, old.type, urn.rsplit("::", 1)[-1]))
    changes.sort(key=lambda c: (ACTIONS.index(c.action), c.urn))
    return Diff(source, changes, unchanged, sorted(not_compared))


def _short(value: Any) -> str:
    return "(none)" if value is None else json.dumps(value, separators=(",", ":"))


SYMBOLS = {"create": "+", "replace": "+-", "update": "~", "delete": "-"}


def diff_lines(result: Diff) -> list[str]:
    """What the plan prints: one line per change, then one line per changed path."""
    lines = [f"Against {result.source} (pulumi stack export): {result.summary()}."]
    for change in result.changes:
        lines.append(f"{SYMBOLS[change.action]} {change.action} {change.type} {change.name}")
        for p in change.paths:
            note = " (forces replacement)" if p.forces_replacement else ""
            lines.append(f"    {p.path}: {_short(p.before)} -> {_short(p.after)}{note}")
    return lines


def write_diff(result: Diff, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result.to_json(), indent=2) + "\n")
