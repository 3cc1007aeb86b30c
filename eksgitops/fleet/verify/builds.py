"""Running a walk's builds: from the build cache when it holds them, else on the engine, and the
independent Kustomizations of one level of the walk in parallel, bounded by the cores.

flux_build writes the merged kustomization file into the folder it builds (and restores it), and
a build reads the folders it refers to: two builds in one folder tree at once would read each
other's merged files. So each worker thread builds in its own copy of the repository; a build's
objects, origins and messages are relative to its root and do not depend on which copy it ran in.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from eksgitops.fleet import build_cache, flux_build
from eksgitops.fleet.engine import Engine

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

    def __init__(self, engine: Engine, repo_root: Path, symlinks: Collection[str], use_cache: bool = True):
        self.engine = engine
        self.repo_root = repo_root
        self.symlinks = tuple(symlinks)
        self.folder = build_cache.cache_dir() if use_cache else None
        self.engine_id = build_cache.engine_identity(engine) if self.folder is not None else None
        self.hasher = build_cache.Hasher()
        self.jobs = default_jobs()
        self.cached = 0
        self._lock = threading.Lock()
        self._local = threading.local()
        self._copies: list[Path] = []

    def build(
        self, directory: Path, root: Path, spec: dict[str, Any], flux_restrictor: bool
    ) -> flux_build.Built:
        """One build, in this thread; `root` is the repository copy or a composed artifact."""
        return self._build(directory, root, spec, flux_restrictor, in_copy=False)

    def build_many(self, jobs: list[tuple[Path, dict[str, Any]]]) -> list[flux_build.Built]:
        """Flux builds of folders of the repository, at once (each job: folder, Kustomization spec)."""
        if self.jobs <= 1 or len(jobs) <= 1:
            return [self._build(d, self.repo_root, spec, True, in_copy=False) for d, spec in jobs]
        with ThreadPoolExecutor(max_workers=min(self.jobs, len(jobs))) as pool:
            return list(pool.map(lambda job: self._build(job[0], self.repo_root, job[1], True, True), jobs))

    def close(self) -> None:
        for copy in self._copies:
            shutil.rmtree(copy, ignore_errors=True)
        self._copies.clear()

    def _build(
        self, directory: Path, root: Path, spec: dict[str, Any], flux_restrictor: bool, in_copy: bool
    ) -> flux_build.Built:
        links = self.symlinks if root == self.repo_root else ()
        key = None
        if self.folder is not None and self.engine_id is not None:
            key = build_cache.build_key(
                self.engine_id, self.hasher, root, directory, spec, flux_restrictor, links
            )
            if key is not None:
                hit = build_cache.load(self.folder, key)
                if hit is not None:
                    with self._lock:
                        self.cached += 1
                    return hit
        if in_copy:
            copy = self._copy()
            directory, root = copy / directory.relative_to(root), copy
        built = flux_build.build_path(
            self.engine, root, directory, spec, load_restrictor_none=flux_restrictor, symlinks=links
        )
        if key is not None and self.folder is not None:
            build_cache.store(self.folder, key, built)
        return built

    def _copy(self) -> Path:
        """This worker thread's own copy of the repository (without `.git`, which no build reads)."""
        copy: Path | None = getattr(self._local, "copy", None)
        if copy is None:
            parent = Path(tempfile.mkdtemp(prefix="eksgitops-build-"))
            copy = parent / "repo"
            shutil.copytree(self.repo_root, copy, ignore=shutil.ignore_patterns(".git"))
            self._local.copy = copy
            with self._lock:
                self._copies.append(parent)
        return copy
