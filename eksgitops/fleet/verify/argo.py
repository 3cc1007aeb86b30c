"""One Argo CD Application whose source is this repository: a kustomization built with kustomize's
default restrictor (as Argo CD runs it), or a directory of manifests; namespaced objects without a
namespace land in the destination's."""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any

from eksgitops.fleet import flux_build, yamlio
from eksgitops.fleet.findings import ERROR, NOT_CHECKED, Report
from eksgitops.fleet.schema import CLUSTER_SCOPED_BUILTIN, ident
from eksgitops.fleet.scratch_copy import inside, kustomization_file
from eksgitops.fleet.verify import source_root
from eksgitops.fleet.verify.agent import Planned, WalkState
from eksgitops.fleet.verify.model import (
    ARGO_APP,
    IN_CLUSTER,
    LOCAL,
    THIS_REPO,
    Applied,
    as_dict,
    as_list,
    build_key,
    meta,
    normalize_url,
)


def apply_application(walk: WalkState, app: dict[str, Any], file: str, report: Report) -> list[Applied]:
    spec = as_dict(app.get("spec"))
    who = ident(app)
    dest = as_dict(spec.get("destination"))
    server, dest_name = dest.get("server"), dest.get("name")
    cluster = LOCAL
    if (server and server not in IN_CLUSTER) or (dest_name and dest_name != "in-cluster"):
        cluster = f"the cluster {server or dest_name} of {who}"
        report.add(
            file, f"{who} deploys to {server or dest_name}: its cluster state is not known here", NOT_CHECKED
        )
    dest_ns = dest.get("namespace") if isinstance(dest.get("namespace"), str) else None
    out: list[Applied] = []
    for src in [spec.get("source"), *as_list(spec.get("sources"))]:
        if not isinstance(src, dict):
            continue
        if src.get("chart"):
            # A chart of a Helm repository (or an OCI registry): Argo CD renders it, verify cannot.
            version = src.get("targetRevision") or "(latest)"
            report.add(
                file,
                f"{who}: Helm chart {src.get('chart')} {version} from {src.get('repoURL')} is not rendered",
                NOT_CHECKED,
            )
            continue
        for obj, where in _source_objects(walk, src, who, file, report):
            m = meta(obj)
            if dest_ns and not m.get("namespace") and m is obj.get("metadata") and _maybe_namespaced(obj):
                # Argo CD puts namespaced objects without a namespace into the destination's.
                m["namespace"] = dest_ns
            out.append(Applied(obj, where, who, cluster, argo=True))
    return out


class ArgoApplications:
    """`AgentRules` of Argo CD: Applications of argoproj.io/v1alpha1."""

    name = "argocd"

    def handles(self, obj: dict[str, Any]) -> bool:
        return obj.get("kind") == "Application" and obj.get("apiVersion") == ARGO_APP

    def root(self, env_path: str) -> dict[str, Any]:
        """The root Application (app of apps) that bootstrap installs."""
        return {
            "apiVersion": ARGO_APP,
            "kind": "Application",
            "metadata": {"name": "root", "namespace": "argocd"},
            "spec": {
                "source": {"repoURL": THIS_REPO, "path": env_path},
                "destination": {"server": "https://kubernetes.default.svc"},
            },
        }

    def planned(self, walk: WalkState, obj: dict[str, Any]) -> Planned | None:
        return None  # built in its turn: a directory source is read, not built

    def apply(
        self, walk: WalkState, obj: dict[str, Any], file: str, cluster: str, report: Report
    ) -> list[Applied]:
        return apply_application(walk, obj, file, report)


RULES = ArgoApplications()


def _source_objects(
    walk: WalkState, src: dict[str, Any], who: str, file: str, report: Report
) -> list[tuple[dict[str, Any], str]]:
    url = src.get("repoURL")
    if url != THIS_REPO and (not isinstance(url, str) or normalize_url(url) not in walk.urls):
        report.add(
            file, f"{who}: source {url} is not this repository (use --repo-url to match it)", NOT_CHECKED
        )
        return []
    revision = src.get("targetRevision")
    revision = revision.strip() if isinstance(revision, str) and revision.strip() else "HEAD"
    if url != THIS_REPO and walk.request.revisions and not _verified(revision, walk.request.revisions):
        report.add(
            file,
            f"{who}: source {url} is this repository at targetRevision {revision}, not at the revision "
            f"verified; {src.get('path') or '.'} not built",
            NOT_CHECKED,
        )
        return []
    path = str(src["path"]) if isinstance(src.get("path"), str) else "."
    directory = inside(walk.ws.root, path)
    if directory is None or not directory.is_dir():
        hint = source_root.hint(walk.ws.root, path.strip("/"))
        report.add(file, f"{who}: source path {path} not found in the repository{hint}", ERROR)
        return []
    if "plugin" in src:
        report.add(file, f"{who}: config management plugin source {path} is not rendered", NOT_CHECKED)
        return []
    if "helm" in src or (directory / "Chart.yaml").is_file():
        report.add(file, f"{who}: Helm source {path} is not rendered", NOT_CHECKED)
        return []
    directory_opts = as_dict(src.get("directory"))
    if "jsonnet" in directory_opts or any(directory.glob("*.jsonnet")):
        report.add(file, f"{who}: jsonnet source {path} is not rendered", NOT_CHECKED)
        return []
    if kustomization_file(directory) is not None:
        built = walk.build(build_key("argo", path), directory, walk.ws.root, {}, False)
        if built.error is not None and "inflate" in built.error and "Helm" in built.error:
            _helm_charts(walk, who, file, path, report)
            return []
        if built.error is not None:
            report.add(built.error_path, f"{who}: kustomize build failed: {built.error}", ERROR)
            return []
        return [(copy.deepcopy(o), f) for o, f in built.objects]
    return _directory(walk, directory, path, directory_opts, who, report)


