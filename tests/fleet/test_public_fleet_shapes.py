"""Layouts shaped like public Flux and Argo CD fleets (the flux2-kustomize-helm-example tree, a
home-lab `kubernetes/apps/<namespace>/<app>/ks.yaml` monorepo, an Argo CD app-of-apps), each
holding one thing verify used to get wrong: a miss, a false alarm, or a dishonest outcome.

Each test is written against what upstream does with the value (kustomize-controller,
helm-controller, source-controller, the Flux Operator), not against what our scaffold writes.
"""

from __future__ import annotations

from pathlib import Path

from eksgitops.fleet.findings import ERROR
from tests.fleet.helpers import run, write_all


def ks(name: str, path: str, extra: str = "", ns: str = "flux-system") -> str:
    return (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        f"metadata:\n  name: {name}\n  namespace: {ns}\n"
        f"spec:\n  interval: 1h\n  prune: true\n  path: {path}\n"
        "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n    namespace: flux-system\n" + extra
    )


def namespace(name: str) -> str:
    return f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"


def helm_repo(name: str = "charts", url: str = "https://charts.example.com") -> str:
    return (
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\n"
        f"metadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  interval: 12h\n  url: {url}\n"
    )


def release(name: str, ns: str, chart: str | None = None, extra: str = "") -> str:
    return (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\n"
        f"metadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  interval: 30m\n"
        f"  chart:\n    spec:\n      chart: {chart or name}\n      version: 1.2.3\n"
        "      sourceRef:\n        kind: HelmRepository\n        name: charts\n"
        "        namespace: flux-system\n" + extra
    )


def cm(name: str, ns: str, data: str = "  key: value\n") -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\ndata:\n{data}"


def kustomization(*resources: str) -> str:
    return "resources:\n" + "".join(f"  - {r}\n" for r in resources)


def errors(root: Path, **kwargs) -> list[str]:
    return [str(f) for f in run(root, **kwargs).findings if f.severity == ERROR]


# -- spec.path and findings that must not hide each other ---------------------------------------------


def test_absolute_spec_path_is_the_same_as_relative_and_one_failure_hides_no_other(tmp_path: Path) -> None:
    # kustomize-controller joins spec.path into the artifact with securejoin: `/apps/dev` is `./apps/dev`.
    write_all(
        tmp_path,
        {
            "clusters/dev/apps.yaml": ks("apps", "/apps/dev"),
            "clusters/dev/infrastructure.yaml": ks("infra-controllers", "./infrastructure/controllers"),
            "clusters/dev/monitoring.yaml": ks("monitoring", "./monitoring/dev"),
            "apps/dev/kustomization.yaml": kustomization("namespace.yaml", "podinfo.yaml"),
            "apps/dev/namespace.yaml": namespace("podinfo"),
            "apps/dev/podinfo.yaml": cm("podinfo", "podinfo"),
            "infrastructure/controllers/kustomization.yaml": kustomization("missing.yaml"),
        },
    )
    found = errors(tmp_path)
    assert not [line for line in found if "flux-system/apps" in line], found
    assert any("infra-controllers: kustomize build failed" in line for line in found), found
    assert any("monitoring: spec.path ./monitoring/dev not found" in line for line in found), found
    assert len(found) == 2, found


def test_spec_path_climbing_above_the_source_stays_inside_it(tmp_path: Path) -> None:
    write_all(
        tmp_path,
        {
            "clusters/dev/apps.yaml": ks("apps", "../../apps"),
            "apps/kustomization.yaml": kustomization("namespace.yaml"),
            "apps/namespace.yaml": namespace("podinfo"),
        },
    )
    assert errors(tmp_path) == []


# -- the Flux Operator's notification CRDs --------------------------------------------------------------

