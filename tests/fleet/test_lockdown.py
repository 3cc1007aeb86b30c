"""FLUX-LOCKDOWN in verify: the references `--no-cross-namespace-refs` makes the controllers refuse.

The agent runs kustomize-, helm-, notification-, image-reflector- and image-automation-controller
with the flag unless the stack sets `gitops.crossNamespaceRefs: true`; the plan writes that into
bridge.json. What the flag refuses was read in the controllers' sources (see LOCKDOWN_EFFECT).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eksgitops.fleet.verify import cross_namespace_refs
from tests.fleet.conftest import clone, commit_file, git, invoke
from tests.fleet.helpers import lines, run, scaffold_tree, write_all

CLUSTER = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: infra
  namespace: flux-system
spec:
  interval: 1h
  path: ./infra
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
"""

# Every kind of reference the flag affects, each pointing across namespaces, plus a cross-namespace
# dependsOn, which no controller refuses.
INFRA = """\
apiVersion: v1
kind: Namespace
metadata:
  name: monitoring
---
apiVersion: v1
kind: Namespace
metadata:
  name: apps
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: charts
  namespace: flux-system
spec:
  interval: 1h
  url: https://charts.example.com
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata:
  name: prometheus
  namespace: flux-system
spec:
  interval: 1h
  url: oci://ghcr.io/prometheus-community/charts/prometheus
  ref:
    tag: "27.20.0"
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: metrics-server
  namespace: kube-system
spec:
  interval: 1h
  chart:
    spec:
      chart: metrics-server
      version: "3.13.1"
      sourceRef:
        kind: HelmRepository
        name: charts
        namespace: flux-system
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: prometheus
  namespace: monitoring
spec:
  interval: 1h
  dependsOn:
    - name: metrics-server
      namespace: kube-system
  chartRef:
    kind: OCIRepository
    name: prometheus
    namespace: flux-system
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: dashboards
  namespace: monitoring
spec:
  interval: 1h
  path: ./dashboards
  prune: true
  dependsOn:
    - name: infra
      namespace: flux-system
  sourceRef:
    kind: GitRepository
    name: flux-system
    namespace: flux-system
---
apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Provider
metadata:
  name: slack
  namespace: flux-system
spec:
  type: slack
  channel: alerts
  secretRef:
    name: alerts-webhook
---
apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Alert
metadata:
  name: all
  namespace: flux-system
spec:
  providerRef:
    name: slack
  eventSources:
    - kind: Kustomization
      name: "*"
    - kind: HelmRelease
      name: "*"
      namespace: monitoring
---
apiVersion: notification.toolkit.fluxcd.io/v1
kind: Receiver
metadata:
  name: push
  namespace: flux-system
spec:
  type: generic
  secretRef:
    name: webhook-token
  resources:
    - kind: GitRepository
      name: flux-system
    - apiVersion: kustomize.toolkit.fluxcd.io/v1
      kind: Kustomization
      name: dashboards
      namespace: monitoring
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata:
  name: app
  namespace: flux-system
spec:
  image: ghcr.io/example/app
  interval: 1h
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata:
  name: app
  namespace: apps
spec:
  imageRepositoryRef:
    name: app
    namespace: flux-system
  policy:
    semver:
      range: ">=1.0.0"
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageUpdateAutomation
metadata:
  name: app
  namespace: apps
spec:
  interval: 1h
  sourceRef:
    kind: GitRepository
    name: flux-system
    namespace: flux-system
  git:
    commit:
      author:
        name: bot
        email: bot@example.com
  update:
    path: ./apps
    strategy: Setters
"""

DASHBOARD = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: dashboard
  namespace: monitoring
data:
  panels: "1"
