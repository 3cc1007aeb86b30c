"""EKS managed add-on versions per Kubernetes version, from `components/data/addon_versions.json`.

Two users: `ClusterAddons` installs `default_addon_version()` when a stack pins nothing, so
an add-on moves with `kubernetesVersion` (an `aws.eks.Addon` without a version keeps the
one EKS chose at creation forever); the spec refuses a pin that is not in
`known_addon_versions()` for the cluster's version, because EKS refuses a version it does
not offer for that Kubernetes version only minutes into an apply.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def addon_versions() -> dict[str, Any]:
    """The data file, parsed once."""
    text = resources.files("components").joinpath("data/addon_versions.json").read_text()
    return json.loads(text)


def _entry(addon: str, kubernetes_version: str) -> dict[str, Any] | None:
    return addon_versions()["versions"].get(kubernetes_version, {}).get(addon)


def default_addon_version(addon: str, kubernetes_version: str) -> str | None:
    """The version installed when unpinned; None when the data has no entry (EKS's default then)."""
    entry = _entry(addon, kubernetes_version)
    return entry["default"] if entry else None


def known_addon_versions(addon: str, kubernetes_version: str) -> list[str] | None:
    """The versions known to be offered for this Kubernetes version; None when the data has no entry."""
    entry = _entry(addon, kubernetes_version)
    return list(entry["known"]) if entry else None
