"""What gets applied, in order: from the environment's root, every Flux Kustomization and Argo CD
Application whose source is this repository, breadth first, as the agent would reach them.

The walk does not know how an agent builds an object: it is handed the agents' rules
(`agent.AgentRules`, listed in `agents.AGENTS`) and asks the one that handles each object.

The walk runs twice: the first pass learns every object, so that a lookup (a source, a
substituteFrom ConfigMap) never depends on the order in which Kustomizations were reached.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eksgitops.fleet import flux_build
from eksgitops.fleet.findings import ERROR, Report
from eksgitops.fleet.kustomize_engine import Engine
from eksgitops.fleet.schema import ident
from eksgitops.fleet.scratch_copy import Workspace
from eksgitops.fleet.verify.agent import AgentRules, Planned
from eksgitops.fleet.verify.builds import Builder
from eksgitops.fleet.verify.model import (
    LOCAL,
    Applied,
    Key,
    Tree,
    as_dict,
    as_list,
    key,
    normalize_url,
)
from eksgitops.fleet.verify.request import Resolved, VerifyRequest


class Walk:
    """One traversal of a scratch copy of the checkout, with the agents' `rules` (a `WalkState`)."""

    def __init__(
        self,
        ws: Workspace,
        request: VerifyRequest,
        resolved: Resolved,
        engine: Engine,
        changed: frozenset[str] | None = None,
        *,
        rules: Sequence[AgentRules],
    ) -> None:
        if not rules:
            raise ValueError("rules: the walk needs at least one agent's rules")
        self.rules = tuple(rules)
        self.request = request
        self.agent = resolved.agent
        self.variables = resolved.variables
        self.engine = engine
        self.ws = ws
        self.repo = Tree(ws.root, "repository")
        self.urls = {normalize_url(u) for u in resolved.repo_urls}
        self.builds: dict[str, flux_build.Built] = {}
        self.builder = Builder(engine, ws.root, ws.symlinks, use_cache=request.use_cache, changed=changed)
        self.artifacts: dict[tuple[str, str], Tree | None] = {}
        self.previous: dict[Key, dict[str, Any]] = {}
        self.current: dict[Key, dict[str, Any]] = {}
        self.files: dict[Key, str] = {}
        """The repository file each object came from (for findings about a generator's rules)."""
        self.refused: dict[tuple[str, str], list[str]] = {}
        self.rendered: dict[str, Any] = {}
        """ExternalArtifacts not composed because a copy rule was refused, with the reasons."""

    def build(
        self, cache_key: str, directory: Path, root: Path, spec: dict[str, Any], flux_restrictor: bool
    ) -> flux_build.Built:
        """The build of `directory` for `spec`, once per walk."""
        built = self.builds.get(cache_key)
        if built is None:
            built = self.builder.build(directory, root, spec, flux_restrictor)
            self.builds[cache_key] = built
        return built

    def _prefetch(self, wave: list[tuple[dict[str, Any], str, str]]) -> None:
        """Build the Kustomizations of one level of the walk together, before they are applied
        in order: none of them changes what another one builds."""
        jobs: dict[str, tuple[Path, dict[str, Any]]] = {}
        for obj, _, _ in wave:
            rules = self.rules_for(obj)
            planned: Planned | None = rules.planned(self, obj) if rules is not None else None
            if planned is not None and planned[0] not in self.builds:
                jobs.setdefault(planned[0], (planned[1], planned[2]))
        if len(jobs) > 1:
            for cache_key, built in zip(jobs, self.builder.build_many(list(jobs.values())), strict=True):
                self.builds[cache_key] = built

    def run(self) -> tuple[list[Applied], Report]:
        """Everything the agent would apply, and the findings met on the way."""
        self._pass(Report())
        self.previous = dict(self.current)
        self.current = {}
        report = Report()
        return self._pass(report), report

    def lookup(self, kind: str, ns: str, name: str) -> dict[str, Any] | None:
        k = (kind, ns, name)
        return self.current.get(k) or self.previous.get(k)

    def objects(self) -> dict[Key, dict[str, Any]]:
        return {**self.previous, **self.current}

    def rules_for(self, obj: dict[str, Any]) -> AgentRules | None:
        """The rules of the agent that builds `obj`, or None when it is not wiring."""
        return next((r for r in self.rules if r.handles(obj)), None)

    def root_object(self) -> dict[str, Any]:
        """What the agent itself syncs: the FluxInstance's Kustomization, or the root Application."""
        own = next((r for r in self.rules if r.name == self.agent), self.rules[0])
        return own.root(self.request.env_path)

    def _pass(self, report: Report) -> list[Applied]:
        queue: list[tuple[dict[str, Any], str, str]] = [(self.root_object(), self.request.env_path, LOCAL)]
        seen: set[tuple[str, str, str, str]] = set()
        applied: list[Applied] = []
        while queue:
            # One level of the walk at a time (the same order as one queue): its builds run together.
            wave, queue = queue, []
            self._prefetch(wave)
            for obj, file, cluster in wave:
                self._apply(obj, file, cluster, seen, applied, queue, report)
        return applied

    def _apply(
        self,
        obj: dict[str, Any],
        file: str,
        cluster: str,
        seen: set[tuple[str, str, str, str]],
        applied: list[Applied],
        queue: list[tuple[dict[str, Any], str, str]],
        report: Report,
    ) -> None:
        k = (*key(obj), cluster)
        if k in seen:
            return
        seen.add(k)
        rules = self.rules_for(obj)
        if rules is None:
            return
        try:
            produced = rules.apply(self, obj, file, cluster, report)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            # One object verify cannot follow must not hide what the others apply.
            report.add(file, f"{ident(obj)}: verify could not build it: {exc}", ERROR)
            return
        for item in produced:
            applied.append(item)
            if item.cluster != LOCAL:
                continue
            self.current.setdefault(key(item.obj), item.obj)
            self.files.setdefault(key(item.obj), item.file)
            if self.rules_for(item.obj) is not None:
                queue.append((item.obj, item.file, item.cluster))

    # -- what the checks ask about sources ---------------------------------------------------------
    def fluxinstance_sync(self, kind: str, ns: str, name: str) -> bool:
        for k, obj in self.objects().items():
            if k[0] == "FluxInstance" and k[1] == ns:
                sync = as_dict(as_dict(obj.get("spec")).get("sync"))
                if sync.get("kind") == kind and (sync.get("name") or "flux-system") == name:
                    return True
        return False

    def generator_of(self, ns: str, name: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        for k, obj in self.objects().items():
            if k[0] != "ArtifactGenerator" or k[1] != ns:
                continue
            for artifact in as_list(as_dict(obj.get("spec")).get("artifacts")):
                if isinstance(artifact, dict) and artifact.get("name") == name:
                    return obj, artifact
        return None
