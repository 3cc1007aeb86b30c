"""Where a custom resource's CRD comes from, by what is known and never by a chart's name
(issue 23.2), on layouts shaped like home-lab and EKS fleets: infrastructure controllers
installed by charts, their custom resources beside them or in a later Kustomization."""

from __future__ import annotations

from pathlib import Path

from tests.fleet.helpers import lines, run, write_all


def ks(name: str, path: str, depends: tuple[str, ...] = ()) -> str:
    deps = "".join(f"    - name: {d}\n" for d in depends)
    return (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        f"metadata:\n  name: {name}\n  namespace: flux-system\n"
        f"spec:\n  interval: 10m\n  prune: true\n  path: {path}\n"
        "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
        + (f"  dependsOn:\n{deps}" if deps else "")
    )


def release(name: str, chart: str, ns: str = "infra") -> str:
    return f"""apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: {name}
  namespace: {ns}
spec:
  interval: 1h
  chart:
    spec:
      chart: {chart}
      version: "1.2.3"
      sourceRef:
        kind: HelmRepository
        name: charts
        namespace: flux-system
"""


REPO = """apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata:
  name: charts
  namespace: flux-system
spec:
  interval: 1h
  url: https://charts.example.com
"""
NS = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {}\n"
PG = """apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata:
  name: main
  namespace: infra
spec:
  instances: 2
"""
DASHBOARD = """apiVersion: grafana.integreatly.org/v1beta1
kind: GrafanaDashboard
metadata:
  name: nodes
  namespace: infra
spec:
  json: "{}"
"""
CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.org
spec:
  group: example.org
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
"""
WIDGET = "apiVersion: example.org/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: infra\n"


def base(root: Path, files: dict[str, str]) -> Path:
    return write_all(
        root,
        {
            "clusters/dev/sources.yaml": REPO,
            "clusters/dev/ns.yaml": NS.format("infra"),
            **files,
        },
    )


def test_an_operator_chart_and_its_resources_in_one_kustomization_is_an_error(tmp_path: Path) -> None:
    # The chart's name (cloudnative-pg) shares no word with its CRDs' group (postgresql.cnpg.io).
    base(
        tmp_path,
        {
            "clusters/dev/databases.yaml": ks("databases", "./infrastructure/databases"),
            "infrastructure/databases/operator.yaml": release("cnpg", "cloudnative-pg"),
            "infrastructure/databases/cluster.yaml": PG,
        },
    )
    assert lines(run(tmp_path)) == [
        "error: infrastructure/databases/cluster.yaml: Cluster infra/main: its CRD (postgresql.cnpg.io) is "
        "in no source verify can see, and the only charts that could install it are applied by the same "
        "Kustomization flux-system/databases (HelmRelease infra/cnpg); charts are not rendered, but if one "
        "of them installs it, Flux's server-side dry-run of that Kustomization fails on a fresh cluster "
        "before anything is applied and it never converges: move the custom resources into a "
        "Kustomization that dependsOn databases"
    ]


def test_resources_after_the_operators_kustomization_pass(tmp_path: Path) -> None:
    base(
        tmp_path,
        {
            "clusters/dev/operators.yaml": ks("operators", "./infrastructure/operators"),
            "clusters/dev/databases.yaml": ks("databases", "./infrastructure/databases", ("operators",)),
            "infrastructure/operators/operator.yaml": release("cnpg", "cloudnative-pg"),
            "infrastructure/databases/cluster.yaml": PG,
        },
    )
    assert lines(run(tmp_path)) == []


def test_a_chart_is_never_blamed_for_another_projects_crds_by_its_name(tmp_path: Path) -> None:
    # grafana-agent shares "grafana" with grafana.integreatly.org, whose CRDs come with the
    # grafana-operator chart of a Kustomization that monitoring depends on.
    base(
        tmp_path,
        {
            "clusters/dev/operators.yaml": ks("operators", "./infrastructure/operators"),
            "clusters/dev/monitoring.yaml": ks("monitoring", "./monitoring", ("operators",)),
            "infrastructure/operators/grafana.yaml": release("grafana-operator", "grafana-operator"),
            "monitoring/agent.yaml": release("grafana-agent", "grafana-agent"),
            "monitoring/dashboard.yaml": DASHBOARD,
        },
    )
    assert lines(run(tmp_path)) == []


def test_a_crd_of_the_layout_applied_by_a_kustomization_not_depended_on(tmp_path: Path) -> None:
    layout = {
        "clusters/dev/crds.yaml": ks("crds", "./infrastructure/crds"),
        "infrastructure/crds/widget.yaml": CRD,
        "apps/widget.yaml": WIDGET,
    }
    base(tmp_path / "ordered", {**layout, "clusters/dev/apps.yaml": ks("apps", "./apps", ("crds",))})
    assert lines(run(tmp_path / "ordered")) == []
    base(tmp_path / "unordered", {**layout, "clusters/dev/apps.yaml": ks("apps", "./apps")})
    assert lines(run(tmp_path / "unordered")) == [
        "policy: apps/widget.yaml: Widget infra/w: its CRD is applied by Kustomization flux-system/crds, "
        "which Kustomization flux-system/apps has no dependsOn on: on a fresh cluster Kustomization "
        "flux-system/apps fails its server-side dry-run until that has run (add it to dependsOn)"
    ]


def test_a_custom_resource_with_no_source_at_all_is_said_so(tmp_path: Path) -> None:
    base(tmp_path, {"clusters/dev/apps.yaml": ks("apps", "./apps"), "apps/cluster.yaml": PG})
    assert lines(run(tmp_path)) == [
        "policy: apps/cluster.yaml: Cluster infra/main: its CRD (postgresql.cnpg.io) is in no source verify "
        "can see (no CustomResourceDefinition in the layout, and the agent does not install it), and "
        "Kustomization "
        "flux-system/apps has no dependsOn on a Kustomization that installs charts: it reconciles only "
        "on a cluster where something else installed the CRD"
    ]
