"""What the walk produces and the checks read: applied objects, source trees, small accessors."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FLUX_KS_SERVED = "kustomize.toolkit.fluxcd.io/v1"
ARGO_APP = "argoproj.io/v1alpha1"
AGENT_SOURCES = {
    ("GitRepository", "flux-system", "flux-system"),
    ("OCIRepository", "flux-system", "flux-system"),
}
AGENT_OBJECTS = AGENT_SOURCES | {("Kustomization", "flux-system", "flux-system")}
BRIDGE_REF = ("ConfigMap", "flux-system", "cluster-vars")
EVERY_CLUSTER_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}
AGENT_NAMESPACE = {"flux": "flux-system", "argocd": "argocd"}
IN_CLUSTER = {"https://kubernetes.default.svc", "https://kubernetes.default.svc/"}
LOCAL = ""
"""The cluster the agent runs in; other clusters are named by who deploys to them."""
FLUX_KINDS = {
    "Kustomization",
    "HelmRelease",
    "GitRepository",
    "OCIRepository",
    "HelmRepository",
    "HelmChart",
    "Bucket",
    "ExternalArtifact",
    "ArtifactGenerator",
}
THIS_REPO = "eksgitops:this-repository"
WELL_KNOWN_CLUSTER_SCOPED = frozenset(
    {
        ("cert-manager.io", "ClusterIssuer"),
        ("external-secrets.io", "ClusterSecretStore"),
        ("external-secrets.io", "ClusterExternalSecret"),
        ("generators.external-secrets.io", "ClusterGenerator"),
        ("kyverno.io", "ClusterPolicy"),
        ("kyverno.io", "ClusterCleanupPolicy"),
        ("karpenter.sh", "NodePool"),
        ("karpenter.k8s.aws", "EC2NodeClass"),
        ("trust.cert-manager.io", "Bundle"),
        ("snapshot.storage.k8s.io", "VolumeSnapshotClass"),
        ("snapshot.storage.k8s.io", "VolumeSnapshotContent"),
        ("gateway.networking.k8s.io", "GatewayClass"),
        ("templates.gatekeeper.sh", "ConstraintTemplate"),
    }
)
"""Cluster-scoped kinds of CRDs that charts install (so the layout carries no CRD to read the scope
from): kustomize gives them the targetNamespace like any unknown kind; the API server ignores it."""

Key = tuple[str, str, str]
"""(kind, namespace, name)."""


@dataclass
class Applied:
    """An object the agent would apply, where it came from and who applies it."""

    obj: dict[str, Any]
    file: str
    owner: str
    cluster: str
    decrypts: bool = False
    argo: bool = False


@dataclass
class Tree:
    """Content of a source on disk; `origin` maps composed files back to repository files."""

    root: Path
    label: str
    origin: dict[str, str] | None = None

    def display(self, rel: str) -> str:
        if self.origin is None:
            return rel
        if rel in self.origin:
            return self.origin[rel]
        return f"{self.label}:{rel}"


def normalize_url(url: str) -> str:
    """Compare repository URLs loosely: scheme, credentials, `.git` and slashes don't matter."""
    url = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", url.strip())
    url = re.sub(r"^[^/@]+@", "", url)
    url = re.sub(r"^([^/:]+):(?!\d)", r"\1/", url)  # scp-like git@host:org/repo
    return url.removesuffix("/").removesuffix(".git").lower()


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def meta(obj: dict[str, Any]) -> dict[str, Any]:
    return as_dict(obj.get("metadata"))


def key(obj: dict[str, Any]) -> Key:
    m = meta(obj)
    return (str(obj.get("kind") or ""), str(m.get("namespace") or ""), str(m.get("name") or ""))


def build_key(*parts: Any) -> str:
    """Two builds with the same key render the same objects within one walk."""
    return json.dumps(parts, sort_keys=True, default=str)
