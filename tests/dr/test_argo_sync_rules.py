"""Argo CD sync status (argocd and eks-argocd): only Applications whose single source is the fleet
repository are compared to the commit; Helm-repository and multi-source Applications are judged
by Synced and Healthy. Read through the real client from the fake API server."""

from __future__ import annotations

from typing import Any

import pytest

from eksgitops.dr.cluster_api import APPLICATION, KubernetesClusterApi
from eksgitops.dr.sync_status import agent_probe, workloads_probe
from tests.simworld.cluster import application, healthy
from tests.simworld.kube_server import FakeKubeServer

SHA = "c" * 40
FLEET = "https://github.com/example/fleet.git"


def helm_app(version: str = "1.2.3", sync: str = "Synced", health: str = "Healthy") -> dict[str, Any]:
    return {
        "metadata": {"name": "ingress-nginx", "namespace": "argocd"},
        "spec": {
            "source": {"repoURL": "https://kubernetes.github.io/ingress-nginx", "chart": "ingress-nginx"}
        },
        "status": {"sync": {"status": sync, "revision": version}, "health": {"status": health}},
    }


def multi_source_app(health: str = "Healthy") -> dict[str, Any]:
    return {
        "metadata": {"name": "monitoring", "namespace": "argocd"},
        "spec": {
            "sources": [{"repoURL": FLEET, "path": "x"}, {"repoURL": "https://charts.example", "chart": "y"}]
        },
        "status": {"sync": {"status": "Synced", "revisions": [SHA, "4.5.6"]}, "health": {"status": health}},
    }


@pytest.fixture(params=["argocd", "eks-argocd"])
def argo(request, kube_server: FakeKubeServer) -> tuple[str, FakeKubeServer, KubernetesClusterApi]:
    healthy(kube_server, request.param, SHA, repo_url=FLEET + "/")  # a trailing slash is the same repo
    return request.param, kube_server, KubernetesClusterApi(kube_server.kubeconfig())


def test_helm_and_multi_source_applications_are_judged_by_synced_and_healthy(argo):
    agent, server, api = argo
    server.add(APPLICATION, helm_app())
    server.add(APPLICATION, multi_source_app())
    probe = workloads_probe(api, agent, SHA, repo_url=FLEET)
    assert probe.done, probe.seen
    assert agent_probe(api, agent).done


def test_an_unhealthy_helm_application_still_holds_things_up(argo):
    agent, server, api = argo
    server.add(APPLICATION, helm_app(health="Progressing"))
    probe = workloads_probe(api, agent, SHA, repo_url=FLEET)
    assert not probe.done and probe.subject == "Application argocd/ingress-nginx"
    assert "expected Synced and Healthy" in probe.seen


def test_a_fleet_application_at_another_commit_is_not_synced(argo):
    agent, server, api = argo
    server.add(APPLICATION, application("late", "d" * 40, FLEET))
    probe = workloads_probe(api, agent, SHA, repo_url=FLEET)
    assert not probe.done and probe.subject == "Application argocd/late"
    assert f"expected Synced at {SHA[:12]} and Healthy" in probe.seen


def test_an_application_of_another_git_repository_is_not_compared_to_the_fleet_commit(argo):
    agent, server, api = argo
    server.add(APPLICATION, application("vendor", "d" * 40, "https://github.com/vendor/manifests.git"))
    assert workloads_probe(api, agent, SHA, repo_url=FLEET).done


def test_eks_argocd_is_not_judged_as_flux(kube_server: FakeKubeServer):
    """eks-argocd runs no FluxInstance and no repo server in the cluster: its Applications count."""
    healthy(kube_server, "eks-argocd", SHA, repo_url=FLEET)
    api = KubernetesClusterApi(kube_server.kubeconfig())
    assert agent_probe(api, "eks-argocd").done
    assert workloads_probe(api, "eks-argocd", SHA, repo_url=FLEET).done
