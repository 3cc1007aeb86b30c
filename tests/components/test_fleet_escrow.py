"""FleetEscrow: durable (protected, retained on delete) bucket and secret with deterministic names,
and the Platform wiring, planned offline."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.settings import ROOT, SETTINGS
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from components.fleet_escrow import (
    FleetEscrow,
    FleetEscrowArgs,
    bundle_key,
    escrow_bucket_name,
    git_credentials_secret_name,
)
from components.spec import load_spec
from components.spec.read import config_for_pulumi, raw_config_from_stack_file, stack_config
from eksgitops.plan.engine import CloudMocks, PlanResult, run_program
from eksgitops.program import main as program_main


class OptionsMonitor(pulumi_mocks.MockMonitor):
    """Keeps each registration's resource options, which the plan's own recorder does not."""

    def __init__(self, mocks: pulumi_mocks.Mocks):
        super().__init__(mocks)
        self.seen: dict[tuple[str, str], dict[str, Any]] = {}

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        self.seen[(request.type, request.name)] = {
            "protect": request.protect,
            "retainOnDelete": request.retainOnDelete,
            "inputs": json_format.MessageToDict(request.object),
        }
        return response


def plan_escrow(args: FleetEscrowArgs) -> tuple[OptionsMonitor, dict[str, Any]]:
    mocks = CloudMocks(region="eu-west-1")
    monitor = OptionsMonitor(mocks)
    ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project="eksgitops", stack="dev", preview=False, monitor=monitor)
    SETTINGS.outputs.clear()  # pyright: ignore[reportAttributeAccessIssue]

    def program():
        escrow = FleetEscrow("dev-escrow", args)
        pulumi.export("bucket", escrow.bucket_name)

    _sync_await(run_pulumi_func(program))
    root = pulumi.runtime.get_root_resource()
    outputs = {
        k: _sync_await(pulumi.Output.from_input(v).future())
        for k, v in (getattr(root, "outputs", None) or {}).items()
    }
    return monitor, outputs


def test_bucket_and_secret_are_durable_with_deterministic_names():
    monitor, outputs = plan_escrow(
        FleetEscrowArgs(environment="dev", secret_replica_regions=["eu-central-1"])
    )
    bucket = monitor.seen[("aws:s3/bucket:Bucket", "dev-escrow-bundles")]
    secret = monitor.seen[("aws:secretsmanager/secret:Secret", "dev-escrow-git-credentials")]
    for durable in (bucket, secret):
        assert durable["protect"] is True and durable["retainOnDelete"] is True
    assert bucket["inputs"]["bucket"] == escrow_bucket_name("dev", "000000000000") == outputs["bucket"]
    assert secret["inputs"]["name"] == git_credentials_secret_name("dev") == "eksgitops/dev/git-credentials"
    assert secret["inputs"]["recoveryWindowInDays"] == 30
    assert secret["inputs"]["replicas"] == [{"region": "eu-central-1"}]
    assert "secretString" not in str(monitor.seen)  # Pulumi never holds the credential
    versioning = monitor.seen[("aws:s3/bucketVersioning:BucketVersioning", "dev-escrow-bundles")]
    assert versioning["inputs"]["versioningConfiguration"] == {"status": "Enabled"}
    block = monitor.seen[("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "dev-escrow-bundles")][
        "inputs"
    ]
    assert all(
        block[k] is True
        for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    lifecycle = monitor.seen[
        ("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "dev-escrow-bundles")
    ]
    assert lifecycle["inputs"]["rules"][0]["noncurrentVersionExpiration"] == {"noncurrentDays": 90}
    assert bundle_key("dev") == "fleet/dev.bundle"
    # The bucket's settings are durable too: `dr teardown` destroys everything unprotected,
    # and a destroyed BucketVersioning would suspend versioning on the kept bucket.
    resources = {k: v for k, v in monitor.seen.items() if k[0].startswith("aws:")}
    assert len(resources) == 6
    for (type_, _name), seen in resources.items():
        assert seen["protect"] is True and seen["retainOnDelete"] is True, type_
        assert "region" not in seen["inputs"]  # none given: the provider's


def test_bad_names_and_windows_are_refused():
    with pytest.raises(ValueError, match="not a valid S3 bucket name"):
        escrow_bucket_name("x" * 40, "111122223333")
    assert escrow_bucket_name("prod", "111122223333") == "eksgitops-escrow-111122223333-prod"
    with pytest.raises(ValueError, match="noncurrent_version_days must be at least 1"):
        plan_escrow(FleetEscrowArgs(environment="dev", noncurrent_version_days=0))


REPO = Path(__file__).resolve().parents[2]
ESCROW_TYPES = (
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:secretsmanager/secret:Secret",
)


def plan_stack(stack: str, **escrow: Any) -> PlanResult:
    """The real program (eksgitops.program.main) under the mocks, with the stack file's config."""
    raw = stack_config(REPO / "stacks" / f"Pulumi.{stack}.yaml", REPO / "Pulumi.yaml")
    if escrow:
        raw["escrow"] = escrow
    config, secret_keys = config_for_pulumi(raw)
    return run_program(
        program_main, stack=stack, config=config, secret_keys=secret_keys, region=raw["region"]
    )


