"""A small, dependency-free subset of `kustomize build`.

No kustomize binary is available where `eksgitops fleet verify` runs, so this implements the
parts a fleet repo uses: `resources` (files and directories, recursing into nested
kustomizations), `patches` (path or inline, strategic-merge or JSON6902 with `target`),
`patchesStrategicMerge`, `patchesJson6902`, `namespace`, `namePrefix`, `commonLabels`/`labels`,
`commonAnnotations` and `images`. A directory without a kustomization file is handled the way
Flux's kustomize-controller does: every YAML file under it, recursively, is a resource.
"""

from __future__ import annotations

import copy
import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
YAML_SUFFIXES = (".yaml", ".yml")


class BuildError(Exception):
    """A kustomization that kustomize itself would refuse to build; `path` is repo-relative."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass
class Resource:
    """One built object and the repo-relative file it came from (for precise findings)."""

    obj: dict[str, Any]
    source: str

    @property
    def kind(self) -> str:
        return str(self.obj.get("kind", ""))

    @property
    def name(self) -> str:
        meta = self.obj.get("metadata") or {}
        return str(meta.get("name", "")) if isinstance(meta, dict) else ""

    @property
    def namespace(self) -> str:
        meta = self.obj.get("metadata") or {}
        return str(meta.get("namespace") or "") if isinstance(meta, dict) else ""

    def ident(self) -> str:
        """`Kind ns/name` as printed in findings."""
        return f"{self.kind} {self.namespace + '/' if self.namespace else ''}{self.name}"


@dataclass
class Builder:
    """Builds kustomizations below `root` (the checkout); paths in errors are relative to it."""

    root: Path
    parse_errors: list[BuildError] = field(default_factory=list)

    def rel(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()

    def build(self, directory: Path) -> list[Resource]:
        """Build `directory` like `kustomize build` (or Flux's generated kustomization)."""
        return self._build_dir(directory, stack=())

    # -- loading ---------------------------------------------------------------------------------

    def load_file(self, path: Path) -> list[Resource]:
        """Parse a multi-document YAML file; unparsable documents raise BuildError."""
        rel = self.rel(path)
        try:
            docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise BuildError(rel, f"not valid YAML ({first})") from exc
        out: list[Resource] = []
        for doc in docs:
            if doc is None:
                continue
            if not isinstance(doc, dict):
                raise BuildError(rel, "a YAML document is not a mapping (expected a Kubernetes object)")
            if doc.get("kind", "").endswith("List") and isinstance(doc.get("items"), list):
                out.extend(Resource(item, rel) for item in doc["items"] if isinstance(item, dict))
                continue
            out.append(Resource(doc, rel))
        return out

    def _kustomization_file(self, directory: Path) -> Path | None:
        for name in KUSTOMIZATION_FILES:
            if (directory / name).is_file():
                return directory / name
        return None

    def _build_dir(self, directory: Path, stack: tuple[Path, ...]) -> list[Resource]:
        rel = self.rel(directory)
        if not directory.is_dir():
            raise BuildError(rel, "directory not found")
        if directory.resolve() in stack:
            raise BuildError(rel, "kustomization cycle")
        kfile = self._kustomization_file(directory)
        if kfile is None:
            return self._generated(directory)
        return self._build_kustomization(kfile, (*stack, directory.resolve()))

    def _generated(self, directory: Path) -> list[Resource]:
        # Flux generates a kustomization listing every YAML manifest below the path; a nested
        # directory with its own kustomization.yaml is built as such instead of file by file.
        out: list[Resource] = []
        for path in sorted(directory.iterdir()):
            if path.name.startswith("."):
                continue
            if path.is_dir():
                out.extend(self._build_dir(path, stack=()))
            elif path.suffix in YAML_SUFFIXES:
                # Flux fails on a YAML document that is not an object; keep them all so that
                # verify reports a missing apiVersion/kind instead of silently skipping it.
                out.extend(self.load_file(path))
        return out

    # -- kustomization ---------------------------------------------------------------------------

    def _build_kustomization(self, kfile: Path, stack: tuple[Path, ...]) -> list[Resource]:
        rel = self.rel(kfile)
        try:
            spec = yaml.safe_load(kfile.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise BuildError(rel, f"not valid YAML ({str(exc).splitlines()[0]})") from exc
        if not isinstance(spec, dict):
            raise BuildError(rel, "not a mapping")
        base = kfile.parent
        resources: list[Resource] = []
        for entry in [*(spec.get("resources") or []), *(spec.get("bases") or [])]:
            target = (base / str(entry)).resolve()
            if "://" in str(entry) or str(entry).startswith("github.com/"):
                raise BuildError(rel, f"remote resource {entry!r} is not supported by verify")
            if not target.is_relative_to(self.root.resolve()):
                # kustomize's default load restrictor: nothing outside the repository.
                raise BuildError(rel, f"resource {entry!r} is outside the repository")
            if target.is_dir():
                resources.extend(self._build_dir(target, stack))
            elif target.is_file():
                resources.extend(self.load_file(target))
            else:
                raise BuildError(rel, f"resource {entry!r} not found")
        for entry in spec.get("components") or []:
            resources.extend(self._build_dir((base / str(entry)).resolve(), stack))
        for patch in spec.get("patchesStrategicMerge") or []:
            for doc in self._patch_docs(base, rel, patch):
                _apply_smp(resources, doc, rel)
        for patch in spec.get("patchesJson6902") or []:
            ops = self._json_ops(base, rel, patch)
            for res in _select(resources, patch.get("target") or {}):
                _apply_json6902(res, ops, rel)
        for patch in spec.get("patches") or []:
            self._apply_patch_entry(resources, base, rel, patch)
        _apply_transformers(resources, spec)
        return resources

    def _patch_docs(self, base: Path, rel: str, patch: Any) -> list[dict[str, Any]]:
        if isinstance(patch, str) and "\n" not in patch and (base / patch).suffix in YAML_SUFFIXES:
            path = base / patch
            if not path.is_file():
                raise BuildError(rel, f"patch {patch!r} not found")
            return [r.obj for r in self.load_file(path)]
        docs = [d for d in yaml.safe_load_all(str(patch)) if d is not None]
        return [d for d in docs if isinstance(d, dict)]

    def _json_ops(self, base: Path, rel: str, patch: dict[str, Any]) -> list[dict[str, Any]]:
        if "path" in patch:
            path = base / str(patch["path"])
            if not path.is_file():
                raise BuildError(rel, f"patch {patch['path']!r} not found")
            ops = yaml.safe_load(path.read_text(encoding="utf-8"))
        else:
            ops = yaml.safe_load(str(patch.get("patch", "")))
        if not isinstance(ops, list):
            raise BuildError(rel, "JSON6902 patch is not a list of operations")
        return ops

    def _apply_patch_entry(
        self, resources: list[Resource], base: Path, rel: str, patch: dict[str, Any]
    ) -> None:
        if "path" in patch:
            path = base / str(patch["path"])
            if not path.is_file():
                raise BuildError(rel, f"patch {patch['path']!r} not found")
            text = path.read_text(encoding="utf-8")
        else:
            text = str(patch.get("patch", ""))
        try:
            parsed = [d for d in yaml.safe_load_all(text) if d is not None]
        except yaml.YAMLError as exc:
            raise BuildError(rel, f"patch is not valid YAML ({str(exc).splitlines()[0]})") from exc
        if len(parsed) == 1 and isinstance(parsed[0], list):
            targets = _select(resources, patch.get("target") or {})
            if not patch.get("target"):
                raise BuildError(rel, "a JSON6902 patch needs a target")
            for res in targets:
                _apply_json6902(res, parsed[0], rel)
            return
        for doc in parsed:
            if not isinstance(doc, dict):
                raise BuildError(rel, "patch is neither a strategic-merge object nor JSON6902 ops")
            if patch.get("target"):
                for res in _select(resources, patch["target"]):
                    _merge_into(res.obj, doc)
            else:
                _apply_smp(resources, doc, rel)


def _select(resources: list[Resource], target: dict[str, Any]) -> list[Resource]:
    def matches(res: Resource) -> bool:
        api = str(res.obj.get("apiVersion", ""))
        group, _, version = api.rpartition("/")
        checks = {
            "kind": res.kind,
            "name": res.name,
            "namespace": res.namespace,
            "group": group,
            "version": version,
        }
        for key, actual in checks.items():
            want = target.get(key)
            if want is not None and not re.fullmatch(str(want), actual):
                return False
        selector = target.get("labelSelector")
        if selector:
            labels = (res.obj.get("metadata") or {}).get("labels") or {}
            for term in str(selector).split(","):
                k, _, v = term.partition("=")
                if labels.get(k.strip()) != v.strip():
                    return False
        return True

    return [r for r in resources if matches(r)]


def _apply_smp(resources: list[Resource], patch: dict[str, Any], rel: str) -> None:
    meta = patch.get("metadata") or {}
    name, kind = meta.get("name"), patch.get("kind")
    hits = [
        r
        for r in resources
        if r.name == name
        and (kind is None or r.kind == kind)
        and (not meta.get("namespace") or r.namespace in ("", meta.get("namespace")))
    ]
    if not hits:
        raise BuildError(rel, f"patch target {kind} {name} not found in resources")
    for res in hits:
        _merge_into(res.obj, patch)


def _merge_into(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """Strategic merge for the common case: maps merge, `null` deletes, lists of named items
    (containers, ports, env) merge by `name`, other lists replace."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge_into(target[key], value)
        elif isinstance(value, list) and isinstance(target.get(key), list) and _named(value):
            existing = {item.get("name"): item for item in target[key] if isinstance(item, dict)}
            for item in value:
                if item["name"] in existing:
                    _merge_into(existing[item["name"]], item)
                else:
                    target[key].append(copy.deepcopy(item))
        else:
            target[key] = copy.deepcopy(value)


def _named(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(i, dict) and "name" in i for i in items)


def _apply_json6902(res: Resource, ops: list[dict[str, Any]], rel: str) -> None:
    for op in ops:
        kind, path = op.get("op"), str(op.get("path", ""))
        parts = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]
        if not parts:
            raise BuildError(rel, f"JSON6902 {kind} with empty path")
        try:
            parent: Any = res.obj
            for part in parts[:-1]:
                parent = parent[int(part)] if isinstance(parent, list) else parent[part]
            last = parts[-1]
            if kind in ("add", "replace"):
                value = copy.deepcopy(op.get("value"))
                if isinstance(parent, list):
                    if last == "-":
                        parent.append(value)
                    elif kind == "add":
                        parent.insert(int(last), value)
                    else:
                        parent[int(last)] = value
                else:
                    if kind == "replace" and last not in parent:
                        raise KeyError(last)
                    parent[last] = value
            elif kind == "remove":
                if isinstance(parent, list):
                    del parent[int(last)]
                else:
                    del parent[last]
            elif kind == "test":
                actual = parent[int(last)] if isinstance(parent, list) else parent[last]
                if actual != op.get("value"):
                    raise BuildError(rel, f"JSON6902 test failed at {path} on {res.ident()}")
            else:
                raise BuildError(rel, f"JSON6902 op {kind!r} is not supported")
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            raise BuildError(rel, f"JSON6902 {kind} {path}: path not found in {res.ident()}") from exc


def _apply_transformers(resources: list[Resource], spec: dict[str, Any]) -> None:
    namespace = spec.get("namespace")
    prefix = spec.get("namePrefix") or ""
    labels: dict[str, str] = dict(spec.get("commonLabels") or {})
    for entry in spec.get("labels") or []:
        labels.update(entry.get("pairs") or {})
    annotations: dict[str, str] = dict(spec.get("commonAnnotations") or {})
    images = spec.get("images") or []
    for res in resources:
        meta = res.obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            continue
        if namespace and not _cluster_scoped(res.kind):
            meta["namespace"] = namespace
        if prefix and "name" in meta:
            meta["name"] = prefix + str(meta["name"])
        if labels:
            meta.setdefault("labels", {}).update(labels)
        if annotations:
            meta.setdefault("annotations", {}).update(annotations)
        for image in images:
            _set_image(res.obj, image)


CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "GatewayClass",
    "StorageClass",
    "PriorityClass",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
}


def _cluster_scoped(kind: str) -> bool:
    return kind in CLUSTER_SCOPED


def _set_image(obj: Any, image: dict[str, Any]) -> None:
    """kustomize `images`: rewrite `image:` fields whose name matches, anywhere in the object."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == "image" and isinstance(value, str):
                obj[key] = _rewrite_image(value, image)
            else:
                _set_image(value, image)
    elif isinstance(obj, list):
        for item in obj:
            _set_image(item, image)


def _rewrite_image(value: str, image: dict[str, Any]) -> str:
    name, tag = value, ""
    if "@" in value:
        name, _, tag = value.partition("@")
        tag = "@" + tag
    elif ":" in value.rsplit("/", 1)[-1]:
        name, _, t = value.rpartition(":")
        tag = ":" + t
    if not fnmatch.fnmatchcase(name, str(image.get("name", ""))):
        return value
    name = str(image.get("newName") or name)
    if image.get("digest"):
        tag = "@" + str(image["digest"])
    elif image.get("newTag") is not None:
        tag = ":" + str(image["newTag"])
    return name + tag
