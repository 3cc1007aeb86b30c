"""The `gitops` section: defaults, credentials only as secrets, and one line per mismatch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.spec import SpecError, load_spec
from components.spec.base import SecretValue
from components.spec.gitops import ARGOCD_CHART_VERSION, FLUX_OPERATOR_CHART_VERSION, FLUX_VERSION
from components.spec.read import raw_config_from_pulumi, raw_config_from_stack_file
from tests.gitops_support import (
    FLEET_HTTPS,
    FLEET_OCI,
    FLEET_SSH,
    IDC_INSTANCE,
    KNOWN_HOSTS,
    SOURCE,
    raw_config,
    spec_for,
)

PREFIX = f"{SOURCE}: eksgitops:"
SSH_CREDS = {"type": "ssh", "privateKey": SecretValue("KEY"), "knownHosts": KNOWN_HOSTS}
HTTPS_CREDS = {"type": "https", "token": SecretValue("TOKEN")}
APP_CREDS = {"type": "github-app", "appId": 1234, "installationId": 5678, "privateKey": SecretValue("PEM")}


def errors(gitops: dict[str, Any]) -> list[str]:
    with pytest.raises(SpecError) as caught:
        spec_for(gitops)
    return caught.value.lines


def one_error(gitops: dict[str, Any], path: str, fragment: str) -> str:
    lines = errors(gitops)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{PREFIX}{path}: "), lines[0]
    assert fragment in lines[0], lines[0]
    assert "; " in lines[0]
    return lines[0]


def test_defaults_are_flux_from_git_with_pinned_versions() -> None:
    gitops = spec_for({"repoUrl": FLEET_HTTPS}).gitops
    assert (gitops.agent, gitops.source, gitops.branch, gitops.path) == ("flux", "git", "main", "clusters/qa")
    assert gitops.credentials is None and gitops.interval == "1m"
    assert (gitops.versions.flux_operator, gitops.versions.flux, gitops.versions.argocd_chart) == (
        FLUX_OPERATOR_CHART_VERSION,
        FLUX_VERSION,
        ARGOCD_CHART_VERSION,
    )
    # The versions of the shared CRDs (crds/SOURCES.md).
    assert (FLUX_OPERATOR_CHART_VERSION, FLUX_VERSION, ARGOCD_CHART_VERSION) == ("0.58.1", "2.9.4", "10.1.1")
    assert not (gitops.webhook_receiver or gitops.image_automation or gitops.sops.enabled)
    assert gitops.cross_namespace_refs is False


@pytest.mark.parametrize(
    "gitops",
    [
        {"repoUrl": FLEET_SSH, "credentials": SSH_CREDS},
        {"repoUrl": "ssh://git@gitlab.example.com:2222/platform/fleet.git", "credentials": SSH_CREDS},
        {"repoUrl": FLEET_HTTPS, "credentials": HTTPS_CREDS},
        {
            "repoUrl": "https://gitlab.com/acme/fleet.git",
            "credentials": {**HTTPS_CREDS, "username": "oauth2"},
        },
        {"repoUrl": FLEET_HTTPS, "credentials": APP_CREDS},
        {"repoUrl": FLEET_HTTPS, "credentials": {**HTTPS_CREDS, "readOnly": False}, "imageAutomation": True},
        {"repoUrl": FLEET_OCI, "source": "oci", "ociTag": "main"},
        {"repoUrl": FLEET_HTTPS, "webhookReceiver": True, "webhookToken": SecretValue("HMAC")},
        {"repoUrl": FLEET_HTTPS, "sops": {"enabled": True}},
        {
            "repoUrl": FLEET_HTTPS,
            "sops": {
                "enabled": True,
                "kmsKeyArn": "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            },
        },
        {"repoUrl": FLEET_HTTPS, "notifications": {"type": "msteams", "address": SecretValue("https://x")}},
        {"repoUrl": FLEET_HTTPS, "interval": "1h30m", "crossNamespaceRefs": True, "artifactGenerators": True},
        {"agent": "argocd", "repoUrl": FLEET_SSH, "credentials": SSH_CREDS},
        {
            "agent": "argocd",
            "repoUrl": FLEET_HTTPS,
            "argocdSso": {
                "issuer": "https://idp.example.com",
                "clientId": "argocd",
                "clientSecret": SecretValue("S"),
            },
        },
        {
            "agent": "eks-argocd",
            "repoUrl": FLEET_HTTPS,
            "eksArgocd": {"identityCenterInstanceArn": IDC_INSTANCE},
        },
        {"agent": "none"},
    ],
)
def test_consistent_sections_pass(gitops: dict[str, Any]) -> None:
    assert spec_for(gitops).gitops.agent == gitops.get("agent", "flux")


@pytest.mark.parametrize(
    ("gitops", "path", "fragment"),
    [
        (
            {"repoUrl": FLEET_HTTPS, "credentials": SSH_CREDS},
            "gitops.credentials.type",
            "ssh credentials with",
        ),
        (
            {"repoUrl": FLEET_SSH, "credentials": HTTPS_CREDS},
            "gitops.credentials.type",
            "https credentials with",
        ),
        (
            {"repoUrl": FLEET_SSH, "credentials": APP_CREDS},
            "gitops.credentials.type",
            "github-app credentials",
        ),
        (
            {"repoUrl": "https://gitlab.com/acme/fleet.git", "credentials": APP_CREDS},
            "gitops.credentials.type",
            "repository on gitlab.com",
        ),
        (
            {"repoUrl": FLEET_SSH, "credentials": {"type": "ssh", "privateKey": SecretValue("K")}},
            "gitops.credentials.knownHosts",
            "is required with type ssh",
        ),
        (
            {"repoUrl": FLEET_HTTPS, "credentials": {"type": "https"}},
            "gitops.credentials.token",
            "is required with type https",
        ),
        (
            {"repoUrl": FLEET_HTTPS, "credentials": {**HTTPS_CREDS, "appId": 3}},
            "gitops.credentials.appId",
            "does not belong to type https",
        ),
        (
            {"repoUrl": FLEET_HTTPS, "credentials": HTTPS_CREDS, "imageAutomation": True},
            "gitops.imageAutomation",
            "read-only",
        ),
        ({"repoUrl": FLEET_HTTPS, "imageAutomation": True}, "gitops.imageAutomation", "no credentials"),
        (
            {"repoUrl": FLEET_HTTPS, "credentials": {**HTTPS_CREDS, "readOnly": False}},
            "gitops.credentials.readOnly",
            "image automation is off",
        ),
        ({"agent": "argocd", "repoUrl": FLEET_OCI, "source": "oci"}, "gitops.source", "Flux only"),
        ({"agent": "eks-argocd", "repoUrl": FLEET_OCI, "source": "oci"}, "gitops.source", "Flux only"),
        (
            {"repoUrl": "https://bot:ghp_secret@github.com/example/fleet.git"},
            "gitops.repoUrl",
            "carries credentials in the URL",
        ),
        ({"repoUrl": "ssh://git:pw@github.com/example/fleet.git"}, "gitops.repoUrl", "carries credentials"),
        ({}, "gitops.repoUrl", "is required with agent flux"),
        ({"agent": "argocd"}, "gitops.repoUrl", "is required with agent argocd"),
        ({"repoUrl": FLEET_SSH}, "gitops.repoUrl", "there are no credentials"),
        ({"repoUrl": FLEET_HTTPS, "source": "oci"}, "gitops.repoUrl", "not an ECR OCI address"),
        ({"repoUrl": FLEET_OCI}, "gitops.repoUrl", "source is git"),
        (
            {"repoUrl": FLEET_OCI, "source": "oci", "credentials": HTTPS_CREDS},
            "gitops.credentials",
            "source oci",
        ),
        ({"repoUrl": FLEET_HTTPS, "webhookReceiver": True}, "gitops.webhookToken", "is required"),
        (
            {"repoUrl": FLEET_HTTPS, "webhookToken": SecretValue("T")},
            "gitops.webhookToken",
            "webhookReceiver is off",
        ),
        (
            {"agent": "eks-argocd", "repoUrl": FLEET_HTTPS},
            "gitops.eksArgocd.identityCenterInstanceArn",
            "required",
        ),
        (
            {"agent": "argocd", "repoUrl": FLEET_HTTPS, "sops": {"enabled": True}},
            "gitops.sops",
            "Flux feature",
        ),
        (
            {
                "agent": "argocd",
                "repoUrl": FLEET_HTTPS,
                "webhookReceiver": True,
                "webhookToken": SecretValue("T"),
            },
            "gitops.webhookReceiver",
            "Flux feature",
        ),
        ({"agent": "none", "repoUrl": FLEET_HTTPS}, "gitops.repoUrl", "agent none installs no agent"),
        (
            {
                "repoUrl": FLEET_HTTPS,
                "argocdSso": {
                    "issuer": "https://i.example.com",
                    "clientId": "c",
                    "clientSecret": SecretValue("s"),
                },
            },
            "gitops.argocdSso",
            "only agent argocd",
        ),
        ({"repoUrl": FLEET_HTTPS, "interval": "5 minutes"}, "gitops.interval", "not a duration"),
        ({"repoUrl": FLEET_HTTPS, "ociTag": "v1"}, "gitops.ociTag", "source is git"),
        ({"repoUrl": FLEET_OCI, "source": "oci", "branch": "main"}, "gitops.branch", "source is oci"),
        (
            {"repoUrl": FLEET_HTTPS, "eksArgocd": {"identityCenterInstanceArn": IDC_INSTANCE}},
            "gitops.eksArgocd",
            "only agent eks-argocd",
        ),
        (
            {"repoUrl": FLEET_HTTPS, "versions": {"flux": "2.x"}},
            "gitops.versions.flux",
            "not an exact version",
        ),
        (
            {
                "repoUrl": FLEET_HTTPS,
                "sops": {"enabled": True, "kmsKeyArn": "arn:aws:kms:eu-west-1:1:alias/x"},
            },
            "gitops.sops.kmsKeyArn",
            "not a KMS key ARN",
        ),
        (
            {"repoUrl": FLEET_HTTPS, "agent": "jenkins"},
            "gitops.agent",
            "one of flux, argocd, eks-argocd, none",
        ),
        ({"repoUrl": FLEET_HTTPS, "credentials": {"type": "ftp"}}, "gitops.credentials.type", "one of ssh"),
    ],
)
def test_each_mismatch_is_one_line(gitops: dict[str, Any], path: str, fragment: str) -> None:
    one_error(gitops, path, fragment)


@pytest.mark.parametrize(
    ("gitops", "path"),
    [
        (
            {"repoUrl": FLEET_SSH, "credentials": {**SSH_CREDS, "privateKey": "-----BEGIN"}},
            "credentials.privateKey",
        ),
        (
            {"repoUrl": FLEET_HTTPS, "credentials": {"type": "https", "token": "ghp_plain"}},
            "credentials.token",
        ),
        (
            {"repoUrl": FLEET_HTTPS, "notifications": {"type": "slack", "address": "https://hooks"}},
            "notifications.address",
        ),
        ({"repoUrl": FLEET_HTTPS, "webhookReceiver": True, "webhookToken": "plain"}, "webhookToken"),
        (
            {
                "agent": "argocd",
                "repoUrl": FLEET_HTTPS,
                "argocdSso": {"issuer": "https://idp.example.com", "clientId": "a", "clientSecret": "plain"},
            },
            "argocdSso.clientSecret",
        ),
    ],
)
def test_a_plaintext_credential_names_the_key_and_the_command(gitops: dict[str, Any], path: str) -> None:
    line = one_error(
        gitops, f"gitops.{path}", "is a plain value, but it holds a credential; set it as a secret"
    )
    assert f"pulumi config set --secret --path 'eksgitops:gitops.{path}' <value>" in line
    assert "ghp_plain" not in line and "-----BEGIN" not in line


def test_a_secret_where_no_credential_belongs_is_refused() -> None:
    one_error(
        {"repoUrl": FLEET_HTTPS, "branch": SecretValue("main")}, "gitops.branch", "holds no credentials"
    )


def test_secure_values_from_a_stack_file_reach_the_credentials(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.qa.yaml"
    stack.write_text(
        "config:\n"
        "  eksgitops:region: eu-west-1\n"
        "  eksgitops:gitops:\n"
        f"    repoUrl: {FLEET_SSH}\n"
        "    credentials:\n"
        "      type: ssh\n"
        "      privateKey:\n"
        "        secure: AAABAKEYCIPHERTEXT\n"
        f"      knownHosts: {KNOWN_HOSTS}\n"
    )
    raw = raw_config_from_stack_file(stack)
    spec = load_spec({**raw_config({}), **raw}, stack="qa", source=SOURCE)
    assert spec.gitops.credentials is not None
    assert spec.gitops.credentials.private_key == SecretValue("AAABAKEYCIPHERTEXT")
    assert "AAABAKEYCIPHERTEXT" not in repr(spec)


@pytest.fixture
def pulumi_config(monkeypatch: pytest.MonkeyPatch):
    for var in ("PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS"):
        monkeypatch.delenv(var, raising=False)
    pulumi.runtime.settings._set_project("eksgitops")
    yield
    pulumi.runtime.set_all_config({}, [])


def test_under_pulumi_up_a_secret_key_wraps_its_credential_leaves(pulumi_config: None) -> None:
    # Pulumi hands a --secret --path value over decrypted, inside its key's JSON, and marks the key.
    gitops = {
        "repoUrl": FLEET_HTTPS,
        "credentials": {"type": "https", "username": "bot", "token": "ghp_live"},
    }
    pulumi.runtime.set_all_config({"eksgitops:gitops": json.dumps(gitops)}, ["eksgitops:gitops"])
    raw = raw_config_from_pulumi()
    assert raw["gitops"]["credentials"]["token"] == SecretValue("ghp_live")
    assert raw["gitops"]["credentials"]["username"] == "bot"  # not a credential field: untouched
    assert raw["gitops"]["repoUrl"] == FLEET_HTTPS


def test_under_pulumi_up_a_plaintext_credential_is_refused(pulumi_config: None) -> None:
    gitops = {"repoUrl": FLEET_HTTPS, "credentials": {"type": "https", "token": "ghp_live"}}
    pulumi.runtime.set_all_config({"eksgitops:gitops": json.dumps(gitops)}, [])
    raw = {**raw_config({}), "gitops": raw_config_from_pulumi()["gitops"]}
    with pytest.raises(SpecError) as caught:
        load_spec(raw, stack="qa", source=SOURCE)
    assert caught.value.lines == [
        f"{PREFIX}gitops.credentials.token: is a plain value, but it holds a credential; set it as a "
        "secret: pulumi config set --secret --path 'eksgitops:gitops.credentials.token' <value>"
    ]


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.text(max_size=30),
    st.builds(SecretValue, st.text(max_size=5)),
)
_keys = st.sampled_from(
    [
        "agent",
        "repoUrl",
        "branch",
        "path",
        "source",
        "ociTag",
        "credentials",
        "interval",
        "webhookReceiver",
        "webhookToken",
        "imageAutomation",
        "sops",
        "notifications",
        "versions",
        "argocdSso",
        "eksArgocd",
        "type",
        "privateKey",
        "token",
        "knownHosts",
        "enabled",
        "kmsKeyArn",
        "bogus",
    ]
)
_values = st.recursive(_scalars, lambda inner: st.dictionaries(_keys, inner, max_size=4), max_leaves=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(gitops=st.dictionaries(_keys, _values, max_size=6))
def test_any_gitops_section_is_accepted_or_refused_in_lines(gitops: dict[str, Any]) -> None:
    try:
        spec_for(gitops)
    except SpecError as err:
        assert err.lines
        for line in err.lines:
            assert line.startswith(PREFIX) and "; " in line and "\n" not in line, line


@pytest.mark.parametrize("name", ["flux-kustomize-controller", "argocd-capability"])
def test_the_agents_role_names_are_reserved(name: str) -> None:
    identity = {
        "name": name,
        "namespace": "a",
        "serviceAccount": "a",
        "managedPolicyArns": ["arn:aws:iam::aws:policy/x"],
    }
    with pytest.raises(SpecError) as caught:
        spec_for({"repoUrl": FLEET_HTTPS}, identities=[identity])
    assert [line for line in caught.value.lines if "identities[0].name" in line]


# --- what git, ssh and Flux themselves refuse ------------------------------------------

GIT_NAMES = [
    "main",
    "release/1.2",
    "HEAD",
    "a..b",
    "x.lock",
    "-x",
    "a b",
    "a~b",
    "a/.b",
    "x/",
    "a//b",
    "HEAD/x",
]


@pytest.mark.parametrize("name", GIT_NAMES)
def test_branch_names_agree_with_git(name: str) -> None:
    """valid_ref_name says what `git check-ref-format --branch` says."""
    import subprocess

    from components.spec.gitops import valid_ref_name

    git = subprocess.run(["git", "check-ref-format", "--branch", name], capture_output=True, check=False)
    assert valid_ref_name(name) == (git.returncode == 0), name


@pytest.mark.parametrize(
    ("gitops", "key", "phrase"),
    [
        ({"branch": "HEAD"}, "gitops.branch", "is not a valid Git branch name"),
        ({"interval": "2562048h"}, "gitops.interval", "longer than a Go duration can be"),
        ({"interval": "2562047h47m17s"}, "gitops.interval", "longer than a Go duration can be"),
        ({"path": "clusters/qa\r"}, "gitops.path", "U+000D"),
        ({"repoUrl": "--upload-pack=touch /tmp/x"}, "gitops.repoUrl", "starts like a command-line option"),
        (
            {"repoUrl": "-oProxyCommand=x@host:org/fleet"},
            "gitops.repoUrl",
            "starts like a command-line option",
        ),
        ({"repoUrl": "ssh://-oProxyCommand=x/fleet"}, "gitops.repoUrl", "starts like a command-line option"),
        ({"repoUrl": "https://-x.example.com/fleet"}, "gitops.repoUrl", "starts like a command-line option"),
    ],
)
def test_values_git_and_flux_refuse(gitops: dict[str, Any], key: str, phrase: str) -> None:
    lines = errors({"repoUrl": "https://github.com/example/fleet.git", **gitops})
    assert len(lines) == 1 and lines[0].startswith(f"{SOURCE}: eksgitops:{key}: ") and phrase in lines[0], (
        lines
    )


def test_the_longest_go_duration_and_plain_urls_load() -> None:
    spec = spec_for({"repoUrl": "https://github.com/example/fleet-x.git", "interval": "2562047h47m16s"})
    assert spec.gitops.interval == "2562047h47m16s"
    spec_for({"repoUrl": "git@github.com:org/-fleet.git", "credentials": SSH_CREDS})


@pytest.mark.parametrize(
    ("app_id", "ok"), [(1, True), (2**63 - 1, True), (0, False), (-5, False), (2**63, False)]
)
def test_github_app_ids_are_positive_64_bit(app_id: int, ok: bool) -> None:
    gitops = {
        "repoUrl": "https://github.com/example/fleet.git",
        "credentials": {**APP_CREDS, "appId": app_id},
    }
    if ok:
        assert spec_for(gitops).gitops.credentials.app_id == app_id  # type: ignore[union-attr]
    else:
        (line,) = errors(gitops)
        assert (
            line.startswith(f"{SOURCE}: eksgitops:gitops.credentials.appId: ") and "not a GitHub id" in line
        )


def test_a_username_with_a_newline_is_errors() -> None:
    creds = {**HTTPS_CREDS, "username": "oauth2\nX-Injected: 1"}
    (line,) = errors({"repoUrl": "https://gitlab.com/example/fleet.git", "credentials": creds})
    assert line.startswith(f"{SOURCE}: eksgitops:gitops.credentials.username: ") and "U+000A" in line
    creds["username"] = "oauth2"
    spec_for({"repoUrl": "https://gitlab.com/example/fleet.git", "credentials": creds})


def test_known_hosts_keep_their_lines() -> None:
    gitops = {
        "repoUrl": "git@github.com:org/fleet.git",
        "credentials": {**SSH_CREDS, "knownHosts": KNOWN_HOSTS * 2},
    }
    assert spec_for(gitops).gitops.credentials is not None


@pytest.mark.parametrize(
    ("region", "phrase"),
    [
        ("mars-1", "not an AWS region name"),
        ("eu-west-9", "not a region AWS has opened"),
        ("cn-north-1", "is in partition aws-cn"),
    ],
)
def test_the_identity_center_region_is_a_region_of_the_partition(region: str, phrase: str) -> None:
    gitops = {
        "agent": "eks-argocd",
        "repoUrl": "https://github.com/example/fleet.git",
        "eksArgocd": {"identityCenterInstanceArn": "arn:aws:sso:::instance/ssoins-0123456789abcdef"},
    }
    assert spec_for(gitops).gitops.eks_argocd.identity_center_region is None
    gitops["eksArgocd"]["identityCenterRegion"] = "us-east-1"  # type: ignore[index]
    spec_for(gitops)
    gitops["eksArgocd"]["identityCenterRegion"] = region  # type: ignore[index]
    (line,) = errors(gitops)
    assert line.startswith(f"{SOURCE}: eksgitops:gitops.eksArgocd.identityCenterRegion: ") and phrase in line


def test_the_sops_key_is_in_a_region_of_the_partition() -> None:
    key = "arn:aws:kms:{}:111122223333:key/0123abcd-0123-4567-89ab-0123456789ab"
    gitops: dict[str, Any] = {"repoUrl": "https://github.com/example/fleet.git", "sops": {"enabled": True}}
    gitops["sops"]["kmsKeyArn"] = key.format("us-east-1")
    spec_for(gitops)
    gitops["sops"]["kmsKeyArn"] = key.format("eu-west-9")
    (line,) = errors(gitops)
    assert (
        line.startswith(f"{SOURCE}: eksgitops:gitops.sops.kmsKeyArn: ")
        and "not a region AWS has opened" in line
    )
    gitops["sops"]["kmsKeyArn"] = key.format("cn-north-1").replace("arn:aws:", "arn:aws-cn:")
    (line,) = errors(gitops)
    assert "is in partition aws-cn" in line, line
