"""The seam between the walk and the agents' own rules.

walk.py knows the order in which objects are reached, never how an agent builds one of them;
flux.py and argo.py know how Flux's kustomize-controller and Argo CD build what they point at,
never the traversal. Both sides meet here: an agent module implements `AgentRules` against a
`WalkState`, and the walk is handed the rules it runs (`verify.agents.AGENTS`), so neither imports
the other. A caller that wants the objects of each Kustomization or Application (`fleet diff`)
uses the same walk with the same rules: every `Applied` carries its `owner`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from eksgitops.fleet import flux_build
from eksgitops.fleet.findings import Report
from eksgitops.fleet.verify.model import Applied, Key, Tree
from eksgitops.fleet.verify.request import VerifyRequest

if TYPE_CHECKING:
    from eksgitops.fleet.scratch_copy import Workspace

Planned = tuple[str, Path, dict[str, Any]]
"""(walk build key, folder, Kustomization spec) of a build that can run ahead of its turn."""


class WalkState(Protocol):
    """What an agent's rules (and the checks) may read and ask of the walk in progress."""

    request: VerifyRequest
    agent: str
    variables: Mapping[str, str]
    ws: Workspace
    repo: Tree
    urls: set[str]
    builds: dict[str, flux_build.Built]
    files: dict[Key, str]
    artifacts: dict[tuple[str, str], Tree | None]
    refused: dict[tuple[str, str], list[str]]
    rendered: dict[str, Any]
    """Memo of the agents' rules for what they render from a build (per walk)."""

    def build(
        self, cache_key: str, directory: Path, root: Path, spec: dict[str, Any], flux_restrictor: bool
    ) -> flux_build.Built: ...

    def lookup(self, kind: str, ns: str, name: str) -> dict[str, Any] | None: ...

    def objects(self) -> dict[Key, dict[str, Any]]: ...

    def fluxinstance_sync(self, kind: str, ns: str, name: str) -> bool: ...

    def generator_of(self, ns: str, name: str) -> tuple[dict[str, Any], dict[str, Any]] | None: ...


class AgentRules(Protocol):
    """How one agent builds the objects that tell it what to apply (its "wiring")."""

    name: str
    """The agent's name as `--agent` and the stack's `gitops.agent` spell it."""

    def handles(self, obj: dict[str, Any]) -> bool:
        """Whether `obj` is one of this agent's wiring objects, to be built in its turn."""
        ...

    def root(self, env_path: str) -> dict[str, Any]:
        """The object the agent itself syncs for an environment at `env_path`."""
        ...

    def planned(self, walk: WalkState, obj: dict[str, Any]) -> Planned | None:
        """The build `apply` will ask for when it can run ahead, with the others of its level."""
        ...

    def apply(
        self, walk: WalkState, obj: dict[str, Any], file: str, cluster: str, report: Report
    ) -> list[Applied]:
        """What `obj` applies, each with its repository file, owner and cluster."""
        ...
