"""`FleetEscrow`: what a rebuild needs when the Git host or the cluster's own secrets are gone.

Two durable resources with deterministic names, so that a rebuild (even from lost Pulumi
state, by `pulumi import`) finds them again:

- a versioned, private, encrypted S3 bucket that holds `git bundle`s of the fleet
  repository (`eksgitops dr escrow STACK` refreshes it), so a rebuild does not depend on
  the Git host being up;
- a Secrets Manager secret for the fleet repository's Git credentials. Pulumi creates the
  secret, never its value: an operator puts the value with `aws secretsmanager
  put-secret-value`, so the credential never passes through Pulumi inputs or state.

Every resource here is protected and retained on delete, the bucket's settings too:
`eksgitops dr teardown` destroys with protected resources excluded, and an unprotected
`BucketVersioning` would be destroyed with the cluster, which suspends versioning on the
bucket that is kept. `retain_on_delete` covers a plain `pulumi destroy` after someone lifts
the protection. Each resource names its region explicitly (pulumi-aws 7's per-resource
`region`), so the escrow stays where it is when the cluster is rebuilt in another region.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

BUCKET_PREFIX = "eksgitops-escrow"
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


def escrow_bucket_name(environment: str, account_id: str) -> str:
    """The escrow bucket of one environment: `eksgitops-escrow-<account>-<environment>`.

    The account id makes the (global) bucket name unique without randomness, so the
    name is known before the stack exists: preflight and a rebuild from lost state find it.
    """
    name = f"{BUCKET_PREFIX}-{account_id}-{environment}"
    if not _BUCKET_NAME.match(name) or ".." in name:
        raise ValueError(
            f"fleet escrow: bucket name {name!r} is not a valid S3 bucket name "
            "(3-63 characters a-z, 0-9, -); use a shorter environment name"
        )
    return name


def git_credentials_secret_name(environment: str) -> str:
    """The Secrets Manager secret that escrows the fleet repository's Git credentials."""
    return f"eksgitops/{environment}/git-credentials"


def bundle_key(environment: str) -> str:
    """The S3 key of the environment's latest fleet bundle (older ones are object versions)."""
    return f"fleet/{environment}.bundle"


@dataclass
class FleetEscrowArgs:
    """What a `FleetEscrow` needs."""

    environment: str
    """The environment whose fleet is escrowed; names the bucket and the secret."""
    region: str | None = None
    """Region of the bucket and the secret; default None is the provider's region."""
    secret_replica_regions: Sequence[str] = field(default_factory=tuple)
    """Regions the Git credentials secret is replicated to, so losing the cluster's region
    does not lose them; default none."""
    noncurrent_version_days: int = 90
    """How long superseded bundles are kept (S3 noncurrent versions); default 90 days."""
    tags: Mapping[str, pulumi.Input[str]] | None = None
    """Tags on both resources, beside the provider's default tags; default none."""


class FleetEscrow(pulumi.ComponentResource):
    """A versioned S3 bucket for fleet `git bundle`s and a secret for the Git credentials, both durable."""

    bucket_name: pulumi.Output[str]
    """Name of the escrow bucket."""
    git_credentials_secret_arn: pulumi.Output[str]
    """ARN of the Git credentials secret (its value is put by an operator, not by Pulumi)."""

    def __init__(self, name: str, args: FleetEscrowArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksgitops:dr:FleetEscrow", name, None, opts)
        if args.noncurrent_version_days < 1:
            raise ValueError(f"{name}: noncurrent_version_days must be at least 1")
        account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOptions(parent=self)).account_id
        # Durable, the bucket's settings too: never deleted by Pulumi, reused by every rebuild.
        durable = pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True)
        region = args.region

        bucket = aws.s3.Bucket(
            f"{name}-bundles",
            region=region,
            bucket=account_id.apply(lambda account: escrow_bucket_name(args.environment, account)),
            tags=args.tags,
            opts=durable,
        )
        aws.s3.BucketVersioning(
            f"{name}-bundles",
            region=region,
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=durable,
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-bundles",
            region=region,
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=durable,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-bundles",
            region=region,
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    )
                )
            ],
            opts=durable,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-bundles",
            region=region,
            bucket=bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-superseded-bundles",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix="fleet/"),
                    noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                        noncurrent_days=args.noncurrent_version_days
                    ),
                )
            ],
            opts=durable,
        )
        secret = aws.secretsmanager.Secret(
            f"{name}-git-credentials",
            region=region,
            name=git_credentials_secret_name(args.environment),
            description=f"Git credentials of the {args.environment} fleet repository (escrow for rebuilds)",
            # The longest window: a deleted credential can be restored for a month.
            recovery_window_in_days=30,
            replicas=[aws.secretsmanager.SecretReplicaArgs(region=r) for r in args.secret_replica_regions],
            tags=args.tags,
            opts=durable,
        )
        self.bucket_name = bucket.bucket
        self.git_credentials_secret_arn = secret.arn
        self.register_outputs(
            {"bucket_name": self.bucket_name, "git_credentials_secret_arn": self.git_credentials_secret_arn}
        )
