"""The resource graph of a plan: parents, dependency edges, and its Mermaid drawings: the
components (graph.mmd) and every resource (graph-resources.mmd).

Edges come from what the program registered: each resource's `dependencies` (explicit
`depends_on` and the resources its inputs came from; the SDK already expands a dependency on
a local component into its children) and the parent/child relation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from eksgitops.components import type_tokens as tokens

# Types whose creation waits for pods (so for nodes), and the node group types.
WORKLOAD_TYPES = (tokens.HELM_RELEASE, tokens.HELM_CHART)
NODE_GROUP_TYPES = (tokens.EKS_MANAGED_NODE_GROUP, tokens.EKS_NODE_GROUP)


@dataclass(frozen=True)
class Node:
    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    remote: bool


def _enabled(value: Any) -> bool:
    return isinstance(value, dict) and value.get("enabled") is True


class ResourceGraph:
    """Nodes by URN, their dependencies (inside the plan) and their children."""

    def __init__(self, records: Iterable[Any]):
        self.nodes: dict[str, Node] = {}
        raw_deps: dict[str, list[str]] = {}
        records_list = list(records)
        for r in records_list:
            self.nodes[r.urn] = Node(r.urn, r.type, r.name, r.parent, bool(r.custom), bool(r.remote))
            raw_deps[r.urn] = list(r.dependencies)
        self.dependencies: dict[str, list[str]] = {
            urn: sorted({d for d in deps if d in self.nodes and d != urn and d != self.nodes[urn].parent})
            for urn, deps in raw_deps.items()
        }
        self.children: dict[str, list[str]] = {}
        for node in self.nodes.values():
            if node.parent in self.nodes:
                self.children.setdefault(node.parent, []).append(node.urn)
        # A Helm release waits for its pods to be Ready, and pods need nodes: it cannot finish
        # before the node groups, whether or not the program says so. These edges are implied.
        groups = [n.urn for n in self.nodes.values() if n.type in NODE_GROUP_TYPES]
        self.implied: dict[str, list[str]] = {
            urn: [g for g in groups if g not in self.dependencies[urn] and urn not in self.dependencies[g]]
            for urn, n in self.nodes.items()
            if n.type in WORKLOAD_TYPES
        }

        # A resource is created through its provider, so not before the provider exists: the
        # Kubernetes objects wait for the cluster's provider (which waits for the cluster) even
        # where nothing else links them to it, as under Auto Mode with no node group to wait for.
        # A provider reference is `<urn>::<id>`.
        self.provider: dict[str, str] = {}
        # Auto Mode launches nodes for pending pods itself; the critical path says so.
        self.auto_mode = any(
            r.type == tokens.EKS_CLUSTER and _enabled((getattr(r, "inputs", None) or {}).get("autoMode"))
            for r in records_list
        )
        for r in records_list:
            provider_urn = (getattr(r, "provider", "") or "").rsplit("::", 1)[0]
            if r.custom and provider_urn in self.nodes and provider_urn not in self.dependencies[r.urn]:
                self.provider[r.urn] = provider_urn

        # The engine answers a remote component's registration once everything it created
        # exists: depending on it means waiting for its children (when the plan shows them).
        self.remote_children: dict[str, list[str]] = {
            urn: list(self._descendants(urn)) for urn, n in self.nodes.items() if n.remote
        }

    def _descendants(self, urn: str) -> list[str]:
        found: list[str] = []
        for child in self.children.get(urn, []):
            found += [child, *self._descendants(child)]
        return found

    def before(self, urn: str) -> list[str]:
        """What must exist before `urn` starts: its dependencies (a remote component's with its
        children), its provider and the implied edges."""
        direct = self.dependencies[urn] + self.implied.get(urn, [])
        if urn in self.provider:
            direct.append(self.provider[urn])
        return direct + [c for d in direct for c in self.remote_children.get(d, []) if c != urn]

    def edges(self) -> list[tuple[str, str]]:
        """(dependency, dependent) pairs: the first is created before the second."""
        return [(d, urn) for urn, deps in sorted(self.dependencies.items()) for d in deps]

    def topological_order(self) -> list[str]:
        """Every URN after its dependencies and its parent (ties in URN order)."""
        before: dict[str, set[str]] = {
            urn: set(self.before(urn)) | ({n.parent} if n.parent in self.nodes else set())
            for urn, n in self.nodes.items()
        }
        after: dict[str, list[str]] = {}
        for urn, preds in before.items():
            for p in preds:
                after.setdefault(p, []).append(urn)
        ready = sorted(u for u, p in before.items() if not p)
        order: list[str] = []
        waiting = {u: len(p) for u, p in before.items()}
        while ready:
            urn = ready.pop(0)
            order.append(urn)
            for nxt in sorted(after.get(urn, [])):
                waiting[nxt] -= 1
                if waiting[nxt] == 0:
                    ready.append(nxt)
        if len(order) != len(self.nodes):  # a cycle cannot be registered; keep going regardless
            order += sorted(set(self.nodes) - set(order))
        return order


def _label(node: Node) -> str:
    text = f"{node.type}<br/>{node.name}"
    return text.replace('"', "#quot;")


def mermaid(graph: ResourceGraph, critical: Sequence[str] = ()) -> str:
    """A Mermaid flowchart: components as subgraphs, resources as nodes, dependency edges,
    and the critical path's resources and edges highlighted."""
    ids = {urn: f"n{i}" for i, urn in enumerate(sorted(graph.nodes))}
    lines = ["flowchart LR"]

    def emit(urn: str, depth: int) -> None:
        node = graph.nodes[urn]
        pad = "  " * depth
        kids = sorted(graph.children.get(urn, []))
        if kids or not node.custom:
            lines.append(f'{pad}subgraph {ids[urn]}["{_label(node)}"]')
            for kid in kids:
                emit(kid, depth + 1)
            lines.append(f"{pad}end")
        else:
            lines.append(f'{pad}{ids[urn]}["{_label(node)}"]')

    for urn in sorted(u for u, n in graph.nodes.items() if n.parent not in graph.nodes):
        emit(urn, 1)
    edges = graph.edges()
    on_path = set(critical)
    chain_pairs = set(pairwise(critical))
    highlighted = []
    for index, (dep, urn) in enumerate(edges):
        lines.append(f"  {ids[dep]} --> {ids[urn]}")
        if (dep, urn) in chain_pairs:
            highlighted.append(index)
    for urn, groups in sorted(graph.implied.items()):
        for group in groups:  # implied: a release's pods need the nodes
            lines.append(f"  {ids[group]} -.-> {ids[urn]}")
    lines.append("  classDef critical fill:#ffd8a8,stroke:#e8590c,stroke-width:3px")
    if on_path:
        lines.append("  class " + ",".join(ids[u] for u in critical if u in ids) + " critical")
    if highlighted:
        lines.append("  linkStyle " + ",".join(map(str, highlighted)) + " stroke:#e8590c,stroke-width:3px")
    return "\n".join(lines) + "\n"


