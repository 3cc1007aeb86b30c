"""Whole-process time and peak memory of `eksgitops plan`, for dev and for growing environments.

Each case is a fresh `eksgitops plan dev --quiet` process (what a user or CI waits for:
interpreter start, imports, the program under mocks, policies, files), on the dev stack as
shipped, then with 1 -> 20 node groups and 1 -> 200 workload identities. Prints figures and
the marginal cost per added node group / identity, so linear growth shows as a flat column;
asserts nothing. Runs are warm, as a user's second run is: one unmeasured run first writes the
bytecode caches (even where PYTHONDONTWRITEBYTECODE is set, which would otherwise recompile
the project's own modules on every run). The CPU column (user + sys of the process) is what
the run costs when another load shares the machine, which inflates wall time. Run from the repository root:
    .venv/bin/python benchmarks/plan_scaling.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).parent / "eksgitops"
NODE_GROUPS = (1, 2, 5, 10, 20)
IDENTITIES = (1, 10, 50, 100, 200)


def _dev_config() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())["config"]


def _node_groups(n: int) -> dict[str, Any]:
    config = _dev_config()
    config["eksgitops:nodeGroups"] = [
        {"name": f"group-{i}", "instanceTypes": ["m6i.large"], "minSize": 1, "desiredSize": 1, "maxSize": 2}
        for i in range(n)
    ]
    return config


def _identities(n: int) -> dict[str, Any]:
    config = _dev_config()
    config["eksgitops:identities"] = [
        {
            "name": f"svc-{i}",
            "namespace": f"team-{i % 10}",
            "serviceAccount": f"svc-{i}",
            "managedPolicyArns": ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"],
            "mode": "irsa" if i % 2 else "pod-identity",
        }
        for i in range(n)
    ]
    return config


# As on a user's machine: the interpreter writes bytecode caches on the first run.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_case(config: dict[str, Any], repeat: int) -> tuple[float, float, float, int]:
    """Best wall seconds, with that run's CPU seconds, peak RSS (MiB) and resource count."""
    best: tuple[float, float, float, int] | None = None
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "stacks").mkdir()
        (project / "stacks" / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": config}))
        shutil.copy(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
        for _ in range(repeat):
            start = time.perf_counter()
            child = subprocess.Popen(
                [str(CLI), "plan", "dev", "--quiet", "--out", str(project / "build")],
                cwd=project,
                env=ENV,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            _, status, usage = os.wait4(child.pid, 0)
            seconds = time.perf_counter() - start
            if os.waitstatus_to_exitcode(status) not in (0, 1):  # 1: a policy finding, still a full plan
                raise SystemExit(f"plan failed: {child.stderr.read().decode() if child.stderr else ''}")
            count = len(json.loads((project / "build" / "dev" / "resources.json").read_text())["resources"])
            peak = usage.ru_maxrss / 1024  # KiB on Linux
            cpu = usage.ru_utime + usage.ru_stime
            if best is None or seconds < best[0]:
                best = (seconds, cpu, peak, count)
    assert best is not None
    return best


def _series(label: str, sizes: tuple[int, ...], make, repeat: int) -> None:
    header = "resources  wall s  cpu s  peak MiB  s per added cpu per added"
    print(f"\n{label:<16} {header}")
    previous: tuple[int, float, float] | None = None
    for n in sizes:
        seconds, cpu, peak, count = run_case(make(n), repeat)
        marginal = cpu_marginal = ""
        if previous is not None:
            marginal = f"{(seconds - previous[1]) / (n - previous[0]):.3f}"
            cpu_marginal = f"{(cpu - previous[2]) / (n - previous[0]):.3f}"
        figures = f"{count:>9} {seconds:>7.2f} {cpu:>6.2f} {peak:>9.0f} {marginal:>12} {cpu_marginal:>13}"
        print(f"{n:<16} {figures}")
        previous = (n, seconds, cpu)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the best is shown")
    args = parser.parse_args()
    run_case(_dev_config(), 1)  # warm-up: bytecode caches
    repeat = max(args.repeat, 5)
    seconds, cpu, peak, count = run_case(_dev_config(), repeat)
    print(
        f"dev as shipped: {count} resources, {seconds:.2f} s whole process (best of {repeat}, warm; "
        f"{cpu:.2f} s CPU), peak {peak:.0f} MiB"
    )
    _series("node groups", NODE_GROUPS, _node_groups, args.repeat)
    _series("identities", IDENTITIES, _identities, args.repeat)


if __name__ == "__main__":
    main()
