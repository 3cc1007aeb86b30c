"""Blue/green: Route53 weights against a real moto server, the green stack through the fake workspace,
and the faults: green never healthy, a shift step failing, green unhealthy during a hold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from eksgitops.components.spec import load_spec
from eksgitops.components.spec.read.stack_file import raw_config_from_stack_file
from eksgitops.dr import world as dr_world
from eksgitops.dr.aws import AwsClients
from eksgitops.dr.cluster_api import FLUX_INSTANCE, KUSTOMIZATION, SERVICE
from eksgitops.fleet.credentials import Credentials
from eksgitops.upgrade.weights import WeightedName, set_weights, targets
from tests.dr.conftest import (
    REGION,
    STACK_FILE,
    FakeClock,
    FakeWorkspace,
    client,
    event,
    healthy_cluster,
    ready,
)
from tests.dr.test_verify import aws_with_pod_identity, build_environment
from tests.upgrade.conftest import git, run

NAME = "app.example.com"
BLUE_LB = "blue-123.eu-west-1.elb.amazonaws.com"
GREEN_LB = "green-456.eu-west-1.elb.amazonaws.com"


def _zone() -> str:
    zone = client("route53").create_hosted_zone(Name="example.com", CallerReference="upgrade-test")
    zone_id = zone["HostedZone"]["Id"].split("/")[-1]
    AwsClients(REGION).client("route53").change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": NAME + ".",
                        "Type": "CNAME",
                        "SetIdentifier": "blue",
                        "Weight": 100,
                        "TTL": 60,
                        "ResourceRecords": [{"Value": BLUE_LB}],
                    },
                }
            ]
        },
    )
    return zone_id


def _weights(zone_id: str) -> dict[str, tuple[str, int]]:
    return targets(AwsClients(REGION), WeightedName(zone_id, NAME))


def test_weights_move_both_records_and_rollback_puts_everything_on_blue(aws_env, project):
    zone_id = _zone()
    record = WeightedName(zone_id, NAME)
    set_weights(AwsClients(REGION), record, {"blue": BLUE_LB, "green": GREEN_LB}, 10)
    assert _weights(zone_id) == {"blue": (BLUE_LB, 90), "green": (GREEN_LB, 10)}
    result = run("upgrade", "rollback", "dev", "--zone-id", zone_id, "--record", NAME)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"eksgitops upgrade rollback dev: {NAME}.: blue 100, green 0"
    assert _weights(zone_id) == {"blue": (BLUE_LB, 100), "green": (GREEN_LB, 0)}
    assert client("route53").get_hosted_zone(Id=zone_id)["HostedZone"]["Name"] == "example.com."


def test_rollback_after_blue_is_retired_says_there_is_nothing_to_go_back_to(aws_env, project):
    zone_id = client("route53").create_hosted_zone(Name="example.com", CallerReference="r2")["HostedZone"][
        "Id"
    ]
    result = run("upgrade", "rollback", "dev", "--zone-id", zone_id.split("/")[-1], "--record", NAME)
    assert result.exit_code == 1
    assert "has no blue record: blue is retired, nothing to go back to" in result.stderr


class GreenWorld:
    """Green's cluster (fake) and workspace (fake); AWS is moto, with an optional Route53 fault."""

    def __init__(self, project: Path, sha: str, *, fail_change: int | None = None) -> None:
        self.clock = FakeClock()
        self.api = healthy_cluster(self.clock, sha, {"environment": "dev"})
        self.api.add(
            SERVICE,
            {
                "metadata": {"name": "podinfo", "namespace": "apps"},
                "status": {"loadBalancer": {"ingress": [{"hostname": GREEN_LB}]}},
            },
        )
        self.workspace = FakeWorkspace(
            self.clock,
            outputs_value={"kubeconfig": "apiVersion: v1", "bridge": {"environment": "dev"}},
            up_events=[event("eks:index:Cluster", "eksgitops-dev-green")],
            destroy_events=[event("eks:index:Cluster", "eksgitops-dev-green", "delete")],
        )
        raw = raw_config_from_stack_file(project / "stacks" / "Pulumi.dev.yaml")
        green = {**raw, "clusterName": "eksgitops-dev-green", "kubernetesVersion": "1.36"}
        green["escrow"] = {**green["escrow"], "enabled": False}
        self.spec = load_spec(green, stack="dev-green", source="test")
        build_environment(self.spec)
        self.aws = aws_with_pod_identity(self.spec)
        self.fail_change = fail_change
        self.changes = 0
        real = self.aws.client("route53")
        outer = self

        class Route53:
            def __getattr__(self, name: str) -> Any:
                return getattr(real, name)

            def change_resource_record_sets(self, **kwargs: Any) -> Any:
                outer.changes += 1
                if outer.changes == outer.fail_change:
                    raise RuntimeError("Throttling: Rate exceeded")
                return real.change_resource_record_sets(**kwargs)

        self.aws._clients["route53"] = Route53()

    def build(self) -> dr_world.World:
        return dr_world.World(
            clock=self.clock,
            aws=lambda region: self.aws,
            workspace=lambda project, env: self.workspace,
            cluster_api=lambda outputs: self.api,
            plan=lambda project, stacks, out: None,  # type: ignore[arg-type,return-value]
            fleet=lambda project: None,  # type: ignore[arg-type,return-value]
            creds=Credentials.load,
        )


