"""Secrets in the spec: a field typed SecretValue is a credential; nowhere else takes a secret."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from pulumi.runtime import config as runtime_config

from components.spec import SpecError
from components.spec.base import SecretValue, SpecModel
from components.spec.errors import format_problems, validate
from components.spec.read import config_for_pulumi, credential_paths, raw_config_from_pulumi, spec_from_pulumi


class Source(SpecModel):
    """A stand-in for a section with a credential (the gitops section will have some)."""

    url: str = "https://example.com/x.git"
    token: SecretValue | None = None
    keys: list[SecretValue] = []


class Stack(SpecModel):
    gitops: Source = Source()
    tags: dict[str, str] = {}


def lines(data: dict[str, Any]) -> list[str]:
    model, problems = validate(Stack, data)
    assert model is None
    return format_problems(problems, "stacks/Pulumi.dev.yaml")


def test_credential_paths_come_from_the_types() -> None:
    assert credential_paths(Stack) == [("gitops", "token"), ("gitops", "keys", "*")]


def test_a_secret_at_a_credential_field_is_accepted_and_kept() -> None:
    model, problems = validate(
        Stack, {"gitops": {"token": SecretValue("s3cr3t"), "keys": [SecretValue("k")]}}
    )
    assert problems == [] and model is not None
    assert model.gitops.token == SecretValue("s3cr3t")
    assert model.gitops.token is not None and model.gitops.token.value == "s3cr3t"


def test_a_plain_credential_says_how_to_set_it() -> None:
    assert lines({"gitops": {"token": "s3cr3t", "keys": ["k"]}}) == [
        "stacks/Pulumi.dev.yaml: eksgitops:gitops.keys[0]: is a plain value, but it holds a credential; "
        "set it as a secret: pulumi config set --secret --path 'eksgitops:gitops.keys[0]' <value>",
        "stacks/Pulumi.dev.yaml: eksgitops:gitops.token: is a plain value, but it holds a credential; "
        "set it as a secret: pulumi config set --secret --path 'eksgitops:gitops.token' <value>",
    ]


def test_a_secret_elsewhere_is_refused_without_its_value() -> None:
    found = lines({"gitops": {"url": SecretValue("hunter2")}, "tags": {"a": SecretValue("hunter2")}})
    assert len(found) == 2
    assert all("is a Pulumi secret (secure:), but this key holds no credentials" in line for line in found)
    assert "hunter2" not in "".join(found)


@pytest.fixture
def pulumi_config() -> Any:
    token = runtime_config.CONFIG.set({})
    pulumi.runtime.settings._set_project("eksgitops")
    yield
    runtime_config.CONFIG.reset(token)
    pulumi.runtime.set_all_config({}, [])


def test_pulumi_up_hands_plaintext_json_and_only_credential_leaves_become_secrets(
    pulumi_config: None,
) -> None:
    # What `pulumi up` passes for a structured key holding a secret: JSON with the
    # plaintext, and the key listed as secret.
    value = {"url": "https://example.com/x.git", "token": "s3cr3t", "keys": ["k1"]}
    pulumi.runtime.set_all_config({"eksgitops:gitops": json.dumps(value)}, ["eksgitops:gitops"])
    raw = raw_config_from_pulumi(Stack)
    assert raw["gitops"]["url"] == "https://example.com/x.git"
    assert raw["gitops"]["token"] == SecretValue("s3cr3t")
    assert raw["gitops"]["keys"] == [SecretValue("k1")]
    model, problems = validate(Stack, raw)
    assert problems == [] and model is not None and model.gitops.token == SecretValue("s3cr3t")


def test_offline_round_trip_keeps_secrets_marked(pulumi_config: None) -> None:
    raw = {"gitops": {"token": SecretValue("AAAB-ciphertext")}}
    config, secret_keys = config_for_pulumi(raw)
    assert secret_keys == ["eksgitops:gitops"] and "AAAB" not in json.dumps(config)
    pulumi.runtime.set_all_config(config, secret_keys)
    assert raw_config_from_pulumi(Stack)["gitops"]["token"] == SecretValue("[secret]")


def test_a_secret_key_without_credential_fields_is_passed_as_is(pulumi_config: None) -> None:
    pulumi.runtime.set_all_config({"eksgitops:tags": '{"a": "b"}'}, ["eksgitops:tags"])
    assert raw_config_from_pulumi(Stack)["tags"] == {"a": "b"}  # no credential path: left as is


def test_plaintext_of_a_secret_key_never_reaches_a_message(pulumi_config: None) -> None:
    # Under `pulumi up` a secret structured key arrives as plaintext JSON; a mistake in it
    # must not print what was secret, even where no credential field is.
    pulumi.runtime.settings._set_stack("dev")
    pulumi.runtime.set_all_config(
        {
            "eksgitops:region": "eu-west-1",
            "eksgitops:gitops": json.dumps({"repoUrl": "ftp://hunter2.example.com/fleet.git"}),
            "eksgitops:clusterName": "Hunter3_cluster",
        },
        ["eksgitops:gitops", "eksgitops:clusterName"],
    )
    with pytest.raises(SpecError) as info:
        spec_from_pulumi()
    text = "\n".join(info.value.lines)
    assert 'eksgitops:gitops.repoUrl: the string "[secret]" is neither' in text
    assert "eksgitops:clusterName: is a Pulumi secret" in text
    assert "hunter2" not in text and "Hunter3" not in text
