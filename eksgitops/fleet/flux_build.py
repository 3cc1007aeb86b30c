"""The Kustomization controller's own build steps for one Flux Kustomization, on the real engine.

1. `spec.path` inside the source (never outside it);
2. no kustomization file: generate one listing the YAML files below the path, recursively, with a
   sub-directory that has its own kustomization added as one resource (fluxcd/pkg's generator);
3. merge the Kustomization's `targetNamespace`, `patches`, `images`, `components`, `namePrefix`
   and `nameSuffix` into that kustomization;
4. `kustomize build` sandboxed (engine.py), under the root-only load restrictor, and again with
   `LoadRestrictionsNone` (what Flux uses) only when that refuses a file inside the repository;
5. per object: `commonMetadata`, then `postBuild` substitution (see substitute.py).

Before building, every kustomization reachable from the path, and the Kustomization's own
`spec.components`, are read (precheck.py) to refuse what Flux refuses without trying: remote
bases (the agent runs with `--no-remote-bases`), files outside the source, and `helmCharts`
(kustomize-controller never inflates Helm charts).
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eksgitops.fleet import yamlio
from eksgitops.fleet.kustomize_engine import BuildFailed, BuildLimit, Engine
from eksgitops.fleet.precheck import PrecheckError, precheck, precheck_components
from eksgitops.fleet.scratch_copy import kustomization_file

ORIGIN = "config.kubernetes.io/origin"
SPEC = "<spec>"
"""`Built.error_path` when the problem is in the Flux Kustomization's own fields."""


@dataclass
class Built:
    """Objects of one build, each with the repository file it came from."""

    objects: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    error: str | None = None
    error_path: str = ""


def _rel(root: Path, path: Path) -> str:
    rel = os.path.relpath(path, root).replace(os.sep, "/")
    return "." if rel == "." else rel


def _yaml_problem(exc: Exception) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{problem} (line {mark.line + 1})" if mark is not None else str(problem)


def generated_resources(root: Path, directory: Path) -> list[str]:
    """What fluxcd/pkg's generator lists for a path without a kustomization file."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(directory):
        here = Path(dirpath)
        for name in sorted(list(dirnames)):
            sub = here / name
            if kustomization_file(sub) is not None:
                found.append("./" + _rel(directory, sub))
                dirnames.remove(name)
        dirnames.sort()
        for name in sorted(filenames):
            if not name.endswith((".yaml", ".yml")):
                continue
            # Every YAML file is listed; kustomize decodes it when building, as Flux's generator does.
            found.append("./" + _rel(directory, here / name))
    return sorted(found)


def merge_spec(kustomization: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """The kustomization after kustomize-controller merged the Flux Kustomization's own fields."""
    out = dict(kustomization)
    if isinstance(spec.get("targetNamespace"), str) and spec["targetNamespace"]:
        out["namespace"] = spec["targetNamespace"]
    if isinstance(spec.get("patches"), list) and spec["patches"]:
        out["patches"] = [*(out.get("patches") or []), *spec["patches"]]
    if isinstance(spec.get("images"), list) and spec["images"]:
        images = list(out.get("images") or [])
        for image in spec["images"]:
            names = [i.get("name") if isinstance(i, dict) else None for i in images]
            name = image.get("name") if isinstance(image, dict) else None
            if name in names:
                images[names.index(name)] = image
            else:
                images.append(image)
        out["images"] = images
    if isinstance(spec.get("components"), list) and spec["components"]:
        out["components"] = [*(out.get("components") or []), *spec["components"]]
    for key in ("namePrefix", "nameSuffix"):
        if isinstance(spec.get(key), str) and spec[key]:
            out[key] = spec[key]
    meta = list(out.get("buildMetadata") or [])
    if "originAnnotations" not in meta:
        meta.append("originAnnotations")
    out["buildMetadata"] = meta
    return out


