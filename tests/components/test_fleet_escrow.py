"""FleetEscrow: durable (protected, retained on delete) bucket and secret with deterministic names,
and the Platform wiring, planned offline."""

from __future__ import annotations

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
from eksgitops.plan.engine import CloudMocks


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


def test_bad_names_and_windows_are_refused():
    with pytest.raises(ValueError, match="not a valid S3 bucket name"):
        escrow_bucket_name("x" * 40, "111122223333")
    assert escrow_bucket_name("prod", "111122223333") == "eksgitops-escrow-111122223333-prod"
    with pytest.raises(ValueError, match="noncurrent_version_days must be at least 1"):
        plan_escrow(FleetEscrowArgs(environment="dev", noncurrent_version_days=0))


def test_platform_creates_escrow_only_when_asked_and_exports_it():
    from pathlib import Path

    from components.platform import Platform, PlatformArgs
    from components.spec import load_spec, project_config_defaults, raw_config_from_stack_file
    from eksgitops.plan.engine import run_program

    repo = Path(__file__).resolve().parents[2]
    raw = {
        **project_config_defaults(repo / "Pulumi.yaml"),
        **raw_config_from_stack_file(repo / "stacks" / "Pulumi.dev.yaml"),
    }
    spec = load_spec(raw, stack="dev", source="dev")

    def program(escrow: FleetEscrowArgs | None):
        def run():
            platform = Platform(spec.cluster_name, PlatformArgs(spec=spec, escrow=escrow))
            platform.export_stack_outputs()

        return run

    without = run_program(program(None), region=spec.region)
    assert not without.by_type("eksgitops:dr:FleetEscrow")
    assert "fleetEscrowBucket" not in without.outputs
    with_escrow = run_program(program(FleetEscrowArgs(environment="dev")), region=spec.region)
    escrow = with_escrow.one("eksgitops:dr:FleetEscrow")
    assert escrow.parent.endswith(f"eksgitops:platform:Platform::{spec.cluster_name}")
    bucket = with_escrow.one("aws:s3/bucket:Bucket")
    # The platform's own provider (its region and default tags), not an ambient default one.
    assert f"pulumi:providers:aws::{spec.cluster_name}-aws::" in bucket.provider
    assert with_escrow.outputs["fleetEscrowBucket"] == "eksgitops-escrow-000000000000-dev"
    assert with_escrow.outputs["gitCredentialsSecretArn"]
