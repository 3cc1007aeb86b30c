"""`eksgitops dr` follows the stack's `eksgitops:escrow`: where the bundle and the secret are (the
escrow's region, the secret's replicas), skipped checks when the stack has none, a drill that uses
the environment's escrow and creates none, a region move that leaves the escrow where it is.
Against moto's server and real Git repositories, as the other dr tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from eksgitops.components.spec.read import config_for_pulumi
from eksgitops.dr.aws import AwsClients
from eksgitops.dr.context import StackContext, load_stack
from eksgitops.dr.preflight import PreflightDeps, PreflightOptions, run_preflight
from eksgitops.fleet.credentials import Credentials
from eksgitops.plan.offline_engine import run_program
from eksgitops.program import main as program_main
from tests.dr import test_cli
from tests.dr.conftest import REGION, FleetRepo, client, free_port, write_stack
from tests.dr.test_cli import reports, run
from tests.dr.test_preflight import FakePlan, FakeVerifier, escrow_bucket, good_aws

OTHER = "eu-central-1"
SECRET = "eksgitops/dev/git-credentials"


def set_escrow(project: Path, escrow: str | None) -> None:
    """Replace the test stack's escrow block (None removes it: the stack has no escrow)."""
    text = (project / "stacks" / "Pulumi.dev.yaml").read_text()
    head, _, _ = text.partition("  eksgitops:escrow:\n")
    write_stack(project, head + (f"  eksgitops:escrow:\n{escrow}" if escrow is not None else ""))


def context(project: Path, *, command: str = "preflight", **kwargs: Any) -> StackContext:
    return load_stack(
        "dev",
        stacks_dir=project / "stacks",
        project_dir=project,
        build_dir=project / "build",
        command=command,
        **kwargs,
    )


class LostRegion(AwsClients):
    """A region whose endpoints do not answer (connection refused), as when it is down."""

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            region_name=self.region,
            endpoint_url=f"http://127.0.0.1:{free_port()}",
            config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=2),
        )


def preflight(project: Path, fleet: FleetRepo, ctx: StackContext | None = None, **opts: Any):
    ctx = ctx or context(project)
    options = PreflightOptions(repo_url=str(fleet.bare), backend="s3://state-bucket", git_timeout=30)
    for key, value in opts.pop("options", {}).items():
        setattr(options, key, value)
    deps = PreflightDeps(
        aws=AwsClients(ctx.spec.region),
        plan=FakePlan(),
        fleet=FakeVerifier(),
        creds=Credentials(),
        which=lambda program, args: {"pulumi": "v3.200.0", "aws": "aws-cli/2.27.0"}.get(program),
        **opts,
    )
    result = run_preflight(ctx, options, deps)
    return result, {row.check: row for row in result.rows}


def state_and_key() -> None:
    """What preflight needs besides the escrow: the SOPS key and the state bucket."""
    kms = client("kms")
    key = kms.create_key(Description="sops")["KeyMetadata"]
    kms.create_alias(AliasName="alias/eksgitops-dev-sops", TargetKeyId=key["KeyId"])
    client("s3").create_bucket(
        Bucket="state-bucket", CreateBucketConfiguration={"LocationConstraint": REGION}
    )


# --- preflight ------------------------------------------------------------------------


def test_good_escrow_passes_with_the_bundle_it_found(aws_env, project, fleet_repo):
    good_aws(fleet_repo)
    result, rows = preflight(project, fleet_repo)
    assert result.ok, [(r.check, r.reason) for r in result.rows if not r.ok]
    account = client("sts").get_caller_identity()["Account"]
    bundle = rows["escrowed fleet bundle"].reason
    assert (
        bundle.startswith(f"s3://eksgitops-escrow-{account}-dev/fleet/dev.bundle: ")
        and "bytes, stored" in bundle
    )
    assert rows["escrowed Git credentials"].reason.startswith(f"{SECRET} is readable in {REGION}")


def test_a_stack_without_escrow_skips_both_checks_with_the_reason(aws_env, project, fleet_repo):
    set_escrow(project, None)
    state_and_key()  # and no escrow bucket or secret anywhere
    result, rows = preflight(project, fleet_repo)
    assert result.ok, [(r.check, r.reason) for r in result.rows if not r.ok]
    for check in ("escrowed fleet bundle", "escrowed Git credentials"):
        assert rows[check].ok
        assert rows[check].reason == "skipped: the stack has no escrow (eksgitops:escrow.enabled is not true)"


