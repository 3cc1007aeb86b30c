"""What a kustomization may make the engine read, decided before the engine runs.

Flux builds with kustomize's `LoadRestrictionsNone`, but on a file system that refuses every path
outside the source root (fluxcd/pkg kustomize `SecureBuild`), plugins off, and remote bases off
(`--no-remote-bases`). The `kubectl kustomize` verify runs has no such file system, so every
kustomization reachable from a build is read here first and refused when it would:

* load anything remote (a URL, a git or scp-like address) in a field kustomize fetches from:
  resources, bases, components, generators, transformers, validators, configurations, crds,
  openapi; or inflate Helm charts (kustomize-controller never does);
* read a path outside the repository: every string of the kustomization is looked at, whatever
  its key (kustomize decodes keys case-insensitively, as Go's encoding/json does, so
  `ConfigMapGenerator:` is `configMapGenerator:`), and so is every string of the generator,
  transformer and validator configurations it names (files or inline), which can hold paths of
  their own.

A string is a path outside when it is absolute or climbs with `..` past the repository root, and
it either sits under a key that holds paths (`files`, `envs`, `path`, `resources`, ...) or names
something that exists. The copy verify builds in holds no symlink, so the lexical check is the
real one; it is also resolved on disk to be sure.

Findings name the kustomization and the key, never the contents of what would have been read.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

from eksgitops.fleet import yamlio
from eksgitops.fleet.scratch_copy import kustomization_file

REMOTE_KEYS = {
    "resources",
    "bases",
    "components",
    "generators",
    "transformers",
    "validators",
    "configurations",
    "crds",
}
"""Kustomization fields (casefolded) whose entries kustomize may fetch from a remote."""
DIRECTORY_KEYS = {"resources", "bases", "components"}
CONFIG_KEYS = {"generators", "transformers", "validators"}
HELM_KEYS = {"helmcharts", "helmglobals", "helmchartinflationgenerator"}
PATH_KEYS = REMOTE_KEYS | {
    "patchesstrategicmerge",
    "files",
    "envs",
    "env",
    "path",
    "charthome",
    "valuesfile",
    "additionalvaluesfiles",
    "openapi",
}
"""Keys (casefolded, at any depth) whose strings kustomize reads as paths."""
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:")
_REMOTE_PREFIXES = ("git::", "gh:", "github.com/", "gitlab.com/", "bitbucket.org/")


MAX_NODES = 200_000
"""More YAML nodes than this (aliases expanded) is refused rather than walked."""
KUSTOMIZATION = yamlio.Limits(values=MAX_NODES)
"""A kustomization or generator configuration: held to these before it is composed."""


class Pairs(list):  # type: ignore[type-arg]
    """A YAML mapping as all of its (key, value) pairs: a duplicate key hides nothing here."""


class PrecheckError(Exception):
    """A kustomization verify refuses to hand to the engine; `path` is repository-relative."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def is_remote(ref: str) -> bool:
    """A reference kustomize would fetch rather than read from disk."""
    head = ref.split("?", 1)[0]
    return bool(
        _SCHEME.match(ref)
        or _SCP_LIKE.match(ref)
        or ref.startswith(_REMOTE_PREFIXES)
        or "?ref=" in ref
        or "//" in head[1:]
    )


def _rel(root: Path, path: Path) -> str:
    rel = os.path.relpath(path, root).replace(os.sep, "/")
    return "." if rel == "." else rel


def within(root: Path, target: Path) -> bool:
    """`target` (normalised) is `root` or below it, on paper and on disk."""
    # On paper first, as strings (pathlib's `parents` is slow here and this runs for every
    # reference of every build); both sides are in pathlib's normal form.
    norm, base = os.fspath(Path(os.path.normpath(target))), os.fspath(root)
    if not (norm == base or norm.startswith(base.rstrip(os.sep) + os.sep)):
        return False
    real_root, real = os.path.realpath(root), os.path.realpath(norm)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def _pairs(value: Any) -> list[tuple[Any, Any]]:
    if isinstance(value, Pairs):
        return list(value)
    if isinstance(value, dict):
        return list(value.items())
    return []


