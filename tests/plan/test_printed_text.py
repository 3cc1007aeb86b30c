"""What `eksgitops plan` prints from the stack file is shown, never obeyed by the terminal, and
STACK names a stack, not a path that leaves --out."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from eksgitops.cli import app

ROOT = Path(__file__).resolve().parents[2]
CLUSTER_NAME = "eksgitops-dev-cluster-eksCluster"
# All of IPv4 in two pieces: EKS-ENDPOINT fails, so the waiver below is printed.
OPEN_ENDPOINT = {
    "privateAccess": True,
    "publicAccess": True,
    "publicAccessCidrs": ["0.0.0.0/1", "128.0.0.0/1"],
}


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("KUBECONFIG", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(var, raising=False)


def _project(tmp_path: Path, **config: object) -> Path:
    stack = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())
    stack["config"].update({f"eksgitops:{k}": v for k, v in config.items()})
    (tmp_path / "stacks").mkdir(parents=True)
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack))
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    return tmp_path


def _plan(cwd: Path, monkeypatch: pytest.MonkeyPatch, *args: str):
    monkeypatch.chdir(cwd)
    return CliRunner().invoke(app, ["plan", *args])


@pytest.mark.parametrize(
    "stack",
    ["a/../../x", "../outside", "/tmp/abs", "dev/..", "Dev", "dev\x1b[2J", "dev\n", "d" * 64, ""],
)
def test_a_stack_that_is_not_a_stack_name_is_refused_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stack: str
) -> None:
    project = _project(tmp_path)
    # Where 'a/../../x' leads (stacks/Pulumi.a/../../x.yaml is ./x.yaml): a real stack file, so
    # only the name check stands between the plan and build/a/../../x/, outside --out.
    (project / "stacks" / "Pulumi.a").mkdir()
    (project / "x.yaml").write_text((project / "stacks" / "Pulumi.dev.yaml").read_text())
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    result = _plan(project, monkeypatch, stack, "--out", str(project / "build"))
    assert result.exit_code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("eksgitops plan: STACK ") and "not a stack name; a DNS-1123 label" in line
    assert "\x1b" not in result.stderr and "Traceback" not in result.stderr
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


def test_a_stack_name_that_is_a_label_still_plans(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path)
    result = _plan(project, monkeypatch, "dev", "--quiet", "--out", str(project / "build"))
    assert result.exit_code == 0, result.output
    assert (project / "build" / "dev" / "resources.json").is_file()


HOSTILE_REASON = "approved\x1b]0;pwned\x07\x1b[2J\rEKS-ENDPOINT passed\u202eon Friday"


def test_a_waiver_reason_with_escapes_is_refused_and_not_echoed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A reason is printed in every plan and PR comment: the spec refuses one that could
    # rewrite the terminal, and the refusal names the character instead of printing it.
    waiver = {"rule": "EKS-ENDPOINT", "reason": HOSTILE_REASON, "resource": CLUSTER_NAME}
    project = _project(tmp_path, endpoint=OPEN_ENDPOINT, policy={"waivers": [waiver]})
    result = _plan(project, monkeypatch, "dev", "--quiet", "--out", str(project / "build"))
    assert result.exit_code == 2, result.output
    assert "eksgitops:policy.waivers[0].reason: holds the character U+001B" in result.output
    assert not (project / "build").exists()
    for raw in ("\x1b", "\x07", "\r", "\u202e"):
        assert raw not in result.output
