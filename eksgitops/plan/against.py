"""`eksgitops plan STACK --against STATE`: the planned resources compared with a stack's state.

The plan alone is a create-from-nothing view. Given the file `pulumi stack export` writes
(deployment version 3, of this very stack: state_file.py), this compares each planned resource
with the one of the same URN in that state, as `pulumi preview` would: what would be created,
deleted, updated (with the input paths that change) and replaced (an update touching a property
that forces a new resource on that type, from `data/replace_on_change.json`, which names its
sources).

As in the engine, a resource that is created or replaced has outputs nobody knows yet: every
input of another resource that is built from them (its placeholder names the resource, or the
program recorded the dependency) becomes "known after apply", and where that input forces a
replacement, the dependent is replaced too, and so on down the graph (a new VPC CIDR replaces
the VPC, then its subnets, route tables, routes, NAT gateways and associations). Paths under a
resource's `ignoreChanges` are listed as ignored and change nothing.

What it cannot know, it does not guess:
- a planned value only the cloud knows (a placeholder, the plan's account id 000000000000)
  built from resources that do not change is taken as unchanged (the engine would read it
  from the state); one that is new reads "known after apply";
- a secret is compared by path only, never shown (both sides read "[secret]"), so a changed
  secret value is not seen;
- the children a packaged component (pulumi-eks) creates inside itself are compared only where
  the plan synthesizes them; the others are counted as not compared, never as deletions;
- provider defaults recorded in the state (`__defaults`, or zero values) are not removals.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from eksgitops.plan.offline_engine import PLAN_ACCOUNT_ID, PlanResult, RecordedResource
from eksgitops.plan.state_file import StateResource
from eksgitops.terminal_text import shown

STACK_TYPE = "pulumi:pulumi:Stack"
UNKNOWN_MARK = "(known after apply"
KNOWN_AFTER_APPLY = "(known after apply)"
ACTIONS = ("create", "replace", "update", "delete")
CLUSTER_TYPES = ("eks:index:Cluster", "aws:eks/cluster:Cluster")
# A placeholder names the resource whose output it stands for: `(known after apply: NAME.attr)`.
_PLACEHOLDER = re.compile(r"\(known after apply: ([^.)]+)\.")


@dataclass
class PathChange:
    path: str
    before: Any
    after: Any
    forces_replacement: bool = False
    ignored: bool = False
    """Under the resource's `ignoreChanges`: the engine keeps the state's value."""


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
                    "ignored": p.ignored,
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
    ignored: list[Change] = field(default_factory=list)
    """Resources whose only differences are under their `ignoreChanges` (counted as unchanged)."""

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)

    def summary(self) -> str:
        parts = [f"{self.count(a)} to {a}" for a in ACTIONS]
        text = f"{', '.join(parts)}, {self.unchanged} unchanged"
        if self.ignored:
            text += f" ({len(self.ignored)} with changes ignored by ignoreChanges)"
        if self.not_compared:
            text += f"; {len(self.not_compared)} inside packaged components not compared"
        return text

    def cluster_changes(self) -> list[Change]:
        """The EKS cluster itself replaced or deleted: everything in it goes (see the banner)."""
        return [c for c in self.changes if c.type in CLUSTER_TYPES and c.action in ("replace", "delete")]

    def to_json(self) -> dict[str, Any]:
        return {
            "against": self.source,
            "counts": {**{a: self.count(a) for a in ACTIONS}, "unchanged": self.unchanged},
            "changes": [c.to_json() for c in self.changes],
            "notCompared": self.not_compared,
            "ignored": [c.to_json() for c in self.ignored],
            "clusterReplaced": bool(self.cluster_changes()),
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


Renewed = Callable[[str, Any], bool]
"""Whether the planned value at a path is built from a resource that is created or replaced."""


def _compare(before: Any, after: Any, path: str, renewed: Renewed) -> Iterator[tuple[str, Any, Any]]:
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for key in sorted(set(before) | set(after)):
            sub = f"{path}.{key}" if path else str(key)
            if key not in after:
                if isinstance(before[key], Mapping):
                    # Path by path, so that a forcing path inside (kubernetesNetworkConfig.
                    # serviceIpv4Cidr) is seen when the whole object comes or goes.
                    yield from _compare(before[key], {}, sub, renewed)
                elif not _is_zero(before[key]):
                    yield sub, before[key], None
            elif key not in before:
                if isinstance(after[key], Mapping):
                    yield from _compare({}, after[key], sub, renewed)
                else:
                    # A new input is a change even when only the cloud knows its value: not dropped.
                    yield sub, None, KNOWN_AFTER_APPLY if _unknowable(after[key]) else after[key]
            else:
                yield from _compare(before[key], after[key], sub, renewed)
        return
    if _unknowable(after):
        # Built from resources that stay: the engine reads the same value from the state.
        if renewed(path, after):
            yield path, before, KNOWN_AFTER_APPLY
        return
    if isinstance(before, list) and isinstance(after, list):
        scalars = all(not isinstance(v, dict | list) for v in [*before, *after])
        if scalars and sorted(map(json.dumps, before)) == sorted(map(json.dumps, after)):
            return  # the same set in another order (subnet ids, CIDRs): no change
        if len(before) == len(after) and not scalars:
            for index, (b, a) in enumerate(zip(before, after, strict=True)):
                yield from _compare(b, a, f"{path}[{index}]", renewed)
            return
    if before != after:
        yield path, before, after


def _under(path: str, prefixes: list[str]) -> bool:
    return any(path == p or path.startswith((p + ".", p + "[")) for p in prefixes)


def _never(path: str, value: Any) -> bool:
    return False


def changed_paths(
    planned: RecordedResource, state: StateResource, renewed: Renewed = _never
) -> list[PathChange]:
    after = planned.plain_inputs()
    before = {k: v for k, v in state.inputs.items() if k in after or k not in state.defaults}
    found = []
    for path, b, a in _compare(before, after, "", renewed):
        ignored = _under(path, planned.ignore_changes)
        found.append(PathChange(path, b, a, not ignored and forces_replacement(planned.type, path), ignored))
    return found


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


class _Sources:
    """Which planned resources a value is built from: by the placeholders in it (they name the
    resource) and by the dependencies the program recorded for its top-level input."""

    def __init__(self, result: PlanResult):
        self.by_name: dict[str, list[RecordedResource]] = {}
        for r in result.resources:
            if r.custom:
                self.by_name.setdefault(r.name, []).append(r)

    def of(self, resource: RecordedResource, path: str, value: Any) -> set[str]:
        key = re.split(r"[.\[]", path, maxsplit=1)[0]
        deps = set(resource.property_dependencies.get(key, ())) | set(resource.dependencies)
        found = set(resource.property_dependencies.get(key, ()))
        for name in _PLACEHOLDER.findall(json.dumps(value)):
            candidates = [c.urn for c in self.by_name.get(name, [])]
            # Two resources may share a name (a launch template and its node group): the
            # recorded dependencies say which one; without them, any may be meant.
            narrowed = [u for u in candidates if u in deps] or candidates
            found.update(narrowed)
        return found


def _classify(paths: list[PathChange]) -> str:
    live = [p for p in paths if not p.ignored]
    if not live:
        return "ignore" if paths else "same"
    return "replace" if any(p.forces_replacement for p in live) else "update"


def _compared(
    planned: Mapping[str, RecordedResource], state: Mapping[str, StateResource], sources: _Sources
) -> dict[str, tuple[str, list[PathChange]]]:
    """Each planned resource's action and paths, once no more dependents are renewed."""
    renewed = {r.urn for urn, r in planned.items() if urn not in state}
    while True:
        found: dict[str, tuple[str, list[PathChange]]] = {}
        for urn, resource in planned.items():
            if urn not in state:
                found[urn] = ("create", [])
                continue

            def is_renewed(
                path: str,
                value: Any,
                resource: RecordedResource = resource,
                now: frozenset[str] = frozenset(renewed),
            ) -> bool:
                return bool(sources.of(resource, path, value) & now)

            paths = changed_paths(resource, state[urn], is_renewed)
            found[urn] = (_classify(paths), paths)
        more = {planned[u].urn for u, (action, _) in found.items() if action == "replace"} - renewed
        if not more:
            return found
        renewed |= more


