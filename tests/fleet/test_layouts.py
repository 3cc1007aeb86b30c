"""Layouts of the shapes real fleets use, each verified clean, and each broken the ways they break:
a monorepo with staging/production overlays, multi-tenancy with tenants in other repositories,
ArtifactGenerator-based, OCI-synced via a FluxInstance, hub and spoke."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fleet.helpers import edit, lines, run, write_all


def ks(
    name: str, path: str, extra: str = "", source: str = "GitRepository", source_name: str = "flux-system"
) -> str:
    return (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        f"metadata:\n  name: {name}\n  namespace: flux-system\n"
        f"spec:\n  interval: 10m\n  prune: true\n  path: {path}\n"
        f"  sourceRef:\n    kind: {source}\n    name: {source_name}\n" + extra
    )


DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: web
spec:
  replicas: 1
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
          image: nginx:1.27.1
"""
SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: web
spec:
  selector:
    app: web
  ports:
    - port: 80
"""
HELM = """apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: bitnami
  namespace: flux-system
spec:
  interval: 12h
  url: https://charts.bitnami.com/bitnami
---
apiVersion: v1
kind: Namespace
metadata:
  name: redis
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: redis
  namespace: redis
spec:
  interval: 1h
  chart:
    spec:
      chart: redis
      version: "20.6.2"
      sourceRef:
        kind: HelmRepository
        name: bitnami
        namespace: flux-system
"""


def monorepo(root: Path) -> Path:
    files = {
        "infrastructure/kustomization.yaml": "resources:\n  - redis.yaml\n",
        "infrastructure/redis.yaml": HELM,
        "apps/base/web/kustomization.yaml": "resources:\n  - namespace.yaml\n  - deployment.yaml\n  - "
        "service.yaml\n",
        "apps/base/web/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n",
        "apps/base/web/deployment.yaml": DEPLOYMENT,
        "apps/base/web/service.yaml": SERVICE,
    }
    for env, replicas in (("staging", 1), ("production", 3)):
        files[f"clusters/{env}/infrastructure.yaml"] = ks(
            "infrastructure", "./infrastructure", "  wait: true\n"
        )
        files[f"clusters/{env}/apps.yaml"] = ks(
            "apps", f"./apps/{env}", "  dependsOn:\n    - name: infrastructure\n"
        )
        files[f"apps/{env}/kustomization.yaml"] = (
            "resources:\n  - ../base/web\npatches:\n  - path: replicas.yaml\n"
            "images:\n  - name: nginx\n    newTag: 1.27.2\n"
        )
        files[f"apps/{env}/replicas.yaml"] = (
            f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: web\n"
            f"spec:\n  replicas: {replicas}\n"
        )
    return write_all(root, files)


@pytest.mark.parametrize("env", ["staging", "production"])
def test_monorepo_overlays_are_clean(tmp_path: Path, env: str) -> None:
    report = run(monorepo(tmp_path), f"clusters/{env}", provided=set())
    assert lines(report) == []
    assert report.builds == 3 and report.objects == 8


MONOREPO_BREAKS = {
    "overlay patches a Deployment the base does not have": (
        ("apps/production/replicas.yaml", "name: web", "name: webb"),
        "error: apps/production: Kustomization flux-system/apps: kustomize build failed: no resource matches "
        "strategic merge patch",
    ),
    "replicas written as a string": (
        ("apps/production/replicas.yaml", "replicas: 3", "replicas: three"),
        "error: apps/base/web/deployment.yaml: Deployment web/web: spec.replicas: 'three' is not of type "
        "integer",
    ),
    "dependsOn a layer the cluster does not have": (
        ("clusters/production/apps.yaml", "name: infrastructure", "name: infra"),
        "error: clusters/production/apps.yaml: Kustomization flux-system/apps: dependsOn Kustomization "
        "flux-system/infra not found",
    ),
}


@pytest.mark.parametrize("case", sorted(MONOREPO_BREAKS))
def test_monorepo_breakages(tmp_path: Path, case: str) -> None:
    (rel, old, new), expected = MONOREPO_BREAKS[case]
    root = monorepo(tmp_path)
    edit(root, rel, old, new)
    assert any(
        line.startswith(expected) for line in lines(run(root, "clusters/production", provided=set()))
    ), lines(run(root, "clusters/production", provided=set()))
    # The other environment is untouched by a production-only change.
    if rel.startswith(("apps/production", "clusters/production")):
        assert lines(run(root, "clusters/staging", provided=set())) == []


TENANT = """apiVersion: v1
kind: Namespace
metadata:
  name: team-a
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: team-a
  namespace: team-a
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: team-a-reconciler
  namespace: team-a
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: admin
subjects:
  - kind: ServiceAccount
    name: team-a
    namespace: team-a
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: team-a
  namespace: team-a
