"""Time `fleet verify` on a generated fleet beside the bare kustomize builds of the same folders.

A fleet of ENVS environments x APPS apps (default 50 x 20): `clusters/<env>/` holds one Flux
Kustomization per app (`apps/<env>/<app>`, an overlay of `apps/base/<app>`: Namespace,
Deployment, Service, HPA, with postBuild variables). For every environment it prints verify's
wall time (real kustomize builds, Flux's steps, strict schemas, references) and the time of the
bare `kubectl kustomize` builds of the same folders, then the totals and their ratio.

With `--shape homelab` it times instead one environment of a large home-lab monorepo
(fleet_homelab.py: nested Kustomizations, HelmReleases, postBuild substitution; `--namespaces`
x `--apps`, default 10 x 8, so 82 builds; `--namespaces 23 --apps 4` is a 94-build layout):
verify cold (empty build cache), then warm after a one-file change, each over the bare
sequential `kubectl kustomize` of the same folders, and the peak memory of this process and of
the engine processes it ran (the largest one of each).

Usage: .venv/bin/python benchmarks/fleet_verify.py [--envs 50] [--apps 20] [--show 5]
       .venv/bin/python benchmarks/fleet_verify.py --shape homelab [--namespaces 10] [--apps 8]
Nothing is asserted; the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without install

from benchmarks import fleet_homelab
from eksgitops.fleet.findings import Report
from eksgitops.fleet.kustomize_engine import Engine, find_engine
from eksgitops.fleet.verify import VerifyRequest, verify

PROVIDED = {"cluster_name", "environment", "region", "account_id", "vpc_id", "oidc_issuer_host"}

BASE = {
    "kustomization.yaml": (
        "resources:\n  - namespace.yaml\n  - deployment.yaml\n  - service.yaml\n  - hpa.yaml\n"
    ),
    "namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {app}\n",
    "deployment.yaml": """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
  namespace: {app}
spec:
  selector:
    matchLabels:
      app: {app}
  template:
    metadata:
      labels:
        app: {app}
    spec:
      containers:
        - name: {app}
          image: ghcr.io/example/{app}:1.0.0
          env:
            - name: CLUSTER
              value: ${{cluster_name}}
          resources:
            requests:
              cpu: 50m
              memory: 64Mi
""",
    "service.yaml": """apiVersion: v1
kind: Service
metadata:
  name: {app}
  namespace: {app}
spec:
  selector:
    app: {app}
  ports:
    - port: 80
      targetPort: 8080
""",
    "hpa.yaml": """apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {app}
  namespace: {app}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {app}
  minReplicas: 2
  maxReplicas: 6
""",
}
OVERLAY = """resources:
  - ../../base/{app}
images:
  - name: ghcr.io/example/{app}
    newTag: "1.0.{n}"
"""
KUSTOMIZATION = """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {app}
  namespace: flux-system
spec:
  interval: 10m
  prune: true
  path: ./apps/{env}/{app}
  sourceRef:
    kind: GitRepository
    name: flux-system
  postBuild:
    substituteFrom:
      - kind: ConfigMap
        name: cluster-vars
