"""`eksgitops plan` refuses, with exit 2 and one line naming the file and the key, what AWS,
EKS, IAM, git or Flux would refuse minutes into a `pulumi up`: one case (or a few) per class
of mistake the third round of stack-file fuzzing found, and the dev stack with the nearest
valid values of each class still plans."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from eksgitops.cli import app

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT / "stacks" / "Pulumi.dev.yaml"
SRC = "stacks/Pulumi.dev.yaml"
ACCOUNT = "111122223333"
Config = dict[str, Any]


def _dev() -> Config:
    return yaml.safe_load(DEV.read_text())["config"]


def _group(config: Config, **change: Any) -> Config:
    config["eksgitops:nodeGroups"][0].update(change)
    return config


def _statement(config: Config, **change: Any) -> Config:
    config["eksgitops:identities"][0]["policy"]["Statement"][0].update(change)
    return config


def _with(key: str, value: Any) -> Callable[[Config], Config]:
    def change(config: Config) -> Config:
        config[f"eksgitops:{key}"] = value
        return config

    return change


def _regions(region: str) -> Callable[[Config], Config]:
    def change(config: Config) -> Config:
        config["aws:region"] = config["eksgitops:region"] = region
        return config

    return change


def _entry(config: Config, **entry: Any) -> Config:
    config["eksgitops:access"]["entries"].append(entry)
    return config


# class -> (change of the dev config, the key its line names, words the line holds)
CASES: dict[str, tuple[Callable[[Config], Config], str, str]] = {
    "1 unknown instance type": (
        lambda c: _group(c, instanceTypes=["m6i.huge"]),
        "nodeGroups[0].instanceTypes[0]",
        '"m6i.huge" is not an EC2 instance type; sizes of m6i: m6i.large',
    ),
    "1 typo of a type": (
        lambda c: _group(c, instanceTypes=["m6i.larg"]),
        "nodeGroups[0].instanceTypes[0]",
        "is not an EC2 instance type",
    ),
    "1 Graviton type on an x86 AMI": (
        lambda c: _group(c, instanceTypes=["m7g.large"]),
        "nodeGroups[0].instanceTypes[0]",
        "m7g.large is arm64 but amiType AL2023_x86_64_STANDARD is x86_64",
    ),
    "1 mac on a node group": (
        lambda c: _group(c, instanceTypes=["mac2.metal"]),
        "nodeGroups[0].instanceTypes[0]",
        "Mac instance",
    ),
    "2 reserved label prefix": (
        lambda c: _group(c, labels={"node-role.kubernetes.io/worker": "true"}),
        "nodeGroups[0].labels.node-role.kubernetes.io/worker",
        "which Kubernetes reserves and EKS refuses",
    ),
    "2 label key over EKS's 63": (
        lambda c: _group(c, labels={"example.com/" + "a" * 60: "x"}),
        "nodeGroups[0].labels.example.com/",
        "at most 63 characters, prefix included (EKS)",
    ),
    "2 more than 50 taints": (
        lambda c: _group(c, taints=[{"key": f"t{i}"} for i in range(51)]),
        "nodeGroups[0].taints",
        "has 51 taints; at most 50",
    ),
    "2 taint twice": (
        lambda c: _group(c, taints=[{"key": "gpu"}, {"key": "gpu", "value": "x"}]),
        "nodeGroups[0].taints",
        "has two taints gpu:NO_SCHEDULE",
    ),
    "2 node group name too long": (
        lambda c: _group(c, name="g" * 37),
        "nodeGroups[0].name",
        "at most 36 characters",
    ),
    "3 not an access policy": (
        lambda c: _entry(
            c,
            principalArn=f"arn:aws:iam::{ACCOUNT}:role/viewer",
            policy="arn:aws:eks::aws:cluster-access-policy/AmazonEKSMadeUpPolicy",
        ),
        "access.entries[2].policy",
        "is not an EKS access policy",
    ),
    "3 access policy of another partition": (
        lambda c: _entry(
            c,
            principalArn=f"arn:aws:iam::{ACCOUNT}:role/viewer",
            policy="arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
        ),
        "access.entries[2].policy",
        "is in partition aws-cn, but region eu-west-1 is in aws",
    ),
    "3 one principal twice by case": (
        lambda c: _entry(c, principalArn=f"arn:aws:iam::{ACCOUNT}:role/Platform-Admin"),
        "access.entries",
        "(IAM names ignore case)",
    ),
    "4 Sid not alphanumeric": (
        lambda c: _statement(c, Sid="allow-dns"),
        "identities[0].policy.Statement[0].Sid",
        "ASCII letters and digits only",
    ),
    "4 NullIfExists": (
        lambda c: _statement(c, Condition={"NullIfExists": {"aws:TagKeys": "true"}}),
        "identities[0].policy.Statement[0].Condition.NullIfExists",
        "is not an IAM condition operator",
    ),
    "4 Action with NotAction": (
        lambda c: _statement(c, NotAction="s3:*"),
        "identities[0].policy.Statement[0].NotAction",
        "either Action or NotAction, not both",
    ),
    "4 resource in aws-us-gov": (
        lambda c: _statement(c, Resource="arn:aws-us-gov:route53:::hostedzone/Z1"),
        "identities[0].policy.Statement[0].Resource",
        "is in partition aws-us-gov",
    ),
    "4 more than 20 managed policies": (
        lambda c: (
            c["eksgitops:identities"][1].update(
                managedPolicyArns=[f"arn:aws:iam::{ACCOUNT}:policy/p{i}" for i in range(21)]
            )
            or c
        ),
        "identities[1].managedPolicyArns",
        "lists 21 policies; at most 20",
    ),
    "5 region AWS has not opened": (_regions("eu-west-9"), "region", "is not a region AWS has opened"),
    "5 region of no partition": (_regions("mars-1"), "region", "is not an AWS region name"),
    "5 escrow replica in another partition": (
        _with("escrow", {"enabled": True, "secretReplicaRegions": ["cn-north-1"]}),
        "escrow.secretReplicaRegions[0]",
        "is in partition aws-cn",
    ),
    "6 branch HEAD": (
        _with("gitops", {"repoUrl": "https://github.com/example/fleet.git", "branch": "HEAD"}),
        "gitops.branch",
        "is not a valid Git branch name",
    ),
    "6 path with a newline": (
        _with("gitops", {"repoUrl": "https://github.com/example/fleet.git", "path": "clusters/dev\n"}),
        "gitops.path",
        "holds the character U+000A",
    ),
    "6 interval beyond a Go duration": (
        _with("gitops", {"repoUrl": "https://github.com/example/fleet.git", "interval": "2562048h"}),
        "gitops.interval",
        "longer than a Go duration can be",
    ),
    "7 41 public CIDRs with the NAT /32": (
        _with(
            "endpoint",
            {
                "privateAccess": False,
                "publicAccess": True,
                "publicAccessCidrs": [f"198.51.100.{i}/32" for i in range(40)],
            },
        ),
        "endpoint.publicAccessCidrs",
        "lists 40 CIDRs and the 1 NAT /32s the components add: 41 in all; at most 40",
    ),
    "8 identity takes the EBS driver's service account": (
        lambda c: (
            c["eksgitops:identities"][1].update(
                namespace="kube-system", serviceAccount="ebs-csi-controller-sa"
            )
            or c
        ),
        "identities[1].serviceAccount",
        "is already bound by the platform (the aws-ebs-csi-driver add-on)",
    ),
    "9 tag keys that differ by case": (
        _with("tags", {"team": "platform", "Team": "x"}),
        "tags.team",
        'differs from the key "Team" only by case',  # the file lists Team first (sorted)
    ),
    "9 waiver reason of zero-width spaces": (
        _with("policy", {"waivers": [{"rule": "EKS-ENDPOINT", "reason": "\u200b\u200b"}]}),
        "policy.waivers[0].reason",
        "has no letter or digit",
    ),
    "C repoUrl like an option": (
        _with("gitops", {"repoUrl": "-oProxyCommand=touch@x:/tmp/y"}),
        "gitops.repoUrl",
        "starts like a command-line option",
    ),
}

# Mistakes that only the file's text can carry: (text to put in place of dev's tags, key, words).
TEXT_CASES: dict[str, tuple[str, str, str]] = {
    "9 look-alike namespace": (
        "  eksg\u0456tops:tags:\n    team: platform\n",
        "eksg\u0456tops:tags",
        "U+0456 (CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I) no Pulumi project name has, "
        'did you mean "eksgitops:tags"?',
    ),
    "10 LINE SEPARATOR in a value": (
        '  eksgitops:tags:\n    team: "plat\u2028form"\n',
        "eksgitops:tags.team",
        "U+2028 (LINE SEPARATOR)",
    ),
    "10 deep nesting names its key": (
        "  eksgitops:tags:\n    team: " + "[" * 40 + "]" * 40 + "\n",
        "eksgitops:tags.team",
        "nests more than 32 lists or mappings deep",
    ),
    "timestamp tag": (
        "  eksgitops:tags:\n    born: !!timestamp 2024-01-01\n",
        "eksgitops:tags.born",
        "has the YAML tag !!timestamp",
    ),
}


def _plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str):
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(text)
    monkeypatch.chdir(tmp_path)
    for var in ("KUBECONFIG", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(var, raising=False)
    return CliRunner().invoke(app, ["plan", "dev"])


def _refused(result: Any, key: str, words: str, project: Path) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output + result.stderr
    lines = result.stderr.strip().splitlines()
    line = next((li for li in lines if li.startswith(f"{SRC}: {key}")), None)
    assert line is not None, lines
    assert words in line and "; " in line, line
    assert not (project / "build").exists()


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_class_is_refused_by_the_plan(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    change, key, words = CASES[case]
    config = change(copy.deepcopy(_dev()))
    result = _plan(tmp_path, monkeypatch, yaml.safe_dump({"config": config}, allow_unicode=True))
    _refused(result, key if key.startswith(("aws:", "eksg")) else f"eksgitops:{key}", words, tmp_path)


@pytest.mark.parametrize("case", sorted(TEXT_CASES))
def test_each_text_class_is_refused_by_the_plan(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text, key, words = TEXT_CASES[case]
    dev = DEV.read_text()
    tags = dev.index("  eksgitops:tags:")
    result = _plan(tmp_path, monkeypatch, dev[:tags] + text)
    _refused(result, key, words, tmp_path)


def test_the_nearest_valid_values_of_each_class_still_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _dev()
    _group(
        config,
        name="g" * 36,
        instanceTypes=["m7i-flex.large", "m6i.large"],
        labels={"example.com/" + "a" * 51: "x", "topology.example.com/zone": "a"},
        taints=[{"key": f"t{i}"} for i in range(49)] + [{"key": "t0", "effect": "NO_EXECUTE"}],
    )
    config["eksgitops:nodeGroups"].append(
        {"name": "arm", "instanceTypes": ["m7g.large", "c8g.large"], "amiType": "AL2023_ARM_64_STANDARD"}
    )
    _entry(
        config,
        principalArn=f"arn:aws:iam::{ACCOUNT}:role/viewer",
        policy="arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
    )
    _statement(
        config,
        Sid="AllowDns1",
        Condition={"ForAnyValue:StringLikeIfExists": {"aws:TagKeys": "a*"}, "Null": {"aws:TagKeys": "false"}},
    )
    config["eksgitops:identities"][1]["managedPolicyArns"] = [
        f"arn:aws:iam::{ACCOUNT}:policy/p{i}" for i in range(20)
    ]
    config["eksgitops:endpoint"]["publicAccessCidrs"] = [f"198.51.100.{i}/32" for i in range(40)]
    config["eksgitops:gitops"].update(branch="release/1.2", interval="2562047h47m16s")
    config["eksgitops:tags"] = {"team": "platform", "owner": "Platform"}
    config["eksgitops:policy"] = {
        "waivers": [{"rule": "EKS-ENDPOINT", "reason": "Office range for \u00e9quipe"}]
    }
    result = _plan(tmp_path, monkeypatch, yaml.safe_dump({"config": config}, allow_unicode=True))
    assert result.exit_code == 0, result.output + result.stderr
