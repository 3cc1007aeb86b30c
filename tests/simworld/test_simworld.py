"""The simulated world itself: the real Kubernetes client reaches the fake server, faults fire,
and the fake Pulumi backend keeps state between workspaces."""

from __future__ import annotations

import pytest

from eksgitops.dr.cluster_api import (
    APPLICATION,
    KUSTOMIZATION,
    NODE,
    ClusterApiError,
    KindNotServed,
    KubernetesClusterApi,
)
from eksgitops.dr.pulumi_workspace import ConcurrentUpdate, StackNotFound, WorkspaceError
from tests.simworld.cluster import healthy
from tests.simworld.kube_server import FakeKubeServer
from tests.simworld.pulumi_fake import SimBackend, SimWorkspace

SHA = "a" * 40


def test_the_real_client_reads_patches_and_deletes_on_the_fake_server(kube_server: FakeKubeServer):
    healthy(kube_server, "flux", SHA)
    api = KubernetesClusterApi(kube_server.kubeconfig())
    assert len(api.list(NODE)) == 2
    ks = api.get(KUSTOMIZATION, "apps", "flux-system")
    assert ks and ks["status"]["lastAppliedRevision"] == f"main@sha1:{SHA}"
    assert api.get(KUSTOMIZATION, "missing", "flux-system") is None
    with pytest.raises(KindNotServed):
        api.list(APPLICATION)
    api.patch(KUSTOMIZATION, "apps", "flux-system", {"spec": {"suspend": True}})
    patched = kube_server.get(KUSTOMIZATION, "apps", "flux-system")
    assert patched and patched["spec"] == {"suspend": True}
    api.delete(KUSTOMIZATION, "apps", "flux-system")
    assert kube_server.get(KUSTOMIZATION, "apps", "flux-system") is None
    assert [r.method for r in kube_server.calls()].count("PATCH") == 1


@pytest.mark.parametrize("fault", ["throttle", "drop", "error"])
def test_faults_reach_the_client_as_a_cluster_api_error(kube_server: FakeKubeServer, fault: str):
    healthy(kube_server, "flux", SHA)
    kube_server.fault = lambda req: fault
    with pytest.raises(ClusterApiError):
        KubernetesClusterApi(kube_server.kubeconfig()).list(NODE)


def test_a_wrong_token_is_refused(kube_server: FakeKubeServer):
    healthy(kube_server, "flux", SHA)
    config = kube_server.kubeconfig()
    config["users"][0]["user"]["token"] = "wrong"
    with pytest.raises(ClusterApiError, match="401"):
        KubernetesClusterApi(config).list(NODE)


def test_the_backend_keeps_state_between_workspaces_and_its_faults_fire():
    backend = SimBackend(program=[("t:a", "a"), ("t:b", "b"), ("t:c", "c")], fail_up_after=1)
    first = SimWorkspace(backend)
    with pytest.raises(StackNotFound):
        first.select("dev", create=False)
    first.select("dev")
    with pytest.raises(WorkspaceError, match="creating b"):
        first.up(lambda e: None)
    again = SimWorkspace(backend)
    again.select("dev", create=False)
    assert again.pending_operations() == ["creating urn:pulumi:dev::eksgitops::t:b::b"]
    with pytest.raises(WorkspaceError, match="pending operations"):
        again.up(lambda e: None)
    backend.lease_held_by = "a crashed update"
    with pytest.raises(ConcurrentUpdate):
        again.refresh(lambda e: None, clear_pending_creates=True)
    again.cancel()
    again.refresh(lambda e: None, clear_pending_creates=True)
    again.up(lambda e: None)
    assert len(backend.stacks["dev"].resources) == 3
