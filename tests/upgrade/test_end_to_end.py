"""`upgrade check`, `apply --strategy blue-green` and `rollback` end to end on every shipped stack
(`stacks/Pulumi.{dev,staging,prod}.yaml`) with every agent, in the simulated world: moto's server
for Route53, EKS and KMS, the recording Pulumi backend, a fake Kubernetes API server over HTTP
per cluster. dev ships at the newest minor EKS offers, so it goes from the one before."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.simworld.stacks import AGENTS, SHIPPED, install
from tests.upgrade.conftest import git, run, set_version
from tests.upgrade.sim_bluegreen import NAME, BlueGreenSim, lb


@pytest.fixture
def fleet_of(scaffold, argo_scaffold):
    return lambda agent: scaffold if agent == "flux" else argo_scaffold


@pytest.fixture
def world(aws_env, project, monkeypatch) -> Iterator[list[BlueGreenSim]]:
    made: list[BlueGreenSim] = []
    yield made
    for sim in made:
        sim.stop()


@pytest.mark.parametrize("agent", AGENTS)
@pytest.mark.parametrize("stack", SHIPPED)
def test_check_apply_and_rollback_on_every_shipped_stack_and_agent(
    world, project, fleet_of, monkeypatch, stack, agent
):
    install(project, stack, agent)
    if stack == "dev":
        set_version(project, "dev", "1.35")
    fleet = fleet_of(agent)
    checked = run("upgrade", "check", stack, "--to", "1.36", "--repo", str(fleet))
    assert checked.exit_code == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip().splitlines()[-1].startswith(f"upgrade check {stack} 1.35 -> 1.36: ready")

    sim = BlueGreenSim(project, monkeypatch, git("rev-parse", "main", cwd=fleet), agent, stack)
    world.append(sim)
    kms = sim.aws.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=f"alias/eksgitops-{stack}-sops", TargetKeyId=key)
    applied = sim.apply(fleet, "1.36")
    assert applied.exit_code == 0, applied.stdout + applied.stderr
    green = f"{stack}-green"
    assert f"{green} at 1.36 serves {NAME}.; {stack} retired" in applied.stdout
    config = sim.sim.backend.stacks[green].config
    assert config["eksgitops:clusterName"] == f"eksgitops-{stack}-green"
    assert config["eksgitops:clusterRole"] == "primary"  # green was green, then promoted
    assert sim.sim.backend.verbs(stack)[-1] == "destroy"
    assert sim.weights() == {"blue": (lb(green), 100)}

    rolled = run("upgrade", "rollback", stack, "--zone-id", sim.zone_id, "--record", NAME)
    assert rolled.exit_code == 0, rolled.stderr  # blue (the former green) keeps everything
    assert sim.weights() == {"blue": (lb(green), 100)}
