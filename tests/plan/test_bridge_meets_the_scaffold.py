"""The chain a user runs: `eksgitops plan STACK` -> `eksgitops fleet bootstrap` -> `fleet verify --stack`.

Each step is the installed `eksgitops` command in its own process: the plan writes the real
build/STACK/bridge.json from the stack file, bootstrap pushes the scaffold into a real bare
remote, and verify reads that bridge and checks the pushed layout with the real kustomize and
the strict schemas. The shipped stacks must provide every variable, identity and lockdown setting
the shipped scaffold needs; a stack without the load balancer controller's identity must not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from eksgitops.fleet import layout

ROOT = Path(__file__).resolve().parents[2]
STACKS = ROOT / "stacks"
IDENTITY = "aws-load-balancer-controller"
IDC_INSTANCE = "arn:aws:sso:::instance/ssoins-0123456789abcdef"
MISSING_VARIABLE = "${aws_load_balancer_controller_role_arn} is not provided by stack dev"


def eksgitops_command() -> list[str]:
    """The console script pip installed, as a user runs it (else the same entry point via -m)."""
    script = Path(sys.executable).with_name("eksgitops")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "eksgitops.cli"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A clean environment: no cloud or cluster settings, no global git config, a git identity."""
    home = tmp_path / "home"
    home.mkdir()
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "PULUMI_", "EKSGITOPS_", "GIT_", "KUBECONFIG"))
    }
    return {
        **clean,
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": str(home / ".gitconfig"),
        "GIT_AUTHOR_NAME": "Test Author",
        "GIT_AUTHOR_EMAIL": "author@example.com",
        "GIT_COMMITTER_NAME": "Test Author",
        "GIT_COMMITTER_EMAIL": "author@example.com",
    }