def build_path(
    engine: Engine,
    root: Path,
    directory: Path,
    spec: dict[str, Any],
    load_restrictor_none: bool = True,
    generate: bool = True,
    symlinks: Collection[str] = (),
) -> Built:
    """Build `directory` (inside `root`) as the Kustomization with `spec` would; restore the copy.

    `symlinks`: the repository's symlinks, left out of `root` (named in findings that use them).
    """
    try:
        precheck(root, directory, links=symlinks)
        precheck_components(root, directory, spec.get("components"), symlinks)
    except PrecheckError as exc:
        return Built(error=exc.message, error_path=exc.path or SPEC)
    kfile = kustomization_file(directory)
    original: bytes | None = None
    if kfile is None:
        if not generate:
            return Built(error="no kustomization file", error_path=_rel(root, directory))
        try:
            resources = generated_resources(root, directory)
        except PrecheckError as exc:
            return Built(error=exc.message, error_path=exc.path)
        data: dict[str, Any] = {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": resources,
        }
        kfile = directory / "kustomization.yaml"
    else:
        original = kfile.read_bytes()
        try:
            docs = yamlio.load_all(original.decode("utf-8", errors="replace"))
            loaded = docs[0] if docs else {}
        except yamlio.yaml.YAMLError:
            loaded = None
        if not isinstance(loaded, dict) or _has_duplicate_keys(original):
            # Not something to merge into: let kustomize say what is wrong with it, unmodified.
            return _build_as_is(engine, root, directory, load_restrictor_none)
        data = loaded
    try:
        kfile.write_text(yamlio.dump(merge_spec(data, spec)), encoding="utf-8")
        try:
            objects = confined_build(engine, directory, load_restrictor_none)
        except BuildFailed as exc:
            return Built(error=clean_error(str(exc), root), error_path=_rel(root, directory))
    finally:
        if original is None:
            kfile.unlink(missing_ok=True)
        else:
            kfile.write_bytes(original)
    out: list[tuple[dict[str, Any], str]] = []
    base = _rel(root, directory)
    for obj in objects:
        out.append((obj, _origin(obj, base)))
    return Built(objects=out)


_ACCUMULATION = re.compile(
    r"^accumulating resources: accumulation err='(?:accumulating resources from '[^']*': )?(.*)': "
    r"must build at directory: .*$",
    re.DOTALL,
)


_TARGET = re.compile(r"couldn't make target for path '([^']*)': (.*)$", re.DOTALL)


def clean_error(text: str, root: Path) -> str:
    """kustomize's message without scratch paths and without its nested accumulation wrapping."""
    text = text.replace(str(root) + "/", "").replace(str(root), ".")
    for _ in range(5):
        match = _ACCUMULATION.match(text)
        if not match:
            break
        text = match.group(1)
    target = _TARGET.search(text)
    if target:
        text = f"{target.group(1)}: {target.group(2)}"
    return text


def _has_duplicate_keys(raw: bytes) -> bool:
    try:
        yamlio.load_all_strict(raw.decode("utf-8", errors="replace"))
    except yamlio.yaml.YAMLError:
        return True
    return False


def confined_build(engine: Engine, directory: Path, load_restrictor_none: bool) -> list[dict[str, Any]]:
    """Build under kustomize's root-only restrictor; with `load_restrictor_none`, then as Flux does.

    Flux loads files from anywhere inside the source root, which the root-only restrictor (the
    kustomization's own directory) is stricter than. A build that passes root-only read nothing
    outside the kustomizations' own directories; one that fails is built again with
    `LoadRestrictionsNone`, so a loading from elsewhere in the repository works and the message
    of a real mistake is the one Flux gives. The precheck has already refused every path outside
    the repository, so that second build loads nothing Flux would not.
    """
    try:
        return engine.build(directory, False)
    except BuildLimit:
        raise  # over its time, memory or output: a second build would spend as much again
    except BuildFailed:
        if not load_restrictor_none:
            raise
    return engine.build(directory, True)


def _build_as_is(engine: Engine, root: Path, directory: Path, load_restrictor_none: bool) -> Built:
    try:
        objects = confined_build(engine, directory, load_restrictor_none)
    except BuildFailed as exc:
        return Built(error=clean_error(str(exc), root), error_path=_rel(root, directory))
    return Built(objects=[(o, _rel(root, directory)) for o in objects])


def _origin(obj: dict[str, Any], base: str) -> str:
    """The file an object came from (kustomize's origin annotation, then removed), repo-relative."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return base
    annotations = meta.get("annotations")
    if not isinstance(annotations, dict) or ORIGIN not in annotations:
        return base
    raw = annotations.pop(ORIGIN)
    if not annotations:
        meta.pop("annotations")
    try:
        origin = yamlio.load_all(str(raw))[0]
    except (yamlio.yaml.YAMLError, IndexError):
        return base
    if not isinstance(origin, dict):
        return base
    path = origin.get("path") or origin.get("configuredIn")
    if not isinstance(path, str):
        return base
    joined = os.path.normpath(os.path.join(base, path)).replace(os.sep, "/")
    return joined


def apply_common_metadata(obj: dict[str, Any], spec: dict[str, Any]) -> None:
    common = spec.get("commonMetadata")
    if not isinstance(common, dict):
        return
    meta = obj.setdefault("metadata", {})
    if not isinstance(meta, dict):
        return
    for key in ("labels", "annotations"):
        extra = common.get(key)
        if isinstance(extra, dict) and extra:
            current = meta.get(key)
            merged: dict[str, Any] = dict(current) if isinstance(current, dict) else {}
            merged.update({str(k): str(v) for k, v in extra.items()})
            meta[key] = merged
