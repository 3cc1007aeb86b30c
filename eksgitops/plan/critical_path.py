"""The modeled time to recreate an environment from nothing, and the chain of resources that sets it.

The model: a resource starts once every resource it depends on is created and its parent is
registered (Pulumi registers a child only after its parent, and a parent only after its own
dependencies); it then takes the typical creation time of its type
(`data/creation_times.json`). Components take no time themselves, except a remote component
whose children the plan cannot see: it stands for them (an `eks:index:Cluster` is its
control plane). Depending on a remote component means waiting for all its children, which
is what the engine does. A Helm release waits for its pods to be Ready, so for the node groups:
that edge is implied even where the program does not declare it (graph.py). The critical
path is the longest chain; only resources that take time are listed in it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from eksgitops.plan.graph import ResourceGraph

LIMITS = (
    "Modeled, not measured: typical creation times per resource type "
    "(eksgitops/plan/data/creation_times.json, each with its source), unlimited parallelism as "
    "Pulumi runs by default, no API throttling, retries or quota waits; a Helm release waits for "
    "its pods, so it comes after the node groups even where the program does not say so; the "
    "agent's first sync covers the agent's own objects, not what the fleet repo then deploys."
)
AUTO_MODE_LIMITS = (
    " With Auto Mode there is no node group to wait for: the Kubernetes objects wait for the "
    "cluster (through their provider), and the time Auto Mode takes to launch the first node for "
    "the agent's pods is counted inside the Helm release's typical time, not apart."
)


@cache
def creation_times() -> dict[str, Any]:
    text = resources.files("eksgitops.plan").joinpath("data/creation_times.json").read_text()
    return json.loads(text)


def seconds_for(type_: str, data: Mapping[str, Any] | None = None) -> int:
    """The typical creation time of a type: exact entry, else the longest `prefix*`, else the default."""
    data = data or creation_times()
    types: Mapping[str, Any] = data["types"]
    if type_ in types:
        return int(types[type_]["seconds"])
    prefixes = [k for k in types if k.endswith("*") and type_.startswith(k[:-1])]
    if prefixes:
        return int(types[max(prefixes, key=len)]["seconds"])
    return int(data["default"]["seconds"])


@dataclass(frozen=True)
class Step:
    urn: str
    type: str
    name: str
    seconds: int


@dataclass(frozen=True)
class CriticalPath:
    modeled_seconds: int
    chain: list[Step]
    limits: str = LIMITS

    def to_json(self) -> dict[str, Any]:
        return {
            "modeled_seconds": self.modeled_seconds,
            "chain": [
                {"urn": s.urn, "type": s.type, "name": s.name, "seconds": s.seconds} for s in self.chain
            ],
            "limits": self.limits,
        }


def own_seconds(graph: ResourceGraph, urn: str) -> int:
    node = graph.nodes[urn]
    if node.custom:
        return seconds_for(node.type)
    if node.remote and not graph.children.get(urn):
        return seconds_for(node.type)  # stands for the children the plan cannot see
    return 0


def critical_path(graph: ResourceGraph) -> CriticalPath:
    """Longest chain through the graph (see the module docstring)."""
    registered: dict[str, int] = {}  # when the resource may start
    start_pred: dict[str, str | None] = {}  # what set that start
    finished: dict[str, int] = {}
    came_from: dict[str, str | None] = {}  # what set the finish: the start's setter

    order = graph.topological_order()
    for urn in order:
        node = graph.nodes[urn]
        candidates: list[tuple[int, str]] = [(finished[d], d) for d in graph.before(urn) if d in finished]
        if node.parent in registered:
            candidates.append((registered[node.parent], start_pred.get(node.parent) or ""))
        start, pred = max(candidates, default=(0, ""))
        registered[urn] = start
        start_pred[urn] = came_from[urn] = pred or None
        # A remote component's children come after it in this order; what waits for them
        # reaches them through `graph.before` (a dependency on a remote component includes its
        # children), so the component's own finish needs no adjustment.
        finished[urn] = start + own_seconds(graph, urn)

    limits = LIMITS
    if graph.auto_mode:
        limits += AUTO_MODE_LIMITS
    if not any(n.type.startswith("kubernetes:") for n in graph.nodes.values()):
        limits += " This stack registers no GitOps agent, so the chain stops before it."
    if not finished:
        return CriticalPath(0, [], limits)
    last = max(finished, key=lambda u: (finished[u], u))
    chain: list[Step] = []
    seen: set[str] = set()
    current: str | None = last
    while current and current not in seen:
        seen.add(current)
        node = graph.nodes[current]
        seconds = own_seconds(graph, current)
        if seconds:
            chain.append(Step(current, node.type, node.name, seconds))
        current = came_from.get(current)
    chain.reverse()
    return CriticalPath(finished[last], chain, limits)


def write_critical_path(path: CriticalPath, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(path.to_json(), indent=2) + "\n")


def describe(path: CriticalPath) -> Sequence[str]:
    """The lines the plan prints."""
    minutes, seconds = divmod(path.modeled_seconds, 60)
    lines = [
        f"Modeled rebuild from nothing: {path.modeled_seconds} s ({minutes} min {seconds:02d} s), set by:"
    ]
    lines += [f"  {step.seconds:>5} s  {step.type} {step.name}" for step in path.chain]
    lines.append(f"Limits: {path.limits}")
    return lines
