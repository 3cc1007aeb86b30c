"""The base revision's objects: the walk `fleet verify` makes, without its checks (nobody merges
into base: it need not be judged), kept in the build cache under the commit's tree.

Every pull request against `main` compares with the same base, so the walk of a tree is kept
(`$XDG_CACHE_HOME/eksgitops/builds`, the folder and the safety rules of build_cache.py) under a
key that covers everything it depends on: the tree's Git object id (the content of every file),
the request, the URLs this clone is known by, the engine's identity and the source of the fleet
package (another version of the walk may build otherwise). The repository cannot choose a key;
what is read back is checked for shape, and a miss only costs the walk.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any

from eksgitops.fleet import build_cache
from eksgitops.fleet.findings import ERROR
from eksgitops.fleet.kustomize_engine import Engine
from eksgitops.fleet.scratch_copy import Workspace, inside
from eksgitops.fleet.verify import VerifyRequest
from eksgitops.fleet.verify.agents import AGENTS
from eksgitops.fleet.verify.model import Applied
from eksgitops.fleet.verify.request import resolve
from eksgitops.fleet.verify.walk import Walk

FORMAT = 1
FLEET = Path(__file__).resolve().parents[1]


@dataclass
class Walked:
    """What one revision applies, and what the walk could not build there."""

    applied: list[Applied]
    errors: int = 0
    not_checked: list[str] = field(default_factory=list)
    cached: bool = False


@cache
def _code_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(FLEET.rglob("*.py")):
        digest.update(path.relative_to(FLEET).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def walk_key(request: VerifyRequest, tree: str, engine: Engine, clone_urls: Iterable[str]) -> str | None:
    """The cache key of the walk of `tree` for `request`; None when it must not be cached."""
    engine_id = build_cache.engine_identity(engine)
    if engine_id is None or not request.use_cache:
        return None
    asked: dict[str, Any] = {f.name: getattr(request, f.name) for f in fields(request)}
    asked = {k: sorted(v) if isinstance(v, frozenset) else v for k, v in asked.items()}
    asked["variables"] = dict(request.variables)
    asked.pop("since", None)
    parts = [FORMAT, _code_digest(), engine_id, tree, asked, sorted(set(clone_urls))]
    text = json.dumps(parts, sort_keys=True, default=str)
    return "walk-" + hashlib.sha256(text.encode()).hexdigest()


def walk(
    request: VerifyRequest, root: Path, engine: Engine, clone_urls: Iterable[str], tree: str | None
) -> Walked:
    """The objects `request` applies in the throw-away checkout at `root` (pruned in place, as
    verify does), from the cache when `tree` (the commit's tree id) was walked before."""
    urls = tuple(clone_urls)
    key = walk_key(request, tree, engine, urls) if tree else None
    if key is not None:
        found = _load(key)
        if found is not None:
            return found
    walked = _walk(request, root, engine, urls)
    if key is not None:
        store(key, walked)
    return walked


def source_root(request: VerifyRequest, root: Path) -> Path | None:
    """The folder the agent's source has its root in (`--root`), as verify finds it; None when
    it is not a folder of the checkout."""
    if not request.root:
        return root
    sub = inside(root, request.root)
    return sub if sub is not None and sub.is_dir() and sub != root else None


def _walk(request: VerifyRequest, checkout: Path, engine: Engine, urls: tuple[str, ...]) -> Walked:
    root = source_root(request, checkout)
    if root is None or not (root / request.env_path).is_dir():
        return Walked([], 1, [])
    ws = Workspace(root, disposable=True)
    runner: Walk | None = None
    try:
        runner = Walk(ws, request, resolve(request, root, urls), engine, rules=AGENTS)
        applied, report = runner.run()
    finally:
        if runner is not None:
            runner.builder.close()
        ws.close()
    report.finish()
    errors = sum(1 for f in report.findings if f.severity == ERROR)
    return Walked(applied, errors, list(report.not_checked))


def store(key: str, walked: Walked) -> None:
    build_cache.store_json(
        key,
        {
            "format": FORMAT,
            "key": key,
            "applied": [[a.obj, a.file, a.owner, a.cluster, a.decrypts, a.argo] for a in walked.applied],
            "errors": walked.errors,
            "not_checked": walked.not_checked,
        },
    )


def _load(key: str) -> Walked | None:
    data: Any = build_cache.load_json(key)
    if not isinstance(data, dict) or data.get("key") != key or data.get("format") != FORMAT:
        return None
    items, errors, not_checked = data.get("applied"), data.get("errors"), data.get("not_checked")
    if not isinstance(items, list) or not isinstance(errors, int) or not isinstance(not_checked, list):
        return None
    applied: list[Applied] = []
    for item in items:
        if not (isinstance(item, list) and len(item) == 6 and isinstance(item[0], dict)):
            return None
        obj, file, owner, cluster, decrypts, argo = item
        if not all(isinstance(v, str) for v in (file, owner, cluster)) or not all(
            isinstance(v, bool) for v in (decrypts, argo)
        ):
            return None
        applied.append(Applied(obj, file, owner, cluster, decrypts, argo))
    if not all(isinstance(line, str) for line in not_checked):
        return None
    return Walked(applied, errors, not_checked, cached=True)
