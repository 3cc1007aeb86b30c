"""verify on the shipped scaffold: clean for every agent and option, and every breakage class of
issue 8 caught with the right severity (real kustomize, upstream schemas)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from eksgitops.fleet.findings import ERROR, POLICY
from tests.fleet.helpers import append, edit, lines, run, scaffold_tree, write

TEAM_KS = """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: team-a
  namespace: flux-system
spec:
  interval: 10m
  prune: true
  targetNamespace: team-a
  path: ./teams/a
  sourceRef:
    kind: GitRepository
    name: flux-system
"""
SECRET = (
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: podinfo\nstringData:\n  password: x\n"
)


@pytest.mark.parametrize(("agent", "image_automation"), [("flux", False), ("flux", True), ("argocd", False)])
@pytest.mark.parametrize("env", ["dev", "prod"])
def test_scaffold_builds_and_validates_strictly_with_zero_findings(
    tmp_path: Path, agent: str, env: str, image_automation: bool
) -> None:
    root = scaffold_tree(tmp_path, env=env, agent=agent, image_automation=image_automation)
    report = run(root, f"clusters/{env}", agent=agent)
    assert lines(report) == []
    if agent == "flux":
        # clusters/<env>, crds, controllers, configs and apps: five real kustomize builds.
        assert report.builds == 5
        assert report.objects >= 30 + (3 if image_automation else 0)
        # What lies outside the repository is named, not silently passed.
        assert any("gateway-api" in n and "not built" in n for n in report.not_checked)
        assert any("HelmRelease(s)" in n for n in report.not_checked)
    else:
        assert report.builds == 2 and report.objects >= 7
        assert any("ApplicationSet argocd/infrastructure-controllers" in n for n in report.not_checked)


Breakage = Callable[[Path], None]


def both(*_: object) -> None:
    """Lets a one-line breakage make several edits."""


# (breakage, expected substring of one finding line, severity)
CASES: dict[str, tuple[Breakage, str, str]] = {
    "duplicate id in a kustomization": (
        lambda r: append(
            r,
            "apps/base/podinfo/namespace.yaml",
            "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: podinfo\n",
        ),
        "may not add resource with an already registered id: Namespace.v1.[noGrp]/podinfo",
        ERROR,
    ),
    "duplicate id in a folder Flux generates a kustomization for": (
        lambda r: both(write(r, "clusters/dev/apps-copy.yaml", (r / "clusters/dev/apps.yaml").read_text())),
        "clusters/dev: Kustomization flux-system/flux-system: kustomize build failed: merging resources from "
        "'./apps.yaml': may not add resource with an already registered id: "
        "Kustomization.v1.kustomize.toolkit.fluxcd.io/apps.flux-system",
        ERROR,
    ),
    "misspelled field of a Flux Kustomization": (
        lambda r: edit(r, "clusters/dev/apps.yaml", "  interval: 10m", "  intervall: 10m"),
        "clusters/dev/apps.yaml: Kustomization flux-system/apps: spec.intervall: field not declared in "
        "schema",
        ERROR,
    ),
    "lower-case sourceref": (
        lambda r: edit(r, "clusters/dev/apps.yaml", "  sourceRef:", "  sourceref:"),
        "Kustomization flux-system/apps: spec.sourceRef: required field missing",
        ERROR,
    ),
    "Deployment replica": (
        lambda r: edit(r, "apps/base/podinfo/deployment.yaml", "  minReadySeconds: 5", "  replica: 2"),
        "apps/base/podinfo/deployment.yaml: Deployment podinfo/podinfo: spec.replica: field not declared in "
        "schema",
        ERROR,
    ),
    "Kustomization v1beta2": (
        lambda r: edit(
            r,
            "clusters/dev/apps.yaml",
            "kustomize.toolkit.fluxcd.io/v1",
            "kustomize.toolkit.fluxcd.io/v1beta2",
        ),
        "Kustomization flux-system/apps: apiVersion kustomize.toolkit.fluxcd.io/v1beta2 of Kustomization is "
        "not "
        "served by the installed CRD (served: kustomize.toolkit.fluxcd.io/v1)",
        ERROR,
    ),
    "HelmRepository v1beta2": (
        lambda r: edit(
            r,
            "infrastructure/controllers/sources.yaml",
            "source.toolkit.fluxcd.io/v1",
            "source.toolkit.fluxcd.io/v1beta2",
        ),
        "HelmRepository flux-system/flagger: apiVersion source.toolkit.fluxcd.io/v1beta2 of HelmRepository "
        "is not served",
        ERROR,
    ),
    "HelmRelease v2beta1": (
        lambda r: edit(
            r,
            "infrastructure/controllers/metrics-server.yaml",
            "helm.toolkit.fluxcd.io/v2",
            "helm.toolkit.fluxcd.io/v2beta1",
        ),
        "HelmRelease flux-system/metrics-server: apiVersion helm.toolkit.fluxcd.io/v2beta1 of HelmRelease "
        "is not served",
        ERROR,
    ),
    "HelmRelease v2beta2": (
        lambda r: edit(
            r,
            "infrastructure/controllers/metrics-server.yaml",
            "helm.toolkit.fluxcd.io/v2",
            "helm.toolkit.fluxcd.io/v2beta2",
        ),
        "apiVersion helm.toolkit.fluxcd.io/v2beta2 of HelmRelease is not served",
        ERROR,
    ),
    "missing required field": (
        lambda r: edit(r, "infrastructure/controllers/metrics-server.yaml", "  interval: 1h\n", ""),
        "HelmRelease flux-system/metrics-server: spec.interval: required field missing",
        ERROR,
    ),
    "unquoted chart version read as a float": (
        lambda r: edit(
            r, "infrastructure/controllers/metrics-server.yaml", 'version: "3.13.1"', "version: 3.13"
        ),
        "HelmRelease flux-system/metrics-server: spec.chart.spec.version: 3.13 is not of type string",
        ERROR,
    ),
    "configMapGenerator with a missing file": (
        lambda r: append(
            r,
            "apps/dev/kustomization.yaml",
            "configMapGenerator:\n  - name: cfg\n    files:\n      - app.properties\n",
        ),
        "apps/dev: Kustomization flux-system/apps: kustomize build failed:",
        ERROR,
    ),
    "helmCharts in a kustomization": (
        lambda r: append(
            r,
            "apps/dev/kustomization.yaml",
            "helmCharts:\n  - name: podinfo\n    repo: https://stefanprodan.github.io/podinfo\n    version: "
            "6.7.1\n",
        ),
        "apps/dev/kustomization.yaml: Kustomization flux-system/apps: kustomize build failed: helmCharts: "
        "Flux's "
        "kustomize-controller does not inflate Helm charts; use a HelmRelease",
        ERROR,
    ),
    "resources folder without a kustomization": (
        lambda r: both(
            write(
                r,
                "apps/base/podinfo/extra/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: podinfo\n",
            ),
            edit(r, "apps/base/podinfo/kustomization.yaml", "  - hpa.yaml", "  - hpa.yaml\n  - extra"),
        ),
        "apps/dev: Kustomization flux-system/apps: kustomize build failed:",
        ERROR,
    ),
    "unknown kustomization field": (
        lambda r: edit(r, "apps/base/podinfo/kustomization.yaml", "resources:", "resourcess:"),
        "apps/dev: Kustomization flux-system/apps: kustomize build failed: apps/base/podinfo: invalid "
        'Kustomization: json: unknown field "resourcess"',
        ERROR,
    ),
    "duplicate YAML key": (
        lambda r: edit(
            r, "apps/base/podinfo/hpa.yaml", "  minReplicas: 2", "  minReplicas: 2\n  minReplicas: 3"
        ),
        "apps/dev: Kustomization flux-system/apps: kustomize build failed:",
        ERROR,
    ),
    "the Kustomization's own spec.patches are applied": (
        lambda r: append(
            r,
            "clusters/dev/apps.yaml",
            "  patches:\n    - target:\n        kind: HorizontalPodAutoscaler\n      patch: |\n"
            "        - op: replace\n          path: /spec/minReplicas\n          value: two\n",
        ),
        "apps/base/podinfo/hpa.yaml: HorizontalPodAutoscaler podinfo/podinfo: spec.minReplicas: 'two' is "
        "not of type integer",
        ERROR,
    ),
    "targetNamespace nothing creates": (
        lambda r: both(
            write(r, "clusters/dev/team.yaml", TEAM_KS),
            write(
                r,
                "teams/a/settings.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n",
            ),
        ),
        "teams/a/settings.yaml: ConfigMap team-a/settings: namespace team-a is not created by anything in "
        "this layout",
        ERROR,
    ),
    "namespaced object without a namespace": (
        lambda r: edit(r, "apps/base/podinfo/hpa.yaml", "  namespace: podinfo\n", ""),
        "apps/base/podinfo/hpa.yaml: HorizontalPodAutoscaler podinfo: namespaced HorizontalPodAutoscaler "
        "without a namespace",
        ERROR,
    ),
    "object in a namespace nothing creates": (
        lambda r: edit(
            r,
            "infrastructure/controllers/metrics-server.yaml",
            "  namespace: flux-system\n",
            "  namespace: metrics\n",
        ),
        "HelmRelease metrics/metrics-server: namespace metrics is not created by anything in this layout",
        ERROR,
    ),
    "health check of something nothing applies": (
        lambda r: edit(
            r, "clusters/dev/infrastructure.yaml", "      name: flagger\n", "      name: flager\n"
        ),
        "Kustomization flux-system/infrastructure-controllers: healthChecks HelmRelease "
        "flux-system/flager is "
        "applied by nothing in this layout",
        ERROR,
    ),
    "dependsOn nothing": (
        lambda r: edit(
            r, "clusters/dev/apps.yaml", "- name: infrastructure-configs", "- name: infra-configs"
        ),
        "clusters/dev/apps.yaml: Kustomization flux-system/apps: dependsOn Kustomization "
        "flux-system/infra-configs not found",
        ERROR,
    ),
    "HelmRelease sourceRef nothing": (
        lambda r: edit(
            r,
            "infrastructure/controllers/metrics-server.yaml",
            "kind: HelmRepository\n        name: metrics-server\n",
            "kind: HelmRepository\n        name: ms\n",
        ),
        "HelmRelease flux-system/metrics-server: chart.spec.sourceRef HelmRepository flux-system/ms not "
        "found",
        ERROR,
    ),
    "path of a Flux Kustomization missing": (
        lambda r: edit(r, "clusters/dev/apps.yaml", "path: ./apps/dev", "path: ./apps/qa"),
        "clusters/dev/apps.yaml: Kustomization flux-system/apps: spec.path ./apps/qa not found in repository",
        ERROR,
    ),
    "invalid regex in a patch target": (
        lambda r: append(
            r,
            "clusters/dev/apps.yaml",
            '  patches:\n    - target:\n        name: "podinfo["\n      patch: |\n'
            "        - op: add\n          path: /metadata/labels/x\n          value: y\n",
        ),
        "apps/dev: Kustomization flux-system/apps: kustomize build failed:",
        ERROR,
    ),
    "variable nobody provides": (
        lambda r: edit(r, "infrastructure/configs/gateway.yaml", "${cluster_name}", "${cluster_nmae}"),
        "infrastructure/configs/gateway.yaml: Gateway gateway/public: ${cluster_nmae} has no value under "
        "Kustomization flux-system/infrastructure-configs: Flux substitutes an empty string",
        POLICY,
    ),
    "plaintext Secret": (
        lambda r: both(
            write(r, "apps/base/podinfo/secret.yaml", SECRET),
            edit(r, "apps/base/podinfo/kustomization.yaml", "  - hpa.yaml", "  - hpa.yaml\n  - secret.yaml"),
        ),
        "apps/base/podinfo/secret.yaml: Secret podinfo/db: plaintext Secret in Git (encrypt it with SOPS)",
        POLICY,
    ),
    "ranged chart version": (
        lambda r: edit(r, "infrastructure/controllers/flagger.yaml", 'version: "1.43.0"', 'version: "1.x"'),
        "HelmRelease flux-system/flagger: chart flagger version '1.x' is not an exact version",
        POLICY,
    ),
    "chart without a version": (
        lambda r: edit(r, "infrastructure/controllers/metrics-server.yaml", '      version: "3.13.1"\n', ""),
        "HelmRelease flux-system/metrics-server: chart metrics-server has no version",
        POLICY,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_breakage_class_is_caught(tmp_path: Path, case: str) -> None:
    root = scaffold_tree(tmp_path)
    breakage, expected, severity = CASES[case]
    breakage(root)
    report = run(root)
    found = [f for f in report.findings if expected in str(f)]
    assert found, lines(report)
    assert {f.severity for f in found} == {severity}, found
    if severity == POLICY:
        assert report.errors == [], lines(report)
