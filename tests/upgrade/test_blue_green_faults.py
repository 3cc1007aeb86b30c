"""Blue/green under the faults of the real world, in the simulated one (moto's server for Route53,
the fake Kubernetes API over HTTP, the recording Pulumi backend): a signal during the shift, an
operator's rollback during a hold, throttled and dropped looks at green; then two upgrades in a row."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from eksgitops.dr.cluster_api import KUSTOMIZATION
from tests.simworld.kube_server import FakeKubeServer, Request
from tests.upgrade.conftest import set_version
from tests.upgrade.sim_bluegreen import NAME, BlueGreenSim, lb

GREEN = "dev-green"


def _during_the_shift(world: BlueGreenSim, action, *, at: int = 10) -> None:
    """Run `action` once, on green's API server, at the first look at green after green has `at`%."""
    done: list[bool] = []

    def hook(server: FakeKubeServer, req: Request) -> None:
        if done or req.method != "GET" or KUSTOMIZATION.plural not in req.path:
            return
        if world.weights().get("green", ("", 0))[1] == at:
            done.append(True)
            action()

    world.server(GREEN).hooks.append(hook)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_the_shift_puts_every_weight_back_on_blue(bg, scaffold, sig):
    previous = signal.signal(signal.SIGTERM, lambda *a: None)  # the test run survives the old code
    _during_the_shift(bg, lambda: os.kill(os.getpid(), sig))
    try:
        result = bg.apply(scaffold, "1.36")
    except KeyboardInterrupt:
        pytest.fail("SIGINT escaped the shift: the weights were left split between blue and green")
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert result.exit_code == 1
    assert f"interrupted by {sig.name}" in result.stderr
    assert bg.weights() == {"blue": (lb("dev"), 100), "green": (lb(GREEN), 0)}
    assert "destroy" not in bg.sim.backend.verbs("dev")  # blue serves on
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handlers given back


def test_an_operators_rollback_during_a_hold_wins_and_apply_stops(bg, scaffold):
    env = {**os.environ}
    rollback = [
        str(Path(sys.executable).parent / "eksgitops"), "upgrade", "rollback", "dev",
        "--zone-id", bg.zone_id, "--record", NAME,
    ]  # fmt: skip
    said: list[str] = []

    def operator() -> None:  # another process, over HTTP to the same Route53
        proc = subprocess.run(rollback, env=env, capture_output=True, text=True, check=False, timeout=120)
        said.append(proc.stdout + proc.stderr)

    _during_the_shift(bg, operator)
    result = bg.apply(scaffold, "1.36")
    assert "blue 100, green 0" in said[0]
    assert result.exit_code == 1
    assert "someone else moved them (upgrade rollback?); stopped without a change" in result.stderr
    assert bg.weights() == {"blue": (lb("dev"), 100), "green": (lb(GREEN), 0)}  # the rollback stands
    assert "destroy" not in bg.sim.backend.verbs("dev")
    assert "shift green 50%" in result.stderr or "hold at 10%" in result.stderr


@pytest.mark.parametrize("fault", ["throttle", "drop"])
def test_throttled_or_dropped_looks_during_a_hold_are_not_yet(bg, scaffold, fault):
    left = {"n": 4}

    def flaky(req: Request) -> str | None:
        looks = req.method == "GET" and KUSTOMIZATION.plural in req.path
        if looks and left["n"] > 0 and bg.weights().get("green", ("", 0))[1] == 50:
            left["n"] -= 1
            return fault
        return None

    green = bg.server(GREEN)
    green.fault = flaky
    result = bg.apply(scaffold, "1.36")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert left["n"] == 0  # the faults did fire
    assert "green not readable" in result.stdout
    assert bg.weights() == {"blue": (lb(GREEN), 100)}


def test_green_unreadable_past_its_grace_rolls_back(bg, scaffold):
    bg.server(GREEN).fault = lambda req: (
        "throttle"
        if KUSTOMIZATION.plural in req.path and bg.weights().get("green", ("", 0))[1] == 10
        else None
    )
    result = bg.apply(scaffold, "1.36")
    assert result.exit_code == 1
    assert "green unreadable during the hold" in result.stderr
    assert bg.weights() == {"blue": (lb("dev"), 100), "green": (lb(GREEN), 0)}


def test_two_upgrades_in_a_row_swap_roles_and_keep_the_records_fields(bg, project, scaffold):
    set_version(project, "dev", "1.34")
    first = bg.apply(scaffold, "1.35")
    assert first.exit_code == 0, first.stdout + first.stderr
    assert "dev-green at 1.35 serves app.example.com.; dev retired" in first.stdout
    assert bg.weights() == {"blue": (lb("dev-green"), 100)}  # the survivor is the new blue
    assert bg.sim.backend.stacks["dev-green"].config["eksgitops:clusterRole"] == "primary"
    second = bg.apply(scaffold, "1.36")
    assert second.exit_code == 0, second.stdout + second.stderr
    assert "dev-blue at 1.36 serves app.example.com.; dev-green retired" in second.stdout
    assert bg.weights() == {"blue": (lb("dev-blue"), 100)}
    assert bg.sim.backend.verbs("dev-green")[-1] == "destroy"
    records = bg.aws.client("route53").list_resource_record_sets(HostedZoneId=bg.zone_id)
    by_name = {(r["Name"], r.get("SetIdentifier")): r for r in records["ResourceRecordSets"]}
    blue = by_name[(NAME + ".", "blue")]
    assert blue["TTL"] == 30  # blue's own TTL, carried through both upgrades
    assert by_name[("_eksgitops-upgrade." + NAME + ".", None)]["ResourceRecords"] == [
        {"Value": '"live=dev-blue"'}
    ]
    text = (project / "stacks" / "Pulumi.dev.yaml").read_text()
    assert 'eksgitops:kubernetesVersion: "1.36"' in text  # the file says what runs
