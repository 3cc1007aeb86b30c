"""Custom resources in the same Flux Kustomization as the HelmRelease whose chart installs their CRD.

kustomize-controller dry-runs every object of a Kustomization server-side before it applies any
of them. A CRD in the same Kustomization is applied first, in its own stage; a CRD a chart
installs exists only after helm-controller has installed the release, which the failed dry-run
never creates. On a fresh cluster that Kustomization therefore never converges.

Charts are not rendered here, so the chart is matched to the custom resource's API group by name
(`cert-manager` installs `cert-manager.io`, `external-secrets` installs `external-secrets.io`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from eksgitops.fleet.findings import ERROR, Finding
from eksgitops.fleet.schema import ident, split_api_version
from eksgitops.fleet.verify.checks.context import Applying
from eksgitops.fleet.verify.model import LOCAL, Applied, as_dict

_GENERIC = frozenset(
    {"chart", "charts", "crd", "crds", "helm", "operator", "controller", "controllers", "stack", "kube"}
    | {"kubernetes", "k8s", "app", "apps", "io", "com", "org", "net", "dev", "sh", "x", "api", "system"}
)


def _tokens(text: str) -> set[str]:
    return {t for t in re.split(r"[^a-z0-9]+", text.lower()) if len(t) >= 3 and t not in _GENERIC}


def _chart_name(release: dict) -> str:
    spec = as_dict(release.get("spec"))
    chart = as_dict(as_dict(spec.get("chart")).get("spec")).get("chart")
    if isinstance(chart, str):
        return chart.rsplit("/", 1)[-1]
    ref = as_dict(spec.get("chartRef")).get("name")
    return ref if isinstance(ref, str) else ""


def _installs_crds(release: dict) -> bool:
    install = as_dict(as_dict(release.get("spec")).get("install"))
    return install.get("crds") != "Skip" and install.get("skipCRDs") is not True


def _crd_kind(crd: dict) -> tuple[str, str]:
    spec = as_dict(crd.get("spec"))
    return str(spec.get("group")), str(as_dict(spec.get("names")).get("kind"))


def check(ctx: Applying) -> Iterator[Finding]:
    by_owner: dict[str, list[Applied]] = defaultdict(list)
    for a in ctx.applied:
        if a.cluster == LOCAL and not a.argo and a.owner.startswith("Kustomization "):
            by_owner[a.owner].append(a)
    applied_crds = {_crd_kind(a.obj) for a in ctx.applied if a.obj.get("kind") == "CustomResourceDefinition"}
    for owner, items in by_owner.items():
        releases = [a.obj for a in items if a.obj.get("kind") == "HelmRelease" and _installs_crds(a.obj)]
        if not releases:
            continue
        for a in items:
            api, kind = str(a.obj.get("apiVersion") or ""), str(a.obj.get("kind") or "")
            group = split_api_version(api)[0]
            if not group or (group, kind) in applied_crds or ctx.schemas.scope(api, kind) is not None:
                continue  # a built-in kind, or a CRD this layout or the agent installs
            wanted = _tokens(group)
            installer = next((r for r in releases if _tokens(_chart_name(r)) & wanted), None)
            if installer is None:
                continue
            name = owner.rsplit("/", 1)[-1]
            yield Finding(
                a.file,
                f"{ident(a.obj)}: its CRD ({group}) comes with the chart of {ident(installer)}, applied by "
                f"the same {owner}; Flux's server-side dry-run of that Kustomization fails on a fresh "
                "cluster before anything is applied, so the HelmRelease is never created: move the custom "
                f"resources into a Kustomization that dependsOn {name}",
                ERROR,
            )
