"""The Kubernetes side of a recovery, behind a narrow interface: get, list, merge-patch, delete.

Objects are plain dicts as the API server returns them. `KubernetesClusterApi` is the real
one (the `kubernetes` client, from the stack's kubeconfig, whose exec plugin runs `aws eks
get-token`); tests use a fake with faults injected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from eksgitops.dr.waits import TransientError


@dataclass(frozen=True)
class Kind:
    """A resource type: where it is served and what it is called."""

    api_version: str
    """`v1` for the core group, else `<group>/<version>`."""
    plural: str
    kind: str
    namespaced: bool = True

    def describe(self, name: str, namespace: str | None = None) -> str:
        return f"{self.kind} {namespace}/{name}" if namespace else f"{self.kind} {name}"


FLUX_INSTANCE = Kind("fluxcd.controlplane.io/v1", "fluxinstances", "FluxInstance")
KUSTOMIZATION = Kind("kustomize.toolkit.fluxcd.io/v1", "kustomizations", "Kustomization")
GIT_REPOSITORY = Kind("source.toolkit.fluxcd.io/v1", "gitrepositories", "GitRepository")
HELM_RELEASE = Kind("helm.toolkit.fluxcd.io/v2", "helmreleases", "HelmRelease")
APPLICATION = Kind("argoproj.io/v1alpha1", "applications", "Application")
APPLICATION_SET = Kind("argoproj.io/v1alpha1", "applicationsets", "ApplicationSet")
PVC = Kind("v1", "persistentvolumeclaims", "PersistentVolumeClaim")
PV = Kind("v1", "persistentvolumes", "PersistentVolume", namespaced=False)
CONFIG_MAP = Kind("v1", "configmaps", "ConfigMap")
SECRET = Kind("v1", "secrets", "Secret")
SERVICE = Kind("v1", "services", "Service")
NAMESPACE = Kind("v1", "namespaces", "Namespace", namespaced=False)
NODE = Kind("v1", "nodes", "Node", namespaced=False)
DEPLOYMENT = Kind("apps/v1", "deployments", "Deployment")
INGRESS = Kind("networking.k8s.io/v1", "ingresses", "Ingress")
GATEWAY = Kind("gateway.networking.k8s.io/v1", "gateways", "Gateway")


class KindNotServed(Exception):
    """The API server does not serve this kind (its CRD is not installed)."""


class ClusterApiError(Exception):
    """The API server refused or could not be reached: one line."""


class ClusterApiUnavailable(ClusterApiError, TransientError):
    """Throttled (429), a server error (5xx) or the connection failed: worth another look later."""


TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})


class ClusterApi(Protocol):
    """What dr needs from the Kubernetes API."""

    def get(self, kind: Kind, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        """The object, or None when it does not exist (KindNotServed when the kind is unknown)."""
        ...

    def list(self, kind: Kind, namespace: str | None = None) -> list[dict[str, Any]]:
        """Objects of a kind, in one namespace or all; KindNotServed when the kind is unknown."""
        ...

    def patch(self, kind: Kind, name: str, namespace: str | None, patch: dict[str, Any]) -> None:
        """A JSON merge patch (RFC 7386)."""
        ...

    def delete(self, kind: Kind, name: str, namespace: str | None = None) -> None:
        """Delete (foreground propagation); deleting a missing object is not an error."""
        ...


class KubernetesClusterApi:
    """`ClusterApi` on the official client's ApiClient, for any kind, core or custom."""

    def __init__(self, kubeconfig: dict[str, Any] | str, *, request_timeout: float = 30.0):
        from kubernetes import client, config

        data = (
            json.loads(kubeconfig)
            if isinstance(kubeconfig, str) and kubeconfig.lstrip().startswith("{")
            else kubeconfig
        )
        if isinstance(data, str):
            import yaml

            data = yaml.safe_load(data)
        configuration = client.Configuration()
        config.load_kube_config_from_dict(data, client_configuration=configuration, persist_config=False)
        self._client = client.ApiClient(configuration)
        self._timeout = request_timeout

    def _path(self, kind: Kind, namespace: str | None, name: str | None = None) -> str:
        base = "/api/v1" if kind.api_version == "v1" else f"/apis/{kind.api_version}"
        path = (
            f"{base}/namespaces/{namespace}/{kind.plural}"
            if kind.namespaced and namespace
            else f"{base}/{kind.plural}"
        )
        return f"{path}/{name}" if name else path

    def _call(
        self, method: str, path: str, body: Any = None, content_type: str | None = None
    ) -> tuple[int, Any]:
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            request = self._client.param_serialize(
                method, path, header_params=headers, body=body, auth_settings=["BearerToken"]
            )
            response = self._client.call_api(*request, _request_timeout=self._timeout)
            raw = response.read()
        except Exception as exc:  # urllib3/ssl/exec-plugin errors: one line for the user
            import urllib3

            # A dropped connection or a timeout (urllib3 retried already) may pass; a
            # kubeconfig or exec-plugin mistake will not.
            error = (
                ClusterApiUnavailable if isinstance(exc, urllib3.exceptions.HTTPError) else ClusterApiError
            )
            raise error(f"{method} {path}: {' '.join(str(exc).split())[:300]}") from None
        payload = json.loads(raw) if raw else None
        return response.status, payload

    def _check(self, status: int, payload: Any, what: str) -> None:
        if status >= 400:
            message = payload.get("message") if isinstance(payload, dict) else ""
            error = ClusterApiUnavailable if status in TRANSIENT_STATUS else ClusterApiError
            raise error(f"{what}: HTTP {status} {message or ''}".strip())

    def get(self, kind: Kind, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        status, payload = self._call("GET", self._path(kind, namespace, name))
        if status == 404:
            if isinstance(payload, dict) and payload.get("details", {}).get("kind") == kind.plural:
                return None
            # A 404 without details is the API group itself missing.
            self._served(kind)
            return None
        self._check(status, payload, f"get {kind.describe(name, namespace)}")
        return payload

    def _served(self, kind: Kind) -> None:
        base = "/api/v1" if kind.api_version == "v1" else f"/apis/{kind.api_version}"
        status, payload = self._call("GET", base)
        resources = payload.get("resources", []) if isinstance(payload, dict) else []
        if status == 404 or not any(r.get("name") == kind.plural for r in resources):
            raise KindNotServed(f"{kind.kind} ({kind.api_version}) is not served by this cluster")

    def list(self, kind: Kind, namespace: str | None = None) -> list[dict[str, Any]]:
        status, payload = self._call("GET", self._path(kind, namespace))
        if status == 404:
            raise KindNotServed(f"{kind.kind} ({kind.api_version}) is not served by this cluster")
        self._check(status, payload, f"list {kind.kind}")
        return list(payload.get("items", [])) if isinstance(payload, dict) else []

    def patch(self, kind: Kind, name: str, namespace: str | None, patch: dict[str, Any]) -> None:
        status, payload = self._call(
            "PATCH",
            self._path(kind, namespace, name),
            body=patch,
            content_type="application/merge-patch+json",
        )
        self._check(status, payload, f"patch {kind.describe(name, namespace)}")

    def delete(self, kind: Kind, name: str, namespace: str | None = None) -> None:
        status, payload = self._call(
            "DELETE",
            self._path(kind, namespace, name),
            body={"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Foreground"},
            content_type="application/json",
        )
        if status != 404:
            self._check(status, payload, f"delete {kind.describe(name, namespace)}")


def condition(obj: dict[str, Any] | None, kind: str = "Ready") -> dict[str, Any] | None:
    """The status condition of this type, if any."""
    if not obj:
        return None
    for cond in obj.get("status", {}).get("conditions", []) or []:
        if cond.get("type") == kind:
            return cond
    return None


def ident(obj: dict[str, Any]) -> tuple[str, str | None]:
    meta = obj.get("metadata", {})
    return meta.get("name", "?"), meta.get("namespace")
