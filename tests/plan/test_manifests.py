"""`eksgitops plan`'s GitOps side: manifests valid against upstream schemas, bridge.json, no secrets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from eksgitops.cli import app
from eksgitops.components.spec import load_spec
from eksgitops.components.spec.base import SecretValue
from eksgitops.components.spec.read import raw_config_from_stack_file
from eksgitops.fleet.schema import SchemaSet, validate
from eksgitops.plan.manifests import write_bridge, write_manifests
from eksgitops.plan.offline_engine import run_program
from eksgitops.plan.render import write_resources_json
from eksgitops.program import main as program_main
from tests.gitops_support import FLEET_HTTPS, IDC_INSTANCE, raw_config

ROOT = Path(__file__).resolve().parents[2]
DEV_STACK = ROOT / "stacks" / "Pulumi.dev.yaml"


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("KUBECONFIG", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "PULUMI_CONFIG"):
        monkeypatch.delenv(var, raising=False)


def run_plan_cli(args: list[str], monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(ROOT)
    return CliRunner().invoke(app, ["plan", *args], env={"COLUMNS": "250"})  # one tree line each


def stack_with_gitops(tmp_path: Path, gitops: dict[str, Any], name: str = "dev") -> Path:
    """A copy of the dev stack with another gitops section, in its own stacks folder."""
    document = yaml.safe_load(DEV_STACK.read_text())
    document["config"]["eksgitops:gitops"] = gitops
    stacks = tmp_path / "stacks"
    stacks.mkdir(exist_ok=True)
    (stacks / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return stacks


def manifests(folder: Path) -> dict[str, dict[str, Any]]:
    return {path.name: yaml.safe_load(path.read_text()) for path in sorted(folder.glob("*.yaml"))}


def validate_all(found: dict[str, dict[str, Any]]) -> list[str]:
    """Every object through the product's strict validator (the one `fleet verify` uses).

    Returns `apiVersion kind` of each object judged. A kind with no shipped schema is a finding
    of its own (`validate`'s default), so nothing passes unjudged. Helm release files are not
    Kubernetes objects: their shape is checked here, their values are the chart's business.
    """
    judged = []
    for name, document in found.items():
        if "helmRelease" in document:
            release = document["helmRelease"]
            assert {"name", "namespace", "chart", "version", "values"} <= set(release), name
        else:
            assert [str(f) for f in validate(document)] == [], name
            judged.append(f"{document['apiVersion']} {document['kind']}")
    return judged


def test_plan_dev_shows_flux_and_writes_valid_manifests_and_the_bridge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "build"
    result = run_plan_cli(["dev", "--out", str(out)], monkeypatch)
    assert result.exit_code == 0, result.output
    assert (
        "GitOps agent: flux · repository https://github.com/example/fleet.git · ref refs/heads/main · "
        "path clusters/dev" in result.stdout
    )
    for shown in ("FluxInstance", "flux-operator", "cluster-vars", "spec.sync.path=clusters/dev"):
        assert shown in result.stdout

    found = manifests(out / "dev" / "manifests")
    assert set(found) == {
        "namespace-flux-system.yaml",
        "helmrelease-flux-system-flux-operator.yaml",
        "configmap-flux-system-cluster-vars.yaml",
        "fluxinstance-flux-system-flux.yaml",
    }
    judged = validate_all(found)
    assert "fluxcd.controlplane.io/v1 FluxInstance" in judged
    instance = found["fluxinstance-flux-system-flux.yaml"]
    assert instance["spec"]["sync"]["path"] == "clusters/dev"
    assert found["helmrelease-flux-system-flux-operator.yaml"]["helmRelease"]["version"] == "0.58.1"

    bridge = json.loads((out / "dev" / "bridge.json").read_text())
    assert list(bridge) == [
        "stack",
        "agent",
        "repoUrl",
        "branch",
        "path",
        "variables",
        "identities",
        "crossNamespaceRefs",
        "kubernetesVersion",
    ]
    assert bridge["kubernetesVersion"] == "1.36"  # the stack's, for fleet verify --stack
    assert bridge["crossNamespaceRefs"] is False  # FLUX-LOCKDOWN on, as the FluxAgent runs it
    assert (bridge["stack"], bridge["agent"], bridge["branch"], bridge["path"]) == (
        "dev",
        "flux",
        "main",
        "clusters/dev",
    )
    assert bridge["repoUrl"] == "https://github.com/example/fleet.git"
    stack_identities = [i["name"] for i in raw_config_from_stack_file(DEV_STACK)["identities"]]
    assert bridge["identities"] == stack_identities
    assert "aws-load-balancer-controller" in stack_identities
    variables = bridge["variables"]
    assert variables == found["configmap-flux-system-cluster-vars.yaml"]["data"]
    assert variables["aws_load_balancer_controller_role_arn"] == (
        "arn:aws:iam::000000000000:role/eksgitops-dev-aws-load-balancer-controller"
    )
    assert variables["vpc_id"].startswith("(known after apply: ")
    resources = json.loads((out / "dev" / "resources.json").read_text())
    assert resources["outputs"]["bridge"] == variables


@pytest.mark.parametrize(
    ("gitops", "expected_files", "shown"),
    [
        (
            {"agent": "argocd", "repoUrl": FLEET_HTTPS, "path": "clusters/dev"},
            {
                "namespace-argocd.yaml",
                "helmrelease-argocd-argocd.yaml",
                "secret-argocd-fleet-repository.yaml",
                "secret-argocd-in-cluster.yaml",
                "application-argocd-root.yaml",
            },
            "GitOps agent: argocd",
        ),
        (
            {
                "agent": "eks-argocd",
                "repoUrl": FLEET_HTTPS,
                "eksArgocd": {"identityCenterInstanceArn": IDC_INSTANCE},
            },
            {
                "namespace-argocd.yaml",
                "secret-argocd-fleet-repository.yaml",
                "secret-argocd-in-cluster.yaml",
                "application-argocd-root.yaml",
            },
            "aws:eks/capability:Capability",
        ),
    ],
)
def test_plan_of_an_argo_cd_stack(
    gitops: dict[str, Any],
    expected_files: set[str],
    shown: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stacks = stack_with_gitops(tmp_path, gitops)
    out = tmp_path / "build"
    result = run_plan_cli(["dev", "--stacks-dir", str(stacks), "--out", str(out)], monkeypatch)
    assert result.exit_code == 0, result.output
    assert shown in result.stdout
    found = manifests(out / "dev" / "manifests")
    assert set(found) == expected_files
    judged = validate_all(found)
    assert "argoproj.io/v1alpha1 Application" in judged
    root = found["application-argocd-root.yaml"]
    assert root["spec"]["source"]["path"] == "clusters/dev"
    assert json.loads((out / "dev" / "bridge.json").read_text())["agent"] == gitops["agent"]


def test_secure_credentials_in_a_stack_never_reach_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ciphertext = "AAABAOFFLINECIPHERTEXTTHATMUSTNOTLEAK"
    stacks = stack_with_gitops(
        tmp_path,
        {
            "repoUrl": FLEET_HTTPS,
            "credentials": {"type": "https", "username": "bot", "token": {"secure": ciphertext}},
            "notifications": {"type": "slack", "address": {"secure": ciphertext + "2"}},
        },
    )
    out = tmp_path / "build"
    result = run_plan_cli(["dev", "--stacks-dir", str(stacks), "--out", str(out)], monkeypatch)
    assert result.exit_code == 0, result.output
    assert ciphertext not in result.output
    written = list(out.rglob("*"))
    assert any(p.name == "secret-flux-system-flux-system.yaml" for p in written)
    for path in written:
        if path.is_file():
            assert ciphertext not in path.read_text(), path
    secret = yaml.safe_load((out / "dev" / "manifests" / "secret-flux-system-flux-system.yaml").read_text())
    assert secret["stringData"] == {"password": "[secret]", "username": "[secret]"}
    assert validate(secret) == []


def test_plaintext_from_pulumi_up_stays_secret_to_the_files(tmp_path: Path) -> None:
    # As `pulumi up` runs the program: the secret leaf decrypted in its key's JSON, the key marked.
    token = "ghp_decrypted_by_pulumi_0123456789"
    raw = raw_config(
        {"repoUrl": FLEET_HTTPS, "credentials": {"type": "https", "username": "bot", "token": token}}
    )
    config = {f"eksgitops:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}
    result = run_program(
        program_main, stack="qa", config=config, secret_keys=["eksgitops:gitops"], region="eu-west-1"
    )
    # It flowed into the cluster's Secret, wrapped as a secret...
    secret = next(r for r in result.resources if r.type == "kubernetes:core/v1:Secret")
    assert token in json.dumps(secret.inputs)
    # ...and appears in none of the files the plan writes.
    credentials = {**raw["gitops"]["credentials"], "token": SecretValue(token)}
    spec = load_spec({**raw, "gitops": {**raw["gitops"], "credentials": credentials}}, stack="qa", source="t")
    write_resources_json(result, tmp_path / "resources.json", project="eksgitops", stack="qa")
    write_bridge(result, spec, tmp_path / "bridge.json")
    write_manifests(result, tmp_path / "manifests")
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert token not in path.read_text(), path


def test_a_bad_gitops_section_stops_the_plan_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stacks = stack_with_gitops(
        tmp_path,
        {
            "agent": "argocd",
            "source": "oci",
            "repoUrl": "oci://111122223333.dkr.ecr.eu-west-1.amazonaws.com/f",
        },
    )
    out = tmp_path / "build"
    result = run_plan_cli(["dev", "--stacks-dir", str(stacks), "--out", str(out)], monkeypatch)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines == [
        f"{stacks}/Pulumi.dev.yaml: eksgitops:gitops.source: oci is Flux only (agent is argocd); "
        "source git, or agent flux"
    ]
    assert not out.exists()


def test_a_relaxed_lockdown_is_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stacks = stack_with_gitops(tmp_path, {"repoUrl": FLEET_HTTPS, "crossNamespaceRefs": True})
    result = run_plan_cli(["dev", "--stacks-dir", str(stacks), "--out", str(tmp_path / "build")], monkeypatch)
    assert "FLUX-LOCKDOWN relaxed: cross-namespace references allowed" in result.stdout
    # Relaxing a guardrail takes a waiver with its reason (docs/policy.md); without one the plan fails.
    assert result.exit_code == 1, result.output
    assert (
        "FLUX-LOCKDOWN eksgitops-dev-gitops-flux-instance: cross-namespace references allowed"
        in result.stdout
    )
    stack_file = stacks / "Pulumi.dev.yaml"
    document = yaml.safe_load(stack_file.read_text())
    reason = "a tenant's HelmReleases use charts from flux-system"
    document["config"]["eksgitops:policy"] = {"waivers": [{"rule": "FLUX-LOCKDOWN", "reason": reason}]}
    stack_file.write_text(yaml.safe_dump(document, sort_keys=False))
    result = run_plan_cli(["dev", "--stacks-dir", str(stacks), "--out", str(tmp_path / "build")], monkeypatch)
    assert result.exit_code == 0, result.output
    assert f"Waiver FLUX-LOCKDOWN (every resource): {reason}" in result.stdout
    # ...and handed to `fleet verify --stack`, which then accepts cross-namespace references.
    assert json.loads((tmp_path / "build" / "dev" / "bridge.json").read_text())["crossNamespaceRefs"] is True


def test_the_prod_sops_key_shows_as_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "build"
    result = run_plan_cli(["prod", "--out", str(out)], monkeypatch)
    assert result.exit_code == 0, result.output
    assert "aws:kms/key:Key eksgitops-prod-gitops-sops (protected, kept on delete)" in result.stdout
    resources = json.loads((out / "prod" / "resources.json").read_text())["resources"]
    key = next(
        r for r in resources if r["name"] == "eksgitops-prod-gitops-sops" and r["type"] == "aws:kms/key:Key"
    )
    assert key["protect"] is True and key["retainOnDelete"] is True


SECURE = {"secure": "AAABAOFFLINECIPHERTEXT"}
# Each agent flavour with every option that adds objects to the plan.
FLAVOURS: dict[str, dict[str, Any] | None] = {
    "dev": None,
    "staging": None,
    "prod": None,
    "flux-everything": {
        "repoUrl": FLEET_HTTPS,
        "credentials": {"type": "https", "username": "bot", "token": SECURE, "readOnly": False},
        "webhookReceiver": True,
        "webhookToken": SECURE,
        "imageAutomation": True,
        "artifactGenerators": True,
        "sops": {"enabled": True},
        "notifications": {"type": "slack", "address": SECURE},
    },
    "flux-oci": {
        "source": "oci",
        "repoUrl": "oci://111122223333.dkr.ecr.eu-west-1.amazonaws.com/fleet/dev",
        "ociTag": "dev",
    },
    "argocd": {
        "agent": "argocd",
        "repoUrl": FLEET_HTTPS,
        "credentials": {"type": "https", "username": "bot", "token": SECURE},
        "argocdSso": {"issuer": "https://idp.example.com", "clientId": "argocd", "clientSecret": SECURE},
    },
    "eks-argocd": {
        "agent": "eks-argocd",
        "repoUrl": FLEET_HTTPS,
        "eksArgocd": {"identityCenterInstanceArn": IDC_INSTANCE},
    },
}
# Kinds the plan writes for which no schema is shipped, so `fleet verify`'s validator cannot judge
# them; listed here so a new one fails this test instead of passing unjudged.
NO_SCHEMA_SHIPPED: list[str] = []


@pytest.mark.parametrize("flavour", sorted(FLAVOURS))
def test_every_object_the_plan_writes_passes_the_strict_validator(
    flavour: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gitops = FLAVOURS[flavour]
    stack = flavour if gitops is None else "dev"
    args = [stack, "--quiet", "--out", str(tmp_path / "build")]
    if gitops is not None:
        args += ["--stacks-dir", str(stack_with_gitops(tmp_path, gitops))]
    result = run_plan_cli(args, monkeypatch)
    assert result.exit_code == 0, result.output
    found = manifests(tmp_path / "build" / stack / "manifests")
    objects = {name: doc for name, doc in found.items() if "helmRelease" not in doc}
    assert objects
    schemas = SchemaSet()
    unjudged = sorted(
        {
            f"{d['apiVersion']} {d['kind']}"
            for d in objects.values()
            if not schemas.knows(d["apiVersion"], d["kind"])
        }
    )
    assert unjudged == NO_SCHEMA_SHIPPED
    for name, document in objects.items():
        assert [str(f) for f in validate(document, unknown_kind="")] == [], name
    kinds = {d["kind"] for d in objects.values()}
    if flavour == "flux-everything":
        assert {"FluxInstance", "Receiver", "Secret", "ConfigMap", "Namespace"} <= kinds
    elif flavour in ("argocd", "eks-argocd"):
        assert {"Application", "Secret"} <= kinds
    else:
        assert "FluxInstance" in kinds


def test_the_validator_judges_the_plans_objects_for_real() -> None:
    # The same validator refuses what the API server would: an unknown field, an unserved version.
    instance = {
        "apiVersion": "fluxcd.controlplane.io/v1",
        "kind": "FluxInstance",
        "metadata": {"name": "flux", "namespace": "flux-system"},
        "spec": {
            "distribution": {"version": "2.9.4", "registry": "ghcr.io/fluxcd"},
            "cluster": {"typ": "aws"},
        },
    }
    assert [str(f) for f in validate(instance)] == [
        "error: FluxInstance flux-system/flux: spec.cluster.typ: field not declared in schema"
    ]
    assert "is not served" in str(validate({**instance, "apiVersion": "fluxcd.controlplane.io/v1beta1"})[0])
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert [str(f) for f in validate(unknown)] == [
        "error: Widget w: no schema shipped for example.com/v1 Widget"
    ]
