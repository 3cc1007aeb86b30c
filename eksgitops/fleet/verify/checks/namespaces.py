"""A namespaced object needs a namespace, and the layout (or every cluster, or the agent) creates it."""

from __future__ import annotations

from collections.abc import Iterator

from eksgitops.fleet.findings import ERROR, Finding
from eksgitops.fleet.schema import ident
from eksgitops.fleet.verify.checks.context import Applying, scope
from eksgitops.fleet.verify.model import AGENT_NAMESPACE, LOCAL, Applied, as_dict, meta


def check(ctx: Applying) -> Iterator[Finding]:
    agent_ns = AGENT_NAMESPACE.get(ctx.walk.agent, "flux-system")
    for a in ctx.applied:
        kind = str(a.obj.get("kind") or "")
        ns = meta(a.obj).get("namespace")
        if kind == "HelmRelease" and a.cluster == LOCAL:
            yield from _helm_release(ctx, a, agent_ns)
        found = scope(ctx, a.obj)
        # A custom resource of a CRD verify does not know (a chart installs it) is namespaced when
        # it names a namespace: that namespace must exist, for Linkerd's kinds as for Istio's.
        if found == "Cluster" or (found is None and not ns):
            continue
        if not ns and a.argo:
            continue  # Argo CD applies it in the destination's namespace, else `default`
        if not ns:
            yield Finding(
                a.file,
                f"{ident(a.obj)}: namespaced {kind} without a namespace "
                "(set metadata.namespace, or the Kustomization's targetNamespace)",
                ERROR,
            )
            continue
        if not isinstance(ns, str) or a.cluster != LOCAL:
            continue  # the schema check reports a non-string; other clusters' namespaces are unknown
        if ns in ctx.known_namespaces(a.cluster) | {agent_ns}:
            continue
        yield Finding(
            a.file, f"{ident(a.obj)}: namespace {ns} is not created by anything in this layout", ERROR
        )


def _helm_release(ctx: Applying, a: Applied, agent_ns: str) -> Iterator[Finding]:
    """helm-controller installs into `targetNamespace` and keeps its records in `storageNamespace`
    (both default to the HelmRelease's own); `install.createNamespace` creates the target only."""
    spec = as_dict(a.obj.get("spec"))
    own = meta(a.obj).get("namespace")
    creates = as_dict(spec.get("install")).get("createNamespace") is True
    known = ctx.known_namespaces(a.cluster) | {agent_ns}
    target = spec.get("targetNamespace") or own
    for what in ("targetNamespace", "storageNamespace"):
        ns = spec.get(what)
        if not isinstance(ns, str) or not ns or ns == own or ns in known:
            continue
        if creates and ns == target:
            continue
        fix = " and no install.createNamespace: true" if what == "targetNamespace" else ""
        yield Finding(
            a.file,
            f"{ident(a.obj)}: {what} {ns} is not created by anything in this layout{fix}: helm-controller "
            "fails the install",
            ERROR,
        )