def _helm_charts(walk: WalkState, who: str, file: str, path: str, report: Report) -> None:
    """A kustomization with `helmCharts`: Argo CD inflates them only when its kustomize build
    options (argocd-cm `kustomize.buildOptions`) hold `--enable-helm`."""
    config = walk.lookup("ConfigMap", "argocd", "argocd-cm")
    if config is None:
        report.add(
            file,
            f"{who}: {path} inflates Helm charts (helmCharts), which Argo CD does only with --enable-helm "
            "in kustomize.buildOptions of argocd-cm (not in this layout); charts are not rendered here",
            NOT_CHECKED,
        )
        return
    options = " ".join(
        str(v) for k, v in as_dict(config.get("data")).items() if str(k).startswith("kustomize.buildOptions")
    )
    if "--enable-helm" in options.split():
        report.add(
            file,
            f"{who}: {path} inflates Helm charts (helmCharts) with Argo CD's --enable-helm; charts are "
            "not rendered here",
            NOT_CHECKED,
        )
        return
    report.add(
        file,
        f"{who}: {path} uses helmCharts, which Argo CD inflates only with --enable-helm in "
        "kustomize.buildOptions of argocd-cm (argocd/argocd-cm has none): the build fails",
        ERROR,
    )


def _verified(revision: str, revisions: frozenset[str]) -> bool:
    """Whether an Application's targetRevision (a branch, tag, commit, `HEAD`) is the verified one."""
    if revision in revisions or revision.removeprefix("refs/heads/").removeprefix("refs/tags/") in revisions:
        return True
    return len(revision) >= 7 and any(r.startswith(revision) for r in revisions)


def _directory(
    walk: WalkState, directory: Path, path: str, opts: dict[str, Any], who: str, report: Report
) -> list[tuple[dict[str, Any], str]]:
    """A directory source as Argo CD reads it: its YAML and JSON files (all below it with
    `recurse`), less those `exclude` matches, and only those `include` matches, both globs on the
    path relative to the directory (`*` matches `/` too; `{a,b}` is either)."""
    recurse = opts.get("recurse") is True
    include, exclude = opts.get("include"), opts.get("exclude")
    pattern = "**/*" if recurse else "*"
    walk.builds.setdefault(build_key("argo-dir", path, recurse, include, exclude), flux_build.Built())
    out: list[tuple[dict[str, Any], str]] = []
    for file in sorted(directory.glob(pattern)):
        if not file.is_file() or file.suffix not in (".yaml", ".yml", ".json"):
            continue
        inner = file.relative_to(directory).as_posix()
        if isinstance(exclude, str) and exclude and argo_glob(exclude, inner):
            continue
        if isinstance(include, str) and include and not argo_glob(include, inner):
            continue
        rel = file.relative_to(walk.ws.root).as_posix()
        try:
            docs = yamlio.load_all_strict(file.read_text(encoding="utf-8"))
        except (yamlio.yaml.YAMLError, UnicodeDecodeError) as exc:
            report.add(rel, f"{who}: cannot read manifest: {str(exc).splitlines()[0]}", ERROR)
            continue
        for doc in docs:
            if isinstance(doc, dict):
                out.append((doc, rel))
            elif doc is not None:
                report.add(rel, f"{who}: a manifest must be a mapping, not {type(doc).__name__}", ERROR)
    return out


def argo_glob(pattern: str, path: str) -> bool:
    """Argo CD's directory include/exclude match (gobwas glob without separators)."""
    return _compiled(pattern).fullmatch(path) is not None


@functools.lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    if len(pattern) > 1024 or pattern.count("*") > 8:
        # A pattern Argo CD users write has a few stars; many of them make a backtracking
        # regular expression slow on a long path, so such a pattern matches only itself.
        return re.compile(re.escape(pattern))
    out, depth, i = [], 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        elif ch == "{":
            depth += 1
            out.append("(?:")
        elif ch == "}" and depth:
            depth -= 1
            out.append(")")
        elif ch == "," and depth:
            out.append("|")
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1 : end]
                negate = body.startswith("!")
                body = re.escape(body[1:] if negate else body).replace("\\-", "-")
                out.append(f"[{'^' if negate else ''}{body}]")
                i = end
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    if depth:
        return re.compile(re.escape(pattern), re.DOTALL)  # unbalanced: only itself matches
    return re.compile("".join(out), re.DOTALL)


def _maybe_namespaced(obj: dict[str, Any]) -> bool:
    return str(obj.get("kind")) not in CLUSTER_SCOPED_BUILTIN
