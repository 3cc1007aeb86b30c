"""`eksgitops dr preflight STACK`: everything a rebuild needs, checked before anything is created.

Each check ends in a `CheckRow` (pass or fail, with the reason). Nothing here creates or
changes anything in AWS, Git or Pulumi; the only local writes are the plan's build/ files
and the report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, urlparse

import yaml

from eksgitops.components.fleet_escrow import git_credentials_secret_name
from eksgitops.components.gitops.sops_key import sops_alias_name
from eksgitops.dr.aws import AwsClients, error_text
from eksgitops.dr.capacity import quotas, version_offered, zones
from eksgitops.dr.context import DRILL_SUFFIX, StackContext
from eksgitops.dr.escrow import EscrowError, escrow_location, fetch_bundle
from eksgitops.dr.fleet_check import FleetVerifier, GitCheckError, has_path, mirror, resolve
from eksgitops.dr.report import CheckRow, guarded, skipped
from eksgitops.dr.tools import Which, tools
from eksgitops.fleet.credentials import Credentials


class PlanRunner(Protocol):
    """`eksgitops plan STACK`: (exit code, what it printed)."""

    def run(self, stack: str) -> tuple[int, str]: ...


class SubprocessPlanRunner:
    """The offline plan in a child process: spec, policies, and build/<stack>/ for fleet verify."""

    def __init__(self, project_dir: Path, stacks_dir: Path, build_dir: Path, *, timeout: float = 600.0):
        self.project_dir, self.stacks_dir, self.build_dir, self.timeout = (
            project_dir,
            stacks_dir,
            build_dir,
            timeout,
        )

    def run(self, stack: str) -> tuple[int, str]:
        args = [
            sys.executable,
            "-m",
            "eksgitops.cli",
            "plan",
            stack,
            "--quiet",
            "--stacks-dir",
            str(self.stacks_dir.resolve()),
            "--out",
            str(self.build_dir.resolve()),
        ]
        try:
            proc = subprocess.run(
                args, cwd=self.project_dir, capture_output=True, text=True, timeout=self.timeout, check=False
            )
        except subprocess.TimeoutExpired:
            return 1, f"the plan did not finish within {self.timeout:.0f}s"
        return proc.returncode, (proc.stdout + "\n" + proc.stderr).strip()


@dataclass
class PreflightOptions:
    """What the command line adds to the stack file."""

    revision: str | None = None
    """Branch, tag or commit to rebuild from; default the spec's branch."""
    repo_url: str | None = None
    """Use this repository (a mirror, a path) instead of the spec's repoUrl."""
    from_escrow: bool = False
    """Use the escrowed bundle instead of the Git host."""
    escrow_bucket: str | None = None
    credentials_secret: str | None = None
    sops_key: str | None = None
    backend: str | None = None
    git_timeout: float = 120.0


@dataclass
class PreflightDeps:
    """The world, as preflight reaches it."""

    aws: AwsClients
    """Clients of the region the cluster is (re)built in."""
    plan: PlanRunner
    fleet: FleetVerifier
    creds: Credentials = field(default_factory=Credentials)
    regional: Callable[[str], AwsClients] = AwsClients
    """Clients of another region (the escrow's and its replicas')."""
    which: Which | None = None
    """How the Pulumi and AWS CLIs are found and asked their version (default: PATH)."""

    def clients(self, region: str) -> AwsClients:
        return self.aws if region == self.aws.region else self.regional(region)


@dataclass
class PreflightResult:
    rows: list[CheckRow]
    sha: str | None
    """The commit a rebuild will use, when the revision was found."""

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self.rows)


def run_preflight(ctx: StackContext, opts: PreflightOptions, deps: PreflightDeps) -> PreflightResult:
    rows: list[CheckRow] = [CheckRow("spec", True, f"{ctx.stack_file} is valid", "spec")]
    rows.append(_policies(ctx, deps.plan))
    sha, git_rows = _git_checks(ctx, opts, deps)
    rows += git_rows
    rows.append(_escrowed_bundle(ctx, opts, deps))
    rows.append(_escrowed_credentials(ctx, opts, deps))
    rows.append(_sops_key(ctx, opts, deps.aws))
    rows.append(_state_backend(ctx, opts, deps.aws))
    rows.append(zones(ctx, deps.aws))
    rows.append(version_offered(ctx, deps.aws))
    rows += quotas(ctx, deps.aws)
    rows += tools(deps.which)
    return PreflightResult(rows, sha)


def _policies(ctx: StackContext, plan: PlanRunner) -> CheckRow:
    code, out = plan.run(ctx.environment)
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    if code == 0:
        return CheckRow(
            "plan and policies", True, f"eksgitops plan {ctx.environment}: no mandatory violation", "spec"
        )
    what = "mandatory policy violation" if code == 1 else "the plan failed"
    detail = next(
        (line for line in lines if "violation" in line.lower() or ": " in line), lines[-1] if lines else ""
    )
    return CheckRow("plan and policies", False, f"{what} (exit {code}): {detail}", "spec")


