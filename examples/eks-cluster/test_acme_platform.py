"""Offline tests of this program with `eksgitops.testing`: no Pulumi CLI, no AWS account.

`make test` runs them; in your own repository, `pytest` in this folder does.
"""

from pathlib import Path

import pytest

from eksgitops.testing import run_program_file

PROGRAM = Path(__file__).parent


def test_the_cluster_is_private_and_runs_in_our_own_subnets() -> None:
    result = run_program_file(PROGRAM, stack="dev")
    cluster = result.one("eks:index:Cluster").plain_inputs()
    assert cluster["version"] == "1.36"
    assert cluster["endpointPublicAccess"] is False
    assert cluster["privateSubnetIds"] == [
        "(known after apply: private-a.id)",
        "(known after apply: private-b.id)",
    ]
    nodes = result.one("aws:eks/nodeGroup:NodeGroup").plain_inputs()
    assert nodes["subnetIds"] == cluster["privateSubnetIds"]


def test_flux_pulls_the_configured_fleet_repository() -> None:
    result = run_program_file(
        PROGRAM, stack="dev", config={"fleetRepo": "https://git.example.com/acme/fleet.git"}
    )
    sync = result.one("kubernetes:fluxcd.controlplane.io/v1:FluxInstance").plain_inputs()["spec"]["sync"]
    assert (sync["url"], sync["path"]) == ("https://git.example.com/acme/fleet.git", "clusters/dev")
    assert "kubeconfig" in result.secret_outputs


def test_the_guardrails_pass_and_catch_an_api_open_to_the_internet() -> None:
    assert run_program_file(PROGRAM, stack="dev").violations == []
    wide_open = run_program_file(PROGRAM, stack="dev", config={"publicApi": True})
    assert wide_open.policy.failed
    assert any(line.startswith("EKS-ENDPOINT ") for line in wide_open.violations), wide_open.violations


def test_a_wrong_argument_stops_the_program_with_its_name() -> None:
    with pytest.raises(ValueError, match="principal_arn"):
        run_program_file(PROGRAM, stack="dev", config={"adminRole": "arn:aws:iam::111122223333:root"})