spec:
  interval: 5m
  url: https://git.example.com/team-a/apps.git
  ref:
    branch: main
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: team-a
  namespace: team-a
spec:
  serviceAccountName: team-a
  interval: 5m
  prune: true
  path: ./deploy
  sourceRef:
    kind: GitRepository
    name: team-a
"""


def multitenant(root: Path) -> Path:
    return write_all(
        root,
        {
            "clusters/prod/tenants.yaml": ks("tenants", "./tenants/prod"),
            "tenants/prod/kustomization.yaml": "resources:\n  - ../base/team-a\n",
            "tenants/base/team-a/kustomization.yaml": "resources:\n  - tenant.yaml\n",
            "tenants/base/team-a/tenant.yaml": TENANT,
        },
    )


def test_multitenancy_with_tenants_in_other_repositories(tmp_path: Path) -> None:
    report = run(multitenant(tmp_path), "clusters/prod", provided=set())
    assert lines(report) == []
    assert report.not_checked == [
        "tenants/base/team-a/tenant.yaml: Kustomization team-a/team-a: source GitRepository team-a/team-a "
        "(https://git.example.com/team-a/apps.git) is not this repository; ./deploy not built"
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "  sourceRef:\n    kind: GitRepository\n    name: team-a",
            "  sourceRef:\n    kind: GitRepository\n    name: team-b",
            "error: tenants/base/team-a/tenant.yaml: Kustomization team-a/team-a: sourceRef GitRepository "
            "team-a/team-b not found",
        ),
        (
            "kind: Namespace\nmetadata:\n  name: team-a",
            "kind: Namespace\nmetadata:\n  name: team-x",
            "error: tenants/base/team-a/tenant.yaml: ServiceAccount team-a/team-a: namespace team-a is not "
            "created by anything in this layout",
        ),
    ],
)
def test_multitenancy_breakages(tmp_path: Path, old: str, new: str, expected: str) -> None:
    root = multitenant(tmp_path)
    edit(root, "tenants/base/team-a/tenant.yaml", old, new)
    assert expected in lines(run(root, "clusters/prod", provided=set()))


GENERATOR = """apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata:
  name: split
  namespace: flux-system
spec:
  sources:
    - alias: repo
      kind: GitRepository
      name: flux-system
  artifacts:
    - name: platform
      copy:
        - from: "@repo/platform/**"
          to: "@artifact/"
          exclude: ["**/*.md"]
    - name: web
      copy:
        - from: "@repo/apps/base/web/*.yaml"
          to: "@artifact/base/web/"
        - from: "@repo/apps/production/**"
          to: "@artifact/production/"
