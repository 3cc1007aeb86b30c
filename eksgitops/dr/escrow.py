"""Escrow of the fleet repository: a `git bundle` of every branch and tag in a versioned S3 bucket.

`store_bundle` refreshes it (`eksgitops dr escrow STACK`, or a scheduled CI job);
`fetch_bundle` brings the latest back so that preflight and a rebuild work while the Git
host is down. The bucket and key names are deterministic (components.fleet_escrow).
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

from eksgitops.components.fleet_escrow import bundle_key, escrow_bucket_name
from eksgitops.dr.aws import AwsClients, error_text
from eksgitops.dr.fleet_check import GitCheckError, mirror, run_git
from eksgitops.fleet.credentials import Credentials


class EscrowError(Exception):
    """The bundle could not be made, stored or fetched: one line."""


@dataclass(frozen=True)
class StoredBundle:
    bucket: str
    key: str
    version_id: str | None
    sha256: str
    size: int
    heads: int


def escrow_location(aws: AwsClients, environment: str, bucket: str | None) -> tuple[str, str]:
    """(bucket, key) of the environment's bundle; the bucket defaults to the deterministic name."""
    try:
        name = bucket or escrow_bucket_name(environment, aws.account_id())
    except ValueError as exc:
        raise EscrowError(str(exc)) from None
    except Exception as exc:  # botocore: no credentials, endpoint down
        raise EscrowError(
            f"cannot find the account id for the escrow bucket name ({error_text(exc)})"
        ) from None
    return name, bundle_key(environment)


def store_bundle(
    url: str,
    aws: AwsClients,
    environment: str,
    *,
    bucket: str | None,
    creds: Credentials,
    timeout: float = 300.0,
) -> StoredBundle:
    """Mirror `url`, bundle every ref, upload it as the environment's bundle (a new S3 version)."""
    name, key = escrow_location(aws, environment, bucket)
    with tempfile.TemporaryDirectory(prefix="eksgitops-escrow-") as tmp:
        try:
            repo = mirror(url, Path(tmp) / "fleet.git", creds=creds, timeout=timeout)
            heads = len(
                run_git(["for-each-ref", "--format=%(refname)"], creds=creds, timeout=30, cwd=repo).split()
            )
            if heads == 0:
                raise EscrowError("the fleet repository has no branch or tag to bundle")
            bundle = Path(tmp) / "fleet.bundle"
            run_git(
                ["bundle", "create", "--quiet", str(bundle), "--all"], creds=creds, timeout=timeout, cwd=repo
            )
            run_git(["bundle", "verify", "--quiet", str(bundle)], creds=creds, timeout=timeout, cwd=repo)
        except GitCheckError as exc:
            raise EscrowError(f"cannot bundle the fleet repository: {exc}") from None
        data = bundle.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        try:
            answer = aws.client("s3").put_object(
                # No encryption header: the bucket's default (SSE-KMS with the escrow key) applies,
                # and its policy refuses uploads encrypted any other way.
                Bucket=name,
                Key=key,
                Body=data,
                Metadata={"sha256": digest},
            )
        except Exception as exc:
            raise EscrowError(f"cannot upload the bundle to s3://{name}/{key} ({error_text(exc)})") from None
    return StoredBundle(name, key, answer.get("VersionId"), digest, len(data), heads)


def fetch_bundle(aws: AwsClients, environment: str, dest: Path, *, bucket: str | None) -> tuple[Path, str]:
    """Download the latest bundle to `dest`; check it against the sha256 stored beside it."""
    name, key = escrow_location(aws, environment, bucket)
    try:
        answer = aws.client("s3").get_object(Bucket=name, Key=key)
        data = answer["Body"].read()
    except Exception as exc:
        raise EscrowError(f"no fleet bundle at s3://{name}/{key} ({error_text(exc)})") from None
    expected = (answer.get("Metadata") or {}).get("sha256")
    if expected and hashlib.sha256(data).hexdigest() != expected:
        raise EscrowError(f"the bundle at s3://{name}/{key} does not match its sha256; it is corrupt")
    dest.write_bytes(data)
    return dest, f"s3://{name}/{key}"