"""

REFUSED = [
    (
        "Alert flux-system/all: eventSources HelmRelease monitoring/*",
        "notification-controller discards that namespace's events; one Alert per namespace",
    ),
    (
        "HelmRelease kube-system/metrics-server: chart.spec.sourceRef HelmRepository flux-system/charts",
        "helm-controller stops it (AccessDenied); keep both in one namespace",
    ),
    (
        "HelmRelease monitoring/prometheus: chartRef OCIRepository flux-system/prometheus",
        "helm-controller stops it (AccessDenied); keep both in one namespace",
    ),
    (
        "ImagePolicy apps/app: imageRepositoryRef ImageRepository flux-system/app",
        "image-reflector-controller stops it (AccessDenied); keep both in one namespace",
    ),
    (
        "ImageUpdateAutomation apps/app: sourceRef GitRepository flux-system/flux-system",
        "image-automation-controller stops it (AccessDenied); keep both in one namespace",
    ),
    (
        "Kustomization monitoring/dashboards: sourceRef GitRepository flux-system/flux-system",
        "kustomize-controller stops it (AccessDenied); keep both in one namespace",
    ),
    (
        "Receiver flux-system/push: resources Kustomization monitoring/dashboards",
        "notification-controller refuses to trigger it; one Receiver per namespace",
    ),
]


def cross_layout(root: Path) -> Path:
    return write_all(
        root,
        {
            "clusters/dev/infra.yaml": CLUSTER,
            "infra/all.yaml": INFRA,
            "dashboards/dashboard.yaml": DASHBOARD,
        },
    )


def test_the_layout_is_otherwise_clean(tmp_path: Path) -> None:
    # Allowed cross-namespace references: the layout reconciles, nothing to say about them.
    report = run(cross_layout(tmp_path), provided=set(), cross_namespace_refs=True)
    assert lines(report) == []
    assert report.objects == 15
    assert not [line for line in report.not_checked if "another namespace" in line]


def test_every_reference_the_flag_refuses_is_an_error_under_the_lockdown(tmp_path: Path) -> None:
    report = run(cross_layout(tmp_path), provided=set(), cross_namespace_refs=False)
    assert lines(report) == [
        f"error: infra/all.yaml: {ref} is in another namespace: refused under FLUX-LOCKDOWN "
        f"(assumed --no-cross-namespace-refs): {effect}, or allow it with --cross-namespace-refs"
        for ref, effect in REFUSED
    ]
    # dependsOn across namespaces is not refused by kustomize- or helm-controller.
    assert not [line for line in lines(report) if "dependsOn" in line]


def test_unknown_lockdown_lists_them_as_not_checked(tmp_path: Path) -> None:
    report = run(cross_layout(tmp_path), provided=set())
    assert lines(report) == []
    listed = [line for line in report.not_checked if "another namespace" in line]
    assert listed == [
        f"infra/all.yaml: {ref} is in another namespace, which the controllers refuse with "
        "--no-cross-namespace-refs (FLUX-LOCKDOWN, the agent's default); not assumed here (pass --stack "
        "STACK, or --no-cross-namespace-refs)"
        for ref, _ in REFUSED
    ]


def test_the_agent_is_what_is_locked_down_not_argo_cd(tmp_path: Path) -> None:
    root = cross_layout(tmp_path)
    write_all(
        root,
        {
            "clusters/dev/infra.yaml": "resources: []\n",
            "clusters/dev/kustomization.yaml": "resources:\n  - ../../infra\n",
        },
    )
    report = run(root, agent="argocd", provided=set(), cross_namespace_refs=False)
    assert not [line for line in lines(report) + report.not_checked if "another namespace" in line]


@pytest.mark.parametrize(
    ("env", "agent", "image_automation"),
    [("dev", "flux", False), ("dev", "flux", True), ("prod", "flux", True), ("staging", "flux", False)],
)
def test_the_shipped_scaffold_reconciles_under_the_lockdown(
    tmp_path: Path, env: str, agent: str, image_automation: bool
) -> None:
    root = scaffold_tree(tmp_path, env, agent, image_automation)
    report = run(root, f"clusters/{env}", cross_namespace_refs=False)
    assert lines(report) == []
    assert report.objects > 25


def test_the_previous_scaffold_shape_is_refused_under_the_lockdown(tmp_path: Path) -> None:
    # Before: releases in their target namespaces, charts from flux-system, Alerts watching them.
    root = scaffold_tree(tmp_path)
    rel = "infrastructure/controllers/metrics-server.yaml"
    text = (root / rel).read_text()
    text = text.replace("  namespace: flux-system\nspec:", "  namespace: kube-system\nspec:")
    text = text.replace(
        "        name: metrics-server\n", "        name: metrics-server\n        namespace: flux-system\n"
    )
    (root / rel).write_text(text)
    report = run(root, cross_namespace_refs=False)
    assert (
        "error: infrastructure/controllers/metrics-server.yaml: HelmRelease kube-system/metrics-server: "
        "chart.spec.sourceRef HelmRepository flux-system/metrics-server is in another namespace: refused "
        "under FLUX-LOCKDOWN (assumed --no-cross-namespace-refs): helm-controller stops it (AccessDenied); "
        "keep both in one namespace, or allow it with --cross-namespace-refs"
    ) in lines(report)


def test_what_the_flag_affects() -> None:
    hr: dict[str, Any] = {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "a", "namespace": "apps"},
        "spec": {
            "dependsOn": [{"name": "b", "namespace": "other"}],
            "chart": {"spec": {"sourceRef": {"kind": "HelmRepository", "name": "r", "namespace": "apps"}}},
        },
    }
    assert cross_namespace_refs(hr) == []  # same namespace; dependsOn is not affected
    hr["spec"]["chart"]["spec"]["sourceRef"]["namespace"] = "flux-system"
    assert cross_namespace_refs(hr) == [("chart.spec.sourceRef", "HelmRepository", "flux-system", "r")]
    # Only Flux's own kinds: a kind of the same name in another group is not Flux's.
    assert cross_namespace_refs({**hr, "apiVersion": "example.com/v1"}) == []
    kustomization = {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "k", "namespace": "team"},
        "spec": {
            "sourceRef": {"kind": "GitRepository", "name": "g"},
            "dependsOn": [{"name": "infra", "namespace": "flux-system"}],
            "healthChecks": [{"kind": "Deployment", "name": "d", "namespace": "other"}],
            "targetNamespace": "elsewhere",
        },
    }
    assert cross_namespace_refs(kustomization) == []


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(
        ["Kustomization", "HelmRelease", "ImagePolicy", "ImageUpdateAutomation", "Alert", "Receiver"]
    ),
    spec=JSONISH,
    meta=JSONISH,
)
def test_malformed_objects_never_crash_the_lockdown_check(kind: str, spec: Any, meta: Any) -> None:
    group = {
        "Kustomization": "kustomize",
        "HelmRelease": "helm",
        "ImagePolicy": "image",
        "ImageUpdateAutomation": "image",
        "Alert": "notification",
        "Receiver": "notification",
    }[kind]
    obj = {"apiVersion": f"{group}.toolkit.fluxcd.io/v1", "kind": kind, "metadata": meta, "spec": spec}
    for what, ref_kind, ns, name in cross_namespace_refs(obj):
        assert isinstance(what, str) and isinstance(ref_kind, str) and isinstance(name, str)
        assert ns and ns != (meta.get("namespace") if isinstance(meta, dict) else None)


# -- the CLI: the lockdown comes from the stack's bridge.json -----------------------------------


def bridge_file(tmp_path: Path, cross_namespace_refs: Any = None) -> Path:
    data: dict[str, Any] = {
        "stack": "dev",
        "agent": "flux",
        "repoUrl": "https://git.example.com/org/fleet.git",
        "branch": "main",
        "path": "clusters/dev",
        "variables": {
            "environment": "dev",
            "cluster_name": "eksgitops-dev",
            "region": "eu-west-1",
            "account_id": "000000000000",
            "vpc_id": "(known after apply: vpc.id)",
            "oidc_issuer_host": "(known after apply: cluster.oidc)",
            "aws_load_balancer_controller_role_arn": "(known after apply: role.arn)",
        },
        "identities": ["aws-load-balancer-controller"],
    }
    if cross_namespace_refs is not None:
        data["crossNamespaceRefs"] = cross_namespace_refs
    path = tmp_path / "build" / "dev" / "bridge.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return tmp_path / "build"


def push_cross_namespace_release(bare_remote: Path, tmp_path: Path) -> None:
    work = clone(bare_remote, tmp_path / "work")
    rel = "infrastructure/controllers/metrics-server.yaml"
    text = (work / rel).read_text()
    text = text.replace(
        "        name: metrics-server\n", "        name: metrics-server\n        namespace: flux-system\n"
    )
    text = text.replace("  namespace: flux-system\nspec:", "  namespace: other\nspec:")
    commit_file(work, rel, text, "metrics-server elsewhere")
    commit_file(work, "infrastructure/controllers/other.yaml", OTHER_NAMESPACE, "namespace other")
    kustomization = (work / "infrastructure/controllers/kustomization.yaml").read_text()
    commit_file(
        work,
        "infrastructure/controllers/kustomization.yaml",
        kustomization + "  - other.yaml\n",
        "add other.yaml",
    )
    git("push", "-q", "origin", "main", cwd=work)


OTHER_NAMESPACE = """\
apiVersion: v1
kind: Namespace
metadata:
  name: other
