"""verify and bootstrap on a copy of fluxcd/flux2-kustomize-helm-example (see fixtures/…/NOTICE.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.fleet.conftest import git, invoke, log
from tests.fleet.helpers import edit, lines, run

EXAMPLE = Path(__file__).parent / "fixtures" / "flux2-kustomize-helm-example"


def copy(tmp_path: Path) -> Path:
    root = tmp_path / "example"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("NOTICE.md"))
    return root


def test_only_the_ranged_charts_are_reported_and_only_as_policy(tmp_path: Path) -> None:
    report = run(copy(tmp_path), "clusters/staging", provided=set(), urls=set())
    assert lines(report) == [
        "policy: apps/base/podinfo/release.yaml: HelmRelease podinfo/podinfo: chart podinfo version "
        "'>=1.0.0-alpha' is not an exact version",
        # The same class of risk (a semver range for the chart), through chartRef -> OCIRepository.
        "policy: infrastructure/controllers/cert-manager.yaml: HelmRelease cert-manager/cert-manager: chart "
        "OCIRepository cert-manager/cert-manager version '1.x' is not an exact version",
        "policy: infrastructure/controllers/envoy-gateway.yaml: HelmRelease "
        "envoy-gateway-system/envoy-gateway: "
        "chart OCIRepository envoy-gateway-system/gateway-helm version '>= 1.8.0-rc.0' is not an exact "
        "version",
    ]
    # The ExternalArtifacts of the ArtifactGenerator were composed and built, not reported missing.
    assert report.builds == 4 and report.objects == 16
    assert report.unvalidated_kinds == [
        "cert-manager.io/v1 ClusterIssuer",
        "gateway.networking.k8s.io/v1 Gateway",
        "gateway.networking.k8s.io/v1 GatewayClass",
    ]


def test_a_values_patch_with_an_old_apiversion_does_not_change_the_release(tmp_path: Path) -> None:
    """The stored patch says v2beta1; kustomize patches by target, so the release stays v2 (served)."""
    root = copy(tmp_path)
    assert "helm.toolkit.fluxcd.io/v2beta1" in (root / "apps/staging/podinfo-values.yaml").read_text()
    assert run(root, "clusters/staging", provided=set(), urls=set()).errors == []
    # Without the target the patch is matched by its own apiVersion, finds nothing, and kustomize fails.
    edit(root, "apps/staging/kustomization.yaml", "    target:\n      kind: HelmRelease\n", "")
    report = run(root, "clusters/staging", provided=set(), urls=set())
    assert any("kustomize build failed" in f.message for f in report.errors), lines(report)


def test_a_broken_file_inside_an_artifact_is_reported_at_its_repository_path(tmp_path: Path) -> None:
    root = copy(tmp_path)
    edit(root, "infrastructure/controllers/cert-manager.yaml", "  interval: 12h", "  intervall: 12h")
    assert (
        "error: infrastructure/controllers/cert-manager.yaml: HelmRelease cert-manager/cert-manager: "
        "spec.intervall: field not declared in schema"
    ) in lines(run(root, "clusters/staging", provided=set(), urls=set()))
    edit(root, "clusters/staging/apps.yaml", "path: ./staging", "path: ./stagin")
    assert (
        "error: clusters/staging/apps.yaml: Kustomization flux-system/apps: spec.path ./stagin not found in "
        "ExternalArtifact flux-system/apps"
    ) in lines(run(root, "clusters/staging", provided=set(), urls=set()))


def test_bootstrap_into_the_example_refuses_cleanly(cli, bare_remote: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    git("init", "-q", "--initial-branch=main", str(work))
    shutil.copytree(EXAMPLE, work, dirs_exist_ok=True)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "the example", cwd=work)
    git("remote", "add", "origin", str(bare_remote), cwd=work)
    git("push", "-q", "origin", "main", cwd=work)
    before = log(bare_remote)
    result = invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", "dev")
    assert result.exit_code == 1, result.output
    assert "kept, existing layout not created by eksgitops: apps/base/podinfo/" in result.stdout
    assert "no matches for Id Canary.v1beta1.flagger.app/podinfo.podinfo" in result.stdout
    assert "Traceback" not in result.output
    assert result.stderr.strip().endswith("nothing was pushed")
    assert log(bare_remote) == before
    # The example itself still verifies as before: its staging path was not touched.
    again = invoke(cli, "verify", "--repo", str(bare_remote), "--env", "staging")
    assert again.exit_code == 3, again.output
    assert again.stdout.count("policy: ") == 3
