"""How long `eksgitops plan dev` takes as a whole process, where the time goes, and (given an
installed AWS CDK app) how that compares with `cdk synth` of an EKS Blueprints cluster with Flux.

    .venv/bin/python benchmarks/plan_speed.py [--runs 5] [--cdk DIR]
    .venv/bin/python benchmarks/plan_speed.py --snapshot DIR    # digest of every output
    .venv/bin/python benchmarks/plan_speed.py --compare DIR     # byte-identical to the snapshot?

Figures, each the median of --runs runs:
- the whole process (`.venv/bin/eksgitops plan dev`, stdout to a file), wall time and CPU time
  (user + system of the child). On a shared machine the wall time moves with the load; the CPU
  time is the figure to compare. Bytecode is cached in a folder of this run (as an installed
  package has its .pyc files); the first, cold run (source compiled) is shown apart.
- its phases, CPU time in one process: importing the CLI, importing the plan command (pulumi,
  pydantic, rich, the policies), the first program run (which loads the provider SDKs' modules),
  a second run of the same program (the program alone), and writing and printing the outputs.
- with --cdk DIR (a folder where `npm install aws-cdk aws-cdk-lib @aws-quickstart/eks-blueprints`
  ran, holding app.js): `cdk synth` of that app, same runs, same figures, and the ratio.

--snapshot/--compare hash stdout and every file the plan writes, for dev, staging and prod, in
the default, `-q` and `--json` modes: a speed change must leave all of them byte-identical.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EKSGITOPS = ROOT / ".venv" / "bin" / "eksgitops"
PYTHON = ROOT / ".venv" / "bin" / "python"
STACKS = ("dev", "staging", "prod")
MODES = {"default": [], "quiet": ["-q"], "json": ["--json"]}
PHASES = """
import io, sys, time
from pathlib import Path
t0 = time.process_time()
import eksgitops.cli
t1 = time.process_time()
import eksgitops.plan.cli as plan_cli
t2 = time.process_time()
plan_cli.run_plan("dev", stacks_dir=Path("stacks"), project_dir=Path("."))
t3 = time.process_time()
plan_cli.run_plan("dev", stacks_dir=Path("stacks"), project_dir=Path("."))
t4 = time.process_time()
sys.argv = ["eksgitops", "plan", "dev", "--out", sys.argv[1]]
stdout, sys.stdout = sys.stdout, io.StringIO()
try:
    eksgitops.cli.main()
except SystemExit:
    pass
