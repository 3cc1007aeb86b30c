"""Will this revision reconcile? Verify builds what the agent would build and checks it strictly.

Public entry::

    from eksgitops.fleet.verify import VerifyRequest, verify
    request = VerifyRequest.from_flags("clusters/dev", agent="flux", repo_urls={url})
    report = verify(request, checkout)                      # -> Report
    report.verdict("clusters/dev at 1a2b3c4").code          # the exit code of `fleet verify`

    # Another Kubernetes version's built-in schemas (`schema.kubernetes_versions()` lists them):
    report = verify(request, checkout, schemas=SchemaSet(kubernetes_version="1.35"))
    # Or only what would be applied, to check it yourself:
    objects = applied_objects(request, checkout)            # -> list[Applied]
    by_owner = objects_by_owner(request, checkout)          # -> {owner: list[Applied]}

`VerifyRequest` is built once, from the CLI flags (`from_flags`) or from `build/<stack>/bridge.json`
(`from_stack`), and passed unchanged. The run:

1. walk.py: from the environment's path (what the FluxInstance or the root Application syncs),
   every Flux Kustomization and Argo CD Application whose source is this repository, in order,
   each built with the real kustomize engine (flux.py: the Kustomization controller's own steps
   and its own `postBuild` variables; argo.py: Argo CD's);
2. checks/: every check in `checks.CHECKS` on everything that would be applied (schema,
   namespaces, references, lockdown, ownership, pins, secrets, argo, unrendered);
3. findings.py: each finding with its severity; `Report.verdict` decides the outcome and exit code.

What verify did not build (sources outside the repository, remote clusters, Helm/jsonnet/plugin
sources of Argo CD, ApplicationSets) is listed in `Report.not_checked`, never passed silently.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from eksgitops.fleet import layout, scaffold
from eksgitops.fleet.findings import ERROR, NOT_CHECKED, Finding, Report, Verdict
from eksgitops.fleet.kustomize_engine import Engine, find_engine
from eksgitops.fleet.schema import SchemaSet, kubernetes_versions
from eksgitops.fleet.scratch_copy import Workspace, inside
from eksgitops.fleet.verify import source_root
from eksgitops.fleet.verify.agents import AGENTS
from eksgitops.fleet.verify.checks import CHECKS, Applying
from eksgitops.fleet.verify.checks.lockdown import cross_namespace_refs
from eksgitops.fleet.verify.flux_operator import with_operator_crds
from eksgitops.fleet.verify.model import LOCAL, Applied
from eksgitops.fleet.verify.request import CrossNamespaceRefs, Resolved, VerifyRequest, resolve
from eksgitops.fleet.verify.walk import Walk


def verify(
    request: VerifyRequest,
    root: Path,
    *,
    engine: Engine | None = None,
    schemas: SchemaSet | None = None,
    disposable: bool = False,
    clone_urls: Iterable[str] = (),
    changed: frozenset[str] | None = None,
) -> Report:
    """Check the checkout at `root` for `request`.

    `schemas`: the schemas objects are checked against (default: the shipped CRDs and the
    built-in schemas of `request.kubernetes_version`, else the newest shipped); CRDs the layout
    applies are added to it. With `disposable` (a throw-away clone) verify works in `root` itself
    instead of a copy: symlinks and ignored files are deleted there, kustomization files restored
    after each build. `clone_urls`: URLs of this checkout
    learnt when cloning it, which name this repository too. `changed`: the repository paths that
    changed since `request.since`; builds that read one are rebuilt, the others may come from
    the build cache.
    """
    report, _ = _run(request, root, engine, schemas, disposable, clone_urls, changed)
    return report


def applied_objects(
    request: VerifyRequest, root: Path, *, engine: Engine | None = None, disposable: bool = False
) -> list[Applied]:
    """Everything the agent would apply for `request`, after Flux's (or Argo CD's) own steps."""
    _, applied = _run(request, root, engine, None, disposable, ())
    return applied


def objects_by_owner(
    request: VerifyRequest, root: Path, *, engine: Engine | None = None, disposable: bool = False
) -> dict[str, list[Applied]]:
    """What each Flux Kustomization and Argo CD Application of `request` applies, in walk order,
    keyed by its owner (`Kind namespace/name`), for the checkout at `root` (check out the revision
    you want there first). The same walk and rules as `verify`; nothing is judged."""
    by_owner: dict[str, list[Applied]] = {}
    for item in applied_objects(request, root, engine=engine, disposable=disposable):
        by_owner.setdefault(item.owner, []).append(item)
    return by_owner


def verify_and_apply(
    request: VerifyRequest,
    root: Path,
    *,
    engine: Engine | None = None,
    disposable: bool = False,
    clone_urls: Iterable[str] = (),
) -> tuple[Report, list[Applied]]:
    """`verify` and `applied_objects` of one run: the report and what it judged (for callers
    that check the same objects against something else, such as another Kubernetes version)."""
    return _run(request, root, engine, None, disposable, clone_urls)


def _run(
    request: VerifyRequest,
    root: Path,
    engine: Engine | None,
    schemas: SchemaSet | None,
    disposable: bool,
    clone_urls: Iterable[str],
    changed: frozenset[str] | None = None,
) -> tuple[Report, list[Applied]]:
    started = time.monotonic()
    engine = engine or find_engine()
    checkout = root
    if request.root:
        sub = inside(root, request.root)
        if sub is None or not sub.is_dir() or sub == root:
            report = Report()
            report.add(request.root, f"--root {request.root} is not a folder of the repository", ERROR)
            return report, []
        root = sub  # the source the agent syncs has its root there: every path is relative to it
    if not (root / request.env_path).is_dir():
        report = Report()
        hint = source_root.hint(root, request.env_path)
        report.add(request.env_path, f"path {request.env_path} not found in the repository{hint}", ERROR)
        return report, []
    resolved = resolve(request, checkout, clone_urls)
    ws = Workspace(root, disposable)
    walk: Walk | None = None
    try:
        walk = Walk(ws, request, resolved, engine, changed, rules=AGENTS)
        applied, report = walk.run()
        crds = [
            a.obj
            for a in applied
            if a.obj.get("kind") == "CustomResourceDefinition"
            and str(a.obj.get("apiVersion", "")).startswith("apiextensions.k8s.io/")
        ]
        base = schemas or _schemas_of(request, report)
        if walk.agent == "flux":
            base = with_operator_crds(base)
        ctx = Applying(
            applied,
            request,
            base.extended(crds),
            walk,
            # Lines about sources that were not built concern the local cluster's object set.
            unsure={LOCAL if "not built" in line else "?" for line in report.not_checked},
        )
        for check in CHECKS.values():
            for finding in check(ctx):
                report.record(finding)
        report.unvalidated_kinds = sorted(ctx.unvalidated)
        _stack_identities(request, resolved, report)
        _stack_agent(request, checkout, report)
        report.objects = len(applied)
        report.verified = sum(1 for a in applied if not _wiring(a.obj))
        report.builds = len(walk.builds)
        report.cached = walk.builder.cached
        if changed is not None:
            report.printed_notes.append(
                f"since {request.since}: {len(changed)} file(s) changed; {walk.builder.touched} build(s) "
                f"read one and were rebuilt, {walk.builder.cached} came from the build cache"
            )
        for rel in ws.ignored:
            report.notes.append(f"{rel}: left out, as source-controller leaves it out of the artifact")
        for link in ws.symlinks:
            report.add(link, "symlink dropped (source-controller does not keep symlinks)", NOT_CHECKED)
    finally:
        if walk is not None:
            walk.builder.close()
        ws.close()
    report.seconds = time.monotonic() - started
    report.finish()
    return report, applied


def _schemas_of(request: VerifyRequest, report: Report) -> SchemaSet:
    """The built-in schemas of the request's Kubernetes version; a version this release ships no
    schemas for (a stack newer than eksgitops) is checked against the newest, and says so."""
    version = request.kubernetes_version
    if version is None or version in kubernetes_versions():
        return SchemaSet(kubernetes_version=version)
    newest = kubernetes_versions()[-1]
    report.printed_notes.append(
        f"no built-in schemas shipped for Kubernetes {version}; checked against {newest}'s"
    )
    return SchemaSet(kubernetes_version=newest)


def _wiring(obj: dict) -> bool:
    """The agent's own graph: what tells it what to build, not what it builds."""
    kind, api = obj.get("kind"), str(obj.get("apiVersion") or "")
    return (kind == "Kustomization" and api.startswith("kustomize.toolkit.fluxcd.io/")) or (
        kind in ("Application", "ApplicationSet", "AppProject") and api.startswith("argoproj.io/")
    )


