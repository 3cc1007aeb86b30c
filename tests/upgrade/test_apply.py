"""`eksgitops upgrade apply --strategy in-place`: the reviewed stack-file edit, then `up` in EKS's order
with a check after each phase. AWS is moto's server, Pulumi the fake workspace, Kubernetes the fake
cluster of tests/dr; the faults are a control plane that never moves and nodes that never move."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eksgitops.components.spec.read.stack_file import raw_config_from_stack_file
from eksgitops.dr import world as dr_world
from eksgitops.dr.aws import AwsClients
from eksgitops.dr.cluster_api import NODE
from eksgitops.fleet.credentials import Credentials
from tests.dr.conftest import FakeClock, FakeWorkspace, client, healthy_cluster
from tests.upgrade.conftest import run, set_version

CLUSTER = "eksgitops-dev"


def _reports(project: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((project / "build" / "upgrade").glob("*.json"))]


class UpgradeWorld:
    """The cloud the in-place upgrade sees; `cluster_moves` and `nodes_move` play EKS."""

    def __init__(self, *, cluster_moves: bool = True, nodes_move: bool = True) -> None:
        self.clock = FakeClock()
        self.api = healthy_cluster(self.clock, "0" * 40)
        self._kubelet("v1.35.4-eks-1")
        self.workspace = FakeWorkspace(self.clock, outputs_value={"kubeconfig": "apiVersion: v1"})
        self.workspace.on_calls = self._on_call
        self.cluster_moves, self.nodes_move = cluster_moves, nodes_move

    def _kubelet(self, version: str) -> None:
        for (plural, _, _), obj in self.api.objects.items():
            if plural == NODE.plural:
                obj["status"]["nodeInfo"] = {"kubeletVersion": version}

    def _on_call(self, verb: str) -> None:
        if verb != "up":
            return
        targets = (self.workspace.calls[-1][1] or {}).get("targets") or []
        if any("aws:eks/cluster:Cluster" in urn for urn in targets) and self.cluster_moves:
            client("eks").create_cluster(
                name=CLUSTER,
                version="1.36",
                roleArn="arn:aws:iam::123456789012:role/eks",
                resourcesVpcConfig={"subnetIds": []},
            )
        if any("aws:eks/nodeGroup:NodeGroup" in urn for urn in targets) and self.nodes_move:
            self._kubelet("v1.36.2-eks-1")

    def build(self) -> dr_world.World:
        return dr_world.World(
            clock=self.clock,
            aws=lambda region: AwsClients(region),
            workspace=lambda project, env: self.workspace,
            cluster_api=lambda outputs: self.api,
            plan=lambda project, stacks, out: None,  # type: ignore[arg-type,return-value]
            fleet=lambda project: None,  # type: ignore[arg-type,return-value]
            creds=Credentials.load,
        )


@pytest.fixture
def upgrade_world(aws_env, project, monkeypatch):
    set_version(project, "dev", "1.35")
    made: list[UpgradeWorld] = []

    def use(**kwargs: bool) -> UpgradeWorld:
        world = UpgradeWorld(**kwargs)
        monkeypatch.setattr(dr_world, "default_world", world.build)
        made.append(world)
        return world

    return use


def _apply(scaffold: Path, *extra: str):
    return run("upgrade", "apply", "dev", "--to", "1.36", "--repo", str(scaffold), "--poll", "30", *extra)


def test_without_yes_the_diff_is_shown_and_nothing_changes(upgrade_world, project, scaffold):
    world = upgrade_world()
    before = (project / "stacks" / "Pulumi.dev.yaml").read_text()
    result = _apply(scaffold)
    assert result.exit_code == 0, result.stderr
    assert '-  eksgitops:kubernetesVersion: "1.35"\n+  eksgitops:kubernetesVersion: "1.36"\n' in result.stdout
    lines = result.stdout.splitlines()
    changed = [x for x in lines if x[:1] in "+-" and x[:3] not in ("+++", "---")]
    assert len(changed) == 2  # one line moves, nothing else
    assert "nothing applied; review the diff, then run again with --yes" in result.stdout
    assert (project / "stacks" / "Pulumi.dev.yaml").read_text() == before
    assert world.workspace.calls == [] and not (project / "build" / "upgrade").exists()


def test_a_blocked_stack_is_not_touched(upgrade_world, project, tmp_path):
    upgrade_world()
    before = (project / "stacks" / "Pulumi.staging.yaml").read_text()
    nowhere = str(tmp_path / "nowhere")  # the fleet cannot be read: one blocker
    result = run("upgrade", "apply", "staging", "--to", "1.36", "--repo", nowhere, "--yes")
    assert result.exit_code == 1
    assert "blocked by 1 finding(s); nothing changed" in result.stderr
    assert (project / "stacks" / "Pulumi.staging.yaml").read_text() == before


def test_in_place_runs_the_phases_in_order_and_reports_each(upgrade_world, project, scaffold):
    world = upgrade_world()
    result = _apply(scaffold, "--yes")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "upgrade apply dev: at 1.36" in result.stdout
    # The edit reads back through the real reader: the version moved, nothing else did.
    raw = raw_config_from_stack_file(project / "stacks" / "Pulumi.dev.yaml")
    assert raw["kubernetesVersion"] == "1.36" and raw["clusterName"] == CLUSTER
    ups = [detail for verb, detail in world.workspace.calls if verb == "up"]
    kinds = [{urn.split("::")[-2].split("$")[-1] for urn in (d or {}).get("targets", [])} for d in ups]
    assert kinds == [
        {"aws:eks/cluster:Cluster"},
        {"aws:eks/addon:Addon"},
        {"aws:ec2/launchTemplate:LaunchTemplate", "aws:eks/nodeGroup:NodeGroup"},
        set(),  # the converging whole `up`
    ]
    [report] = _reports(project)
    assert report["outcome"] == "ok" and report["facts"]["to"] == "1.36"
    assert [p["name"] for p in report["phases"]] == [
        "stack file",
        "control plane",
        "control plane verified",
        "add-ons",
        "add-ons verified",
        "node groups",
        "node groups verified",
        "converge",
    ]
    assert all(p["seconds"] is not None for p in report["phases"])


def test_a_control_plane_that_never_moves_stops_before_the_add_ons(upgrade_world, project, scaffold):
    world = upgrade_world(cluster_moves=False)
    result = _apply(scaffold, "--yes", "--timeout-control-plane", "120")
    assert result.exit_code == 1
    assert (
        "eksgitops upgrade apply dev: stopped in phase control plane verified: timed out after 120s "
        "waiting for cluster eksgitops-dev to be ACTIVE at 1.36"
    ) in result.stderr
    assert len([c for c in world.workspace.calls if c[0] == "up"]) == 1
    [report] = _reports(project)
    assert report["stoppedAt"] == "control plane verified"


def test_nodes_that_never_move_stop_the_upgrade_and_name_the_old_kubelet(upgrade_world, project, scaffold):
    upgrade_world(nodes_move=False)
    result = _apply(scaffold, "--yes", "--timeout-nodes", "60")
    assert result.exit_code == 1
    assert "stopped in phase node groups verified" in result.stderr
    assert "still at v1.35.4-eks-1" in result.stderr
    assert _reports(project)[0]["stoppedAt"] == "node groups verified"


def test_an_unknown_strategy_is_a_usage_mistake(project):
    result = run("upgrade", "apply", "dev", "--to", "1.37", "--strategy", "sideways")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: --strategy: 'sideways' is not supported (allowed: in-place, blue-green)"
    )