"""


def artifact_layout(root: Path) -> Path:
    monorepo(root)
    return write_all(
        root,
        {
            "platform/infra/kustomization.yaml": "resources:\n  - redis.yaml\n",
            "platform/infra/redis.yaml": HELM,
            "platform/README.md": "docs\n",
            "clusters/edge/artifacts.yaml": GENERATOR,
            "clusters/edge/platform.yaml": ks(
                "platform", "./infra", source="ExternalArtifact", source_name="platform"
            ),
            "clusters/edge/web.yaml": ks(
                "web",
                "./production",
                "  dependsOn:\n    - name: platform\n",
                source="ExternalArtifact",
                source_name="web",
            ),
        },
    )


def test_artifactgenerator_layout_is_composed_and_built(tmp_path: Path) -> None:
    report = run(artifact_layout(tmp_path), "clusters/edge", provided=set())
    assert lines(report) == []
    assert report.builds == 3 and report.objects == 9
    assert report.not_checked == [
        "Helm chart contents and values of 1 HelmRelease(s) (charts are not downloaded)",
        # Its HelmRelease uses a HelmRepository in flux-system: fine unless the controllers run
        # locked down, which verify does not assume without --stack (tests/fleet/test_lockdown.py).
        "platform/infra/redis.yaml: HelmRelease redis/redis: chart.spec.sourceRef HelmRepository "
        "flux-system/bitnami is in another namespace, which the controllers refuse with "
        "--no-cross-namespace-refs (FLUX-LOCKDOWN, the agent's default); not assumed here (pass --stack "
        "STACK, or --no-cross-namespace-refs)",
    ]


def test_artifactgenerator_breakages(tmp_path: Path) -> None:
    root = artifact_layout(tmp_path)
    edit(root, "clusters/edge/web.yaml", "name: web\n  namespace", "name: web\n  namespace")
    edit(root, "clusters/edge/web.yaml", "    name: web\n", "    name: webb\n")
    found = lines(run(root, "clusters/edge", provided=set()))
    assert (
        "error: clusters/edge/web.yaml: Kustomization flux-system/web: sourceRef ExternalArtifact "
        "flux-system/webb "
        "not found" in found
    )
    # An artifact that does not keep the folder structure the overlay expects.
    root3 = artifact_layout(tmp_path / "three")
    edit(root3, "clusters/edge/artifacts.yaml", '"@artifact/base/web/"', '"@artifact/base/"')
    assert lines(run(root3, "clusters/edge", provided=set())) == [
        "error: ExternalArtifact flux-system/web:production: Kustomization flux-system/web: kustomize build "
        "failed: open base/web: no such file or directory"
    ]
    root2 = artifact_layout(tmp_path / "two")
    edit(root2, "apps/base/web/deployment.yaml", "  replicas: 1", "  replicas: 1\n  replica: 1")
    assert (
        "error: apps/base/web/deployment.yaml: Deployment web/web: spec.replica: field not declared in schema"
        in lines(run(root2, "clusters/edge", provided=set()))
    )


FLUXINSTANCE = """apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata:
  name: flux
  namespace: flux-system
spec:
  distribution:
    version: "2.x"
    registry: ghcr.io/fluxcd
  components:
    - source-controller
    - kustomize-controller
    - helm-controller
    - notification-controller
  cluster:
    type: aws
  sync:
    kind: OCIRepository
    url: oci://123456789012.dkr.ecr.eu-west-1.amazonaws.com/fleet
    ref: latest
    path: clusters/dev
    provider: aws
