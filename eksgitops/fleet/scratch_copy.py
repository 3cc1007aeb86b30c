"""A scratch copy of the checkout that verify builds in, as source-controller would package it.

Symlinks are dropped (source-controller does not follow or keep them); files matched by
source-controller's default exclusions or by a `.sourceignore` (gitignore syntax, in any
directory) are left out, as they are from the artifact the controllers download.
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

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
# fluxcd/pkg sourceignore: ExcludeVCS, ExcludeCI and ExcludeExtra.
DEFAULT_IGNORE = (
    *(".git/", ".gitignore", ".gitmodules", ".gitattributes"),
    *(".github/", ".circleci/", ".travis.yml", ".gitlab-ci.yml", "appveyor.yml", ".drone.yml"),
    *("cloudbuild.yaml", "codeship-services.yml", "codeship-steps.yml"),
    *("**/.goreleaser.yml", "**/.goreleaser.brew.yml", "**/.sops.yaml", "**/.flux.yaml", "**/.golangci.yaml"),
)
IGNORE_FILE = ".sourceignore"


class IgnoreRule:
    """One gitignore-style pattern, relative to the directory (`domain`) of its file."""

    def __init__(self, pattern: str, domain: str) -> None:
        self.negate = pattern.startswith("!")
        pattern = pattern[1:] if self.negate else pattern
        self.dir_only = pattern.endswith("/")
        pattern = pattern.rstrip("/")
        anchored = "/" in pattern
        body = _glob_to_regex(pattern.lstrip("/"))
        prefix = re.escape(domain + "/") if domain else ""
        self.regex = re.compile(f"^{prefix}{body}$" if anchored else f"^{prefix}(?:.*/)?{body}$")

    def matches(self, rel: str, is_dir: bool) -> bool:
        return (is_dir or not self.dir_only) and bool(self.regex.match(rel))


def _glob_to_regex(glob: str) -> str:
    out, i = "", 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif glob.startswith("/**", i) and i + 3 == len(glob):
            out, i = out + "(?:/.*)?", i + 3
        elif glob.startswith("**", i):
            out, i = out + ".*", i + 2
        elif glob[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif glob[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(glob[i]), i + 1
    return out


def ignored(rules: list[IgnoreRule], rel: str, is_dir: bool) -> bool:
    """The last matching rule decides, as in gitignore."""
    verdict = False
    for rule in rules:
        if rule.matches(rel, is_dir):
            verdict = not rule.negate
    return verdict


def _read_rules(directory: Path, domain: str) -> list[IgnoreRule]:
    path = directory / IGNORE_FILE
    if not path.is_file() or path.is_symlink():
        return []
    rules = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            rules.append(IgnoreRule(line, domain))
    return rules


class Workspace:
    """`root` is the copy; paths in messages are relative to it (= to the repository)."""

    def __init__(self, source: Path, disposable: bool = False) -> None:
        """Copy `source`; a `disposable` checkout (a throw-away clone) is pruned in place instead."""
        self.tmp = Path(tempfile.mkdtemp(prefix="eksgitops-verify-"))
        self.root = source if disposable else self.tmp / "repo"
        self.symlinks: list[str] = []
        self.ignored: list[str] = []
        self._copy(source, in_place=disposable)

    def _copy(self, source: Path, in_place: bool = False) -> None:
        if not in_place:
            self.root.mkdir()
        rules = [IgnoreRule(p, "") for p in DEFAULT_IGNORE]
        scoped: dict[str, list[IgnoreRule]] = {}
        for dirpath, dirnames, filenames in os.walk(source, followlinks=False):
            here = Path(dirpath)
            rel = here.relative_to(source).as_posix()
            rel = "" if rel == "." else rel
            parent = rel.rsplit("/", 1)[0] if "/" in rel else ""
            active = scoped.get(parent, rules) if rel else rules
            active = active + _read_rules(here, rel)
            scoped[rel] = active
            for name in sorted(dirnames):
                child = f"{rel}/{name}" if rel else name
                if (here / name).is_symlink():
                    self.symlinks.append(child)
                    dirnames.remove(name)
                    if in_place:
                        (here / name).unlink()
                elif ignored(active, child, True):
                    if name != ".git":
                        self.ignored.append(child + "/")
                        if in_place:
                            shutil.rmtree(here / name)
                    dirnames.remove(name)
                elif not in_place:
                    (self.root / child).mkdir()
            for name in filenames:
                child = f"{rel}/{name}" if rel else name
                if (here / name).is_symlink():
                    self.symlinks.append(child)
                    if in_place:
                        (here / name).unlink()
                elif ignored(active, child, False):
                    self.ignored.append(child)
                    if in_place:
                        (here / name).unlink()
                elif not in_place:
                    shutil.copyfile(here / name, self.root / child)

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def scratch(self, name: str) -> Path:
        """A fresh directory beside the copy (for composed artifacts), named after `name`.

        `name` comes from the repository (an artifact's namespace and name): only its safe
        characters are kept, so it can never climb out of the scratch tree.
        """
        safe = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:60]
        return Path(tempfile.mkdtemp(prefix=f"{safe}-", dir=self.tmp))


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
