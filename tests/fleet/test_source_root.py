"""The source's root (issue 23.5): a layout pushed as an OCI artifact from a subfolder (or synced
by a GitRepository of a subfolder) names its paths from there. Verify says where the paths are,
and `--root` verifies the layout as the agent sees it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from eksgitops.fleet.verify import verify
from tests.fleet.conftest import git, invoke
from tests.fleet.helpers import lines, request, write_all

KS = """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: apps
  namespace: flux-system
spec:
  interval: 10m
  prune: true
  path: ./apps
  sourceRef:
    kind: OCIRepository
    name: flux-system
"""


def layout(root: Path) -> Path:
    return write_all(
        root,
        {
            "README.md": "the manifests live under deploy/, pushed with `flux push artifact`\n",
            "deploy/clusters/dev/apps.yaml": KS,
            "deploy/apps/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n",
            # A Kustomization of the repository root's layout whose path is named from deploy/.
            "clusters/dev/apps.yaml": KS,
        },
    )


def run(root: Path, env_path: str = "clusters/dev", source_root: str = ""):
    return verify(dataclasses.replace(request(env_path), root=source_root), root)


def test_paths_named_from_another_root_say_where_they_are(tmp_path: Path) -> None:
    layout(tmp_path)
    assert lines(run(tmp_path)) == [
        "error: clusters/dev/apps.yaml: Kustomization flux-system/apps: spec.path ./apps not found in "
        "repository (found under deploy/: if the source the agent syncs has its root there, an OCI "
        "artifact or a GitRepository of a subfolder, verify with --root deploy)"
    ]
    (tmp_path / "clusters").rename(tmp_path / "elsewhere")
    assert lines(run(tmp_path)) == [
        "error: clusters/dev: path clusters/dev not found in the repository (found under deploy/: if the "
        "source the agent syncs has its root there, an OCI artifact or a GitRepository of a subfolder, "
        "verify with --root deploy)"
    ]


def test_root_verifies_the_layout_as_the_agent_sees_it(tmp_path: Path) -> None:
    layout(tmp_path)
    assert lines(run(tmp_path, source_root="deploy")) == []
    assert lines(run(tmp_path, source_root="nowhere")) == [
        "error: nowhere: --root nowhere is not a folder of the repository"
    ]


def test_the_root_flag(cli, bare_remote: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    git("init", "-q", "--initial-branch=main", str(work))
    layout(work)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "layout", cwd=work)
    git("push", "-q", str(bare_remote), "main", cwd=work)
    args = ["verify", "--repo", str(bare_remote), "--env", "dev", "--var", "x"]
    assert invoke(cli, *args).exit_code == 1
    result = invoke(cli, *args, "--root", "deploy")
    assert result.exit_code == 0, result.output
    result = invoke(cli, *args, "--root", "../up")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: --root: '../up' is not a folder inside the repository; a relative path without .."
    )