sys.stdout = stdout
t5 = time.process_time()
# The third run's program part is the second's: what is left is writing and printing.
print(f"{t1 - t0:.3f} {t2 - t1:.3f} {t3 - t2:.3f} {t4 - t3:.3f} {max(t5 - t4 - (t4 - t3), 0):.3f}")
"""


def _env(pycache: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    for var in ("KUBECONFIG", "AWS_PROFILE", "AWS_REGION"):
        env.pop(var, None)
    if pycache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def timed(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(os.devnull, "w") as sink:
        subprocess.run(command, env=env, cwd=cwd, stdout=sink, stderr=sink, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median_of(command: list[str], env: dict[str, str], cwd: Path, runs: int) -> tuple[float, float]:
    figures = [timed(command, env, cwd) for _ in range(runs)]
    return statistics.median(w for w, _ in figures), statistics.median(c for _, c in figures)


def plan_figures(runs: int, work: Path) -> tuple[float, float]:
    out = ["--out", str(work / "build")]
    cold = timed([str(EKSGITOPS), "plan", "dev", *out], _env(None), ROOT)
    print(f"eksgitops plan dev, cold (no bytecode): {cold[0]:.2f} s wall, {cold[1]:.2f} s CPU")
    env = _env(work / "pycache")
    timed([str(EKSGITOPS), "plan", "dev", *out], env, ROOT)  # fills the bytecode cache
    wall, cpu = median_of([str(EKSGITOPS), "plan", "dev", *out], env, ROOT, runs)
    print(f"eksgitops plan dev, whole process (median of {runs}): {wall:.2f} s wall, {cpu:.2f} s CPU")
    phases = [
        subprocess.run(
            [str(PYTHON), "-c", PHASES, str(work / "phases")],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        for _ in range(runs)
    ]
    names = (
        "import the CLI",
        "import the plan command",
        "first run (SDK modules load)",
        "program alone",
        "outputs",
    )
    for index, name in enumerate(names):
        print(f"  {name}: {statistics.median(float(p[index]) for p in phases):.3f} s CPU")
    return wall, cpu


def cdk_figures(folder: Path, runs: int, ours: tuple[float, float]) -> None:
    cdk = folder / "node_modules" / ".bin" / "cdk"
    if not cdk.is_file() or not (folder / "app.js").is_file():
        print(f"--cdk {folder}: no node_modules/.bin/cdk or app.js there; see this file's docstring")
        return
    env = {**os.environ, "CDK_DISABLE_VERSION_CHECK": "1", "CDK_DEFAULT_ACCOUNT": "111122223333"}
    env["CDK_DEFAULT_REGION"] = "eu-west-1"
    command = [str(cdk), "synth", "--app", "node app.js", "-q", "--no-notices", "--no-version-reporting"]
    shutil.rmtree(folder / "cdk.out", ignore_errors=True)
    timed(command, env, folder)  # the first run warms Node's compile cache, as our bytecode is
    wall, cpu = median_of(command, env, folder, runs)
    print(
        f"cdk synth (EKS Blueprints + Flux), whole process (median of {runs}): "
        f"{wall:.2f} s wall, {cpu:.2f} s CPU"
    )
    print(f"plan / cdk synth: {ours[0] / wall:.2f} of the wall time, {ours[1] / cpu:.2f} of the CPU time")


def digests(work: Path) -> dict[str, str]:
    """sha256 of stdout and of each file written, per stack and mode."""
    found: dict[str, str] = {}
    env = _env(work / "pycache")
    for stack in STACKS:
        for mode, flags in MODES.items():
            out = work / "out"
            shutil.rmtree(out, ignore_errors=True)
            result = subprocess.run(
                [str(EKSGITOPS), "plan", stack, *flags, "--out", str(out)],
                env=env,
                cwd=ROOT,
                capture_output=True,
                check=False,
            )
            # The output folder is named in stdout: the same path on both sides.
            found[f"{stack}/{mode}/stdout"] = hashlib.sha256(result.stdout).hexdigest()
            found[f"{stack}/{mode}/exit"] = str(result.returncode)
            for path in sorted(p for p in out.rglob("*") if p.is_file()):
                found[f"{stack}/{mode}/{path.relative_to(out)}"] = hashlib.sha256(
                    path.read_bytes()
                ).hexdigest()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cdk", type=Path, help="a folder with an installed AWS CDK app (app.js)")
    parser.add_argument("--snapshot", type=Path, help="write the outputs' digests to DIR/digest.json")
    parser.add_argument("--compare", type=Path, help="compare the outputs with DIR/digest.json")
    args = parser.parse_args()
    # A fixed folder: its path is printed by the plan, so both sides of a comparison use it.
    work = Path(tempfile.gettempdir()) / "eksgitops-plan-speed"
    work.mkdir(exist_ok=True)
    if args.snapshot or args.compare:
        found = digests(work)
        if args.snapshot:
            args.snapshot.mkdir(parents=True, exist_ok=True)
            (args.snapshot / "digest.json").write_text(json.dumps(found, indent=1, sort_keys=True))
            print(f"{len(found)} digests written to {args.snapshot / 'digest.json'}")
            return
        before = json.loads((args.compare / "digest.json").read_text())
        differ = sorted(k for k in set(before) | set(found) if before.get(k) != found.get(k))
        verdict = "all byte-identical" if not differ else "DIFFERENT: " + ", ".join(differ)
        print(f"{len(found)} outputs compared: {verdict}")
        sys.exit(1 if differ else 0)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    ours = plan_figures(args.runs, work)
    if args.cdk:
        cdk_figures(args.cdk, args.runs, ours)


if __name__ == "__main__":
    main()
