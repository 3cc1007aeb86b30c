"""`fleet diff --stack`: the layout bootstrap writes, for each agent of the shipped stacks (flux,
argocd, and eks-argocd diffed as Argo CD), with the stack's variables from bridge.json."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.fleet.conftest import clone, git, invoke
from tests.fleet.diff.fleet import DATA, FILES, commit, push_base
from tests.fleet.diff.helpers import diff_json, one
from tests.fleet.test_stack_bridge import bridge


@pytest.mark.parametrize(
    ("agent", "stack_agent"), [("flux", "flux"), ("argocd", "argocd"), ("argocd", "eks-argocd")]
)
def test_an_image_bump_under_each_agent(
    cli: CliRunner, bare_remote: Path, tmp_path: Path, agent: str, stack_agent: str
) -> None:
    boot = invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", "dev", "--agent", agent)
    assert boot.exit_code == 0, boot.output
    work = clone(bare_remote, tmp_path / "work")
    overlay = work / "apps/dev/kustomization.yaml"
    overlay.write_text(overlay.read_text().replace('newTag: "6.7.1"', 'newTag: "6.7.2"'))
    git("checkout", "-q", "-b", "bump", cwd=work)
    git("commit", "-q", "-am", "podinfo 6.7.2", cwd=work)
    git("push", "-q", "origin", "bump", cwd=work)
    build = bridge(tmp_path, agent=stack_agent)
    result, doc = diff_json(cli, bare_remote, "bump", "--stack", "dev", "--build-dir", str(build))
    assert result.exit_code == 5, (doc["changes"], doc["verify"]["findings"])
    # The Argo CD layout rolls podinfo out with an Argo Rollouts Rollout, Flux's with Flagger.
    kind = "Deployment" if agent == "flux" else "Rollout"
    deployment = one(doc, kind=kind, name="podinfo")
    assert deployment["fields"] == [
        {
            "path": "spec.template.spec.containers[name=podinfo].image",
            "old": "ghcr.io/stefanprodan/podinfo:6.7.1",
            "new": "ghcr.io/stefanprodan/podinfo:6.7.2",
        }
    ]
    assert deployment["owner"] == (
        "Kustomization flux-system/apps" if agent == "flux" else "Application argocd/apps"
    )
    assert [c["kind"] for c in doc["changes"]] == [kind]


def test_a_fleet_in_a_subfolder_with_root(cli: CliRunner, bare_remote: Path, tmp_path: Path) -> None:
    # The source the agent syncs is a subfolder (an OCI artifact pushed from deploy/): --root.
    work = tmp_path / "work"
    push_base(work, bare_remote, {f"deploy/{rel}": text for rel, text in FILES.items()})
    commit(
        work,
        {"deploy/data/release.yaml": DATA["data/release.yaml"].replace("19.6.4", "20.0.0")},
        "x",
        push="pr",
    )
    result, doc = diff_json(cli, bare_remote, "pr", "--root", "deploy")
    assert result.exit_code == 6
    assert [c["kind"] for c in doc["changes"]] == ["HelmRelease"]
    missing, _ = diff_json(cli, bare_remote, "pr")  # without --root, clusters/dev is not there
    assert missing.exit_code == 1
