"""Waivers in the stack file, and `eksgitops plan` failing (exit 1) on a mandatory violation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from components.spec import SpecError, load_spec
from components.spec.policy import RULE_IDS
from components.spec.read import raw_config_from_stack_file
from eksgitops.cli import app
from eksgitops.policy.rules import RULES

ROOT = Path(__file__).resolve().parents[2]
# All of IPv4 in two pieces: the spec lets it through (it only refuses 0.0.0.0/0 itself), the
# registered cluster is open to the internet, and EKS-ENDPOINT must catch it.
OPEN_IN_PIECES = ["0.0.0.0/1", "128.0.0.0/1"]
# The resource the control-plane findings name: the EKS cluster pulumi-eks creates, as the plan shows it.
CLUSTER_NAME = "eksgitops-dev-cluster-eksCluster"


def test_rule_ids_in_components_are_the_rules_the_package_defines() -> None:
    assert tuple(rule.id for rule in RULES) == RULE_IDS
    documented = [
        line.split("|")[1].strip()
        for line in (ROOT / "docs" / "policy.md").read_text().splitlines()
        if line.startswith("| ") and line.split("|")[1].strip() in (*RULE_IDS, "id")
    ]
    assert [i for i in documented if i != "id"] == list(RULE_IDS)


def _project(tmp_path: Path, **config: object) -> Path:
    stack = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())
    stack["config"].update({f"eksgitops:{k}": v for k, v in config.items()})
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack))
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    return tmp_path


def _plan(project: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(project)
    for var in ("KUBECONFIG", "AWS_PROFILE", "AWS_REGION"):
        monkeypatch.delenv(var, raising=False)
    return CliRunner().invoke(app, ["plan", "dev", "--out", str(project / "build")])


OPEN_ENDPOINT = {"privateAccess": True, "publicAccess": True, "publicAccessCidrs": OPEN_IN_PIECES}


def test_an_endpoint_open_to_all_of_ipv4_fails_the_plan_with_its_rule_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path, endpoint=OPEN_ENDPOINT)
    result = _plan(project, monkeypatch)
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("EKS-ENDPOINT ")]
    assert lines == [
        f"EKS-ENDPOINT {CLUSTER_NAME}: the public endpoint's CIDRs 0.0.0.0/1, 128.0.0.0/1 together "
        "cover all of IPv4 (0.0.0.0/0)"
    ]
    # The files are written all the same: CI keeps the report of a failed plan.
    report = json.loads((project / "build" / "dev" / "policy-report.json").read_text())
    endpoint = next(r for r in report["rules"] if r["id"] == "EKS-ENDPOINT")
    assert endpoint["status"] == "violated" and report["failed"] is True
    assert endpoint["violations"][0]["resource"] == CLUSTER_NAME


def test_a_waiver_with_a_reason_lets_it_pass_and_the_plan_shows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reason = "demo cluster reached from anywhere for a conference; torn down on Friday"
    waiver = {"rule": "EKS-ENDPOINT", "reason": reason, "resource": CLUSTER_NAME}
    project = _project(tmp_path, endpoint=OPEN_ENDPOINT, policy={"waivers": [waiver]})
    result = _plan(project, monkeypatch)
    assert result.exit_code == 0, result.output
    assert f"Waiver EKS-ENDPOINT ({CLUSTER_NAME}): {reason}" in result.stdout
    assert f"(waived: {reason})" in result.stdout
    report = json.loads((project / "build" / "dev" / "policy-report.json").read_text())
    endpoint = next(r for r in report["rules"] if r["id"] == "EKS-ENDPOINT")
    assert endpoint["status"] == "waived" and endpoint["waived"][0]["reason"] == reason
    assert report["waivers"] == [waiver]


def test_a_waiver_for_another_resource_does_not_cover_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waiver = {"rule": "EKS-ENDPOINT", "reason": "only the other cluster", "resource": "some-other-cluster"}
    project = _project(tmp_path, endpoint=OPEN_ENDPOINT, policy={"waivers": [waiver]})
    result = _plan(project, monkeypatch)
    assert result.exit_code == 1
    assert "Waiver EKS-ENDPOINT (some-other-cluster) matched nothing" in result.stdout


@pytest.mark.parametrize(
    ("waiver", "line"),
    [
        (
            {"rule": "EKS-OPEN", "reason": "x"},
            'eksgitops:policy.waivers[0].rule: "EKS-OPEN" is not a rule id; one of EKS-ENDPOINT, ',
        ),
        ({"rule": "EKS-ENDPOINT", "reason": "  "}, "eksgitops:policy.waivers[0].reason: is empty; "),
        ({"rule": "EKS-ENDPOINT"}, "eksgitops:policy.waivers[0].reason: is required"),
        (
            {"rule": "EKS-ENDPOINT", "reason": "x", "until": "friday"},
            "eksgitops:policy.waivers[0].until: unknown key",
        ),
    ],
)
def test_a_bad_waiver_is_a_spec_error_with_its_line(waiver: dict, line: str) -> None:
    raw = {**raw_config_from_stack_file(ROOT / "stacks" / "Pulumi.dev.yaml"), "policy": {"waivers": [waiver]}}
    with pytest.raises(SpecError) as caught:
        load_spec(raw, stack="dev", source="stacks/Pulumi.dev.yaml")
    assert any(got.startswith(f"stacks/Pulumi.dev.yaml: {line}") for got in caught.value.lines), (
        caught.value.lines
    )


def test_a_bad_waiver_stops_the_plan_with_exit_2_and_nothing_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path, policy={"waivers": [{"rule": "NOPE", "reason": "x"}]})
    result = _plan(project, monkeypatch)
    assert result.exit_code == 2
    assert "eksgitops:policy.waivers[0].rule" in result.stderr
    assert not (project / "build").exists()
