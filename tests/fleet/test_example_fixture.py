"""verify and bootstrap on a fleet laid out with an ArtifactGenerator (fixtures/artifact-generator-fleet).

The fixture is our own staging fleet: `clusters/staging` declares an ArtifactGenerator that cuts
the repository into three ExternalArtifacts (platform-controllers, platform-configs, workloads),
and the Flux Kustomizations build those. The controllers are Traefik and cert-manager from
OCIRepositories with semver ranges, the configs use their CRDs (ClusterIssuer, Certificate,
Middleware), and podinfo is a HelmRelease on a chart version range with a staging values patch.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.fleet.conftest import git, invoke, log
from tests.fleet.helpers import edit, lines, run

FLEET = Path(__file__).parent / "fixtures" / "artifact-generator-fleet"


def copy(tmp_path: Path) -> Path:
    root = tmp_path / "fleet"
    shutil.copytree(FLEET, root)
    return root


def test_only_the_ranged_charts_are_reported_and_only_as_policy(tmp_path: Path) -> None:
    report = run(copy(tmp_path), "clusters/staging", provided=set(), urls=set())
    assert lines(report) == [
        "policy: apps/base/podinfo/release.yaml: HelmRelease podinfo/podinfo: chart podinfo version "
        "'6.x' is not an exact version",
        # The same class of risk (a semver range for the chart), through chartRef -> OCIRepository.
        "policy: infrastructure/controllers/cert-manager.yaml: HelmRelease certificates/cert-manager: chart "
        "OCIRepository certificates/cert-manager-chart version '>=1.19.0 <1.20.0' is not an exact version",
        "policy: infrastructure/controllers/traefik.yaml: HelmRelease ingress/traefik: chart "
        "OCIRepository ingress/traefik-chart version '^37.1.0' is not an exact version",
    ]
    # The three ExternalArtifacts of the ArtifactGenerator were composed and built, not reported
    # missing: clusters/staging (generator + 3 Kustomizations), controllers (2 Namespaces,
    # 2 OCIRepositories, 2 HelmReleases), configs (2 ClusterIssuers, Certificate, Middleware),
    # workloads (Namespace, HelmRepository, HelmRelease).
    assert report.builds == 4 and report.objects == 17
    # Nothing else went unbuilt: no source outside the repository, no cross-namespace reference.
    assert report.not_checked == [
        "Helm chart contents and values of 3 HelmRelease(s) (charts are not downloaded)"
    ]
    assert report.unvalidated_kinds == [
        "cert-manager.io/v1 Certificate",
        "cert-manager.io/v1 ClusterIssuer",
        "traefik.io/v1alpha1 Middleware",
    ]


def test_the_staging_patch_reaches_the_release_only_through_its_target(tmp_path: Path) -> None:
    """kustomize patches by target: a patch written with an old apiVersion still patches the v2
    release (which stays v2, served); without the target it matches nothing and the build fails."""
    root = copy(tmp_path)
    assert run(root, "clusters/staging", provided=set(), urls=set()).errors == []
    old, new = "helm.toolkit.fluxcd.io/v2\n", "helm.toolkit.fluxcd.io/v2beta1\n"
    edit(root, "apps/staging/podinfo-values.yaml", old, new)
    assert run(root, "clusters/staging", provided=set(), urls=set()).errors == []
    target = "    target:\n      kind: HelmRelease\n      name: podinfo\n"
    edit(root, "apps/staging/kustomization.yaml", target, "")
    report = run(root, "clusters/staging", provided=set(), urls=set())
    assert any("kustomize build failed" in f.message for f in report.errors), lines(report)


def test_a_broken_file_inside_an_artifact_is_reported_at_its_repository_path(tmp_path: Path) -> None:
    root = copy(tmp_path)
    edit(root, "infrastructure/controllers/cert-manager.yaml", "  interval: 1h", "  intervall: 1h")
    assert (
        "error: infrastructure/controllers/cert-manager.yaml: HelmRelease certificates/cert-manager: "
        "spec.intervall: field not declared in schema"
    ) in lines(run(root, "clusters/staging", provided=set(), urls=set()))
    edit(root, "clusters/staging/workloads.yaml", "path: ./staging", "path: ./stagin")
    assert (
        "error: clusters/staging/workloads.yaml: Kustomization flux-system/workloads: spec.path ./stagin not "
        "found in ExternalArtifact flux-system/workloads"
    ) in lines(run(root, "clusters/staging", provided=set(), urls=set()))


def test_an_artifact_without_the_overlay_is_an_error_at_the_kustomization(tmp_path: Path) -> None:
    """The overlay reaches the workloads artifact only through its copy rule."""
    root = copy(tmp_path)
    edit(root, "clusters/staging/bundles.yaml", '"@fleet/apps/staging/**"', '"@fleet/apps/production/**"')
    assert (
        "error: clusters/staging/workloads.yaml: Kustomization flux-system/workloads: spec.path ./staging "
        "not found in ExternalArtifact flux-system/workloads"
    ) in lines(run(root, "clusters/staging", provided=set(), urls=set()))


def test_bootstrap_into_the_fleet_refuses_cleanly(cli, bare_remote: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    git("init", "-q", "--initial-branch=main", str(work))
    shutil.copytree(FLEET, work, dirs_exist_ok=True)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "the fleet", cwd=work)
    git("remote", "add", "origin", str(bare_remote), cwd=work)
    git("push", "-q", "origin", "main", cwd=work)
    before = log(bare_remote)
    result = invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", "dev")
    assert result.exit_code == 1, result.output
    for layer in ("apps/base/podinfo/", "infrastructure/configs/", "infrastructure/controllers/"):
        assert f"kept, existing layout not created by eksgitops: {layer}" in result.stdout
    assert "no matches for Id Canary.v1beta1.flagger.app/podinfo.podinfo" in result.stdout
    assert "Traceback" not in result.output
    assert result.stderr.strip().endswith("nothing was pushed")
    assert log(bare_remote) == before
    # The fleet itself still verifies as before: its staging path was not touched.
    again = invoke(cli, "verify", "--repo", str(bare_remote), "--env", "staging")
    assert again.exit_code == 3, again.output
    assert again.stdout.count("policy: ") == 3
