"""How much one `fleet verify` may spend: a deadline, and caps on builds, files and bytes.

A pull request is input anyone can write, and verify runs on every one: a repository of a
million files, ten thousand Kustomizations or a build that never ends must end the run with one
line, not a kill from outside. The caps hold for the whole run (every thread of it), so they are
kept here rather than passed down through every call:

    with budget.running(Budget(deadline=600)):
        ...  # verify; anything may call budget.current().check_time()

Outside `running`, `current()` is a budget with the default caps and no deadline (library use).
`LimitReached` carries its exit code: 4 (could not verify) when time ran out, 1 when the
repository itself is over a cap (it would be too large for verify to judge).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

COULD_NOT_VERIFY = 4
REPOSITORY_AT_FAULT = 1

DEFAULT_DEADLINE = 900.0
"""Seconds a `fleet verify` may take, clone included (`--deadline`)."""
MAX_BUILDS = 1_000
"""kustomize builds one run may start."""
MAX_FILES = 50_000
"""Files of the checkout verify copies and reads (after `.sourceignore`)."""
MAX_BYTES = 512 << 20
"""Bytes of those files, together."""


class LimitReached(Exception):
    """A run over its deadline or a cap: one line for the user, and the exit code it ends with."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class Budget:
    """The caps of one run and what it has spent; safe to use from several threads."""

    deadline: float | None = None
    """Seconds from `start`; None: no deadline."""
    # Read when a budget is made, so a test (or a caller) can lower the module's caps.
    max_builds: int = field(default_factory=lambda: MAX_BUILDS)
    max_files: int = field(default_factory=lambda: MAX_FILES)
    max_bytes: int = field(default_factory=lambda: MAX_BYTES)
    start: float = field(default_factory=time.monotonic)
    builds: int = 0
    files: int = 0
    bytes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def remaining(self) -> float | None:
        """Seconds left before the deadline (None: no deadline)."""
        if self.deadline is None:
            return None
        return self.deadline - (time.monotonic() - self.start)

    def check_time(self, doing: str) -> None:
        left = self.remaining()
        if left is not None and left <= 0:
            raise LimitReached(
                f"fleet verify ran out of time ({self.deadline:g}s, --deadline) while {doing}; "
                "nothing was judged",
                COULD_NOT_VERIFY,
            )

    def timeout(self, cap: float) -> float:
        """`cap` seconds, or less when the deadline is nearer (at least a moment)."""
        left = self.remaining()
        return cap if left is None else max(0.1, min(cap, left))

    def count_build(self) -> None:
        with self._lock:
            self.builds += 1
            over = self.builds > self.max_builds
        if over:
            raise LimitReached(
                f"the layout needs more than {self.max_builds:,} kustomize builds; fleet verify builds at "
                "most that many (split the repository, or verify one environment path at a time)",
                REPOSITORY_AT_FAULT,
            )
        self.check_time("building")

    def count_file(self, rel: str, size: int) -> None:
        with self._lock:
            self.files += 1
            self.bytes += size
            files, total = self.files, self.bytes
        if files > self.max_files:
            raise LimitReached(
                f"the repository holds more than {self.max_files:,} files (after .sourceignore); "
                f"fleet verify reads at most that many (stopped at {rel}); leave the rest out with a "
                ".sourceignore",
                REPOSITORY_AT_FAULT,
            )
        if total > self.max_bytes:
            raise LimitReached(
                f"the repository holds more than {self.max_bytes >> 20:,} MiB of files (after "
                f".sourceignore); fleet verify reads at most that much (stopped at {rel}); leave the rest "
                "out with a .sourceignore",
                REPOSITORY_AT_FAULT,
            )


_active: Budget | None = None
_active_lock = threading.Lock()


def current() -> Budget:
    """The budget of the run in progress, else a fresh one with the default caps and no deadline."""
    return _active if _active is not None else Budget()


@contextmanager
def running(budget: Budget) -> Iterator[Budget]:
    """Make `budget` the current one for the block (every thread sees it)."""
    global _active
    with _active_lock:
        previous, _active = _active, budget
    try:
        yield budget
    finally:
        with _active_lock:
            _active = previous
