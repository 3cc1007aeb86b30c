"""Issue 22, class 3: the engine gets bounded resources (memory, output, time per build).

The real kubectl/kustomize is run with a memory limit too small for it to start; stand-in
engines (shell scripts) stand for a build that writes without end or never finishes.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from eksgitops.fleet import budget, kustomize_engine
from eksgitops.fleet.kustomize_engine import BuildFailed, Engine, find_engine

KUSTOMIZATION = "resources:\n  - cm.yaml\n"
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: default\n"


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "kustomization.yaml").write_text(KUSTOMIZATION)
    (folder / "cm.yaml").write_text(CM)
    return folder


def _script(tmp_path: Path, body: str) -> Engine:
    path = tmp_path / "fake-kustomize"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return Engine(str(path), kubectl=False)


def test_a_build_runs_with_a_memory_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _folder(tmp_path)
    assert find_engine().build(folder)  # within the default limit: builds
    monkeypatch.setenv(kustomize_engine.MEMORY_ENV, "256")  # less than kubectl needs to start
    with pytest.raises(BuildFailed) as caught:
        find_engine().build(folder)
    assert "ran out of memory" in str(caught.value) and "256 MiB" in str(caught.value)


def test_a_build_that_writes_without_end_is_cut(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    yes = shutil.which("yes")
    assert yes is not None
    monkeypatch.setattr(kustomize_engine, "OUTPUT_BYTES", 1 << 20)
    monkeypatch.setattr(kustomize_engine, "TIMEOUT", 20)
    started = time.monotonic()
    with pytest.raises(BuildFailed) as caught:
        _script(tmp_path, f"exec {yes} 'a: b'").build(_folder(tmp_path))
    assert "wrote more than 1 MiB" in str(caught.value)
    assert time.monotonic() - started < 15


def test_a_build_that_never_finishes_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sleep = shutil.which("sleep")
    monkeypatch.setattr(kustomize_engine, "TIMEOUT", 1)
    with pytest.raises(BuildFailed) as caught:
        _script(tmp_path, f"exec {sleep} 60").build(_folder(tmp_path))
    assert "did not finish within 1s" in str(caught.value)


def test_the_runs_deadline_stops_a_build_with_exit_4(tmp_path: Path) -> None:
    sleep = shutil.which("sleep")
    started = time.monotonic()
    with budget.running(budget.Budget(deadline=1)), pytest.raises(budget.LimitReached) as caught:
        _script(tmp_path, f"exec {sleep} 60").build(_folder(tmp_path))
    assert caught.value.exit_code == budget.COULD_NOT_VERIFY
    assert time.monotonic() - started < 10


def test_a_memory_setting_out_of_range_falls_back_to_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for value in ("0", "12", "abc", "-5", str(10**9)):
        monkeypatch.setenv(kustomize_engine.MEMORY_ENV, value)
        assert kustomize_engine.memory_limit() == kustomize_engine.MEMORY_MB


def test_a_build_over_its_limit_is_not_built_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The root-only build runs first and a failed one is retried as Flux builds; a build that
    # ran out of time would only spend the same again (a manifest at the reader's limits took
    # two full build timeouts before).
    from eksgitops.fleet.flux_build import confined_build

    sleep = shutil.which("sleep")
    calls = tmp_path / "calls"
    monkeypatch.setattr(kustomize_engine, "TIMEOUT", 1)
    engine = _script(tmp_path, f"echo x >> {calls}\nexec {sleep} 60")
    with pytest.raises(kustomize_engine.BuildLimit):
        confined_build(engine, _folder(tmp_path), True)
    assert calls.read_text().count("x") == 1