def test_the_program_leaves_escrow_out_when_the_stack_does_not_turn_it_on():
    plan = plan_stack("dev")
    assert not plan.by_type("eksgitops:dr:FleetEscrow")
    assert not any(plan.by_type(t) for t in ESCROW_TYPES)
    assert "fleetEscrowBucket" not in plan.outputs and "gitCredentialsSecretArn" not in plan.outputs


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_program_builds_the_stacks_escrow_durable_and_exported(stack: str):
    raw = raw_config_from_stack_file(REPO / "stacks" / f"Pulumi.{stack}.yaml")
    escrow = raw["escrow"]
    assert escrow["enabled"] is True
    plan = plan_stack(stack)
    component = plan.one("eksgitops:dr:FleetEscrow")
    cluster = raw["clusterName"]
    assert component.parent.endswith(f"eksgitops:platform:Platform::{cluster}")
    home = escrow.get("region", raw["region"])
    for type_ in ESCROW_TYPES:
        (resource,) = plan.by_type(type_)
        # Every escrow resource outlives a teardown, the bucket's settings too.
        assert resource.protect and resource.retain_on_delete, type_
        # In the escrow's own region, named explicitly: a cluster moved to another region
        # must not move (and so replace) the protected escrow with it.
        assert resource.plain_inputs()["region"] == home, type_
        # Through the platform's provider: its default tags reach the escrow too.
        assert f"pulumi:providers:aws::{cluster}-aws::" in resource.provider
    secret = plan.one("aws:secretsmanager/secret:Secret").plain_inputs()
    assert secret["name"] == f"eksgitops/{stack}/git-credentials"
    assert "secretString" not in secret
    assert secret.get("replicas", []) == [{"region": r} for r in escrow.get("secretReplicaRegions", [])]
    lifecycle = plan.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").plain_inputs()
    assert lifecycle["rules"][0]["noncurrentVersionExpiration"] == {
        "noncurrentDays": escrow.get("bundleRetentionDays", 90)
    }
    assert plan.outputs["fleetEscrowBucket"] == f"eksgitops-escrow-000000000000-{stack}"
    assert plan.outputs["gitCredentialsSecretArn"]


def test_turning_escrow_on_in_dev_adds_it_in_the_clusters_region():
    plan = plan_stack("dev", enabled=True, secretReplicaRegions=["eu-central-1"], bundleRetentionDays=7)
    bucket = plan.one("aws:s3/bucket:Bucket").plain_inputs()
    assert bucket["region"] == "eu-west-1"
    assert plan.one("aws:secretsmanager/secret:Secret").plain_inputs()["replicas"] == [
        {"region": "eu-central-1"}
    ]
    assert plan.outputs["fleetEscrowBucket"] == "eksgitops-escrow-000000000000-dev"


def test_explicit_platform_args_win_over_the_spec():
    from components.platform import Platform, PlatformArgs

    raw = stack_config(REPO / "stacks" / "Pulumi.staging.yaml", REPO / "Pulumi.yaml")
    spec = load_spec(raw, stack="staging", source="staging")

    def program():
        Platform(
            spec.cluster_name,
            PlatformArgs(spec=spec, escrow=FleetEscrowArgs(environment="staging", region="us-east-1")),
        ).export_stack_outputs()

    plan = run_program(program, stack="staging", region=spec.region)
    assert plan.one("aws:s3/bucket:Bucket").plain_inputs()["region"] == "us-east-1"


def test_plan_prod_shows_the_escrow_protected_and_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from typer.testing import CliRunner

    from eksgitops.cli import app

    for var in ("KUBECONFIG", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(REPO)
    out = tmp_path / "build"
    result = CliRunner().invoke(app, ["plan", "prod", "--out", str(out)])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.stdout.split())
    for line in (
        "aws:s3/bucket:Bucket eksgitops-prod-escrow-bundles (protected, kept on delete)",
        "aws:secretsmanager/secret:Secret eksgitops-prod-escrow-git-credentials (protected, kept on delete)",
        "aws:s3/bucketVersioning:BucketVersioning eksgitops-prod-escrow-bundles (protected, kept on delete)",
    ):
        assert line in flat, line
    document = json.loads((out / "prod" / "resources.json").read_text())
    escrowed = [r for r in document["resources"] if r["type"] in ESCROW_TYPES]
    assert len(escrowed) == len(ESCROW_TYPES)
    assert all(r["protect"] and r["retainOnDelete"] for r in escrowed)
    assert document["outputs"]["fleetEscrowBucket"] == "eksgitops-escrow-000000000000-prod"
