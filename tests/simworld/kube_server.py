"""A fake Kubernetes API server over HTTP on 127.0.0.1, for the real `KubernetesClusterApi`.

It speaks what that client sends: GET of an object, a namespaced or cluster-wide list,
discovery (`/api/v1`, `/apis/<group>/<version>`), PATCH with `application/merge-patch+json`,
DELETE (finalizers keep an object, marked with deletionTimestamp, as Kubernetes does).
Every request must carry the kubeconfig's bearer token.

Faults and time:
- `fault`: a function of the request (`Request`) returning None, `"throttle"` (429 with
  Retry-After), `"drop"` (the connection is closed without an answer) or `"error"` (500).
- `hooks`: functions run before each request is answered, to play controllers and time
  (a Kustomization's lastAppliedRevision advancing, a load balancer going away).
"""

from __future__ import annotations

import copy
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from eksgitops.dr.cluster_api import Kind

MAX_BODY = 1 << 20


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    content_type: str | None
    body: Any


Fault = Callable[[Request], str | None]
Hook = Callable[["FakeKubeServer", Request], None]
Key = tuple[str, str, str | None, str]
"""(api_version, plural, namespace, name)"""


class FakeKubeServer:
    """Objects by kind, served over HTTP; `served` kinds answer discovery and lists."""

    def __init__(self) -> None:
        self.token = secrets.token_hex(8)
        self.objects: dict[Key, dict[str, Any]] = {}
        self.served: dict[str, Kind] = {}
        """api_version/plural -> Kind; unknown kinds are 404 with no details (CRD missing)."""
        self.requests: list[Request] = []
        self.fault: Fault | None = None
        self.hooks: list[Hook] = []
        self.lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------
    def start(self) -> FakeKubeServer:
        server = self

        class Handler(_Handler):
            owner = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "start() the server first"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def kubeconfig(self) -> dict[str, Any]:
        """A kubeconfig (as a dict, like the stack's `kubeconfig` output) pointing here."""
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "sim", "cluster": {"server": self.url}}],
            "users": [{"name": "sim", "user": {"token": self.token}}],
            "contexts": [{"name": "sim", "context": {"cluster": "sim", "user": "sim"}}],
            "current-context": "sim",
        }

    # --- state ---------------------------------------------------------------------------
    def serve(self, *kinds: Kind) -> None:
        for kind in kinds:
            self.served[f"{kind.api_version}/{kind.plural}"] = kind

    def add(self, kind: Kind, obj: dict[str, Any]) -> dict[str, Any]:
        """Store an object (its kind becomes served)."""
        self.serve(kind)
        meta = obj.setdefault("metadata", {})
        obj.setdefault("apiVersion", kind.api_version)
        obj.setdefault("kind", kind.kind)
        with self.lock:
            self.objects[self._key(kind, meta.get("namespace"), meta["name"])] = obj
        return obj

    def get(self, kind: Kind, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        with self.lock:
            return self.objects.get(self._key(kind, namespace, name))

    def items(self, kind: Kind) -> list[dict[str, Any]]:
        with self.lock:
            return [
                o for (v, p, _, _), o in self.objects.items() if (v, p) == (kind.api_version, kind.plural)
            ]

    def calls(self, method: str | None = None) -> list[Request]:
        return [r for r in self.requests if method is None or r.method == method]

    @staticmethod
    def _key(kind: Kind, namespace: str | None, name: str) -> Key:
        return (kind.api_version, kind.plural, namespace if kind.namespaced else None, name)

    # --- the REST side -------------------------------------------------------------------
    def answer(self, req: Request) -> tuple[int, Any]:
        with self.lock:
            for hook in list(self.hooks):
                hook(self, req)
            return self._route(req)

    def _route(self, req: Request) -> tuple[int, Any]:
        parts = [p for p in req.path.split("?", 1)[0].split("/") if p]
        if parts[:2] == ["api", "v1"]:
            version, rest = "v1", parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            version, rest = f"{parts[1]}/{parts[2]}", parts[3:]
        else:
            return 404, _status(404, "not found")
        if not rest:  # discovery
            names = [k.plural for k in self.served.values() if k.api_version == version]
            if not names and version != "v1":
                return 404, _status(404, "the server could not find the requested resource")
            return 200, {"kind": "APIResourceList", "resources": [{"name": n} for n in names]}
        namespace: str | None = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        kind = self.served.get(f"{version}/{rest[0]}")
        if kind is None:
            return 404, _status(404, "the server could not find the requested resource")
        name = rest[1] if len(rest) > 1 else None
        if name is None:
            if req.method != "GET":
                return 405, _status(405, "method not allowed")
            items = [
                copy.deepcopy(o)
                for (v, p, ns, _), o in sorted(self.objects.items(), key=lambda kv: str(kv[0]))
                if (v, p) == (kind.api_version, kind.plural) and (namespace is None or ns == namespace)
            ]
            return 200, {"kind": f"{kind.kind}List", "items": items}
        key = self._key(kind, namespace, name)
        obj = self.objects.get(key)
        if obj is None:
            return 404, _status(404, f'{kind.plural} "{name}" not found', {"name": name, "kind": kind.plural})
        if req.method == "GET":
            return 200, copy.deepcopy(obj)
        if req.method == "PATCH":
            if req.content_type != "application/merge-patch+json" or not isinstance(req.body, dict):
                return 415, _status(415, f"unsupported patch {req.content_type}")
            merge_patch(obj, req.body)
            meta = obj["metadata"]
            if meta.get("deletionTimestamp") and not meta.get("finalizers"):
                del self.objects[key]
            return 200, copy.deepcopy(obj)
        if req.method == "DELETE":
            if obj["metadata"].get("finalizers"):
                obj["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
            else:
                del self.objects[key]
            return 200, _status(200, "deleted")
        return 405, _status(405, "method not allowed")


def _status(code: int, message: str, details: dict[str, str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "code": code, "message": message}
    if details:
        body["details"] = details
    return body


def merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """RFC 7386: null removes a key, objects merge, everything else replaces."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge_patch(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class _Handler(BaseHTTPRequestHandler):
    owner: FakeKubeServer
    protocol_version = "HTTP/1.1"

    def _handle(self) -> None:
        length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        req = Request(self.command, self.path, self.headers.get("Content-Type"), body)
        owner = self.owner
        with owner.lock:
            owner.requests.append(req)
        if self.headers.get("Authorization") != f"Bearer {owner.token}":
            return self._send(401, _status(401, "Unauthorized"))
        fault = owner.fault(req) if owner.fault else None
        if fault == "drop":
            self.close_connection = True
            self.connection.shutdown(2)  # the client sees the connection end with no answer
            return None
        if fault == "throttle":
            return self._send(429, _status(429, "Too many requests, please try again later."), retry=True)
        if fault == "error":
            return self._send(500, _status(500, "etcdserver: request timed out"))
        status, payload = owner.answer(req)
        return self._send(status, payload)

    def _send(self, status: int, payload: Any, retry: bool = False) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if retry:
            self.send_header("Retry-After", "0")  # urllib3 honours it; no real sleep
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PATCH = do_DELETE = do_POST = _handle

    def log_message(self, format: str, *args: object) -> None:
        pass
