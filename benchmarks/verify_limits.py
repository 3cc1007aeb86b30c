"""Time and peak memory of `fleet verify` at the size its caps allow, so the defaults come from figures.

Three runs, each in a process of its own (so one's peak memory is not the next one's):

* `builds`: BUILDS Flux Kustomizations (default: the cap, budget.MAX_BUILDS), each one folder
  with a ConfigMap: the walk, the builds (real kustomize) and the checks at that count;
* `files`: one Kustomization whose folder holds FILES files (default: the cap) of together
  BYTES bytes (default: the cap) in ConfigMaps, read by the copy, the build and every check;
* `document`: one manifest at the reader's limits (document_limits.REPOSITORY: values and
  characters) — what one file of the repository may make verify hold.

For each it prints the wall time, this process's peak RSS and kustomize's (the children's)
peak RSS, and the figures the caps were chosen from. Smaller runs (`--builds 200`) give the
rate to scale from on a slow machine.

Usage: .venv/bin/python benchmarks/verify_limits.py [--builds N] [--files N] [--bytes N] [--only NAME]
Nothing is asserted; the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install

from eksgitops.components.document_limits import REPOSITORY
from eksgitops.fleet import budget

KS = (
    "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n"
    "  namespace: flux-system\nspec:\n  interval: 10m\n  prune: true\n  path: ./{path}\n"
    "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
)
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: default\ndata:\n  v: {value}\n"


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def layout_builds(root: Path, builds: int) -> None:
    for i in range(builds):
        write(root, f"clusters/dev/app{i}.yaml", KS.format(name=f"app{i}", path=f"apps/app{i}"))
        write(root, f"apps/app{i}/kustomization.yaml", "resources:\n  - cm.yaml\n")
        write(root, f"apps/app{i}/cm.yaml", CM.format(name=f"c{i}", value="x"))


def layout_files(root: Path, files: int, total: int) -> None:
    write(root, "clusters/dev/bulk.yaml", KS.format(name="bulk", path="bulk"))
    count = max(1, files - 2)
    size = max(1, total // count - 80)
    names = []
    for i in range(count):
        names.append(f"cm{i}.yaml")
        write(root, f"bulk/cm{i}.yaml", CM.format(name=f"c{i}", value="x" * size))
    write(root, "bulk/kustomization.yaml", "resources:\n" + "".join(f"  - {n}\n" for n in names))


def layout_document(root: Path) -> None:
    write(root, "clusters/dev/doc.yaml", KS.format(name="doc", path="doc"))
    # Just under both limits: half the values as keys' values, 90% of the characters.
    count = REPOSITORY.values // 2 - 10
    per = max(1, int(REPOSITORY.expanded_chars * 0.9) // count)
    data = "".join(f"  k{i}: {'x' * per}\n" for i in range(count))
    write(
        root,
        "doc/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: doc\n  namespace: default\ndata:\n" + data,
    )
    write(root, "doc/kustomization.yaml", "resources:\n  - cm.yaml\n")


def child(kind: str, args: argparse.Namespace) -> None:
    """One measured run, in this process; prints one JSON line."""
    from eksgitops.fleet.verify import VerifyRequest, verify

    with tempfile.TemporaryDirectory(prefix="verify-limits-") as tmp:
        root = Path(tmp)
        if kind == "builds":
            layout_builds(root, args.builds)
        elif kind == "files":
            layout_files(root, args.files, args.bytes)
        else:
            layout_document(root)
        os.environ["EKSGITOPS_BUILD_CACHE"] = "off"
        started = time.monotonic()
        error = ""
        try:
            with budget.running(budget.Budget(deadline=None)):
                report = verify(VerifyRequest("clusters/dev", env="dev", agent="flux"), root)
            outcome = f"{report.builds} builds, {report.objects} objects, {len(report.findings)} findings"
        except budget.LimitReached as exc:
            outcome, error = "refused", str(exc)
        seconds = time.monotonic() - started
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(
        json.dumps(
            {
                "run": kind,
                "seconds": round(seconds, 1),
                "peak_mib": me // 1024,
                "engine_peak_mib": kids // 1024,
                "outcome": outcome,
                "error": error,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--builds", type=int, default=budget.MAX_BUILDS)
    parser.add_argument("--files", type=int, default=budget.MAX_FILES)
    parser.add_argument("--bytes", type=int, default=budget.MAX_BYTES)
    parser.add_argument("--only", choices=("builds", "files", "document"))
    parser.add_argument("--child", choices=("builds", "files", "document"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args)
        return
    print(
        f"caps: {budget.MAX_BUILDS} builds, {budget.MAX_FILES} files, {budget.MAX_BYTES >> 20} MiB; "
        f"document: {REPOSITORY.values:,} values, {REPOSITORY.expanded_chars >> 20} MiB expanded, "
        f"depth {REPOSITORY.depth}, {REPOSITORY.aliases:,} aliases"
    )
    print(f"run: --builds {args.builds} --files {args.files} --bytes {args.bytes}")
    for kind in [args.only] if args.only else ["document", "files", "builds"]:
        argv = [sys.executable, __file__, "--child", kind, "--builds", str(args.builds)]
        argv += ["--files", str(args.files), "--bytes", str(args.bytes)]
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        line = proc.stdout.strip().splitlines()[-1:] or [proc.stderr.strip()[-300:]]
        try:
            data = json.loads(line[0])
        except (ValueError, IndexError):
            print(f"{kind:>9}: failed: {line}")
            continue
        print(
            f"{kind:>9}: {data['seconds']:>7.1f} s   verify peak {data['peak_mib']:>5} MiB   "
            f"kustomize peak {data['engine_peak_mib']:>5} MiB   {data['outcome']} {data['error']}"
        )


if __name__ == "__main__":
    main()
