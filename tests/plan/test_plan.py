"""`eksgitops plan`: the offline plan of each stack, its files, and how it refuses bad stacks."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi
import pytest
import yaml
from typer.testing import CliRunner

from eksgitops.cli import app
from eksgitops.components.spec.read import config_for_pulumi, raw_config_from_stack_file
from eksgitops.plan import offline_engine
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
    assert all(
        r["parent"] in urns or r["parent"].endswith(f"::pulumi:pulumi:Stack::eksgitops-{stack}")
        for r in resources
    )


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
    # One IrsaRole or PodIdentityRole under the Platform per identity of the stack (the
    # cluster's own, such as the EBS CSI driver's, sit deeper).
    platform = next(r["urn"] for r in resources if r["type"] == "eksgitops:platform:Platform")
    workload = {
        r["name"]: r["type"]
        for r in resources
        if r["parent"] == platform and r["type"].startswith("eksgitops:identity:")
    }
    expected = {
        f"eksgitops-prod-{i['name']}": "eksgitops:identity:IrsaRole"
        if i.get("mode") == "irsa"
        else "eksgitops:identity:PodIdentityRole"
        for i in spec_raw["identities"]
    }
    assert workload == expected


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
    assert offline_engine.SECRET_VALUE not in text  # no wire-form secret leaked either


def test_masking_covers_secrets_nested_in_inputs() -> None:
    wire = {
        "a": {offline_engine.SECRET_SIG: offline_engine.SECRET_VALUE, "value": "hunter2"},
        "b": [offline_engine.UNKNOWN],
    }
    assert offline_engine.plain(wire) == {"a": "[secret]", "b": ["(known after apply)"]}


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
    assert 'did you mean "nodeGroups"' in result.stderr
    assert not (project / "build").exists()


def test_pulumi_up_on_a_bad_stack_fails_with_the_same_lines_and_registers_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _bad_project(tmp_path, BAD_STACK)
    plan_lines = _plan(["dev"], project, monkeypatch).stderr.strip().splitlines()

    registered: list[str] = []
    real_register = offline_engine.RecordingMonitor.RegisterResource

    def counting_register(self, request):
        if request.type != "pulumi:pulumi:Stack":  # the root exists before any program runs
            registered.append(request.type)
        return real_register(self, request)

    monkeypatch.setattr(offline_engine.RecordingMonitor, "RegisterResource", counting_register)
    raw = raw_config_from_stack_file(project / "stacks" / "Pulumi.dev.yaml")
    config, secret_keys = config_for_pulumi(raw)
    with pytest.raises(pulumi.RunError) as caught:
        offline_engine.run_program(program_main, stack="dev", config=config, secret_keys=secret_keys)
    assert str(caught.value).splitlines() == plan_lines
    assert registered == []


def _dev_config() -> dict:
    return yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())["config"]


# One mutation of the dev stack per class of mistake the issue lists, and the key path
# its line must name.
BAD_INPUT_CLASSES = {
    "unknown key": ({"eksgitops:nodeGroup": []}, "eksgitops:nodeGroup: unknown key"),
    "missing required key": ({"eksgitops:region": None}, "eksgitops:region:"),
    "wrong type": ({"eksgitops:network": {"azCount": "two"}}, "eksgitops:network.azCount:"),
    "unsupported version": ({"eksgitops:kubernetesVersion": "1.19"}, "eksgitops:kubernetesVersion:"),
    "malformed CIDR": ({"eksgitops:network": {"vpcCidr": "10.0.0.300/16"}}, "eksgitops:network.vpcCidr:"),
    "overlapping CIDRs": (
        {"eksgitops:network": {"vpcCidr": "10.10.0.0/16", "serviceCidr": "10.10.128.0/20"}},
        "eksgitops:network.serviceCidr:",
    ),
    "VPC too small": ({"eksgitops:network": {"vpcCidr": "10.10.0.0/24"}}, "eksgitops:network"),
    "AZ count": ({"eksgitops:network": {"azCount": 1}}, "eksgitops:network.azCount:"),
    "both endpoints off": (
        {"eksgitops:endpoint": {"privateAccess": False, "publicAccess": False}},
        "eksgitops:endpoint",
    ),
    "sizes out of order": (
        {"eksgitops:nodeGroups": [{"name": "g", "minSize": 3, "desiredSize": 2, "maxSize": 1}]},
        "eksgitops:nodeGroups[0]",
    ),
    "empty instance types": (
        {"eksgitops:nodeGroups": [{"name": "g", "instanceTypes": []}]},
        "eksgitops:nodeGroups[0].instanceTypes:",
    ),
    "duplicate names": (
        {"eksgitops:nodeGroups": [{"name": "g"}, {"name": "g"}]},
        "eksgitops:nodeGroups: has two node groups named g",
    ),
    "not DNS-1123": ({"eksgitops:nodeGroups": [{"name": "Big_Group"}]}, "eksgitops:nodeGroups[0].name:"),
    "malformed role ARN": (
        {"eksgitops:access": {"entries": [{"principalArn": "arn:aws:iam::1:role/x"}]}},
        "eksgitops:access.entries[0].principalArn:",
    ),
    "malformed policy ARN": (
        {
            "eksgitops:identities": [
                {"name": "a", "namespace": "a", "serviceAccount": "a", "managedPolicyArns": ["AdminAccess"]}
            ]
        },
        "eksgitops:identities[0].managedPolicyArns[0]:",
    ),
    "malformed KMS ARN": ({"eksgitops:secretsKmsKeyArn": "alias/eks"}, "eksgitops:secretsKmsKeyArn:"),
    "malformed VPC id": (
        {"eksgitops:network": {"vpcId": "vpc-12", "privateSubnetIds": ["subnet-0123456789abcdef0"] * 2}},
        "eksgitops:network.vpcId:",
    ),
    "malformed subnet id": (
        {
            "eksgitops:network": {
                "vpcId": "vpc-0123456789abcdef0",
                "privateSubnetIds": ["subnet-1", "subnet-2"],
            }
        },
        "eksgitops:network.privateSubnetIds[0]:",
    ),
    "reserved tag prefix": ({"eksgitops:tags": {"AWS:team": "x"}}, "eksgitops:tags.AWS:team:"),
    "tag too long": ({"eksgitops:tags": {"k" * 129: "x"}}, "eksgitops:tags."),
    "repo URL scheme": (
        {"eksgitops:gitops": {"repoUrl": "ftp://example.com/fleet"}},
        "eksgitops:gitops.repoUrl:",
    ),
    "absolute repo path": ({"eksgitops:gitops": {"path": "/clusters/dev"}}, "eksgitops:gitops.path:"),
    "dot-dot repo path": ({"eksgitops:gitops": {"path": "clusters/../../x"}}, "eksgitops:gitops.path:"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT_CLASSES))
def test_each_class_of_mistake_names_its_key_and_exits_2(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    change, expected = BAD_INPUT_CLASSES[case]
    config = _dev_config()
    for key, value in change.items():
        if value is None:
            config.pop(key)
        else:
            config[key] = value
    project = _bad_project(tmp_path, config)
    result = _plan(["dev"], project, monkeypatch)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output + result.stderr
    lines = result.stderr.strip().splitlines()
    assert any(line.startswith(f"stacks/Pulumi.dev.yaml: {expected}") for line in lines), lines
    assert all(";" in line for line in lines), "every line says what is allowed"
    assert not (project / "build").exists()


def test_a_broken_project_file_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _bad_project(tmp_path, _dev_config())
    (project / "Pulumi.yaml").write_text("name: eksgitops\nconfig: [oops\n")
    result = _plan(["dev"], project, monkeypatch)
    assert result.exit_code == 2
    assert (
        result.stderr.strip()
        == "Pulumi.yaml:3: not valid YAML (expected ',' or ']', but got '<stream end>'); fix the syntax"
    )


def test_a_bad_flag_names_itself_and_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _plan(["dev", "--outdir", "x"], ROOT, monkeypatch)
    assert result.exit_code == 2
    assert "Error: No such option: --outdir" in result.stderr
    assert "Traceback" not in result.stderr


def test_out_pointing_at_a_file_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "build"
    target.write_text("not a folder")
    result = _plan(["dev", "--out", str(target)], ROOT, monkeypatch)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: --out: '{target}' is a file; a folder (or a path where one can be made)"
    )
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "dev").write_text("a file where the stack's folder goes")
    result = _plan(["dev", "--out", str(tmp_path / "out")], ROOT, monkeypatch)
    assert result.exit_code == 2 and "cannot write" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  eksgitops:tags: !!binary aGVsbG8=\n", "eksgitops:tags: has the YAML tag !!binary"),
        ("  eksgitops:tags: {team: a, team: b}\n", "eksgitops:tags.team: is set twice"),
        ("  eksgitop:clusterName: x\n", 'eksgitop:clusterName: is in namespace "eksgitop"'),
        ("  eksgitops:region: us-east-1\n", "eksgitops:region: is set twice"),
    ],
)
def test_the_reader_refuses_through_the_cli(
    text: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "stacks").mkdir()
    dev = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(
        dev.replace("  eksgitops:tags:", text + "  other:tags:")
    )
    result = _plan(["dev"], tmp_path, monkeypatch)
    assert result.exit_code == 2, result.output
    assert any(line.startswith(f"stacks/Pulumi.dev.yaml: {expected}") for line in result.stderr.splitlines())
    assert "TOKEN" not in result.output + result.stderr
    assert not (tmp_path / "build").exists()


def test_an_alias_bomb_is_refused_in_a_second(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    bomb = '  other:bomb:\n    - &l0 ["lol"]\n'
    for i in range(1, 9):
        bomb += f"    - &l{i} [" + ", ".join(f"*l{i - 1}" for _ in range(9)) + "]\n"
    (tmp_path / "stacks").mkdir()
    dev = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(dev + bomb + "  eksgitops:autoMode: *l8\n")
    start = time.monotonic()
    result = _plan(["dev"], tmp_path, monkeypatch)
    assert time.monotonic() - start < 5
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1].startswith("stacks/Pulumi.dev.yaml: eksgitops:autoMode:")


def test_a_token_in_the_repo_url_is_never_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "stacks").mkdir()
    dev = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
    for url in (
        "http://user:TOKEN@github.com/example/fleet.git",
        "ssh://git:TOKEN@github.com/example/fleet.git",
    ):
        text = dev.replace("https://github.com/example/fleet.git", url)
        (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(text)
        result = _plan(["dev"], tmp_path, monkeypatch)
        assert result.exit_code == 2
        assert "eksgitops:gitops.repoUrl:" in result.stderr
        assert "TOKEN" not in result.output + result.stderr


def test_iam_dates_unquoted_plan_as_strings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # YAML would read these as a date and a timestamp; IAM reads strings, and so do we.
    (tmp_path / "stacks").mkdir()
    dev = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
    dev = dev.replace('Version: "2012-10-17"', "Version: 2012-10-17").replace(
        "            Resource: arn:aws:route53:::hostedzone/Z0123456789EXAMPLE\n",
        "            Resource: arn:aws:route53:::hostedzone/Z0123456789EXAMPLE\n"
        "            Condition: {DateLessThan: {aws:CurrentTime: 2030-01-01T00:00:00Z}}\n",
    )
    assert "Version: 2012-10-17" in dev and "2030-01-01T00:00:00Z" in dev
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(dev)
    result = _plan(["dev", "--out", str(tmp_path / "build")], tmp_path, monkeypatch)
    assert result.exit_code == 0, result.output + result.stderr
    text = (tmp_path / "build" / "dev" / "resources.json").read_text()
    assert "2030-01-01T00:00:00Z" in text and "2012-10-17" in text
