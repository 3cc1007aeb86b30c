"""`eksgitops init ENV`: a first stack file that plans cleanly, never over an existing one; and
`fleet bootstrap --stack ENV` taking the repository, branch and path from it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from eksgitops.cli import app

ROOT = Path(__file__).resolve().parents[1]
FLAGS = [
    "--account", "123456789012",
    "--region", "eu-west-1",
    "--fleet-repo", "https://github.com/acme/fleet.git",
    "--admin-principal", "arn:aws:iam::123456789012:role/platform-admin",
]  # fmt: skip


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    monkeypatch.chdir(tmp_path)
    for var in ("KUBECONFIG", "AWS_PROFILE", "AWS_REGION"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def test_init_then_plan_exits_0(project: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["init", "qa", *FLAGS, "--public-cidr", "203.0.113.0/24"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "Wrote stacks/Pulumi.qa.yaml. Next: eksgitops plan qa"
    text = (project / "stacks" / "Pulumi.qa.yaml").read_text()
    assert text.startswith("# qa: written by `eksgitops init`")
    assert text.count("\n  # ") >= 6  # every block says what it is
    config = yaml.safe_load(text)["config"]
    assert config["aws:allowedAccountIds"] == ["123456789012"]
    assert config["eksgitops:endpoint"]["publicAccessCidrs"] == ["203.0.113.0/24"]
    planned = runner.invoke(app, ["plan", "qa", "-q"])
    assert planned.exit_code == 0, planned.output
    assert planned.stdout.startswith("Plan qa: ")


def test_init_without_a_public_cidr_keeps_the_endpoint_private(project: Path) -> None:
    assert CliRunner().invoke(app, ["init", "qa", *FLAGS]).exit_code == 0
    config = yaml.safe_load((project / "stacks" / "Pulumi.qa.yaml").read_text())["config"]
    assert config["eksgitops:endpoint"] == {"privateAccess": True, "publicAccess": False}


def test_init_never_overwrites_a_stack_file(project: Path) -> None:
    (project / "stacks").mkdir()
    existing = project / "stacks" / "Pulumi.qa.yaml"
    existing.write_text("config: {}\n")
    result = CliRunner().invoke(app, ["init", "qa", *FLAGS])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "eksgitops init: ENV: stacks/Pulumi.qa.yaml already exists; "
        "edit it, or choose another ENV (init never overwrites)"
    )
    assert existing.read_text() == "config: {}\n"


def test_init_never_writes_through_a_symlink_at_the_stack_file(project: Path, tmp_path: Path) -> None:
    (project / "stacks").mkdir()
    outside = tmp_path / "outside.yaml"  # does not exist: the link dangles
    (project / "stacks" / "Pulumi.qa.yaml").symlink_to(outside)
    result = CliRunner().invoke(app, ["init", "qa", *FLAGS])
    assert result.exit_code == 2, result.output
    assert "ENV: stacks/Pulumi.qa.yaml already exists" in result.stderr
    assert not outside.exists()
    assert sorted(p.name for p in (project / "stacks").iterdir()) == ["Pulumi.qa.yaml"]


@pytest.mark.parametrize(
    ("change", "flag"),
    [
        (("--account", "12345"), "--account"),
        (("--admin-principal", "platform-admin"), "--admin-principal"),
        (("--fleet-repo", "ftp://example.com/fleet"), "--fleet-repo"),
    ],
)
def test_a_bad_flag_is_one_line_naming_it_and_nothing_is_written(
    project: Path, change: tuple[str, str], flag: str
) -> None:
    flags = list(FLAGS)
    flags[flags.index(change[0]) + 1] = change[1]
    result = CliRunner().invoke(app, ["init", "qa", *flags])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"eksgitops init: {flag}: "), lines
    stacks = project / "stacks"
    assert not stacks.exists() or not any(stacks.iterdir())  # not even the draft it validated


def test_a_bad_public_cidr_is_refused(project: Path) -> None:
    result = CliRunner().invoke(app, ["init", "qa", *FLAGS, "--public-cidr", "300.0.0.0/8"])
    assert result.exit_code == 2
    assert result.stderr.startswith("eksgitops init: --public-cidr: '300.0.0.0/8' is not a CIDR")


def test_fleet_bootstrap_takes_branch_and_path_from_the_stack(project: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["init", "qa", *FLAGS]).exit_code == 0
    stack_file = project / "stacks" / "Pulumi.qa.yaml"
    stack_file.write_text(stack_file.read_text().replace("path: clusters/qa", "path: clusters/from-stack"))
    remote = project / "fleet.git"
    subprocess.run(["git", "init", "-q", "--bare", "--initial-branch=main", str(remote)], check=True)
    result = runner.invoke(app, ["fleet", "bootstrap", "--stack", "qa", "--repo", str(remote), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would write: clusters/from-stack/" in result.stdout


def test_fleet_bootstrap_without_repo_or_stack_names_the_flag(project: Path) -> None:
    result = CliRunner().invoke(app, ["fleet", "bootstrap", "--env", "qa"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --repo: is required (or give --stack)"
    result = CliRunner().invoke(app, ["fleet", "bootstrap", "--stack", "nosuch"])
    assert result.exit_code == 2
    assert "--stack nosuch: no stack file stacks/Pulumi.nosuch.yaml" in result.stderr


def test_init_takes_the_newest_offered_version_and_plans(project: Path) -> None:
    from eksgitops.components.spec.data import offered_kubernetes_versions

    result = CliRunner().invoke(app, ["init", "qa", *FLAGS])
    assert result.exit_code == 0, result.output
    config = yaml.safe_load((project / "stacks" / "Pulumi.qa.yaml").read_text())["config"]
    newest = offered_kubernetes_versions()[-1]
    assert config["eksgitops:kubernetesVersion"] == newest
    assert newest == max(offered_kubernetes_versions(), key=lambda v: tuple(map(int, v.split("."))))
    assert CliRunner().invoke(app, ["plan", "qa", "-q"]).exit_code == 0


def test_an_admin_principal_of_another_account_is_accepted_with_a_note(project: Path) -> None:
    flags = list(FLAGS)
    flags[flags.index("--admin-principal") + 1] = "arn:aws:iam::999999999999:role/central-admin"
    result = CliRunner().invoke(app, ["init", "qa", *flags])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "Wrote stacks/Pulumi.qa.yaml. Next: eksgitops plan qa"
    assert lines[1].startswith(
        "Note: --admin-principal is in account 999999999999, not --account 123456789012"
    )
    config = yaml.safe_load((project / "stacks" / "Pulumi.qa.yaml").read_text())["config"]
    entries = config["eksgitops:access"]["entries"]
    assert entries[0]["principalArn"] == "arn:aws:iam::999999999999:role/central-admin"
    assert CliRunner().invoke(app, ["plan", "qa", "-q"]).exit_code == 0
