"""Which changes destroy data, or hit a field the API server refuses to change.

A delete is destructive when the agent really deletes (`Change.pruned`) a Namespace (everything in
it goes), a CustomResourceDefinition (every custom resource of it goes), a PersistentVolumeClaim
(its volume, with the usual `Delete` reclaim policy) or a StatefulSet with volume claim templates.
An update is destructive when it changes a field that is immutable once created: the agent's
apply fails, or with `force` it deletes and recreates the object. A HelmRelease (or an Argo CD
Helm source) moving to another major chart version is flagged too: majors are where charts
rename, drop and recreate resources.
"""

from __future__ import annotations

import re
from typing import Any

from eksgitops.fleet.diff.model import Destructive
from eksgitops.fleet.schema import split_api_version
from eksgitops.fleet.verify.model import as_dict, as_list

IMMUTABLE: dict[tuple[str, str], tuple[str, ...]] = {
    ("apps", "Deployment"): ("spec.selector",),
    ("apps", "DaemonSet"): ("spec.selector",),
    ("apps", "ReplicaSet"): ("spec.selector",),
    ("apps", "StatefulSet"): (
        "spec.selector",
        "spec.serviceName",
        "spec.podManagementPolicy",
        "spec.volumeClaimTemplates",
    ),
    ("", "Service"): ("spec.clusterIP", "spec.clusterIPs"),
    ("batch", "Job"): ("spec.template", "spec.selector", "spec.completionMode"),
    ("", "PersistentVolumeClaim"): ("spec.storageClassName", "spec.accessModes", "spec.volumeName"),
    ("storage.k8s.io", "StorageClass"): ("provisioner", "parameters", "reclaimPolicy", "volumeBindingMode"),
}
"""Fields the API server refuses to change after creation, per (API group, kind)."""

_MAJOR = re.compile(r"\d+")


def group_kind(obj: dict[str, Any]) -> tuple[str, str]:
    return split_api_version(str(obj.get("apiVersion") or ""))[0], str(obj.get("kind") or "")


def _get(obj: dict[str, Any], dotted: str) -> Any:
    value: Any = obj
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def on_delete(obj: dict[str, Any], base_objects: list[dict[str, Any]]) -> list[Destructive]:
    """Why deleting `obj` (pruned) is destructive; `base_objects`: everything at base, to count
    what goes with a Namespace or a CRD."""
    group, kind = group_kind(obj)
    name = str(as_dict(obj.get("metadata")).get("name") or "")
    if (group, kind) == ("", "Namespace"):
        inside = sum(1 for o in base_objects if as_dict(o.get("metadata")).get("namespace") == name)
        return [
            Destructive(
                "namespace-deleted",
                f"deleting Namespace {name} deletes every object in it ({inside} listed in Git at base, "
                "and whatever else runs there: pods, volumes' claims, Secrets)",
            )
        ]
    if (group, kind) == ("apiextensions.k8s.io", "CustomResourceDefinition"):
        crs = of_crd(obj, base_objects)
        return [
            Destructive(
                "crd-deleted",
                f"deleting CustomResourceDefinition {name} deletes every custom resource of it "
                f"({len(crs)} in Git at base, and any created in the cluster)",
            )
        ]
    if (group, kind) == ("", "PersistentVolumeClaim"):
        return [
            Destructive(
                "pvc-deleted",
                f"deleting PersistentVolumeClaim {name} deletes its volume and the data on it "
                "(with the Delete reclaim policy of dynamically provisioned volumes)",
            )
        ]
    if (group, kind) == ("apps", "StatefulSet") and as_list(_get(obj, "spec.volumeClaimTemplates")):
        policy = as_dict(_get(obj, "spec.persistentVolumeClaimRetentionPolicy")).get("whenDeleted")
        what = (
            "its PersistentVolumeClaims and their data are deleted (persistentVolumeClaimRetentionPolicy."
            "whenDeleted: Delete)"
            if policy == "Delete"
            else "its PersistentVolumeClaims stay, attached to nothing, until someone deletes them"
        )
        return [
            Destructive(
                "volume-claim-templates-deleted",
                f"deleting StatefulSet {name} with volume claim templates: {what}",
            )
        ]
    return []


def of_crd(crd: dict[str, Any], objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The custom resources of `crd` among `objects`."""
    spec = as_dict(crd.get("spec"))
    group, kind = spec.get("group"), as_dict(spec.get("names")).get("kind")
    return [o for o in objects if group_kind(o) == (group, kind)]


def on_update(old: dict[str, Any], new: dict[str, Any], forced: bool, agent: str) -> list[Destructive]:
    """Why updating `old` to `new` is destructive (`forced`: the owner recreates instead of failing)."""
    out: list[Destructive] = []
    fields = IMMUTABLE.get(group_kind(new), ())
    outcome = (
        "the agent deletes and recreates the object (force)"
        if forced
        else f"{agent}'s apply fails on it, and keeps failing until the object is deleted by hand"
    )
    for dotted in fields:
        before, after = _get(old, dotted), _get(new, dotted)
        if before == after:
            continue
        if dotted.startswith("spec.clusterIP") and (before is None or after is None):
            continue  # assigned by the cluster when not set: leaving it out changes nothing
        if dotted == "spec.volumeClaimTemplates":
            out.append(
                Destructive(
                    "volume-claim-templates-deleted"
                    if _template_names(before) - _template_names(after)
                    else "immutable-field",
                    f"{dotted} is immutable: {outcome}; claims of removed templates are no longer used",
                )
            )
            continue
        out.append(Destructive("immutable-field", f"{dotted} is immutable: {outcome}"))
    major = _chart_major(old), _chart_major(new)
    if major[0] is not None and major[1] is not None and major[0] != major[1]:
        out.append(
            Destructive(
                "chart-major-version",
                f"chart major version {major[0]} -> {major[1]}: a new major may rename, drop or "
                "recreate resources (read the chart's upgrade notes)",
            )
        )
    return out


def _template_names(value: Any) -> set[str]:
    return {str(as_dict(as_dict(t).get("metadata")).get("name")) for t in as_list(value)}


def _chart_major(obj: dict[str, Any]) -> int | None:
    """The chart's major version of a HelmRelease, or of an Argo CD Application's Helm source."""
    group, kind = group_kind(obj)
    version: Any = None
    if (group, kind) == ("helm.toolkit.fluxcd.io", "HelmRelease"):
        version = _get(obj, "spec.chart.spec.version")
    elif (group, kind) == ("argoproj.io", "Application"):
        spec = as_dict(obj.get("spec"))
        sources = [as_dict(spec.get("source")), *map(as_dict, as_list(spec.get("sources")))]
        charts = [s.get("targetRevision") for s in sources if s.get("chart")]
        version = charts[0] if len(charts) == 1 else None
    if not isinstance(version, str):
        return None
    found = _MAJOR.search(version)
    # A range such as ">=1.0.0 <2.0.0" or "*" names no single major; only a plain version does.
    if found is None or not re.fullmatch(r"[v=^~]?\d+(\.[\dx*]+)*(-[\w.]+)?(\+[\w.]+)?", version.strip()):
        return None
    return int(found.group())
