"""Is the GitOps agent up, and is everything it applies Ready at the expected Git revision?

Shared by `rebuild` (as waits) and `verify` (as one look). Flux: the Flux Operator's
`FluxInstance flux-system/flux` and every `Kustomization` (kustomize.toolkit.fluxcd.io/v1,
Ready, `status.lastAppliedRevision` like `main@sha1:<sha>`). Argo CD (`argocd`, and AWS's
managed `eks-argocd`, whose controllers run outside the cluster): every `Application`
Synced and Healthy; only those whose single source is the fleet repository are compared
to the commit. A Helm-repository source's revision is its chart version, and a
multi-source Application reports `status.sync.revisions`: those are judged by Synced and
Healthy alone.

A revision "matches" when it is the expected commit, or (with `accepts`) a later commit of
the fleet that contains it: someone pushed while we waited (`revisions.RevisionJudge`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eksgitops.dr.cluster_api import (
    APPLICATION,
    CONFIG_MAP,
    DEPLOYMENT,
    FLUX_INSTANCE,
    KUSTOMIZATION,
    NODE,
    SECRET,
    ClusterApi,
    KindNotServed,
    condition,
    ident,
)
from eksgitops.dr.waits import Probe

FLUX_NAMESPACE = "flux-system"
FLUX_INSTANCE_NAME = "flux"
BRIDGE_CONFIGMAP = "cluster-vars"
ARGO_NAMESPACE = "argocd"
ARGO_REPO_SERVER = "argocd-repo-server"
ARGO_AGENTS = ("argocd", "eks-argocd")

Accepts = Callable[[str], bool]


def is_argo(agent: str) -> bool:
    """Argo CD in the cluster (argocd) or run by AWS (eks-argocd): Applications either way."""
    return agent in ARGO_AGENTS


def _same_repo(a: str, b: str) -> bool:
    def norm(url: str) -> str:
        return url.strip().removesuffix("/").removesuffix(".git").lower()

    return norm(a) == norm(b)


def compared_to_commit(app: dict[str, Any], repo_url: str | None) -> bool:
    """Is this Application's revision a commit of the fleet (rather than a chart version, or several)?"""
    spec = app.get("spec") or {}
    if spec.get("sources") or (app.get("status", {}).get("sync") or {}).get("revisions"):
        return False  # multi-source: status.sync.revisions, one per source
    source = spec.get("source") or {}
    if source.get("chart"):
        return False  # a Helm repository: the revision is the chart version
    url = source.get("repoURL")
    if repo_url is None or not isinstance(url, str):
        return True
    return _same_repo(url, repo_url)


def revision_matches(applied: str | None, sha: str, accepts: Accepts | None = None) -> bool:
    """Flux writes `main@sha1:<sha>` (or `sha1:<sha>`, or the older `main/<sha>`); Argo CD the bare sha.

    `accepts` also lets through another commit (a descendant of `sha`)."""
    if not applied or not sha:
        return False
    tail = applied.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    return tail == sha or (accepts is not None and accepts(tail))


def _cond_text(cond: dict[str, Any] | None) -> str:
    if cond is None:
        return "no Ready condition yet"
    message = " ".join(str(cond.get("message", "")).split())[:200]
    return f"Ready={cond.get('status')} ({cond.get('reason', '')}: {message})"


def agent_probe(api: ClusterApi, agent: str) -> Probe:
    """One look at the agent itself."""
    if agent == "eks-argocd":
        # AWS runs the controllers; what the cluster shows is the Application CRD they serve.
        subject = "the managed Argo CD (EKS capability)"
        try:
            api.list(APPLICATION, ARGO_NAMESPACE)
        except KindNotServed:
            return Probe(False, "the Application CRD is not installed yet (capability not active)", subject)
        return Probe(True, "the Application CRD is served", subject)
    if agent == "argocd":
        subject = f"Deployment {ARGO_NAMESPACE}/{ARGO_REPO_SERVER}"
        deployment = api.get(DEPLOYMENT, ARGO_REPO_SERVER, ARGO_NAMESPACE)
        if deployment is None:
            return Probe(False, "not found", subject)
        available = condition(deployment, "Available")
        ok = bool(available and available.get("status") == "True")
        return Probe(ok, f"Available={available.get('status') if available else 'unknown'}", subject)
    subject = f"FluxInstance {FLUX_NAMESPACE}/{FLUX_INSTANCE_NAME}"
    try:
        instance = api.get(FLUX_INSTANCE, FLUX_INSTANCE_NAME, FLUX_NAMESPACE)
    except KindNotServed:
        return Probe(False, "the FluxInstance CRD is not installed (Flux Operator missing)", subject)
    if instance is None:
        return Probe(False, "not found", subject)
    ready = condition(instance)
    return Probe(bool(ready and ready.get("status") == "True"), _cond_text(ready), subject)


