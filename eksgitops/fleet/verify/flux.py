"""One Flux Kustomization, as kustomize-controller applies it: its source, `spec.path`, the build
(flux_build.py), `commonMetadata`, and its own `postBuild` variables (substitute.py)."""

from __future__ import annotations

import base64
import copy
from pathlib import Path
from typing import Any

from eksgitops.fleet import flux_build
from eksgitops.fleet.artifacts import compose
from eksgitops.fleet.findings import ERROR, NOT_CHECKED, POLICY, Report
from eksgitops.fleet.precheck import dropped_link
from eksgitops.fleet.schema import PLACEHOLDER, ident
from eksgitops.fleet.substitute import VAR_NAME, substitute
from eksgitops.fleet.verify import source_root
from eksgitops.fleet.verify.agent import Planned, WalkState
from eksgitops.fleet.verify.model import (
    AGENT_SOURCES,
    BRIDGE_REF,
    FLUX_KS_SERVED,
    Applied,
    Tree,
    as_dict,
    as_list,
    build_key,
    key,
    meta,
    normalize_url,
)

BUILD_FIELDS = ("targetNamespace", "patches", "images", "components", "namePrefix", "nameSuffix")
"""The Kustomization fields merged into the build; two Kustomizations equal in these build alike."""


def apply_kustomization(
    walk: WalkState, ks: dict[str, Any], file: str, cluster: str, report: Report
) -> list[Applied]:
    """The objects `ks` applies (empty when Flux would stop it), each with its repository file."""
    spec = as_dict(ks.get("spec"))
    who = ident(ks)
    ns = str(meta(ks).get("namespace") or "flux-system")
    path = spec.get("path") or "./"
    if not isinstance(path, str):
        return []  # the schema check reports it
    if spec.get("suspend") is True:
        report.add(file, f"{who} is suspended; {path} not built", NOT_CHECKED)
        return []
    target_cluster = cluster
    if isinstance(spec.get("kubeConfig"), dict):
        target_cluster = f"the cluster of {who}'s kubeConfig"
        report.add(
            file,
            f"{who} applies to a remote cluster (kubeConfig): built and validated, but that "
            "cluster's namespaces and CRDs are not known here",
            NOT_CHECKED,
        )
    tree = source_tree(walk, as_dict(spec.get("sourceRef")), ns, who, file, path, report)
    if tree is None:
        return []
    joined, climbs = secure_join(path)
    directory = tree.root.joinpath(*joined.split("/")) if joined != "." else tree.root
    if not directory.is_dir():
        link = dropped_link(joined, walk.ws.symlinks) if tree is walk.repo else None
        if link:
            why = f"is a symlink ({link}), left out as source-controller does"
        elif climbs:
            why = f"is outside its source: kustomize-controller keeps it inside, as ./{joined}, not found"
        else:
            why = "not found"
        hint = source_root.hint(tree.root, joined) if tree is walk.repo and why == "not found" else ""
        report.add(file, f"{who}: spec.path {path} {why} in {tree.label}{hint}", ERROR)
        return []
    key_of_build = build_key(tree.label, path, {k: spec.get(k) for k in BUILD_FIELDS})
    built = walk.build(key_of_build, directory, tree.root, spec, True)
    if built.error is not None:
        where = file if built.error_path == flux_build.SPEC else tree.display(built.error_path)
        report.add(where, f"{who}: kustomize build failed: {built.error}", ERROR)
        return []
    values, reads_bridge = variables(walk, spec, ns, who, file, report)
    post = isinstance(spec.get("postBuild"), dict)
    decrypts = isinstance(spec.get("decryption"), dict)
    out: list[Applied] = []
    for origin, name, obj, error, empty in _rendered(walk, key_of_build, built, spec, values if post else {}):
        where = tree.display(origin)
        if error is not None or obj is None:
            report.add(where, f"{name} (applied by {who}): {error}", ERROR)
            continue
        for variable in empty:
            _empty_variable(walk, variable, obj, where, who, values, reads_bridge, report)
        out.append(Applied(obj, where, who, target_cluster, decrypts=decrypts))
    return out


