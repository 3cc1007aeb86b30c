"""Argo CD Applications: what verify builds, what it lists as not checked, hooks with generateName."""

from __future__ import annotations

from pathlib import Path

from tests.fleet.helpers import REPO_URL, lines, run, write_all


def app(
    name: str, source: str, dest: str = "    server: https://kubernetes.default.svc\n    namespace: web\n"
) -> str:
    return (
        f"apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n  namespace: "
        f"argocd\n"
        f"spec:\n  project: default\n  source:\n    repoURL: {REPO_URL}\n{source}"
        f"  destination:\n{dest}  syncPolicy:\n    syncOptions:\n      - CreateNamespace=true\n"
    )


HOOK = """apiVersion: batch/v1
kind: Job
metadata:
  generateName: migrate-
  annotations:
    argocd.argoproj.io/hook: PreSync
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: busybox:1.36
"""
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n"


def test_sources_verify_builds_and_those_it_lists(tmp_path: Path) -> None:
    write_all(
        tmp_path,
        {
            "clusters/dev/web.yaml": app("web", "    path: web\n    directory:\n      recurse: true\n"),
            "clusters/dev/chart.yaml": app("chart", "    path: charts/web\n"),
            "clusters/dev/plugin.yaml": app("plugin", "    path: web\n    plugin:\n      name: cdk8s\n"),
            "clusters/dev/jsonnet.yaml": app("jsonnet", "    path: jsonnet\n"),
            "clusters/dev/remote.yaml": app(
                "remote", "    path: web\n", "    server: https://spoke.example.com\n"
            ),
            "web/hook.yaml": HOOK,
            "web/nested/cm.yaml": CM,
            "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
            "jsonnet/main.jsonnet": "{}\n",
        },
    )
    report = run(tmp_path, agent="argocd")
    # The hook has only generateName (Argo CD names it), the ConfigMap gets the destination's
    # namespace, which CreateNamespace=true creates: nothing to report.
    assert lines(report) == []
    assert sorted(report.not_checked) == [
        "clusters/dev/chart.yaml: Application argocd/chart: Helm source charts/web is not rendered",
        "clusters/dev/jsonnet.yaml: Application argocd/jsonnet: jsonnet source jsonnet is not rendered",
        "clusters/dev/plugin.yaml: Application argocd/plugin: config management plugin source web is not "
        "rendered",
        "clusters/dev/remote.yaml: Application argocd/remote deploys to https://spoke.example.com: its "
        "cluster "
        "state is not known here",
    ]


def test_directory_sources_are_validated_strictly(tmp_path: Path) -> None:
    write_all(
        tmp_path,
        {
            "clusters/dev/web.yaml": app("web", "    path: web\n"),
            "web/cm.yaml": CM.replace("\ndata:", "\ndta:"),
            "web/nested/ignored.yaml": "not: [valid\n",  # not recursed into without directory.recurse
        },
    )
    assert lines(run(tmp_path, agent="argocd")) == [
        "error: web/cm.yaml: ConfigMap web/settings: dta: field not declared in schema"
    ]
