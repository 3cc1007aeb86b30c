"""FleetEscrow: durable (protected, retained on delete) bucket and secret with deterministic names,
and the Platform wiring, planned offline."""

from __future__ import annotations

import fnmatch
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

from eksgitops.components.fleet_escrow import (
    FleetEscrow,
    FleetEscrowArgs,
    bundle_key,
    escrow_bucket_name,
    escrow_bucket_policy,
    escrow_key_alias,
    git_credentials_secret_name,
)
from eksgitops.components.spec import load_spec
from eksgitops.components.spec.read import config_for_pulumi, raw_config_from_stack_file, stack_config
from eksgitops.plan.offline_engine import CloudMocks, PlanResult, run_program
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


DR_ROLE = "arn:aws:iam::000000000000:role/eksgitops-dr"
ADMIN_ROLE = "arn:aws:iam::000000000000:role/platform-admin"


def test_bucket_and_secret_are_durable_with_deterministic_names():
    monitor, outputs = plan_escrow(
        FleetEscrowArgs(environment="dev", secret_replica_regions=["eu-central-1"], principal_arns=[DR_ROLE])
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
    assert len(resources) == 9
    for (type_, _name), seen in resources.items():
        assert seen["protect"] is True and seen["retainOnDelete"] is True, type_
        assert "region" not in seen["inputs"]  # none given: the provider's


def test_bad_names_and_windows_are_refused():
    with pytest.raises(ValueError, match="not a valid S3 bucket name"):
        escrow_bucket_name("x" * 40, "111122223333")
    assert escrow_bucket_name("prod", "111122223333") == "eksgitops-escrow-111122223333-prod"
    with pytest.raises(
        ValueError, match=r"FleetEscrowArgs.noncurrent_version_days: 0 is out of range; 1 to 3650"
    ):
        plan_escrow(FleetEscrowArgs(environment="dev", noncurrent_version_days=0, principal_arns=[DR_ROLE]))
    # A bucket policy that names no one would lock every dr command out of the bundles.
    with pytest.raises(ValueError, match=r"FleetEscrowArgs.principal_arns: has 0 principal ARNs; at least 1"):
        plan_escrow(FleetEscrowArgs(environment="dev"))


BUCKET_ARN = "arn:aws:s3:::eksgitops-escrow-000000000000-prod"
KEY_ARN = "arn:aws:kms:eu-central-1:000000000000:key/escrow"
BUNDLE = f"{BUCKET_ARN}/fleet/prod.bundle"


def denied(policy: dict[str, Any], principal: str, action: str, resource: str, **request: str) -> bool:
    """Whether one Deny statement of `policy` matches the request (IAM's evaluation, the
    operators the escrow policy uses). The request keys are condition keys."""
    context = {"aws:PrincipalArn": principal, "aws:SecureTransport": "true", **request}

    def holds(operator: str, key: str, wanted: Any) -> bool:
        values = wanted if isinstance(wanted, list) else [wanted]
        if operator == "Bool":
            return context[key] in values
        if operator == "Null":  # "true": the key is absent; "false": it is present
            return (key not in context) == (values == ["true"])
        if operator in ("ArnNotEquals", "StringNotEquals"):  # negated: true when the key is absent
            return key not in context or context[key] not in values
        raise AssertionError(f"the test does not evaluate {operator}")

    for statement in policy["Statement"]:
        assert statement["Effect"] == "Deny" and statement["Principal"] == "*"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        if not any(fnmatch.fnmatchcase(action, a) for a in actions):
            continue
        if not any(fnmatch.fnmatchcase(resource, r) for r in resources):
            continue
        conditions = statement.get("Condition", {})
        if all(holds(op, k, v) for op, pairs in conditions.items() for k, v in pairs.items()):
            return True
    return False


def test_only_the_escrow_principals_read_or_write_the_bundles():
    policy = escrow_bucket_policy(BUCKET_ARN, KEY_ARN, [DR_ROLE, ADMIN_ROLE])
    # A dev workload of the same account with AmazonS3ReadOnlyAccess (or an admin role) has an
    # IAM allow on s3:Get*/List*; the bucket's explicit deny wins over it.
    workload = "arn:aws:iam::000000000000:role/eksgitops-dev-reports"
    for action, resource in (
        ("s3:GetObject", BUNDLE),
        ("s3:GetObjectVersion", BUNDLE),
        ("s3:ListBucketVersions", BUCKET_ARN),
        ("s3:PutObject", BUNDLE),
        ("s3:DeleteObjectVersion", BUNDLE),
    ):
        assert denied(policy, workload, action, resource), action
    # What the dr commands do, as the escrow's principals: upload (no encryption header, so the
    # bucket's SSE-KMS default applies), head and get the bundle, read the bucket's versioning.
    for principal in (DR_ROLE, ADMIN_ROLE):
        assert not denied(policy, principal, "s3:PutObject", BUNDLE)
        assert not denied(policy, principal, "s3:GetObject", BUNDLE)
        assert not denied(policy, principal, "s3:GetBucketVersioning", BUCKET_ARN)
    # Bucket settings stay with IAM: the deployer's `pulumi up` still manages the bucket, and
    # its `refresh` reads it (HeadBucket is authorized by s3:ListBucket on the bucket).
    deployer = "arn:aws:iam::000000000000:role/ci-deployer"
    assert not denied(policy, deployer, "s3:PutBucketVersioning", BUCKET_ARN)
    assert not denied(policy, deployer, "s3:ListBucket", BUCKET_ARN)


def test_the_bundles_are_only_stored_under_the_escrow_key_and_over_tls():
    policy = escrow_bucket_policy(BUCKET_ARN, KEY_ARN, [DR_ROLE])
    sse = "s3:x-amz-server-side-encryption"
    assert denied(policy, DR_ROLE, "s3:PutObject", BUNDLE, **{sse: "AES256"})
    assert denied(
        policy, DR_ROLE, "s3:PutObject", BUNDLE, **{sse: "aws:kms", f"{sse}-aws-kms-key-id": "arn:other"}
    )
    assert not denied(
        policy, DR_ROLE, "s3:PutObject", BUNDLE, **{sse: "aws:kms", f"{sse}-aws-kms-key-id": KEY_ARN}
    )
    assert denied(policy, DR_ROLE, "s3:GetObject", BUNDLE, **{"aws:SecureTransport": "false"})


def test_the_planned_bucket_has_that_policy_and_sse_kms_with_a_durable_key_of_its_own():
    monitor, _ = plan_escrow(FleetEscrowArgs(environment="prod", principal_arns=[DR_ROLE]))
    document = json.loads(
        monitor.seen[("aws:s3/bucketPolicy:BucketPolicy", "dev-escrow-bundles")]["inputs"]["policy"]
    )
    statements = {s["Sid"]: s for s in document["Statement"]}
    assert statements["OnlyTheEscrowPrincipalsTouchTheBundles"]["Condition"] == {
        "ArnNotEquals": {"aws:PrincipalArn": [DR_ROLE]}
    }
    sse = monitor.seen[
        (
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "dev-escrow-bundles",
        )
    ]["inputs"]["rules"][0]
    assert sse["bucketKeyEnabled"] is True
    default = sse["applyServerSideEncryptionByDefault"]
    assert default["sseAlgorithm"] == "aws:kms" and default["kmsMasterKeyId"]
    key = monitor.seen[("aws:kms/key:Key", "dev-escrow-key")]
    # Kept when `dr teardown` destroys the cluster and its secrets key: bundles stay readable.
    assert key["protect"] is True and key["retainOnDelete"] is True
    assert key["inputs"]["enableKeyRotation"] is True
    alias = monitor.seen[("aws:kms/alias:Alias", "dev-escrow-key")]["inputs"]
    assert alias["name"] == escrow_key_alias("prod") == "alias/eksgitops-escrow-prod"


REPO = Path(__file__).resolve().parents[2]
ESCROW_TYPES = (
    "aws:kms/key:Key",
    "aws:kms/alias:Alias",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketPolicy:BucketPolicy",
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
    assert not any(r for t in ESCROW_TYPES for r in plan.by_type(t) if "-escrow-" in r.name)
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
        (resource,) = [r for r in plan.by_type(type_) if r.name.startswith(f"{cluster}-escrow-")]
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
    # Who may touch the bundles: the stack's cluster-wide cluster admins, and only them.
    admins = [
        e["principalArn"]
        for e in raw["access"]["entries"]
        if e.get("policy", "AmazonEKSClusterAdminPolicy") == "AmazonEKSClusterAdminPolicy"
        and not e.get("namespaces")
    ]
    assert admins and len(admins) < len(raw["access"]["entries"])  # a viewer is left out
    policy = json.loads(plan.one("aws:s3/bucketPolicy:BucketPolicy").plain_inputs()["policy"])
    assert policy["Statement"][0]["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": sorted(admins)}}


def test_turning_escrow_on_in_dev_adds_it_in_the_clusters_region():
    plan = plan_stack("dev", enabled=True, secretReplicaRegions=["eu-central-1"], bundleRetentionDays=7)
    bucket = plan.one("aws:s3/bucket:Bucket").plain_inputs()
    assert bucket["region"] == "eu-west-1"
    assert plan.one("aws:secretsmanager/secret:Secret").plain_inputs()["replicas"] == [
        {"region": "eu-central-1"}
    ]
    assert plan.outputs["fleetEscrowBucket"] == "eksgitops-escrow-000000000000-dev"


def test_explicit_platform_args_win_over_the_spec():
    from eksgitops.components.platform import Platform, PlatformArgs

    raw = stack_config(REPO / "stacks" / "Pulumi.staging.yaml", REPO / "Pulumi.yaml")
    spec = load_spec(raw, stack="staging", source="staging")

    def program():
        Platform(
            spec.cluster_name,
            PlatformArgs(
                spec=spec,
                escrow=FleetEscrowArgs(environment="staging", region="us-east-1", principal_arns=[DR_ROLE]),
            ),
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
    result = CliRunner().invoke(app, ["plan", "prod", "--out", str(out)], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    flat = " ".join(result.stdout.split())
    for line in (
        "aws:s3/bucket:Bucket eksgitops-prod-escrow-bundles (protected, kept on delete)",
        "aws:secretsmanager/secret:Secret eksgitops-prod-escrow-git-credentials (protected, kept on delete)",
        "aws:s3/bucketVersioning:BucketVersioning eksgitops-prod-escrow-bundles (protected, kept on delete)",
    ):
        assert line in flat, line
    document = json.loads((out / "prod" / "resources.json").read_text())
    escrowed = [r for r in document["resources"] if r["type"] in ESCROW_TYPES and "-escrow-" in r["name"]]
    assert len(escrowed) == len(ESCROW_TYPES)
    assert all(r["protect"] and r["retainOnDelete"] for r in escrowed)
    assert document["outputs"]["fleetEscrowBucket"] == "eksgitops-escrow-000000000000-prod"