"""


def generate(root: Path, envs: int, apps: int) -> list[str]:
    names = [f"app{i:02d}" for i in range(apps)]
    for app in names:
        for name, text in BASE.items():
            path = root / "apps/base" / app / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text.format(app=app))
    environments = [f"env{i:02d}" for i in range(envs)]
    for n, env in enumerate(environments):
        cluster = root / "clusters" / env
        cluster.mkdir(parents=True)
        (cluster / "kustomization.yaml").write_text(
            "resources:\n" + "".join(f"  - {app}.yaml\n" for app in names)
        )
        for app in names:
            (cluster / f"{app}.yaml").write_text(KUSTOMIZATION.format(app=app, env=env))
            overlay = root / "apps" / env / app / "kustomization.yaml"
            overlay.parent.mkdir(parents=True, exist_ok=True)
            overlay.write_text(OVERLAY.format(app=app, n=n))
    return environments


def bare_builds(binary: str, root: Path, env: str, apps: int) -> float:
    folders = [root / "clusters" / env] + [root / "apps" / env / f"app{i:02d}" for i in range(apps)]
    started = time.monotonic()
    for folder in folders:
        subprocess.run(
            [binary, "kustomize", str(folder), "--load-restrictor", "LoadRestrictionsNone"],
            check=True,
            capture_output=True,
        )
    return time.monotonic() - started


def bare_sequential(binary: str, folders: list[Path]) -> float:
    started = time.monotonic()
    for folder in folders:
        subprocess.run(
            [binary, "kustomize", str(folder), "--load-restrictor", "LoadRestrictionsNone"],
            check=True,
            capture_output=True,
        )
    return time.monotonic() - started


def _timed_verify(engine: Engine, root: Path) -> tuple[float, Report]:
    # As `fleet verify` does: on a throw-away clone of the repository (the clone is not timed).
    clone = root.parent / "clone"
    shutil.rmtree(clone, ignore_errors=True)
    shutil.copytree(root, clone)
    started = time.monotonic()
    report = verify(
        VerifyRequest.from_flags("clusters/dev", variables=PROVIDED), clone, engine=engine, disposable=True
    )
    return time.monotonic() - started, report


def homelab(engine: Engine, namespaces: int, apps: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "fleet"
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")  # a cold build cache of its own
        folders = fleet_homelab.generate(root, namespaces, apps)
        print(
            f"home-lab monorepo: {namespaces} namespaces x {apps} apps; engine {engine.binary}; "
            f"{os.cpu_count()} CPUs"
        )
        bare = bare_sequential(engine.binary, folders)
        cold_s, cold = _timed_verify(engine, root)
        fleet_homelab.touch_one(root)
        bare_after = bare_sequential(engine.binary, folders)
        warm_s, warm = _timed_verify(engine, root)
        print(
            f"bare sequential kubectl kustomize: {len(folders)} folders, {bare:.2f}s "
            f"(after the change {bare_after:.2f}s)"
        )
        for label, seconds, report, base in (
            ("cold", cold_s, cold, bare),
            ("warm, one file changed", warm_s, warm, bare_after),
        ):
            print(
                f"verify {label}: {seconds:.2f}s = {seconds / base:.2f}x the bare builds "
                f"({report.builds} builds, {report.cached} from cache, {report.objects} objects, "
                f"{len(report.findings)} findings)"
            )
        print(
            f"peak memory: {_peak_mib(resource.RUSAGE_SELF):.0f} MiB verify (Python), "
            f"{_peak_mib(resource.RUSAGE_CHILDREN):.0f} MiB the largest engine process"
        )


def _peak_mib(who: int) -> float:
    """The largest resident set of this process (or of its largest finished child), in MiB."""
    kib = resource.getrusage(who).ru_maxrss
    return kib / 1024 if sys.platform != "darwin" else kib / (1024 * 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--shape", choices=("envs", "homelab"), default="envs")
    parser.add_argument("--envs", type=int, default=50)
    parser.add_argument("--apps", type=int, default=None, help="apps per environment (20) or namespace (8)")
    parser.add_argument("--namespaces", type=int, default=10)
    parser.add_argument("--show", type=int, default=0, help="print only the first N environments (0: all)")
    args = parser.parse_args()
    engine = find_engine()
    if args.shape == "homelab":
        homelab(engine, args.namespaces, args.apps or 8)
        return
    args.apps = args.apps or 20
    provided = PROVIDED
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        environments = generate(root, args.envs, args.apps)
        print(f"fleet: {args.envs} environments x {args.apps} apps; engine {engine.binary}")
        print(
            f"{'environment':<12} {'verify s':>9} {'builds s':>9} {'ratio':>6} {'objects':>8} {'findings':>9}"
        )
        total_verify = total_builds = 0.0
        for index, env in enumerate(environments):
            started = time.monotonic()
            # As `fleet verify` does on its throw-away clone (the clone itself is not timed).
            request = VerifyRequest.from_flags(f"clusters/{env}", variables=provided)
            report = verify(request, root, engine=engine, disposable=True)
            verify_s = time.monotonic() - started
            builds_s = bare_builds(engine.binary, root, env, args.apps)
            total_verify += verify_s
            total_builds += builds_s
            if not args.show or index < args.show:
                print(
                    f"{env:<12} {verify_s:9.2f} {builds_s:9.2f} {verify_s / builds_s:6.2f} "
                    f"{report.objects:8d} {len(report.findings):9d}"
                )
        print(
            f"{'total':<12} {total_verify:9.2f} {total_builds:9.2f} {total_verify / total_builds:6.2f}"
            f"   ({args.envs * (args.apps + 1)} builds each way)"
        )


if __name__ == "__main__":
    main()