Rendered = tuple[str, str, dict[str, Any] | None, str | None, list[str]]
"""(origin file, `Kind ns/name` before substitution, object or None, error, empty variables)."""


def _rendered(
    walk: WalkState, key_of_build: str, built: flux_build.Built, spec: dict[str, Any], values: dict[str, str]
) -> list[Rendered]:
    """The build's objects after `commonMetadata` and substitution, once per walk for the same
    build, metadata and variables (the walk's two passes apply every Kustomization twice)."""
    memo = build_key(key_of_build, spec.get("commonMetadata"), sorted(values.items()))
    found = walk.rendered.get(memo)
    if found is not None:
        return found
    out: list[Rendered] = []
    for raw, origin in built.objects:
        obj = copy.deepcopy(raw)
        flux_build.apply_common_metadata(obj, spec)
        if not values:
            out.append((origin, ident(obj), obj, None, []))
            continue
        result = substitute(obj, values)
        out.append((origin, ident(obj), result.obj, result.error, sorted(result.empty)))
    walk.rendered[memo] = out
    return out


def planned_build(walk: WalkState, ks: dict[str, Any]) -> Planned | None:
    """(walk build key, folder, spec) of the build `apply_kustomization` will ask for, when its
    source is the repository itself; None otherwise (it is then built when applied)."""
    spec = as_dict(ks.get("spec"))
    path = spec.get("path") or "./"
    ref = as_dict(spec.get("sourceRef"))
    kind = str(ref.get("kind") or "")
    if not isinstance(path, str) or spec.get("suspend") is True or kind == "ExternalArtifact":
        return None
    ns = str(meta(ks).get("namespace") or "flux-system")
    tree = this_repository(walk, kind, str(ref.get("namespace") or ns), str(ref.get("name") or ""))
    if tree is None or tree is not walk.repo:
        return None
    joined, _ = secure_join(path)
    directory = tree.root.joinpath(*joined.split("/")) if joined != "." else tree.root
    if not directory.is_dir():
        return None
    return build_key(tree.label, path, {k: spec.get(k) for k in BUILD_FIELDS}), directory, spec


class FluxKustomizations:
    """`AgentRules` of Flux: Kustomizations of kustomize.toolkit.fluxcd.io/v1."""

    name = "flux"

    def handles(self, obj: dict[str, Any]) -> bool:
        return obj.get("kind") == "Kustomization" and obj.get("apiVersion") == FLUX_KS_SERVED

    def root(self, env_path: str) -> dict[str, Any]:
        """The Kustomization that flux bootstrap (or the FluxInstance's sync) creates."""
        return {
            "apiVersion": FLUX_KS_SERVED,
            "kind": "Kustomization",
            "metadata": {"name": "flux-system", "namespace": "flux-system"},
            "spec": {"path": env_path, "sourceRef": {"kind": "GitRepository", "name": "flux-system"}},
        }

    def planned(self, walk: WalkState, obj: dict[str, Any]) -> Planned | None:
        return planned_build(walk, obj)

    def apply(
        self, walk: WalkState, obj: dict[str, Any], file: str, cluster: str, report: Report
    ) -> list[Applied]:
        return apply_kustomization(walk, obj, file, cluster, report)


RULES = FluxKustomizations()


def secure_join(path: str) -> tuple[str, bool]:
    """`spec.path` relative to the source's root as kustomize-controller joins it (securejoin):
    `/apps` is `./apps`, and `..` never climbs above the root. Returns the joined path (`.` for
    the root) and whether `path` tried to climb above it."""
    parts: list[str] = []
    climbs = False
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            else:
                climbs = True
            continue
        parts.append(part)
    return "/".join(parts) or ".", climbs


