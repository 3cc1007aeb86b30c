"""The starter path a new user follows (issue 23.8 and 23.7): `eksgitops init`, `plan`,
`fleet bootstrap --stack`, `fleet verify --stack`, run from another folder than the project's,
for Flux and for Argo CD; bootstrap checks the stack before it pushes and never writes one
agent's layout over the other's."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eksgitops.cli import app
from tests.fleet.conftest import git, log

ROOT = Path(__file__).resolve().parents[2]
INIT = [
    "--account", "123456789012",
    "--region", "eu-west-1",
    "--fleet-repo", "https://git.example.com/acme/fleet.git",
    "--admin-principal", "arn:aws:iam::123456789012:role/platform-admin",
]  # fmt: skip


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder, and a working directory elsewhere (build/ must be found beside stacks/)."""
    folder = tmp_path / "project"
    folder.mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", folder / "Pulumi.yaml")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for var in ("KUBECONFIG", "AWS_PROFILE", "AWS_REGION"):
        monkeypatch.delenv(var, raising=False)
    return folder


def eksgitops(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def init_and_plan(project: Path, agent: str) -> None:
    stacks = str(project / "stacks")
    result = eksgitops("init", "qa", *INIT, "--agent", agent, "--stacks-dir", stacks)
    assert result.exit_code == 0, result.output
    result = eksgitops("plan", "qa", "--quiet", "--stacks-dir", stacks, "--out", str(project / "build"))
    assert result.exit_code == 0, result.output


def bootstrap(project: Path, remote: Path, *extra: str):
    stacks = str(project / "stacks")
    return eksgitops(
        "fleet", "bootstrap", "--stack", "qa", "--stacks-dir", stacks, "--repo", str(remote), *extra
    )


def verify(project: Path, remote: Path, *extra: str):
    stacks = str(project / "stacks")
    return eksgitops(
        "fleet",
        "verify",
        "--stack",
        "qa",
        "--stacks-dir",
        stacks,
        "--repo",
        str(remote),
        "--env",
        "qa",
        *extra,
    )


@pytest.mark.parametrize("agent", ["flux", "argocd"])
def test_init_plan_bootstrap_verify_passes(project: Path, bare_remote: Path, agent: str) -> None:
    init_and_plan(project, agent)
    result = bootstrap(project, bare_remote)
    assert result.exit_code == 0, result.output
    assert "qa: pushed" in result.stdout
    result = verify(project, bare_remote)
    assert result.exit_code == 0, result.output
    assert "will reconcile" in result.stdout and "no findings" in result.stdout


def test_bootstrap_checks_the_stack_before_it_pushes(project: Path, bare_remote: Path) -> None:
    init_and_plan(project, "flux")
    stack_file = project / "stacks" / "Pulumi.qa.yaml"
    text = stack_file.read_text()
    stack_file.write_text(text[: text.index("  # The identities the fleet scaffold")])
    result = bootstrap(project, bare_remote)
    assert result.exit_code == 1, result.output
    assert "${aws_load_balancer_controller_role_arn} is not provided by stack qa" in result.stdout
    assert "stack qa does not define" in result.stdout
    assert "nothing was pushed" in result.stderr
    assert git("--git-dir", str(bare_remote), "for-each-ref") == ""


def test_bootstrap_never_writes_one_agent_over_the_other(project: Path, bare_remote: Path) -> None:
    init_and_plan(project, "flux")
    assert bootstrap(project, bare_remote).exit_code == 0
    pushed = log(bare_remote)
    result = bootstrap(project, bare_remote, "--agent", "argocd")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: refusing to bootstrap qa for argocd: clusters/qa is laid out for flux (.eksgitops/qa.yaml "
        "records agent flux); writing argocd's files over it would leave a layout neither agent "
        "reconciles. Bootstrap another --env or --path, or give --force to replace it. Nothing was written"
    )
    assert log(bare_remote) == pushed


def test_a_hand_written_layout_of_the_other_agent_is_protected_too(
    project: Path, bare_remote: Path, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    git("clone", "-q", str(bare_remote), str(work))
    (work / "clusters/qa").mkdir(parents=True)
    (work / "clusters/qa/root.yaml").write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: apps\n  namespace: argocd\n"
    )
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "hand-written", cwd=work)
    git("push", "-q", "origin", "main", cwd=work)
    init_and_plan(project, "flux")
    result = bootstrap(project, bare_remote)
    assert result.exit_code == 1
    assert (
        "clusters/qa is laid out for argocd (clusters/qa/root.yaml declares argocd objects)" in result.stderr
    )


def test_verify_stack_checks_the_layout_against_the_stacks_agent(project: Path, bare_remote: Path) -> None:
    init_and_plan(project, "argocd")
    result = eksgitops("fleet", "bootstrap", "--env", "qa", "--repo", str(bare_remote), "--agent", "flux")
    assert result.exit_code == 0, result.output
    result = verify(project, bare_remote)
    assert result.exit_code == 1
    assert (
        "error: clusters/qa: the layout is for flux (.eksgitops/qa.yaml records agent flux), but stack qa "
        "installs argocd" in result.stdout
    )


def test_verify_takes_env_and_repo_from_the_stack_as_bootstrap_does(project: Path, bare_remote: Path) -> None:
    result = eksgitops("fleet", "verify", "--repo", str(bare_remote))
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --env: is required (or give --stack)"
    init_and_plan(project, "flux")
    bridge = project / "build/qa/bridge.json"
    bridge.write_text(bridge.read_text().replace("https://git.example.com/acme/fleet.git", str(bare_remote)))
    assert bootstrap(project, bare_remote).exit_code == 0
    result = eksgitops("fleet", "verify", "--stack", "qa", "--stacks-dir", str(project / "stacks"))
    assert result.exit_code == 0, result.output
    assert "verify: clusters/qa at " in result.stdout
