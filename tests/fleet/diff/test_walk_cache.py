"""The walk of base is kept in the build cache under its tree: the same objects come back, a
different request, engine or tree is another key, and an entry of the wrong shape is a miss."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from eksgitops.fleet import build_cache
from eksgitops.fleet.diff import walked
from eksgitops.fleet.kustomize_engine import find_engine
from tests.fleet.diff.fleet import FILES
from tests.fleet.helpers import request, write_all


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(build_cache.CACHE_ENV, str(folder))
    return folder


def _walk(tmp_path: Path, tree: str, **kwargs: object) -> walked.Walked:
    checkout = tmp_path / "checkout"
    shutil.rmtree(checkout, ignore_errors=True)
    write_all(checkout, FILES)
    return walked.walk(request(**kwargs), checkout, find_engine(), (), tree)  # type: ignore[arg-type]


def test_the_walk_of_a_tree_comes_back_the_same(tmp_path: Path, cache: Path) -> None:
    first = _walk(tmp_path, "t1")
    again = _walk(tmp_path, "t1")
    assert not first.cached and again.cached
    assert [(a.obj, a.file, a.owner, a.cluster) for a in again.applied] == [
        (a.obj, a.file, a.owner, a.cluster) for a in first.applied
    ]
    assert len(first.applied) > 10 and again.not_checked == first.not_checked
    assert not _walk(tmp_path, "t2").cached  # another tree
    assert not _walk(tmp_path, "t1", provided={"cluster_name": "other"}).cached  # another request


def test_an_entry_of_the_wrong_shape_is_a_miss(tmp_path: Path, cache: Path) -> None:
    _walk(tmp_path, "t1")
    [entry] = cache.glob("walk-*.json")
    data = json.loads(entry.read_text())
    data["applied"][0][2] = 42  # an owner that is not a string
    entry.write_text(json.dumps(data))
    assert not _walk(tmp_path, "t1").cached


def test_without_a_tree_or_a_cache_nothing_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(build_cache.CACHE_ENV, "off")
    assert not _walk(tmp_path, "t1").cached and not _walk(tmp_path, "t1").cached