def write_mermaid(graph: ResourceGraph, target: Path, critical: Sequence[str] = ()) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(mermaid(graph, critical))


# -- the component-level graph (graph.mmd) ------------------------------------------------
# The resource-level drawing is unreadable past a few dozen nodes; a reviewer first wants
# which components wait for which. Each resource belongs to its nearest component ancestor
# (a remote component such as pulumi-eks's cluster owns what the plan synthesizes inside it),
# and one component depends on another when any of its resources waits for one of the other's.

STACK_TYPE = "pulumi:pulumi:Stack"
STACK_OWNER = "(stack)"


def owner_of(graph: ResourceGraph, urn: str) -> str:
    """The component a resource belongs to (itself for a component); STACK_OWNER at the root."""
    node = graph.nodes.get(urn)
    while node is not None:
        if not node.custom and node.type != STACK_TYPE:
            return node.urn
        node = graph.nodes.get(node.parent)
    return STACK_OWNER


def component_edges(graph: ResourceGraph) -> list[tuple[str, str]]:
    """(component, dependent component) pairs, each once, in order."""
    pairs: set[tuple[str, str]] = set()
    implied = [(g, urn) for urn, groups in graph.implied.items() for g in groups]
    for dep, urn in [*graph.edges(), *implied]:
        a, b = owner_of(graph, dep), owner_of(graph, urn)
        if a != b:
            pairs.add((a, b))
    return sorted(pairs)


def critical_components(graph: ResourceGraph, critical: Sequence[str]) -> list[str]:
    """The critical path's resources, as the chain of components they belong to."""
    chain: list[str] = []
    for urn in critical:
        owner = owner_of(graph, urn)
        if not chain or chain[-1] != owner:
            chain.append(owner)
    return chain


def mermaid_components(graph: ResourceGraph, critical: Sequence[str] = ()) -> str:
    """A Mermaid flowchart of the components, their dependencies and the critical path."""
    owners: dict[str, int] = {}
    for urn, node in graph.nodes.items():
        if node.type == STACK_TYPE:
            continue
        owner = owner_of(graph, urn)
        owners[owner] = owners.get(owner, 0) + (1 if node.custom else 0)
    ids = {urn: f"c{i}" for i, urn in enumerate(sorted(owners))}
    lines = ["flowchart LR"]
    for urn in sorted(owners):
        node = graph.nodes.get(urn)
        title = f"{node.type}<br/>{node.name}" if node else "resources of the stack itself"
        count = owners[urn]
        text = f"{title}<br/>{count} resource{'s' if count != 1 else ''}".replace('"', "#quot;")
        lines.append(f'  {ids[urn]}["{text}"]')
    chain = critical_components(graph, critical)
    chain_pairs = set(pairwise(chain))
    highlighted = []
    for index, (a, b) in enumerate(component_edges(graph)):
        lines.append(f"  {ids[a]} --> {ids[b]}")
        if (a, b) in chain_pairs:
            highlighted.append(index)
    lines.append("  classDef critical fill:#ffd8a8,stroke:#e8590c,stroke-width:3px")
    if chain:
        lines.append("  class " + ",".join(ids[u] for u in chain if u in ids) + " critical")
    if highlighted:
        lines.append("  linkStyle " + ",".join(map(str, highlighted)) + " stroke:#e8590c,stroke-width:3px")
    return "\n".join(lines) + "\n"


def write_graphs(graph: ResourceGraph, folder: Path, critical: Sequence[str] = ()) -> None:
    """graph.mmd (components) and graph-resources.mmd (every resource) under folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "graph.mmd").write_text(mermaid_components(graph, critical))
    (folder / "graph-resources.mmd").write_text(mermaid(graph, critical))
