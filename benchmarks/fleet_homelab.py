"""The large home-lab monorepo shape of benchmarks/fleet_verify.py (`--shape homelab`).

`kubernetes/apps/<namespace>/<app>/ks.yaml` per app (a Flux Kustomization of `app/`, with
targetNamespace, dependsOn and postBuild substitution), each `app/` holding a HelmRelease, its
HelmRepository, a ConfigMap generator and a Service; one `cluster-apps` Kustomization of
`kubernetes/apps` from `clusters/<env>`. NAMESPACES x APPS apps, plus the two Kustomizations above.
"""

from __future__ import annotations

from pathlib import Path

ROOT_KS = """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: cluster-apps
  namespace: flux-system
spec:
  interval: 30m
  path: ./kubernetes/apps
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  postBuild:
    substituteFrom:
      - kind: ConfigMap
        name: cluster-vars
"""
APP_KS = """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {app}
  namespace: flux-system
spec:
  targetNamespace: {ns}
  commonMetadata:
    labels:
      app.kubernetes.io/name: {app}
{depends}  path: ./kubernetes/apps/{ns}/{app}/app
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  interval: 1h
  postBuild:
    substitute:
      APP: {app}
    substituteFrom:
      - kind: ConfigMap
        name: cluster-vars
"""
RELEASE = """apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {app}
spec:
  interval: 1h
  chart:
    spec:
      chart: app-template
      version: 3.7.3
      sourceRef:
        kind: HelmRepository
        name: {app}
  install:
    remediation:
      retries: 3
  values:
    controllers:
      main:
        containers:
          app:
            image:
              repository: ghcr.io/example/{app}
              tag: 1.{n}.0
            env:
              TZ: Europe/Amsterdam
              CLUSTER: ${{cluster_name}}
    ingress:
      main:
        hosts:
          - host: ${{APP}}.${{environment}}.example.org
"""
REPOSITORY = """apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: {app}
spec:
  interval: 12h
  url: https://bjw-s.github.io/helm-charts
"""
SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: {app}-metrics
spec:
  selector:
    app.kubernetes.io/name: {app}
  ports:
    - name: metrics
      port: 9090
"""
APP_KUSTOMIZATION = """apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ./helmrelease.yaml
  - ./helmrepository.yaml
  - ./service.yaml
configMapGenerator:
  - name: {app}-config
    files:
      - config.yaml=./resources/config.yaml
generatorOptions:
  disableNameSuffixHash: true
"""


def generate(root: Path, namespaces: int, apps: int, env: str = "dev") -> list[Path]:
    """Write the fleet; returns the folders a bare sequential run builds, in the walk's order."""
    cluster = root / "clusters" / env
    cluster.mkdir(parents=True)
    (cluster / "cluster-apps.yaml").write_text(ROOT_KS)
    (cluster / "kustomization.yaml").write_text("resources:\n  - ./cluster-apps.yaml\n")
    folders = [cluster, root / "kubernetes/apps"]
    top: list[str] = []
    for i in range(namespaces):
        ns = f"ns{i:02d}"
        top.append(f"./{ns}")
        base = root / "kubernetes/apps" / ns
        names = [f"{ns}-app{j:02d}" for j in range(apps)]
        base.mkdir(parents=True)
        (base / "namespace.yaml").write_text(f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n")
        (base / "kustomization.yaml").write_text(
            "resources:\n  - ./namespace.yaml\n" + "".join(f"  - ./{a}/ks.yaml\n" for a in names)
        )
        for n, app in enumerate(names):
            folder = base / app
            (folder / "app/resources").mkdir(parents=True)
            # The namespace's first app comes first; it depends on nothing (on itself would be a
            # cycle Flux waits on forever, which verify reports).
            depends = f"  dependsOn:\n    - name: {names[0]}\n" if n else ""
            (folder / "ks.yaml").write_text(APP_KS.format(app=app, ns=ns, depends=depends))
            (folder / "app/kustomization.yaml").write_text(APP_KUSTOMIZATION.format(app=app))
            (folder / "app/helmrelease.yaml").write_text(RELEASE.format(app=app, n=n))
            (folder / "app/helmrepository.yaml").write_text(REPOSITORY.format(app=app))
            (folder / "app/service.yaml").write_text(SERVICE.format(app=app))
            (folder / "app/resources/config.yaml").write_text(f"app: {app}\nlevel: info\n")
            folders.append(folder / "app")
    (root / "kubernetes/apps/kustomization.yaml").write_text(
        "resources:\n" + "".join(f"  - {t}\n" for t in top)
    )
    return folders


def touch_one(root: Path) -> Path:
    """A one-file change, as in a typical pull request: one app's chart values."""
    path = root / "kubernetes/apps/ns00/ns00-app01/app/helmrelease.yaml"
    path.write_text(path.read_text().replace("Europe/Amsterdam", "UTC"))
    return path
