"""The build cache and parallel builds: same findings as a cold sequential run, never a stale hit,
and nothing a repository (or another user) writes is trusted."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from eksgitops.fleet import build_cache
from tests.fleet.conftest import git, invoke
from tests.fleet.helpers import lines, run, write_all
from tests.fleet.test_public_fleet_shapes import cm, ks, kustomization, namespace

TARGET = "  targetNamespace: {ns}\n"


def monorepo(root: Path, apps: int = 4) -> None:
    files = {"apps/base/kustomization.yaml": kustomization("settings.yaml")}
    files["apps/base/settings.yaml"] = cm("settings", "placeholder")
    for i in range(apps):
        files[f"clusters/dev/app{i}.yaml"] = ks(f"app{i}", f"./apps/app{i}", TARGET.format(ns=f"app{i}"))
        files[f"clusters/dev/ns{i}.yaml"] = namespace(f"app{i}")
        files[f"apps/app{i}/kustomization.yaml"] = kustomization("../base", "extra.yaml")
        files[f"apps/app{i}/extra.yaml"] = cm(f"extra{i}", "placeholder", f"  n: '{i}'\n")
    # A Kustomization of the base itself, with another targetNamespace, built beside the overlays.
    files["clusters/dev/base.yaml"] = ks("base", "./apps/base", TARGET.format(ns="shared"))
    files["clusters/dev/shared.yaml"] = namespace("shared")
    write_all(root, files)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(folder))
    monkeypatch.delenv(build_cache.CACHE_ENV, raising=False)
    return folder / "eksgitops" / "builds"


def test_a_warm_run_takes_every_build_from_the_cache_and_says_the_same(tmp_path: Path, cache: Path) -> None:
    repo = tmp_path / "repo"
    monorepo(repo)
    cold = run(repo)
    assert cold.cached == 0 and cold.builds >= 6
    assert cache.is_dir() and oct(cache.stat().st_mode & 0o777) == "0o700"
    warm = run(repo)
    assert warm.cached == warm.builds
    assert lines(warm) == lines(cold)


def test_a_change_to_a_shared_base_rebuilds_what_reads_it_never_a_stale_hit(
    tmp_path: Path, cache: Path
) -> None:
    repo = tmp_path / "repo"
    monorepo(repo)
    run(repo)
    (repo / "apps/base/settings.yaml").write_text(cm("settings", "placeholder", "  key: [unclosed\n"))
    report = run(repo)
    failed = [line for line in lines(report) if "kustomize build failed" in line]
    assert len(failed) == 5, lines(report)  # the base and the four overlays that include it
    (repo / "apps/app1/extra.yaml").write_text(cm("extra1", "placeholder", "  n: 'changed'\n"))
    (repo / "apps/base/settings.yaml").write_text(cm("settings", "placeholder"))
    again = run(repo)
    assert lines(again) == []


def test_the_cache_trusts_no_entry_it_did_not_write_for_that_key(tmp_path: Path, cache: Path) -> None:
    repo = tmp_path / "repo"
    monorepo(repo, apps=1)
    run(repo)
    entries = sorted(cache.glob("*.json"))
    assert entries
    for entry in entries:
        data = json.loads(entry.read_text())
        # An entry whose key does not match its name, and one of the wrong shape, are misses.
        data["key"] = "0" * 64
        entry.write_text(json.dumps(data))
    report = run(repo)
    assert report.cached == 0 and lines(report) == []
    for entry in cache.glob("*.json"):
        entry.write_text(json.dumps({"format": 1, "key": entry.stem, "objects": "rm -rf /"}))
    assert run(repo).cached == 0


def test_a_symlinked_or_disabled_cache_folder_is_not_used(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    cache.parent.mkdir(parents=True)
    os.symlink(elsewhere, cache)
    assert build_cache.cache_dir() is None
    monkeypatch.setenv(build_cache.CACHE_ENV, "off")
    repo = tmp_path / "repo"
    monorepo(repo, apps=1)
    run(repo)
    assert run(repo).cached == 0 and list(elsewhere.iterdir()) == []


def test_a_cache_folder_others_may_write_is_not_used(cache: Path) -> None:
    cache.mkdir(parents=True)
    for mode in (0o777, 0o770, 0o755):
        cache.chmod(mode)
        assert (build_cache.cache_dir() is None) == bool(mode & 0o022), oct(mode)


def test_parallel_builds_say_what_sequential_builds_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(build_cache.CACHE_ENV, "off")
    repo = tmp_path / "repo"
    monorepo(repo, apps=6)
    (repo / "apps/app3/kustomization.yaml").write_text(kustomization("../base", "missing.yaml"))
    monkeypatch.setenv("EKSGITOPS_BUILD_JOBS", "1")
    sequential = run(repo)
    monkeypatch.setenv("EKSGITOPS_BUILD_JOBS", "3")
    parallel = run(repo)
    assert lines(parallel) == lines(sequential) and len(lines(parallel)) == 1
    assert parallel.objects == sequential.objects


def test_since_rebuilds_what_the_change_touches_and_takes_the_rest_from_the_cache(
    cli, tmp_path: Path, cache: Path
) -> None:
    work = tmp_path / "fleet"
    monorepo(work)
    git("init", "-q", "-b", "main", str(work))
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "layout", cwd=work)
    base = git("rev-parse", "HEAD", cwd=work)
    first = invoke(cli, "verify", "--repo", str(work), "--env", "dev")
    assert first.exit_code == 0, first.output
    (work / "apps/app1/extra.yaml").write_text(cm("extra1", "placeholder", "  n: 'changed'\n"))
    git("commit", "-q", "-am", "one app", cwd=work)
    out = invoke(cli, "verify", "--repo", str(work), "--env", "dev", "--since", base)
    assert out.exit_code == 0, out.output
    assert f"note: since {base}: 1 file(s) changed; 1 build(s) read one and were rebuilt" in out.stdout
    assert "from cache" in out.stdout
    bad = invoke(cli, "verify", "--repo", str(work), "--env", "dev", "--since", "no-such-branch")
    assert bad.exit_code == 2 and bad.stderr.startswith("error: --since no-such-branch: not found")
