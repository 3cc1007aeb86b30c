"""`eksgitops dr preflight / rebuild / verify / teardown / drill` end to end on the shipped stacks
(`stacks/Pulumi.{dev,staging,prod}.yaml`), as shipped and with each agent, in the simulated
world: moto's server for AWS, the recording Pulumi backend, the fake API server over HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from eksgitops.cli import app
from eksgitops.dr.aws import AwsClients
from eksgitops.dr.context import load_stack
from eksgitops.dr.escrow import store_bundle
from eksgitops.fleet.credentials import Credentials
from tests.dr.conftest import client, git
from tests.simworld.cluster import healthy
from tests.simworld.stacks import AGENTS, SHIPPED, install
from tests.simworld.world import SimWorld

# The shipped stacks all run flux: "as shipped" is the flux case, the others switch the agent.
CASES = [(env, agent) for env in SHIPPED for agent in (None, *(a for a in AGENTS if a != "flux"))]
IDS = [f"{env}-{agent or 'as-shipped'}" for env, agent in CASES]
BRIDGE = {"environment": "sim", "cluster_role": "primary"}


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def make_fleet(tmp_path: Path) -> tuple[Path, str]:
    work = tmp_path / "fleet-work"
    git("init", "-q", "--initial-branch=main", str(work))
    for env in SHIPPED:
        target = work / "clusters" / env / "kustomization.yaml"
        target.parent.mkdir(parents=True)
        target.write_text("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n")
    git("add", ".", cwd=work)
    git("commit", "-q", "-m", "fleet", cwd=work)
    bare = tmp_path / "fleet.git"
    git("clone", "-q", "--bare", str(work), str(bare))
    return bare, git("rev-parse", "HEAD", cwd=work)


def environment_in_aws(project: Path, env: str, bare: Path) -> None:
    """What the environment's first `pulumi up` and `dr escrow` left: escrow, SOPS key, state bucket."""
    ctx = load_stack(env, stacks_dir=project / "stacks", project_dir=project, build_dir=project, command="x")
    region = ctx.spec.region
    client("s3", region).create_bucket(
        Bucket="state-bucket", CreateBucketConfiguration={"LocationConstraint": region}
    )
    if ctx.escrow.enabled:
        home = ctx.escrow_region
        account = client("sts").get_caller_identity()["Account"]
        bucket = f"eksgitops-escrow-{account}-{env}"
        s3 = client("s3", home)
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": home})
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        store_bundle(str(bare), AwsClients(home), env, bucket=None, creds=Credentials())
    sops = ctx.spec.gitops.sops
    if sops.enabled and not sops.kms_key_arn:
        kms = client("kms", region)
        key = kms.create_key(Description="sops")["KeyMetadata"]
        kms.create_alias(AliasName=f"alias/{ctx.spec.cluster_name}-sops", TargetKeyId=key["KeyId"])


@pytest.fixture
def shipped(request, tmp_path, aws_env, sim_world: SimWorld, monkeypatch) -> dict[str, Any]:
    env, agent = request.param
    project = tmp_path / "project"
    install(project, env, agent)
    monkeypatch.chdir(project)
    bare, sha = make_fleet(tmp_path)
    environment_in_aws(project, env, bare)
    healthy(sim_world.kube, agent or "flux", sha, BRIDGE, nodes=12)
    sim_world.bridge = lambda stack: dict(BRIDGE)

    def spec_of(stack: str):
        base = stack.removesuffix("-drill")
        return load_stack(
            base,
            stacks_dir=project / "stacks",
            project_dir=project,
            build_dir=project,
            command="x",
            drill=base != stack,
        ).spec

    sim_world.spec_of = spec_of
    return {"env": env, "agent": agent, "bare": str(bare), "sha": sha, "world": sim_world, "project": project}


def reports(project: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((project / "build" / "dr").glob("*.json"))]


@pytest.mark.parametrize("shipped", CASES, ids=IDS, indirect=True)
def test_the_five_commands_run_end_to_end_on_every_shipped_stack_and_agent(shipped):
    env, bare, sha, world = shipped["env"], shipped["bare"], shipped["sha"], shipped["world"]
    source = ("--repo-url", bare, "--backend", "s3://state-bucket")

    result = run("dr", "preflight", env, *source)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"preflight: {env} can be rebuilt from {sha[:12]}" in result.stdout

    result = run("dr", "rebuild", env, *source, "--poll", "1")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"rebuild: {env} is Ready at {sha[:12]}" in result.stdout
    assert world.backend.stacks[env].resources  # `up` ran on the environment's own stack

    result = run("dr", "verify", env, "--repo-url", bare)
    assert result.exit_code == 0, result.stdout + result.stderr

    result = run("dr", "teardown", env, "--yes", "--poll", "1")
    assert result.exit_code == 0, result.stdout + result.stderr
    # Durable (protected) resources stay; everything else is gone.
    assert set(world.backend.stacks[env].resources.values()) <= {"aws:s3/bucket:Bucket"}

    result = run("dr", "drill", env, *source, "--poll", "1")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"drill: {env}-drill rebuilt, verified and torn down at {sha[:12]}" in result.stdout
    drill = world.backend.stacks[f"{env}-drill"]
    assert drill.copied_from == env and drill.config["eksgitops:clusterRole"] == "drill"
    assert drill.config["eksgitops:clusterName"].endswith("-drill")
    outcomes = [r["outcome"] for r in reports(shipped["project"])]
    assert outcomes == ["ok"] * 5