def _stack_agent(request: VerifyRequest, root: Path, report: Report) -> None:
    """With a stack: the layout must be for the agent the stack installs (`gitops.agent`)."""
    wanted = {"eks-argocd": "argocd"}.get(request.stack_agent or "", request.stack_agent)
    if request.stack is None or wanted not in scaffold.AGENT_MARKS:
        return
    found = scaffold.laid_out_for(root, layout.Options(env=request.env or "", path=request.env_path))
    if found is not None and found[0] != wanted:
        report.add(
            request.env_path,
            f"the layout is for {found[0]} ({found[1]}), but stack {request.stack} installs "
            f"{request.stack_agent} (gitops.agent in {request.stack_file}): the agent would not "
            "reconcile it; bootstrap this environment for its agent",
            ERROR,
        )


def _stack_identities(request: VerifyRequest, resolved: Resolved, report: Report) -> None:
    if request.stack is None or request.stack_identities is None:
        return
    defined = ", ".join(request.stack_identities) or "none"
    for identity in resolved.recorded_identities:
        if identity not in request.stack_identities:
            report.add(
                f".eksgitops/{request.env}.yaml",
                f"the layout needs the workload identity {identity}, which stack {request.stack} "
                f"does not define ({request.stack_file} lists: {defined})",
                ERROR,
            )


__all__ = [
    "CHECKS",
    "Applied",
    "CrossNamespaceRefs",
    "Finding",
    "Report",
    "SchemaSet",
    "Verdict",
    "VerifyRequest",
    "applied_objects",
    "cross_namespace_refs",
    "objects_by_owner",
    "verify",
    "verify_and_apply",
]