def _git_checks(
    ctx: StackContext, opts: PreflightOptions, deps: PreflightDeps
) -> tuple[str | None, list[CheckRow]]:
    spec = ctx.spec.gitops
    revision = opts.revision or spec.branch
    rows: list[CheckRow] = []
    with tempfile.TemporaryDirectory(prefix="eksgitops-preflight-") as tmp:
        if opts.from_escrow:
            try:
                bundle, where = fetch_bundle(
                    deps.clients(ctx.escrow_region),
                    ctx.environment,
                    Path(tmp) / "fleet.bundle",
                    bucket=opts.escrow_bucket,
                )
            except EscrowError as exc:
                return None, [CheckRow("fleet repository reachable", False, str(exc), "git")]
            source, shown = str(bundle), f"escrowed bundle {where}"
        else:
            source = opts.repo_url or spec.repo_url
            if not source:
                return None, [
                    CheckRow(
                        "fleet repository reachable",
                        False,
                        "the stack sets no gitops.repoUrl and no --repo-url was given",
                        "git",
                    )
                ]
            shown = deps.creds.scrub(source)
        try:
            local = mirror(source, Path(tmp) / "fleet.git", creds=deps.creds, timeout=opts.git_timeout)
        except GitCheckError as exc:
            return None, [CheckRow("fleet repository reachable", False, f"{shown}: {exc}", "git")]
        rows.append(CheckRow("fleet repository reachable", True, f"cloned {shown}", "git"))
        try:
            rev = resolve(local, revision, creds=deps.creds)
        except GitCheckError as exc:
            rows.append(CheckRow("revision exists", False, str(exc), "git"))
            return None, rows
        rows.append(CheckRow("revision exists", True, f"{revision} is {rev.sha[:12]}", "git"))
        path = spec.path or f"clusters/{ctx.environment}"
        if not has_path(local, rev.sha, path, creds=deps.creds):
            rows.append(
                CheckRow("environment path", False, f"{path}/ does not exist at {rev.sha[:12]}", "git")
            )
            return rev.sha, rows
        rows.append(CheckRow("environment path", True, f"{path}/ exists at {rev.sha[:12]}", "git"))
        ok, said = deps.fleet.verify(str(local), ctx.environment, rev.sha, ctx.environment)
        rows.append(CheckRow("fleet verify", ok, said, "git"))
        return rev.sha, rows


ESCROW_OFF = "skipped: the stack has no escrow (eksgitops:escrow.enabled is not true)"


def _escrowed_bundle(ctx: StackContext, opts: PreflightOptions, deps: PreflightDeps) -> CheckRow:
    """The escrow bucket keeps versions and holds the environment's bundle (`dr escrow` ran)."""
    check = "escrowed fleet bundle"
    if not ctx.escrow.enabled and not opts.escrow_bucket:
        return skipped(check, ESCROW_OFF)
    aws = deps.clients(ctx.escrow_region)

    def body() -> CheckRow:
        try:
            bucket, key = escrow_location(aws, ctx.environment, opts.escrow_bucket)
        except EscrowError as exc:
            return CheckRow(check, False, str(exc), "aws")
        s3 = aws.client("s3")
        status = s3.get_bucket_versioning(Bucket=bucket).get("Status", "never enabled")
        if status != "Enabled":
            return CheckRow(
                check, False, f"s3://{bucket} has versioning {status}; Enabled (pulumi up restores it)", "aws"
            )
        try:
            head = s3.head_object(Bucket=bucket, Key=key)
        except Exception as exc:
            return CheckRow(
                check,
                False,
                f"no bundle at s3://{bucket}/{key} ({error_text(exc)}); "
                f"run eksgitops dr escrow {ctx.environment}",
                "aws",
            )
        stored = head["LastModified"].strftime("%Y-%m-%d %H:%M UTC")
        return CheckRow(
            check, True, f"s3://{bucket}/{key}: {head['ContentLength']} bytes, stored {stored}", "aws"
        )

    return guarded(check, "aws", body)


def _escrowed_credentials(ctx: StackContext, opts: PreflightOptions, deps: PreflightDeps) -> CheckRow:
    """The escrowed Git credentials are readable: in the escrow's region, else in a replica's."""
    check = "escrowed Git credentials"
    if opts.credentials_secret:
        places = [(opts.credentials_secret, deps.aws.region)]
    elif not ctx.escrow.enabled:
        return skipped(check, ESCROW_OFF)
    elif ctx.spec.gitops.credentials is None:
        return skipped(check, "skipped: the stack reads a public repository")
    else:
        name = git_credentials_secret_name(ctx.environment)
        regions = [ctx.escrow_region, *ctx.escrow.secret_replica_regions]
        places = [(name, region) for region in dict.fromkeys(regions)]

    def read(secret_id: str, region: str) -> tuple[bool, str]:
        sm = deps.clients(region).client("secretsmanager")
        described = sm.describe_secret(SecretId=secret_id)
        if described.get("DeletedDate"):
            return False, f"{secret_id} in {region} is scheduled for deletion; restore-secret it"
        value = sm.get_secret_value(SecretId=secret_id)
        if not (value.get("SecretString") or value.get("SecretBinary")):
            return False, f"{secret_id} in {region} has an empty value; put the credentials"
        return True, f"{secret_id} is readable in {region} (version {value.get('VersionId', '?')[:8]})"

    # A rebuild needs one readable copy: the primary, or a replica when its region is lost.
    failures: list[str] = []
    for secret_id, region in places:
        try:
            ok, said = read(secret_id, region)
        except Exception as exc:
            ok, said = False, f"{secret_id} in {region}: {error_text(exc)}"
        if ok:
            return CheckRow(check, True, "; ".join([said, *failures]), "aws")
        failures.append(said)
    return CheckRow(check, False, "; ".join(failures), "aws")