def _empty_variable(
    walk: WalkState,
    name: str,
    obj: dict[str, Any],
    where: str,
    who: str,
    values: dict[str, str],
    reads_bridge: bool,
    report: Report,
) -> None:
    request = walk.request
    hint = ""
    if name.endswith("_role_arn"):
        identity = name.removesuffix("_role_arn").replace("_", "-")
        hint = f" (define the workload identity {identity} in the stack)"
    if request.stack and reads_bridge:
        report.add(
            where,
            f"{ident(obj)}: ${{{name}}} is not provided by stack {request.stack} "
            f"({request.stack_file or f'build/{request.stack}/bridge.json'}){hint}",
            ERROR,
        )
        return
    provided = ", ".join(sorted(values)) or "none"
    report.add(
        where,
        f"{ident(obj)}: ${{{name}}} has no value under {who}: Flux substitutes an empty string{hint} "
        f"(provided: {provided})",
        POLICY,
    )


def variables(
    walk: WalkState, spec: dict[str, Any], ns: str, who: str, file: str, report: Report
) -> tuple[dict[str, str], bool]:
    """The Kustomization's own postBuild variables, and whether they include the bridge's."""
    post = spec.get("postBuild")
    if not isinstance(post, dict):
        return {}, False
    values: dict[str, str] = {}
    reads_bridge = False
    for ref in as_list(post.get("substituteFrom")):
        if not isinstance(ref, dict):
            continue
        kind, name = str(ref.get("kind") or ""), str(ref.get("name") or "")
        if (kind, ns, name) == BRIDGE_REF and walk.agent == "flux":
            values.update(walk.variables)
            reads_bridge = True
            own = walk.lookup(kind, ns, name)
            if own is not None:
                # The layout applies its own cluster-vars over the stack's: Flux's server-side apply
                # takes the keys it sets, the stack's other keys stay.
                values.update(data_of(own))
            continue
        found = walk.lookup(kind, ns, name)
        if found is None:
            if ref.get("optional") is not True:
                report.add(
                    file,
                    f"{who}: postBuild.substituteFrom {kind} {ns}/{name} not found "
                    "(Flux stops this Kustomization until it exists)",
                    ERROR,
                )
            continue
        values.update(data_of(found))
    for k, value in as_dict(post.get("substitute")).items():
        values[str(k)] = str(value).replace("\n", "")
    for k in sorted(values):
        if not VAR_NAME.fullmatch(k):
            report.add(
                file,
                f"{who}: postBuild variable name {k!r} is invalid "
                "(must match ^[_[:alpha:]][_[:alpha:][:digit:]]*$)",
                ERROR,
            )
            del values[k]
    return values, reads_bridge


def data_of(obj: dict[str, Any]) -> dict[str, str]:
    """Variables from a ConfigMap's or Secret's data (values Flux cannot know offline stay placeholders)."""
    values: dict[str, str] = {}
    encrypted = "sops" in obj
    for k, value in as_dict(obj.get("data")).items():
        if obj.get("kind") == "Secret" and not encrypted:
            try:
                value = base64.b64decode(str(value), validate=True).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                value = PLACEHOLDER
        values[str(k)] = PLACEHOLDER if encrypted else str(value).replace("\n", "")
    for k, value in as_dict(obj.get("stringData")).items():
        values[str(k)] = PLACEHOLDER if encrypted else str(value).replace("\n", "")
    return values


def source_tree(
    walk: WalkState, ref: dict[str, Any], ns: str, who: str, file: str, path: str, report: Report
) -> Tree | None:
    kind, name = str(ref.get("kind") or ""), str(ref.get("name") or "")
    rns = str(ref.get("namespace") or ns)
    elsewhere = _other_revision(walk, kind, rns, name)
    if elsewhere is not None:
        report.add(
            file,
            f"{who}: source {kind} {rns}/{name} is this repository at {elsewhere}, not at the revision "
            f"verified; {path} not built",
            NOT_CHECKED,
        )
        return None
    tree = this_repository(walk, kind, rns, name)
    if tree is not None:
        return tree
    found = walk.generator_of(rns, name) if kind == "ExternalArtifact" else None
    if found is not None and (rns, name) in walk.refused:
        gen = found[0]
        for problem in walk.refused[(rns, name)]:
            report.add(
                walk.files.get(key(gen), file),
                f"{ident(gen)}: spec.artifacts[{name}].{problem}; ExternalArtifact {rns}/{name} not built",
                ERROR,
            )
        return None
    obj = walk.lookup(kind, rns, name)
    if obj is not None or found is not None:
        url = as_dict(obj.get("spec")).get("url") if obj else None
        where = f" ({url})" if isinstance(url, str) else ""
        report.add(
            file,
            f"{who}: source {kind} {rns}/{name}{where} is not this repository; {path} not built",
            NOT_CHECKED,
        )
    # A missing source is reported by the reference checks.
    return None