"""


def oci_layout(root: Path) -> Path:
    monorepo(root)
    return write_all(
        root,
        {
            "clusters/dev/flux-instance.yaml": FLUXINSTANCE,
            "clusters/dev/infrastructure.yaml": ks(
                "infrastructure", "./infrastructure", source="OCIRepository"
            ),
            "clusters/dev/apps.yaml": ks(
                "apps",
                "./apps/staging",
                "  dependsOn:\n    - name: infrastructure\n    - name: flux-system\n",
                source="OCIRepository",
            ),
        },
    )


def test_oci_synced_via_fluxinstance(tmp_path: Path) -> None:
    report = run(oci_layout(tmp_path), "clusters/dev", provided=set())
    # OCIRepository flux-system/flux-system (the FluxInstance's sync) is the repository's content.
    assert lines(report) == []
    assert report.builds == 3


def test_a_resourceset_is_validated_and_its_templates_listed(tmp_path: Path) -> None:
    root = oci_layout(tmp_path)
    resourceset = (
        "apiVersion: fluxcd.controlplane.io/v1\nkind: ResourceSet\nmetadata:\n  name: tenants\n"
        "  namespace: flux-system\nspec:\n  inputs:\n    - tenant: a\n  resources:\n"
        "    - apiVersion: v1\n      kind: Namespace\n      metadata:\n        name: << inputs.tenant >>\n"
    )
    write_all(root, {"clusters/dev/tenants.yaml": resourceset})
    report = run(root, "clusters/dev", provided=set())
    assert lines(report) == []
    assert (
        "clusters/dev/tenants.yaml: ResourceSet flux-system/tenants: the objects it templates are not "
        "rendered" in report.not_checked
    )
    write_all(root, {"clusters/dev/tenants.yaml": resourceset.replace("  inputs:", "  input:")})
    assert (
        "error: clusters/dev/tenants.yaml: ResourceSet flux-system/tenants: spec.input: field not declared "
        "in schema" in lines(run(root, "clusters/dev", provided=set()))
    )


def test_oci_fluxinstance_breakages(tmp_path: Path) -> None:
    root = oci_layout(tmp_path)
    edit(root, "clusters/dev/flux-instance.yaml", "  cluster:\n    type: aws", "  cluster:\n    typ: aws")
    edit(
        root,
        "clusters/dev/apps.yaml",
        "kind: OCIRepository\n    name: flux-system",
        "kind: OCIRepository\n    name: fleet",
    )
    found = lines(run(root, "clusters/dev", provided=set()))
    assert (
        "error: clusters/dev/flux-instance.yaml: FluxInstance flux-system/flux: spec.cluster.typ: field not "
        "declared in schema" in found
    )
    assert (
        "error: clusters/dev/apps.yaml: Kustomization flux-system/apps: sourceRef OCIRepository "
        "flux-system/fleet "
        "not found" in found
    )


def hub_and_spoke(root: Path) -> Path:
    files = {
        "apps/base/web/kustomization.yaml": "resources:\n  - namespace.yaml\n  - deployment.yaml\n",
        "apps/base/web/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n",
        "apps/base/web/deployment.yaml": DEPLOYMENT,
    }
    for spoke in ("eu", "us"):
        files[f"clusters/hub/spoke-{spoke}.yaml"] = ks(
            f"web-{spoke}",
            "./apps/base/web",
            f"  kubeConfig:\n    secretRef:\n      name: {spoke}-kubeconfig\n      key: value\n"
            f"  commonMetadata:\n    labels:\n      spoke: {spoke}\n",
        )
    return write_all(root, files)


def test_hub_and_spoke(tmp_path: Path) -> None:
    report = run(hub_and_spoke(tmp_path), "clusters/hub", provided=set())
    assert lines(report) == []
    assert report.objects == 2 + 2 * 2
    assert sum("applies to a remote cluster (kubeConfig)" in n for n in report.not_checked) == 2


def test_hub_and_spoke_breakages(tmp_path: Path) -> None:
    root = hub_and_spoke(tmp_path)
    edit(root, "apps/base/web/deployment.yaml", "  replicas: 1", "  replicas: 1\n  replica: 1")
    edit(root, "clusters/hub/spoke-eu.yaml", "      key: value\n", "      key: value\n    extra: x\n")
    found = lines(run(root, "clusters/hub", provided=set()))
    assert (
        "error: apps/base/web/deployment.yaml: Deployment web/web: spec.replica: field not declared in schema"
        in found
    )
    assert (
        "error: clusters/hub/spoke-eu.yaml: Kustomization flux-system/web-eu: spec.kubeConfig.extra: field "
        "not "
        "declared in schema" in found
    )
