"""A namespaced object needs a namespace, and the layout (or every cluster, or the agent) creates it."""

from __future__ import annotations

from collections.abc import Iterator

from eksgitops.fleet.findings import ERROR, Finding
from eksgitops.fleet.schema import ident
from eksgitops.fleet.verify.checks.context import Applying
from eksgitops.fleet.verify.model import AGENT_NAMESPACE, LOCAL, meta


def check(ctx: Applying) -> Iterator[Finding]:
    agent_ns = AGENT_NAMESPACE.get(ctx.walk.agent, "flux-system")
    for a in ctx.applied:
        api, kind = str(a.obj.get("apiVersion") or ""), str(a.obj.get("kind") or "")
        ns = meta(a.obj).get("namespace")
        if ctx.schemas.scope(api, kind) != "Namespaced":
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