def this_repository(walk: WalkState, kind: str, ns: str, name: str) -> Tree | None:
    """The content of a source when it is this repository (or composed from it)."""
    if (kind, ns, name) in AGENT_SOURCES or walk.fluxinstance_sync(kind, ns, name):
        return walk.repo
    obj = walk.lookup(kind, ns, name)
    if kind == "GitRepository" and obj is not None:
        url = as_dict(obj.get("spec")).get("url")
        if isinstance(url, str) and normalize_url(url) in walk.urls:
            return walk.repo if _other_revision(walk, kind, ns, name) is None else None
    if kind == "ExternalArtifact":
        return _artifact(walk, ns, name)
    return None


GIT_REF_FIELDS = ("commit", "name", "semver", "tag", "branch")
"""spec.ref of a GitRepository, in the order source-controller gives them precedence."""


def _other_revision(walk: WalkState, kind: str, ns: str, name: str) -> str | None:
    """How a GitRepository of this repository names a revision other than the one verified
    (`branch dev`, `semver >=1.0`...), or None when it is the one verified, or not known."""
    revisions = walk.request.revisions
    if kind != "GitRepository" or not revisions or (kind, ns, name) in AGENT_SOURCES:
        return None
    if walk.fluxinstance_sync(kind, ns, name):
        return None
    obj = walk.lookup(kind, ns, name)
    spec = as_dict(obj.get("spec")) if obj is not None else {}
    url = spec.get("url")
    if not isinstance(url, str) or normalize_url(url) not in walk.urls:
        return None
    ref = as_dict(spec.get("ref"))
    field, value = next(
        ((f, str(ref[f])) for f in GIT_REF_FIELDS if isinstance(ref.get(f), str) and ref[f]),
        ("branch", "master"),  # source-controller's default when spec.ref is not set
    )
    return None if same_revision(field, value, revisions) else f"{field} {value}"


def same_revision(field: str, value: str, revisions: frozenset[str]) -> bool:
    """Whether a reference (`branch`, `tag`, `name`, `commit`; a semver range never) names the
    verified revision, known as `revisions` (branch or tag names, the commit sha, `HEAD`)."""
    if field == "semver":
        return False
    if field == "commit":
        return any(len(value) >= 7 and r.startswith(value) for r in revisions)
    if field == "name":
        value = value.removeprefix("refs/heads/").removeprefix("refs/tags/")
    return value in revisions


def _artifact(walk: WalkState, ns: str, name: str) -> Tree | None:
    if (ns, name) in walk.artifacts:
        return walk.artifacts[(ns, name)]
    found = walk.generator_of(ns, name)
    if found is None:
        return None
    generator, artifact = found
    aliases: dict[str, tuple[Path, str] | None] = {}
    for src in as_list(as_dict(generator.get("spec")).get("sources")):
        if not isinstance(src, dict) or not isinstance(src.get("alias"), str):
            continue
        tree = this_repository(
            walk, str(src.get("kind") or ""), str(src.get("namespace") or ns), str(src.get("name") or "")
        )
        aliases[src["alias"]] = (tree.root, "") if tree is walk.repo and tree is not None else None
    if any(v is None for v in aliases.values()) or not aliases:
        walk.artifacts[(ns, name)] = None
        return None
    composed = compose(walk.ws.scratch(f"artifact-{ns}-{name}"), artifact, aliases)
    if composed.problems:
        walk.refused[(ns, name)] = composed.problems
        walk.artifacts[(ns, name)] = None
        return None
    tree = Tree(composed.root, f"ExternalArtifact {ns}/{name}", composed.origin)
    walk.artifacts[(ns, name)] = tree
    return tree
