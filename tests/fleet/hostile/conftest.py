"""Fixtures of the hostile-repository harness (harness.py holds the helpers and what they check)."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fleet.hostile.harness import (
    CANARY_ENV,
    CANARY_FILE_TEXT,
    CanaryServer,
    Files,
    Sandbox,
    _Recorder,
    make_remote,
    venv_places,
)


@pytest.fixture
def canary_server() -> Iterator[CanaryServer]:
    server = _Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[0], server.server_address[1]
    try:
        yield CanaryServer(f"http://{host!s}:{port}", f"{host!s}:{port}", server)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def sandbox(
    isolated_git: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    canary_server: CanaryServer,
) -> Iterator[Sandbox]:
    """Canary variables set, a canary file planted, TMPDIR redirected, the watched places snapshotted.

    The test's working directory is tmp_path/cwd, so a write relative to it is caught too.
    """
    for key, value in CANARY_ENV.items():
        monkeypatch.setenv(key, value)
    outside = tmp_path / "outside"
    outside.mkdir()
    canary_file = outside / "canary-secret.txt"
    canary_file.write_text(CANARY_FILE_TEXT)
    # A kubeconfig the engine must not read either: it holds the canary too.
    (outside / "kubeconfig").write_text(f"apiVersion: v1\nkind: Config\n# {CANARY_FILE_TEXT}")
    monkeypatch.setenv("KUBECONFIG", str(outside / "kubeconfig"))
    cmd_tmp = tmp_path / "cmdtmp"
    cmd_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(cmd_tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(cmd_tmp))
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    box = Sandbox(tmp_path, cmd_tmp, canary_file, canary_server)
    box.watched = [(tmp_path, True), *venv_places()]
    box.snapshot()
    yield box
    # Whatever a test asserted, remove a planted file from the shared venv before anything else
    # starts Python there.
    for root, _ in venv_places():
        for path in root.glob("eksgitops-hostile*"):
            path.unlink()


@pytest.fixture
def hostile_remote(sandbox: Sandbox, tmp_path: Path):
    """`make(files, name="hostile", under=None)` -> a bare remote holding `files`, then a new snapshot.

    Build every remote through this (or call `sandbox.snapshot()` afterwards): the snapshot must be
    taken after the test's own setup and before the command runs.
    """
    count = [0]

    def make(files: Files, name: str = "hostile", under: Path | None = None) -> Path:
        count[0] += 1
        bare = make_remote(tmp_path, files, f"{name}-{count[0]}", under)
        sandbox.snapshot()
        return bare

    return make