def test_without_escrow_a_secret_named_on_the_command_line_is_still_checked(aws_env, project, fleet_repo):
    set_escrow(project, None)
    state_and_key()
    _result, rows = preflight(project, fleet_repo, options={"credentials_secret": "team/fleet-token"})
    row = rows["escrowed Git credentials"]
    assert not row.ok and "team/fleet-token in eu-west-1: ResourceNotFoundException" in row.reason
    client("secretsmanager").create_secret(Name="team/fleet-token", SecretString="t")
    _, rows = preflight(project, fleet_repo, options={"credentials_secret": "team/fleet-token"})
    assert rows["escrowed Git credentials"].ok


def _no_bucket() -> str:
    return "NoSuchBucket"


def _versioning_suspended() -> str:
    bucket = escrow_bucket()
    client("s3").put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    return "has versioning Suspended; Enabled (pulumi up restores it)"


def _never_refreshed() -> str:
    escrow_bucket()
    return "run eksgitops dr escrow dev"


@pytest.mark.parametrize("broken", [_no_bucket, _versioning_suspended, _never_refreshed])
def test_each_broken_bundle_escrow_fails_with_its_reason(aws_env, project, fleet_repo, broken):
    client("secretsmanager").create_secret(Name=SECRET, SecretString="t")
    state_and_key()
    reason = broken()
    result, _rows = preflight(project, fleet_repo)
    failed = {r.check: r.reason for r in result.rows if not r.ok}
    assert list(failed) == ["escrowed fleet bundle"], failed
    assert reason in failed["escrowed fleet bundle"]


def test_an_escrow_in_another_region_is_looked_for_there(aws_env, project, fleet_repo):
    set_escrow(project, f"    enabled: true\n    region: {OTHER}\n")
    state_and_key()
    # In the cluster's region only: the wrong place.
    client("secretsmanager").create_secret(Name=SECRET, SecretString="t")
    result, rows = preflight(project, fleet_repo)
    assert f"{SECRET} in {OTHER}: ResourceNotFoundException" in rows["escrowed Git credentials"].reason
    assert not rows["escrowed Git credentials"].ok and not rows["escrowed fleet bundle"].ok
    # In the escrow's region: found, and `--from-escrow` reads the bundle from there too.
    client("secretsmanager", OTHER).create_secret(Name=SECRET, SecretString="t")
    escrow_bucket(OTHER)
    result = run("dr", "escrow", "dev", "--repo-url", str(fleet_repo.bare))
    assert result.exit_code == 0, result.stderr
    result, rows = preflight(project, fleet_repo, options={"from_escrow": True, "repo_url": None})
    assert result.ok, [(r.check, r.reason) for r in result.rows if not r.ok]
    assert rows["escrowed Git credentials"].reason.startswith(f"{SECRET} is readable in {OTHER}")
    assert "escrowed bundle s3://" in rows["fleet repository reachable"].reason


def test_the_secrets_replica_is_read_when_the_escrows_region_is_lost(aws_env, project, fleet_repo):
    set_escrow(project, f"    enabled: true\n    secretReplicaRegions: [{OTHER}]\n")
    good_aws(fleet_repo)
    client("secretsmanager").replicate_secret_to_regions(
        SecretId=SECRET, AddReplicaRegions=[{"Region": OTHER}]
    )
    # Rebuilding in the replica's region while the escrow's region does not answer.
    ctx = context(project, region=OTHER)
    assert ctx.escrow_region == REGION  # the escrow stayed where it is

    def regional(region: str) -> AwsClients:
        return LostRegion(region) if region == REGION else AwsClients(region)

    _result, rows = preflight(project, fleet_repo, ctx, regional=regional)
    row = rows["escrowed Git credentials"]
    assert row.ok, row.reason
    assert row.reason.startswith(f"{SECRET} is readable in {OTHER}")
    assert f"; {SECRET} in {REGION}: " in row.reason  # the primary's failure is said too
    # Without a replica in a region that answers, it fails and names every place it looked.
    set_escrow(project, "    enabled: true\n")
    _result, rows = preflight(project, fleet_repo, context(project, region=OTHER), regional=regional)
    row = rows["escrowed Git credentials"]
    assert not row.ok and row.reason.startswith(f"{SECRET} in {REGION}: ")


# --- drill and region move ------------------------------------------------------------


