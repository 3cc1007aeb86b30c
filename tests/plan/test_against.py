"""`eksgitops plan STACK --against <pulumi stack export>`: creates, updates, replacements, deletes by URN."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from eksgitops.cli import app
from eksgitops.plan.against import diff, engine_urns, forces_replacement, replace_paths
from eksgitops.plan.cli import run_plan
from eksgitops.plan.offline_engine import PlanResult
from eksgitops.plan.state_file import load_state

ROOT = Path(__file__).resolve().parents[2]
SECRET = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
PLAINTEXT = "do-not-print-this-kubeconfig"


@pytest.fixture(scope="module")
def dev() -> PlanResult:
    return run_plan("dev", stacks_dir=ROOT / "stacks", project_dir=ROOT)


def export_of(plan: PlanResult) -> dict[str, Any]:
    """What `pulumi stack export` would hold had this very plan been applied (plus the engine's own)."""
    urns = engine_urns(plan)
    resources = [
        {
            "urn": urns[r.urn],
            "custom": r.custom,
            "type": r.type,
            "parent": urns.get(r.parent, r.parent),
            "inputs": copy.deepcopy(r.plain_inputs()),
        }
        for r in plan.resources
    ]
    stack = "urn:pulumi:dev::eksgitops::pulumi:pulumi:Stack::eksgitops-dev"
    resources += [
        {"urn": stack, "custom": False, "type": "pulumi:pulumi:Stack", "parent": "", "inputs": {}},
        {
            "urn": "urn:pulumi:dev::eksgitops::pulumi:providers:aws::default_7_51_1",
            "custom": True,
            "type": "pulumi:providers:aws",
            "parent": stack,
            "inputs": {},
        },
    ]
    return {"version": 3, "deployment": {"manifest": {}, "resources": resources}}


def by_type(document: dict[str, Any], type_: str, name_part: str = "") -> dict[str, Any]:
    found = [r for r in document["deployment"]["resources"] if r["type"] == type_ and name_part in r["urn"]]
    assert len(found) == 1, (type_, name_part, len(found))
    return found[0]


def _diff(plan: PlanResult, document: dict[str, Any], tmp_path: Path):
    path = tmp_path / "state.json"
    path.write_text(json.dumps(document))
    return diff(plan, load_state(path), str(path))


def test_the_plan_against_its_own_state_changes_nothing(dev: PlanResult, tmp_path: Path) -> None:
    result = _diff(dev, export_of(dev), tmp_path)
    assert result.changes == []
    assert result.unchanged == len(dev.resources)


def test_updates_replacements_creates_and_deletes(dev: PlanResult, tmp_path: Path) -> None:
    state = export_of(dev)
    by_type(state, "aws:eks/addon:Addon", "vpc-cni")["inputs"]["addonVersion"] = "v1.0.0-eksbuild.1"
    by_type(state, "aws:eks/nodeGroup:NodeGroup")["inputs"]["instanceTypes"] = ["t3.large"]
    by_type(state, "aws:eks/nodeGroup:NodeGroup")["inputs"]["scalingConfig"]["desiredSize"] = 5
    log_group = by_type(state, "aws:cloudwatch/logGroup:LogGroup")
    state["deployment"]["resources"].remove(log_group)
    old_role = copy.deepcopy(by_type(state, "aws:iam/role:Role", "node-role"))
    old_role["urn"] = old_role["urn"].replace("node-role", "retired-role")
    state["deployment"]["resources"].append(old_role)
    cluster = by_type(state, "eks:index:Cluster")
    state["deployment"]["resources"].append(
        {
            "urn": cluster["urn"].rsplit("::", 1)[0] + "$aws:ec2/securityGroup:SecurityGroup::inside",
            "custom": True,
            "type": "aws:ec2/securityGroup:SecurityGroup",
            "parent": cluster["urn"],
            "inputs": {},
        }
    )

    result = _diff(dev, state, tmp_path)
    actions = {(c.action, c.type) for c in result.changes}
    assert actions == {
        ("update", "aws:eks/addon:Addon"),
        ("replace", "aws:eks/nodeGroup:NodeGroup"),
        ("create", "aws:cloudwatch/logGroup:LogGroup"),
        ("delete", "aws:iam/role:Role"),
    }
    update = next(c for c in result.changes if c.action == "update")
    assert [(p.path, p.before, p.forces_replacement) for p in update.paths] == [
        ("addonVersion", "v1.0.0-eksbuild.1", False)
    ]
    replace = next(c for c in result.changes if c.action == "replace")
    assert {p.path: p.forces_replacement for p in replace.paths} == {
        "instanceTypes": True,
        "scalingConfig.desiredSize": False,
    }
    # What pulumi-eks keeps inside its component is not the plan's to delete.
    assert [u.rsplit("::", 1)[-1] for u in result.not_compared] == ["inside"]


def test_values_only_the_cloud_knows_are_not_differences(dev: PlanResult, tmp_path: Path) -> None:
    state = export_of(dev)
    by_type(state, "aws:eks/nodeGroup:NodeGroup")["inputs"]["nodeRoleArn"] = (
        "arn:aws:iam::111122223333:role/x"
    )
    by_type(state, "aws:eks/addon:Addon", "vpc-cni")["inputs"]["__defaults"] = ["configurationValues"]
    by_type(state, "aws:eks/addon:Addon", "vpc-cni")["inputs"]["configurationValues"] = "{}"
    assert _diff(dev, state, tmp_path).changes == []


def test_secrets_are_never_shown(dev: PlanResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = export_of(dev)
    provider = by_type(state, "pulumi:providers:kubernetes")
    provider["inputs"]["kubeconfig"] = {**SECRET, "plaintext": json.dumps(PLAINTEXT)}
    provider["inputs"]["enableServerSideApply"] = "false"
    (tmp_path / "state.json").write_text(json.dumps(state))
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(
        app, ["plan", "dev", "--against", str(tmp_path / "state.json"), "--out", str(tmp_path / "build")]
    )
    assert result.exit_code == 0, result.output
    written = (tmp_path / "build" / "dev" / "diff.json").read_text()
    comment = (tmp_path / "build" / "dev" / "plan.md").read_text()
    for text in (result.stdout, written, comment):
        assert PLAINTEXT not in text
    assert "~ update pulumi:providers:kubernetes eksgitops-dev-gitops-k8s" in result.stdout
    assert "enableServerSideApply" in comment
    assert "0 to create, 0 to replace, 1 to update, 0 to delete" in result.stdout.splitlines()[-1]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("not json", "is not JSON"),
        ('{"version": 2, "deployment": {}}', "is deployment version 2; version 3"),
        ('{"checkpoint": {}}', "has no 'deployment'"),
    ],
)
def test_a_file_that_is_not_a_stack_export_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str, problem: str
) -> None:
    state = tmp_path / "state.json"
    state.write_text(content)
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, ["plan", "dev", "--against", str(state), "--out", str(tmp_path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert (
        len(lines) == 1
        and lines[0].startswith(f"eksgitops plan: --against {state}: ")
        and problem in lines[0]
    )


def test_the_replacement_data_names_a_source_for_every_type() -> None:
    data = json.loads((ROOT / "eksgitops" / "plan" / "data" / "replace_on_change.json").read_text())
    assert all(entry["source"] and entry["paths"] for entry in data["types"].values())
    assert set(replace_paths()) == set(data["types"])
    assert forces_replacement("aws:eks/cluster:Cluster", "kubernetesNetworkConfig.serviceIpv4Cidr")
    assert not forces_replacement("aws:eks/cluster:Cluster", "version")
    assert forces_replacement("kubernetes:core/v1:ConfigMap", "metadata.name")
    assert not forces_replacement("kubernetes:core/v1:ConfigMap", "data.region")


def test_the_pull_request_workflow_comments_the_offline_plan_without_credentials() -> None:
    import yaml

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pull-request.yml").read_text())
    plan_job = workflow["jobs"]["offline-plan"]
    step = next(s for s in plan_job["steps"] if "--against" in s.get("run", ""))
    assert "pull-requests" not in plan_job["permissions"]  # the PR's code never gets that token
    comment = workflow["jobs"]["pr-comment"]
    assert comment["needs"] == "offline-plan"
    [run] = [s["run"] for s in comment["steps"]]
    assert "gh run download" in run and "gh pr comment" in run and "plan.md" in run
    assert comment["permissions"] == {"actions": "read", "pull-requests": "write"}
    assert step["run"].count("plan ") == 1
    assert workflow["jobs"]["preview"]["if"] == "vars.AWS_PREVIEW_ROLE_ARN != ''"
