"""A progress display for steps that take more than a moment (runs, clones, builds, waits).

One helper for every command: `with progress("Cloning the fleet repo"): ...` shows a rich
spinner with the elapsed time on stderr while the step runs, and nothing at all when stderr
is not a terminal (CI logs, pipes, `--json`, `-q`), so scripted output never changes.
The spinner only appears once a step has run for `delay` seconds: quick steps stay silent.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

DELAY_SECONDS = 0.5


def _shown(console: Console, enabled: bool) -> bool:
    return enabled and console.is_terminal and not console.is_dumb_terminal


@contextmanager
def progress(
    description: str,
    *,
    console: Console | None = None,
    enabled: bool = True,
    delay: float = DELAY_SECONDS,
) -> Iterator[None]:
    """Show `description` with a spinner and elapsed time while the block runs.

    `enabled=False` (the caller's quiet or machine-readable mode) or a non-terminal stderr
    shows nothing. The display is transient: when the block ends it is erased, so what the
    command prints afterwards reads as if it had never been there.
    """
    console = console or Console(stderr=True)
    if not _shown(console, enabled):
        yield
        return
    display = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    display.add_task(description, total=None)
    # Started from a timer so that a step shorter than `delay` never flashes a spinner.
    timer = threading.Timer(delay, display.start)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        timer.join()
        display.stop()