PROVIDER = """apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Provider
metadata:
  name: slack
  namespace: flux-system
spec:
  type: slack
  channel: flux
  secretRef:
    name: slack-url
"""
ALERT = """apiVersion: notification.toolkit.fluxcd.io/v1beta3
kind: Alert
metadata:
  name: operator
  namespace: flux-system
spec:
  providerRef:
    name: slack
  eventSources:
    - kind: FluxInstance
      name: flux
    - kind: ResourceSet
      name: '*'
    - kind: Kustomization
      name: '*'
"""
RECEIVER = """apiVersion: notification.toolkit.fluxcd.io/v1
kind: Receiver
metadata:
  name: github
  namespace: flux-system
spec:
  type: github
  secretRef:
    name: webhook-token
  resources:
    - kind: ResourceSetInputProvider
      name: pull-requests
    - kind: GitRepository
      name: flux-system
"""
SECRETS = """apiVersion: v1
kind: Secret
metadata:
  name: slack-url
  namespace: flux-system
stringData:
  address: https://hooks.slack.example/x
---
apiVersion: v1
kind: Secret
metadata:
  name: webhook-token
  namespace: flux-system
stringData:
  token: x
"""


def test_alerts_and_receivers_may_name_the_flux_operators_kinds(tmp_path: Path) -> None:
    write_all(
        tmp_path,
        {
            "clusters/dev/notifications.yaml": ks("notifications", "./infrastructure/notifications"),
            "infrastructure/notifications/kustomization.yaml": kustomization(
                "provider.yaml", "alert.yaml", "receiver.yaml", "secrets.yaml"
            ),
            "infrastructure/notifications/provider.yaml": PROVIDER,
            "infrastructure/notifications/alert.yaml": ALERT,
            "infrastructure/notifications/receiver.yaml": RECEIVER,
            "infrastructure/notifications/secrets.yaml": SECRETS,
        },
    )
    found = errors(tmp_path)
    assert not [line for line in found if "kind" in line or "enum" in line], found
    # The enums still refuse what the operator does not add.
    (tmp_path / "infrastructure/notifications/alert.yaml").write_text(
        ALERT.replace("ResourceSet", "ResourceSets")
    )
    assert any("ResourceSets" in line for line in errors(tmp_path))


# -- Git URLs source-controller refuses -------------------------------------------------------------------

GITREPO = """apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: {name}
  namespace: flux-system
spec:
  interval: 10m
  url: {url}
  ref:
    branch: main
"""
FLUXINSTANCE = """apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata:
  name: flux
  namespace: flux-system
spec:
  distribution:
    version: "2.x"
    registry: ghcr.io/fluxcd
  sync:
    kind: GitRepository
    url: {url}
    ref: refs/heads/main
    path: clusters/dev
"""


def test_scp_style_git_urls_are_refused_where_flux_reads_them(tmp_path: Path) -> None:
    write_all(
        tmp_path,
        {
            "clusters/dev/sources.yaml": ks("sources", "./infrastructure/sources"),
            "infrastructure/sources/kustomization.yaml": kustomization(
                "charts.yaml", "team.yaml", "flux.yaml"
            ),
            "infrastructure/sources/charts.yaml": GITREPO.format(
                name="team-charts", url="git@github.com:example/charts.git"
            ),
            "infrastructure/sources/team.yaml": GITREPO.format(
                name="team-apps", url="ssh://git@github.com/example/apps.git"
            ),
            "infrastructure/sources/flux.yaml": FLUXINSTANCE.format(url="git@github.com:example/fleet.git"),
        },
    )
    found = errors(tmp_path)
    # The GitRepository is refused by source-controller's own schema; the FluxInstance's URL
    # reaches source-controller only through the GitRepository the operator creates from it.
    assert any("team-charts" in line and "spec.url" in line for line in found), found
    scp = [line for line in found if "scp-style" in line]
    assert len(scp) == 1 and "FluxInstance flux-system/flux" in scp[0] and "spec.sync.url" in scp[0], found
    assert "ssh://git@github.com/example/fleet.git" in scp[0]
    assert not [line for line in found if "team-apps" in line], found


# -- a second Flux in the repository ----------------------------------------------------------------------

GOTK = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gitrepositories.source.toolkit.fluxcd.io
spec:
  group: source.toolkit.fluxcd.io
  names: {kind: GitRepository, listKind: GitRepositoryList, plural: gitrepositories, singular: gitrepository}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: source-controller
  namespace: flux-system
spec:
  selector:
    matchLabels: {app: source-controller}
  template:
    metadata:
      labels: {app: source-controller}
    spec:
      containers:
        - name: manager
          image: ghcr.io/fluxcd/source-controller:v1.7.0
