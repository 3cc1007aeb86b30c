"""Running the real `eksgitops` command in a process of its own, with a hard timeout.

The code before these fixes hung on several of the inputs built here; a test that ran the
command in-process would hang with it instead of failing. A child process that outlives
`timeout` fails the test (the command did not finish), and is killed with its whole group.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

EKSGITOPS = str(Path(sys.executable).parent / "eksgitops")


@dataclass
class Finished:
    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("error:")]


def run_cli(
    *args: str, timeout: float = 120, env: dict[str, str] | None = None, cwd: Path | None = None
) -> Finished:
    """`eksgitops ARGS`; fails (AssertionError) when it does not finish within `timeout` seconds."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [EKSGITOPS, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise AssertionError(f"eksgitops {' '.join(args)[:200]} did not finish within {timeout}s") from None
    return Finished(proc.returncode, out, err, time.monotonic() - started)


def assert_one_error(done: Finished, code: int, *words: str) -> str:
    """Exit `code`, exactly one `error:` line holding every one of `words`, no traceback."""
    assert done.code == code, f"exit {done.code}:\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    assert len(done.error_lines) == 1, done.stderr
    line = done.error_lines[0]
    for word in words:
        assert word in line, line
    return line
