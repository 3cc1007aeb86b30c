"""More public-fleet shapes: namespaces, health checks, the layout's own cluster-vars, YAML 1.2,
and honest outcomes (a damaged clone, nothing built)."""

from __future__ import annotations

from pathlib import Path

from eksgitops.fleet.findings import ERROR, POLICY, UNVERIFIED
from tests.fleet.conftest import git, invoke
from tests.fleet.helpers import run, write_all
from tests.fleet.test_public_fleet_shapes import (
    ISSUER,
    cm,
    errors,
    helm_repo,
    ks,
    kustomization,
    namespace,
    release,
)


def home_ops_app(ns: str, app: str, extra: str = "") -> dict[str, str]:
    """`kubernetes/apps/<ns>/<app>/ks.yaml` whose `app/` folder holds the HelmRelease."""
    base = f"kubernetes/apps/{ns}/{app}"
    return {
        f"{base}/ks.yaml": ks(app, f"./{base}/app", f"  targetNamespace: {ns}\n{extra}"),
        f"{base}/app/kustomization.yaml": kustomization("helmrelease.yaml"),
    }


# -- namespaces -----------------------------------------------------------------------------------------


def test_helmrelease_target_and_storage_namespaces_must_exist_or_be_created(tmp_path: Path) -> None:
    files = {
        "clusters/dev/apps.yaml": ks("cluster-apps", "./kubernetes/apps"),
        "kubernetes/apps/kustomization.yaml": kustomization(
            "observability/namespace.yaml",
            "observability/grafana/ks.yaml",
            "observability/loki/ks.yaml",
            "observability/tempo/ks.yaml",
            "repository.yaml",
        ),
        "kubernetes/apps/repository.yaml": helm_repo(),
        "kubernetes/apps/observability/namespace.yaml": namespace("observability"),
        **home_ops_app("observability", "grafana"),
        **home_ops_app("observability", "loki"),
        **home_ops_app("observability", "tempo"),
    }
    files["kubernetes/apps/observability/grafana/app/helmrelease.yaml"] = release(
        "grafana", "observability", extra="  targetNamespace: dashboards\n"
    )
    files["kubernetes/apps/observability/loki/app/helmrelease.yaml"] = release(
        "loki", "observability", extra="  storageNamespace: helm-state\n"
    )
    files["kubernetes/apps/observability/tempo/app/helmrelease.yaml"] = release(
        "tempo", "observability", extra="  targetNamespace: tracing\n  install:\n    createNamespace: true\n"
    )
    write_all(tmp_path, files)
    found = errors(tmp_path)
    assert len(found) == 2, found
    assert any("grafana: targetNamespace dashboards is not created" in line for line in found)
    assert any("loki: storageNamespace helm-state is not created" in line for line in found)


LINKERD_SERVER = """apiVersion: policy.linkerd.io/v1beta3
kind: Server
metadata:
  name: web
  namespace: emojivoto
spec:
  podSelector:
    matchLabels: {app: web}
  port: http
"""
ISTIO_POLICY = """apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: istio-system
spec:
  mtls:
    mode: STRICT
"""


def test_custom_resources_need_their_namespace_whatever_the_mesh(tmp_path: Path) -> None:
    write_all(
        tmp_path,
        {
            "clusters/dev/mesh.yaml": ks("mesh", "./infrastructure/mesh"),
            "infrastructure/mesh/kustomization.yaml": kustomization(
                "linkerd.yaml", "istio.yaml", "issuer.yaml"
            ),
            "infrastructure/mesh/linkerd.yaml": LINKERD_SERVER,
            "infrastructure/mesh/istio.yaml": ISTIO_POLICY,
            "infrastructure/mesh/issuer.yaml": ISSUER,  # cluster-scoped: needs no namespace
        },
    )
    found = errors(tmp_path)
    assert any("Server emojivoto/web: namespace emojivoto is not created" in line for line in found), found
    assert any("PeerAuthentication istio-system/default: namespace istio-system" in line for line in found)
    assert len(found) == 2, found


# -- health checks -----------------------------------------------------------------------------------------


def test_health_checks_on_cluster_scoped_objects_and_on_what_a_chart_creates(tmp_path: Path) -> None:
    health = (
        "  targetNamespace: cert-manager\n  healthChecks:\n"
        "    - apiVersion: cert-manager.io/v1\n      kind: ClusterIssuer\n      name: letsencrypt\n"
        "    - apiVersion: apps/v1\n      kind: Deployment\n      name: cert-manager\n"
        "      namespace: cert-manager\n"
    )
    write_all(
        tmp_path,
        {
            "clusters/dev/controllers.yaml": ks("controllers", "./infrastructure/controllers"),
            "clusters/dev/configs.yaml": ks("configs", "./infrastructure/configs", health),
            "infrastructure/controllers/kustomization.yaml": kustomization("ns.yaml", "repo.yaml", "hr.yaml"),
            "infrastructure/controllers/ns.yaml": namespace("cert-manager"),
            "infrastructure/controllers/repo.yaml": helm_repo(),
            "infrastructure/controllers/hr.yaml": release("cert-manager", "cert-manager"),
            "infrastructure/configs/kustomization.yaml": kustomization("issuer.yaml"),
            "infrastructure/configs/issuer.yaml": ISSUER,
        },
    )
    report = run(tmp_path)
    assert [str(f) for f in report.findings if f.severity == ERROR] == []
    assert any(
        "Deployment cert-manager/cert-manager" in line and "charts are not rendered" in line
        for line in report.not_checked
    ), report.not_checked


