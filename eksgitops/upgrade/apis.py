"""Is an object's apiVersion/kind served by a Kubernetes minor? Read from kubernetes-validate's schemas.

kubernetes-validate ships the strict JSON schemas of every Kubernetes release it supports
(1.25 to 1.37 in the pinned 1.37.0), one file per kind and API version. A kind/version with
no file in the target's folder is not served there: removed (when the current version has it)
or never served. The schema's own description says when a served API is deprecated
("Deprecated: This API is deprecated in v1.33+. Use ..."). For every version EKS offers the
schemas tell, so no table of removals is kept here; a target the package does not ship is
reported as not checked.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

from eksgitops.fleet.schema import BUILTIN_GROUPS, PLACEHOLDER, ident, split_api_version

_ROOT = files("kubernetes_validate") / "kubernetes-json-schema"
_DEPRECATED = re.compile(r"Deprecated: (.+?)(?:\n|$)")
SOURCE = "kubernetes-validate's schemas of Kubernetes {minor} (the JSON schemas of the release's OpenAPI)"


@dataclass(frozen=True)
class ApiFinding:
    """One object whose API the target refuses (blocker) or marks deprecated (warning)."""

    severity: str
    """`blocker` or `warning`."""
    file: str
    where: str
    message: str

    def line(self) -> str:
        return f"{self.file}: {self.where}: {self.message}"


def shipped_minors() -> list[str]:
    """The Kubernetes minors kubernetes-validate ships schemas for, oldest first."""
    found = {
        m.group(1)
        for entry in _ROOT.iterdir()
        if (m := re.fullmatch(r"v(\d+\.\d+)\.0-local-strict", entry.name))
    }
    return sorted(found, key=lambda v: tuple(int(p) for p in v.split(".")))


@cache
def _kinds(minor: str) -> dict[tuple[str, str], str]:
    """(group, kind) per served API version -> the schema file name, from the x-kubernetes-gvk."""
    served: dict[tuple[str, str], str] = {}
    folder = _ROOT / f"v{minor}.0-local-strict"
    for entry in folder.iterdir():
        if not entry.name.endswith(".json") or entry.name == "_definitions.json":
            continue
        # Only top-level kinds carry a group-version-kind; their names are short enough to scan.
        head = entry.read_text()
        if '"x-kubernetes-group-version-kind"' not in head:
            continue
        data = json.loads(head)
        for gvk in data.get("x-kubernetes-group-version-kind") or []:
            api = f"{gvk['group']}/{gvk['version']}" if gvk.get("group") else gvk["version"]
            served[(api, gvk["kind"])] = entry.name
    return served


@cache
def _description(minor: str, filename: str) -> str:
    data = json.loads((_ROOT / f"v{minor}.0-local-strict" / filename).read_text())
    return str(data.get("description") or "")


def served_versions(minor: str, kind: str, group: str) -> list[str]:
    """Every apiVersion of `kind` in `group` served by `minor`, GA first."""
    apis = [api for (api, k) in _kinds(minor) if k == kind and split_api_version(api)[0] == group]
    return sorted(apis, key=lambda a: (_maturity(split_api_version(a)[1]), a))


def _maturity(version: str) -> int:
    return 2 if "alpha" in version else 1 if "beta" in version else 0


def check_object(obj: dict[str, Any], file: str, current: str, target: str) -> list[ApiFinding]:
    """What `target` says about one built object; nothing for custom resources (their CRD decides)."""
    api, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api, str) or not isinstance(kind, str) or api == PLACEHOLDER:
        return []
    group, version = split_api_version(api)
    if group not in BUILTIN_GROUPS:
        return []
    where = ident(obj)
    if (api, kind) not in _kinds(target):
        instead = served_versions(target, kind, group)
        was = "removed in" if (api, kind) in _kinds(current) else "not served by"
        fix = f"use {instead[0]}" if instead else "no version of this kind is served; see the migration guide"
        return [ApiFinding("blocker", file, where, f"{api} {kind} is {was} Kubernetes {target}; {fix}")]
    found: list[ApiFinding] = []
    said = _DEPRECATED.search(_description(target, _kinds(target)[(api, kind)]))
    if said:
        found.append(
            ApiFinding("warning", file, where, f"{api} {kind} in {target}: deprecated: {said.group(1)}")
        )
    ga = [a for a in served_versions(target, kind, group) if _maturity(split_api_version(a)[1]) == 0]
    if _maturity(version) and ga:
        found.append(
            ApiFinding(
                "warning",
                file,
                where,
                f"{api} {kind} is a pre-release version served beside {ga[0]} in {target}; "
                f"move to {ga[0]} before it is removed",
            )
        )
    return found
