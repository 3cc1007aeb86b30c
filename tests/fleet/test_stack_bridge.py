"""`fleet verify --stack STACK`: variables and identities from build/STACK/bridge.json (issue 7 item 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fleet.conftest import clone, commit_file, git, invoke

ROLE = "(known after apply: identities.aws-load-balancer-controller.arn)"


def bridge(
    tmp_path: Path,
    stack: str = "dev",
    identities: tuple[str, ...] = ("aws-load-balancer-controller",),
    **extra,
) -> Path:
    variables = {
        "environment": stack,
        "cluster_name": f"eksgitops-{stack}",
        "region": "eu-west-1",
        "account_id": "(known after apply: account.id)",
        "vpc_id": "(known after apply: vpc.id)",
        "oidc_issuer_host": "(known after apply: cluster.oidc)",
        **{f"{i.replace('-', '_')}_role_arn": ROLE for i in identities},
    }
    data = {
        "stack": stack,
        "agent": "flux",
        "repoUrl": "https://git.example.com/org/fleet.git",
        "branch": "main",
        "path": f"clusters/{stack}",
        "variables": variables,
        "identities": list(identities),
        **extra,
    }
    path = tmp_path / "build" / stack / "bridge.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return tmp_path / "build"


def test_fresh_layout_matches_the_stack(cli, bare_remote: Path, tmp_path: Path) -> None:
    assert invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", "dev").exit_code == 0
    build = bridge(tmp_path)
    result = invoke(
        cli, "verify", "--repo", str(bare_remote), "--env", "dev", "--stack", "dev", "--build-dir", str(build)
    )
    assert result.exit_code == 0, result.output
    assert "will reconcile" in result.stdout


def test_an_identity_removed_from_the_stack_is_reported(cli, bare_remote: Path, tmp_path: Path) -> None:
    assert invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", "dev").exit_code == 0
    build = bridge(tmp_path, identities=())
    result = invoke(
        cli, "verify", "--repo", str(bare_remote), "--env", "dev", "--stack", "dev", "--build-dir", str(build)
    )
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert (
        "error: .eksgitops/dev.yaml: the layout needs the workload identity aws-load-balancer-controller, "
        "which "
        f"stack dev does not define ({build}/dev/bridge.json lists: none)" in out
    )
    assert (
        "error: infrastructure/controllers/aws-load-balancer-controller.yaml: HelmRelease "
        "flux-system/aws-load-balancer-controller: ${aws_load_balancer_controller_role_arn} is not provided "
        "by stack "
        f"dev ({build}/dev/bridge.json) (define the workload identity aws-load-balancer-controller in the "
        "stack)" in out
    )


def test_every_variable_the_layout_uses_must_come_from_the_stack(
    cli, bare_remote: Path, tmp_path: Path
) -> None:
    assert invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", "dev").exit_code == 0
    work = clone(bare_remote, tmp_path / "work")
    rel = "infrastructure/configs/gateway.yaml"
    commit_file(work, rel, (work / rel).read_text().replace("${cluster_name}", "${cluster_label}"), "new var")
    git("push", "-q", "origin", "main", cwd=work)
    build = bridge(tmp_path)
    result = invoke(
        cli, "verify", "--repo", str(bare_remote), "--env", "dev", "--stack", "dev", "--build-dir", str(build)
    )
    assert result.exit_code == 1
    assert (
        "error: infrastructure/configs/gateway.yaml: Gateway gateway/public: ${cluster_label} is not "
        "provided by "
        f"stack dev ({build}/dev/bridge.json)" in result.stdout
    )


def test_without_a_plan_it_says_to_run_plan_first(
    cli, bare_remote: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(cli, "verify", "--repo", str(bare_remote), "--env", "dev", "--stack", "dev")
    assert result.exit_code == 2
    assert (
        result.stderr.strip()
        == "error: --stack dev: build/dev/bridge.json not found; run `eksgitops plan dev` first"
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "is not valid JSON"),
        ("[]", "expected a JSON object"),
        ('{"variables": {"a-b": "x"}}', "variables must map variable names to strings"),
        ('{"variables": {"a": 1}}', "variables must map variable names to strings"),
        ('{"variables": {}, "identities": ["../x"]}', "identities must be a list of identity names"),
        ('{"variables": {}, "path": 3}', "path must be a string"),
    ],
)
def test_a_malformed_bridge_is_a_one_line_usage_error(
    cli, bare_remote: Path, tmp_path: Path, content: str, problem: str
) -> None:
    (tmp_path / "build/dev").mkdir(parents=True)
    (tmp_path / "build/dev/bridge.json").write_text(content)
    result = invoke(
        cli,
        "verify",
        "--repo",
        str(bare_remote),
        "--env",
        "dev",
        "--stack",
        "dev",
        "--build-dir",
        str(tmp_path / "build"),
    )
    assert result.exit_code == 2
    assert problem in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_an_eks_argocd_stack_is_verified_as_argo_cd(cli, bare_remote: Path, tmp_path: Path) -> None:
    # Without the state file bootstrap wrote, the agent comes from the stack: EKS's managed Argo CD
    # syncs the same layout as Argo CD, so it must not be read as Flux.
    assert (
        invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", "dev", "--agent", "argocd").exit_code
        == 0
    )
    work = clone(bare_remote, tmp_path / "work")
    git("rm", "-q", ".eksgitops/dev.yaml", cwd=work)
    git("commit", "-q", "-m", "no state", cwd=work)
    git("push", "-q", "origin", "main", cwd=work)
    build = bridge(tmp_path, agent="eks-argocd")
    result = invoke(
        cli, "verify", "--repo", str(bare_remote), "--env", "dev", "--stack", "dev", "--build-dir", str(build)
    )
    assert result.exit_code == 0, result.output
    assert "will reconcile" in result.stdout
