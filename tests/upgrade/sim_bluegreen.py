"""The simulated world of a blue/green upgrade: moto's server for Route53 and EKS, the recording
Pulumi backend of tests/simworld, and one fake Kubernetes API server over HTTP per stack (blue,
then each green), each a healthy cluster of the stack's agent with its entry's load balancer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from eksgitops.cli import app
from eksgitops.dr import world as dr_world
from eksgitops.dr.aws import AwsClients
from eksgitops.dr.cluster_api import SERVICE
from eksgitops.fleet.credentials import Credentials
from eksgitops.upgrade import blue_green
from tests.simworld.aws import REGION
from tests.simworld.cluster import healthy
from tests.simworld.kube_server import FakeKubeServer
from tests.simworld.world import SimWorld

NAME = "app.example.com"


def lb(stack: str) -> str:
    return f"{stack}-lb.eu-west-1.elb.amazonaws.com"


class BlueGreenSim:
    def __init__(
        self,
        project: Path,
        monkeypatch: pytest.MonkeyPatch,
        sha: str,
        agent: str = "flux",
        stack: str = "dev",
    ):
        self.project, self.sha, self.agent, self.stack = project, sha, agent, stack
        self.servers: dict[str, FakeKubeServer] = {}
        self.sim = SimWorld(self.server(stack))
        self.sim.backend.program = [("eks:index:Cluster", "cluster")]
        self.sim.backend.protected = set()
        self.sim.backend.outputs = self.outputs
        # SimWorld.build asks default_world() for the real client, which install() replaces: the
        # same world is built here with the real client taken first.
        kubernetes = dr_world.default_world().cluster_api
        sim = self.sim

        def build() -> dr_world.World:
            return dr_world.World(
                clock=sim.clock,
                aws=lambda region: AwsClients(region),
                workspace=sim.workspace,
                cluster_api=kubernetes,
                plan=lambda project, stacks, out: sim.plan,
                fleet=lambda project: sim.fleet,
                creds=Credentials.load,
            )

        monkeypatch.setattr(dr_world, "default_world", build)
        # Blue was built before any upgrade: its stack is in the state backend.
        blue = self.sim.workspace(project, {})
        blue.select(stack)
        blue.up(lambda event: None)
        # verify_aws is dr's (tests/dr/test_verify.py); moto has no pod identity API to answer it here.
        monkeypatch.setattr(blue_green, "verify_aws", lambda spec, aws: [])
        self.aws = AwsClients(REGION)
        r53 = self.aws.client("route53")
        zone = r53.create_hosted_zone(Name="example.com", CallerReference="upgrade-sim")
        self.zone_id = zone["HostedZone"]["Id"].split("/")[-1]
        self.health_check = r53.create_health_check(
            CallerReference="blue-hc",
            HealthCheckConfig={"Type": "HTTPS", "FullyQualifiedDomainName": lb(stack), "Port": 443},
        )["HealthCheck"]["Id"]
        r53.change_resource_record_sets(
            HostedZoneId=self.zone_id,
            ChangeBatch={
                "Changes": [
                    {
                        "Action": "CREATE",
                        "ResourceRecordSet": {
                            "Name": NAME + ".",
                            "Type": "CNAME",
                            "SetIdentifier": "blue",
                            "Weight": 100,
                            "TTL": 30,
                            "HealthCheckId": self.health_check,
                            "ResourceRecords": [{"Value": lb(stack)}],
                        },
                    }
                ]
            },
        )

    def server(self, stack: str) -> FakeKubeServer:
        if stack not in self.servers:
            server = FakeKubeServer().start()
            healthy(server, self.agent, self.sha, {"environment": stack}, nodes=12)  # >= any shipped stack
            server.add(
                SERVICE,
                {
                    "metadata": {"name": "podinfo", "namespace": "apps"},
                    "status": {"loadBalancer": {"ingress": [{"hostname": lb(stack)}]}},
                },
            )
            self.servers[stack] = server
        return self.servers[stack]

    def outputs(self, stack: str) -> dict[str, Any]:
        return {"kubeconfig": self.server(stack).kubeconfig(), "bridge": {"environment": stack}}

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()

    def weights(self) -> dict[str, tuple[str, int]]:
        page = self.aws.client("route53").list_resource_record_sets(HostedZoneId=self.zone_id)
        return {
            rrs["SetIdentifier"]: (rrs["ResourceRecords"][0]["Value"], rrs["Weight"])
            for rrs in page["ResourceRecordSets"]
            if rrs["Name"] == NAME + "." and "SetIdentifier" in rrs
        }

    def apply(self, scaffold: Path, to: str, *extra: str):
        return CliRunner().invoke(app, [
            "upgrade", "apply", self.stack, "--to", to, "--strategy", "blue-green", "--repo", str(scaffold),
            "--zone-id", self.zone_id, "--record", NAME, "--entry", "service/apps/podinfo",
            "--hold", "60", "--final-hold", "120", "--poll", "30", "--yes", *extra,
        ], catch_exceptions=False)  # fmt: skip