"""


def test_a_repository_carrying_flux_bootstraps_own_install_is_reported(tmp_path: Path) -> None:
    # `flux bootstrap` writes clusters/<env>/flux-system/{gotk-components,gotk-sync,kustomization}.yaml.
    write_all(
        tmp_path,
        {
            "clusters/dev/flux-system/kustomization.yaml": kustomization(
                "gotk-components.yaml", "gotk-sync.yaml"
            ),
            "clusters/dev/flux-system/gotk-components.yaml": GOTK,
            "clusters/dev/flux-system/gotk-sync.yaml": GITREPO.format(
                name="flux-system", url="ssh://git@github.com/someone-else/fleet"
            ),
        },
    )
    found = errors(tmp_path)
    assert len([line for line in found if "its own Flux install" in line]) == 1, found
    assert any("gotk-sync.yaml" in line and "someone-else" in line for line in found), found


def test_the_same_sync_source_with_this_repositorys_url_is_not_a_second_flux(tmp_path: Path) -> None:
    write_all(
        tmp_path,
        {
            "clusters/dev/gotk-sync.yaml": GITREPO.format(
                name="flux-system", url="https://git.example.com/org/fleet.git"
            ),
            "clusters/dev/cm.yaml": cm("settings", "default"),
        },
    )
    assert errors(tmp_path) == []


# -- custom resources whose CRD a HelmRelease of the same Kustomization installs --------------------------

ISSUER = """apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: letsencrypt
spec:
  acme:
    server: https://acme-v02.api.letsencrypt.org/directory
    privateKeySecretRef:
      name: letsencrypt
    solvers:
      - http01:
          ingress:
            ingressClassName: nginx
"""


def test_custom_resources_beside_the_helmrelease_that_installs_their_crd(tmp_path: Path) -> None:
    write_all(
        tmp_path,
        {
            "clusters/dev/infrastructure.yaml": ks("infra-controllers", "./infrastructure/controllers"),
            "infrastructure/controllers/kustomization.yaml": kustomization(
                "namespace.yaml", "repository.yaml", "cert-manager.yaml", "cluster-issuer.yaml"
            ),
            "infrastructure/controllers/namespace.yaml": namespace("cert-manager"),
            "infrastructure/controllers/repository.yaml": helm_repo(),
            "infrastructure/controllers/cert-manager.yaml": release(
                "cert-manager", "cert-manager", extra="  values:\n    crds:\n      enabled: true\n"
            ),
            "infrastructure/controllers/cluster-issuer.yaml": ISSUER,
        },
    )
    found = errors(tmp_path)
    assert len(found) == 1, found
    assert "ClusterIssuer letsencrypt: its CRD (cert-manager.io)" in found[0]
    assert "dependsOn infra-controllers" in found[0]


DEPENDS = "  dependsOn:\n    - name: infra-controllers\n"


def test_custom_resources_in_a_kustomization_that_depends_on_the_installer_pass(tmp_path: Path) -> None:
    write_all(
        tmp_path,
        {
            "clusters/dev/infrastructure.yaml": ks("infra-controllers", "./infrastructure/controllers")
            + "---\n"
            + ks(
                "infra-configs", "./infrastructure/configs", "  dependsOn:\n    - name: infra-controllers\n"
            ),
            "infrastructure/controllers/kustomization.yaml": kustomization(
                "namespace.yaml", "repository.yaml", "cert-manager.yaml"
            ),
            "infrastructure/controllers/namespace.yaml": namespace("cert-manager"),
            "infrastructure/controllers/repository.yaml": helm_repo(),
            "infrastructure/controllers/cert-manager.yaml": release("cert-manager", "cert-manager"),
            # An unrelated chart beside a custom resource of another group is no reason either.
            "infrastructure/configs/kustomization.yaml": kustomization("cluster-issuer.yaml", "podinfo.yaml"),
            "infrastructure/configs/cluster-issuer.yaml": ISSUER,
            "infrastructure/configs/podinfo.yaml": release("podinfo", "default"),
        },
    )
    assert errors(tmp_path) == []
