"""`plan --against` reads as `pulumi preview` would: dependents of a replaced resource, ignoreChanges,
"known after apply", the state of another stack refused, a banner when the cluster itself goes."""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from eksgitops.cli import app
from eksgitops.plan.against import KNOWN_AFTER_APPLY, Diff, banner_lines, diff, diff_lines, engine_urns
from eksgitops.plan.cli import run_plan
from eksgitops.plan.offline_engine import PlanResult
from eksgitops.plan.state_file import load_state

ROOT = Path(__file__).resolve().parents[2]
KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
IDC_INSTANCE = "arn:aws:sso:::instance/ssoins-0123456789abcdef"
AGENTS: dict[str, dict[str, Any]] = {
    "flux": {},
    "argocd": {"agent": "argocd"},
    "eks-argocd": {"agent": "eks-argocd", "eksArgocd": {"identityCenterInstanceArn": IDC_INSTANCE}},
}


def export_of(plan: PlanResult, stack: str) -> dict[str, Any]:
    """What `pulumi stack export` would hold had this very plan been applied."""
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
    resources.append(
        {
            "urn": f"urn:pulumi:{stack}::eksgitops::pulumi:pulumi:Stack::eksgitops-{stack}",
            "custom": False,
            "type": "pulumi:pulumi:Stack",
            "parent": "",
            "inputs": {},
        }
    )
    return {"version": 3, "deployment": {"manifest": {}, "resources": resources}}


def stack_variant(tmp_path: Path, stack: str, change: dict[str, Any]) -> Path:
    """A copy of the shipped stack files, `stack`'s config changed by dotted key (`network.vpcCidr`)."""
    folder = tmp_path / "stacks"
    if not folder.exists():
        shutil.copytree(ROOT / "stacks", folder)
    path = folder / f"Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text())
    for dotted, value in change.items():
        head, *rest = dotted.split(".")
        target = document["config"]
        key = f"eksgitops:{head}"
        for part in rest:
            target = target.setdefault(key, {})
            key = part
        target[key] = value
    # sort_keys=False: a reordered policy document would read as a changed one.
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return folder


def against(plan: PlanResult, state: dict[str, Any], tmp_path: Path, stack: str = "dev") -> Diff:
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))
    return diff(plan, load_state(path, stack=stack, project="eksgitops"), str(path))


@pytest.fixture(scope="module")
def dev() -> PlanResult:
    return run_plan("dev", stacks_dir=ROOT / "stacks", project_dir=ROOT)


def actions(result: Diff) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for change in result.changes:
        found.setdefault(change.action, set()).add(f"{change.type} {change.name}")
    return found


def test_a_new_vpc_cidr_replaces_what_preview_replaces(dev: PlanResult, tmp_path: Path) -> None:
    head = run_plan(
        "dev",
        stacks_dir=stack_variant(tmp_path, "dev", {"network.vpcCidr": "10.20.0.0/16"}),
        project_dir=ROOT,
    )
    result = against(head, export_of(dev, "dev"), tmp_path)
    replaced = {name.split(" ")[0] for name in actions(result)["replace"]}
    network = "eksgitops-dev-network"
    replaced_names = {name.split(" ")[1] for name in actions(result)["replace"]}
    # The VPC and its subnets, and everything built from their ids, as the engine would see it.
    assert {
        f"{network}",
        *(f"{network}-{kind}-{i}" for kind in ("private", "public") for i in (0, 1)),
        *(f"{network}-private-rt-{i}" for i in (0, 1)),
        f"{network}-public-rt",
        *(f"{network}-private-default-{i}" for i in (0, 1)),
        f"{network}-public-default",
        f"{network}-nat-0",
        *(f"{network}-{kind}-rta-{i}" for kind in ("private", "public") for i in (0, 1)),
    } <= replaced_names
    assert {
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/route:Route",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
    } <= replaced
    nat = next(c for c in result.changes if c.name == f"{network}-nat-0")
    assert [(p.path, p.after, p.forces_replacement) for p in nat.paths] == [
        ("subnetId", KNOWN_AFTER_APPLY, True)
    ]
    # The internet gateway moves to the new VPC in place: an update, its vpcId unknown until then.
    igw = next(c for c in result.changes if c.name == f"{network}-igw")
    assert igw.action == "update" and [(p.path, p.after) for p in igw.paths] == [("vpcId", KNOWN_AFTER_APPLY)]
    # The elastic IP depends on nothing that changes.
    assert f"{network}-nat-eip-0" not in {c.name for c in result.changes}
    assert not banner_lines(result)


