"""rebuild orchestration through the narrow interfaces, with faults injected: every failure ends in
a message naming the object and condition, and a report that says where it stopped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eksgitops.dr.cluster_api import FLUX_INSTANCE, KUSTOMIZATION
from eksgitops.dr.context import load_stack
from eksgitops.dr.pulumi_workspace import WorkspaceError
from eksgitops.dr.rebuild import RebuildDeps, Timeouts, run_rebuild
from eksgitops.dr.report import DrReport
from eksgitops.dr.waits import WaitTimeout
from tests.dr.conftest import UP_EVENTS, FakeClock, FakeWorkspace, healthy_cluster, ready

SHA = "c" * 40
OUTPUTS = {
    "clusterName": "eksgitops-dev",
    "kubeconfig": "apiVersion: v1\nkind: Config\n",
    "bridge": {"environment": "dev"},
}


def context(project: Path, **kwargs):
    return load_stack(
        "dev",
        stacks_dir=project / "stacks",
        project_dir=project,
        build_dir=project / "build",
        command="rebuild",
        **kwargs,
    )


def critical_path(project: Path, seconds: int = 900) -> None:
    target = project / "build" / "dev" / "critical-path.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps({"modeled_seconds": seconds, "chain": [], "limits": "EKS control plane dominates"})
    )


def harness(project: Path, api=None, **workspace_args):
    clock = api.clock if api is not None else FakeClock()
    workspace = FakeWorkspace(clock, outputs_value=dict(OUTPUTS), up_events=list(UP_EVENTS), **workspace_args)
    api = api or healthy_cluster(clock, SHA)
    lines: list[str] = []
    made_from: list[dict] = []

    def factory(outputs):
        made_from.append(outputs)
        return api

    deps = RebuildDeps(workspace=workspace, cluster_api=factory, clock=clock, echo=lines.append)
    ctx = context(project)
    report = DrReport("rebuild", ctx.stack, clock, ctx.model())
    return ctx, deps, report, workspace, api, lines, made_from


def test_a_rebuild_goes_through_every_phase_and_reports_measured_against_modeled(project):
    critical_path(project, 900)
    ctx, deps, report, _workspace, _api, lines, made_from = harness(project)
    outputs = run_rebuild(ctx, SHA, deps, report, Timeouts(poll=5))
    report.finish(True)
    assert outputs["clusterName"] == "eksgitops-dev"
    assert made_from == [OUTPUTS]  # the Kubernetes client comes from the stack's own outputs
    assert [p.name for p in report.phases] == [
        "infrastructure",
        "nodes ready",
        "agent ready",
        "workloads synced",
    ]
    assert all(p.status == "ok" for p in report.phases)
    assert report.seconds_of("infrastructure") == 120.0  # 4 resources x 30s
    # The live display: each resource, elapsed against the model.
    assert lines[0] == "[    30s / modeled 900s]    1 done (1 created) create aws:ec2/vpc:Vpc vpc"
    assert "4 done (4 created)" in lines[3]
    data = report.to_dict()
    assert data["modeledSeconds"] == 900 and data["infrastructureSeconds"] == 120.0
    assert "infrastructure: measured 120.0s, modeled 900s" in report.to_markdown()


def test_up_failing_half_way_stops_in_infrastructure(project):
    ctx, deps, report, _workspace, _api, lines, _ = harness(project, fail_up_after=2)
    with pytest.raises(WorkspaceError, match="exceeded quota"):
        run_rebuild(ctx, SHA, deps, report, Timeouts(poll=5))
    report.finish(False, "up failed")
    assert report.stopped_at == "infrastructure"
    assert report.phases[-1].status == "failed" and "exceeded quota" in report.phases[-1].detail
    assert report.facts["resources done"] == 2
    assert "resources failed" in report.facts
    assert any("FAILED aws:iam/role:Role app-s3-reader" in line for line in lines)
    assert [p.name for p in report.phases] == ["infrastructure"]


def test_agent_never_ready_times_out_naming_the_flux_instance(project):
    clock = FakeClock()
    api = healthy_cluster(clock, SHA)
    api.objects[(FLUX_INSTANCE.plural, "flux-system", "flux")]["status"]["conditions"] = ready(
        "False", "ReconciliationFailed", "Helm install failed: timed out waiting for the condition"
    )
    ctx, deps, report, *_ = harness(project, api=api)
    with pytest.raises(WaitTimeout) as caught:
        run_rebuild(ctx, SHA, deps, report, Timeouts(agent=300, poll=10))
    message = str(caught.value)
    assert message.startswith("timed out after 300s waiting for FluxInstance flux-system/flux to be Ready")
    assert "ReconciliationFailed" in message
    assert report.stopped_at == "agent ready"
    assert report.seconds_of("agent ready") == 300.0


def test_a_failing_kustomization_times_out_naming_it_and_its_reason(project):
    clock = FakeClock()
    api = healthy_cluster(clock, SHA)
    api.objects[(KUSTOMIZATION.plural, "flux-system", "apps")]["status"] = {
        "conditions": ready("False", "BuildFailed", "kustomization path not found: apps/dev"),
        "lastAppliedRevision": "main@sha1:" + "b" * 40,
    }
    ctx, deps, report, *_ = harness(project, api=api)
    with pytest.raises(WaitTimeout) as caught:
        run_rebuild(ctx, SHA, deps, report, Timeouts(workloads=600, poll=30))
    assert caught.value.subject == "Kustomization flux-system/apps"
    assert f"Ready and Healthy at {SHA[:12]}" in caught.value.condition
    assert "BuildFailed: kustomization path not found" in str(caught.value)
    assert report.stopped_at == "workloads synced"


def test_workloads_that_converge_are_waited_for(project):
    clock = FakeClock()
    api = healthy_cluster(clock, SHA)
    ks = api.objects[(KUSTOMIZATION.plural, "flux-system", "apps")]
    ks["status"] = {"conditions": ready("Unknown", "Progressing", "reconciliation in progress")}

    def converge(cluster):
        if clock.now >= 1000 + 120 + 60:  # a minute after the infrastructure
            ks["status"] = {"conditions": ready(), "lastAppliedRevision": f"main@sha1:{SHA}"}

    api.hooks.append(converge)
    ctx, deps, report, *_ = harness(project, api=api)
    run_rebuild(ctx, SHA, deps, report, Timeouts(poll=15))
    assert report.phases[-1].status == "ok"
    assert report.seconds_of("workloads synced") == 60.0


def test_nodes_never_ready(project):
    clock = FakeClock()
    api = healthy_cluster(clock, SHA)
    api.objects[("nodes", None, "node-1")]["status"]["conditions"] = ready("False", "KubeletNotReady")
    ctx, deps, report, *_ = harness(project, api=api)
    with pytest.raises(
        WaitTimeout, match=r"waiting for nodes to be Ready \(2 wanted\); last seen: 1 of 2 nodes Ready"
    ):
        run_rebuild(ctx, SHA, deps, report, Timeouts(nodes=100, poll=10))
    assert report.stopped_at == "nodes ready"


def test_region_move_is_set_on_the_stack_before_up(project):
    text = (project / "stacks" / "Pulumi.dev.yaml").read_text()
    (project / "stacks" / "Pulumi.dev.yaml").write_text(
        text.replace("    azCount: 2\n", "    availabilityZones: [eu-west-1a, eu-west-1b]\n")
    )
    ctx = context(project, region="eu-central-1")
    assert ctx.spec.region == "eu-central-1"
    assert ctx.spec.network.availability_zones == ["eu-central-1a", "eu-central-1b"]
    *_, workspace, _api, _lines, _ = harness(project)
    clock = workspace.clock
    deps = RebuildDeps(workspace, lambda o: healthy_cluster(clock, SHA), clock, lambda line: None)
    run_rebuild(ctx, SHA, deps, DrReport("rebuild", "dev", clock), Timeouts(poll=1))
    verb, detail = workspace.calls[0]
    assert verb == "select"
    assert detail == {
        "stack": "dev",
        "copy_config_from": None,
        "config": {
            "eksgitops:region": "eu-central-1",
            "aws:region": "eu-central-1",
            "eksgitops:network.availabilityZones[0]": "eu-central-1a",
            "eksgitops:network.availabilityZones[1]": "eu-central-1b",
            # The protected escrow stays in the old region instead of being replaced.
            "eksgitops:escrow.region": "eu-west-1",
        },
    }