def _plain(node: Any, budget: list[int]) -> Any:
    """A composed YAML node as Pairs/lists/strings; `<<` merges are expanded as kustomize expands them."""
    budget[0] -= 1
    if budget[0] < 0:
        raise OverflowError
    if isinstance(node, yamlio.yaml.MappingNode):
        out = Pairs()
        for key_node, value_node in node.value:
            key, value = _plain(key_node, budget), _plain(value_node, budget)
            if key == "<<":
                # `<<: *a` merges one mapping, `<<: [*a, *b]` several.
                for merged in [value] if isinstance(value, Pairs) or not isinstance(value, list) else value:
                    out.extend(_pairs(merged))
            else:
                out.append((key, value))
        return out
    if isinstance(node, yamlio.yaml.SequenceNode):
        return [_plain(item, budget) for item in node.value]
    return str(node.value) if isinstance(node, yamlio.yaml.ScalarNode) else None


def _strings(value: Any, keys: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """Every string scalar in `value` with the casefolded keys above it."""
    if isinstance(value, (dict, Pairs)):
        for key, item in _pairs(value):
            name = key.casefold() if isinstance(key, str) else str(key)
            if isinstance(key, str) and key not in ("",):
                yield (*keys, name), key  # a key can be a path too (an env file's `key=path`)
            yield from _strings(item, (*keys, name))
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, keys)
    elif isinstance(value, bytes):
        yield keys, value.decode("utf-8", errors="replace")
    elif isinstance(value, str):
        yield keys, value


def _candidates(text: str) -> list[str]:
    """The path parts of a string: itself, and what follows `=` (`key=path` in generators)."""
    out = [text]
    if "=" in text:
        out.append(text.split("=", 1)[1])
    return out


def _escapes(root: Path, directory: Path, text: str) -> bool:
    if "\n" in text or not text.strip() or is_remote(text):
        return False
    if not (
        text.startswith(("/", "\\")) or ".." in re.split(r"[\\/]", text) or re.match(r"^[A-Za-z]:", text)
    ):
        return False
    return not within(root, directory / text)


def _label(keys: tuple[str, ...]) -> str:
    return ".".join(keys) or "(document)"


def _scan_paths(root: Path, directory: Path, where: str, document: Any, links: Collection[str] = ()) -> None:
    for keys, text in _strings(document):
        by_key = any(k in PATH_KEYS for k in keys)
        for candidate in _candidates(text):
            if _escapes(root, directory, candidate):
                if by_key or os.path.lexists(os.path.normpath(directory / candidate)):
                    raise PrecheckError(where, f"{_label(keys)}: {candidate} is outside the repository")
            elif by_key and links and "\n" not in candidate and not is_remote(candidate):
                link = dropped_link(_rel(root, Path(os.path.normpath(directory / candidate.strip()))), links)
                if link is not None:
                    raise PrecheckError(
                        where,
                        f"{_label(keys)}: {candidate} is a symlink in the repository ({link}); "
                        "source-controller leaves symlinks out of the artifact and verify never follows one",
                    )


def dropped_link(rel: str, links: Collection[str]) -> str | None:
    """The symlink of `links` (repository-relative) that `rel` is or lies below, else None."""
    for link in links:
        if rel == link or rel.startswith(link + "/"):
            return link
    return None


def parse(text: str) -> list[Any]:
    """Every document of `text` as Pairs/lists/strings; raises YAMLError or OverflowError."""
    yamlio.check_yaml(text, KUSTOMIZATION)
    budget = [MAX_NODES]
    return [_plain(doc, budget) for doc in yamlio.yaml.compose_all(text, Loader=yamlio.yaml.SafeLoader)]


def _parse_or_refuse(text: str, where: str, what: str) -> list[Any]:
    # What cannot be read here cannot be checked, so it is not handed to the engine either.
    try:
        return parse(text)
    except yamlio.DocumentLimit as exc:
        raise PrecheckError(where, f"{what}{exc}; not built") from None
    except yamlio.yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark is not None else ""
        raise PrecheckError(where, f"{what}is not valid YAML{line}; not built") from None
    except (OverflowError, RecursionError):
        raise PrecheckError(where, f"{what}has more than {MAX_NODES} YAML nodes; not built") from None


def _load(path: Path, root: Path) -> list[Any]:
    return _parse_or_refuse(path.read_text(encoding="utf-8", errors="replace"), _rel(root, path), "")


def _casefolded(data: Any) -> dict[str, list[Any]]:
    """Values by casefolded key; kustomize takes `Resources:` for `resources:`."""
    out: dict[str, list[Any]] = {}
    for key, value in _pairs(data):
        out.setdefault(str(key).casefold(), []).append(value)
    return out


def _entries(values: list[Any]) -> list[Any]:
    found: list[Any] = []
    for value in values:
        found.extend(value if isinstance(value, list) else [value])
    return found


