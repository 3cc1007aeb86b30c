"""What one verify run is asked: built once from the CLI flags or from `bridge.json`, never reshaped."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from eksgitops.fleet import layout, scaffold
from eksgitops.fleet.schema import PLACEHOLDER
from eksgitops.fleet.stack_bridge import StackBridge

CrossNamespaceRefs = Literal["refused", "allowed", "unknown"]
"""FLUX-LOCKDOWN: the controllers run with `--no-cross-namespace-refs` ("refused", the agent's
default), the stack allows such references ("allowed"), or nobody said ("unknown")."""


def _known(value: str) -> str:
    # Plan placeholders stand for values only the cluster knows.
    return value if value and "(known after apply" not in value else PLACEHOLDER


@dataclass(frozen=True)
class VerifyRequest:
    """One environment of one checkout to verify, and what the infrastructure provides to it."""

    env_path: str
    """The path the FluxInstance or the root Application syncs, e.g. `clusters/dev`."""
    env: str | None = None
    """The environment, whose `.eksgitops/<env>.yaml` (what bootstrap recorded) is read when present."""
    agent: str | None = None
    """`flux` (a Flux installed by the Flux Operator) or `argocd`; None: as bootstrap recorded it,
    else the stack's agent, else flux."""
    stack_agent: str | None = None
    repo_urls: frozenset[str] = frozenset()
    """URLs by which Flux GitRepositories and Argo CD Applications name this repository."""
    variables: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """The bridge ConfigMap flux-system/cluster-vars: name -> value (PLACEHOLDER when unknown offline)."""
    stack: str | None = None
    """Set when the variables come from `build/<stack>/bridge.json`: a missing variable is an error."""
    stack_file: str = ""
    stack_identities: tuple[str, ...] | None = None
    """The stack's workload identities (with a stack): every identity the layout recorded must be one."""
    cross_namespace_refs: CrossNamespaceRefs = "unknown"
    since: str | None = None
    """A revision: only builds whose files changed since it (and what depends on them) are rebuilt."""
    use_cache: bool = True
    """Take builds from the build cache (build_cache.py) and keep new ones there."""
    root: str = ""
    """The folder of the checkout that is the root of the source the agent syncs (an OCI artifact
    pushed from a subfolder, a GitRepository of a subfolder); "" for the repository's root."""
    revisions: frozenset[str] = frozenset()
    """What the verified revision is called: its branch (or tag) and its commit sha. A Flux
    GitRepository or an Argo CD Application that names this repository at another branch, tag,
    semver range or commit is then listed as not checked instead of built from this checkout.
    Empty: not known (a folder given to the library), and every such source is built from it."""
    kubernetes_version: str | None = None
    """The cluster's Kubernetes minor version (`1.36`): objects are checked against its built-in
    schemas (`schema.kubernetes_versions()`); None: the newest shipped."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "env_path", self.env_path.strip("/") or ".")
        object.__setattr__(self, "variables", MappingProxyType(dict(self.variables)))

    @classmethod
    def from_flags(
        cls,
        env_path: str,
        *,
        env: str | None = None,
        agent: str | None = None,
        repo_urls: Iterable[str] = (),
        identities: Iterable[str] = (),
        variables: Iterable[str] = (),
        cross_namespace_refs: CrossNamespaceRefs = "unknown",
        since: str | None = None,
        kubernetes_version: str | None = None,
    ) -> VerifyRequest:
        """Without a stack: the bridge's documented keys, `<identity>_role_arn` per identity (and per
        identity the layout recorded), and `--var`s."""
        names = set(layout.bridge_vars(list(identities))) | set(variables)
        return cls(
            env_path,
            env=env,
            agent=agent,
            repo_urls=frozenset(u for u in repo_urls if u),
            variables=dict.fromkeys(sorted(names), PLACEHOLDER),
            cross_namespace_refs=cross_namespace_refs,
            since=since,
            kubernetes_version=kubernetes_version,
        )

    @classmethod
    def from_stack(
        cls,
        bridge: StackBridge,
        env_path: str,
        *,
        env: str | None = None,
        agent: str | None = None,
        repo_urls: Iterable[str] = (),
        since: str | None = None,
        kubernetes_version: str | None = None,
    ) -> VerifyRequest:
        """Exactly what `build/<stack>/bridge.json` lists, values included (a `kubernetes_version`
        given here wins over the bridge's)."""
        return cls(
            env_path,
            env=env,
            agent=agent,
            stack_agent=bridge.agent,
            repo_urls=frozenset(u for u in (*repo_urls, bridge.repo_url) if u),
            variables={k: _known(v) for k, v in bridge.variables.items()},
            stack=bridge.stack,
            stack_file=bridge.file,
            stack_identities=tuple(bridge.identities),
            cross_namespace_refs="allowed" if bridge.cross_namespace_refs else "refused",
            since=since,
            kubernetes_version=kubernetes_version or bridge.kubernetes_version,
        )


@dataclass(frozen=True)
class Resolved:
    """The request completed with what the checkout itself records (`.eksgitops/<env>.yaml`)."""

    agent: str
    variables: Mapping[str, str]
    repo_urls: frozenset[str]
    recorded_identities: tuple[str, ...]


def resolve(request: VerifyRequest, root: Path, clone_urls: Iterable[str] = ()) -> Resolved:
    """The agent, variables and URLs verify runs with on the checkout at `root`."""
    state = scaffold.load_states(root).get(request.env, {}) if request.env else {}
    recorded = tuple(str(i) for i in state.get("identities") or [])
    agent = request.agent or str(state.get("agent") or request.stack_agent or "flux")
    if agent == "eks-argocd":
        agent = "argocd"  # AWS's managed Argo CD syncs the same layout
    if agent not in layout.AGENTS:
        agent = "flux"
    variables = dict(request.variables)
    if request.stack is None:
        for name in layout.bridge_vars(list(recorded)):
            variables.setdefault(name, PLACEHOLDER)
    return Resolved(agent, variables, request.repo_urls | {u for u in clone_urls if u}, recorded)
