"""What is applied but whose result verify does not render: Helm charts, ResourceSet templates."""

from __future__ import annotations

from collections.abc import Iterator

from eksgitops.fleet.findings import NOT_CHECKED, Finding
from eksgitops.fleet.schema import ident
from eksgitops.fleet.verify.checks.context import Applying


def check(ctx: Applying) -> Iterator[Finding]:
    helm_releases = 0
    for a in ctx.applied:
        kind, api = a.obj.get("kind"), str(a.obj.get("apiVersion") or "")
        if kind == "HelmRelease":
            helm_releases += 1
        if kind == "ResourceSet" and api.startswith("fluxcd.controlplane.io/"):
            yield Finding(a.file, f"{ident(a.obj)}: the objects it templates are not rendered", NOT_CHECKED)
    if helm_releases:
        yield Finding(
            "",
            f"Helm chart contents and values of {helm_releases} HelmRelease(s) (charts are not downloaded)",
            NOT_CHECKED,
        )
