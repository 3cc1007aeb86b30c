"""Preflight against a real moto server and real Git repositories: a good setup passes, and each
broken prerequisite fails with its reason."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from eksgitops.dr.aws import AwsClients
from eksgitops.dr.context import load_stack
from eksgitops.dr.escrow import store_bundle
from eksgitops.dr.fleet_check import SubprocessFleetVerifier
from eksgitops.dr.preflight import PreflightDeps, PreflightOptions, run_preflight
from eksgitops.fleet.credentials import Credentials
from tests.dr.conftest import REGION, FleetRepo, client, free_port, write_stack


class FakePlan:
    def __init__(self, code: int = 0, output: str = "Wrote build/dev/resources.json") -> None:
        self.code, self.output, self.stacks = code, output, []

    def run(self, stack: str) -> tuple[int, str]:
        self.stacks.append(stack)
        return self.code, self.output


class FakeVerifier:
    def __init__(self, ok: bool = True, said: str = "verify: clusters/dev will reconcile") -> None:
        self.ok, self.said, self.calls = ok, said, []

    def verify(self, repo: str, env: str, revision: str, stack: str) -> tuple[bool, str]:
        self.calls.append((repo, env, revision, stack))
        return self.ok, self.said


def escrow_bucket(region: str = REGION, env: str = "dev") -> str:
    """The environment's escrow bucket, as FleetEscrow makes it: versioned, in its region."""
    account = client("sts").get_caller_identity()["Account"]
    bucket = f"eksgitops-escrow-{account}-{env}"
    s3 = client("s3", region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return bucket


def good_aws(fleet: FleetRepo | None = None) -> dict[str, Any]:
    """Everything a rebuild of dev needs, in moto: the escrow (bucket with a bundle, credentials),
    the SOPS key and the state bucket."""
    client("secretsmanager").create_secret(
        Name="eksgitops/dev/git-credentials", SecretString='{"token": "t0k3n"}'
    )
    bucket = escrow_bucket()
    if fleet is not None:
        store_bundle(str(fleet.bare), AwsClients(REGION), "dev", bucket=None, creds=Credentials())
    else:
        client("s3").put_object(Bucket=bucket, Key="fleet/dev.bundle", Body=b"# v2 git bundle\n")
    kms = client("kms")
    key = kms.create_key(Description="sops")["KeyMetadata"]
    kms.create_alias(AliasName="alias/eksgitops-dev-sops", TargetKeyId=key["KeyId"])
    client("s3").create_bucket(
        Bucket="state-bucket", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return {"key_id": key["KeyId"]}


def setup(project: Path, fleet: FleetRepo, **opts: Any) -> tuple[Any, PreflightOptions, PreflightDeps]:
    ctx = load_stack(
        "dev",
        stacks_dir=project / "stacks",
        project_dir=project,
        build_dir=project / "build",
        command="preflight",
    )
    options = PreflightOptions(repo_url=str(fleet.bare), backend="s3://state-bucket", git_timeout=30)
    for key, value in opts.items():
        setattr(options, key, value)
    deps = PreflightDeps(
        aws=AwsClients(REGION),
        plan=FakePlan(),
        fleet=FakeVerifier(),
        creds=Credentials(),
        which=lambda program, args: {"pulumi": "v3.200.0", "aws": "aws-cli/2.27.0"}.get(program),
    )
    return ctx, options, deps


def rows_by_check(result) -> dict[str, Any]:
    return {row.check: row for row in result.rows}


def test_good_setup_passes_every_check(aws_env, project, fleet_repo):
    good_aws()
    ctx, opts, deps = setup(project, fleet_repo)
    result = run_preflight(ctx, opts, deps)
    failed = [(r.check, r.reason) for r in result.rows if not r.ok]
    assert failed == []
    assert result.ok and result.sha == fleet_repo.sha
    checks = rows_by_check(result)
    assert set(checks) == {
        "spec",
        "plan and policies",
        "fleet repository reachable",
        "revision exists",
        "environment path",
        "fleet verify",
        "escrowed fleet bundle",
        "escrowed Git credentials",
        "SOPS KMS key",
        "state backend",
        "availability zones",
        "Kubernetes version offered",
        "VPC quota",
        "Elastic IP quota",
        "internet gateway quota",
        "NAT gateway quota",
        "EKS cluster quota",
        "On-Demand vCPU quota",
        "Pulumi CLI",
        "AWS CLI v2",
    }
    # fleet verify ran on the resolved commit of a local copy, for the stack's environment.
    (_repo, env, revision, stack) = deps.fleet.calls[0]  # type: ignore[attr-defined]
    assert (env, revision, stack) == ("dev", fleet_repo.sha, "dev")
    assert "t0k3n" not in " ".join(r.reason for r in result.rows)
    assert "eu-west-1a, eu-west-1b" not in checks["availability zones"].reason  # azCount, not names
    assert "2 needed" in checks["availability zones"].reason


def _unreachable(project: Path, opts: PreflightOptions) -> str:
    opts.repo_url = f"git://127.0.0.1:{free_port()}/fleet.git"
    return "fleet repository reachable"


def _missing_revision(project: Path, opts: PreflightOptions) -> str:
    opts.revision = "release/9.9"
    return "revision exists"


def _missing_path(project: Path, opts: PreflightOptions) -> str:
    text = (project / "stacks" / "Pulumi.dev.yaml").read_text()
    write_stack(project, text.replace("    branch: main\n", "    branch: main\n    path: clusters/prod\n"))
    return "environment path"


def _no_secret(project: Path, opts: PreflightOptions) -> str:
    client("secretsmanager").delete_secret(
        SecretId="eksgitops/dev/git-credentials", ForceDeleteWithoutRecovery=True
    )
    return "escrowed Git credentials"


def _secret_pending_deletion(project: Path, opts: PreflightOptions) -> str:
    client("secretsmanager").delete_secret(SecretId="eksgitops/dev/git-credentials", RecoveryWindowInDays=7)
    return "escrowed Git credentials"


def _key_disabled(project: Path, opts: PreflightOptions) -> str:
    key = client("kms").describe_key(KeyId="alias/eksgitops-dev-sops")["KeyMetadata"]["KeyId"]
    client("kms").disable_key(KeyId=key)
    return "SOPS KMS key"


def _key_pending_deletion(project: Path, opts: PreflightOptions) -> str:
    key = client("kms").describe_key(KeyId="alias/eksgitops-dev-sops")["KeyMetadata"]["KeyId"]
    client("kms").schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    return "SOPS KMS key"


def _no_key(project: Path, opts: PreflightOptions) -> str:
    opts.sops_key = "alias/nobody-made-this"
    return "SOPS KMS key"


def _state_bucket_gone(project: Path, opts: PreflightOptions) -> str:
    opts.backend = "s3://no-such-state-bucket"
    return "state backend"


def _no_backend(project: Path, opts: PreflightOptions) -> str:
    opts.backend = None
    return "state backend"


def _zone_missing(project: Path, opts: PreflightOptions) -> str:
    text = (project / "stacks" / "Pulumi.dev.yaml").read_text()
    write_stack(
        project, text.replace("    azCount: 2\n", "    availabilityZones: [eu-west-1a, eu-west-1q]\n")
    )
    return "availability zones"


def _vpcs_full(project: Path, opts: PreflightOptions) -> str:
    ec2 = client("ec2")
    in_use = len(ec2.describe_vpcs()["Vpcs"])
    for i in range(5 - in_use):
        ec2.create_vpc(CidrBlock=f"10.{100 + i}.0.0/16")
    return "VPC quota"


def _eips_full(project: Path, opts: PreflightOptions) -> str:
    for _ in range(5):
        client("ec2").allocate_address(Domain="vpc")
    return "Elastic IP quota"


def _eip_quota_is_5(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto knows no EC2 Elastic IP quota (GetServiceQuota: NoSuchResource, and no default
    API): the quota is 5 here, the usage is moto's."""
    import eksgitops.dr.capacity as capacity

    real = capacity._quota
    monkeypatch.setattr(
        capacity,
        "_quota",
        lambda aws, service, code: (
            (5, f"quota 5 ({code})") if code == "L-0263D0A3" else real(aws, service, code)
        ),
    )


BREAKERS: dict[str, Callable[[Path, PreflightOptions], str]] = {
    "unreachable repository": _unreachable,
    "missing revision": _missing_revision,
    "missing environment path": _missing_path,
    "no escrowed credentials": _no_secret,
    "credentials scheduled for deletion": _secret_pending_deletion,
    "SOPS key disabled": _key_disabled,
    "SOPS key pending deletion": _key_pending_deletion,
    "no SOPS key": _no_key,
    "state bucket gone": _state_bucket_gone,
    "no backend known": _no_backend,
    "zone missing in region": _zone_missing,
    "VPC quota full": _vpcs_full,
    "EIP quota full": _eips_full,
}
REASONS = {
    "unreachable repository": "127.0.0.1",
    "missing revision": "release/9.9",
    "missing environment path": "clusters/prod/ does not exist",
    "no escrowed credentials": "ResourceNotFoundException",
    "credentials scheduled for deletion": "",
    "SOPS key disabled": "Disabled",
    "SOPS key pending deletion": "PendingDeletion",
    "no SOPS key": "NotFoundException",
    "state bucket gone": "404",
    "no backend known": "no backend known",
    "zone missing in region": "eu-west-1q not available in eu-west-1",
    "VPC quota full": "5 VPCs in use, 1 more needed, quota 5",
    "EIP quota full": "5 Elastic IPs in use, 1 more needed",
}


@pytest.mark.parametrize("broken", sorted(BREAKERS))
def test_each_broken_prerequisite_fails_with_its_reason(aws_env, project, fleet_repo, broken, monkeypatch):
    if broken == "zone missing in region":
        # The spec knows eu-west-1's zones from its data file and would refuse eu-west-1q
        # itself; preflight's live check is for what that file cannot know (a region newer
        # than the file, zones an account cannot use), so the file is made silent here.
        monkeypatch.setattr("eksgitops.components.spec.network.zone_names", lambda region: None)
    if broken == "EIP quota full":
        _eip_quota_is_5(monkeypatch)
    good_aws()
    ctx, opts, deps = setup(project, fleet_repo)
    check = BREAKERS[broken](project, opts)
    ctx, _, _ = setup(project, fleet_repo)  # re-read a stack file the breaker changed
    result = run_preflight(ctx, opts, deps)
    failed = {r.check: r.reason for r in result.rows if not r.ok}
    assert list(failed) == [check], failed
    assert REASONS[broken] in failed[check]
    assert not result.ok


def test_plan_with_a_mandatory_violation_fails_preflight(aws_env, project, fleet_repo):
    good_aws()
    ctx, opts, deps = setup(project, fleet_repo)
    deps.plan = FakePlan(1, "policy EKS-ENDPOINT (mandatory): public endpoint open to 0.0.0.0/0")
    result = run_preflight(ctx, opts, deps)
    row = rows_by_check(result)["plan and policies"]
    assert not row.ok and "mandatory policy violation (exit 1)" in row.reason and "EKS-ENDPOINT" in row.reason


def test_fleet_verify_failure_is_a_failed_check(aws_env, project, fleet_repo):
    good_aws()
    ctx, opts, deps = setup(project, fleet_repo)
    deps.fleet = FakeVerifier(False, "verify: 1 finding(s) in clusters/dev at abc1234")
    row = rows_by_check(run_preflight(ctx, opts, deps))["fleet verify"]
    assert not row.ok and "1 finding(s)" in row.reason


def test_subprocess_verifier_passes_the_contract_flags_and_reads_the_exit_code(tmp_path):
    script = tmp_path / "fake_eksgitops.py"
    script.write_text(
        "import sys, json\nprint(json.dumps(sys.argv[1:]))\nsys.exit(0 if '--stack' in sys.argv else 3)\n"
    )
    verifier = SubprocessFleetVerifier([sys.executable, str(script)])
    ok, said = verifier.verify("/tmp/fleet.git", "dev", "a" * 40, "dev")
    assert ok
    assert said == (
        '["fleet", "verify", "--repo", "/tmp/fleet.git", "--env", "dev", "--revision", "'
        + "a" * 40
        + '", "--stack", "dev"]'
    )
    script.write_text("import sys\nprint('verify: 2 finding(s)', file=sys.stderr)\nsys.exit(1)\n")
    assert verifier.verify("r", "dev", "b" * 40, "dev") == (False, "verify: 2 finding(s)")
    # Exit 3: it will reconcile, with policy findings only (an unpinned chart): not a reason to
    # stop a recovery, but said.
    script.write_text("import sys\nprint('verify: will reconcile; 1 policy finding')\nsys.exit(3)\n")
    assert verifier.verify("r", "dev", "c" * 40, "dev") == (True, "verify: will reconcile; 1 policy finding")
    for code in (2, 4):
        script.write_text(f"import sys\nsys.exit({code})\n")
        assert verifier.verify("r", "dev", "d" * 40, "dev") == (False, f"exit {code}")


def test_from_escrow_works_while_the_git_host_is_down(aws_env, project, fleet_repo):
    good_aws()
    account = client("sts").get_caller_identity()["Account"]
    bucket = f"eksgitops-escrow-{account}-dev"
    stored = store_bundle(str(fleet_repo.bare), AwsClients(REGION), "dev", bucket=None, creds=Credentials())
    assert stored.bucket == bucket and stored.version_id and stored.heads == 2  # main and the tag
    ctx, opts, deps = setup(project, fleet_repo, from_escrow=True)
    opts.repo_url = f"git://127.0.0.1:{free_port()}/fleet.git"  # the host is down; ignored from escrow
    result = run_preflight(ctx, opts, deps)
    checks = rows_by_check(result)
    assert result.ok, [(r.check, r.reason) for r in result.rows if not r.ok]
    assert f"escrowed bundle s3://{bucket}/fleet/dev.bundle" in checks["fleet repository reachable"].reason
    assert result.sha == fleet_repo.sha


def test_from_escrow_without_a_bundle_names_the_bucket(aws_env, project, fleet_repo):
    good_aws()
    ctx, opts, deps = setup(project, fleet_repo, from_escrow=True, escrow_bucket="missing-escrow")
    row = rows_by_check(run_preflight(ctx, opts, deps))["fleet repository reachable"]
    assert not row.ok and "s3://missing-escrow/fleet/dev.bundle" in row.reason


def test_sops_key_is_not_required_when_the_stack_does_not_use_sops(aws_env, project, fleet_repo):
    good_aws()
    text = (project / "stacks" / "Pulumi.dev.yaml").read_text()
    write_stack(project, text.replace("    sops:\n      enabled: true\n", ""))
    ctx, opts, deps = setup(project, fleet_repo)
    row = rows_by_check(run_preflight(ctx, opts, deps))["SOPS KMS key"]
    assert row.ok and "skipped" in row.reason


def test_a_drill_checks_the_environments_sops_key_not_a_new_one(aws_env, project, fleet_repo):
    # The fleet's secrets are encrypted to the environment's key; a drill cluster must use it.
    from eksgitops.dr.context import load_stack
    from eksgitops.dr.preflight import sops_key_id

    ctx = load_stack(
        "dev",
        stacks_dir=project / "stacks",
        project_dir=project,
        build_dir=project / "build",
        command="drill",
        drill=True,
    )
    assert ctx.spec.cluster_name == "eksgitops-dev-drill"
    assert sops_key_id(ctx, None) == "alias/eksgitops-dev-sops"
