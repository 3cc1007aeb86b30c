"""GITOPS-VERIFY: a production-like cluster applies only signed revisions of the fleet.

"Production-like" is a cluster with deletion protection on (the stack says it must not go
away by accident; neither should it run a commit nobody approved). The rule reads the agent
objects in their upstream shapes: a FluxInstance must patch its sync GitRepository or
OCIRepository with `spec.verify` (the Flux Operator's documented way, see
components/gitops/verify_objects.py); Argo CD from the chart must have an AppProject with
`signatureKeys`; the EKS managed Argo CD capability offers eksgitops no way to load keys, so
it is a finding there, to be waived with a reason (docs/signing.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from eksgitops.components import type_tokens as tokens
from eksgitops.policy.gitops import argo_releases
from eksgitops.policy.model import Finding, Graph, Resource, as_list, finding, get

RULE = "GITOPS-VERIFY"
APP_PROJECT = "kubernetes:argoproj.io/v1alpha1:AppProject"
_SYNC_KINDS = re.compile(r"\(?(GitRepository|OCIRepository)(\|(GitRepository|OCIRepository))*\)?")


def protected(graph: Graph) -> bool:
    """Whether a cluster of the stack has deletion protection on."""
    return any(
        r.props.get("deletionProtection") is True
        for r in graph.effective(tokens.EKS_CLUSTER, tokens.AWS_EKS_CLUSTER)
    )


def _verifies_sync(instance: Resource) -> bool:
    for patch in as_list(get(instance.props, "spec.kustomize.patches", [])):
        if not isinstance(patch, Mapping):
            continue
        kind = get(patch, "target.kind", "")
        if (
            isinstance(kind, str)
            and _SYNC_KINDS.fullmatch(kind)
            and "/spec/verify" in str(patch.get("patch", ""))
        ):
            return True
    return False


def _argo_capabilities(graph: Graph) -> list[Resource]:
    return [c for c in graph.of_type(tokens.EKS_CAPABILITY) if c.props.get("type") == "ARGOCD"]


def subjects(graph: Graph) -> list[Resource]:
    return [*graph.of_type(tokens.FLUX_INSTANCE), *argo_releases(graph), *_argo_capabilities(graph)]


def check_verified_sources(graph: Graph) -> Iterator[Finding]:
    if not protected(graph):
        return
    for instance in graph.of_type(tokens.FLUX_INSTANCE):
        if get(instance.props, "spec.sync") and not _verifies_sync(instance):
            yield finding(
                RULE,
                instance,
                "deletion protection is on, but the sync source is not verified: any commit or artifact "
                "pushed is applied (set gitops.verify)",
            )
    projects = [p for p in graph.of_type(APP_PROJECT) if as_list(get(p.props, "spec.signatureKeys", []))]
    for release in argo_releases(graph):
        if not projects:
            yield finding(
                RULE,
                release,
                "deletion protection is on, but no AppProject requires signatureKeys: any commit pushed "
                "is synced (set gitops.verify)",
            )
    for capability in _argo_capabilities(graph):
        yield finding(
            RULE,
            capability,
            "deletion protection is on, and the managed Argo CD capability verifies no commit signatures "
            "(eksgitops cannot load keys into it; waive with the reason, e.g. signatures checked in CI "
            "with `eksgitops fleet verify --trusted-keys`)",
        )
