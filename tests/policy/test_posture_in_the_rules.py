"""Posture is judged once, by the rules: stacks the spec used to refuse now plan, fail with the
rule's line and exit 1, and pass with a waiver the plan prints.

Through the real CLI (`eksgitops plan`, as a process), on a copy of the dev stack.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EKSGITOPS = Path(sys.executable).parent / "eksgitops"
# The resource the control-plane findings name: the EKS cluster pulumi-eks creates.
CLUSTER = "eksgitops-dev-cluster-eksCluster"
OPEN_WORLD = {"privateAccess": True, "publicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]}
ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def plan(
    tmp_path: Path, waivers: list[dict[str, str]] | None = None, **config: Any
) -> subprocess.CompletedProcess:
    stack = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())
    stack["config"].update({f"eksgitops:{k}": v for k, v in config.items()})
    if waivers:
        stack["config"]["eksgitops:policy"] = {"waivers": waivers}
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack))
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "AWS_PROFILE", "AWS_REGION")}
    return subprocess.run(
        [str(EKSGITOPS), "plan", "dev", "--out", str(tmp_path / "build")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def rule_lines(result: subprocess.CompletedProcess, rule: str) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith(f"{rule} ")]


def status(tmp_path: Path, rule: str) -> str:
    report = json.loads((tmp_path / "build" / "dev" / "policy-report.json").read_text())
    return next(r["status"] for r in report["rules"] if r["id"] == rule)


def test_an_endpoint_open_to_0_0_0_0_fails_with_eks_endpoint_and_exit_1(tmp_path: Path) -> None:
    result = plan(tmp_path, endpoint=OPEN_WORLD)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert rule_lines(result, "EKS-ENDPOINT") == [
        f"EKS-ENDPOINT {CLUSTER}: the public endpoint is open to 0.0.0.0/0"
    ]
    assert status(tmp_path, "EKS-ENDPOINT") == "violated"


def test_the_open_endpoint_passes_with_a_waiver_that_the_plan_shows(tmp_path: Path) -> None:
    reason = "conference demo reached from anywhere; torn down on Friday"
    result = plan(tmp_path, [{"rule": "EKS-ENDPOINT", "reason": reason}], endpoint=OPEN_WORLD)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Waiver EKS-ENDPOINT (every resource): {reason}" in result.stdout
    assert f"(waived: {reason})" in result.stdout
    assert status(tmp_path, "EKS-ENDPOINT") == "waived"


def test_a_public_endpoint_without_cidrs_is_the_rules_to_fail(tmp_path: Path) -> None:
    result = plan(tmp_path, endpoint={"privateAccess": True, "publicAccess": True})
    assert result.returncode == 1, result.stdout + result.stderr
    assert rule_lines(result, "EKS-ENDPOINT") == [
        f"EKS-ENDPOINT {CLUSTER}: the public endpoint is on with no CIDR list, which EKS reads as 0.0.0.0/0"
    ]


def test_an_imds_hop_limit_above_1_fails_node_imdsv2_unless_waived(tmp_path: Path) -> None:
    groups = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())["config"][
        "eksgitops:nodeGroups"
    ]
    groups = [{**groups[0], "imdsHopLimit": 3}]
    (tmp_path / "a").mkdir()
    result = plan(tmp_path / "a", nodeGroups=groups)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = rule_lines(result, "NODE-IMDSV2")
    assert lines and all("3" in line for line in lines), lines
    reason = "the GPU operator's pods read instance metadata"
    (tmp_path / "b").mkdir()
    waived = plan(tmp_path / "b", [{"rule": "NODE-IMDSV2", "reason": reason}], nodeGroups=groups)
    assert waived.returncode == 0, waived.stdout + waived.stderr
    assert f"Waiver NODE-IMDSV2 (every resource): {reason}" in waived.stdout
    assert f"(waived: {reason})" in waived.stdout


def test_a_full_admin_inline_policy_fails_iam_no_wildcard_admin(tmp_path: Path) -> None:
    identity = {"name": "admin", "namespace": "apps", "serviceAccount": "admin", "mode": "irsa"}
    result = plan(tmp_path, identities=[{**identity, "policy": ADMIN_POLICY}])
    assert result.returncode == 1, result.stdout + result.stderr
    assert rule_lines(result, "IAM-NO-WILDCARD-ADMIN"), result.stdout


@pytest.mark.parametrize("waived", [False, True])
def test_a_version_in_extended_support_plans_and_fails_eks_version(tmp_path: Path, waived: bool) -> None:
    reason = "upgrade to 1.34 is scheduled for the next sprint"
    waivers = [{"rule": "EKS-VERSION", "reason": reason}] if waived else None
    result = plan(tmp_path, waivers, kubernetesVersion="1.33")
    if waived:
        assert result.returncode == 0, result.stdout + result.stderr
        assert f"Waiver EKS-VERSION (every resource): {reason}" in result.stdout
    else:
        assert result.returncode == 1, result.stdout + result.stderr
        assert rule_lines(result, "EKS-VERSION") == [
            f"EKS-VERSION {CLUSTER}: Kubernetes 1.33 left EKS standard support on 2026-07-29"
        ]
