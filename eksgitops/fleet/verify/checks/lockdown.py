"""FLUX-LOCKDOWN: the cross-namespace references `--no-cross-namespace-refs` makes the controllers refuse."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from eksgitops.fleet.findings import ERROR, NOT_CHECKED, Finding
from eksgitops.fleet.schema import ident, split_api_version
from eksgitops.fleet.verify.checks.context import Applying
from eksgitops.fleet.verify.model import LOCAL, as_dict, as_list, meta

# What `--no-cross-namespace-refs=true` refuses, per controller (read in the controllers' sources,
# Flux 2.x: kustomize-controller getSource, helm-controller internal/acl, image-reflector-controller
# getImageRepository, image-automation-controller, notification-controller's event and receiver
# servers). `dependsOn` of Kustomizations and HelmReleases, `healthChecks`, `targetNamespace` and
# `storageNamespace` are not affected; source-watcher would refuse cross-namespace ArtifactGenerator
# sources too, but the agent does not give it the flag.
LOCKDOWN_EFFECT = {
    "Kustomization": "kustomize-controller stops it (AccessDenied)",
    "HelmRelease": "helm-controller stops it (AccessDenied)",
    "ImagePolicy": "image-reflector-controller stops it (AccessDenied)",
    "ImageUpdateAutomation": "image-automation-controller stops it (AccessDenied)",
    "Alert": "notification-controller discards that namespace's events",
    "Receiver": "notification-controller refuses to trigger it",
}


def cross_namespace_refs(obj: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(field, kind, namespace, name) of each reference `--no-cross-namespace-refs` refuses in `obj`.

    Only Flux kinds whose controller checks the flag (LOCKDOWN_EFFECT); a reference without a
    namespace is in the object's own and never listed.
    """
    kind = str(obj.get("kind") or "")
    group, _ = split_api_version(str(obj.get("apiVersion") or ""))
    if kind not in LOCKDOWN_EFFECT or not group.endswith(".toolkit.fluxcd.io"):
        return []
    ns = meta(obj).get("namespace")
    spec = as_dict(obj.get("spec"))
    refs: list[tuple[str, Any]] = []
    if kind in ("Kustomization", "ImageUpdateAutomation"):
        refs.append(("sourceRef", spec.get("sourceRef")))
    elif kind == "HelmRelease":
        refs.append(
            ("chart.spec.sourceRef", as_dict(as_dict(spec.get("chart")).get("spec")).get("sourceRef"))
        )
        refs.append(("chartRef", spec.get("chartRef")))
    elif kind == "ImagePolicy":
        refs.append(("imageRepositoryRef", spec.get("imageRepositoryRef")))
    elif kind == "Alert":
        refs.extend(("eventSources", s) for s in as_list(spec.get("eventSources")))
    else:
        refs.extend(("resources", r) for r in as_list(spec.get("resources")))
    found: list[tuple[str, str, str, str]] = []
    for what, ref in refs:
        if not isinstance(ref, dict):
            continue
        ref_ns = ref.get("namespace")
        if isinstance(ref_ns, str) and ref_ns and ref_ns != ns:
            ref_kind = str(ref.get("kind") or ("ImageRepository" if kind == "ImagePolicy" else ""))
            found.append((what, ref_kind, ref_ns, str(ref.get("name") or "")))
    return found


def check(ctx: Applying) -> Iterator[Finding]:
    request = ctx.request
    if ctx.walk.agent != "flux" or request.cross_namespace_refs == "allowed":
        return
    for a in ctx.applied:
        if a.cluster != LOCAL or a.argo:
            continue
        own = str(a.obj.get("kind"))
        for what, kind, ns, name in cross_namespace_refs(a.obj):
            ref = f"{ident(a.obj)}: {what} {kind} {ns}/{name} is in another namespace"
            if request.cross_namespace_refs == "unknown":
                yield Finding(
                    a.file,
                    f"{ref}, which the controllers refuse with --no-cross-namespace-refs "
                    "(FLUX-LOCKDOWN, the agent's default); not assumed here (pass --stack STACK, or "
                    "--no-cross-namespace-refs)",
                    NOT_CHECKED,
                )
                continue
            if request.stack:
                why = f"stack {request.stack} runs the controllers with --no-cross-namespace-refs"
                allow = "gitops.crossNamespaceRefs: true in the stack"
            else:
                why, allow = "assumed --no-cross-namespace-refs", "--cross-namespace-refs"
            remedy = (
                f"one {own} per namespace" if own in ("Alert", "Receiver") else "keep both in one namespace"
            )
            yield Finding(
                a.file,
                f"{ref}: refused under FLUX-LOCKDOWN ({why}): {LOCKDOWN_EFFECT[own]}; {remedy}, "
                f"or allow it with {allow}",
                ERROR,
            )
