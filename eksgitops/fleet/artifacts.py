"""ExternalArtifacts of an ArtifactGenerator (source-watcher), composed from this repository.

Each `copy` entry reads `@alias/<path or glob>` from a source and writes under `@artifact/`:
`dir/**` copies the tree below `dir`, `dir/*.yaml` the matching files, a plain path one file
(or a directory's tree); `exclude` globs drop files. Verify composes the artifact in a scratch
directory and remembers where each file came from, so findings name the repository file.

The paths are the repository's, so they are hostile input: a `from` that leaves its source, a
`to` that leaves `@artifact/` (`@artifact/../../<venv>/site-packages/x.pth` would run code at the
next Python start), an absolute path, or one through a symlink, is refused and nothing of that
artifact is written. Files are copied only when they are regular files of the source tree.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Composed:
    root: Path
    origin: dict[str, str] = field(default_factory=dict)
    """artifact-relative file -> repository-relative file."""
    problems: list[str] = field(default_factory=list)


def compose(dest: Path, artifact: dict[str, Any], sources: dict[str, tuple[Path, str] | None]) -> Composed:
    """Compose `artifact` into `dest`; `sources` maps alias -> (tree, repo-relative prefix) or None."""
    out = Composed(dest)
    copies = artifact.get("copy")
    if not isinstance(copies, list):
        out.problems.append("copy: must be a list")
        return out
    planned: list[tuple[Path, Path, str, str]] = []
    for index, op in enumerate(copies):
        if (
            not isinstance(op, dict)
            or not isinstance(op.get("from"), str)
            or not isinstance(op.get("to"), str)
        ):
            out.problems.append("copy: each entry needs `from` and `to` strings")
            continue
        source, to, excludes = op["from"], op["to"], op.get("exclude") or []
        if not source.startswith("@") or "/" not in source or not to.startswith("@artifact"):
            out.problems.append(f"copy: {source} -> {to}: `from` must be @alias/path, `to` @artifact/path")
            continue
        alias, _, pattern = source[1:].partition("/")
        tree = sources.get(alias)
        if tree is None:
            out.problems.append(f"copy: source alias {alias} is not one of this generator's sources")
            continue
        base, prefix = tree
        rest = to.removeprefix("@artifact")
        if rest and not rest.startswith("/"):
            out.problems.append(f"copy[{index}].to: {to} must be @artifact/path")
            continue
        target = rest.lstrip("/")
        where = f"copy[{index}]"
        if _escapes(pattern):
            out.problems.append(f"{where}.from: {source} is outside its source (no '..', no absolute path)")
            continue
        if _escapes(target):
            out.problems.append(f"{where}.to: {to} is outside @artifact/ (no '..', no absolute path)")
            continue
        for rel_src, rel_dst in _matches(base, pattern, target, to.endswith("/")):
            if any(fnmatch.fnmatch(rel_src, str(x)) for x in excludes):
                continue
            src, dst = base / rel_src, dest / rel_dst
            if not (_regular_below(base, src) and _below(dest, dst)):
                out.problems.append(f"{where}: {source} -> {to}: {rel_src} leaves its tree or is a symlink")
                continue
            planned.append((src, dst, rel_dst, posixpath.normpath(posixpath.join(prefix, rel_src))))
    if out.problems:
        return out  # nothing written for an artifact with a refused rule
    for src, dst, rel_dst, origin in planned:
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not _below(dest, dst.parent, strict=False) or dst.is_symlink():
            out.problems.append(f"{rel_dst}: would be written outside @artifact/")
            return out
        shutil.copyfile(src, dst, follow_symlinks=False)
        out.origin[rel_dst] = origin
    return out


def _escapes(rel: str) -> bool:
    """An absolute path, a drive, a backslash, or a `..` segment: never a path inside a tree."""
    if rel.startswith(("/", "\\")) or "\\" in rel or (len(rel) > 1 and rel[1] == ":"):
        return True
    return ".." in rel.split("/")


def _below(top: Path, path: Path, strict: bool = True) -> bool:
    """`path` lies inside `top` (itself allowed unless `strict`) with no symlink between them."""
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(top))
    if rel == ".":
        return not strict
    if rel == ".." or rel.startswith(".." + os.sep) or os.path.isabs(rel):
        return False
    return os.path.realpath(path) == os.path.join(os.path.realpath(top), rel)


def _regular_below(top: Path, path: Path) -> bool:
    try:
        mode = path.lstat().st_mode
    except OSError:
        return False
    return stat.S_ISREG(mode) and _below(top, path)


def _matches(base: Path, pattern: str, target: str, into_dir: bool) -> list[tuple[str, str]]:
    pattern = pattern.strip("/")
    if pattern.endswith("/**") or pattern == "**":
        top = pattern[:-3] if pattern != "**" else ""
        return [(posixpath.join(top, f) if top else f, posixpath.join(target, f)) for f in _files(base / top)]
    if any(ch in pattern for ch in "*?["):
        directory = posixpath.dirname(pattern)
        found = []
        for name in sorted(os.listdir(base / directory)) if (base / directory).is_dir() else []:
            rel = posixpath.join(directory, name) if directory else name
            if (base / rel).is_file() and fnmatch.fnmatch(rel, pattern):
                found.append((rel, posixpath.join(target, name)))
        return found
    if (base / pattern).is_dir():
        return [(posixpath.join(pattern, f), posixpath.join(target, f)) for f in _files(base / pattern)]
    if (base / pattern).is_file():
        dst = posixpath.join(target, posixpath.basename(pattern)) if into_dir or not target else target
        return [(pattern, dst)]
    return []


def _files(top: Path) -> list[str]:
    if not top.is_dir():
        return []
    found = []
    for dirpath, _, filenames in os.walk(top):
        for name in filenames:
            found.append(os.path.relpath(Path(dirpath) / name, top).replace(os.sep, "/"))
    return sorted(found)
