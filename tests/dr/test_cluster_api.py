"""The real `KubernetesClusterApi` (the official client) against a small HTTP server speaking the
Kubernetes REST paths: URLs, bearer token from the kubeconfig, merge-patch content type, 404s."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from eksgitops.dr.cluster_api import (
    CONFIG_MAP,
    FLUX_INSTANCE,
    GATEWAY,
    KUSTOMIZATION,
    NODE,
    SERVICE,
    ClusterApiError,
    KindNotServed,
    KubernetesClusterApi,
)

CM = {"metadata": {"name": "cluster-vars", "namespace": "flux-system"}, "data": {"region": "eu-west-1"}}


class ApiServer(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]] = []

    def _answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _record(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        ApiServer.requests.append(
            {
                "method": self.command,
                "path": self.path,
                "auth": self.headers.get("Authorization"),
                "type": self.headers.get("Content-Type"),
                "body": body,
            }
        )

    def do_GET(self) -> None:
        self._record()
        routes = {
            "/api/v1/namespaces/flux-system/configmaps/cluster-vars": (200, CM),
            "/api/v1/nodes": (200, {"items": [{"metadata": {"name": "n1"}}]}),
            "/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations": (
                200,
                {"items": [{"metadata": {"name": "apps"}}]},
            ),
            "/api/v1/namespaces/flux-system/configmaps/missing": (
                404,
                {"kind": "Status", "code": 404, "details": {"name": "missing", "kind": "configmaps"}},
            ),
            "/apis/fluxcd.controlplane.io/v1": (404, {"kind": "Status", "code": 404}),
            "/api/v1/services": (403, {"kind": "Status", "code": 403, "message": "services is forbidden"}),
        }
        status, body = routes.get(self.path, (404, {"kind": "Status", "code": 404}))
        self._answer(status, body)

    def do_PATCH(self) -> None:
        self._record()
        self._answer(200, {})

    def do_DELETE(self) -> None:
        self._record()
        self._answer(404 if self.path.endswith("/gone") else 200, {})

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def api() -> Iterator[KubernetesClusterApi]:
    ApiServer.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), ApiServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{server.server_address[1]}"}}],
        "users": [{"name": "u", "user": {"token": "test-token"}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }
    try:
        yield KubernetesClusterApi(json.dumps(kubeconfig), request_timeout=5)
    finally:
        server.shutdown()
        server.server_close()


def test_get_list_patch_delete_reach_the_right_paths(api):
    assert api.get(CONFIG_MAP, "cluster-vars", "flux-system") == CM
    assert api.get(CONFIG_MAP, "missing", "flux-system") is None
    assert [n["metadata"]["name"] for n in api.list(NODE)] == ["n1"]
    assert [k["metadata"]["name"] for k in api.list(KUSTOMIZATION)] == ["apps"]
    api.patch(KUSTOMIZATION, "apps", "flux-system", {"spec": {"suspend": True}})
    api.delete(SERVICE, "web", "apps")
    api.delete(SERVICE, "gone", "apps")  # already gone: not an error
    seen = ApiServer.requests
    assert all(r["auth"] == "Bearer test-token" for r in seen)
    patch = next(r for r in seen if r["method"] == "PATCH")
    assert patch["path"] == "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/apps"
    assert patch["type"] == "application/merge-patch+json" and patch["body"] == {"spec": {"suspend": True}}
    delete = next(r for r in seen if r["method"] == "DELETE")
    assert delete["path"] == "/api/v1/namespaces/apps/services/web"
    assert delete["body"]["propagationPolicy"] == "Foreground"


def test_missing_kinds_and_refusals(api):
    with pytest.raises(KindNotServed):
        api.get(FLUX_INSTANCE, "flux", "flux-system")
    with pytest.raises(KindNotServed):
        api.list(GATEWAY)
    with pytest.raises(ClusterApiError, match="list Service: HTTP 403 services is forbidden"):
        api.list(SERVICE)


def test_an_unreachable_api_server_is_one_line():
    kubeconfig = {
        "apiVersion": "v1",
        "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:9"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }
    api = KubernetesClusterApi(kubeconfig, request_timeout=2)
    with pytest.raises(ClusterApiError) as caught:
        api.list(NODE)
    assert str(caught.value).startswith("GET /api/v1/nodes: ") and "\n" not in str(caught.value)
