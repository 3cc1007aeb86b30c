"""The `escrow` section: durable escrow of the fleet repository and its Git credentials."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, ValidationInfo
from pydantic import model_validator as _model_validator

from eksgitops.components.spec.base import DNS_LABEL, SpecModel
from eksgitops.components.spec.data import (
    region_partition,
)
from eksgitops.components.spec.syntax import (
    alias,
    check,
    context_value,
    fail,
    fmt,
    region_name,
    unique,
)

after = _model_validator(mode="after")


# S3 keeps noncurrent versions for at least a day; ten years bounds a typo (36500).
MAX_BUNDLE_RETENTION_DAYS = 3650
# The escrow bucket is `eksgitops-escrow-<12-digit account>-<stack>` (components.fleet_escrow):
# at most 63 characters leaves 33 for the stack name.
ESCROW_BUCKET_PREFIX_LENGTH = len("eksgitops-escrow-") + 12 + 1
# S3 general purpose bucket naming rules (https://docs.aws.amazon.com/AmazonS3/latest/userguide/
# bucketnamingrules.html): 3-63 of a-z, 0-9, '.' and '-', starting and ending alphanumeric, and
# none may end with a suffix S3 keeps for access points, Object Lambda, Multi-Region Access
# Points, directory buckets and table buckets. The prefix (eksgitops-escrow-) is fixed, so
# only the stack name's length, characters and ending can break the rules.
S3_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def escrow_environment(env: str) -> str:
    """A stack name that makes a valid escrow bucket name `eksgitops-escrow-<account>-<env>`."""
    longest = 63 - ESCROW_BUCKET_PREFIX_LENGTH
    allowed = f"a stack name of at most {longest} of a-z, 0-9 and '-'"
    if len(env) > longest or not DNS_LABEL.fullmatch(env):
        raise fail(
            f"the stack name {fmt(env)} makes no valid escrow bucket name (eksgitops-escrow-<account>-{env})",
            allowed,
        )
    suffix = next((s for s in S3_RESERVED_SUFFIXES if env.endswith(s)), None)
    if suffix:
        raise fail(
            f"the stack name {fmt(env)} would end the escrow bucket name in {suffix}, which S3 reserves",
            f"{allowed}, not ending in " + ", ".join(S3_RESERVED_SUFFIXES),
        )
    return env


def _escrow_region(value: str, info: ValidationInfo) -> str:
    region_name(value)
    region = context_value(info, "region")
    if region and region_partition(value) != region_partition(region):
        raise fail(
            f"{fmt(value)} is in partition {region_partition(value)}, the cluster's region {region} "
            f"in {region_partition(region)}",
            f"a region of partition {region_partition(region)}",
        )
    return value


EscrowRegion = Annotated[str, AfterValidator(_escrow_region)]


class EscrowSpec(SpecModel):
    """Durable escrow of the fleet repository (`git bundle`s in S3) and its Git credentials
    (a Secrets Manager secret), kept when the cluster is torn down (components.fleet_escrow)."""

    enabled: bool = False
    """Create the escrow bucket and secret (protected, retained on delete)."""
    region: EscrowRegion | None = None
    """Region of the bucket and the secret; unset means the cluster's region. Another region
    keeps the escrow when the cluster's region is lost."""
    secret_replica_regions: Annotated[list[EscrowRegion], unique("region")] = Field(default_factory=list)
    """Regions the Git credentials secret is replicated to (Secrets Manager replicas)."""
    bundle_retention_days: Annotated[
        int,
        check(
            lambda v: 1 <= v <= MAX_BUNDLE_RETENTION_DAYS,
            lambda v: f"{v} is out of range",
            f"1 to {MAX_BUNDLE_RETENTION_DAYS} days",
        ),
    ] = 90
    """Days a superseded bundle is kept (S3 noncurrent version expiration)."""

    @after
    def _consistent(self, info: ValidationInfo) -> EscrowSpec:
        if not self.enabled:
            for key in ("region", "secret_replica_regions", "bundle_retention_days"):
                if key in self.model_fields_set:
                    raise fail(
                        "is set but escrow.enabled is not true, so no escrow is created",
                        "enabled: true, or leave it out",
                        alias(key),
                    )
            return self
        home = self.region or context_value(info, "region")
        for i, replica in enumerate(self.secret_replica_regions):
            if replica == home:
                raise fail(
                    f"{fmt(replica)} is the escrow's own region",
                    "other regions (Secrets Manager replicates a secret to regions other than its own)",
                    "secretReplicaRegions",
                    i,
                )
        return self