def test_a_replaced_kms_key_makes_its_alias_target_known_after_apply(dev: PlanResult, tmp_path: Path) -> None:
    state = export_of(dev, "dev")
    resources = state["deployment"]["resources"]
    key = next(r for r in resources if r["type"] == "aws:kms/key:Key")
    alias = next(r for r in resources if r["type"] == "aws:kms/alias:Alias")
    # What a real state holds: the key's ARN, where the plan has a placeholder.
    alias["inputs"]["targetKeyId"] = KEY_ARN
    assert against(dev, state, tmp_path).changes == []  # the key stays: so does its ARN
    key["inputs"]["keyUsage"] = "SIGN_VERIFY"
    result = against(dev, state, tmp_path)
    by_type = {c.type: c for c in result.changes}
    assert by_type["aws:kms/key:Key"].action == "replace"
    assert by_type["aws:kms/alias:Alias"].action == "update"
    assert [(p.path, p.after) for p in by_type["aws:kms/alias:Alias"].paths] == [
        ("targetKeyId", KNOWN_AFTER_APPLY)
    ]
    assert f'    targetKeyId: "{KEY_ARN}" -> (known after apply)' in diff_lines(result)


def test_a_new_input_only_the_cloud_knows_is_shown_not_dropped(dev: PlanResult, tmp_path: Path) -> None:
    state = export_of(dev, "dev")
    alias = next(r for r in state["deployment"]["resources"] if r["type"] == "aws:kms/alias:Alias")
    del alias["inputs"]["targetKeyId"]
    result = against(dev, state, tmp_path)
    [change] = result.changes
    assert change.type == "aws:kms/alias:Alias" and change.action == "update"
    assert "    targetKeyId: (none) -> (known after apply)" in diff_lines(result)


def test_ignore_changes_is_honoured(dev: PlanResult, tmp_path: Path) -> None:
    state = export_of(dev, "dev")
    group = next(r for r in state["deployment"]["resources"] if r["type"] == "aws:eks/nodeGroup:NodeGroup")
    group["inputs"]["scalingConfig"]["desiredSize"] = 5
    result = against(dev, state, tmp_path)
    assert result.changes == []
    [ignored] = result.ignored
    assert ignored.type == "aws:eks/nodeGroup:NodeGroup"
    assert [(p.path, p.before, p.after, p.ignored) for p in ignored.paths] == [
        ("scalingConfig.desiredSize", 5, 2, True)
    ]
    lines = diff_lines(result)
    assert "0 to update" in lines[0] and "1 with changes ignored by ignoreChanges" in lines[0]
    assert "= ignore aws:eks/nodeGroup:NodeGroup eksgitops-dev-cluster-general" in lines
    assert "    scalingConfig.desiredSize: 5 -> 2 (ignored: ignoreChanges keeps the deployed value)" in lines
    # An ignored path never forces a replacement, even beside a real change.
    group["inputs"]["instanceTypes"] = ["t3.large"]
    [change] = against(dev, state, tmp_path).changes
    assert change.action == "replace"
    assert {p.path: (p.forces_replacement, p.ignored) for p in change.paths} == {
        "instanceTypes": (True, False),
        "scalingConfig.desiredSize": (False, True),
    }


@pytest.mark.parametrize("agent", sorted(AGENTS))
def test_every_agent_against_its_own_state_changes_nothing(agent: str, tmp_path: Path) -> None:
    folder = stack_variant(
        tmp_path,
        "dev",
        {
            "gitops": {
                **yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())["config"][
                    "eksgitops:gitops"
                ],
                **AGENTS[agent],
            }
        },
    )
    plan = run_plan("dev", stacks_dir=folder, project_dir=ROOT)
    result = against(plan, export_of(plan, "dev"), tmp_path)
    assert result.changes == [] and result.ignored == []


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_shipped_stacks_against_their_own_state_change_nothing(stack: str, tmp_path: Path) -> None:
    plan = run_plan(stack, stacks_dir=ROOT / "stacks", project_dir=ROOT)
    result = against(plan, export_of(plan, stack), tmp_path, stack)
    assert result.changes == [] and result.unchanged == len(plan.resources)


