"""The small kustomize builder: the semantics verify relies on."""

from __future__ import annotations

from pathlib import Path

import pytest

from eksgitops.fleet.kustomize import Builder, BuildError

DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.27
          env:
            - name: A
              value: "1"
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_nested_bases_patches_namespace_labels_and_images(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "base/deploy.yaml": DEPLOY,
            "base/kustomization.yaml": "resources: [deploy.yaml]\n",
            "overlay/kustomization.yaml": """
resources: [../base]
namespace: shop
commonLabels: {team: a}
images:
  - name: nginx
    newTag: "1.28"
patchesStrategicMerge:
  - smp.yaml
patches:
  - target: {kind: Deployment, name: web}
    patch: |
      - op: replace
        path: /spec/replicas
        value: 3
      - op: add
        path: /metadata/annotations
        value: {note: x}
""",
            "overlay/smp.yaml": """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          env:
            - name: B
              value: "2"
""",
        },
    )
    (web,) = Builder(root).build(root / "overlay")
    assert web.namespace == "shop"
    assert web.obj["metadata"]["labels"] == {"team": "a"}
    assert web.obj["metadata"]["annotations"] == {"note": "x"}
    assert web.obj["spec"]["replicas"] == 3
    container = web.obj["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "nginx:1.28"
    assert [e["name"] for e in container["env"]] == ["A", "B"]
    assert web.source == "base/deploy.yaml"


def test_directory_without_kustomization_takes_every_yaml_recursively(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "flat/a.yaml": DEPLOY,
            "flat/sub/b.yml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
            "flat/app/kustomization.yaml": "resources: [c.yaml]\nnamePrefix: x-\n",
            "flat/app/c.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
            "flat/notes.txt": "ignored",
        },
    )
    names = sorted(r.name for r in Builder(root).build(root / "flat"))
    assert names == ["b", "web", "x-c"]


@pytest.mark.parametrize(
    ("kustomization", "message"),
    [
        ("resources: [missing.yaml]\n", "resource 'missing.yaml' not found"),
        ("resources: [../../outside]\n", "outside the repository"),
        ("resources: [https://example.com/x.yaml]\n", "remote resource"),
        ("resources: [.]\n", "kustomization cycle"),
    ],
)
def test_build_errors_name_the_kustomization(tmp_path: Path, kustomization: str, message: str) -> None:
    root = write(tmp_path / "repo", {"k/kustomization.yaml": kustomization})
    with pytest.raises(BuildError) as err:
        Builder(root).build(root / "k")
    assert message in str(err.value)
    assert err.value.path == "k/kustomization.yaml" or err.value.path == "k"
