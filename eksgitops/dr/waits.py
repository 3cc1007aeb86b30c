"""Bounded waits: every wait has a deadline, and a timeout names the object and the condition."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    """Where time comes from; tests use a fake one whose sleep advances it instantly."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait this long."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


BACKOFF_LIMIT = 8
"""While looks keep failing, the pause grows to at most this many poll intervals."""


class TransientError(Exception):
    """A look that could not be taken this time (throttled, connection dropped): "not yet"."""


class WaitTimeout(Exception):
    """A bounded wait ran out: which object, which condition, and what was last seen."""

    def __init__(self, subject: str, condition: str, seconds: float, last: str):
        self.subject = subject
        self.condition = condition
        self.seconds = seconds
        self.last = last
        super().__init__(
            f"timed out after {seconds:.0f}s waiting for {subject} to be {condition}; last seen: {last}"
        )


@dataclass(frozen=True)
class Probe:
    """One look at the world: is the condition met, and what was seen (for the timeout message)."""

    done: bool
    seen: str
    subject: str | None = None
    """The object holding things up, when it is more precise than the wait's own subject."""


def wait_until(
    check: Callable[[], Probe],
    *,
    subject: str,
    condition: str,
    timeout: float,
    clock: Clock,
    interval: float = 10.0,
    on_poll: Callable[[Probe, float], None] | None = None,
) -> float:
    """Poll `check` until it reports done; return the seconds waited, or raise WaitTimeout.

    A TransientError from `check` (the API throttled us, a connection dropped) counts as
    "not yet": the wait goes on until its deadline, backing off (doubling the interval, at
    most BACKOFF_LIMIT times it) while the errors last, so a struggling API server is not
    hammered.
    """
    start = clock.monotonic()
    failures = 0
    while True:
        try:
            probe = check()
            failures = 0
        except TransientError as exc:
            failures += 1
            probe = Probe(False, f"not yet: {' '.join(str(exc).split())[:200]}")
        elapsed = clock.monotonic() - start
        if on_poll is not None:
            on_poll(probe, elapsed)
        if probe.done:
            return elapsed
        if elapsed >= timeout:
            raise WaitTimeout(probe.subject or subject, condition, elapsed, probe.seen)
        pause = interval * min(2**failures, BACKOFF_LIMIT) if failures else interval
        clock.sleep(min(pause, max(timeout - elapsed, 0.0)) or interval)
