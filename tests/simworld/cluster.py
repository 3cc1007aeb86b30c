"""Populate a `FakeKubeServer` as a healthy cluster of an agent, and hooks that play time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eksgitops.dr.cluster_api import (
    APPLICATION,
    CONFIG_MAP,
    DEPLOYMENT,
    FLUX_INSTANCE,
    GATEWAY,
    GIT_REPOSITORY,
    HELM_RELEASE,
    INGRESS,
    KUSTOMIZATION,
    NAMESPACE,
    NODE,
    SECRET,
    SERVICE,
    Kind,
)
from tests.simworld.kube_server import FakeKubeServer, Request

CORE_KINDS = (CONFIG_MAP, SECRET, SERVICE, NAMESPACE, NODE, DEPLOYMENT, INGRESS)
FLUX_KINDS = (FLUX_INSTANCE, KUSTOMIZATION, GIT_REPOSITORY, HELM_RELEASE)


def ready(status: str = "True", reason: str = "ReconciliationSucceeded") -> list[dict[str, str]]:
    return [{"type": "Ready", "status": status, "reason": reason, "message": ""}]


def healthy(
    server: FakeKubeServer,
    agent: str,
    sha: str,
    bridge: Mapping[str, str] | None = None,
    *,
    nodes: int = 2,
    branch: str = "main",
    repo_url: str = "https://github.com/example/fleet.git",
) -> FakeKubeServer:
    """Nodes Ready, the agent up, its objects at `sha`, the bridge where the agent reads it."""
    server.serve(*CORE_KINDS)
    for i in range(nodes):
        server.add(NODE, {"metadata": {"name": f"node-{i}"}, "status": {"conditions": ready()}})
    if agent in ("argocd", "eks-argocd"):
        server.serve(APPLICATION)
        if agent == "argocd":
            server.add(
                DEPLOYMENT,
                {
                    "metadata": {"name": "argocd-repo-server", "namespace": "argocd"},
                    "status": {"readyReplicas": 1, "conditions": [{"type": "Available", "status": "True"}]},
                },
            )
        for name in ("root", "apps"):
            server.add(APPLICATION, application(name, sha, repo_url))
        server.add(
            SECRET,
            {
                "metadata": {
                    "name": "in-cluster",
                    "namespace": "argocd",
                    "labels": {"argocd.argoproj.io/secret-type": "cluster"},
                    "annotations": dict(bridge or {}),
                }
            },
        )
        return server
    server.serve(*FLUX_KINDS)
    server.add(
        FLUX_INSTANCE,
        {"metadata": {"name": "flux", "namespace": "flux-system"}, "status": {"conditions": ready()}},
    )
    for name in ("flux-system", "apps"):
        server.add(KUSTOMIZATION, kustomization(name, f"{branch}@sha1:{sha}"))
    server.add(
        CONFIG_MAP,
        {"metadata": {"name": "cluster-vars", "namespace": "flux-system"}, "data": dict(bridge or {})},
    )
    return server


def kustomization(name: str, revision: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "flux-system"},
        "status": {"conditions": ready(), "lastAppliedRevision": revision},
    }


def application(name: str, sha: str, repo_url: str, health: str = "Healthy") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {"source": {"repoURL": repo_url, "path": f"clusters/{name}", "targetRevision": "main"}},
        "status": {"sync": {"status": "Synced", "revision": sha}, "health": {"status": health}},
    }


def set_revision(server: FakeKubeServer, agent: str, sha: str, branch: str = "main") -> None:
    """Every Kustomization/Application now reports `sha` (the agent applied a new commit)."""
    if agent in ("argocd", "eks-argocd"):
        for app in server.items(APPLICATION):
            app["status"]["sync"]["revision"] = sha
        return
    for ks in server.items(KUSTOMIZATION):
        ks["status"]["lastAppliedRevision"] = f"{branch}@sha1:{sha}"


def after_requests(count: int, action: Any) -> Any:
    """A hook that runs `action(server)` once, on the `count`-th request."""
    seen = [0]

    def hook(server: FakeKubeServer, req: Request) -> None:
        seen[0] += 1
        if seen[0] == count:
            action(server)

    return hook


def remove_on_delete(kind: Kind) -> Any:
    """A hook playing a controller: objects of `kind` being deleted lose their finalizers."""

    def hook(server: FakeKubeServer, req: Request) -> None:
        for obj in server.items(kind):
            meta = obj["metadata"]
            if meta.get("deletionTimestamp") and meta.get("finalizers"):
                meta["finalizers"] = []
        for key, obj in list(server.objects.items()):
            meta = obj["metadata"]
            if meta.get("deletionTimestamp") and not meta.get("finalizers"):
                del server.objects[key]

    return hook


__all__ = ["GATEWAY", "after_requests", "healthy", "remove_on_delete", "set_revision"]
