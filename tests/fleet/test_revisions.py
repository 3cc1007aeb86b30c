"""Sources that name this repository at another revision (issue 23.3): a Flux GitRepository on
another branch, tag or semver range, an Argo CD Application at another targetRevision, are
listed as not checked with the reason instead of being built from the revision verified."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from eksgitops.fleet.verify import verify
from tests.fleet.helpers import REPO_URL, lines, request, write_all

SHA = "0123456789abcdef0123456789abcdef01234567"
VERIFIED = frozenset({"main", SHA, "HEAD"})
BROKEN = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: nowhere\ndata:\n  a: 1\n"


def flux_layout(root: Path, ref: str) -> Path:
    return write_all(
        root,
        {
            "clusters/dev/tenants.yaml": f"""apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: fleet-release
  namespace: flux-system
spec:
  interval: 5m
  url: {REPO_URL}
{ref}---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: tenants
  namespace: flux-system
spec:
  interval: 10m
  prune: true
  path: ./tenants
  sourceRef:
    kind: GitRepository
    name: fleet-release
""",
            # Broken at this revision: the other revision may hold something else entirely.
            "tenants/cm.yaml": BROKEN,
        },
    )


def run(root: Path, env_path: str = "clusters/dev", agent: str = "flux", revisions=VERIFIED):
    req = dataclasses.replace(request(env_path, agent=agent), revisions=revisions)
    return verify(req, root)


@pytest.mark.parametrize(
    ("ref", "named"),
    [
        ("  ref:\n    branch: release\n", "branch release"),
        ("  ref:\n    tag: v1.4.0\n", "tag v1.4.0"),
        ("  ref:\n    semver: '>=1.0.0'\n", "semver >=1.0.0"),
        ("  ref:\n    name: refs/heads/staging\n", "name refs/heads/staging"),
        ("  ref:\n    branch: main\n    commit: 89abcdef0123\n", "commit 89abcdef0123"),
        ("", "branch master"),
    ],
)
def test_a_git_repository_at_another_revision_is_not_built_and_says_why(
    tmp_path: Path, ref: str, named: str
) -> None:
    report = run(flux_layout(tmp_path, ref))
    assert lines(report) == []
    assert (
        f"clusters/dev/tenants.yaml: Kustomization flux-system/tenants: source GitRepository "
        f"flux-system/fleet-release is this repository at {named}, not at the revision verified; "
        "./tenants not built"
    ) in report.not_checked


@pytest.mark.parametrize(
    "ref",
    [
        "  ref:\n    branch: main\n",
        "  ref:\n    name: refs/heads/main\n",
        f"  ref:\n    branch: other\n    commit: {SHA[:12]}\n",
    ],
)
def test_a_git_repository_at_the_verified_revision_is_built(tmp_path: Path, ref: str) -> None:
    found = lines(run(flux_layout(tmp_path, ref)))
    assert any("namespace nowhere" in line or "nowhere" in line for line in found), found


def argo_layout(root: Path, revision: str) -> Path:
    return write_all(
        root,
        {
            "clusters/dev/tenants.yaml": f"""apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: tenants
  namespace: argocd
spec:
  project: default
  source:
    repoURL: {REPO_URL}
    targetRevision: {revision}
    path: tenants
  destination:
    server: https://kubernetes.default.svc
    namespace: default
""",
            "tenants/cm.yaml": BROKEN,
        },
    )


def test_an_application_at_another_target_revision_is_not_built(tmp_path: Path) -> None:
    report = run(argo_layout(tmp_path, "v2.0.0"), agent="argocd")
    assert lines(report) == []
    assert (
        f"clusters/dev/tenants.yaml: Application argocd/tenants: source {REPO_URL} is this repository at "
        "targetRevision v2.0.0, not at the revision verified; tenants not built"
    ) in report.not_checked
    for same in ("main", "HEAD", SHA[:10]):
        assert any("nowhere" in line for line in lines(run(argo_layout(tmp_path, same), agent="argocd")))
