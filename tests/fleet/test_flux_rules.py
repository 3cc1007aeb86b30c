"""Flux's own rules (issue 23.6, issue 22.5): a `dependsOn` cycle never reconciles; schemas are
those of the cluster's Kubernetes version."""

from __future__ import annotations

from pathlib import Path

from eksgitops.fleet.schema import kubernetes_versions
from eksgitops.fleet.verify import VerifyRequest, verify
from eksgitops.fleet.verify.checks.depends import _cycles
from tests.fleet.conftest import clone, git, invoke
from tests.fleet.helpers import lines, run, write_all
from tests.fleet.test_stack_bridge import bridge


def ks(name: str, path: str, depends: tuple[str, ...] = ()) -> str:
    deps = "".join(f"    - name: {d}\n" for d in depends)
    return (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        f"metadata:\n  name: {name}\n  namespace: flux-system\n"
        f"spec:\n  interval: 10m\n  prune: true\n  path: {path}\n"
        "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
        + (f"  dependsOn:\n{deps}" if deps else "")
    )


NS = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"


def fleet(root: Path, infra_deps: tuple[str, ...]) -> Path:
    """Home-lab order: crds, then infra (controllers), then configs, then apps."""
    return write_all(
        root,
        {
            "clusters/dev/crds.yaml": ks("crds", "./infrastructure/crds"),
            "clusters/dev/infra.yaml": ks("infra", "./infrastructure/controllers", ("crds", *infra_deps)),
            "clusters/dev/configs.yaml": ks("configs", "./infrastructure/configs", ("infra",)),
            "clusters/dev/apps.yaml": ks("apps", "./apps", ("infra", "configs")),
            "infrastructure/crds/ns.yaml": NS.format(name="crds"),
            "infrastructure/controllers/ns.yaml": NS.format(name="controllers"),
            "infrastructure/configs/ns.yaml": NS.format(name="configs"),
            "apps/ns.yaml": NS.format(name="apps"),
        },
    )


def test_a_dependency_order_without_a_ring_passes(tmp_path: Path) -> None:
    assert lines(run(fleet(tmp_path, ()))) == []


def test_a_ring_of_dependencies_is_an_error(tmp_path: Path) -> None:
    assert lines(run(fleet(tmp_path, ("apps",)))) == [
        "error: clusters/dev/apps.yaml: dependsOn cycle: Kustomization flux-system/apps -> "
        "Kustomization flux-system/infra -> Kustomization flux-system/apps; Flux waits on each of "
        "them forever and none reconciles"
    ]


def test_depending_on_itself_is_an_error(tmp_path: Path) -> None:
    found = lines(run(fleet(tmp_path, ("infra",))))
    assert found == [
        "error: clusters/dev/infra.yaml: dependsOn cycle: Kustomization flux-system/infra -> "
        "Kustomization flux-system/infra; Flux waits on each of them forever and none reconciles"
    ]


def test_rings_are_found_in_long_chains_without_recursion() -> None:
    chain = {
        ("Kustomization", "ns", f"k{i:05}"): [("Kustomization", "ns", f"k{i + 1:05}")] for i in range(20000)
    }
    chain[("Kustomization", "ns", "k20000")] = [("Kustomization", "ns", "k00000")]
    rings = _cycles(chain)
    assert len(rings) == 1 and len(rings[0]) == 20001
    chain[("Kustomization", "ns", "k20000")] = []
    assert _cycles(chain) == []


VAC = """apiVersion: storage.k8s.io/v1
kind: VolumeAttributesClass
metadata:
  name: fast
driverName: ebs.csi.aws.com
parameters:
  iops: "6000"
"""


def versioned(root: Path) -> Path:
    """A storage layer using an API that became GA in Kubernetes 1.34."""
    return write_all(
        root,
        {
            "clusters/dev/storage.yaml": ks("storage", "./infrastructure/storage"),
            "infrastructure/storage/vac.yaml": VAC,
        },
    )


def test_schemas_are_the_clusters_kubernetes_version(tmp_path: Path) -> None:
    versioned(tmp_path)
    assert (
        lines(verify(VerifyRequest("clusters/dev", agent="flux", kubernetes_version="1.36"), tmp_path)) == []
    )
    assert lines(
        verify(VerifyRequest("clusters/dev", agent="flux", kubernetes_version="1.33"), tmp_path)
    ) == [
        "error: infrastructure/storage/vac.yaml: VolumeAttributesClass fast: apiVersion storage.k8s.io/v1 "
        "of VolumeAttributesClass is not served by Kubernetes 1.33 "
        "(served: storage-v1alpha1, storage-v1beta1)"
    ]


def test_a_version_without_shipped_schemas_is_checked_against_the_newest_and_says_so(tmp_path: Path) -> None:
    versioned(tmp_path)
    report = verify(VerifyRequest("clusters/dev", agent="flux", kubernetes_version="1.99"), tmp_path)
    assert lines(report) == []
    assert report.printed_notes == [
        f"no built-in schemas shipped for Kubernetes 1.99; checked against {kubernetes_versions()[-1]}'s"
    ]


def _pushed(remote: Path, tmp_path: Path) -> None:
    work = clone(remote, tmp_path / "work") if (remote / "refs/heads/main").exists() else None
    if work is None:
        work = tmp_path / "work"
        git("init", "-q", "--initial-branch=main", str(work))
        git("remote", "add", "origin", str(remote), cwd=work)
    versioned(work)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "storage", cwd=work)
    git("push", "-q", "origin", "main", cwd=work)


def test_verify_stack_uses_the_stacks_kubernetes_version(cli, bare_remote: Path, tmp_path: Path) -> None:
    _pushed(bare_remote, tmp_path)
    args = ["verify", "--repo", str(bare_remote), "--env", "dev", "--stack", "dev"]
    build = bridge(tmp_path, identities=(), kubernetesVersion="1.33")
    result = invoke(cli, *args, "--build-dir", str(build))
    assert result.exit_code == 1, result.output
    assert "is not served by Kubernetes 1.33" in result.stdout
    build = bridge(tmp_path, identities=(), kubernetesVersion="1.36")
    assert invoke(cli, *args, "--build-dir", str(build)).exit_code == 0


def test_the_kubernetes_version_flag(cli, bare_remote: Path, tmp_path: Path) -> None:
    _pushed(bare_remote, tmp_path)
    args = ["verify", "--repo", str(bare_remote), "--env", "dev", "--var", "x"]
    result = invoke(cli, *args, "--kubernetes-version", "1.33")
    assert result.exit_code == 1 and "is not served by Kubernetes 1.33" in result.stdout
    assert invoke(cli, *args, "--kubernetes-version", "1.36").exit_code == 0
    result = invoke(cli, *args, "--kubernetes-version", "1.3x")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --kubernetes-version: '1.3x' is not a Kubernetes minor version")
    assert len(result.stderr.strip().splitlines()) == 1
    result = invoke(cli, *args, "--kubernetes-version", "1.99")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: --kubernetes-version: '1.99' has no shipped schemas (allowed: 1.25,"
    )
    assert len(result.stderr.strip().splitlines()) == 1


def test_bridge_kubernetes_version_must_look_like_one(cli, bare_remote: Path, tmp_path: Path) -> None:
    build = bridge(tmp_path, kubernetesVersion=1.33)
    result = invoke(
        cli, "verify", "--repo", str(bare_remote), "--env", "dev", "--stack", "dev", "--build-dir", str(build)
    )
    assert result.exit_code == 2
    assert 'kubernetesVersion must be a version such as "1.36"' in result.stderr
