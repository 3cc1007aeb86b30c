"""Substitution on a layout shaped like a home-lab monorepo (issue 23.1): one app base shared by
several Kustomizations, named with nested defaults and pattern replacement, as Flux renders it."""

from __future__ import annotations

from pathlib import Path

from eksgitops.fleet.verify import applied_objects
from tests.fleet.helpers import PROVIDED, lines, request, run, write_all


def ks(name: str, path: str, variables: dict[str, str]) -> str:
    subst = "".join(f"      {k}: {v!r}\n" for k, v in variables.items())
    return (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        f"metadata:\n  name: {name}\n  namespace: flux-system\n"
        f"spec:\n  interval: 10m\n  prune: true\n  path: {path}\n  targetNamespace: media\n"
        "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
        f"  postBuild:\n    substitute:\n{subst}"
    )


BASE = {
    "apps/base/kustomization.yaml": "resources:\n  - service.yaml\n  - ingress.yaml\n  - settings.yaml\n",
    "apps/base/service.yaml": """apiVersion: v1
kind: Service
metadata:
  name: ${APP:=${NAME}}
spec:
  selector:
    app.kubernetes.io/name: ${NAME}
  ports:
    - port: ${PORT:=80}
""",
    "apps/base/ingress.yaml": """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ${APP:=${NAME}}
spec:
  tls:
    - secretName: ${DOMAIN/./-}-tls
      hosts: ["${APP:=${NAME}}.${DOMAIN}"]
  rules:
    - host: ${APP:=${NAME}}.${DOMAIN}
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: ${APP:=${NAME}}
                port:
                  number: 80
""",
    "apps/base/settings.yaml": """apiVersion: v1
kind: ConfigMap
metadata:
  name: ${NAME}-settings
  labels:
    tier: ${TIER=standard}
data:
  upper: ${NAME^^}
  length: ${#NAME} chars
  escaped: $${NOT_A_VARIABLE}
  alternative: ${NAME:+other}
""",
    "apps/media/script.yaml": """apiVersion: v1
kind: ConfigMap
metadata:
  name: script
  namespace: media
  labels:
    kustomize.toolkit.fluxcd.io/substitute: disabled
data:
  run.sh: echo ${HOME/x/y} ${#}
""",
    "clusters/dev/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: media\n",
    "clusters/dev/script.yaml": (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        "metadata:\n  name: script\n  namespace: flux-system\n"
        "spec:\n  interval: 10m\n  prune: true\n  path: ./apps/media\n"
        "  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
        "  postBuild:\n    substitute:\n      HOME: /root\n"
    ),
}


def layout(root: Path) -> Path:
    return write_all(
        root,
        {
            **BASE,
            "clusters/dev/sonarr.yaml": ks(
                "sonarr", "./apps/base", {"NAME": "sonarr", "DOMAIN": "home.example"}
            ),
            "clusters/dev/radarr.yaml": ks(
                "radarr", "./apps/base", {"NAME": "radarr", "DOMAIN": "home.example", "TIER": ""}
            ),
            "clusters/dev/web.yaml": ks(
                "web", "./apps/base", {"NAME": "web", "APP": "portal", "DOMAIN": "home.example"}
            ),
        },
    )


def objects(root: Path) -> dict[str, dict]:
    out = {}
    for a in applied_objects(request(provided=dict.fromkeys(PROVIDED, "x")), root):
        meta = a.obj.get("metadata", {})
        out[f"{a.obj.get('kind')} {meta.get('namespace', '')}/{meta.get('name')}"] = a.obj
    return out


def test_a_shared_base_with_nested_defaults_and_replacements_passes(tmp_path: Path) -> None:
    layout(tmp_path)
    assert lines(run(tmp_path)) == []


def test_it_renders_what_flux_renders(tmp_path: Path) -> None:
    got = objects(layout(tmp_path))
    assert {"Service media/sonarr", "Service media/radarr", "Service media/portal"} <= set(got)
    ingress = got["Ingress media/portal"]["spec"]
    assert ingress["tls"] == [{"secretName": "home-example-tls", "hosts": ["portal.home.example"]}]
    assert got["Service media/sonarr"]["spec"]["ports"] == [{"port": 80}]
    assert got["ConfigMap media/sonarr-settings"]["data"] == {
        "upper": "SONARR",
        "length": "6 chars",
        "escaped": "${NOT_A_VARIABLE}",
        "alternative": "sonarr",
    }
    assert got["ConfigMap media/sonarr-settings"]["metadata"]["labels"] == {"tier": "standard"}
    # Set but empty: Flux's `=` falls back to the default as `:=` does.
    assert got["ConfigMap media/radarr-settings"]["metadata"]["labels"] == {"tier": "standard"}
    assert got["ConfigMap media/script"]["data"] == {"run.sh": "echo ${HOME/x/y} ${#}"}


def test_what_flux_cannot_parse_stops_the_kustomization(tmp_path: Path) -> None:
    layout(tmp_path)
    (tmp_path / "apps/base/settings.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${NAME}-settings\ndata:\n  a: ${NAME-x}\n"
    )
    found = lines(run(tmp_path))
    assert found == [
        f"error: apps/base/settings.yaml: ConfigMap media/${{NAME}}-settings (applied by Kustomization "
        f"flux-system/{name}): variable substitution failed: missing closing brace"
        for name in ("radarr", "sonarr", "web")
    ]