"""


@pytest.mark.parametrize(
    ("flag", "refused"), [(False, True), (None, True), (True, False)], ids=["locked", "absent", "relaxed"]
)
def test_verify_stack_takes_the_lockdown_from_bridge_json(
    cli, bare_remote: Path, tmp_path: Path, flag: Any, refused: bool
) -> None:
    assert invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", "dev").exit_code == 0
    fresh = invoke(
        cli,
        "verify",
        "--repo",
        str(bare_remote),
        "--env",
        "dev",
        "--stack",
        "dev",
        "--build-dir",
        str(bridge_file(tmp_path, flag)),
    )
    assert fresh.exit_code == 0, fresh.output  # the shipped scaffold, locked down or not
    push_cross_namespace_release(bare_remote, tmp_path)
    result = invoke(
        cli,
        "verify",
        "--repo",
        str(bare_remote),
        "--env",
        "dev",
        "--stack",
        "dev",
        "--build-dir",
        str(tmp_path / "build"),
    )
    line = (
        "error: infrastructure/controllers/metrics-server.yaml: HelmRelease other/metrics-server: "
        "chart.spec.sourceRef HelmRepository flux-system/metrics-server is in another namespace: refused "
        "under FLUX-LOCKDOWN (stack dev runs the controllers with --no-cross-namespace-refs): "
        "helm-controller stops it (AccessDenied); keep both in one namespace, or allow it with "
        "gitops.crossNamespaceRefs: true in the stack"
    )
    # Exit 1 either way: the health check still names flux-system/metrics-server.
    assert result.exit_code == 1, result.output
    if refused:
        assert line in result.stdout.splitlines()
    else:
        assert "another namespace" not in result.output


def test_verify_flag_without_a_stack(cli, bare_remote: Path, tmp_path: Path) -> None:
    assert invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", "dev").exit_code == 0
    push_cross_namespace_release(bare_remote, tmp_path)
    base = ["verify", "--repo", str(bare_remote), "--env", "dev"]
    locked = invoke(cli, *base, "--no-cross-namespace-refs")
    assert locked.exit_code == 1
    assert "(assumed --no-cross-namespace-refs): helm-controller stops it" in locked.stdout
    unknown = invoke(cli, *base)
    assert (
        "not checked: infrastructure/controllers/metrics-server.yaml: HelmRelease other/metrics-server: "
        in (unknown.stdout)
    )
    assert "not assumed here (pass --stack STACK, or --no-cross-namespace-refs)" in unknown.stdout
    relaxed = invoke(cli, *base, "--cross-namespace-refs")
    assert "another namespace" not in relaxed.stdout


def test_stack_and_the_flag_together_are_a_usage_error(cli, bare_remote: Path, tmp_path: Path) -> None:
    build = bridge_file(tmp_path, False)
    result = invoke(
        cli,
        "verify",
        "--repo",
        str(bare_remote),
        "--env",
        "dev",
        "--stack",
        "dev",
        "--build-dir",
        str(build),
        "--cross-namespace-refs",
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: --stack: takes FLUX-LOCKDOWN from bridge.json; drop "
        "--no-cross-namespace-refs/--cross-namespace-refs"
    )


@pytest.mark.parametrize("value", ["yes", 1, None, []], ids=["text", "number", "null", "list"])
def test_a_malformed_lockdown_in_bridge_json_is_a_usage_error(
    cli, bare_remote: Path, tmp_path: Path, value: Any
) -> None:
    path = bridge_file(tmp_path, False) / "dev" / "bridge.json"
    data = json.loads(path.read_text())
    data["crossNamespaceRefs"] = value
    path.write_text(json.dumps(data))
    result = invoke(
        cli,
        "verify",
        "--repo",
        str(bare_remote),
        "--env",
        "dev",
        "--stack",
        "dev",
        "--build-dir",
        str(tmp_path / "build"),
    )
    assert result.exit_code == 2
    assert result.stderr.strip().endswith("crossNamespaceRefs must be true or false")
    assert len(result.stderr.strip().splitlines()) == 1
