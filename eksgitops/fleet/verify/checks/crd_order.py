"""Where a custom resource's CRD comes from, by what is known, never by a chart's name.

kustomize-controller dry-runs every object of a Kustomization server-side before it applies any
of them. A CRD in the same Kustomization is applied first, in its own stage; a CRD a chart
installs exists only after helm-controller has installed the release, which the failed dry-run
never creates. On a fresh cluster such a Kustomization therefore never converges.

Charts are not rendered (no maintained Helm engine installs from the package registries and
renders offline within verify's bounds), so which chart installs which CRD is not known. What is
known, for a custom resource applied by Kustomization K:
- its CRD is applied by K or by a Kustomization K depends on, or the agent installs it: nothing
  to say;
- its CRD is applied by another Kustomization K does not depend on: K fails its dry-run until
  that one has run (policy: Flux retries, the first reconcile of a fresh cluster fails);
- its CRD is in no source we can see, and the only charts that could install it are applied by K
  itself (K depends on no Kustomization that installs charts): if one of them installs it, K
  never converges (error, naming K's charts as the candidates, not picking one by its name);
- its CRD is in no source we can see and no chart could install it before K: it reconciles only
  where something else installed the CRD (policy).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from eksgitops.fleet.findings import ERROR, POLICY, Finding
from eksgitops.fleet.schema import BUILTIN_GROUPS, ident, split_api_version
from eksgitops.fleet.verify.checks.context import Applying
from eksgitops.fleet.verify.model import LOCAL, Applied, as_dict, as_list, meta

AGENT_CRDS = {
    "flux": lambda group, kind: group.endswith(".fluxcd.io") or group == "fluxcd.controlplane.io",
    "argocd": lambda group, kind: (
        group == "argoproj.io" and kind in ("Application", "ApplicationSet", "AppProject")
    ),
}
"""The CRDs the agent itself installs, before anything of the layout is applied. The other CRDs
verify ships schemas for (Gateway API, Argo Rollouts, Flagger, the AWS Load Balancer Controller)
validate objects but say nothing of who installs them: a layout usually does, with a chart."""


def _installs_crds(release: dict) -> bool:
    install = as_dict(as_dict(release.get("spec")).get("install"))
    return install.get("crds") != "Skip" and install.get("skipCRDs") is not True


def _crd_kind(crd: dict) -> tuple[str, str]:
    spec = as_dict(crd.get("spec"))
    return str(spec.get("group")), str(as_dict(spec.get("names")).get("kind"))


def _depends_on(ctx: Applying) -> dict[str, set[str]]:
    """Owner (`Kustomization ns/name`) -> every Kustomization it depends on, transitively."""
    direct: dict[str, set[str]] = defaultdict(set)
    for k, a in ctx.index[LOCAL].items():
        if k[0] != "Kustomization" or a.argo:
            continue
        ns = str(meta(a.obj).get("namespace") or "")
        for dep in as_list(as_dict(a.obj.get("spec")).get("dependsOn")):
            if isinstance(dep, dict) and isinstance(dep.get("name"), str):
                direct[ident(a.obj)].add(f"Kustomization {dep.get('namespace') or ns}/{dep['name']}")
    closure: dict[str, set[str]] = {}
    for owner in direct:
        seen: set[str] = set()
        todo = list(direct[owner])
        while todo:
            dep = todo.pop()
            if dep not in seen:
                seen.add(dep)
                todo.extend(direct.get(dep, ()))
        closure[owner] = seen
    return closure


def check(ctx: Applying) -> Iterator[Finding]:
    if LOCAL in ctx.unsure:
        return  # something was not built: a CRD may come from it
    by_owner: dict[str, list[Applied]] = defaultdict(list)
    for a in ctx.applied:
        if a.cluster == LOCAL and not a.argo and a.owner.startswith("Kustomization "):
            by_owner[a.owner].append(a)
    crd_owners: dict[tuple[str, str], set[str]] = defaultdict(set)
    for a in ctx.applied:
        if a.obj.get("kind") == "CustomResourceDefinition" and a.cluster == LOCAL:
            crd_owners[_crd_kind(a.obj)].add(a.owner)
    charts = {
        owner: sorted(
            ident(a.obj) for a in items if a.obj.get("kind") == "HelmRelease" and _installs_crds(a.obj)
        )
        for owner, items in by_owner.items()
    }
    depends = _depends_on(ctx)
    for owner, items in by_owner.items():
        before = depends.get(owner, set())
        for a in items:
            api, kind = str(a.obj.get("apiVersion") or ""), str(a.obj.get("kind") or "")
            group = split_api_version(api)[0]
            if not group or group in BUILTIN_GROUPS:
                continue  # a built-in kind
            sources = crd_owners.get((group, kind))
            if sources is not None:
                if owner not in sources and not sources & before:
                    yield _unordered(a, owner, sources)
                continue
            if AGENT_CRDS.get(ctx.walk.agent, AGENT_CRDS["flux"])(group, kind):
                continue
            finding = _unknown_source(a, owner, group, charts.get(owner, []), before, charts)
            if finding is not None:
                yield finding


def _unordered(a: Applied, owner: str, sources: set[str]) -> Finding:
    them = ", ".join(sorted(sources))
    return Finding(
        a.file,
        f"{ident(a.obj)}: its CRD is applied by {them}, which {owner} has no dependsOn on: on a fresh "
        f"cluster {owner} fails its server-side dry-run until that has run (add it to dependsOn)",
        POLICY,
    )


def _unknown_source(
    a: Applied, owner: str, group: str, own_charts: list[str], before: set[str], charts: dict[str, list[str]]
) -> Finding | None:
    if any(charts.get(dep) for dep in before):
        return None  # a chart installed before this Kustomization may bring the CRD
    if own_charts:
        name = owner.rsplit("/", 1)[-1]
        return Finding(
            a.file,
            f"{ident(a.obj)}: its CRD ({group}) is in no source verify can see, and the only charts "
            f"that could install it are applied by the same {owner} ({', '.join(own_charts)}); charts "
            "are not rendered, but if one of them installs it, Flux's server-side dry-run of that "
            "Kustomization fails on a fresh cluster before anything is applied and it never converges: "
            f"move the custom resources into a Kustomization that dependsOn {name}",
            ERROR,
        )
    return Finding(
        a.file,
        f"{ident(a.obj)}: its CRD ({group}) is in no source verify can see (no CustomResourceDefinition "
        f"in the layout, and the agent does not install it), and {owner} has no dependsOn on a "
        "Kustomization that installs charts: it reconciles only on a cluster where something else "
        "installed the CRD",
        POLICY,
    )
