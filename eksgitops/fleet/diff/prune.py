"""What the agents really delete when an object leaves Git.

Flux (kustomize-controller): a Kustomization with `spec.prune: true` deletes what left its
inventory, except objects annotated `kustomize.toolkit.fluxcd.io/prune: disabled`. A
Kustomization that is itself deleted takes its objects with it according to `spec.deletionPolicy`
(MirrorPrune, the default: as `spec.prune`; Delete and WaitForTermination: always; Orphan: never).

Argo CD: an Application deletes what left Git only when its sync is automated with
`prune: true`, except objects with the sync option `Prune=false`. A deleted Application
deletes its objects only with the `resources-finalizer.argocd.argoproj.io` finalizer (objects
with the sync option `Delete=false` stay).

Whoever is not in the walk's objects is the agent's own root (the FluxInstance's Kustomization,
the root Application bootstrap installs), which prunes.
"""

from __future__ import annotations

from typing import Any

from eksgitops.fleet.verify.model import as_dict, as_list, meta

FLUX_PRUNE_ANNOTATION = "kustomize.toolkit.fluxcd.io/prune"
ARGO_SYNC_OPTIONS = "argocd.argoproj.io/sync-options"
ARGO_FINALIZERS = (
    "resources-finalizer.argocd.argoproj.io",
    "resources-finalizer.argocd.argoproj.io/background",
)


def is_flux(owner: dict[str, Any]) -> bool:
    return owner.get("kind") == "Kustomization"


def prunes(owner: dict[str, Any] | None) -> bool:
    """Whether `owner` deletes what leaves its part of Git (None: the agent's root, which does)."""
    if owner is None:
        return True
    spec = as_dict(owner.get("spec"))
    if is_flux(owner):
        return spec.get("prune") is True
    automated = as_dict(spec.get("syncPolicy")).get("automated")
    return isinstance(automated, dict) and automated.get("prune") is True


def deletes_when_deleted(owner: dict[str, Any]) -> bool:
    """Whether deleting `owner` deletes the objects it applied."""
    if is_flux(owner):
        policy = as_dict(owner.get("spec")).get("deletionPolicy") or "MirrorPrune"
        if policy in ("Delete", "WaitForTermination"):
            return True
        return policy == "MirrorPrune" and prunes(owner)
    return any(f in ARGO_FINALIZERS for f in as_list(meta(owner).get("finalizers")))


def _sync_options(obj: dict[str, Any]) -> list[str]:
    value = as_dict(meta(obj).get("annotations")).get(ARGO_SYNC_OPTIONS)
    return [o.strip() for o in value.split(",")] if isinstance(value, str) else []


def kept_on_prune(obj: dict[str, Any], owner: dict[str, Any] | None) -> bool:
    """The object opts out of its owner's pruning (None: the agent's root, Flux's or Argo CD's)."""
    flux = as_dict(meta(obj).get("annotations")).get(FLUX_PRUNE_ANNOTATION) == "disabled"
    if owner is None:
        return flux or "Prune=false" in _sync_options(obj)
    return flux if is_flux(owner) else "Prune=false" in _sync_options(obj)


def kept_on_delete(obj: dict[str, Any], owner: dict[str, Any]) -> bool:
    """The object stays when its owner is deleted."""
    if is_flux(owner):
        return as_dict(meta(obj).get("annotations")).get(FLUX_PRUNE_ANNOTATION) == "disabled"
    return "Delete=false" in _sync_options(obj)


def force(owner: dict[str, Any] | None) -> bool:
    """The owner recreates an object whose immutable field changed instead of failing."""
    if owner is None:
        return False
    spec = as_dict(owner.get("spec"))
    if is_flux(owner):
        return spec.get("force") is True
    options = [str(o) for o in as_list(as_dict(spec.get("syncPolicy")).get("syncOptions"))]
    return "Replace=true" in options or "Force=true" in options