# -- the layout's own cluster-vars ----------------------------------------------------------------------


def test_a_layouts_own_cluster_vars_substitute_and_the_clash_is_its_own_finding(tmp_path: Path) -> None:
    vars_ = "  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: cluster-vars\n"
    write_all(
        tmp_path,
        {
            "clusters/dev/vars.yaml": cm("cluster-vars", "flux-system", "  SECRET_DOMAIN: example.org\n"),
            "clusters/dev/apps.yaml": ks("apps", "./apps", vars_),
            "apps/kustomization.yaml": kustomization("settings.yaml"),
            "apps/settings.yaml": cm("settings", "default", "  host: app.${SECRET_DOMAIN}\n"),
        },
    )
    report = run(tmp_path)
    assert report.errors == []
    policy = [str(f) for f in report.findings if f.severity == POLICY]
    assert len(policy) == 1 and "ConfigMap flux-system/cluster-vars is also created by the stack" in policy[0]
    assert not any("SECRET_DOMAIN" in line for line in policy)


# -- YAML 1.2 -------------------------------------------------------------------------------------------

ALERTMANAGER_CONFIG = """apiVersion: monitoring.coreos.com/v1alpha1
kind: AlertmanagerConfig
metadata:
  name: team
  namespace: default
spec:
  route:
    receiver: team
    matchers:
      - name: severity
        matchType: =
        value: critical
  receivers:
    - name: team
"""


def test_yaml_that_kustomize_reads_as_yaml_1_2_is_readable(tmp_path: Path) -> None:
    write_all(
        tmp_path,
        {
            "clusters/dev/alerts.yaml": ks("alerts", "./monitoring"),
            "monitoring/kustomization.yaml": kustomization("config.yaml"),
            "monitoring/config.yaml": ALERTMANAGER_CONFIG,
        },
    )
    report = run(tmp_path)
    assert not any("unreadable" in str(f) or "could not determine" in str(f) for f in report.findings), [
        str(f) for f in report.findings
    ]
    assert report.errors == []


# -- honest outcomes ----------------------------------------------------------------------------------------


def _commit_layout(work: Path) -> None:
    write_all(
        work,
        {
            "clusters/dev/apps.yaml": ks("apps", "./apps"),
            "apps/kustomization.yaml": kustomization("settings.yaml"),
            "apps/settings.yaml": cm("settings", "default"),
        },
    )
    git("init", "-q", "-b", "main", str(work))
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "layout", cwd=work)


def test_a_clone_with_missing_objects_is_exit_4_with_one_error_line(cli, tmp_path: Path) -> None:
    work = tmp_path / "fleet"
    _commit_layout(work)
    blob = git("rev-parse", "HEAD:apps/settings.yaml", cwd=work)
    (work / ".git/objects" / blob[:2] / blob[2:]).unlink()
    result = invoke(cli, "verify", "--repo", str(work), "--env", "dev")
    assert result.exit_code == UNVERIFIED, result.output
    errors_ = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors_) == 1 and "objects are missing" in errors_[0], result.stderr
    assert "Traceback" not in result.output


def test_nothing_built_is_exit_4_not_a_pass(cli, tmp_path: Path) -> None:
    # An Argo CD app-of-apps whose only Application is a Helm chart folder: nothing is rendered.
    work = tmp_path / "fleet"
    app = (
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\n"
        "metadata:\n  name: podinfo\n  namespace: argocd\n"
        "spec:\n  project: default\n  source:\n    repoURL: https://git.example.com/org/fleet.git\n"
        "    path: charts/podinfo\n  destination:\n    server: https://kubernetes.default.svc\n"
        "    namespace: podinfo\n"
    )
    write_all(
        work,
        {
            "clusters/dev/podinfo.yaml": app,
            "charts/podinfo/Chart.yaml": "apiVersion: v2\nname: podinfo\nversion: 1.0.0\n",
            "charts/podinfo/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
        },
    )
    report = run(work, agent="argocd")
    assert report.errors == [] and report.verdict("clusters/dev").code == UNVERIFIED
    assert "nothing was verified" in report.verdict("clusters/dev").summary
    # An empty environment folder, through the command line.
    empty = tmp_path / "empty"
    write_all(empty, {"clusters/dev/README.md": "nothing yet\n", "README.md": "fleet\n"})
    git("init", "-q", "-b", "main", str(empty))
    git("add", "-A", cwd=empty)
    git("commit", "-q", "-m", "empty env", cwd=empty)
    result = invoke(cli, "verify", "--repo", str(empty), "--env", "dev")
    assert result.exit_code == UNVERIFIED, result.output
    assert "nothing was verified" in result.stderr
