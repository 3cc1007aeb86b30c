"""Time `fleet bootstrap` and `fleet verify` against a local bare repository.

Usage: .venv/bin/python benchmarks/fleet_bootstrap.py [--rounds N]
Prints wall-clock figures; nothing is asserted (timings vary by machine).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install

from eksgitops.fleet import bootstrap as ops
from eksgitops.fleet.credentials import Credentials
from eksgitops.fleet.layout import Options
from eksgitops.fleet.verify import VerifyRequest


def _quiet(_line: str) -> None:
    pass


def one_round(remote: Path, creds: Credentials) -> dict[str, float]:
    """Bootstrap dev and prod into an empty remote, re-run dev (no-op), verify dev."""
    steps: dict[str, Callable[[], object]] = {
        "bootstrap dev (new)": lambda: ops.bootstrap(
            str(remote), Options("dev", image_automation=True), creds, _quiet
        ),
        "bootstrap prod (new)": lambda: ops.bootstrap(str(remote), Options("prod"), creds, _quiet),
        "bootstrap dev (no-op)": lambda: ops.bootstrap(
            str(remote), Options("dev", image_automation=True), creds, _quiet
        ),
        "verify dev": lambda: ops.verify(
            str(remote), None, creds, VerifyRequest.from_flags("clusters/dev", env="dev")
        ),
    }
    timings: dict[str, float] = {}
    for label, step in steps.items():
        start = time.perf_counter()
        step()
        timings[label] = time.perf_counter() - start
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for key, value in (("GIT_AUTHOR_NAME", "bench"), ("GIT_AUTHOR_EMAIL", "bench@localhost")):
        os.environ.setdefault(key, value)
        os.environ.setdefault(key.replace("AUTHOR", "COMMITTER"), value)
    creds = Credentials.load()
    results: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            remote = Path(tmp) / "fleet.git"
            subprocess.run(["git", "init", "-q", "--bare", "--initial-branch=main", str(remote)], check=True)
            for label, seconds in one_round(remote, creds).items():
                results.setdefault(label, []).append(seconds)
    width = max(len(k) for k in results)
    for label, values in results.items():
        best, mean = min(values) * 1000, sum(values) / len(values) * 1000
        print(f"{label:<{width}}  best {best:7.1f} ms  mean {mean:7.1f} ms  ({len(values)} rounds)")


if __name__ == "__main__":
    main()
