"""`eksgitops dr …` end to end through the CLI: exit codes, one-line messages, and the report every
run leaves in build/dr/ (with per-phase timings), with the world replaced only where it must be."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from eksgitops.cli import app
from eksgitops.dr import world as dr_world
from eksgitops.dr.aws import AwsClients
from eksgitops.dr.cluster_api import FLUX_INSTANCE, KUSTOMIZATION
from eksgitops.dr.context import load_stack
from eksgitops.dr.preflight import SubprocessPlanRunner
from eksgitops.fleet.credentials import Credentials
from tests.dr.conftest import (
    UP_EVENTS,
    FakeClock,
    FakeWorkspace,
    FleetRepo,
    event,
    free_port,
    healthy_cluster,
    ready,
)
from tests.dr.test_preflight import FakePlan, FakeVerifier, good_aws
from tests.dr.test_verify import aws_with_pod_identity, build_environment

FIVE = ("preflight", "rebuild", "verify", "teardown", "drill")


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def reports(project: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((project / "build" / "dr").glob("*.json"))]


class World:
    """The world as the CLI sees it: moto for AWS, real git, fakes for Pulumi and Kubernetes."""

    def __init__(self, project: Path, fleet: FleetRepo, *, real_plan: bool = False) -> None:
        self.clock = FakeClock()
        self.api = healthy_cluster(self.clock, fleet.sha, {"environment": "dev"})
        self.workspace = FakeWorkspace(
            self.clock,
            outputs_value={"kubeconfig": "apiVersion: v1", "bridge": {"environment": "dev"}, "vpcId": None},
            up_events=list(UP_EVENTS),
            destroy_events=[event("eks:index:Cluster", "eksgitops-dev", "delete")],
        )
        self.plan = (
            SubprocessPlanRunner(project, project / "stacks", project / "build") if real_plan else FakePlan()
        )
        self.fleet = FakeVerifier()
        self.aws_clients: AwsClients | None = None

    def build(self) -> dr_world.World:
        return dr_world.World(
            clock=self.clock,
            aws=lambda region: self.aws_clients or AwsClients(region),
            workspace=lambda project, env: self.workspace,
            cluster_api=lambda outputs: self.api,
            plan=lambda project, stacks, out: self.plan,
            fleet=lambda project: self.fleet,
            creds=Credentials.load,
            which=lambda program, args: {"pulumi": "v3.200.0", "aws": "aws-cli/2.27.0"}.get(program),
        )


@pytest.fixture
def world(project, fleet_repo, monkeypatch) -> World:
    w = World(project, fleet_repo)
    monkeypatch.setattr(dr_world, "default_world", w.build)
    return w


def test_dr_help_lists_the_five_commands():
    result = run("dr", "--help")
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.stdout.split("Commands:")[1].splitlines() if line.strip()]
    assert set(FIVE) <= set(listed)


def test_preflight_on_a_good_setup_passes_with_the_real_plan(aws_env, project, fleet_repo, monkeypatch):
    good_aws()
    w = World(project, fleet_repo, real_plan=True)
    monkeypatch.setattr(dr_world, "default_world", w.build)
    result = run(
        "dr", "preflight", "dev", "--repo-url", str(fleet_repo.bare), "--backend", "s3://state-bucket"
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"preflight: dev can be rebuilt from {fleet_repo.sha[:12]}" in result.stdout
    assert "plan and policies" in result.stdout and "FAIL" not in result.stdout
    assert (project / "build" / "dev" / "resources.json").is_file()  # the real plan ran
    [report] = reports(project)
    assert report["outcome"] == "ok" and [p["name"] for p in report["phases"]] == ["preflight"]
    phase = report["phases"][0]
    assert (
        phase["startedAt"].endswith("Z") and phase["endedAt"].endswith("Z") and phase["seconds"] is not None
    )
    assert report["modeledSeconds"] is None and report["model"] == "no model"
    assert len(report["checks"]) == 20
    md = next((project / "build" / "dr").glob("dev-*.md")).read_text()
    assert "| preflight |" in md and "modeled infrastructure time: no model" in md


def test_preflight_on_a_bad_setup_names_each_broken_prerequisite_and_exits_1(aws_env, project, world):
    # Nothing in AWS, and a repository nobody listens for.
    result = run(
        "dr",
        "preflight",
        "dev",
        "--repo-url",
        f"git://127.0.0.1:{free_port()}/fleet.git",
        "--backend",
        "s3://state-bucket",
    )
    assert result.exit_code == 1
    fails = [line for line in result.stdout.splitlines() if "FAIL" in line]
    expected = {
        "fleet repository reachable",
        "escrowed fleet bundle",
        "escrowed Git credentials",
        "SOPS KMS key",
        "state backend",
    }
    failed_checks = {c for c in expected if any(c in line for line in fails)}
    assert failed_checks == expected
    assert (
        "eksgitops dr preflight dev: stopped in phase preflight: 5 preflight check(s) failed" in result.stderr
    )
    assert "fleet repository reachable: git://127.0.0.1" in result.stderr
    [report] = reports(project)
    assert report["outcome"] == "failed" and report["stoppedAt"] == "preflight"
    assert {c["check"] for c in report["checks"] if not c["ok"]} == failed_checks


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("preflight", "nope"),
            "eksgitops dr preflight: STACK 'nope': no stack file stacks/Pulumi.nope.yaml; available: dev",
        ),
        (("preflight", "Dev!"), "eksgitops dr preflight: STACK 'Dev!': not a stack name"),
        (
            ("rebuild", "dev", "--region", "mars-1"),
            'error: --region: "mars-1" is not an AWS region name; a region such as eu-west-1',
        ),
        (
            ("verify", "dev", "--revision", "bad..ref"),
            "error: --revision: 'bad..ref' is not a Git branch, tag or commit",
        ),
        (("teardown", "dev"), "eksgitops dr teardown: --yes: required"),
        (("drill", "dev", "--timeout-agent", "0"), "--timeout-agent"),
    ],
)
def test_command_line_mistakes_exit_2_before_anything_is_written(project, world, args, message):
    result = run("dr", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "build").exists()
    assert world.workspace.calls == []


def test_a_bad_stack_file_prints_its_lines_and_exits_2(project, world):
    text = (project / "stacks" / "Pulumi.dev.yaml").read_text()
    (project / "stacks" / "Pulumi.dev.yaml").write_text(
        text.replace("azCount: 2", "azCount: 9") + "  eksgitops:nodeGroup: []\n"
    )
    result = run("dr", "rebuild", "dev")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert any(
        line.endswith("eksgitops:network.azCount: 9 is out of range; 2 to 6 availability zones")
        for line in lines
    )
    assert any('eksgitops:nodeGroup: unknown key, did you mean "nodeGroups"?' in line for line in lines)
    assert not (project / "build").exists()


def test_rebuild_end_to_end_reports_every_recovery_phase(aws_env, project, fleet_repo, world):
    good_aws()
    target = project / "build" / "dev" / "critical-path.json"
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps({"modeled_seconds": 840, "chain": [], "limits": "modeled"}))
    result = run(
        "dr",
        "rebuild",
        "dev",
        "--repo-url",
        str(fleet_repo.bare),
        "--backend",
        "s3://state-bucket",
        "--poll",
        "5",
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "/ modeled 840s]" in result.stdout
    assert f"rebuild: dev is Ready at {fleet_repo.sha[:12]}" in result.stdout
    [report] = reports(project)
    assert [p["name"] for p in report["phases"]] == [
        "preflight",
        "infrastructure",
        "nodes ready",
        "agent ready",
        "workloads synced",
    ]
    assert all(p["status"] == "ok" for p in report["phases"])
    assert report["modeledSeconds"] == 840 and report["infrastructureSeconds"] == 120.0
    assert report["measuredRecoverySeconds"] == report["totalSeconds"] >= 120.0
    assert report["facts"]["revision"] == fleet_repo.sha


def test_rebuild_with_an_agent_that_never_gets_ready(aws_env, project, fleet_repo, world):
    good_aws()
    world.api.objects[(FLUX_INSTANCE.plural, "flux-system", "flux")]["status"]["conditions"] = ready(
        "False", "InstallFailed"
    )
    result = run(
        "dr",
        "rebuild",
        "dev",
        "--repo-url",
        str(fleet_repo.bare),
        "--backend",
        "s3://state-bucket",
        "--timeout-agent",
        "120",
        "--poll",
        "30",
    )
    assert result.exit_code == 1
    assert (
        "eksgitops dr rebuild dev: stopped in phase agent ready: timed out after 120s waiting for "
        "FluxInstance flux-system/flux to be Ready; last seen: Ready=False (InstallFailed: )"
    ) in result.stderr
    [report] = reports(project)
    assert report["stoppedAt"] == "agent ready" and report["phases"][-1]["status"] == "failed"
    assert [p["status"] for p in report["phases"]] == ["ok", "ok", "ok", "failed"]


def test_rebuild_stops_before_up_when_preflight_fails(aws_env, project, fleet_repo, world):
    result = run("dr", "rebuild", "dev", "--repo-url", str(fleet_repo.bare), "--backend", "s3://state-bucket")
    assert result.exit_code == 1
    assert "stopped in phase preflight" in result.stderr
    assert world.workspace.calls == []  # nothing was created
    assert reports(project)[0]["stoppedAt"] == "preflight"


def test_verify_through_the_cli(aws_env, project, fleet_repo, world):
    spec = load_stack(
        "dev",
        stacks_dir=project / "stacks",
        project_dir=project,
        build_dir=project / "build",
        command="verify",
    ).spec
    build_environment(spec)
    world.aws_clients = aws_with_pod_identity(spec)
    result = run("dr", "verify", "dev", "--repo-url", str(fleet_repo.bare))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "verify: dev is what the spec and Git say (12 checks)" in result.stdout
    [report] = reports(project)
    assert [p["name"] for p in report["phases"]] == ["git revision", "aws", "cluster"]
    assert len(report["checks"]) == 12 and all(c["ok"] for c in report["checks"])


def test_verify_reports_a_failing_kustomization(aws_env, project, fleet_repo, world):
    spec = load_stack(
        "dev",
        stacks_dir=project / "stacks",
        project_dir=project,
        build_dir=project / "build",
        command="verify",
    ).spec
    build_environment(spec)
    world.aws_clients = aws_with_pod_identity(spec)
    world.api.objects[(KUSTOMIZATION.plural, "flux-system", "apps")]["status"]["conditions"] = ready(
        "False", "HealthCheckFailed"
    )
    result = run("dr", "verify", "dev", "--repo-url", str(fleet_repo.bare))
    assert result.exit_code == 1
    assert "synced revision: Kustomization flux-system/apps: Ready=False (HealthCheckFailed" in result.stderr
    assert reports(project)[0]["outcome"] == "failed"


def test_drill_rebuilds_a_parallel_stack_verifies_and_tears_down(aws_env, project, fleet_repo, world):
    good_aws()
    drill_spec = load_stack(
        "dev",
        stacks_dir=project / "stacks",
        project_dir=project,
        build_dir=project / "build",
        command="drill",
        drill=True,
    ).spec
    assert drill_spec.cluster_name == "eksgitops-dev-drill" and drill_spec.gitops.path == "clusters/dev"
    build_environment(drill_spec)
    world.aws_clients = aws_with_pod_identity(drill_spec)
    result = run(
        "dr",
        "drill",
        "dev",
        "--repo-url",
        str(fleet_repo.bare),
        "--backend",
        "s3://state-bucket",
        "--poll",
        "5",
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    verb, detail = world.workspace.calls[0]
    sops_key = detail["config"].pop("eksgitops:gitops.sops.kmsKeyArn")
    # The drill decrypts with dev's SOPS key (good_aws made alias/eksgitops-dev-sops), not one of its own.
    assert sops_key.startswith("arn:aws:kms:eu-west-1:")
    assert verb == "select" and detail == {
        "stack": "dev-drill",
        "copy_config_from": "dev",
        "config": {
            "eksgitops:clusterName": "eksgitops-dev-drill",
            "eksgitops:clusterRole": "drill",
            "eksgitops:gitops.path": "clusters/dev",
            # The drill uses dev's escrow and must not create a second, protected one.
            "eksgitops:escrow.enabled": "false",
        },
    }
    assert world.workspace.calls[-1] == ("destroy", {"keep_protected": True})
    [report] = reports(project)
    assert report["stack"] == "dev-drill" and report["outcome"] == "ok"
    assert [p["name"] for p in report["phases"]] == [
        "derive",
        "preflight",
        "infrastructure",
        "nodes ready",
        "agent ready",
        "workloads synced",
        "verify",
        "suspend agent",
        "delete load balancers",
        "delete volumes",
        "load balancers gone",
        "finalizers",
        "leftover security groups",
        "deletion protection",
        "destroy",
    ]
    assert list((project / "build" / "dr").glob("dev-drill-*.md"))


def test_a_failed_drill_still_tears_down_and_says_where_it_stopped(aws_env, project, fleet_repo, world):
    good_aws()
    world.api.objects[(KUSTOMIZATION.plural, "flux-system", "apps")]["status"]["conditions"] = ready(
        "False", "BuildFailed"
    )
    result = run(
        "dr",
        "drill",
        "dev",
        "--repo-url",
        str(fleet_repo.bare),
        "--backend",
        "s3://state-bucket",
        "--timeout-workloads",
        "60",
        "--poll",
        "30",
    )
    assert result.exit_code == 1
    assert "waiting for Kustomization flux-system/apps to be Ready and Healthy" in result.stderr
    assert ("destroy", {"keep_protected": True}) in world.workspace.calls
    [report] = reports(project)
    assert report["stoppedAt"] == "workloads synced"
    assert report["phases"][-1]["name"] == "destroy" and report["phases"][-1]["status"] == "ok"


def test_escrow_stores_a_bundle_in_the_versioned_bucket(aws_env, project, fleet_repo, world):
    from tests.dr.conftest import client
    from tests.dr.test_preflight import escrow_bucket

    bucket = escrow_bucket()
    for _ in range(2):
        result = run("dr", "escrow", "dev", "--repo-url", str(fleet_repo.bare))
        assert result.exit_code == 0, result.stderr
    versions = client("s3").list_object_versions(Bucket=bucket, Prefix="fleet/dev.bundle")["Versions"]
    assert len(versions) == 2  # a refresh is a new version; the old bundle stays
    assert len(reports(project)) == 2


def test_escrow_into_a_missing_bucket_fails_with_its_name(aws_env, project, fleet_repo, world):
    result = run(
        "dr", "escrow", "dev", "--repo-url", str(fleet_repo.bare), "--escrow-bucket", "no-such-escrow"
    )
    assert result.exit_code == 1
    assert "cannot upload the bundle to s3://no-such-escrow/fleet/dev.bundle (NoSuchBucket" in result.stderr


def _preflight_schema() -> dict[str, Any]:
    from eksgitops.dr.session import PREFLIGHT_SCHEMA

    return json.loads(PREFLIGHT_SCHEMA.read_text())


def test_preflight_json_is_valid_against_its_schema_and_keeps_exit_0(aws_env, project, fleet_repo, world):
    import jsonschema

    good_aws()
    result = run(
        "dr",
        "preflight",
        "dev",
        "--json",
        "--repo-url",
        str(fleet_repo.bare),
        "--backend",
        "s3://state-bucket",
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    document = json.loads(result.stdout)  # stdout is the document alone, no table
    jsonschema.Draft202012Validator(_preflight_schema()).validate(document)
    assert document["ok"] is True and document["revision"] == fleet_repo.sha
    assert len(document["checks"]) == 20 and all(c["ok"] for c in document["checks"])
    assert reports(project)[0]["outcome"] == "ok"


def test_preflight_json_on_failure_is_still_valid_and_exits_1(aws_env, project, world):
    import jsonschema

    result = run("dr", "preflight", "dev", "--json", "--repo-url", f"git://127.0.0.1:{free_port()}/fleet.git")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    jsonschema.Draft202012Validator(_preflight_schema()).validate(document)
    assert document["ok"] is False and document["revision"] is None
    assert "fleet repository reachable" in {c["check"] for c in document["checks"] if not c["ok"]}
    assert "stopped in phase preflight" in result.stderr


def test_the_preflight_schema_catches_a_document_that_breaks_it():
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(_preflight_schema())
    validator = jsonschema.Draft202012Validator(_preflight_schema())
    bad = {"stack": "dev", "region": "eu-west-1", "ok": "yes", "revision": None, "notes": [], "checks": []}
    assert {e.validator for e in validator.iter_errors(bad)} == {"type", "minItems"}