def _run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stack: str, state: dict[str, Any]):
    (tmp_path / "state.json").write_text(json.dumps(state))
    monkeypatch.chdir(ROOT)
    return CliRunner().invoke(
        app, ["plan", stack, "--against", str(tmp_path / "state.json"), "--out", str(tmp_path / "build")]
    )


@pytest.mark.parametrize(("other", "project"), [("prod", "eksgitops"), ("dev", "another-project")])
def test_the_state_of_another_stack_is_refused(
    dev: PlanResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, other: str, project: str
) -> None:
    state = json.loads(
        json.dumps(export_of(dev, "dev")).replace(
            "urn:pulumi:dev::eksgitops::", f"urn:pulumi:{other}::{project}::"
        )
    )
    result = _run(tmp_path, monkeypatch, "dev", state)
    assert result.exit_code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(
        f"eksgitops plan: --against {tmp_path / 'state.json'}: the state of stack {other!r} "
        f"of project {project!r}, not of stack 'dev' of project 'eksgitops'"
    )
    assert not (tmp_path / "build").exists()  # refused before anything is written


def test_its_own_state_is_accepted(dev: PlanResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _run(tmp_path, monkeypatch, "dev", export_of(dev, "dev"))
    assert result.exit_code == 0, result.output
    assert "0 to create, 0 to replace, 0 to update, 0 to delete" in result.stdout.splitlines()[-1]


def _documented_keys() -> list[str]:
    text = (ROOT / "docs" / "configuration.md").read_text()
    section = text.split("## Keys that replace or delete the cluster", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE)


# A value for each key docs/configuration.md lists as replacing or deleting the cluster.
CLUSTER_KEYS = {"clusterName": "eksgitops-renamed", "network.serviceCidr": "172.21.0.0/16"}
# Keys that change much but keep the cluster: no banner.
KEPT = {
    "kubernetesVersion": "1.35",
    "network.vpcCidr": "10.20.0.0/16",
    "endpoint.publicAccessCidrs": ["198.51.100.0/24"],
    "controlPlane.logRetentionDays": 30,
}


def test_the_documented_cluster_keys_are_the_tested_ones() -> None:
    assert sorted(_documented_keys()) == sorted(CLUSTER_KEYS)


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("key", sorted(CLUSTER_KEYS))
def test_a_change_that_replaces_the_cluster_has_a_banner(stack: str, key: str, tmp_path: Path) -> None:
    base = run_plan(stack, stacks_dir=ROOT / "stacks", project_dir=ROOT)
    head = run_plan(
        stack, stacks_dir=stack_variant(tmp_path, stack, {key: CLUSTER_KEYS[key]}), project_dir=ROOT
    )
    result = against(head, export_of(base, stack), tmp_path, stack)
    [banner] = banner_lines(result)
    assert banner.startswith("WARNING: this change ") and "aws:eks/cluster:Cluster" in banner
    assert diff_lines(result)[0] == banner
    assert json.loads(json.dumps(result.to_json()))["clusterReplaced"] is True


@pytest.mark.parametrize("key", sorted(KEPT))
def test_a_change_that_keeps_the_cluster_has_no_banner(dev: PlanResult, key: str, tmp_path: Path) -> None:
    head = run_plan("dev", stacks_dir=stack_variant(tmp_path, "dev", {key: KEPT[key]}), project_dir=ROOT)
    result = against(head, export_of(dev, "dev"), tmp_path)
    assert result.changes and banner_lines(result) == []
    assert result.to_json()["clusterReplaced"] is False


def test_a_plain_plan_removes_the_diff_of_an_earlier_run(
    dev: PlanResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _run(tmp_path, monkeypatch, "dev", export_of(dev, "dev")).exit_code == 0
    assert (tmp_path / "build" / "dev" / "diff.json").is_file()
    result = CliRunner().invoke(app, ["plan", "dev", "--out", str(tmp_path / "build")])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "build" / "dev" / "diff.json").exists()


def test_plan_md_names_no_absolute_local_path(
    dev: PlanResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _run(tmp_path, monkeypatch, "dev", export_of(dev, "dev"))
    assert result.exit_code == 0, result.output
    comment = (tmp_path / "build" / "dev" / "plan.md").read_text()
    assert str(tmp_path) not in comment and str(Path.home()) not in comment
    assert "`` state.json ``" in comment or "` state.json `" in comment
