"""`FleetEscrow`: what a rebuild needs when the Git host or the cluster's own secrets are gone.

Durable resources with deterministic names, so that a rebuild (even from lost Pulumi
state, by `pulumi import`) finds them again:

- a versioned, private S3 bucket that holds `git bundle`s of the fleet repository
  (`eksgitops dr escrow STACK` refreshes it), so a rebuild does not depend on the Git host
  being up. Its policy denies reading, writing and listing objects to every principal but
  the escrow's own (`FleetEscrowArgs.principal_arns`), same-account admins and
  `AmazonS3ReadOnlyAccess` holders included, and refuses plain HTTP and uploads encrypted
  any other way than with the escrow key;
- the escrow key: a customer KMS key (rotation on) in the escrow's region that encrypts
  the bundles (SSE-KMS, bucket key on). Its own key, not the cluster's: SSE-KMS needs a key
  in the bucket's region, and the cluster's secrets key is destroyed with the cluster by
  `dr teardown`, which would leave the bundles unreadable exactly when a rebuild needs them;
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

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from eksgitops.components.secrets_key import key_with_alias

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


def escrow_key_alias(environment: str) -> str:
    """The alias of the key that encrypts the environment's bundles."""
    return f"alias/{BUCKET_PREFIX}-{environment}"


# What the bucket policy withholds from everyone but the escrow's principals: every object
# read, write and delete, and listing the object versions. Not s3:ListBucket: HeadBucket is
# authorized by it, and the deployer's `pulumi up` and `refresh` read the bucket with it (the
# one key name, fleet/<env>.bundle, is no secret; the bundles are).
OBJECT_ACTIONS = (
    "s3:GetObject*",
    "s3:PutObject*",
    "s3:DeleteObject*",
    "s3:RestoreObject",
    "s3:ListBucketVersions",
    "s3:ListBucketMultipartUploads",
    "s3:ListMultipartUploadParts",
    "s3:AbortMultipartUpload",
)


def escrow_bucket_policy(bucket_arn: str, key_arn: str, principal_arns: Sequence[str]) -> dict:
    """Only `principal_arns` touch the bundles; TLS only; uploads only under the escrow key.

    Deny statements, so an IAM grant elsewhere (AdministratorAccess, AmazonS3ReadOnlyAccess)
    cannot open the bucket. Bucket-level management (versioning, lifecycle, this policy) and
    s3:ListBucket (HeadBucket) stay with IAM, so the deployer's `pulumi up` and `refresh` keep
    working.
    """
    objects = f"{bucket_arn}/*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OnlyTheEscrowPrincipalsTouchTheBundles",
                "Effect": "Deny",
                "Principal": "*",
                "Action": list(OBJECT_ACTIONS),
                "Resource": [bucket_arn, objects],
                "Condition": {"ArnNotEquals": {"aws:PrincipalArn": sorted(principal_arns)}},
            },
            {
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, objects],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "UploadsOnlySseKms",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": objects,
                # Only when the upload names an encryption: without the header the bucket's
                # default (the escrow key) applies. A negated operator alone would also match a
                # missing header, hence the Null check beside it.
                "Condition": {
                    "Null": {"s3:x-amz-server-side-encryption": "false"},
                    "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
                },
            },
            {
                "Sid": "UploadsOnlyUnderTheEscrowKey",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": objects,
                "Condition": {
                    "Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"},
                    "StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn},
                },
            },
        ],
    }


def bundle_key(environment: str) -> str:
    """The S3 key of the environment's latest fleet bundle (older ones are object versions)."""
    return f"fleet/{environment}.bundle"


@dataclass
class FleetEscrowArgs:
    """What a `FleetEscrow` needs."""

    environment: str
    """The environment whose fleet is escrowed; names the bucket and the secret."""
    principal_arns: Sequence[str] = field(default_factory=tuple)
    """The IAM roles (or users) that write and restore the bundles: whoever runs `eksgitops dr
    escrow`, `dr preflight` and `dr rebuild`. Every other principal is denied the bundles by
    the bucket policy. At least one; `Platform` passes the stack's cluster-wide
    AmazonEKSClusterAdminPolicy access entries (a rebuild needs cluster admin anyway)."""
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
    key_arn: pulumi.Output[str]
    """ARN of the escrow key (the bundles' SSE-KMS key)."""
    git_credentials_secret_arn: pulumi.Output[str]
    """ARN of the Git credentials secret (its value is put by an operator, not by Pulumi)."""

    def __init__(self, name: str, args: FleetEscrowArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksgitops:dr:FleetEscrow", name, None, opts)
        if args.noncurrent_version_days < 1:
            raise ValueError(f"{name}: noncurrent_version_days must be at least 1")
        if not args.principal_arns:
            raise ValueError(
                f"{name}: principal_arns is empty, so no one could write or restore the bundles; "
                "name the roles that run eksgitops dr"
            )
        invoke = pulumi.InvokeOptions(parent=self)
        account_id = aws.get_caller_identity_output(opts=invoke).account_id
        # Durable, the bucket's settings too: never deleted by Pulumi, reused by every rebuild.
        durable = pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True)
        region = args.region

        key, _ = key_with_alias(
            self,
            f"{name}-key",
            description=f"Encryption of the {args.environment} fleet bundles (escrow for rebuilds)",
            alias=escrow_key_alias(args.environment),
            tags=args.tags,
            opts=durable,
            region=region,
        )
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
                        sse_algorithm="aws:kms", kms_master_key_id=key.arn
                    ),
                    # One data key per bucket instead of a KMS call per object.
                    bucket_key_enabled=True,
                )
            ],
            opts=durable,
        )
        aws.s3.BucketPolicy(
            f"{name}-bundles",
            region=region,
            bucket=bucket.id,
            policy=pulumi.Output.all(bucket.arn, key.arn).apply(
                lambda values: json.dumps(escrow_bucket_policy(values[0], values[1], args.principal_arns))
            ),
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
        self.key_arn = key.arn
        self.git_credentials_secret_arn = secret.arn
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "key_arn": self.key_arn,
                "git_credentials_secret_arn": self.git_credentials_secret_arn,
            }
        )
