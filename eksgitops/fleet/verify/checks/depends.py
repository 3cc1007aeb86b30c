"""`dependsOn` cycles: Flux's Kustomization (and HelmRelease) controllers wait for every
dependency to be ready, so objects that depend on each other in a ring never reconcile, whatever
else is right (kustomize-controller reports "dependency ... is not ready" forever)."""

from __future__ import annotations

from collections.abc import Iterator

from eksgitops.fleet.findings import ERROR, Finding
from eksgitops.fleet.schema import ident
from eksgitops.fleet.verify.checks.context import Applying
from eksgitops.fleet.verify.model import Applied, Key, as_dict, as_list, meta

KINDS = {
    "Kustomization": "kustomize.toolkit.fluxcd.io/",
    "HelmRelease": "helm.toolkit.fluxcd.io/",
}


def _edges(a: Applied) -> list[Key]:
    kind = str(a.obj.get("kind"))
    ns = str(meta(a.obj).get("namespace") or "")
    out = []
    for dep in as_list(as_dict(a.obj.get("spec")).get("dependsOn")):
        if isinstance(dep, dict) and isinstance(dep.get("name"), str):
            out.append((kind, str(dep.get("namespace") or ns), dep["name"]))
    return out


def check(ctx: Applying) -> Iterator[Finding]:
    for cluster, index in ctx.index.items():
        nodes = {
            k: a
            for k, a in index.items()
            if k[0] in KINDS and str(a.obj.get("apiVersion") or "").startswith(KINDS[k[0]])
        }
        graph = {k: [d for d in _edges(a) if d in nodes] for k, a in nodes.items()}
        for ring in _cycles(graph):
            first = nodes[ring[0]]
            names = " -> ".join(ident(nodes[k].obj) for k in [*ring, ring[0]])
            where = f" on {cluster}" if cluster else ""
            yield Finding(
                first.file,
                f"dependsOn cycle{where}: {names}; Flux waits on each of them forever and none reconciles",
                ERROR,
            )


def _cycles(graph: dict[Key, list[Key]]) -> list[list[Key]]:
    """One ring per strongly connected group of more than one object (or an object that depends
    on itself), as the shortest loop through its smallest member, in a stable order. Iterative,
    so a long chain cannot exhaust the stack."""
    index: dict[Key, int] = {}
    low: dict[Key, int] = {}
    on_stack: set[Key] = set()
    stack: list[Key] = []
    groups: list[list[Key]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[Key, int]] = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            edges = graph[node]
            if i < len(edges):
                work.append((node, i + 1))
                nxt = edges[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1 or node in graph[node]:
                    groups.append(sorted(group))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return sorted(_ring(graph, set(g), g[0]) for g in groups)


def _ring(graph: dict[Key, list[Key]], members: set[Key], start: Key) -> list[Key]:
    """The shortest path from `start` back to itself inside its group (breadth first)."""
    came: dict[Key, Key] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in graph[node]:
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came[path[-1]])
                    return path[::-1]
                if nxt in members and nxt not in came:
                    came[nxt] = node
                    following.append(nxt)
        frontier = following
    return [start]
