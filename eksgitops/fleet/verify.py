"""Will this revision reconcile? Verify builds what the agent would build and checks it strictly.

Starting at the environment's path (what the FluxInstance or the root Application syncs), every
Flux Kustomization and Argo CD Application whose source is this repository is built with the
real kustomize engine, applying the Kustomization controller's own steps per Kustomization
(flux_build.py) and its own `postBuild` variables only. Then every object is checked:

* strictly against the schema of its kind (schema.py): unknown fields, unserved API versions,
  missing required fields and wrong types are errors, as server-side apply would refuse them;
* a namespaced object needs a namespace, and that namespace must be created by the layout
  (or be one every cluster has, or the agent's own);
* `dependsOn`, `sourceRef`, `chartRef`, `imageRepositoryRef`, `providerRef`, `substituteFrom`
  and `healthChecks` must name objects that exist;
* FLUX-LOCKDOWN: the cross-namespace references `--no-cross-namespace-refs` refuses are errors
  when the controllers run with it (the stack says so), listed as not checked when unknown;
* policy (reconciles, but risky): chart versions that are missing or ranges, plaintext Secrets,
  variables Flux would substitute with an empty string, objects applied twice.

What verify did not build (sources outside the repository, remote clusters, Helm/jsonnet/plugin
sources of Argo CD, ApplicationSets) is listed in `Report.not_checked`, never passed silently.
"""

from __future__ import annotations

import base64
import copy
import json
import posixpath
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eksgitops.fleet import flux_build, yamlio
from eksgitops.fleet.artifacts import compose
from eksgitops.fleet.engine import Engine, find_engine
from eksgitops.fleet.findings import POLICY, Report
from eksgitops.fleet.precheck import dropped_link
from eksgitops.fleet.schema import CLUSTER_SCOPED_BUILTIN, PLACEHOLDER, SchemaSet, ident, split_api_version
from eksgitops.fleet.substitute import VAR_NAME, substitute
from eksgitops.fleet.workspace import Workspace, inside, kustomization_file

FLUX_KS = "kustomize.toolkit.fluxcd.io"
FLUX_KS_SERVED = "kustomize.toolkit.fluxcd.io/v1"
ARGO_APP = "argoproj.io/v1alpha1"
AGENT_SOURCES = {
    ("GitRepository", "flux-system", "flux-system"),
    ("OCIRepository", "flux-system", "flux-system"),
}
AGENT_OBJECTS = AGENT_SOURCES | {("Kustomization", "flux-system", "flux-system")}
BRIDGE_REF = ("ConfigMap", "flux-system", "cluster-vars")
EVERY_CLUSTER_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}
AGENT_NAMESPACE = {"flux": "flux-system", "argocd": "argocd"}
IN_CLUSTER = {"https://kubernetes.default.svc", "https://kubernetes.default.svc/"}
LOCAL = ""
FLUX_KINDS = {
    "Kustomization",
    "HelmRelease",
    "GitRepository",
    "OCIRepository",
    "HelmRepository",
    "HelmChart",
    "Bucket",
    "ExternalArtifact",
    "ArtifactGenerator",
}
THIS_REPO = "eksgitops:this-repository"
EXACT_VERSION = re.compile(r"v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?")
ARGO_ANNOTATION_RE = re.compile(r'index\s+\.metadata\.annotations\s+"([^"]+)"')

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


@dataclass
class Options:
    """What verify needs besides the checkout."""

    env_path: str
    repo_urls: set[str] = field(default_factory=set)
    agent: str = "flux"
    bridge: dict[str, str] = field(default_factory=dict)
    """Variables of flux-system/cluster-vars (values may be PLACEHOLDER)."""
    stack: str | None = None
    """Set when the bridge comes from `build/<stack>/bridge.json`: missing variables are errors."""
    stack_file: str = ""
    cross_namespace_refs: bool | None = None
    """FLUX-LOCKDOWN: False when the controllers run with `--no-cross-namespace-refs` (the agent's
    default), True when the stack allows cross-namespace references, None when unknown."""


@dataclass
class Applied:
    """An object the agent would apply, where it came from and who applies it."""

    obj: dict[str, Any]
    file: str
    owner: str
    cluster: str
    decrypts: bool = False
    argo: bool = False


@dataclass
class Tree:
    """Content of a source on disk; `origin` maps composed files back to repository files."""

    root: Path
    label: str
    origin: dict[str, str] | None = None

    def display(self, rel: str) -> str:
        if self.origin is None:
            return rel
        if rel in self.origin:
            return self.origin[rel]
        return f"{self.label}:{rel}"


def normalize_url(url: str) -> str:
    """Compare repository URLs loosely: scheme, credentials, `.git` and slashes don't matter."""
    url = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", url.strip())
    url = re.sub(r"^[^/@]+@", "", url)
    url = re.sub(r"^([^/:]+):(?!\d)", r"\1/", url)  # scp-like git@host:org/repo
    return url.removesuffix("/").removesuffix(".git").lower()


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    return _dict(obj.get("metadata"))


