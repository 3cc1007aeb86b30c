"""`eksgitops plan`: the offline plan of each stack, its files, and how it refuses bad stacks."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pytest
import yaml
from typer.testing import CliRunner

from components.spec import config_for_pulumi, raw_config_from_stack_file
from eksgitops.cli import app
from eksgitops.plan import engine
from eksgitops.program import main as program_main

ROOT = Path(__file__).resolve().parents[2]
STACKS = ("dev", "staging", "prod")


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's own kubeconfig or Pulumi settings must not change what a plan shows.
    for var in ("KUBECONFIG", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(var, raising=False)


def _plan(args: list[str], cwd: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(cwd)
    return CliRunner().invoke(app, ["plan", *args])


@pytest.mark.parametrize("stack", STACKS)
def test_plan_of_each_stack_shows_and_writes_the_graph(
    stack: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "build"
    result = _plan([stack, "--out", str(out)], ROOT, monkeypatch)
    assert result.exit_code == 0, result.output + (result.stderr or "")
    for shown in ("eks:index:Cluster", "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "total"):
        assert shown in result.stdout

    document = json.loads((out / stack / "resources.json").read_text())
    assert document["stack"] == stack
    resources = document["resources"]
    assert resources, "a plan with no resources checks nothing"
    for resource in resources:
        assert set(resource) >= {"urn", "type", "name", "parent", "inputs"}
    urns = {r["urn"] for r in resources}
    # Every parent is either the stack or another planned resource: the tree is whole.
    assert all(r["parent"] in urns or r["parent"].endswith(f"::pulumi:pulumi:Stack::eksgitops-{stack}")
               for r in resources)


def test_prod_plan_has_the_whole_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "build"
    result = _plan(["prod", "--out", str(out)], ROOT, monkeypatch)
    assert result.exit_code == 0, result.output
    resources = json.loads((out / "prod" / "resources.json").read_text())["resources"]
    types = [r["type"] for r in resources]
    spec_raw = raw_config_from_stack_file(ROOT / "stacks" / "Pulumi.prod.yaml")

    assert types.count("aws:ec2/vpc:Vpc") == 1
    assert types.count("aws:ec2/natGateway:NatGateway") == 3  # prod: one NAT per AZ
    assert types.count("eks:index:Cluster") == 1
    assert types.count("eks:index:ManagedNodeGroup") == len(spec_raw["nodeGroups"])
    assert types.count("aws:iam/openIdConnectProvider:OpenIdConnectProvider") == 1
    cluster = next(r for r in resources if r["type"] == "eks:index:Cluster")
    assert cluster["inputs"]["endpointPublicAccess"] is False  # prod is private-only
    assert cluster["inputs"]["endpointPrivateAccess"] is True

    roles = {r["inputs"].get("name") for r in resources if r["type"] == "aws:iam/role:Role"}
    for identity in spec_raw["identities"]:
        assert any(str(name).endswith(identity["name"]) for name in roles), identity["name"]
    identity_components = [r for r in resources if r["type"].startswith("eksgitops:identity:")]
    assert len([r for r in identity_components if r["type"] != "eksgitops:identity:OidcProvider"]) == len(
        spec_raw["identities"]
    )


def test_plan_never_writes_a_secret_in_clear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "build"
    result = _plan(["dev", "--out", str(out)], ROOT, monkeypatch)
    assert result.exit_code == 0, result.output
    text = (out / "dev" / "resources.json").read_text()
    document = json.loads(text)
    # The kubeconfig is a secret output: masked whole in the file and on screen.
    assert document["outputs"]["kubeconfig"] == "[secret]"
    assert "get-token" not in text
    assert "get-token" not in result.stdout
    assert engine.SECRET_VALUE not in text  # no wire-form secret leaked either


def test_masking_covers_secrets_nested_in_inputs() -> None:
    wire = {"a": {engine.SECRET_SIG: engine.SECRET_VALUE, "value": "hunter2"}, "b": [engine.UNKNOWN]}
    assert engine.plain(wire) == {"a": "[secret]", "b": ["(known after apply)"]}


def test_unknown_stack_is_refused_with_the_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _plan(["qa", "--out", str(tmp_path / "build")], ROOT, monkeypatch)
    assert result.exit_code == 2
    assert "STACK 'qa'" in result.stderr
    assert "dev, prod, staging" in result.stderr
    assert not (tmp_path / "build").exists()


def _bad_project(tmp_path: Path, config: dict) -> Path:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(yaml.safe_dump({"config": config}))
    return tmp_path


BAD_STACK = {
    "eksgitops:region": "eu-west-1",
    "eksgitops:kubernetesVersion": "1.19",
    "eksgitops:nodeGroup": [{"name": "general"}],
    "eksgitops:network": {"vpcCidr": "10.0.0.0/33", "azCount": 9},
    "eksgitops:endpoint": {"privateAccess": False, "publicAccess": False},
    "eksgitops:tags": {"aws:owner": "me"},
}


def test_a_stack_with_several_mistakes_gets_one_line_each_and_nothing_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _bad_project(tmp_path, BAD_STACK)
    result = _plan(["dev"], project, monkeypatch)
    assert result.exit_code == 2
    assert "Traceback" not in result.output + result.stderr
    lines = result.stderr.strip().splitlines()
    assert all(line.startswith("stacks/Pulumi.dev.yaml: eksgitops:") for line in lines), lines
    for key in ("kubernetesVersion", "nodeGroup", "network.vpcCidr", "network.azCount", "endpoint", "tags"):
        assert any(f"eksgitops:{key}" in line for line in lines), (key, lines)
    assert "did you mean nodeGroups" in result.stderr
    assert not (project / "build").exists()


def test_pulumi_up_on_a_bad_stack_fails_with_the_same_lines_and_registers_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _bad_project(tmp_path, BAD_STACK)
    plan_lines = _plan(["dev"], project, monkeypatch).stderr.strip().splitlines()

    registered: list[str] = []
    real_register = engine.RecordingMonitor.RegisterResource

    def counting_register(self, request):
        if request.type != "pulumi:pulumi:Stack":  # the root exists before any program runs
            registered.append(request.type)
        return real_register(self, request)

    monkeypatch.setattr(engine.RecordingMonitor, "RegisterResource", counting_register)
    raw = raw_config_from_stack_file(project / "stacks" / "Pulumi.dev.yaml")
    config, secret_keys = config_for_pulumi(raw)
    with pytest.raises(pulumi.RunError) as caught:
        engine.run_program(program_main, stack="dev", config=config, secret_keys=secret_keys)
    assert str(caught.value).splitlines() == plan_lines
    assert registered == []
