"""The strict stack-file reader: every YAML oddity of issue 6 is one line naming file and key."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from components.spec import SpecError, load_spec
from components.spec.base import SecretValue
from components.spec.read import raw_config_from_stack_file, stack_config

ROOT = Path(__file__).resolve().parents[3]
HEAD = "config:\n  eksgitops:region: eu-west-1\n"


def read(tmp_path: Path, text: str | bytes) -> dict[str, Any]:
    path = tmp_path / "Pulumi.test.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return raw_config_from_stack_file(path)


def refused(tmp_path: Path, text: str | bytes) -> list[str]:
    with pytest.raises(SpecError) as info:
        read(tmp_path, text)
    lines = info.value.lines
    for line in lines:
        assert line.startswith(str(tmp_path / "Pulumi.test.yaml")), line
        assert "; " in line and "\n" not in line, line
    return lines


def one_line(tmp_path: Path, text: str | bytes, key: str, phrase: str) -> str:
    lines = refused(tmp_path, text)
    assert len(lines) == 1, lines
    assert f": {key}: " in lines[0] or f":{key}" in lines[0], lines
    assert phrase in lines[0], lines
    return lines[0]


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        ("!Ref Something", "!Ref"),
        ("!!int two", "!!int"),
        ("!!binary aGVsbG8=", "!!binary"),
        ("!!python/object:os.system x", "!!python/object:os.system"),
        ("!!set {a: null}", "!!set"),
    ],
)
def test_tags_are_refused_at_their_key(tmp_path: Path, value: str, tag: str) -> None:
    line = one_line(tmp_path, HEAD + f"  eksgitops:tags:\n    team: {value}\n", "eksgitops:tags.team", tag)
    assert "is set" not in line  # the old "!!set reads 'is set'" message


def test_tag_on_a_top_level_scalar(tmp_path: Path) -> None:
    one_line(tmp_path, HEAD + "  eksgitops:clusterName: !Ref Name\n", "eksgitops:clusterName", "!Ref")


def test_explicit_str_is_a_plain_string(tmp_path: Path) -> None:
    assert read(tmp_path, HEAD + "  eksgitops:tags:\n    cost-center: !!str 1001\n")["tags"] == {
        "cost-center": "1001"
    }


@pytest.mark.parametrize(
    ("labels", "phrase"),
    [("{1: x}", "key 1, which YAML reads as a number"), ("{~: x}", "key ~"), ("{true: x}", "a boolean")],
)
def test_non_string_keys(tmp_path: Path, labels: str, phrase: str) -> None:
    text = HEAD + f"  eksgitops:nodeGroups:\n    - name: g\n      labels: {labels}\n"
    one_line(tmp_path, text, "eksgitops:nodeGroups[0].labels", phrase)


def test_complex_key(tmp_path: Path) -> None:
    one_line(
        tmp_path, HEAD + "  eksgitops:tags:\n    ? [a, b]\n    : x\n", "eksgitops:tags", "a list as a key"
    )


def test_self_referencing_alias(tmp_path: Path) -> None:
    one_line(tmp_path, HEAD + "  eksgitops:tags: &a\n    x: *a\n", "eksgitops:tags.x", "contains itself")


def test_alias_bomb_fails_fast(tmp_path: Path) -> None:
    # 9 levels of 9 aliases each: 9^8 leaves if expanded.
    text = HEAD + '  other:bomb:\n    - &l0 ["lol"]\n'
    for i in range(1, 9):
        text += f"    - &l{i} [" + ", ".join(f"*l{i - 1}" for _ in range(9)) + "]\n"
    text += "  eksgitops:tags: *l8\n"
    start = time.monotonic()
    line = one_line(tmp_path, text, "eksgitops:tags", "expands to more than")
    assert time.monotonic() - start < 5
    assert "aliases" in line


def test_duplicate_keys_at_any_depth(tmp_path: Path) -> None:
    text = HEAD + "  eksgitops:network:\n    azCount: 2\n    azCount: 3\n"
    one_line(tmp_path, text, "eksgitops:network.azCount", "is set twice (lines 4 and 5)")
    text = HEAD + "  eksgitops:nodeGroups:\n    - name: a\n      labels: {k: x, k: y}\n"
    one_line(tmp_path, text, "eksgitops:nodeGroups[0].labels.k", "twice")
    one_line(tmp_path, HEAD + "  eksgitops:region: us-east-1\n", "eksgitops:region", "twice")
    one_line(tmp_path, HEAD + "  region: eu-west-1\n", "eksgitops:region", "twice")


def test_a_second_config_is_refused(tmp_path: Path) -> None:
    one_line(tmp_path, HEAD + "config:\n  eksgitops:clusterName: x\n", "config", "twice")


@pytest.mark.parametrize("namespace", ["eksgitop", "eks_gitops", "EKSGITOPS", "eks-gitops"])
def test_near_miss_namespaces(tmp_path: Path, namespace: str) -> None:
    line = one_line(
        tmp_path, HEAD + f"  {namespace}:clusterName: x\n", f"{namespace}:clusterName", "no program"
    )
    assert 'did you mean "eksgitops:clusterName"?' in line


def test_other_namespaces_are_left_to_their_programs(tmp_path: Path) -> None:
    raw = read(tmp_path, HEAD + "  aws:region: eu-west-1\n  kubernetes:context: x\n")
    assert raw == {"region": "eu-west-1"}


def test_keys_outside_config(tmp_path: Path) -> None:
    one_line(tmp_path, HEAD + "eksgitops:clusterName: x\n", "eksgitops:clusterName", "outside config:")
    one_line(tmp_path, "confg:\n  eksgitops:region: eu-west-1\n", "confg", 'did you mean "config"?')
    assert read(tmp_path, HEAD + "secretsprovider: passphrase\nencryptionsalt: v1:x\n") == {
        "region": "eu-west-1"
    }


def test_aws_region_must_match(tmp_path: Path) -> None:
    one_line(tmp_path, HEAD + "  aws:region: us-east-1\n", "eksgitops:region", 'aws:region is "us-east-1"')


def test_non_utf8_files(tmp_path: Path) -> None:
    one_line(tmp_path, (HEAD + "# caf\xe9\n").encode("latin-1"), "3", "not UTF-8")
    lines = refused(tmp_path, (HEAD + "# café\n").encode("utf-16"))
    assert "UTF-16" in lines[0]


def test_dates_stay_strings_so_iam_versions_and_conditions_work(tmp_path: Path) -> None:
    text = HEAD + (
        "  eksgitops:identities:\n"
        "    - {name: a, namespace: a, serviceAccount: a, policy: {Version: 2012-10-17, Statement: [\n"
        "        {Effect: Allow, Action: s3:GetObject, Resource: '*',\n"
        '         Condition: {DateLessThan: {"aws:CurrentTime": 2030-01-01T00:00:00Z}}}]}}\n'
    )
    raw = read(tmp_path, text)
    policy = raw["identities"][0]["policy"]
    assert policy["Version"] == "2012-10-17"
    assert policy["Statement"][0]["Condition"]["DateLessThan"]["aws:CurrentTime"] == "2030-01-01T00:00:00Z"
    admin = {"entries": [{"principalArn": "arn:aws:iam::111122223333:role/a"}]}
    gitops = {"repoUrl": "https://github.com/example/fleet.git"}
    spec = load_spec(
        {**raw, "nodeGroups": [{"name": "g"}], "access": admin, "gitops": gitops}, stack="t", source="s"
    )
    assert spec.identities[0].policy == policy


def test_yaml_1_2_scalars_like_pulumi(tmp_path: Path) -> None:
    raw = read(
        tmp_path, HEAD + "  eksgitops:tags:\n    a: yes\n    b: on\n    c: 0x1F\n    d: 1.5\n    e: ~\n"
    )
    assert raw["tags"] == {"a": "yes", "b": "on", "c": 31, "d": 1.5, "e": None}
    one_line(tmp_path, HEAD + "  eksgitops:tags:\n    a: .inf\n", "eksgitops:tags.a", "JSON")


def test_secure_values_and_merge_keys(tmp_path: Path) -> None:
    raw = read(tmp_path, HEAD + "  eksgitops:tags:\n    t:\n      secure: AAAB\n")
    assert isinstance(raw["tags"]["t"], SecretValue)
    one_line(tmp_path, HEAD + "  eksgitops:tags:\n    t:\n      secure: [1]\n", "eksgitops:tags.t.secure", "")
    text = HEAD + "  x: &d {a: b}\n  eksgitops:tags:\n    <<: *d\n"
    one_line(tmp_path, text, "eksgitops:tags", "merge key")


def test_deep_nesting_is_one_line(tmp_path: Path) -> None:
    lines = refused(tmp_path, HEAD + "  eksgitops:tags: " + "[" * 5000 + "]" * 5000 + "\n")
    assert len(lines) == 1


def test_stack_config_lays_the_stack_file_over_the_project_defaults(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text(
        "name: eksgitops\nruntime: python\nconfig:\n"
        "  eksgitops:tags:\n    default: {team: platform}\n"
        "  eksgitops:clusterName:\n    default: ''\n"
    )
    stack = tmp_path / "Pulumi.test.yaml"
    stack.write_text(HEAD + "  eksgitops:clusterName: mine\n")
    assert stack_config(stack, tmp_path / "Pulumi.yaml") == {
        "tags": {"team": "platform"},
        "clusterName": "mine",
        "region": "eu-west-1",
    }
    # Without a Pulumi.yaml there are no defaults, as for a program of a user's own.
    assert stack_config(stack, tmp_path / "missing.yaml") == {"region": "eu-west-1", "clusterName": "mine"}


def test_stack_config_names_the_project_file_when_it_is_wrong(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: eksgitops\nconfig: [1, 2]\n")
    stack = tmp_path / "Pulumi.test.yaml"
    stack.write_text(HEAD)
    with pytest.raises(SpecError) as info:
        stack_config(stack, tmp_path / "Pulumi.yaml")
    assert info.value.lines == [
        f"{tmp_path / 'Pulumi.yaml'}: config: is not a mapping; a mapping of <namespace>:<key> declarations"
    ]


# --- explicit tags, look-alike namespaces, line separators and deep nesting ----------------


@pytest.mark.parametrize(
    ("value", "tag"),
    [("!!timestamp 2024-01-01", "!!timestamp"), ("!!int 3", "!!int"), ("!!bool true", "!!bool")],
)
def test_an_explicit_tag_on_a_scalar_is_refused(tmp_path: Path, value: str, tag: str) -> None:
    one_line(
        tmp_path,
        HEAD + f"  eksgitops:tags:\n    born: {value}\n",
        "eksgitops:tags.born",
        f"has the YAML tag {tag}",
    )
    one_line(
        tmp_path,
        HEAD + f"  eksgitops:clusterName: {value}\n",
        "eksgitops:clusterName",
        f"has the YAML tag {tag}",
    )


def test_str_tags_and_plain_dates_stay_strings(tmp_path: Path) -> None:
    raw = read(tmp_path, HEAD + "  eksgitops:tags:\n    born: 2024-01-01\n    n: !!str 3\n")
    assert raw["tags"] == {"born": "2024-01-01", "n": "3"}


@pytest.mark.parametrize(
    "namespace",
    ["eksg\u0456tops", "\uff45\uff4b\uff53\uff47\uff49\uff54\uff4f\uff50\uff53", "\u0435ksgitops"],
)
def test_a_look_alike_namespace_is_refused(tmp_path: Path, namespace: str) -> None:
    line = one_line(
        tmp_path,
        HEAD + f"  {namespace}:tags:\n    team: a\n",
        f"{namespace}:tags",
        "no Pulumi project name has",
    )
    assert 'did you mean "eksgitops:tags"?' in line


def test_other_ascii_namespaces_are_left_to_their_programs(tmp_path: Path) -> None:
    assert read(tmp_path, HEAD + "  kubernetes:context: x\n") == {"region": "eu-west-1"}


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\u0085"])
def test_a_line_separator_in_a_value_reaches_the_spec_as_itself(tmp_path: Path, char: str) -> None:
    raw = read(tmp_path, HEAD + f'  eksgitops:tags:\n    team: "a{char}b"\n')
    assert raw["tags"] == {"team": f"a{char}b"}
    source = str(tmp_path / "Pulumi.test.yaml")
    with pytest.raises(SpecError) as info:
        load_spec({**raw, "nodeGroups": [{"name": "g"}]}, stack="test", source=source)
    assert any(
        f"eksgitops:tags.team: value has characters AWS refuses (U+{ord(char):04X}" in line
        for line in info.value.lines
    )


def test_deep_nesting_names_the_key_where_it_happens(tmp_path: Path) -> None:
    deep = "[" * 40 + "]" * 40
    text = HEAD + "  eksgitops:identities:\n    - name: a\n      policy:\n        Statement:\n"
    text += f"          - Condition:\n              StringEquals:\n                k: {deep}\n"
    line = one_line(
        tmp_path, text, "eksgitops:identities[0].policy.Statement[0].Condition.StringEquals.k", "nests more"
    )
    assert "(line 9)" in line
    read(tmp_path, HEAD + "  eksgitops:tags:\n    team: " + "[" * 20 + "]" * 20 + "\n")
