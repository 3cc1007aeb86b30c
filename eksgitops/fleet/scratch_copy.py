"""A scratch copy of the checkout that verify builds in, as source-controller would package it.

Symlinks are dropped (source-controller does not follow or keep them); files matched by
source-controller's default exclusions or by a `.sourceignore` (sourceignore.py) are left out,
and so is `.git/`, as they are from the artifact the controllers download.
Flux edits the kustomization file of the path it builds; verify does the same, but only in this
copy and restores it after every build.
"""

from __future__ import annotations

import os
import posixpath
import re
import shutil
import tempfile
from pathlib import Path

from eksgitops.fleet import budget
from eksgitops.fleet.sourceignore import IGNORE_FILE, MAX_PATTERNS, Matcher, read_patterns

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
MAX_IGNORE_FILE_BYTES = 1 << 20
"""A `.sourceignore` larger than this is not read (it would be nothing but a way to slow verify)."""
WALK_FACTOR = 10
"""Entries walked (ignored ones included) may be this many times the run's file cap."""


class Workspace:
    """`root` is the copy; paths in messages are relative to it (= to the repository).

    What the copy holds is what source-controller's artifact holds: regular files that no
    `.sourceignore` pattern leaves out (sourceignore.py), no symlink, and no `.git/`. A
    disposable checkout is pruned in place, and its `.git` moved out of the tree for the run
    (a generator reading `../.git/config` fails, as under Flux) and put back by `close`.
    The files kept count against the run's caps (budget.py).
    """

    def __init__(self, source: Path, disposable: bool = False) -> None:
        """Copy `source`; a `disposable` checkout (a throw-away clone) is pruned in place instead."""
        self.tmp = Path(tempfile.mkdtemp(prefix="eksgitops-verify-"))
        self.root = source if disposable else self.tmp / "repo"
        self.symlinks: list[str] = []
        self.ignored: list[str] = []
        self._git: tuple[Path, Path] | None = None
        try:
            self._copy(source, in_place=disposable)
        except BaseException:
            self.close()
            raise

    def _copy(self, source: Path, in_place: bool = False) -> None:
        run = budget.current()
        git_dir = source / ".git"
        if in_place and git_dir.is_dir() and not git_dir.is_symlink():
            self._git = (self.tmp / "git", git_dir)
            shutil.move(str(git_dir), self.tmp / "git")
        dirs, files, patterns = self._walk(source, run)
        matcher = Matcher(patterns)
        keep_dirs: set[str] = {""}
        left_out: list[str] = []
        for rel in files:
            if matcher.ignored(rel):
                left_out.append(rel)
                continue
            size = (source / rel).lstat().st_size
            run.count_file(rel, size)
            parts = rel.split("/")
            keep_dirs.update("/".join(parts[:i]) for i in range(1, len(parts)))
        self.ignored = _tops(left_out, keep_dirs)
        if in_place:
            for rel in left_out:
                (source / rel).unlink()
            for rel in sorted((d for d in dirs if d not in keep_dirs), key=len, reverse=True):
                shutil.rmtree(source / rel, ignore_errors=True)
            return
        self.root.mkdir()
        for rel in sorted(d for d in dirs if d in keep_dirs):
            (self.root / rel).mkdir(exist_ok=True)
        ignored = set(left_out)
        for rel in files:
            if rel not in ignored:
                shutil.copyfile(source / rel, self.root / rel, follow_symlinks=False)

    def _walk(self, source: Path, run: budget.Budget) -> tuple[list[str], list[str], list[tuple[str, str]]]:
        """Directories and regular files below `source` (never `.git`, never through a symlink),
        and the `.sourceignore` patterns as (domain, pattern), parents first."""
        dirs: list[str] = []
        files: list[str] = []
        patterns: list[tuple[str, str]] = []
        walked = 0
        for dirpath, dirnames, filenames in os.walk(source, followlinks=False):
            here = Path(dirpath)
            rel = here.relative_to(source).as_posix()
            rel = "" if rel == "." else rel
            dirnames.sort()
            for name in list(dirnames):
                child = f"{rel}/{name}" if rel else name
                if (here / name).is_symlink():
                    self.symlinks.append(child)
                    dirnames.remove(name)
                    _unlink_if(here / name, self.root == source)
                elif name == ".git" and not rel:
                    dirnames.remove(name)  # a copy never holds it; a disposable tree had it moved
                else:
                    dirs.append(child)
            for name in sorted(filenames):
                child = f"{rel}/{name}" if rel else name
                path = here / name
                walked += 1
                if walked % 1000 == 0:
                    run.check_time("reading the repository")
                if walked > run.max_files * WALK_FACTOR:
                    run.count_file(child, 0)  # over the cap whatever is ignored: say so
                    raise budget.LimitReached(
                        f"the repository holds more than {run.max_files * WALK_FACTOR:,} files "
                        "(ignored ones included); fleet verify walks at most that many",
                        budget.REPOSITORY_AT_FAULT,
                    )
                if path.is_symlink():
                    self.symlinks.append(child)
                    _unlink_if(path, self.root == source)
                elif path.is_file():
                    files.append(child)
                    if name == IGNORE_FILE and len(patterns) < MAX_PATTERNS:
                        patterns.extend((rel, p) for p in _read_ignore_file(path))
        return dirs, files, patterns

    def close(self) -> None:
        if self._git is not None:
            moved, home = self._git
            self._git = None
            if moved.is_dir() and not home.exists():
                shutil.move(str(moved), home)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def scratch(self, name: str) -> Path:
        """A fresh directory beside the copy (for composed artifacts), named after `name`.

        `name` comes from the repository (an artifact's namespace and name): only its safe
        characters are kept, so it can never climb out of the scratch tree.
        """
        safe = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:60]
        return Path(tempfile.mkdtemp(prefix=f"{safe}-", dir=self.tmp))


def _unlink_if(path: Path, in_place: bool) -> None:
    if in_place:
        path.unlink()


def _read_ignore_file(path: Path) -> list[str]:
    try:
        if path.stat().st_size > MAX_IGNORE_FILE_BYTES:
            return []
        return read_patterns(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return []


def _tops(left_out: list[str], keep_dirs: set[str]) -> list[str]:
    """The files left out, each named by its highest directory that keeps nothing (`dir/`)."""
    out: dict[str, None] = {}
    for rel in left_out:
        parts = rel.split("/")
        top = rel
        for i in range(1, len(parts)):
            folder = "/".join(parts[:i])
            if folder not in keep_dirs:
                top = folder + "/"
                break
        out.setdefault(top, None)
    return list(out)


def inside(base: Path, rel: str) -> Path | None:
    """`base/rel` when it stays inside `base` (no `..` escape, no absolute path, no symlink), else None."""
    if rel.startswith("/") or "\\" in rel or "\0" in rel:
        return None
    norm = posixpath.normpath(rel)
    if norm == ".." or norm.startswith("../"):
        return None
    path = base / norm if norm != "." else base
    real_base = os.path.realpath(base)
    real = os.path.realpath(path)
    if real != real_base and not real.startswith(real_base.rstrip(os.sep) + os.sep):
        return None
    return path


def kustomization_file(directory: Path) -> Path | None:
    for name in KUSTOMIZATION_FILES:
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None