@pytest.fixture
def blue_green(aws_env, project, scaffold, monkeypatch):
    # tests/dr's dev stack plus the identity the shipped scaffold's load balancer controller uses.
    lbc = (
        "    - name: aws-load-balancer-controller\n"
        "      namespace: kube-system\n"
        "      serviceAccount: aws-load-balancer-controller\n"
        "      mode: irsa\n"
        "      managedPolicyArns: [arn:aws:iam::aws:policy/ElasticLoadBalancingFullAccess]\n"
    )
    stack = STACK_FILE.replace("  eksgitops:gitops:\n", lbc + "  eksgitops:gitops:\n")
    (project / "stacks" / "Pulumi.dev.yaml").write_text(stack)
    key = client("kms").create_key()["KeyMetadata"]["KeyId"]
    client("kms").create_alias(AliasName="alias/eksgitops-dev-sops", TargetKeyId=key)
    sha = git("rev-parse", "main", cwd=scaffold)

    def use(**kwargs: Any) -> tuple[GreenWorld, str]:
        world = GreenWorld(project, sha, **kwargs)
        monkeypatch.setattr(dr_world, "default_world", world.build)
        return world, _zone()

    return use


def _apply(scaffold: Path, zone_id: str, *extra: str):
    return run(
        "upgrade", "apply", "dev", "--to", "1.36", "--strategy", "blue-green", "--repo", str(scaffold),
        "--zone-id", zone_id, "--record", NAME, "--entry", "service/apps/podinfo",
        "--hold", "60", "--final-hold", "120", "--poll", "30", "--yes", *extra,
    )  # fmt: skip


def _report(project: Path) -> dict[str, Any]:
    [path] = sorted((project / "build" / "upgrade").glob("*.json"))
    return json.loads(path.read_text())


def test_blue_green_builds_green_shifts_step_by_step_and_retires_blue(blue_green, project, scaffold):
    world, zone_id = blue_green()
    result = _apply(scaffold, zone_id)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "dev-green at 1.36 serves app.example.com.; dev retired" in result.stdout
    select = world.workspace.calls[0]
    assert (
        select[0] == "select" and select[1]["stack"] == "dev-green" and select[1]["copy_config_from"] == "dev"
    )
    config = select[1]["config"]
    assert config["eksgitops:clusterName"] == "eksgitops-dev-green"
    assert config["eksgitops:kubernetesVersion"] == "1.36"
    assert "eksgitops:escrow.enabled" not in config  # the whole escrow key goes (green.py)
    kms_arn = client("kms").describe_key(KeyId="alias/eksgitops-dev-sops")["KeyMetadata"]["Arn"]
    assert config["eksgitops:gitops.sops.kmsKeyArn"] == kms_arn  # blue's SOPS key, not a new one
    assert ("select", {"stack": "dev", "copy_config_from": None, "config": {}}) in world.workspace.calls
    assert world.workspace.calls[-1] == ("destroy", {"keep_protected": True})  # blue, durable kept
    assert _weights(zone_id) == {"green": (GREEN_LB, 100)}
    names = [p["name"] for p in _report(project)["phases"]]
    shifts = [n for n in names if n.startswith(("shift", "hold")) or n == "final hold"]
    assert shifts == [
        "shift green 10%", "hold at 10%", "shift green 50%", "hold at 50%", "shift green 100%", "final hold",
    ]  # fmt: skip
    assert names.index("green verified") < names.index("shift green 10%") < names.index("destroy")
    assert names[-1] == "blue record removed"


def test_green_never_healthy_is_torn_down_and_blue_keeps_all_traffic(blue_green, project, scaffold):
    world, zone_id = blue_green()
    world.api.objects[(FLUX_INSTANCE.plural, "flux-system", "flux")]["status"]["conditions"] = ready(
        "False", "InstallFailed"
    )
    result = _apply(scaffold, zone_id)
    assert result.exit_code == 1
    assert "stopped in phase agent ready" in result.stderr
    assert world.workspace.calls[-1] == ("destroy", {"keep_protected": True})
    assert all(c[1]["stack"] == "dev-green" for c in world.workspace.calls if c[0] == "select")
    assert _weights(zone_id) == {"blue": (BLUE_LB, 100)}


def test_a_shift_step_failing_puts_every_weight_back_on_blue(blue_green, project, scaffold):
    world, zone_id = blue_green(fail_change=2)  # 10% goes through, 50% fails
    result = _apply(scaffold, zone_id)
    assert result.exit_code == 1
    assert (
        "stopped in phase shift green 50%: Route53 app.example.com.: cannot set green to 50%" in result.stderr
    )
    assert _weights(zone_id) == {"blue": (BLUE_LB, 100), "green": (GREEN_LB, 0)}
    assert not any(
        c == ("select", {"stack": "dev", "copy_config_from": None, "config": {}})
        for c in world.workspace.calls
    )
    assert _report(project)["phases"][-1]["name"] == "rollback"


def test_green_unhealthy_during_a_hold_rolls_back(blue_green, project, scaffold):
    world, zone_id = blue_green()
    seen = {"n": 0}

    def sicken(cluster) -> None:
        # After green was verified and the first shift, its apps Kustomization starts failing.
        if world.changes >= 1:
            seen["n"] += 1
            cluster.objects[(KUSTOMIZATION.plural, "flux-system", "apps")]["status"]["conditions"] = ready(
                "False", "HealthCheckFailed"
            )

    world.api.hooks.append(sicken)
    result = _apply(scaffold, zone_id)
    assert result.exit_code == 1
    assert "stopped in phase hold at 10%: green unhealthy during the hold" in result.stderr
    assert _weights(zone_id) == {"blue": (BLUE_LB, 100), "green": (GREEN_LB, 0)}


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