def eksgitops(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    # The plan reads Pulumi.yaml and __main__.py from the project folder, as `make plan` runs it.
    return subprocess.run(
        [*eksgitops_command(), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def bare_remote(path: Path) -> Path:
    subprocess.run(["git", "init", "-q", "--bare", "--initial-branch=main", str(path)], check=True)
    return path


def stacks_copy(tmp_path: Path, edit: dict[str, Any] | None = None, drop_identity: bool = False) -> Path:
    """The shipped stacks folder, with the dev stack's gitops section or identities changed."""
    folder = tmp_path / "stacks"
    shutil.copytree(STACKS, folder)
    dev = folder / "Pulumi.dev.yaml"
    document = yaml.safe_load(dev.read_text())
    config = document["config"]
    if edit:
        config["eksgitops:gitops"] = {**config["eksgitops:gitops"], **edit}
    if drop_identity:
        config["eksgitops:identities"] = [i for i in config["eksgitops:identities"] if i["name"] != IDENTITY]
    dev.write_text(yaml.safe_dump(document, sort_keys=False))
    return folder


def plan(env: dict[str, str], stack: str, out: Path, stacks: Path = STACKS) -> None:
    result = eksgitops(env, "plan", stack, "--quiet", "--stacks-dir", str(stacks), "--out", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert (out / stack / "bridge.json").is_file()


def bootstrap(env: dict[str, str], remote: Path, stack: str, *extra: str) -> None:
    result = eksgitops(env, "fleet", "bootstrap", "--repo", str(remote), "--env", stack, *extra)
    assert result.returncode == 0, result.stdout + result.stderr


def verify(
    env: dict[str, str], remote: Path, stack: str, out: Path, stacks: Path = STACKS
) -> subprocess.CompletedProcess[str]:
    return eksgitops(
        env,
        "fleet",
        "verify",
        "--repo",
        str(remote),
        "--env",
        stack,
        "--stack",
        stack,
        "--build-dir",
        str(out),
        "--stacks-dir",
        str(stacks),
    )


def signing_stacks(tmp_path: Path) -> tuple[Path, Path]:
    """The shipped stacks, prod trusting a key made here (its shipped example key has no private
    half), and that key's file for `bootstrap --signing-key`."""
    key = tmp_path / "signer"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    folder = stacks_copy(tmp_path)
    prod = folder / "Pulumi.prod.yaml"
    document = yaml.safe_load(prod.read_text())
    document["config"]["eksgitops:gitops"]["verify"]["publicKeys"] = [key.with_suffix(".pub").read_text()]
    prod.write_text(yaml.safe_dump(document, sort_keys=False))
    return folder, key


def test_the_shipped_stacks_meet_the_shipped_scaffold(tmp_path: Path, env: dict[str, str]) -> None:
    # One fleet repository for all three environments, as the scaffold is meant to be used.
    remote = bare_remote(tmp_path / "fleet.git")
    out = tmp_path / "build"
    stacks, signer = signing_stacks(tmp_path)
    for stack in ("dev", "staging", "prod"):
        plan(env, stack, out, stacks)
        # prod has gitops.verify: its commit is signed (docs/signing.md), and pushed last.
        bootstrap(env, remote, stack, *(["--signing-key", str(signer)] if stack == "prod" else []))
    for stack in ("dev", "staging", "prod"):
        result = verify(env, remote, stack, out, stacks)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "is not provided by stack" not in result.stdout
        assert "does not define" not in result.stdout
        assert "another namespace" not in result.stdout  # FLUX-LOCKDOWN is on in every shipped stack
        assert f"verify: clusters/{stack} at " in result.stdout
        assert "will reconcile" in result.stdout and "no findings" in result.stdout


@pytest.mark.parametrize("agent", ["flux", "argocd"])
def test_a_stack_without_the_controller_identity_is_caught(
    tmp_path: Path, env: dict[str, str], agent: str
) -> None:
    stacks = stacks_copy(tmp_path, {"agent": agent}, drop_identity=True)
    out = tmp_path / "build"
    remote = bare_remote(tmp_path / "fleet.git")
    plan(env, "dev", out, stacks)
    bootstrap(env, remote, "dev", "--agent", agent)
    result = verify(env, remote, "dev", out)
    assert result.returncode == 1, result.stdout + result.stderr
    bridge_file = f"{out}/dev/bridge.json"
    found = result.stdout.splitlines()
    assert (
        f"error: .eksgitops/dev.yaml: the layout needs the workload identity {IDENTITY}, which stack dev "
        f"does not define ({bridge_file} lists: external-dns, app-s3-reader)"
    ) in found
    if agent == "flux":
        assert (
            "error: infrastructure/controllers/aws-load-balancer-controller.yaml: HelmRelease "
            f"flux-system/aws-load-balancer-controller: {MISSING_VARIABLE} ({bridge_file}) "
            f"(define the workload identity {IDENTITY} in the stack)"
        ) in found
    else:
        assert (
            "error: clusters/dev/infrastructure.yaml: ApplicationSet argocd/infrastructure-controllers: "
            "cluster annotation aws_load_balancer_controller_role_arn is not provided by stack dev"
        ) in found
    assert "will not reconcile" in result.stderr


@pytest.mark.parametrize(
    "gitops",
    [
        {"agent": "argocd"},
        {"agent": "eks-argocd", "eksArgocd": {"identityCenterInstanceArn": IDC_INSTANCE}},
    ],
    ids=["argocd", "eks-argocd"],
)
def test_argo_cd_dev_meets_its_scaffold(tmp_path: Path, env: dict[str, str], gitops: dict[str, Any]) -> None:
    # EKS's managed Argo CD syncs the same layout (bootstrap --agent argocd).
    stacks = stacks_copy(tmp_path, gitops)
    out = tmp_path / "build"
    remote = bare_remote(tmp_path / "fleet.git")
    plan(env, "dev", out, stacks)
    bootstrap(env, remote, "dev", "--agent", "argocd")
    result = verify(env, remote, "dev", out)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is not provided by stack" not in result.stdout
    assert "will reconcile" in result.stdout and "no findings" in result.stdout


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_the_controller_runs_where_the_stacks_identity_trusts_it(stack: str) -> None:
    # The identity's trust names a namespace and service account; the HelmRelease, now in
    # flux-system beside its chart source, must still install the controller there.
    files = layout.render(layout.Options(env=stack))
    releases = {
        doc["metadata"]["name"]: doc
        for item in files
        for doc in yaml.safe_load_all(item.content)
        if isinstance(doc, dict) and doc.get("kind") == "HelmRelease"
    }
    assert {
        name: (doc["metadata"]["namespace"], doc["spec"]["releaseName"], doc["spec"]["targetNamespace"])
        for name, doc in releases.items()
    } == {
        "aws-load-balancer-controller": ("flux-system", "aws-load-balancer-controller", "kube-system"),
        "metrics-server": ("flux-system", "metrics-server", "kube-system"),
        "prometheus": ("flux-system", "prometheus", "monitoring"),
        "flagger": ("flux-system", "flagger", "flagger-system"),
    }
    for doc in releases.values():
        assert doc["spec"]["storageNamespace"] == doc["spec"]["targetNamespace"]
    config = yaml.safe_load((STACKS / f"Pulumi.{stack}.yaml").read_text())["config"]
    identities = config["eksgitops:identities"]
    identity = next(i for i in identities if i["name"] == IDENTITY)
    controller = releases[IDENTITY]["spec"]
    assert identity["namespace"] == controller["targetNamespace"]
    assert identity["serviceAccount"] == controller["values"]["serviceAccount"]["name"]
