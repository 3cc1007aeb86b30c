"""Argo CD sources as Argo CD reads them (issue 23.4): directory include/exclude/recurse,
`helmCharts` in a kustomization and `--enable-helm`, and Helm-repository chart sources listed
as not checked. Layouts shaped like app-of-apps fleets."""

from __future__ import annotations

from pathlib import Path

import pytest

from eksgitops.fleet.verify import applied_objects
from eksgitops.fleet.verify.argo import argo_glob
from tests.fleet.helpers import lines, request, run, write_all


def app(name: str, source: str) -> str:
    return f"""apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {name}
  namespace: argocd
spec:
  project: default
  source:
{source}  destination:
    server: https://kubernetes.default.svc
    namespace: web
"""


def cm(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: b\n"


BROKEN = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\ndata:\n  a: 1\n"
NS = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n"
REPO = "https://git.example.com/org/fleet.git"


def names(root: Path) -> set[str]:
    objects = applied_objects(request(agent="argocd"), root)
    return {str(a.obj["metadata"]["name"]) for a in objects if a.obj.get("kind") == "ConfigMap"}


def directory_layout(root: Path, options: str) -> Path:
    return write_all(
        root,
        {
            "clusters/dev/ns.yaml": NS,
            "clusters/dev/web.yaml": app("web", f"    repoURL: {REPO}\n    path: web\n{options}"),
            "web/deploy.yaml": cm("deploy"),
            "web/config.json": '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "json"}}',
            "web/env-usw2/cm.yaml": cm("usw2"),
            "web/env-euw1/cm.yaml": cm("euw1"),
            "web/env-euw1/deep/cm.yaml": cm("deep"),
            "web/ci/broken.yaml": BROKEN,
        },
    )


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ("", {"deploy", "json"}),
        (
            "    directory:\n      recurse: true\n      exclude: 'ci/*'\n",
            {"deploy", "json", "usw2", "euw1", "deep"},
        ),
        (
            "    directory:\n      recurse: true\n      exclude: '{config.json,env-usw2/*,ci/*}'\n",
            {"deploy", "euw1", "deep"},
        ),
        ("    directory:\n      recurse: true\n      include: 'env-*/*.yaml'\n", {"usw2", "euw1", "deep"}),
        (
            "    directory:\n      recurse: true\n      include: '*.yaml'\n      exclude: 'ci/*'\n",
            {"deploy", "usw2", "euw1", "deep"},
        ),
        ("    directory:\n      include: '*.json'\n", {"json"}),
    ],
)
def test_directory_include_exclude_recurse(tmp_path: Path, options: str, expected: set[str]) -> None:
    root = directory_layout(tmp_path, options)
    assert names(root) == expected
    assert lines(run(root, agent="argocd")) == []


def test_globs_match_as_argo_cd_matches_them() -> None:
    assert argo_glob("*.yaml", "a/b.yaml")  # no separators: `*` crosses folders
    assert argo_glob("{a,b}/*", "b/x.yaml") and not argo_glob("{a,b}/*", "c/x.yaml")
    assert argo_glob("env-[!u]*/*", "env-euw1/cm.yaml") and not argo_glob("env-[!u]*/*", "env-usw2/cm.yaml")
    assert not argo_glob("*" * 20 + "b", "a" * 4000)  # many stars: only itself, never slow


HELM_KUSTOMIZATION = """helmCharts:
  - name: podinfo
    repo: https://stefanprodan.github.io/podinfo
    version: 6.7.1
    releaseName: podinfo
"""


def helm_layout(root: Path, argocd_cm: str | None) -> Path:
    files = {
        "clusters/dev/ns.yaml": NS,
        "clusters/dev/podinfo.yaml": app("podinfo", f"    repoURL: {REPO}\n    path: podinfo\n"),
        "podinfo/kustomization.yaml": HELM_KUSTOMIZATION,
    }
    if argocd_cm is not None:
        files["clusters/dev/argocd-cm.yaml"] = (
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\n  namespace: argocd\n"
            f"data:\n{argocd_cm}"
        )
    return write_all(root, files)


def test_helm_charts_in_a_kustomization_as_argo_cd_inflates_them(tmp_path: Path) -> None:
    enabled = run(helm_layout(tmp_path / "on", '  kustomize.buildOptions: "--enable-helm"\n'), agent="argocd")
    assert lines(enabled) == []
    assert (
        "clusters/dev/podinfo.yaml: Application argocd/podinfo: podinfo inflates Helm charts (helmCharts) "
        "with Argo CD's --enable-helm; charts are not rendered here"
    ) in enabled.not_checked
    disabled = run(helm_layout(tmp_path / "off", "  timeout.reconciliation: 180s\n"), agent="argocd")
    assert lines(disabled) == [
        "error: clusters/dev/podinfo.yaml: Application argocd/podinfo: podinfo uses helmCharts, which "
        "Argo CD inflates only with --enable-helm in kustomize.buildOptions of argocd-cm "
        "(argocd/argocd-cm has none): the build fails"
    ]
    unknown = run(helm_layout(tmp_path / "unknown", None), agent="argocd")
    assert lines(unknown) == []
    assert any("not in this layout" in line for line in unknown.not_checked)
    for report in (enabled, disabled, unknown):
        assert not any("Flux" in line for line in [*lines(report), *report.not_checked])


def test_helm_repository_chart_sources_are_listed_as_not_checked(tmp_path: Path) -> None:
    root = write_all(
        tmp_path,
        {
            "clusters/dev/ns.yaml": NS,
            "clusters/dev/redis.yaml": app(
                "redis",
                "    repoURL: https://charts.bitnami.com/bitnami\n    chart: redis\n"
                "    targetRevision: 20.1.0\n",
            ),
        },
    )
    report = run(root, agent="argocd")
    assert lines(report) == []
    assert (
        "clusters/dev/redis.yaml: Application argocd/redis: Helm chart redis 20.1.0 from "
        "https://charts.bitnami.com/bitnami is not rendered"
    ) in report.not_checked
