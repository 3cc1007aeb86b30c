"""Strict schema validation of what would be applied, as the API server does with server-side apply.

* Kinds of the controllers we install (Flux, the Flux Operator, Flagger, Argo CD; `schemas/`,
  upstream CRDs listed in `schemas/SOURCES.md`) are validated against the openAPIV3Schema of
  the served version, with unknown fields rejected (server-side apply fails on "field not
  declared in schema"; only `x-kubernetes-preserve-unknown-fields` subtrees accept anything).
  An apiVersion the CRD does not serve is an error.
* Built-in kinds are validated with kubernetes-validate's strict schemas.
* CRDs found in the layout itself can be added to a `SchemaSet`, so their objects are checked too.

`validate(obj)` is the entry point other code calls.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from typing import Any

import jsonschema
import jsonschema.exceptions
import kubernetes_validate
import kubernetes_validate.utils
from referencing import Registry, Resource

from eksgitops.fleet.findings import ERROR, Finding
from eksgitops.fleet.shipped_crds import crds_of_group

_LATEST = kubernetes_validate.latest_version()
_STRICT_DIR = f"v{_LATEST}-local-strict"
KUBERNETES_VERSION = ".".join(_LATEST.split(".")[:2])
"""Schemas of the newest Kubernetes release kubernetes-validate ships."""
PLACEHOLDER = "eksgitops-value-unknown-offline"
"""Stands in for a variable whose value only the cluster knows; schema errors on it are skipped."""

# API groups served by Kubernetes itself (everything else comes from a CRD or an aggregated API).
BUILTIN_GROUPS = frozenset(
    {
        "",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "apps",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "autoscaling",
        "batch",
        "certificates.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "extensions",
        "flowcontrol.apiserver.k8s.io",
        "internal.apiserver.k8s.io",
        "networking.k8s.io",
        "node.k8s.io",
        "policy",
        "rbac.authorization.k8s.io",
        "resource.k8s.io",
        "scheduling.k8s.io",
        "storage.k8s.io",
        "storagemigration.k8s.io",
    }
)
# Built-in cluster-scoped kinds (`kubectl api-resources --namespaced=false`, Kubernetes 1.3x).
CLUSTER_SCOPED_BUILTIN = frozenset(
    {
        "APIService",
        "CertificateSigningRequest",
        "ClusterRole",
        "ClusterRoleBinding",
        "ClusterTrustBundle",
        "ComponentStatus",
        "CSIDriver",
        "CSINode",
        "CustomResourceDefinition",
        "DeviceClass",
        "DeviceTaintRule",
        "FlowSchema",
        "IngressClass",
        "IPAddress",
        "MutatingAdmissionPolicy",
        "MutatingAdmissionPolicyBinding",
        "MutatingWebhookConfiguration",
        "Namespace",
        "Node",
        "PersistentVolume",
        "PriorityClass",
        "PriorityLevelConfiguration",
        "ResourceSlice",
        "RuntimeClass",
        "SelfSubjectAccessReview",
        "SelfSubjectReview",
        "SelfSubjectRulesReview",
        "ServiceCIDR",
        "StorageClass",
        "StorageVersion",
        "StorageVersionMigration",
        "SubjectAccessReview",
        "TokenReview",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "ValidatingWebhookConfiguration",
        "VolumeAttachment",
        "VolumeAttributesClass",
    }
)
_OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_SCHEMA_ROOT = files("kubernetes_validate") / "kubernetes-json-schema"


def split_api_version(api_version: str) -> tuple[str, str]:
    """`apps/v1` -> ("apps", "v1"); `v1` -> ("", "v1")."""
    group, _, version = api_version.rpartition("/")
    return group, version


@dataclass
class CrdVersion:
    served: bool
    schema: dict[str, Any] | None
    _validator: Any = None

    def validator(self) -> Any:
        if self._validator is None and self.schema is not None:
            self._validator = jsonschema.Draft4Validator(strict_schema(self.schema, root=True))
        return self._validator


@dataclass
class Crd:
    group: str
    kind: str
    scope: str
    source: str
    versions: dict[str, CrdVersion] = field(default_factory=dict)


def strict_schema(node: Any, root: bool = False) -> Any:
    """A CRD's structural schema as JSON Schema, closed where the API server prunes/refuses."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties"):
            out[key] = {k: strict_schema(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = strict_schema(value)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [strict_schema(v) for v in value]
        elif (
            key.startswith("x-kubernetes-")
            or key in ("description", "format", "default", "example")
            or key == "nullable"
        ):
            continue
        else:
            out[key] = value
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if node.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    embedded = node.get("x-kubernetes-embedded-resource")
    if (
        out.get("type") == "object"
        and not node.get("x-kubernetes-preserve-unknown-fields")
        and "additionalProperties" not in out
        and not embedded
    ):
        out["additionalProperties"] = False
    if root:
        # metadata is checked against ObjectMeta separately (CRDs only say `type: object`).
        out.setdefault("properties", {})["metadata"] = {"type": "object"}
        for name in ("apiVersion", "kind"):
            out["properties"].setdefault(name, {"type": "string"})
    return out


def kubernetes_versions() -> list[str]:
    """The Kubernetes minor versions (`1.37`) whose built-in schemas kubernetes-validate ships."""
    return sorted({".".join(v.split(".")[:2]) for v in kubernetes_validate.utils.all_versions()}, key=_minor)


def _minor(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def _strict_dir(version: str) -> str:
    if version not in kubernetes_versions():
        raise ValueError(f"no schemas for Kubernetes {version} (shipped: {', '.join(kubernetes_versions())})")
    return f"v{version}.0-local-strict"


@cache
def _definitions(strict_dir: str = _STRICT_DIR) -> Registry:
    text = (_SCHEMA_ROOT / strict_dir / "_definitions.json").read_text()
    return Resource.from_contents(json.loads(text)) @ Registry()


@cache
def _builtin_files(strict_dir: str = _STRICT_DIR) -> frozenset[str]:
    return frozenset(e.name for e in (_SCHEMA_ROOT / strict_dir).iterdir())


def _builtin_file(api_version: str, kind: str) -> str:
    # kubernetes-validate's naming: rbac.authorization.k8s.io/v1 -> rbac-v1
    prefix = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return f"{kind.lower()}-{prefix}.json"


@cache
def _builtin_validator(filename: str, strict_dir: str = _STRICT_DIR) -> Any:
    text = (_SCHEMA_ROOT / strict_dir / filename).read_text()
    schema = json.loads(text)
    resource = Resource.from_contents(schema)
    return jsonschema.Draft202012Validator(schema, registry=resource @ _definitions(strict_dir))


@cache
def _object_meta_validator() -> Any:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://kubernetes.io/api/eksgitops/objectmeta",
        "$ref": f"/api/_definitions.json#/$defs/{_OBJECT_META}",
    }
    return jsonschema.Draft202012Validator(schema, registry=_definitions())


class SchemaSet:
    """The CRDs verify knows (the packaged ones plus any found in the layout) and the built-in
    kinds of one Kubernetes version (`kubernetes_version`, e.g. "1.35"; default the newest shipped)."""

    def __init__(
        self, extra_crds: Iterable[dict[str, Any]] = (), kubernetes_version: str | None = None
    ) -> None:
        self.kubernetes_version = kubernetes_version or KUBERNETES_VERSION
        self._strict_dir = _strict_dir(self.kubernetes_version)
        self.crds: dict[tuple[str, str], Crd] = {}
        # Shipped CRDs are read by group on first use (shipped_crds.py): most fleets use a few.
        self._groups_read: set[str] = set()
        for doc in extra_crds:
            self.add_crd(doc, "layout")

    def extended(self, extra_crds: Iterable[dict[str, Any]]) -> SchemaSet:
        """A copy that also knows `extra_crds` (the layout's), sharing this set's compiled validators."""
        other = copy.copy(self)
        other.crds = dict(self.crds)
        other._groups_read = set(self._groups_read)
        for doc in extra_crds:
            other.add_crd(doc, "layout")
        return other

    def add_crd(self, doc: dict[str, Any], source: str) -> bool:
        """Learn a CustomResourceDefinition; False when it is not usable (its own validation says why)."""
        spec = doc.get("spec")
        if not isinstance(spec, dict) or not isinstance(spec.get("names"), dict):
            return False
        group, kind = spec.get("group"), spec["names"].get("kind")
        versions = spec.get("versions")
        if not isinstance(group, str) or not isinstance(kind, str) or not isinstance(versions, list):
            return False
        key = (group, kind)
        self._read_group(group)
        if key in self.crds and source == "layout":
            return True  # the packaged copy is the pinned upstream one
        self._put(key, spec, versions, source)
        return True

    def _read_group(self, group: str) -> None:
        if group in self._groups_read:
            return
        self._groups_read.add(group)
        for doc in crds_of_group(group):
            spec = doc["spec"]
            self._put((group, spec["names"]["kind"]), spec, spec["versions"], str(doc["_source"]))

    def _put(self, key: tuple[str, str], spec: dict[str, Any], versions: list[Any], source: str) -> None:
        group, kind = key
        crd = Crd(group, kind, str(spec.get("scope", "Namespaced")), source)
        for version in versions:
            if isinstance(version, dict) and isinstance(version.get("name"), str):
                schema = (version.get("schema") or {}).get("openAPIV3Schema")
                crd.versions[version["name"]] = CrdVersion(
                    bool(version.get("served")), schema if isinstance(schema, dict) else None
                )
        self.crds[key] = crd

    def crd(self, group: str, kind: str) -> Crd | None:
        """The CRD of `group`/`kind`: the layout's, or the shipped one (read on first use)."""
        self._read_group(group)
        return self.crds.get((group, kind))

    def scope(self, api_version: str, kind: str) -> str | None:
        """`Namespaced`, `Cluster`, or None when the kind is unknown."""
        group, _ = split_api_version(api_version)
        if group in BUILTIN_GROUPS:
            return "Cluster" if kind in CLUSTER_SCOPED_BUILTIN else "Namespaced"
        crd = self.crd(group, kind)
        return crd.scope if crd else None

    def knows(self, api_version: str, kind: str) -> bool:
        group, _ = split_api_version(api_version)
        return group in BUILTIN_GROUPS or self.crd(group, kind) is not None

    def errors(self, obj: dict[str, Any]) -> Iterator[str]:
        """Every schema problem of `obj`, one message each; nothing for kinds without a schema."""
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if not isinstance(api_version, str) or not api_version:
            yield "apiVersion: required field missing"
            return
        if not isinstance(kind, str) or not kind:
            yield "kind: required field missing"
            return
        group, version = split_api_version(api_version)
        if group in BUILTIN_GROUPS:
            filename = _builtin_file(api_version, kind)
            if filename not in _builtin_files(self._strict_dir):
                others = sorted(
                    n.removesuffix(".json").split("-", 1)[1]
                    for n in _builtin_files(self._strict_dir)
                    if n.startswith(kind.lower() + "-") and not n.startswith(kind.lower() + "list-")
                )
                yield (
                    f"apiVersion {api_version} of {kind} is not served by "
                    f"Kubernetes {self.kubernetes_version}"
                    + (f" (served: {', '.join(others)})" if others else " (no such kind)")
                )
                return
            yield from _messages(_builtin_validator(filename, self._strict_dir), obj)
            return
        crd = self.crd(group, kind)
        if crd is None:
            return
        served = sorted(v for v, info in crd.versions.items() if info.served)
        info = crd.versions.get(version)
        if info is None or not info.served:
            yield (
                f"apiVersion {api_version} of {kind} is not served by the installed CRD "
                f"(served: {', '.join(f'{group}/{v}' for v in served) or 'none'})"
            )
            return
        validator = info.validator()
        if validator is not None:
            yield from _messages(validator, obj)
        meta = obj.get("metadata")
        if isinstance(meta, dict):
            yield from _messages(_object_meta_validator(), meta, prefix=("metadata",))


def _messages(validator: Any, instance: Any, prefix: tuple[Any, ...] = ()) -> Iterator[str]:
    for err in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
        if _is_placeholder(err.instance):
            continue
        yield from _describe(err, prefix)


def _is_placeholder(value: Any) -> bool:
    return isinstance(value, str) and PLACEHOLDER in value


def _path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(object)"


def _short(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(err: Any, prefix: tuple[Any, ...]) -> Iterator[str]:
    parts = (*prefix, *err.absolute_path)
    where = _path(parts)
    if err.validator == "additionalProperties" and err.validator_value is False:
        declared = set((err.schema.get("properties") or {}).keys())
        patterns = [re.compile(p) for p in (err.schema.get("patternProperties") or {})]
        extras = [
            k for k in err.instance if k not in declared and not any(p.search(str(k)) for p in patterns)
        ]
        for extra in sorted(map(str, extras)):
            yield f"{_path((*parts, extra))}: field not declared in schema"
        return
    if err.validator == "required":
        match = re.match(r"'(.+)' is a required property", err.message)
        name = match.group(1) if match else err.message
        yield f"{_path((*parts, name))}: required field missing"
        return
    if err.validator == "type":
        expected = err.validator_value
        shown = " or ".join(expected) if isinstance(expected, list) else expected
        yield f"{where}: {_short(err.instance)} is not of type {shown}"
        return
    if err.validator == "enum":
        allowed = ", ".join(_short(v) for v in err.validator_value)
        yield f"{where}: {_short(err.instance)} is not one of {allowed}"
        return
    if err.validator in ("anyOf", "oneOf") and err.context:
        best = jsonschema.exceptions.best_match(err.context)
        if best is not None:
            yield f"{where}: {best.message}"
            return
    yield f"{where}: {err.message}"


def ident(obj: dict[str, Any]) -> str:
    """`Kind namespace/name` (or `Kind name`) for messages."""
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    name = meta.get("name") or meta.get("generateName") or "(unnamed)"
    ns = meta.get("namespace")
    kind = obj.get("kind") or "object"
    return f"{kind} {ns}/{name}" if ns else f"{kind} {name}"


@cache
def _default_set() -> SchemaSet:
    return SchemaSet()


def validate(obj: dict[str, Any], unknown_kind: str = ERROR) -> list[Finding]:
    """Validate one object strictly; each problem is a Finding at `Kind namespace/name`.

    A kind with no shipped schema is reported with severity `unknown_kind` ("error" by default);
    pass `unknown_kind=""` to ignore such kinds.
    """
    if not isinstance(obj, dict):
        return [Finding("(object)", f"not a mapping but {type(obj).__name__}")]
    schemas = _default_set()
    where = ident(obj)
    found = [Finding(where, message) for message in schemas.errors(obj)]
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if (
        unknown_kind
        and isinstance(api_version, str)
        and isinstance(kind, str)
        and not schemas.knows(api_version, kind)
    ):
        found.append(Finding(where, f"no schema shipped for {api_version} {kind}", unknown_kind))
    return found
