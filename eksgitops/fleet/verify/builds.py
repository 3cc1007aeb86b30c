"""Running a walk's builds: from the build cache when it holds them, else on the engine, and the
independent Kustomizations of one level of the walk in parallel, bounded by the cores.

flux_build writes the merged kustomization file into the folder it builds (and restores it), and
a build reads the folders it refers to. Two builds run at the same time only when neither reads
the folder the other writes: builds are grouped so, and a build whose reads cannot be told
(build_cache.read_folders) runs alone.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from eksgitops.fleet import build_cache, flux_build
from eksgitops.fleet.kustomize_engine import Engine

JOBS_ENV = "EKSGITOPS_BUILD_JOBS"
"""How many builds run at once (default: the CPUs this process may use)."""


def default_jobs() -> int:
    setting = os.environ.get(JOBS_ENV, "")
    if setting.isdigit() and int(setting) > 0:
        return int(setting)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Builder:
    """Builds for one walk of the repository copy at `repo_root`."""

    def __init__(
        self,
        engine: Engine,
        repo_root: Path,
        symlinks: Collection[str],
        use_cache: bool = True,
        changed: frozenset[str] | None = None,
    ):
        self.engine = engine
        self.repo_root = repo_root
        self.symlinks = tuple(symlinks)
        self.folder = build_cache.cache_dir() if use_cache else None
        self.engine_id = build_cache.engine_identity(engine) if self.folder is not None else None
        self.hasher = build_cache.Hasher()
        self.jobs = default_jobs()
        self.cached = 0
        self.changed = None if changed is None else {repo_root / p for p in changed}
        """Files changed since `--since`: a build that reads one is rebuilt, whatever the cache holds."""
        self.touched = 0
        self._lock = threading.Lock()
        self._closures: dict[tuple[Path, Path, str], list[tuple[str, Path]] | None] = {}

    def build(
        self, directory: Path, root: Path, spec: dict[str, Any], flux_restrictor: bool
    ) -> flux_build.Built:
        """One build, in this thread; `root` is the repository copy or a composed artifact."""
        return self._build(directory, root, spec, flux_restrictor)

    def build_many(self, jobs: list[tuple[Path, dict[str, Any]]]) -> list[flux_build.Built]:
        """Flux builds of folders of the repository (each job: folder, Kustomization spec)."""
        results: list[flux_build.Built | None] = [None] * len(jobs)
        # What the cache holds first: grouping compares every pair of builds, which a warm run
        # (most builds cached) need not pay for.
        for i, (directory, spec) in enumerate(jobs):
            results[i] = self._cached(directory, self.repo_root, spec, True)
        missing = [i for i, built in enumerate(results) if built is None]
        if self.jobs <= 1 or len(missing) <= 1:
            for i in missing:
                results[i] = self._build(jobs[i][0], self.repo_root, jobs[i][1], True)
        else:
            todo = [jobs[i] for i in missing]
            with ThreadPoolExecutor(max_workers=self.jobs) as pool:
                for group in self._groups(todo):
                    done = pool.map(
                        lambda i: self._build(todo[i][0], self.repo_root, todo[i][1], True), group
                    )
                    for i, built in zip(group, done, strict=True):
                        results[missing[i]] = built
        return [r for r in results if r is not None]

    def _cached(
        self, directory: Path, root: Path, spec: dict[str, Any], flux_restrictor: bool
    ) -> flux_build.Built | None:
        """The build from the cache, when it holds it and no changed file is read; else None."""
        if self.folder is None or self.engine_id is None or self._touched(root, directory, spec, count=False):
            return None
        links = self.symlinks if root == self.repo_root else ()
        reads = self._reads_of(directory, root, spec)
        key = build_cache.build_key(
            self.engine_id, self.hasher, root, directory, spec, flux_restrictor, links, reads
        )
        hit = build_cache.load(self.folder, key) if key is not None else None
        if hit is not None:
            with self._lock:
                self.cached += 1
        return hit

    def _groups(self, jobs: list[tuple[Path, dict[str, Any]]]) -> list[list[int]]:
        """Indexes of `jobs` in groups that may run together, in order."""
        reads = [build_cache.read_folders(self._reads_of(d, self.repo_root, spec)) for d, spec in jobs]
        groups: list[list[int]] = []
        current: list[int] = []
        for i, (directory, _) in enumerate(jobs):
            clash = reads[i] is None or any(
                reads[j] is None or _reads(reads[j], directory) or _reads(reads[i], jobs[j][0])
                for j in current
            )
            if clash and current:
                groups.append(current)
                current = []
            current.append(i)
            if reads[i] is None:
                groups.append(current)
                current = []
        if current:
            groups.append(current)
        return groups

    def _reads_of(self, directory: Path, root: Path, spec: dict[str, Any]) -> list[tuple[str, Path]] | None:
        marker = (directory, root, repr(spec.get("components")))
        if marker not in self._closures:
            self._closures[marker] = build_cache.closure(root, directory, spec)
        return self._closures[marker]

    def _touched(self, root: Path, directory: Path, spec: dict[str, Any], count: bool = True) -> bool:
        """Whether this build reads a file changed since `--since` (unknown reads count as yes)."""
        if self.changed is None or root != self.repo_root:
            return False
        paths = build_cache.read_folders(self._reads_of(directory, root, spec))
        found = paths is None or any(_reads(paths, file) for file in self.changed)
        if found and count:
            with self._lock:
                self.touched += 1
        return found

    def close(self) -> None:
        """Nothing is left behind: builds run in the walk's own copy."""

    def _build(
        self, directory: Path, root: Path, spec: dict[str, Any], flux_restrictor: bool
    ) -> flux_build.Built:
        links = self.symlinks if root == self.repo_root else ()
        key = None
        touched = self._touched(root, directory, spec)
        if self.folder is not None and self.engine_id is not None:
            reads = self._reads_of(directory, root, spec)
            key = build_cache.build_key(
                self.engine_id, self.hasher, root, directory, spec, flux_restrictor, links, reads
            )
            if key is not None and not touched:
                hit = build_cache.load(self.folder, key)
                if hit is not None:
                    with self._lock:
                        self.cached += 1
                    return hit
        built = flux_build.build_path(
            self.engine, root, directory, spec, load_restrictor_none=flux_restrictor, symlinks=links
        )
        if key is not None and self.folder is not None:
            build_cache.store(self.folder, key, built)
        return built


def _reads(paths: list[Path] | None, written: Path) -> bool:
    """Whether a build reading `paths` (folders with everything below them, and files) reads
    the kustomization file written into `written`."""
    if paths is None:
        return True
    # As strings: the Path comparisons (`p in written.parents`) cost most of a warm run's time,
    # since grouping asks this for every pair of builds.
    target = os.fspath(written)
    for path in paths:
        text = os.fspath(path)
        below = text if text.endswith(os.sep) else text + os.sep
        if target == text or target.startswith(below) or os.path.dirname(text) == target:
            return True
    return False
