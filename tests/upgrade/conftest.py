"""Fixtures for upgrade: a project with the shipped stacks, and a real fleet repository laid out by
`eksgitops fleet bootstrap` (the shipped scaffold), in bare repositories on disk."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eksgitops.cli import app
from tests.dr.conftest import GIT_IDENTITY, aws_env, isolated_git, moto_url  # noqa: F401  (fixtures)
from tests.simworld.stacks import with_agent_config
from tests.upgrade.sim_bluegreen import BlueGreenSim

REPO_ROOT = Path(__file__).resolve().parents[2]


def git(*args: str, cwd: Path | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout.strip()


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder with Pulumi.yaml and the shipped stack files; the test runs in it."""
    root = tmp_path / "project"
    shutil.copytree(REPO_ROOT / "stacks", root / "stacks")
    shutil.copy(REPO_ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    monkeypatch.chdir(root)
    return root


def _bootstrapped(tmp_path_factory: pytest.TempPathFactory, agent: str) -> Path:
    bare = tmp_path_factory.mktemp(f"fleet-{agent}") / "fleet.git"
    git("init", "-q", "--bare", "--initial-branch=main", str(bare))
    with pytest.MonkeyPatch.context() as mp:
        for key, value in GIT_IDENTITY.items():
            mp.setenv(key, value)
        for env in ("dev", "staging", "prod"):
            result = run("fleet", "bootstrap", "--repo", str(bare), "--env", env, "--agent", agent)
            assert result.exit_code == 0, result.stdout + result.stderr
    return bare


@pytest.fixture(scope="session")
def scaffold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bare fleet repository holding the shipped Flux layout of dev, staging and prod."""
    return _bootstrapped(tmp_path_factory, "flux")


@pytest.fixture(scope="session")
def argo_scaffold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bare fleet repository holding the shipped Argo CD layout of dev, staging and prod."""
    return _bootstrapped(tmp_path_factory, "argocd")


def fleet_with(scaffold: Path, tmp_path: Path, files: dict[str, str], resources: dict[str, str]) -> Path:
    """A copy of the scaffold with `files` added and listed in the kustomizations given."""
    bare = tmp_path / "changed.git"
    git("clone", "-q", "--bare", str(scaffold), str(bare))
    work = tmp_path / "work"
    git("clone", "-q", str(bare), str(work))
    for rel, text in files.items():
        (work / rel).write_text(text)
    for kustomization, entry in resources.items():
        path = work / kustomization
        path.write_text(path.read_text().replace("resources:\n", f"resources:\n  - {entry}\n", 1))
    git("add", ".", cwd=work)
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "change", cwd=work)
    git("push", "-q", "origin", "HEAD:main", cwd=work)
    return bare


def set_version(project: Path, stack: str, version: str) -> None:
    path = project / "stacks" / f"Pulumi.{stack}.yaml"
    text = path.read_text()
    current = next(line for line in text.splitlines() if "eksgitops:kubernetesVersion:" in line)
    path.write_text(text.replace(current, f'  eksgitops:kubernetesVersion: "{version}"'))


AGENTS = ("flux", "argocd", "eks-argocd")


def with_agent(raw: dict, agent: str) -> dict:
    """A shipped stack's config with gitops.agent set; what only another agent takes goes."""
    return with_agent_config(raw, agent)


@pytest.fixture
def bg(aws_env, project, scaffold, monkeypatch) -> Iterator[BlueGreenSim]:  # noqa: F811  (the fixture)
    """The blue/green world of the shipped dev stack at 1.35, blue serving the record."""
    set_version(project, "dev", "1.35")
    world = BlueGreenSim(project, monkeypatch, git("rev-parse", "main", cwd=scaffold))
    try:
        yield world
    finally:
        world.stop()
