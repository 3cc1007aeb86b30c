"""What every check reads: the applied objects, indexed once per cluster."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from eksgitops.fleet.schema import SchemaSet, split_api_version
from eksgitops.fleet.verify.agent import WalkState
from eksgitops.fleet.verify.model import (
    EVERY_CLUSTER_NAMESPACES,
    WELL_KNOWN_CLUSTER_SCOPED,
    Applied,
    Key,
    as_dict,
    as_list,
    key,
    meta,
)
from eksgitops.fleet.verify.request import VerifyRequest


@dataclass
class Applying:
    """Everything the agent would apply for one request, with the indexes the checks share."""

    applied: list[Applied]
    request: VerifyRequest
    schemas: SchemaSet
    walk: WalkState
    unsure: set[str] = field(default_factory=set)
    """Clusters whose object set is incomplete (something was not built)."""
    index: dict[str, dict[Key, Applied]] = field(default_factory=lambda: defaultdict(dict))
    duplicates: list[tuple[Applied, Applied]] = field(default_factory=list)
    namespaces: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    unvalidated: set[str] = field(default_factory=set)
    """`apiVersion kind` without a shipped schema, filled by the schema check."""

    def __post_init__(self) -> None:
        for a in self.applied:
            k = key(a.obj)
            previous = self.index[a.cluster].get(k)
            if previous is not None and previous.owner != a.owner:
                self.duplicates.append((previous, a))
            self.index[a.cluster].setdefault(k, a)
            if k[0] == "Namespace":
                self.namespaces[a.cluster].add(k[2])
            self.namespaces[a.cluster].update(created_namespaces(a.obj))

    def known_namespaces(self, cluster: str) -> set[str]:
        return self.namespaces[cluster] | EVERY_CLUSTER_NAMESPACES


def created_namespaces(obj: dict) -> set[str]:
    """Namespaces an object creates besides Namespace objects (Helm's createNamespace, Argo's option)."""
    spec = as_dict(obj.get("spec"))
    found: set[str] = set()
    if obj.get("kind") == "HelmRelease" and as_dict(spec.get("install")).get("createNamespace") is True:
        target = spec.get("targetNamespace") or meta(obj).get("namespace")
        if isinstance(target, str):
            found.add(target)
    if obj.get("kind") == "Application":
        options = as_list(as_dict(spec.get("syncPolicy")).get("syncOptions"))
        dest = as_dict(spec.get("destination")).get("namespace")
        if "CreateNamespace=true" in options and isinstance(dest, str):
            found.add(dest)
    return found


def scope(ctx: Applying, obj: dict) -> str | None:
    """`Namespaced`, `Cluster`, or None: from the schemas, else the well-known chart CRDs."""
    api, kind = str(obj.get("apiVersion") or ""), str(obj.get("kind") or "")
    found = ctx.schemas.scope(api, kind)
    if found is None and (split_api_version(api)[0], kind) in WELL_KNOWN_CLUSTER_SCOPED:
        return "Cluster"
    return found
