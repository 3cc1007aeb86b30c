"""`dependsOn`, `sourceRef`, `chartRef`, `imageRepositoryRef`, `providerRef`, ArtifactGenerator
`sources` and `healthChecks` must name something that exists (substituteFrom: flux.py, at build)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from eksgitops.fleet.findings import ERROR, NOT_CHECKED, Finding
from eksgitops.fleet.schema import ident, split_api_version
from eksgitops.fleet.verify.checks.context import Applying, scope
from eksgitops.fleet.verify.model import (
    AGENT_OBJECTS,
    FLUX_KINDS,
    LOCAL,
    Applied,
    Key,
    as_dict,
    as_list,
    meta,
)


def exists(ctx: Applying, cluster: str, k: Key) -> bool:
    if k in ctx.index[cluster]:
        return True
    if cluster == LOCAL and (k in AGENT_OBJECTS or ctx.walk.fluxinstance_sync(*k)):
        return True
    return k[0] == "ExternalArtifact" and ctx.walk.generator_of(k[1], k[2]) is not None


def references(obj: dict[str, Any]) -> list[tuple[str, Any, Any, Any]]:
    """(field, kind, name, namespace) of each reference a Flux object makes."""
    kind = str(obj.get("kind") or "")
    spec = as_dict(obj.get("spec"))
    refs: list[tuple[str, Any, Any, Any]] = []
    if kind in ("Kustomization", "HelmRelease"):
        for dep in as_list(spec.get("dependsOn")):
            if isinstance(dep, dict):
                refs.append(("dependsOn", kind, dep.get("name"), dep.get("namespace")))
    source = as_dict(spec.get("sourceRef"))
    if source.get("name"):
        refs.append(
            ("sourceRef", source.get("kind") or "GitRepository", source["name"], source.get("namespace"))
        )
    chart_source = as_dict(as_dict(as_dict(spec.get("chart")).get("spec")).get("sourceRef"))
    if chart_source.get("name"):
        refs.append(
            (
                "chart.spec.sourceRef",
                chart_source.get("kind"),
                chart_source["name"],
                chart_source.get("namespace"),
            )
        )
    chart_ref = as_dict(spec.get("chartRef"))
    if chart_ref.get("name"):
        refs.append(("chartRef", chart_ref.get("kind"), chart_ref["name"], chart_ref.get("namespace")))
    for field_name, ref_kind in (("imageRepositoryRef", "ImageRepository"), ("providerRef", "Provider")):
        ref = as_dict(spec.get(field_name))
        if ref.get("name"):
            refs.append((field_name, ref_kind, ref["name"], ref.get("namespace")))
    if kind == "ArtifactGenerator":
        for src in as_list(spec.get("sources")):
            if isinstance(src, dict) and src.get("name"):
                refs.append(("sources", src.get("kind"), src["name"], src.get("namespace")))
    return refs


def check(ctx: Applying) -> Iterator[Finding]:
    for a in ctx.applied:
        group, _ = split_api_version(str(a.obj.get("apiVersion") or ""))
        if not group.endswith("fluxcd.io"):
            continue
        ns = str(meta(a.obj).get("namespace") or "")
        for what, ref_kind, name, ref_ns in references(a.obj):
            k = (str(ref_kind), str(ref_ns or ns), str(name))
            if not exists(ctx, a.cluster, k):
                yield Finding(a.file, f"{ident(a.obj)}: {what} {k[0]} {k[1]}/{k[2]} not found", ERROR)
        if a.obj.get("kind") == "Kustomization":
            yield from _health_checks(ctx, a)


def _health_checks(ctx: Applying, a: Applied) -> Iterator[Finding]:
    spec = as_dict(a.obj.get("spec"))
    if isinstance(spec.get("kubeConfig"), dict):
        return
    for hc in as_list(spec.get("healthChecks")):
        if not isinstance(hc, dict):
            continue
        k = (str(hc.get("kind")), str(hc.get("namespace") or ""), str(hc.get("name")))
        if exists(ctx, a.cluster, k) or _cluster_scoped_exists(ctx, a.cluster, hc, k):
            continue
        what = f"{ident(a.obj)}: healthChecks {k[0]} {k[1]}/{k[2]}"
        # Flux's own objects live in the platform repository; other kinds may come from a
        # source verify did not build, or from a chart a HelmRelease installs.
        if k[0] not in FLUX_KINDS:
            if a.cluster in ctx.unsure:
                yield Finding(a.file, f"{what} (may come from a source not built)", NOT_CHECKED)
                continue
            releases = _releases_into(ctx, a.cluster, k[1])
            if releases:
                yield Finding(
                    a.file,
                    f"{what} (may be created by {', '.join(releases)}; charts are not rendered)",
                    NOT_CHECKED,
                )
                continue
        yield Finding(a.file, f"{what} is applied by nothing in this layout", ERROR)


def _cluster_scoped_exists(ctx: Applying, cluster: str, hc: dict[str, Any], k: Key) -> bool:
    """A cluster-scoped object has no namespace, whatever kustomize's targetNamespace wrote on it."""
    for (kind, _, name), applied in ctx.index[cluster].items():
        if kind == k[0] and name == k[2] and scope(ctx, applied.obj) == "Cluster":
            return True
    api = hc.get("apiVersion")
    if isinstance(api, str) and not k[1]:
        return ctx.schemas.scope(api, k[0]) == "Cluster" and bool(_releases_into(ctx, cluster, None))
    return False


def _releases_into(ctx: Applying, cluster: str, ns: str | None) -> list[str]:
    """HelmReleases installing into `ns` (None: any), whose chart may create the object."""
    found = []
    for a in ctx.applied:
        if a.cluster != cluster or a.obj.get("kind") != "HelmRelease":
            continue
        spec = as_dict(a.obj.get("spec"))
        target = spec.get("targetNamespace") or meta(a.obj).get("namespace")
        if ns is None or not ns or target == ns:
            found.append(ident(a.obj))
    return sorted(found)
