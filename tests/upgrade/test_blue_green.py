"""Blue/green in the simulated world (moto's server for Route53, the fake Kubernetes API over HTTP
per cluster, the recording Pulumi backend): the whole run, and the abort points: green never
healthy, a shift step failing, green unhealthy during a hold; `upgrade rollback` on its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eksgitops.dr.cluster_api import FLUX_INSTANCE, KUSTOMIZATION
from tests.simworld.cluster import ready
from tests.simworld.kube_server import FakeKubeServer, Request
from tests.upgrade.conftest import run
from tests.upgrade.sim_bluegreen import NAME, lb

GREEN = "dev-green"


def _report(project: Path) -> dict[str, Any]:
    [path] = sorted((project / "build" / "upgrade").glob("*.json"))
    return json.loads(path.read_text())


def test_rollback_puts_everything_on_blue_and_keeps_the_records_fields(bg, project):
    r53 = bg.aws.client("route53")
    [blue] = [r for r in r53.list_resource_record_sets(HostedZoneId=bg.zone_id)["ResourceRecordSets"]
              if r.get("SetIdentifier") == "blue"]  # fmt: skip
    green = {**blue, "SetIdentifier": "green", "Weight": 10, "ResourceRecords": [{"Value": lb(GREEN)}]}
    green.pop("HealthCheckId")
    r53.change_resource_record_sets(
        HostedZoneId=bg.zone_id,
        ChangeBatch={
            "Changes": [
                {"Action": "UPSERT", "ResourceRecordSet": {**blue, "Weight": 90}},
                {"Action": "CREATE", "ResourceRecordSet": green},
            ]
        },
    )
    result = run("upgrade", "rollback", "dev", "--zone-id", bg.zone_id, "--record", NAME)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"eksgitops upgrade rollback dev: {NAME}.: blue 100, green 0"
    assert bg.weights() == {"blue": (lb("dev"), 100), "green": (lb(GREEN), 0)}
    records = r53.list_resource_record_sets(HostedZoneId=bg.zone_id)["ResourceRecordSets"]
    [after] = [r for r in records if r.get("SetIdentifier") == "blue"]
    assert after["TTL"] == 30 and after["HealthCheckId"] == bg.health_check  # fields carried over
    assert r53.get_hosted_zone(Id=bg.zone_id)["HostedZone"]["Name"] == "example.com."


def test_rollback_after_blue_is_retired_says_there_is_nothing_to_go_back_to(aws_env, project):
    from eksgitops.dr.aws import AwsClients

    zone_id = (
        AwsClients("eu-west-1")
        .client("route53")
        .create_hosted_zone(Name="example.com", CallerReference="r2")["HostedZone"]["Id"]
    )
    result = run("upgrade", "rollback", "dev", "--zone-id", zone_id.split("/")[-1], "--record", NAME)
    assert result.exit_code == 1
    assert "has no blue record: blue is retired, nothing to go back to" in result.stderr


def test_blue_green_builds_green_shifts_step_by_step_and_retires_blue(bg, project, scaffold):
    result = bg.apply(scaffold, "1.36")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "dev-green at 1.36 serves app.example.com.; dev retired" in result.stdout
    green_stack = bg.sim.backend.stacks[GREEN]
    assert green_stack.copied_from == "dev"
    config = green_stack.config
    assert config["eksgitops:clusterName"] == "eksgitops-dev-green"
    assert config["eksgitops:kubernetesVersion"] == "1.36"
    assert bg.sim.backend.verbs("dev")[-1] == "destroy"  # blue retired
    assert bg.weights() == {"blue": (lb(GREEN), 100)}  # green is the new blue
    names = [p["name"] for p in _report(project)["phases"]]
    shifts = [n for n in names if n.startswith(("shift", "hold")) or n == "final hold"]
    assert shifts == [
        "shift green 10%", "hold at 10%", "shift green 50%", "hold at 50%", "shift green 100%", "final hold",
    ]  # fmt: skip
    assert names.index("green verified") < names.index("shift green 10%") < names.index("roles swapped")
    assert names.index("roles swapped") < names.index("green promoted") < names.index("destroy")
    assert names.index("destroy") < names.index("stack file")
    assert green_stack.config["eksgitops:clusterRole"] == "primary"  # it serves: the fleet's writers come up


def test_green_never_healthy_is_torn_down_and_blue_keeps_all_traffic(bg, project, scaffold):
    green = bg.server(GREEN)
    green.objects[next(k for k in green.objects if k[1] == FLUX_INSTANCE.plural)]["status"]["conditions"] = (
        ready("False", "InstallFailed")
    )
    result = bg.apply(scaffold, "1.36", "--poll", "300")
    assert result.exit_code == 1
    assert "stopped in phase agent ready" in result.stderr
    assert bg.sim.backend.verbs(GREEN)[-1] == "destroy"
    assert "destroy" not in bg.sim.backend.verbs("dev")
    assert bg.weights() == {"blue": (lb("dev"), 100)}


def test_a_shift_step_failing_puts_every_weight_back_on_blue(bg, project, scaffold, monkeypatch):
    from eksgitops.dr.context import DrFailure
    from eksgitops.upgrade import blue_green

    real, calls = blue_green.change, []

    def change(aws, record, before, after, comment, clock, poll):
        calls.append(comment)
        if "green 50%" in comment:
            raise DrFailure(f"Route53 {record.fqdn}: {comment}: Throttling: Rate exceeded")
        return real(aws, record, before, after, comment, clock, poll)

    monkeypatch.setattr(blue_green, "change", change)
    result = bg.apply(scaffold, "1.36")
    assert result.exit_code == 1
    assert "stopped in phase shift green 50%" in result.stderr
    assert bg.weights() == {"blue": (lb("dev"), 100), "green": (lb(GREEN), 0)}
    assert "destroy" not in bg.sim.backend.verbs("dev")
    assert _report(project)["phases"][-1]["name"] == "rollback"


def test_green_unhealthy_during_a_hold_rolls_back(bg, project, scaffold):
    def sicken(server: FakeKubeServer, req: Request) -> None:
        if bg.weights().get("green", ("", 0))[1] == 10:
            for key, obj in server.objects.items():
                if key[1] == KUSTOMIZATION.plural and key[3] == "apps":
                    obj["status"]["conditions"] = ready("False", "HealthCheckFailed")

    bg.server(GREEN).hooks.append(sicken)
    result = bg.apply(scaffold, "1.36")
    assert result.exit_code == 1
    assert "stopped in phase hold at 10%: green unhealthy during the hold" in result.stderr
    assert bg.weights() == {"blue": (lb("dev"), 100), "green": (lb(GREEN), 0)}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--steps", "50,10,100"), "--steps '50,10,100': not rising percentages ending in 100"),
        (("--entry", "pod/apps/x"), "--entry 'pod/apps/x': required for blue-green"),
    ],
)
def test_blue_green_usage_mistakes_exit_2(project, scaffold, extra, message):
    result = run(
        "upgrade", "apply", "dev", "--to", "1.37", "--strategy", "blue-green", "--zone-id", "Z1",
        "--record", NAME, "--entry", "service/apps/podinfo", *extra,
    )  # fmt: skip
    assert result.exit_code == 2
    assert message in result.stderr