def sops_key_id(ctx: StackContext, explicit: str | None) -> str | None:
    """The SOPS key: --sops-key, else the stack's `gitops.sops` key (an existing key's ARN, or
    the alias the platform gives the key it creates), else None when SOPS is off."""
    if explicit:
        return explicit
    sops = ctx.spec.gitops.sops
    if not sops.enabled:
        return None
    # A drill builds a cluster of its own name, but the fleet's secrets are encrypted to the
    # environment's key: that is the key a drill (and a rebuild) must be able to use.
    cluster = ctx.spec.cluster_name
    if ctx.stack != ctx.environment:
        cluster = cluster.removesuffix(DRILL_SUFFIX)
    return sops.kms_key_arn or sops_alias_name(cluster)


def _sops_key(ctx: StackContext, opts: PreflightOptions, aws: AwsClients) -> CheckRow:
    check = "SOPS KMS key"
    key_id = sops_key_id(ctx, opts.sops_key)
    if key_id is None:
        return skipped(check, "skipped: the stack has gitops.sops.enabled false")

    def body() -> CheckRow:
        kms = aws.client("kms")
        meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
        if meta.get("KeyState") != "Enabled":
            return CheckRow(
                check,
                False,
                f"{key_id} is {meta.get('KeyState')}; an Enabled key (cancel-key-deletion / enable-key)",
                "aws",
            )
        # Usable, not just present: encrypt and decrypt a probe with it.
        probe = b"eksgitops-dr-preflight"
        blob = kms.encrypt(KeyId=meta["Arn"], Plaintext=probe)["CiphertextBlob"]
        if kms.decrypt(CiphertextBlob=blob, KeyId=meta["Arn"])["Plaintext"] != probe:
            return CheckRow(check, False, f"{key_id} did not decrypt what it encrypted", "aws")
        return CheckRow(check, True, f"{meta['Arn']} is Enabled and encrypts/decrypts", "aws")

    return guarded(check, "aws", body)


def backend_url(project_dir: Path, explicit: str | None) -> str | None:
    """--backend, else PULUMI_BACKEND_URL, else Pulumi.yaml's backend.url, else the CLI's current login."""
    if explicit:
        return explicit
    if os.environ.get("PULUMI_BACKEND_URL"):
        return os.environ["PULUMI_BACKEND_URL"]
    try:
        project = yaml.safe_load((project_dir / "Pulumi.yaml").read_text()) or {}
        url = (project.get("backend") or {}).get("url")
        if isinstance(url, str) and url:
            return url
    except (OSError, yaml.YAMLError, AttributeError):
        pass
    home = Path(os.environ.get("PULUMI_HOME", Path.home() / ".pulumi"))
    try:
        current = json.loads((home / "credentials.json").read_text()).get("current")
        return current if isinstance(current, str) and current else None
    except (OSError, ValueError, AttributeError):
        return None


def _state_backend(ctx: StackContext, opts: PreflightOptions, aws: AwsClients) -> CheckRow:
    check = "state backend"
    url = backend_url(ctx.project_dir, opts.backend)
    if not url:
        return CheckRow(
            check, False, "no backend known; set PULUMI_BACKEND_URL, --backend or `pulumi login`", "aws"
        )
    parsed = urlparse(url)

    def body() -> CheckRow:
        if parsed.scheme == "s3":
            region = parse_qs(parsed.query).get("region", [None])[0]
            client = AwsClients(region).client("s3") if region else aws.client("s3")
            client.head_bucket(Bucket=parsed.netloc)
            return CheckRow(check, True, f"s3://{parsed.netloc} is reachable", "aws")
        if parsed.scheme == "file":
            path = Path(os.path.expanduser(parsed.netloc + parsed.path))
            if path.is_dir() and os.access(path, os.W_OK):
                return CheckRow(check, True, f"{url} is a writable directory", "state")
            return CheckRow(check, False, f"{url} is not a writable directory", "state")
        if parsed.scheme in ("https", "http"):
            try:
                with urllib.request.urlopen(url.rstrip("/") + "/api/capabilities", timeout=15):
                    pass
            except urllib.error.HTTPError:
                pass  # it answered: reachable (authentication is the CLI's business)
            return CheckRow(check, True, f"{parsed.netloc} answers", "state")
        return CheckRow(check, False, f"{url}: unsupported backend scheme; s3://, file://, https://", "state")

    return guarded(check, "aws" if parsed.scheme == "s3" else "state", body)