def test_a_drill_uses_the_environments_escrow_and_creates_none(aws_env, project, fleet_repo):
    ctx = context(project, command="drill", drill=True)
    assert ctx.stack == "dev-drill"
    assert not ctx.spec.escrow.enabled and ctx.escrow.enabled
    assert ctx.overrides["eksgitops:escrow.enabled"] == "false"
    assert "the drill uses the environment's escrow and creates none" in ctx.notes
    # The drill stack's program, with the config the drill gives it: no escrow of its own.
    config, secret_keys = config_for_pulumi(ctx.raw)
    plan = run_program(program_main, stack="dev-drill", config=config, secret_keys=secret_keys, region=REGION)
    assert not plan.by_type("eksgitops:dr:FleetEscrow") and not plan.by_type("aws:s3/bucket:Bucket")
    assert "fleetEscrowBucket" not in plan.outputs
    # Preflight checks dev's bundle and secret.
    good_aws(fleet_repo)
    result, rows = preflight(project, fleet_repo, ctx)
    assert result.ok, [(r.check, r.reason) for r in result.rows if not r.ok]
    assert "-dev/fleet/dev.bundle" in rows["escrowed fleet bundle"].reason
    assert rows["escrowed Git credentials"].reason.startswith(SECRET)


def test_a_region_move_leaves_the_escrow_where_it_is(aws_env, project):
    ctx = context(project, command="rebuild", region=OTHER)
    assert ctx.spec.region == OTHER and ctx.spec.escrow.region == REGION
    assert ctx.overrides["eksgitops:escrow.region"] == REGION
    assert f"the escrow stays in {REGION}" in ctx.notes
    config, secret_keys = config_for_pulumi(ctx.raw)
    plan = run_program(program_main, stack="dev", config=config, secret_keys=secret_keys, region=OTHER)
    # The cluster's provider moved; the escrow's resources name the old region themselves.
    assert plan.one("pulumi:providers:aws", "eksgitops-dev-aws").plain_inputs()["region"] == OTHER
    for type_ in ("aws:s3/bucket:Bucket", "aws:secretsmanager/secret:Secret"):
        assert plan.one(type_).plain_inputs()["region"] == REGION
    # An escrow with its own region needs no pin.
    set_escrow(project, "    enabled: true\n    region: eu-west-2\n")
    ctx = context(project, command="rebuild", region=OTHER)
    assert "eksgitops:escrow.region" not in ctx.overrides and ctx.escrow_region == "eu-west-2"
    # No escrow: nothing to pin.
    set_escrow(project, None)
    assert "eksgitops:escrow.region" not in context(project, command="rebuild", region=OTHER).overrides


# --- the command line -----------------------------------------------------------------


@pytest.fixture
def world(project, fleet_repo, monkeypatch) -> test_cli.World:
    w = test_cli.World(project, fleet_repo)
    monkeypatch.setattr(test_cli.dr_world, "default_world", w.build)
    return w


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (("escrow", "dev", "--repo-url", "/nowhere"), "STACK"),
        (("preflight", "dev", "--from-escrow"), "--from-escrow"),
        (("rebuild", "dev", "--from-escrow"), "--from-escrow"),
        (("drill", "dev", "--from-escrow"), "--from-escrow"),
    ],
)
def test_reading_or_writing_an_escrow_the_stack_does_not_have_exits_2(project, world, args, flag):
    set_escrow(project, None)
    result = run("dr", *args)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"eksgitops dr {args[0]}: {flag}: stack dev has no escrow (eksgitops:escrow.enabled is not true); "
        "turn it on and pulumi up, or give --escrow-bucket"
    )
    assert not (project / "build").exists()
    assert world.workspace.calls == []


def test_escrow_with_an_explicit_bucket_works_for_a_stack_without_escrow(aws_env, project, fleet_repo, world):
    set_escrow(project, None)
    client("s3").create_bucket(Bucket="team-escrow", CreateBucketConfiguration={"LocationConstraint": REGION})
    result = run("dr", "escrow", "dev", "--repo-url", str(fleet_repo.bare), "--escrow-bucket", "team-escrow")
    assert result.exit_code == 0, result.stderr
    assert client("s3").head_object(Bucket="team-escrow", Key="fleet/dev.bundle")["ContentLength"] > 0
    [report] = reports(project)
    assert report["facts"]["bundle"] == "s3://team-escrow/fleet/dev.bundle"


def test_escrow_writes_to_the_escrows_region(aws_env, project, fleet_repo, world):
    set_escrow(project, f"    enabled: true\n    region: {OTHER}\n")
    bucket = escrow_bucket(OTHER)
    result = run("dr", "escrow", "dev", "--repo-url", str(fleet_repo.bare))
    assert result.exit_code == 0, result.stderr
    head = client("s3", OTHER).head_object(Bucket=bucket, Key="fleet/dev.bundle")
    assert head["Metadata"]["sha256"]
    assert json.loads(next((project / "build" / "dr").glob("*.json")).read_text())["outcome"] == "ok"
