"""Chart versions that are missing or not exact: every reconcile may install another chart."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from eksgitops.fleet.findings import POLICY, Finding
from eksgitops.fleet.schema import ident
from eksgitops.fleet.verify.checks.context import Applying
from eksgitops.fleet.verify.model import Applied, as_dict, as_list, meta

EXACT_VERSION = re.compile(r"v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?")


def pin(where: str, who: str, chart: str, version: Any) -> Iterator[Finding]:
    if version is None or version == "":
        yield Finding(
            where, f"{who}: chart {chart} has no version: the latest is installed on every reconcile", POLICY
        )
    elif not isinstance(version, str) or not EXACT_VERSION.fullmatch(version):
        yield Finding(where, f"{who}: chart {chart} version {version!r} is not an exact version", POLICY)


def check(ctx: Applying) -> Iterator[Finding]:
    for a in ctx.applied:
        kind = a.obj.get("kind")
        spec = as_dict(a.obj.get("spec"))
        who = ident(a.obj)
        if kind == "HelmRelease":
            yield from _helm_release(ctx, a, spec, who)
        elif kind == "HelmChart" and str(a.obj.get("apiVersion", "")).startswith("source.toolkit.fluxcd.io/"):
            yield from pin(a.file, who, str(spec.get("chart")), spec.get("version"))
        elif kind == "Application" and a.argo:
            for src in [spec.get("source"), *as_list(spec.get("sources"))]:
                if isinstance(src, dict) and src.get("chart"):
                    revision = src.get("targetRevision")
                    if not (isinstance(revision, str) and "{{" in revision):
                        yield from pin(a.file, who, str(src["chart"]), revision)


def _helm_release(ctx: Applying, a: Applied, spec: dict[str, Any], who: str) -> Iterator[Finding]:
    chart = as_dict(as_dict(spec.get("chart")).get("spec"))
    if chart:
        yield from pin(a.file, who, str(chart.get("chart")), chart.get("version"))
    ref = as_dict(spec.get("chartRef"))
    if ref.get("kind") != "OCIRepository":
        return
    ns = str(ref.get("namespace") or meta(a.obj).get("namespace") or "")
    oci = ctx.walk.lookup("OCIRepository", ns, str(ref.get("name")))
    if oci is None:
        return
    oref = as_dict(as_dict(oci.get("spec")).get("ref"))
    if oref.get("digest"):
        return
    if "semver" in oref:
        yield from pin(a.file, who, f"OCIRepository {ns}/{ref.get('name')}", oref.get("semver"))
    elif not oref.get("tag") or oref.get("tag") == "latest":
        yield Finding(
            a.file, f"{who}: chart OCIRepository {ns}/{ref.get('name')} follows the latest tag", POLICY
        )
