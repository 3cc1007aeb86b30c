"""ExternalArtifacts of an ArtifactGenerator (source-watcher), composed from this repository.

Each `copy` entry reads `@alias/<path or glob>` from a source and writes under `@artifact/`:
`dir/**` copies the tree below `dir`, `dir/*.yaml` the matching files, a plain path one file
(or a directory's tree); `exclude` globs drop files. Verify composes the artifact in a scratch
directory and remembers where each file came from, so findings name the repository file.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import shutil
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
    for op in copies:
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
        target = to.removeprefix("@artifact").lstrip("/")
        for rel_src, rel_dst in _matches(base, pattern, target, to.endswith("/")):
            if any(fnmatch.fnmatch(rel_src, str(x)) for x in excludes):
                continue
            dst = dest / rel_dst
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(base / rel_src, dst)
            out.origin[rel_dst] = posixpath.normpath(posixpath.join(prefix, rel_src))
    return out


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
