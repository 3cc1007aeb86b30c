"""pytest fixtures of the simulated world; import them into a conftest.py to use them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.simworld.aws import aws_env, moto_url
from tests.simworld.kube_server import FakeKubeServer
from tests.simworld.world import SimWorld


@pytest.fixture
def kube_server() -> Iterator[FakeKubeServer]:
    """A fresh fake Kubernetes API server on 127.0.0.1 (stopped after the test)."""
    server = FakeKubeServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sim_world(kube_server: FakeKubeServer, monkeypatch: pytest.MonkeyPatch) -> SimWorld:
    """The dr World of moto (use with aws_env), the fake Pulumi backend and the fake API server."""
    return SimWorld(kube_server).install(monkeypatch)


__all__ = ["aws_env", "kube_server", "moto_url", "sim_world"]
