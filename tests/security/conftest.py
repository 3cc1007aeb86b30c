"""Fixtures of the bounded-work tests: real git, real CLI processes, hostile input made by each test."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from tests.fleet.conftest import isolated_git  # noqa: F401  (autouse: no ambient git config or credentials)


@pytest.fixture
def stalled_server() -> Iterator[str]:
    """`127.0.0.1:<port>` of a server that accepts every connection and never answers."""
    held: list[socket.socket] = []
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)  # kept open, never read from or written to

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in held:
            conn.close()
        server.close()
