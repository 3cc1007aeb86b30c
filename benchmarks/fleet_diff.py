"""Time `fleet diff` on a 94-build home-lab monorepo with a one-file change, beside the bare
`kubectl kustomize` builds of both revisions.

The layout is benchmarks/fleet_homelab.py (`--namespaces` x `--apps`, default 4 x 23: 92 app
Kustomizations, the cluster's and the apps' root, 94 builds), pushed to a local bare repository
as `main`; a pull request changes one app's chart values. It prints:

- the bare sequential `kubectl kustomize` of every folder, at base and at head (what a CI job
  that renders both revisions to compare them runs at the least);
- `fleet diff` cold (empty build cache); warm (the build cache holds what an earlier diff built
  and the walk of base, kept under its tree: only the changed app is built again); and warm
  builds without the kept walk of base (base walked again from cached builds). Each is the
  whole run: clone, both revisions, the verification of head, the comparison.

Usage: .venv/bin/python benchmarks/fleet_diff.py [--namespaces 4] [--apps 23] [--runs 3]
Nothing is asserted; the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install

from benchmarks import fleet_homelab
from benchmarks.fleet_verify import PROVIDED, bare_sequential
from eksgitops.fleet.credentials import Credentials
from eksgitops.fleet.diff.model import DiffResult
from eksgitops.fleet.diff.run import diff
from eksgitops.fleet.kustomize_engine import Engine, find_engine
from eksgitops.fleet.verify import VerifyRequest


def git(*args: str, cwd: Path) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com",
    }
    done = subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def timed_diff(engine: Engine, bare: Path, head: str) -> tuple[float, DiffResult]:
    request = VerifyRequest.from_flags("clusters/dev", variables=PROVIDED)
    started = time.monotonic()
    result = diff(str(bare), "main", head, Credentials(), request, engine=engine)
    return time.monotonic() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--namespaces", type=int, default=4)
    parser.add_argument("--apps", type=int, default=23)
    parser.add_argument("--runs", type=int, default=3, help="warm runs (the best is reported)")
    args = parser.parse_args()
    engine = find_engine()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")  # a cold build cache of its own
        work, bare = Path(tmp) / "work", Path(tmp) / "remote.git"
        folders = fleet_homelab.generate(work, args.namespaces, args.apps)
        git("init", "-q", "--bare", "-b", "main", str(bare), cwd=Path(tmp))
        git("init", "-q", "-b", "main", cwd=work)
        git("add", "-A", cwd=work)
        git("commit", "-q", "-m", "base", cwd=work)
        git("remote", "add", "origin", str(bare), cwd=work)
        git("push", "-q", "origin", "main", cwd=work)
        bare_base = bare_sequential(engine.binary, folders)
        git("checkout", "-q", "-b", "pr", cwd=work)
        fleet_homelab.touch_one(work)
        git("commit", "-q", "-am", "one app's chart values", cwd=work)
        git("push", "-q", "origin", "pr", cwd=work)
        bare_head = bare_sequential(engine.binary, folders)
        bare_both = bare_base + bare_head
        print(
            f"home-lab monorepo: {args.namespaces} namespaces x {args.apps} apps, {len(folders)} builds per "
            f"revision; engine {engine.binary}; {os.cpu_count()} CPUs"
        )
        print(
            f"bare sequential kubectl kustomize: base {bare_base:.2f}s + head {bare_head:.2f}s "
            f"= {bare_both:.2f}s"
        )
        cache = Path(tmp) / "cache"
        cold_s, cold = timed_diff(engine, bare, "pr")
        print(_line("cold (empty build cache)", cold_s, cold, bare_both))
        shutil.rmtree(cache)
        # Warm: an earlier run (the diff of an earlier pull request, or of main itself) built and
        # walked base; this pull request's head is new, and its changed app is built again.
        timed_diff(engine, bare, "main")
        snapshot = Path(tmp) / "snapshot"
        shutil.copytree(cache, snapshot)
        runs = max(1, args.runs)
        for label, keep_walk in (("warm", True), ("warm builds, base walk not kept", False)):
            times: list[tuple[float, DiffResult]] = []
            for _ in range(runs):
                shutil.rmtree(cache)
                shutil.copytree(snapshot, cache)
                if not keep_walk:
                    for entry in cache.rglob("walk-*.json"):
                        entry.unlink()
                times.append(timed_diff(engine, bare, "pr"))
            best_s, best = min(times, key=lambda w: w[0])
            print(_line(f"{label} (best of {runs})", best_s, best, bare_both))


def _line(label: str, seconds: float, result: DiffResult, bare_both: float) -> str:
    counts = result.counts
    report = result.head_report
    return (
        f"fleet diff {label}: {seconds:.2f}s = {seconds / bare_both:.2f}x the bare builds of both revisions "
        f"(head: {report.builds} builds, {report.cached} from cache; {counts['update']} update(s), "
        f"{counts['create']} create(s), {counts['delete']} delete(s), exit {result.exit_code()})"
    )


if __name__ == "__main__":
    main()
