"""Builds kept across runs, in `$XDG_CACHE_HOME/eksgitops/builds` (default `~/.cache/eksgitops`).

A build is looked up by a key that covers everything its result depends on:

* the engine: its path, size and modification time, and what `version` prints;
* the options: the load restrictor, the Flux Kustomization fields merged into the build, the
  symlinks left out of the copy, and the folder's path inside its root;
* the content of every file the build can read: every file below the folder, and below every
  folder, and each file, that any string of a kustomization in its closure names (a string that
  names nothing is in the key as "missing", so creating that file changes the key). Reading more
  than kustomize reads only costs misses, never a stale hit.

The repository is untrusted: it cannot choose a key (SHA-256 of the above), and what is stored is
only what the engine returned for that content, as JSON (never pickle), read back with checks of
its shape. The cache folder must be a real folder owned by this user (mode 0700); otherwise the
cache is not used. An engine whose traffic is proxied (it may reach the network) is not cached.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import tempfile
from collections.abc import Collection, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from eksgitops.fleet import flux_build, yamlio
from eksgitops.fleet.kustomize_engine import Engine
from eksgitops.fleet.precheck import _candidates, _strings, is_remote, within
from eksgitops.fleet.scratch_copy import kustomization_file

CACHE_ENV = "EKSGITOPS_BUILD_CACHE"
"""`off` disables the build cache; a path puts it there instead of the XDG cache folder."""
FORMAT = 1


def cache_dir() -> Path | None:
    """The folder builds are kept in, created if needed; None when the cache is off or unsafe."""
    setting = os.environ.get(CACHE_ENV, "")
    if setting.lower() in ("off", "0", "no", "false"):
        return None
    if setting:
        folder = Path(setting)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        folder = Path(base) / "eksgitops" / "builds"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = folder.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
        return None  # a symlink, or someone else's folder: not ours to trust
    if info.st_mode & 0o022:
        return None  # others may write entries into it, under keys anyone can compute
    return folder


@cache
def _engine_version(binary: str, kubectl: bool) -> str:
    argv = [binary, "version", "--client"] if kubectl else [binary, "version"]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False, env={"PATH": ""})
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return proc.stdout.strip()


def engine_identity(engine: Engine) -> str | None:
    if engine.proxy is not None:
        return None
    try:
        info = os.stat(engine.binary)
    except OSError:
        return None
    version = _engine_version(engine.binary, engine.kubectl)
    return f"{engine.binary}|{info.st_size}|{info.st_mtime_ns}|{engine.kubectl}|{version}"


class Hasher:
    """Content hashes of files and folders, memoised for one walk (the tree does not change)."""

    def __init__(self) -> None:
        self._folders: dict[Path, str] = {}

    def folder(self, folder: Path) -> str:
        found = self._folders.get(folder)
        if found is None:
            digest = hashlib.sha256()
            for dirpath, dirnames, filenames in os.walk(folder):
                dirnames.sort()
                for name in sorted(filenames):
                    path = Path(dirpath, name)
                    digest.update(f"{path.relative_to(folder).as_posix()}\0".encode())
                    digest.update(_file_digest(path).encode())
            found = self._folders[folder] = digest.hexdigest()
        return found


def _rel(root: Path, path: Path) -> str:
    rel = os.path.relpath(path, root).replace(os.sep, "/")
    return "." if rel == "." else rel


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        return f"unreadable:{exc.errno}"


def closure(root: Path, directory: Path, spec: dict[str, Any]) -> list[tuple[str, Path]] | None:
    """("dir" | "file" | "missing", path) of what a build of `directory` for `spec` can read."""
    components = spec.get("components")
    found = _closure(root, directory, {"components": components} if components else None)
    return None if found is None else list(found)


def _closure(root: Path, start: Path, extra: Any) -> Iterator[tuple[str, Path]] | None:
    """("dir" | "file" | "missing", path) of what a build of `start` can read; None: unknown."""
    out: list[tuple[str, Path]] = [("dir", start)]
    seen_dirs = {start}
    queue: list[tuple[Path, Any]] = [(start, extra)]
    budget = 2000
    while queue:
        here, document = queue.pop()
        if document is None:
            kfile = kustomization_file(here)
            if kfile is None:
                continue
            try:
                document = yamlio.load_all(kfile.read_text(encoding="utf-8", errors="replace"))
            except (OSError, yamlio.yaml.YAMLError):
                return None
        for _keys, text in _strings(document):
            for candidate in _candidates(text):
                budget -= 1
                if budget < 0:
                    return None
                if "\n" in candidate or not candidate.strip() or len(candidate) > 4096:
                    continue
                if is_remote(candidate):
                    return None
                target = Path(os.path.normpath(here / candidate))
                if not within(root, target):
                    continue  # precheck refuses it before the engine runs
                if target.is_dir():
                    if target not in seen_dirs:
                        seen_dirs.add(target)
                        out.append(("dir", target))
                        queue.append((target, None))
                elif target.is_file():
                    out.append(("file", target))
                elif "/" in candidate or candidate.endswith((".yaml", ".yml", ".json", ".env")):
                    out.append(("missing", target))
    return iter(out)


def read_folders(reads: list[tuple[str, Path]] | None) -> list[Path] | None:
    """The folders (each with everything below it) and files of a closure; None: unknown."""
    return None if reads is None else [path for what, path in reads if what != "missing"]


def build_key(
    engine_id: str,
    hasher: Hasher,
    root: Path,
    directory: Path,
    spec: dict[str, Any],
    load_restrictor_none: bool,
    symlinks: Collection[str],
    reads: list[tuple[str, Path]] | None,
) -> str | None:
    """The key of this build (`reads`: its `closure`), or None when it cannot be cached safely."""
    if reads is None:
        return None
    parts: list[str] = [f"format {FORMAT}", engine_id, str(load_restrictor_none), *sorted(symlinks)]
    parts.append(json.dumps(spec, sort_keys=True, default=str))
    parts.append(_rel(root, directory))
    entries = set()
    for what, path in reads:
        rel = _rel(root, path)
        if what == "dir":
            entries.add(f"dir {rel} {hasher.folder(path)}")
        elif what == "file":
            entries.add(f"file {rel} {_file_digest(path)}")
        else:
            entries.add(f"missing {rel}")
    parts.extend(sorted(entries))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def load(folder: Path, key: str) -> flux_build.Built | None:
    path = folder / f"{key}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != key or data.get("format") != FORMAT:
        return None
    objects, error, error_path = data.get("objects"), data.get("error"), data.get("error_path")
    if not isinstance(objects, list) or not isinstance(error_path, str):
        return None
    if error is not None and not isinstance(error, str):
        return None
    out: list[tuple[dict[str, Any], str]] = []
    for item in objects:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], dict)):
            return None
        if not isinstance(item[1], str):
            return None
        out.append((item[0], item[1]))
    return flux_build.Built(objects=out, error=error, error_path=error_path)


def store(folder: Path, key: str, built: flux_build.Built) -> None:
    data = {
        "format": FORMAT,
        "key": key,
        "objects": [[obj, origin] for obj, origin in built.objects],
        "error": built.error,
        "error_path": built.error_path,
    }
    _write(folder, key, data)


def load_json(name: str) -> Any:
    """A document this tool kept under `name` (not a build), or None."""
    folder = cache_dir()
    if folder is None:
        return None
    try:
        return json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def store_json(name: str, value: Any) -> None:
    folder = cache_dir()
    if folder is not None:
        _write(folder, name, value)


def _write(folder: Path, name: str, value: Any) -> None:
    try:
        text = json.dumps(value, default=str)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, folder / f"{name}.json")
    except (OSError, TypeError, ValueError):
        return