def diff(result: PlanResult, state: Mapping[str, StateResource], source: str) -> Diff:
    urns = engine_urns(result)
    planned = {urns[r.urn]: r for r in result.resources if r.type != STACK_TYPE}
    remote = {urns[r.urn] for r in result.resources if r.remote}
    changes: list[Change] = []
    ignored: list[Change] = []
    unchanged = 0
    for urn, (action, paths) in _compared(planned, state, _Sources(result)).items():
        resource = planned[urn]
        if action in ("same", "ignore"):
            unchanged += 1
            if action == "ignore":
                ignored.append(Change(action, urn, resource.type, resource.name, paths))
            continue
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
    ignored.sort(key=lambda c: c.urn)
    return Diff(source, changes, unchanged, sorted(not_compared), ignored)


def _short(value: Any) -> str:
    if value == KNOWN_AFTER_APPLY:
        return value
    # JSON escapes every control character in a value; shown() the rest of each line.
    return "(none)" if value is None else json.dumps(value, separators=(",", ":"))


SYMBOLS = {"create": "+", "replace": "+-", "update": "~", "delete": "-", "ignore": "="}


def banner_lines(result: Diff) -> list[str]:
    """The warning that leads the diff when the EKS cluster itself is replaced or deleted."""
    found = result.cluster_changes()
    if not found:
        return []
    what = ", ".join(f"{c.action}s {shown(c.type)} {shown(c.name)}" for c in found)
    return [
        f"WARNING: this change {what}: the EKS cluster itself goes, with every workload, volume "
        "attachment and object in it (docs/configuration.md lists the keys that do this)"
    ]


def _path_lines(change: Change) -> Iterator[str]:
    for p in change.paths:
        if p.ignored:
            note = " (ignored: ignoreChanges keeps the deployed value)"
        else:
            note = " (forces replacement)" if p.forces_replacement else ""
        yield f"    {shown(p.path)}: {_short(p.before)} -> {_short(p.after)}{note}"


def diff_lines(result: Diff, source: str | None = None) -> list[str]:
    """What the plan prints: the banner, one line per change, then one line per changed path.

    Names, types and paths come from the state file and the stack file: escaped as names are
    everywhere (terminal_text.shown); values are JSON, which escapes every control character.
    `source` names the state file (default: as given on the command line).
    """
    lines = banner_lines(result)
    lines.append(f"Against {shown(source or result.source)} (pulumi stack export): {result.summary()}.")
    for change in [*result.changes, *result.ignored]:
        lines.append(f"{SYMBOLS[change.action]} {change.action} {shown(change.type)} {shown(change.name)}")
        lines.extend(_path_lines(change))
    return lines


def write_diff(result: Diff, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result.to_json(), indent=2) + "\n")
