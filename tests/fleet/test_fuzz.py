"""Malformed input of any type is a finding, never a traceback (issue 8 item 3), fuzzed with hypothesis."""

from __future__ import annotations

import io
import os
import subprocess
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from eksgitops.fleet.cli import app, print_report
from eksgitops.fleet.findings import Finding
from eksgitops.fleet.schema import validate
from tests.fleet.helpers import run, scaffold_tree

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["${x}", "${", "$${y}", "podinfo[", "../../..", "https://x/y?ref=1", "*", "", "\t"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.text(max_size=8) | st.sampled_from(["name", "kind", "path", "target", "patch"]),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=12,
)
# Fields of a Flux Kustomization that verify reads itself (besides the schema).
KS_FIELDS = [
    ("spec",),
    ("spec", "path"),
    ("spec", "sourceRef"),
    ("spec", "postBuild"),
    ("spec", "postBuild", "substitute"),
    ("spec", "postBuild", "substituteFrom"),
    ("spec", "patches"),
    ("spec", "images"),
    ("spec", "components"),
    ("spec", "targetNamespace"),
    ("spec", "namePrefix"),
    ("spec", "healthChecks"),
    ("spec", "dependsOn"),
    ("spec", "kubeConfig"),
    ("spec", "commonMetadata"),
    ("metadata",),
    ("metadata", "name"),
    ("metadata", "namespace"),
    ("kind",),
    ("apiVersion",),
]


def put(obj: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node: Any = obj
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value


def _check(root: Path) -> None:
    report = run(root)
    assert all(isinstance(f, Finding) for f in report.findings)
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        assert print_report(report, "clusters/dev at 0000000") in (0, 1, 3)


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(field=st.sampled_from(KS_FIELDS), value=VALUES)
def test_any_value_in_a_flux_kustomization_is_a_finding(field: tuple[str, ...], value: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = scaffold_tree(Path(tmp))
        rel = root / "clusters/dev/apps.yaml"
        obj = yaml.safe_load(rel.read_text())
        put(obj, field, value)
        rel.write_text(yaml.safe_dump(obj))
        _check(root)


@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    text=st.text(max_size=200)
    | st.sampled_from(
        ["- a\n- b\n", "a: b: c\n", "{\n", "\t- x", "--- !!python/object:os.system\n", "a: &a [*a]\n"]
    )
)
def test_any_text_as_a_manifest_or_kustomization_is_a_finding(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = scaffold_tree(Path(tmp))
        (root / "clusters/dev/extra.yaml").write_text(text)
        (root / "apps/dev/kustomization.yaml").write_text(text)
        _check(root)


@settings(max_examples=200, deadline=None)
@given(
    obj=VALUES,
    kind=st.sampled_from(["Kustomization", "HelmRelease", "Deployment", "ConfigMap", "FluxInstance"]),
)
def test_validate_never_raises(obj: Any, kind: str) -> None:
    api = {
        "Kustomization": "kustomize.toolkit.fluxcd.io/v1",
        "HelmRelease": "helm.toolkit.fluxcd.io/v2",
        "Deployment": "apps/v1",
        "ConfigMap": "v1",
        "FluxInstance": "fluxcd.controlplane.io/v1",
    }[kind]
    document = {"apiVersion": api, "kind": kind, "metadata": {"name": "x"}, "spec": obj}
    assert all(isinstance(f, Finding) for f in validate(document))
    assert all(isinstance(f, Finding) for f in validate(obj))


ARGO_FIELDS = [
    ("clusters/dev/apps.yaml", ("spec",)),
    ("clusters/dev/apps.yaml", ("spec", "source")),
    ("clusters/dev/apps.yaml", ("spec", "source", "path")),
    ("clusters/dev/apps.yaml", ("spec", "source", "directory")),
    ("clusters/dev/apps.yaml", ("spec", "sources")),
    ("clusters/dev/apps.yaml", ("spec", "destination")),
    ("clusters/dev/apps.yaml", ("spec", "syncPolicy")),
    ("clusters/dev/infrastructure.yaml", ("spec", "generators")),
    ("clusters/dev/infrastructure.yaml", ("spec", "template")),
    ("clusters/dev/infrastructure.yaml", ("spec", "templatePatch")),
]


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "30")), deadline=None)
@given(where=st.sampled_from(ARGO_FIELDS), value=VALUES)
def test_any_value_in_an_argo_cd_application_is_a_finding(
    where: tuple[str, tuple[str, ...]], value: Any
) -> None:
    rel, field = where
    with tempfile.TemporaryDirectory() as tmp:
        root = scaffold_tree(Path(tmp), agent="argocd")
        path = root / rel
        obj = yaml.safe_load(path.read_text())
        put(obj, field, value)
        path.write_text(yaml.safe_dump(obj))
        report = run(root, agent="argocd")
        assert all(isinstance(f, Finding) for f in report.findings)


FLAGS = ["--env", "--path", "--var", "--identity", "--revision", "--agent", "--repo-url", "--stack"]


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "40")), deadline=None)
@given(flag=st.sampled_from(FLAGS), value=st.text(max_size=30))
def test_any_flag_value_ends_in_an_exit_code_not_a_traceback(flag: str, value: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        remote = Path(tmp) / "remote.git"
        subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
        args = ["verify", "--repo", str(remote)]
        if flag != "--env":
            args += ["--env", "dev"]
        args += [flag, value, "--build-dir", str(Path(tmp) / "build")]
        result = CliRunner().invoke(app, args, catch_exceptions=True)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert result.exit_code in (0, 1, 2, 3, 4)
        assert "Traceback" not in result.output