def _key(obj: dict[str, Any]) -> tuple[str, str, str]:
    meta = _meta(obj)
    return (str(obj.get("kind") or ""), str(meta.get("namespace") or ""), str(meta.get("name") or ""))


class Verifier:
    """One verify run over a scratch copy of the checkout."""

    def __init__(self, root: Path, opts: Options, engine: Engine, disposable: bool = False) -> None:
        self.opts = opts
        self.engine = engine
        self.ws = Workspace(root, disposable)
        self.repo = Tree(self.ws.root, "repository")
        self.urls = {normalize_url(u) for u in opts.repo_urls if u}
        self._builds: dict[str, flux_build.Built] = {}
        self._artifacts: dict[tuple[str, str], Tree | None] = {}
        self.previous: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.current: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.applied: list[Applied] = []
        self.files: dict[tuple[str, str, str], str] = {}
        """The repository file each object came from (for findings about a generator's rules)."""
        self.refused: dict[tuple[str, str], list[str]] = {}
        """ExternalArtifacts not composed because a copy rule was refused, with the reasons."""

    # -- traversal ------------------------------------------------------------------------------
    def run(self) -> Report:
        started = time.monotonic()
        try:
            self._walk(Report())  # pass 1: learn every object, so lookups don't depend on order
            self.previous = dict(self.current)
            self.current = {}
            report = Report()
            applied = self._walk(report)
            self.applied = applied
            self._check(applied, report)
            report.objects = len(applied)
            report.builds = len(self._builds)
            for rel in self.ws.ignored:
                report.notes.append(f"{rel}: left out, as source-controller leaves it out of the artifact")
            for link in self.ws.symlinks:
                report.not_checked.append(
                    f"{link}: symlink dropped (source-controller does not keep symlinks)"
                )
        finally:
            self.ws.close()
        report.seconds = time.monotonic() - started
        report.finish()
        return report

    def _lookup(self, kind: str, ns: str, name: str) -> dict[str, Any] | None:
        key = (kind, ns, name)
        return self.current.get(key) or self.previous.get(key)

    def _walk(self, report: Report) -> list[Applied]:
        if self.opts.agent == "argocd":
            root_obj: dict[str, Any] = {
                "apiVersion": ARGO_APP,
                "kind": "Application",
                "metadata": {"name": "root", "namespace": "argocd"},
                "spec": {
                    "source": {"repoURL": THIS_REPO, "path": self.opts.env_path},
                    "destination": {"server": "https://kubernetes.default.svc"},
                },
            }
        else:
            root_obj = {
                "apiVersion": FLUX_KS_SERVED,
                "kind": "Kustomization",
                "metadata": {"name": "flux-system", "namespace": "flux-system"},
                "spec": {
                    "path": self.opts.env_path,
                    "sourceRef": {"kind": "GitRepository", "name": "flux-system"},
                },
            }
        queue: list[tuple[dict[str, Any], str, str]] = [(root_obj, self.opts.env_path, LOCAL)]
        seen: set[tuple[str, str, str, str]] = set()
        applied: list[Applied] = []
        while queue:
            obj, file, cluster = queue.pop(0)
            key = (*_key(obj), cluster)
            if key in seen:
                continue
            seen.add(key)
            if obj.get("kind") == "Kustomization":
                produced = self._flux(obj, file, cluster, report)
            else:
                produced = self._argo(obj, file, report)
            for item in produced:
                applied.append(item)
                if item.cluster == LOCAL:
                    self.current.setdefault(_key(item.obj), item.obj)
                    self.files.setdefault(_key(item.obj), item.file)
                api, kind = item.obj.get("apiVersion"), item.obj.get("kind")
                if item.cluster != LOCAL:
                    continue
                if (kind == "Kustomization" and api == FLUX_KS_SERVED) or (
                    kind == "Application" and api == ARGO_APP
                ):
                    queue.append((item.obj, item.file, item.cluster))
        return applied

    # -- Flux -----------------------------------------------------------------------------------
    def _flux(self, ks: dict[str, Any], file: str, cluster: str, report: Report) -> list[Applied]:
        spec = _dict(ks.get("spec"))
        who = ident(ks)
        ns = str(_meta(ks).get("namespace") or "flux-system")
        path = spec.get("path") or "./"
        if not isinstance(path, str):
            return []  # the schema check reports it
        if spec.get("suspend") is True:
            report.not_checked.append(f"{file}: {who} is suspended; {path} not built")
            return []
        target_cluster = cluster
        if isinstance(spec.get("kubeConfig"), dict):
            target_cluster = f"the cluster of {who}'s kubeConfig"
            report.not_checked.append(
                f"{file}: {who} applies to a remote cluster (kubeConfig): built and validated, but that "
                "cluster's namespaces and CRDs are not known here"
            )
        tree = self._source(_dict(spec.get("sourceRef")), ns, who, file, path, report)
        if tree is None:
            return []
        directory = inside(tree.root, path)
        if directory is None:
            report.add(file, f"{who}: spec.path {path} is outside its source")
            return []
        if not directory.is_dir():
            link = dropped_link(posixpath.normpath(path), self.ws.symlinks) if tree is self.repo else None
            why = f"is a symlink ({link}), left out as source-controller does" if link else "not found"
            report.add(file, f"{who}: spec.path {path} {why} in {tree.label}")
            return []
        cache_key = json.dumps(
            [tree.label, path, {k: spec.get(k) for k in _BUILD_FIELDS}], sort_keys=True, default=str
        )
        built = self._builds.get(cache_key)
        if built is None:
            links = self.ws.symlinks if tree is self.repo else ()
            built = flux_build.build_path(self.engine, tree.root, directory, spec, symlinks=links)
            self._builds[cache_key] = built
        if built.error is not None:
            where = file if built.error_path == flux_build.SPEC else tree.display(built.error_path)
            report.add(where, f"{who}: kustomize build failed: {built.error}")
            return []
        values, reads_bridge = self._variables(spec, ns, who, file, report)
        post = isinstance(spec.get("postBuild"), dict)
        decrypts = isinstance(spec.get("decryption"), dict)
        out: list[Applied] = []
        for raw, origin in built.objects:
            obj = copy.deepcopy(raw)
            flux_build.apply_common_metadata(obj, spec)
            where = tree.display(origin)
            if post and values:
                result = substitute(obj, values)
                if result.error is not None or result.obj is None:
                    report.add(where, f"{ident(obj)} (applied by {who}): {result.error}")
                    continue
                obj = result.obj
                for name in sorted(result.empty):
                    self._empty_variable(name, obj, where, who, values, reads_bridge, report)
            out.append(Applied(obj, where, who, target_cluster, decrypts=decrypts))
        return out

    def _empty_variable(
        self,
        name: str,
        obj: dict[str, Any],
        where: str,
        who: str,
        values: dict[str, str],
        reads_bridge: bool,
        report: Report,
    ) -> None:
        hint = ""
        if name.endswith("_role_arn"):
            identity = name.removesuffix("_role_arn").replace("_", "-")
            hint = f" (define the workload identity {identity} in the stack)"
        if self.opts.stack and reads_bridge:
            report.add(
                where,
                f"{ident(obj)}: ${{{name}}} is not provided by stack {self.opts.stack} "
                f"({self.opts.stack_file or f'build/{self.opts.stack}/bridge.json'}){hint}",
            )
            return
        provided = ", ".join(sorted(values)) or "none"
        report.add(
            where,
            f"{ident(obj)}: ${{{name}}} has no value under {who}: Flux substitutes an empty string{hint} "
            f"(provided: {provided})",
            POLICY,
        )

    def _variables(
        self, spec: dict[str, Any], ns: str, who: str, file: str, report: Report
    ) -> tuple[dict[str, str], bool]:
        post = spec.get("postBuild")
        if not isinstance(post, dict):
            return {}, False
        values: dict[str, str] = {}
        reads_bridge = False
        for ref in _list(post.get("substituteFrom")):
            if not isinstance(ref, dict):
                continue
            kind, name = str(ref.get("kind") or ""), str(ref.get("name") or "")
            if (kind, ns, name) == BRIDGE_REF and self.opts.agent == "flux":
                values.update(self.opts.bridge)
                reads_bridge = True
                continue
            found = self._lookup(kind, ns, name)
            if found is None:
                if ref.get("optional") is not True:
                    report.add(
                        file,
                        f"{who}: postBuild.substituteFrom {kind} {ns}/{name} not found "
                        "(Flux stops this Kustomization until it exists)",
                    )
                continue
            values.update(_data_of(found))
        for key, value in _dict(post.get("substitute")).items():
            values[str(key)] = str(value).replace("\n", "")
        for key in sorted(values):
            if not VAR_NAME.fullmatch(key):
                report.add(
                    file,
                    f"{who}: postBuild variable name {key!r} is invalid "
                    "(must match ^[_[:alpha:]][_[:alpha:][:digit:]]*$)",
                )
                del values[key]
        return values, reads_bridge

    def _source(
        self, ref: dict[str, Any], ns: str, who: str, file: str, path: str, report: Report
    ) -> Tree | None:
        kind, name = str(ref.get("kind") or ""), str(ref.get("name") or "")
        rns = str(ref.get("namespace") or ns)
        tree = self._tree(kind, rns, name)
        if tree is not None:
            return tree
        found = self._generator_of(rns, name) if kind == "ExternalArtifact" else None
        if found is not None and (rns, name) in self.refused:
            gen = found[0]
            for problem in self.refused[(rns, name)]:
                report.add(
                    self.files.get(_key(gen), file),
                    f"{ident(gen)}: spec.artifacts[{name}].{problem}; "
                    f"ExternalArtifact {rns}/{name} not built",
                )
            return None
        obj = self._lookup(kind, rns, name)
        if obj is not None or found is not None:
            url = _dict(obj.get("spec")).get("url") if obj else None
            where = f" ({url})" if isinstance(url, str) else ""
            report.not_checked.append(
                f"{file}: {who}: source {kind} {rns}/{name}{where} is not this repository; {path} not built"
            )
        # A missing source is reported by the reference checks.
        return None

    def _tree(self, kind: str, ns: str, name: str) -> Tree | None:
        """The content of a source when it is this repository (or composed from it)."""
        if (kind, ns, name) in AGENT_SOURCES or self._fluxinstance_sync(kind, ns, name):
            return self.repo
        obj = self._lookup(kind, ns, name)
        if kind == "GitRepository" and obj is not None:
            url = _dict(obj.get("spec")).get("url")
            if isinstance(url, str) and normalize_url(url) in self.urls:
                return self.repo
        if kind == "ExternalArtifact":
            return self._artifact(ns, name)
        return None

    def _fluxinstance_sync(self, kind: str, ns: str, name: str) -> bool:
        for key, obj in {**self.previous, **self.current}.items():
            if key[0] == "FluxInstance" and key[1] == ns:
                sync = _dict(_dict(obj.get("spec")).get("sync"))
                if sync.get("kind") == kind and (sync.get("name") or "flux-system") == name:
                    return True
        return False

    def _generator_of(self, ns: str, name: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        for key, obj in {**self.previous, **self.current}.items():
            if key[0] != "ArtifactGenerator" or key[1] != ns:
                continue
            for artifact in _list(_dict(obj.get("spec")).get("artifacts")):
                if isinstance(artifact, dict) and artifact.get("name") == name:
                    return obj, artifact
        return None

    def _artifact(self, ns: str, name: str) -> Tree | None:
        if (ns, name) in self._artifacts:
            return self._artifacts[(ns, name)]
        found = self._generator_of(ns, name)
        if found is None:
            return None
        generator, artifact = found
        aliases: dict[str, tuple[Path, str] | None] = {}
        for src in _list(_dict(generator.get("spec")).get("sources")):
            if not isinstance(src, dict) or not isinstance(src.get("alias"), str):
                continue
            tree = self._tree(
                str(src.get("kind") or ""), str(src.get("namespace") or ns), str(src.get("name") or "")
            )
            aliases[src["alias"]] = (tree.root, "") if tree is self.repo and tree is not None else None
        if any(v is None for v in aliases.values()) or not aliases:
            self._artifacts[(ns, name)] = None
            return None
        composed = compose(self.ws.scratch(f"artifact-{ns}-{name}"), artifact, aliases)
        if composed.problems:
            self.refused[(ns, name)] = composed.problems
            self._artifacts[(ns, name)] = None
            return None
        tree = Tree(composed.root, f"ExternalArtifact {ns}/{name}", composed.origin)
        self._artifacts[(ns, name)] = tree
        return tree

    # -- Argo CD --------------------------------------------------------------------------------
    def _argo(self, app: dict[str, Any], file: str, report: Report) -> list[Applied]:
        spec = _dict(app.get("spec"))
        who = ident(app) if app is not None else "Application"
        dest = _dict(spec.get("destination"))
        server, dest_name = dest.get("server"), dest.get("name")
        cluster = LOCAL
        if (server and server not in IN_CLUSTER) or (dest_name and dest_name != "in-cluster"):
            cluster = f"the cluster {server or dest_name} of {who}"
            report.not_checked.append(
                f"{file}: {who} deploys to {server or dest_name}: its cluster state is not known here"
            )
        dest_ns = dest.get("namespace") if isinstance(dest.get("namespace"), str) else None
        sources = [spec.get("source"), *_list(spec.get("sources"))]
        out: list[Applied] = []
        for src in sources:
            if not isinstance(src, dict) or src.get("chart"):
                continue
            url = src.get("repoURL")
            if url != THIS_REPO and (not isinstance(url, str) or normalize_url(url) not in self.urls):
                report.not_checked.append(
                    f"{file}: {who}: source {url} is not this repository (use --repo-url to match it)"
                )
                continue
            path = str(src["path"]) if isinstance(src.get("path"), str) else "."
            directory = inside(self.ws.root, path)
            if directory is None or not directory.is_dir():
                report.add(file, f"{who}: source path {path} not found in the repository")
                continue
            if "plugin" in src:
                report.not_checked.append(
                    f"{file}: {who}: config management plugin source {path} is not rendered"
                )
                continue
            if "helm" in src or (directory / "Chart.yaml").is_file():
                report.not_checked.append(f"{file}: {who}: Helm source {path} is not rendered")
                continue
            directory_opts = _dict(src.get("directory"))
            if "jsonnet" in directory_opts or any(directory.glob("*.jsonnet")):
                report.not_checked.append(f"{file}: {who}: jsonnet source {path} is not rendered")
                continue
            if kustomization_file(directory) is not None:
                key = json.dumps(["argo", path])
                built = self._builds.get(key)
                if built is None:
                    built = flux_build.build_path(
                        self.engine,
                        self.ws.root,
                        directory,
                        {},
                        load_restrictor_none=False,
                        symlinks=self.ws.symlinks,
                    )
                    self._builds[key] = built
                if built.error is not None:
                    report.add(built.error_path, f"{who}: kustomize build failed: {built.error}")
                    continue
                objects = [(copy.deepcopy(o), f) for o, f in built.objects]
            else:
                objects = self._argo_directory(
                    directory, path, bool(directory_opts.get("recurse")), who, report
                )
            for obj, where in objects:
                meta = _meta(obj)
                if (
                    dest_ns
                    and not meta.get("namespace")
                    and meta is obj.get("metadata")
                    and _maybe_namespaced(obj)
                ):
                    # Argo CD puts namespaced objects without a namespace into the destination's.
                    meta["namespace"] = dest_ns
                out.append(Applied(obj, where, who, cluster, argo=True))
        return out

    def _argo_directory(
        self, directory: Path, path: str, recurse: bool, who: str, report: Report
    ) -> list[tuple[dict[str, Any], str]]:
        pattern = "**/*" if recurse else "*"
        self._builds.setdefault(json.dumps(["argo-dir", path, recurse]), flux_build.Built())
        out: list[tuple[dict[str, Any], str]] = []
        for file in sorted(directory.glob(pattern)):
            if not file.is_file() or file.suffix not in (".yaml", ".yml", ".json"):
                continue
            rel = file.relative_to(self.ws.root).as_posix()
            try:
                docs = yamlio.load_all_strict(file.read_text(encoding="utf-8"))
            except (yamlio.yaml.YAMLError, UnicodeDecodeError) as exc:
                report.add(rel, f"{who}: cannot read manifest: {str(exc).splitlines()[0]}")
                continue
            for doc in docs:
                if isinstance(doc, dict):
                    out.append((doc, rel))
                elif doc is not None:
                    report.add(rel, f"{who}: a manifest must be a mapping, not {type(doc).__name__}")
        return out

    # -- checks ---------------------------------------------------------------------------------
    def _check(self, applied: list[Applied], report: Report) -> None:
        crds = [
            a.obj
            for a in applied
            if a.obj.get("kind") == "CustomResourceDefinition"
            and str(a.obj.get("apiVersion", "")).startswith("apiextensions.k8s.io/")
        ]
        schemas = SchemaSet(crds)
        index: dict[str, dict[tuple[str, str, str], Applied]] = defaultdict(dict)
        namespaces: dict[str, set[str]] = defaultdict(set)
        for a in applied:
            key = _key(a.obj)
            previous = index[a.cluster].get(key)
            if previous is not None and previous.owner != a.owner:
                report.add(
                    a.file, f"{ident(a.obj)} is applied by both {previous.owner} and {a.owner}", POLICY
                )
            index[a.cluster].setdefault(key, a)
            if key[0] == "Namespace":
                namespaces[a.cluster].add(key[2])
            namespaces[a.cluster].update(_created_namespaces(a.obj))
        unsure = {self._cluster_of(line) for line in report.not_checked}
        helm_releases = 0
        for a in applied:
            obj, where = a.obj, a.file
            who = f"{ident(obj)}"
            meta = _meta(obj)
            api, kind = str(obj.get("apiVersion") or ""), str(obj.get("kind") or "")
            if not meta.get("name") and not meta.get("generateName"):
                report.add(where, f"{who}: metadata.name is missing")
            if kind == "Secret" and api == "v1" and "sops" in obj:
                obj = self._sops_secret(a, report)
            for message in schemas.errors(obj):
                report.add(where, f"{who}: {message}")
            if api and kind and not schemas.knows(api, kind):
                report.unvalidated_kinds.append(f"{api} {kind}")
            self._check_namespace(a, schemas, namespaces, unsure, report)
            self._check_refs(a, index, unsure, report)
            self._check_lockdown(a, report)
            if kind == "HelmRelease":
                helm_releases += 1
            self._check_pins(a, report)
            if kind == "Secret" and api == "v1" and "sops" not in a.obj:
                report.add(where, f"{who}: plaintext Secret in Git (encrypt it with SOPS)", POLICY)
            if a.argo and kind == "ApplicationSet":
                self._check_applicationset(a, report)
            if kind == "ResourceSet" and api.startswith("fluxcd.controlplane.io/"):
                report.not_checked.append(f"{where}: {who}: the objects it templates are not rendered")
        if helm_releases:
            report.not_checked.append(
                f"Helm chart contents and values of {helm_releases} HelmRelease(s) "
                "(charts are not downloaded)"
            )

    @staticmethod
    def _cluster_of(line: str) -> str:
        # Lines about sources that were not built concern the local cluster's object set.
        return LOCAL if "not built" in line else "?"

    def _sops_secret(self, a: Applied, report: Report) -> dict[str, Any]:
        if a.argo:
            report.not_checked.append(
                f"{a.file}: {ident(a.obj)}: SOPS-encrypted (needs a decryption plugin in Argo CD)"
            )
        elif not a.decrypts:
            report.add(
                a.file,
                f"{ident(a.obj)}: SOPS-encrypted Secret, but {a.owner} has no spec.decryption: "
                "it would be applied encrypted and refused",
            )
            return {k: v for k, v in a.obj.items() if k != "sops"}
        plain = {k: v for k, v in a.obj.items() if k != "sops"}
        values = {**_dict(a.obj.get("data")), **_dict(a.obj.get("stringData"))}
        unencrypted = sorted(k for k, v in values.items() if not str(v).startswith("ENC["))
        if unencrypted:
            report.add(
                a.file, f"{ident(a.obj)}: Secret values not SOPS-encrypted: {', '.join(unencrypted)}", POLICY
            )
        return plain

    def _check_namespace(
        self,
        a: Applied,
        schemas: SchemaSet,
        namespaces: dict[str, set[str]],
        unsure: set[str],
        report: Report,
    ) -> None:
        api, kind = str(a.obj.get("apiVersion") or ""), str(a.obj.get("kind") or "")
        scope = schemas.scope(api, kind)
        ns = _meta(a.obj).get("namespace")
        if scope != "Namespaced":
            return
        if not ns and a.argo:
            return  # Argo CD applies it in the destination's namespace, else `default`
        if not ns:
            report.add(
                a.file,
                f"{ident(a.obj)}: namespaced {kind} without a namespace "
                "(set metadata.namespace, or the Kustomization's targetNamespace)",
            )
            return
        if not isinstance(ns, str):
            return  # the schema check reports it
        known = namespaces[a.cluster] | EVERY_CLUSTER_NAMESPACES
        if a.cluster == LOCAL:
            known = known | {AGENT_NAMESPACE.get(self.opts.agent, "flux-system")}
        if ns in known or a.cluster != LOCAL:
            return
        report.add(a.file, f"{ident(a.obj)}: namespace {ns} is not created by anything in this layout")

    def _exists(
        self, cluster: str, index: dict[str, dict[tuple[str, str, str], Applied]], key: tuple[str, str, str]
    ) -> bool:
        if key in index[cluster]:
            return True
        if cluster == LOCAL and (key in AGENT_OBJECTS or self._fluxinstance_sync(*key)):
            return True
        return key[0] == "ExternalArtifact" and self._generator_of(key[1], key[2]) is not None

    def _check_refs(
        self,
        a: Applied,
        index: dict[str, dict[tuple[str, str, str], Applied]],
        unsure: set[str],
        report: Report,
    ) -> None:
        obj = a.obj
        api, kind = str(obj.get("apiVersion") or ""), str(obj.get("kind") or "")
        group, _ = split_api_version(api)
        if not group.endswith("fluxcd.io"):
            return
        spec = _dict(obj.get("spec"))
        ns = str(_meta(obj).get("namespace") or "")
        refs: list[tuple[str, Any, Any, Any]] = []  # (what, kind, name, namespace)
        if kind in ("Kustomization", "HelmRelease"):
            for dep in _list(spec.get("dependsOn")):
                if isinstance(dep, dict):
                    refs.append(("dependsOn", kind, dep.get("name"), dep.get("namespace")))
        source = _dict(spec.get("sourceRef"))
        if source.get("name"):
            refs.append(
                ("sourceRef", source.get("kind") or "GitRepository", source["name"], source.get("namespace"))
            )
        chart_source = _dict(_dict(_dict(spec.get("chart")).get("spec")).get("sourceRef"))
        if chart_source.get("name"):
            refs.append(
                (
                    "chart.spec.sourceRef",
                    chart_source.get("kind"),
                    chart_source["name"],
                    chart_source.get("namespace"),
                )
            )
        chart_ref = _dict(spec.get("chartRef"))
        if chart_ref.get("name"):
            refs.append(("chartRef", chart_ref.get("kind"), chart_ref["name"], chart_ref.get("namespace")))
        for field_name, ref_kind in (("imageRepositoryRef", "ImageRepository"), ("providerRef", "Provider")):
            ref = _dict(spec.get(field_name))
            if ref.get("name"):
                refs.append((field_name, ref_kind, ref["name"], ref.get("namespace")))
        if kind == "ArtifactGenerator":
            for src in _list(spec.get("sources")):
                if isinstance(src, dict) and src.get("name"):
                    refs.append(("sources", src.get("kind"), src["name"], src.get("namespace")))
        for what, ref_kind, name, ref_ns in refs:
            key = (str(ref_kind), str(ref_ns or ns), str(name))
            if self._exists(a.cluster, index, key):
                continue
            report.add(a.file, f"{ident(obj)}: {what} {key[0]} {key[1]}/{key[2]} not found")
        if kind == "Kustomization":
            target_cluster = a.cluster if not isinstance(spec.get("kubeConfig"), dict) else None
            for check in _list(spec.get("healthChecks")):
                if not isinstance(check, dict) or target_cluster is None:
                    continue
                key = (str(check.get("kind")), str(check.get("namespace") or ""), str(check.get("name")))
                if self._exists(target_cluster, index, key):
                    continue
                # Flux's own objects live in the platform repository; other kinds may come from a
                # source verify did not build.
                if target_cluster in unsure and key[0] not in FLUX_KINDS:
                    report.not_checked.append(
                        f"{a.file}: {ident(obj)}: healthChecks {key[0]} {key[1]}/{key[2]} "
                        "(may come from a source not built)"
                    )
                    continue
                report.add(
                    a.file,
                    f"{ident(obj)}: healthChecks {key[0]} {key[1]}/{key[2]} "
                    "is applied by nothing in this layout",
                )

    def _check_lockdown(self, a: Applied, report: Report) -> None:
        """FLUX-LOCKDOWN: the references `--no-cross-namespace-refs` refuses."""
        if self.opts.agent != "flux" or a.cluster != LOCAL or a.argo or self.opts.cross_namespace_refs:
            return
        own = str(a.obj.get("kind"))
        for what, kind, ns, name in cross_namespace_refs(a.obj):
            ref = f"{ident(a.obj)}: {what} {kind} {ns}/{name} is in another namespace"
            if self.opts.cross_namespace_refs is None:
                report.not_checked.append(
                    f"{a.file}: {ref}, which the controllers refuse with --no-cross-namespace-refs "
                    "(FLUX-LOCKDOWN, the agent's default); not assumed here (pass --stack STACK, or "
                    "--no-cross-namespace-refs)"
                )
                continue
            if self.opts.stack:
                why = f"stack {self.opts.stack} runs the controllers with --no-cross-namespace-refs"
                allow = "gitops.crossNamespaceRefs: true in the stack"
            else:
                why, allow = "assumed --no-cross-namespace-refs", "--cross-namespace-refs"
            remedy = (
                f"one {own} per namespace" if own in ("Alert", "Receiver") else "keep both in one namespace"
            )
            report.add(
                a.file,
                f"{ref}: refused under FLUX-LOCKDOWN ({why}): {LOCKDOWN_EFFECT[own]}; {remedy}, "
                f"or allow it with {allow}",
            )

    def _check_pins(self, a: Applied, report: Report) -> None:
        obj = a.obj
        kind = obj.get("kind")
        spec = _dict(obj.get("spec"))
        who = ident(obj)
        if kind == "HelmRelease":
            chart = _dict(_dict(spec.get("chart")).get("spec"))
            if chart:
                _pin(report, a.file, who, str(chart.get("chart")), chart.get("version"))
            ref = _dict(spec.get("chartRef"))
            if ref.get("kind") == "OCIRepository":
                ns = str(ref.get("namespace") or _meta(obj).get("namespace") or "")
                oci = self._lookup("OCIRepository", ns, str(ref.get("name")))
                if oci is not None:
                    oref = _dict(_dict(oci.get("spec")).get("ref"))
                    if oref.get("digest"):
                        return
                    if "semver" in oref:
                        _pin(report, a.file, who, f"OCIRepository {ns}/{ref.get('name')}", oref.get("semver"))
                    elif not oref.get("tag") or oref.get("tag") == "latest":
                        report.add(
                            a.file,
                            f"{who}: chart OCIRepository {ns}/{ref.get('name')} follows the latest tag",
                            POLICY,
                        )
        elif kind == "HelmChart" and str(obj.get("apiVersion", "")).startswith("source.toolkit.fluxcd.io/"):
            _pin(report, a.file, who, str(spec.get("chart")), spec.get("version"))
        elif kind == "Application" and a.argo:
            for src in [spec.get("source"), *_list(spec.get("sources"))]:
                if isinstance(src, dict) and src.get("chart"):
                    revision = src.get("targetRevision")
                    if not (isinstance(revision, str) and "{{" in revision):
                        _pin(report, a.file, who, str(src["chart"]), revision)

    def _check_applicationset(self, a: Applied, report: Report) -> None:
        spec = _dict(a.obj.get("spec"))
        who = ident(a.obj)
        for element in _list_elements(_list(spec.get("generators"))):
            if element.get("chart"):
                _pin(report, a.file, who, str(element["chart"]), element.get("version"))
        text = repr(spec.get("template")) + str(spec.get("templatePatch") or "")
        provided = set(self.opts.bridge)
        for name in sorted(set(ARGO_ANNOTATION_RE.findall(text))):
            if name not in provided:
                source = f"stack {self.opts.stack}" if self.opts.stack else "the bridge"
                report.add(a.file, f"{who}: cluster annotation {name} is not provided by {source}")
        report.not_checked.append(f"{a.file}: {who}: the Applications it generates are not rendered")


_BUILD_FIELDS = ("targetNamespace", "patches", "images", "components", "namePrefix", "nameSuffix")


def _pin(report: Report, where: str, who: str, chart: str, version: Any) -> None:
    if version is None or version == "":
        report.add(
            where, f"{who}: chart {chart} has no version: the latest is installed on every reconcile", POLICY
        )
    elif not isinstance(version, str) or not EXACT_VERSION.fullmatch(version):
        report.add(where, f"{who}: chart {chart} version {version!r} is not an exact version", POLICY)


def cross_namespace_refs(obj: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(field, kind, namespace, name) of each reference `--no-cross-namespace-refs` refuses in `obj`.

    Only Flux kinds whose controller checks the flag (LOCKDOWN_EFFECT); a reference without a
    namespace is in the object's own and never listed.
    """
    kind = str(obj.get("kind") or "")
    group, _ = split_api_version(str(obj.get("apiVersion") or ""))
    if kind not in LOCKDOWN_EFFECT or not group.endswith(".toolkit.fluxcd.io"):
        return []
    ns = _meta(obj).get("namespace")
    spec = _dict(obj.get("spec"))
    refs: list[tuple[str, Any]] = []
    if kind in ("Kustomization", "ImageUpdateAutomation"):
        refs.append(("sourceRef", spec.get("sourceRef")))
    elif kind == "HelmRelease":
        refs.append(("chart.spec.sourceRef", _dict(_dict(spec.get("chart")).get("spec")).get("sourceRef")))
        refs.append(("chartRef", spec.get("chartRef")))
    elif kind == "ImagePolicy":
        refs.append(("imageRepositoryRef", spec.get("imageRepositoryRef")))
    elif kind == "Alert":
        refs.extend(("eventSources", s) for s in _list(spec.get("eventSources")))
    else:
        refs.extend(("resources", r) for r in _list(spec.get("resources")))
    found: list[tuple[str, str, str, str]] = []
    for what, ref in refs:
        if not isinstance(ref, dict):
            continue
        ref_ns = ref.get("namespace")
        if isinstance(ref_ns, str) and ref_ns and ref_ns != ns:
            ref_kind = str(ref.get("kind") or ("ImageRepository" if kind == "ImagePolicy" else ""))
            found.append((what, ref_kind, ref_ns, str(ref.get("name") or "")))
    return found


def _list_elements(generators: list[Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for gen in generators:
        if not isinstance(gen, dict):
            continue
        found.extend(e for e in _list(_dict(gen.get("list")).get("elements")) if isinstance(e, dict))
        for nested in ("matrix", "merge"):
            found.extend(_list_elements(_list(_dict(gen.get(nested)).get("generators"))))
    return found


def _created_namespaces(obj: dict[str, Any]) -> set[str]:
    """Namespaces an object creates besides Namespace objects (Helm's createNamespace, Argo's option)."""
    spec = _dict(obj.get("spec"))
    found: set[str] = set()
    if obj.get("kind") == "HelmRelease" and _dict(spec.get("install")).get("createNamespace") is True:
        target = spec.get("targetNamespace") or _meta(obj).get("namespace")
        if isinstance(target, str):
            found.add(target)
    if obj.get("kind") == "Application":
        options = _list(_dict(spec.get("syncPolicy")).get("syncOptions"))
        dest = _dict(spec.get("destination")).get("namespace")
        if "CreateNamespace=true" in options and isinstance(dest, str):
            found.add(dest)
    return found


def _maybe_namespaced(obj: dict[str, Any]) -> bool:
    return str(obj.get("kind")) not in CLUSTER_SCOPED_BUILTIN


def _data_of(obj: dict[str, Any]) -> dict[str, str]:
    """Variables from a ConfigMap's or Secret's data (values Flux cannot know offline stay placeholders)."""
    values: dict[str, str] = {}
    encrypted = "sops" in obj
    for key, value in _dict(obj.get("data")).items():
        if obj.get("kind") == "Secret" and not encrypted:
            try:
                value = base64.b64decode(str(value), validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                value = PLACEHOLDER
        values[str(key)] = PLACEHOLDER if encrypted else str(value).replace("\n", "")
    for key, value in _dict(obj.get("stringData")).items():
        values[str(key)] = PLACEHOLDER if encrypted else str(value).replace("\n", "")
    return values


def verify_tree(
    root: Path,
    env_path: str,
    provided_vars: set[str] | dict[str, str],
    repo_urls: set[str],
    *,
    agent: str = "flux",
    stack: str | None = None,
    stack_file: str = "",
    cross_namespace_refs: bool | None = None,
    engine: Engine | None = None,
    disposable: bool = False,
) -> Report:
    """Check the checkout at `root` for the environment synced from `env_path`.

    `provided_vars` are the names (or names and values) of the bridge ConfigMap
    flux-system/cluster-vars; names without a value stand for values only the cluster knows.
    `cross_namespace_refs`: False when the Flux controllers refuse cross-namespace references
    (FLUX-LOCKDOWN; they are errors), True when allowed, None when unknown (listed as not checked).
    With `disposable` (a throw-away clone) verify works in `root` itself instead of a copy:
    symlinks and ignored files are deleted there, kustomization files restored after each build.
    """
    if isinstance(provided_vars, dict):
        bridge = {
            k: (v if v and "(known after apply" not in v else PLACEHOLDER) for k, v in provided_vars.items()
        }
    else:
        bridge = dict.fromkeys(provided_vars, PLACEHOLDER)
    opts = Options(
        env_path.strip("/") or ".", set(repo_urls), agent, bridge, stack, stack_file, cross_namespace_refs
    )
    engine = engine or find_engine()
    if not (root / opts.env_path).is_dir():
        report = Report()
        report.add(opts.env_path, f"path {opts.env_path} not found in the repository")
        return report
    verifier = Verifier(root, opts, engine, disposable)
    return verifier.run()