def workloads_probe(
    api: ClusterApi, agent: str, sha: str, *, accepts: Accepts | None = None, repo_url: str | None = None
) -> Probe:
    """One look at everything the agent applies: all Ready/Healthy at `sha` (or what `accepts`).

    `repo_url`: the fleet repository; an Application of another source is not compared to
    the commit. The first object holding things up becomes the probe's subject, so a timeout
    names it.
    """
    if is_argo(agent):
        try:
            apps = api.list(APPLICATION)
        except KindNotServed:
            return Probe(False, "the Application CRD is not installed", "Argo CD Applications")
        if not apps:
            return Probe(False, "no Application yet", "Argo CD Applications")
        for app in sorted(apps, key=lambda o: ident(o)):
            name, namespace = ident(app)
            status = app.get("status", {})
            sync = status.get("sync", {})
            health = status.get("health", {}).get("status")
            compared = compared_to_commit(app, repo_url)
            if (
                sync.get("status") != "Synced"
                or (compared and not revision_matches(sync.get("revision"), sha, accepts))
                or health != "Healthy"
            ):
                at = f" at {sha[:12]}" if compared else ""
                return Probe(
                    False,
                    f"sync {sync.get('status')} at {sync.get('revision') or 'no revision'}, health {health}; "
                    f"expected Synced{at} and Healthy",
                    APPLICATION.describe(name, namespace),
                )
        return Probe(True, f"{len(apps)} Applications Synced at {sha[:12]} and Healthy")
    try:
        kustomizations = api.list(KUSTOMIZATION)
    except KindNotServed:
        return Probe(False, "the Kustomization CRD is not installed", "Flux Kustomizations")
    if not kustomizations:
        return Probe(False, "no Kustomization yet", "Flux Kustomizations")
    for ks in sorted(kustomizations, key=lambda o: ident(o)):
        name, namespace = ident(ks)
        ready = condition(ks)
        applied = ks.get("status", {}).get("lastAppliedRevision")
        if not (ready and ready.get("status") == "True") or not revision_matches(applied, sha, accepts):
            return Probe(
                False,
                f"{_cond_text(ready)}, lastAppliedRevision {applied or 'none'}; expected Ready at {sha[:12]}",
                KUSTOMIZATION.describe(name, namespace),
            )
    return Probe(True, f"{len(kustomizations)} Kustomizations Ready at {sha[:12]}")


def failed_reconciliations(api: ClusterApi, agent: str) -> list[str]:
    """Objects whose last reconciliation failed (Ready=False other than in progress, or Degraded)."""
    failed: list[str] = []
    if is_argo(agent):
        for app in api.list(APPLICATION):
            name, namespace = ident(app)
            health = app.get("status", {}).get("health", {}).get("status")
            if health in ("Degraded", "Missing"):
                failed.append(f"{APPLICATION.describe(name, namespace)}: health {health}")
            for cond in app.get("status", {}).get("conditions", []) or []:
                if str(cond.get("type", "")).endswith("Error"):
                    failed.append(
                        f"{APPLICATION.describe(name, namespace)}: "
                        f"{cond.get('type')} {cond.get('message', '')}"
                    )
        return failed
    for ks in api.list(KUSTOMIZATION):
        name, namespace = ident(ks)
        ready = condition(ks)
        if ready and ready.get("status") == "False" and ready.get("reason") != "Progressing":
            failed.append(f"{KUSTOMIZATION.describe(name, namespace)}: {_cond_text(ready)}")
    return failed


def nodes_probe(api: ClusterApi, want: int) -> Probe:
    """At least `want` nodes Ready."""
    nodes = api.list(NODE)
    ready = [n for n in nodes if (c := condition(n)) and c.get("status") == "True"]
    return Probe(len(ready) >= want, f"{len(ready)} of {len(nodes)} nodes Ready, {want} wanted", "nodes")


def bridge_in_cluster(api: ClusterApi, agent: str) -> tuple[str, dict[str, str] | None]:
    """Where the bridge lives and its values: ConfigMap (Flux) or cluster Secret annotations (Argo CD)."""
    if is_argo(agent):
        for secret in api.list(SECRET, ARGO_NAMESPACE):
            labels = secret.get("metadata", {}).get("labels", {}) or {}
            if labels.get("argocd.argoproj.io/secret-type") == "cluster":
                name, _ = ident(secret)
                return f"Secret {ARGO_NAMESPACE}/{name} annotations", dict(
                    secret.get("metadata", {}).get("annotations", {}) or {}
                )
        return f"the in-cluster cluster Secret in {ARGO_NAMESPACE}", None
    cm = api.get(CONFIG_MAP, BRIDGE_CONFIGMAP, FLUX_NAMESPACE)
    where = f"ConfigMap {FLUX_NAMESPACE}/{BRIDGE_CONFIGMAP}"
    return where, (dict(cm.get("data", {}) or {}) if cm is not None else None)
