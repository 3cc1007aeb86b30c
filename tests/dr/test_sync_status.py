"""Argo CD readiness and sync, Auto Mode without node waits, and the file:// state backend."""

from __future__ import annotations

from pathlib import Path

from eksgitops.dr.cluster_api import APPLICATION, DEPLOYMENT, SECRET
from eksgitops.dr.context import load_stack
from eksgitops.dr.preflight import PreflightOptions, _state_backend
from eksgitops.dr.rebuild import RebuildDeps, Timeouts, wait_for_git
from eksgitops.dr.report import DrReport
from eksgitops.dr.sync_status import agent_probe, bridge_in_cluster, failed_reconciliations, workloads_probe
from tests.dr.conftest import FakeClock, FakeCluster, FakeWorkspace, healthy_cluster

SHA = "e" * 40


def argo_cluster(clock: FakeClock) -> FakeCluster:
    api = FakeCluster(clock)
    api.add(
        DEPLOYMENT,
        {
            "metadata": {"name": "argocd-repo-server", "namespace": "argocd"},
            "status": {"conditions": [{"type": "Available", "status": "True"}]},
        },
    )
    for name in ("root", "podinfo"):
        api.add(
            APPLICATION,
            {
                "metadata": {"name": name, "namespace": "argocd"},
                "status": {"sync": {"status": "Synced", "revision": SHA}, "health": {"status": "Healthy"}},
            },
        )
    api.add(
        SECRET,
        {
            "metadata": {
                "name": "in-cluster",
                "namespace": "argocd",
                "labels": {"argocd.argoproj.io/secret-type": "cluster"},
                "annotations": {"region": "eu-west-1", "other": "x"},
            }
        },
    )
    return api


def test_argo_cd_agent_and_applications():
    api = argo_cluster(FakeClock())
    assert agent_probe(api, "argocd").done
    probe = workloads_probe(api, "argocd", SHA)
    assert probe.done and probe.seen == f"2 Applications Synced at {SHA[:12]} and Healthy"
    assert bridge_in_cluster(api, "argocd") == (
        "Secret argocd/in-cluster annotations",
        {"region": "eu-west-1", "other": "x"},
    )
    app = api.objects[("applications", "argocd", "podinfo")]
    app["status"] = {"sync": {"status": "OutOfSync", "revision": "f" * 40}, "health": {"status": "Degraded"}}
    probe = workloads_probe(api, "argocd", SHA)
    assert not probe.done and probe.subject == "Application argocd/podinfo"
    assert probe.seen.startswith("sync OutOfSync at ffff") and "health Degraded" in probe.seen
    assert failed_reconciliations(api, "argocd") == ["Application argocd/podinfo: health Degraded"]
    api.objects[("deployments", "argocd", "argocd-repo-server")]["status"]["conditions"][0]["status"] = (
        "False"
    )
    assert agent_probe(api, "argocd").seen == "Available=False"


def test_auto_mode_skips_the_node_wait(project: Path):
    text = (project / "stacks" / "Pulumi.dev.yaml").read_text()
    (project / "stacks" / "Pulumi.dev.yaml").write_text(
        text.replace("  eksgitops:nodeGroups:\n    - name: general\n      desiredSize: 2\n", "")
        + "  eksgitops:autoMode:\n    enabled: true\n"
    )
    ctx = load_stack(
        "dev",
        stacks_dir=project / "stacks",
        project_dir=project,
        build_dir=project / "build",
        command="rebuild",
    )
    clock = FakeClock()
    api = healthy_cluster(clock, SHA)
    del api.objects[("nodes", None, "node-0")], api.objects[("nodes", None, "node-1")]
    report = DrReport("rebuild", "dev", clock)
    deps = RebuildDeps(FakeWorkspace(clock), lambda o: api, clock, lambda line: None)
    wait_for_git(ctx, api, SHA, deps, report, Timeouts(poll=1))
    assert [(p.name, p.status) for p in report.phases] == [
        ("nodes ready", "skipped"),
        ("agent ready", "ok"),
        ("workloads synced", "ok"),
    ]


def test_file_state_backend(project: Path, tmp_path: Path):
    ctx = load_stack(
        "dev", stacks_dir=project / "stacks", project_dir=project, build_dir=project / "build", command="x"
    )
    state = tmp_path / "state"
    state.mkdir()
    ok = _state_backend(ctx, PreflightOptions(backend=f"file://{state}"), None)  # type: ignore[arg-type]
    assert ok.ok and ok.reason == f"file://{state} is a writable directory"
    bad = _state_backend(ctx, PreflightOptions(backend=f"file://{tmp_path}/nope"), None)  # type: ignore[arg-type]
    assert not bad.ok and "is not a writable directory" in bad.reason
    odd = _state_backend(ctx, PreflightOptions(backend="ftp://x"), None)  # type: ignore[arg-type]
    assert not odd.ok and "unsupported backend scheme" in odd.reason