def precheck(
    root: Path,
    directory: Path,
    data: Any = None,
    seen: set[Path] | None = None,
    links: Collection[str] = (),
) -> None:
    """Refuse remote loads, Helm inflation and paths outside `root`, in every reachable kustomization.

    `data` is the kustomization to judge for `directory` (the one Flux merged its own fields into);
    None reads the directory's kustomization file. `links` are the repository's symlinks (left
    out of the copy): a reference to one is named as such instead of "not found".
    """
    seen = seen if seen is not None else set()
    if directory in seen:
        return
    seen.add(directory)
    kfile = kustomization_file(directory)
    where = _rel(root, kfile) if kfile is not None else _rel(root, directory / "kustomization.yaml")
    if data is None:
        if kfile is None:
            return
        docs = _load(kfile, root)
        data = docs[0] if docs else None
    if not isinstance(data, (dict, Pairs)):
        return  # kustomize refuses a kustomization that is not a mapping, reading nothing
    fields = _casefolded(data)
    for key in sorted(HELM_KEYS & set(fields)):
        original = next(str(k) for k, _ in _pairs(data) if str(k).casefold() == key)
        raise PrecheckError(
            where, f"{original}: Flux's kustomize-controller does not inflate Helm charts; use a HelmRelease"
        )
    for key in sorted(REMOTE_KEYS & set(fields)):
        for item in _entries(fields[key]):
            if isinstance(item, str) and "\n" not in item and is_remote(item.strip()):
                raise PrecheckError(
                    where,
                    f"{key}: remote base {item.strip()} (the agent runs with remote bases disabled; "
                    "vendor it into the repository)",
                )
    for value in fields.get("openapi", []):
        for sub, path in _pairs(value):
            if str(sub).casefold() == "path" and isinstance(path, str) and is_remote(path):
                raise PrecheckError(
                    where, f"openapi.path: remote {path} (vendor the schema into the repository)"
                )
    _scan_paths(root, directory, where, data, links)
    for key in sorted(CONFIG_KEYS & set(fields)):
        for item in _entries(fields[key]):
            _check_config(root, directory, where, key, item, links)
    for key in sorted(DIRECTORY_KEYS & set(fields)):
        for item in _entries(fields[key]):
            if isinstance(item, str) and "\n" not in item:
                target = Path(os.path.normpath(directory / item.strip()))
                if target.is_dir():
                    precheck(root, target, None, seen, links)


def _check_config(
    root: Path, directory: Path, where: str, key: str, item: Any, links: Collection[str]
) -> None:
    """A generator/transformer/validator configuration, inline or in a file: its paths too."""
    if isinstance(item, (dict, Pairs)):
        docs: list[Any] = [item]
        label = where
    elif isinstance(item, str) and "\n" in item:
        docs = _parse_or_refuse(item, where, f"{key}: an inline configuration ")
        label = where
    elif isinstance(item, str):
        target = Path(os.path.normpath(directory / item.strip()))
        if target.is_dir():
            precheck(root, target, links=links)
            return
        if not target.is_file():
            return  # kustomize reports the missing file itself
        docs = _load(target, root)
        label = _rel(root, target)
    else:
        return
    for doc in docs:
        _scan_paths(root, directory, label, doc, links)
        kinds = [v for k, v in _pairs(doc) if str(k).casefold() == "kind"]
        if any(isinstance(kind, str) and kind.casefold() == "helmchartinflationgenerator" for kind in kinds):
            raise PrecheckError(
                label,
                f"{key}: HelmChartInflationGenerator: Flux's kustomize-controller does not inflate "
                "Helm charts",
            )


def precheck_components(root: Path, directory: Path, components: Any, links: Collection[str] = ()) -> None:
    """A Flux Kustomization's own `spec.components` (paths relative to `spec.path`), as above.

    Raises PrecheckError whose path is "" (the Flux Kustomization's file, known to the caller).
    """
    for item in components if isinstance(components, list) else []:
        if not isinstance(item, str):
            continue
        if is_remote(item.strip()):
            raise PrecheckError(
                "",
                f"spec.components: remote component {item.strip()} (the agent runs with remote bases "
                "disabled; vendor it into the repository)",
            )
        target = Path(os.path.normpath(directory / item.strip()))
        if not within(root, target):
            raise PrecheckError("", f"spec.components: {item.strip()} is outside the repository")
        if target.is_dir():
            precheck(root, target, links=links)
