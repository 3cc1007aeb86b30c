"""`eksgitops upgrade check`: the shipped stacks and scaffold, and each blocker caught with its line."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from eksgitops.dr.context import load_stack
from eksgitops.upgrade import apis
from eksgitops.upgrade.check import UpgradeCheck, target_stack
from eksgitops.upgrade.target_plan import plan_at
from tests.upgrade.conftest import fleet_with, run, set_version

REMOVED_IN_137 = """\
apiVersion: storage.k8s.io/v1beta1
kind: VolumeAttributesClass
metadata:
  name: fast
driverName: ebs.csi.aws.com
parameters:
  iops: "4000"
"""
DEPRECATED_ENDPOINTS = """\
apiVersion: v1
kind: Endpoints
metadata:
  name: legacy
  namespace: podinfo
subsets: []
"""


def test_the_shipped_scaffold_is_ready_for_the_next_minor(project, scaffold):
    set_version(project, "dev", "1.35")
    result = run("upgrade", "check", "dev", "--to", "1.36", "--repo", str(scaffold))
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "INFO version: 1.35 -> 1.36: the next minor" in result.stdout
    assert "INFO add-ons: kube-proxy: v1.36.0-eksbuild.21 for 1.36" in result.stdout
    assert "INFO guardrails: no mandatory violation at 1.36" in result.stdout
    assert "INFO node groups: eksgitops-dev-cluster-general: AL2023_x86_64_STANDARD at 1.36" in result.stdout
    assert "every API is served" in result.stdout
    assert result.stdout.strip().endswith("upgrade check dev 1.35 -> 1.36: ready")
    assert result.stderr == ""


def test_an_object_the_target_no_longer_serves_blocks_with_its_file_and_replacement(
    project, scaffold, tmp_path
):
    fleet = fleet_with(
        scaffold,
        tmp_path,
        {"apps/dev/storage-class.yaml": REMOVED_IN_137},
        {"apps/dev/kustomization.yaml": "storage-class.yaml"},
    )
    result = run("upgrade", "check", "dev", "--to", "1.37", "--repo", str(fleet))
    assert result.exit_code == 1
    blockers = [line for line in result.stderr.splitlines() if line.startswith("BLOCKER")]
    assert (
        "BLOCKER fleet: apps/dev/storage-class.yaml: VolumeAttributesClass fast: storage.k8s.io/v1beta1 "
        "VolumeAttributesClass is removed in Kubernetes 1.37; use storage.k8s.io/v1"
    ) in blockers
    assert "upgrade check dev 1.36 -> 1.37: blocked by" in result.stderr


def test_a_deprecated_api_still_served_is_a_warning_and_the_stack_stays_ready(project, scaffold, tmp_path):
    set_version(project, "dev", "1.35")
    fleet = fleet_with(
        scaffold,
        tmp_path,
        {"apps/dev/endpoints.yaml": DEPRECATED_ENDPOINTS},
        {"apps/dev/kustomization.yaml": "endpoints.yaml"},
    )
    result = run("upgrade", "check", "dev", "--to", "1.36", "--repo", str(fleet))
    assert result.exit_code == 0, result.stderr
    assert (
        "WARNING fleet: apps/dev/endpoints.yaml: Endpoints podinfo/legacy: v1 Endpoints in 1.36: deprecated: "
        "This API is deprecated in v1.33+. Use discoveryv1.EndpointSlice."
    ) in result.stdout
    assert "ready (1 warning(s) to read)" in result.stdout


def test_skipping_a_minor_is_blocked_with_the_path(project, scaffold):
    result = run("upgrade", "check", "prod", "--to", "1.37", "--repo", str(scaffold))
    assert result.exit_code == 1
    assert (
        "BLOCKER version: 1.35 -> 1.36 -> 1.37: EKS upgrades the control plane one minor at a time; "
        "upgrade to 1.36 first"
    ) in result.stderr


def test_a_target_eks_does_not_offer_is_one_blocker(project, scaffold):
    result = run("upgrade", "check", "dev", "--to", "1.37", "--repo", str(scaffold))
    assert result.exit_code == 1
    blockers = [line for line in result.stderr.splitlines() if line.startswith("BLOCKER")]
    assert blockers == [
        "BLOCKER version: 1.37 is not offered by EKS in components/data/kubernetes_versions.json "
        "(checked 2026-11-27; offered: 1.32, 1.33, 1.34, 1.35, 1.36); add it there with its dates "
        "once AWS publishes them"
    ]


def test_a_guardrail_the_target_stack_violates_blocks(project, scaffold):
    # 1.33 left standard support on 2026-07-29: EKS-VERSION fails the target stack.
    set_version(project, "dev", "1.32")
    result = run("upgrade", "check", "dev", "--to", "1.33", "--repo", str(scaffold))
    assert result.exit_code == 1
    assert any(line.startswith("BLOCKER guardrails: EKS-VERSION") for line in result.stderr.splitlines()), (
        result.stderr
    )


def test_a_fleet_that_cannot_be_read_blocks(project, tmp_path):
    result = run("upgrade", "check", "dev", "--to", "1.37", "--repo", str(tmp_path / "nowhere"))
    assert result.exit_code == 1
    assert "BLOCKER fleet: cannot build the layout: --repo" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("dev", "--to", "1.x"),
            "error: --to: '1.x' is not a Kubernetes minor version; 1.<minor>, e.g. 1.34",
        ),
        (
            ("dev", "--to", "1.35"),
            "eksgitops upgrade check: --to 1.35: stack dev runs 1.36 already; a later minor (next: 1.37)",
        ),
        (
            ("nope", "--to", "1.37"),
            "eksgitops upgrade check: STACK 'nope': no stack file stacks/Pulumi.nope.yaml",
        ),
        (
            ("dev", "--to", "1.37", "--revision", "bad..ref"),
            "error: --revision: 'bad..ref' is not a Git branch, tag or commit",
        ),
    ],
)
def test_usage_mistakes_exit_2_with_one_line(project, args, message):
    result = run("upgrade", "check", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def _dev_plan(project: Path):
    ctx = load_stack(
        "dev",
        stacks_dir=project / "stacks",
        project_dir=project,
        build_dir=project / "build",
        command="check",
    )
    return plan_at(ctx.raw, "dev", str(ctx.stack_file), "1.36", project)


def test_node_groups_the_target_refuses_block(project):
    # A user's own program can set what our spec refuses: the check reads the planned node groups.
    plan = _dev_plan(project)
    assert plan.result is not None
    check = UpgradeCheck("dev", "1.35", "1.36")
    target_stack(check, plan)
    assert not check.blockers
    changed = copy.deepcopy(plan)
    assert changed.result is not None
    group = changed.result.one("aws:eks/nodeGroup:NodeGroup")
    group.inputs.update({"amiType": "AL2_x86_64", "releaseVersion": "1.35.0-20260101"})
    template = changed.result.one("aws:ec2/launchTemplate:LaunchTemplate")
    template.inputs["imageId"] = "ami-0123456789abcdef0"
    check = UpgradeCheck("dev", "1.35", "1.36")
    target_stack(check, changed)
    texts = [f.text for f in check.blockers]
    assert any("amiType AL2_x86_64 has no AMI for 1.36" in t for t in texts)
    assert any("releaseVersion 1.35.0-20260101" in t for t in texts)
    assert any("pins imageId ami-0123456789abcdef0" in t for t in texts)


def test_the_schema_table_knows_every_minor_eks_offers():
    from eksgitops.upgrade.versions import offered

    assert set(offered()) <= set(apis.shipped_minors())


def test_insights_that_cannot_be_read_are_a_warning_beside_our_findings(aws_env, project, scaffold):
    # moto's server has no ListInsights: the call fails, the offline verdict stands.
    set_version(project, "dev", "1.35")
    result = run("upgrade", "check", "dev", "--to", "1.36", "--repo", str(scaffold), "--insights")
    assert result.exit_code == 0, result.stderr
    assert "WARNING eks insights: not read:" in result.stdout
