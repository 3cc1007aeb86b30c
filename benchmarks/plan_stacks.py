"""How long the offline plan takes per stack, and how it grows with the number of identities.

Prints figures; asserts nothing. Run from the repository root:
    .venv/bin/python benchmarks/plan_stacks.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from components.spec import load_spec
from components.spec.read import config_for_pulumi, raw_config_from_stack_file
from eksgitops.plan.engine import run_program
from eksgitops.program import main as program

ROOT = Path(__file__).resolve().parents[1]


def _time_plan(raw: dict, stack: str, repeat: int) -> tuple[float, float, int]:
    spec = load_spec(raw, stack=stack, source=f"stacks/Pulumi.{stack}.yaml")
    config, secret_keys = config_for_pulumi(raw)
    seconds, count = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        result = run_program(program, stack=stack, config=config, secret_keys=secret_keys, region=spec.region)
        seconds.append(time.perf_counter() - start)
        count = len(result.resources)
    return statistics.median(seconds), min(seconds), count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    print(f"{'stack':<22} {'resources':>9} {'median s':>9} {'best s':>8}")
    for stack in ("dev", "staging", "prod"):
        raw = raw_config_from_stack_file(ROOT / "stacks" / f"Pulumi.{stack}.yaml")
        median, best, count = _time_plan(raw, stack, args.repeat)
        print(f"{stack:<22} {count:>9} {median:>9.2f} {best:>8.2f}")

    # Scale: the same dev stack with many workload identities.
    base = raw_config_from_stack_file(ROOT / "stacks" / "Pulumi.dev.yaml")
    for n in (10, 50, 100):
        raw = dict(base)
        raw["identities"] = [
            {
                "name": f"svc-{i}",
                "namespace": f"team-{i % 10}",
                "serviceAccount": f"svc-{i}",
                "managedPolicyArns": ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"],
                "mode": "irsa" if i % 2 else "pod-identity",
            }
            for i in range(n)
        ]
        median, best, count = _time_plan(raw, "dev", args.repeat)
        print(f"{f'dev + {n} identities':<22} {count:>9} {median:>9.2f} {best:>8.2f}")


if __name__ == "__main__":
    main()
