"""A small Flux fleet of our own with one of everything `fleet diff` judges, pushed to a bare
remote as `main` (the base); each test commits its head on a branch of its own."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from tests.fleet.conftest import git

ROOT = """apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - apps.yaml
  - data.yaml
  - keep.yaml
"""


def ks(name: str, path: str, prune: bool = True, extra: str = "") -> str:
    return f"""apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: flux-system
spec:
  interval: 10m
  path: ./{path}
  prune: {"true" if prune else "false"}
  sourceRef:
    kind: GitRepository
    name: flux-system
{extra}"""


APPS = {
    "apps/kustomization.yaml": "resources:\n  - namespace.yaml\n  - web.yaml\n  - config.yaml\n",
    "apps/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n",
    "apps/web.yaml": """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: ghcr.io/example/web:1.0.0
        - name: sidecar
          image: ghcr.io/example/sidecar:1.0.0
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: web
spec:
  clusterIP: 10.100.0.10
  selector:
    app: web
  ports:
    - name: http
      port: 80
""",
    "apps/config.yaml": """apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: web
data:
  level: info
---
apiVersion: v1
kind: Secret
metadata:
  name: web-token
  namespace: web
stringData:
  token: hunter2-base
""",
}

DATA = {
    "data/kustomization.yaml": (
        "resources:\n  - namespace.yaml\n  - crd.yaml\n  - backup.yaml\n  - db.yaml\n  - job.yaml\n"
        "  - release.yaml\n"
    ),
    "data/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: db\n",
    "data/crd.yaml": """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: backups.example.com
spec:
  group: example.com
  names:
    kind: Backup
    plural: backups
    singular: backup
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                schedule:
                  type: string
""",
    "data/backup.yaml": """apiVersion: example.com/v1
kind: Backup
metadata:
  name: nightly
  namespace: db
spec:
  schedule: "0 3 * * *"
""",
    "data/db.yaml": """apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: uploads
  namespace: db
spec:
  storageClassName: gp3
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 10Gi
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: pg
  namespace: db
spec:
  serviceName: pg
  selector:
    matchLabels:
      app: pg
  template:
    metadata:
      labels:
        app: pg
    spec:
      containers:
        - name: pg
          image: postgres:16.4
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: [ReadWriteOnce]
        resources:
          requests:
            storage: 20Gi
""",
    "data/job.yaml": """apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: db
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: ghcr.io/example/migrate:1.0.0
""",
    "data/release.yaml": """apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: bitnami
  namespace: db
spec:
  interval: 1h
  url: https://charts.bitnami.com/bitnami
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: redis
  namespace: db
spec:
  interval: 1h
  chart:
    spec:
      chart: redis
      version: 19.6.4
      sourceRef:
        kind: HelmRepository
        name: bitnami
""",
}

KEEP = {
    "keep/kustomization.yaml": "resources:\n  - cm.yaml\n",
    "keep/cm.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n  namespace: default\ndata:\n  a: b\n"
    ),
}

FILES = {
    "clusters/dev/kustomization.yaml": ROOT,
    "clusters/dev/apps.yaml": ks("apps", "apps"),
    "clusters/dev/data.yaml": ks("data", "data"),
    "clusters/dev/keep.yaml": ks("keep", "keep", prune=False),
    **APPS,
    **DATA,
    **KEEP,
}


def push_base(work: Path, bare: Path, files: Mapping[str, str] | None = None) -> str:
    """Write `files` (default FILES) into a fresh clone `work`, push it as main; returns the sha."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=work)
    git("remote", "add", "origin", str(bare), cwd=work)
    return commit(work, files if files is not None else FILES, "base", push="main")


def commit(
    work: Path,
    files: Mapping[str, str | None],
    message: str,
    push: str,
    start: str = "main",
) -> str:
    """On a branch `push` from `start`: write (or with None delete) `files`, commit, push."""
    if push != start:
        git("checkout", "-q", "-B", push, start, cwd=work)
    for rel, text in files.items():
        target = work / rel
        if text is None:
            target.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    git("add", "-A", cwd=work)
    git("commit", "-q", "--allow-empty", "-m", message, cwd=work)
    git("push", "-q", "-f", "origin", push, cwd=work)
    return git("rev-parse", "HEAD", cwd=work)
