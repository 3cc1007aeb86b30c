"""SIGINT and SIGTERM while traffic is shifted: an exception the shift catches, so the weights go
back to blue before the process ends.

Python turns SIGINT into KeyboardInterrupt, which an `except Exception` does not see, and SIGTERM
ends the process at once by default: either way a Ctrl-C, a CI job cancelled or a pod evicted
mid-shift would leave users split between blue and green with nobody watching. Inside
`interruptible()` both raise `Interrupted` (a BaseException); a second signal while the
rollback runs is ignored (the rollback is one Route53 change), and the previous handlers come
back afterwards.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eksgitops.dr.context import DrFailure

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """A signal arrived during the shift. A BaseException, as KeyboardInterrupt is: the broad
    `except Exception` of a client library (the Kubernetes client turns any error into its own)
    must not swallow it; the shift catches it, rolls back, and raises `InterruptedShift`."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}")


class InterruptedShift(DrFailure):
    """What the command reports once the rollback after a signal is done (exit 1)."""


@contextmanager
def interruptible() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM raise `Interrupted` (main thread only: elsewhere
    Python cannot install handlers, and the caller's own handling stands)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_interrupted(signum: int, frame: Any) -> None:
        raise Interrupted(signum)

    previous = {sig: signal.signal(sig, raise_interrupted) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def deferred() -> Iterator[list[int]]:
    """Within the block, SIGINT and SIGTERM are noted, not acted on (a rollback must finish)."""
    seen: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield seen
        return
    previous = {sig: signal.signal(sig, lambda signum, frame: seen.append(signum)) for sig in SIGNALS}
    try:
        yield seen
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
