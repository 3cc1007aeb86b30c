"""`gitops.verify`: real keys pass, private keys and wrong kinds are refused in one line each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eksgitops.components.spec import SpecError
from eksgitops.components.spec.gitops_verify import go_regexp_problem, parse_key
from tests.gitops_support import FLEET_HTTPS, FLEET_OCI, IDC_INSTANCE, SOURCE, spec_for
from tests.signing_keys import Key, openpgp_key, openpgp_secret, ssh_key

PREFIX = f"{SOURCE}: eksgitops:gitops.verify"
GITHUB_ISSUER = r"^https://token\.actions\.githubusercontent\.com$"
WORKFLOW = r"^https://github\.com/example/fleet/\.github/workflows/publish-fleet\.yml@refs/heads/main$"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Key]:
    folder = tmp_path_factory.mktemp("keys")
    return {"pgp": openpgp_key(folder), "ssh": ssh_key(folder)}


def one_error(gitops: dict[str, Any], path: str, fragment: str) -> str:
    with pytest.raises(SpecError) as caught:
        spec_for(gitops)
    lines = caught.value.lines
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{PREFIX}{path}: "), lines[0]
    assert fragment in lines[0], lines[0]
    return lines[0]


def test_openpgp_and_ssh_keys_are_accepted_and_named_as_gpg_names_them(keys: dict[str, Key]) -> None:
    spec = spec_for(
        {"repoUrl": FLEET_HTTPS, "verify": {"publicKeys": [keys["pgp"].public, keys["ssh"].public]}}
    )
    verify = spec.gitops.verify
    assert verify is not None and verify.mode == "HEAD"
    pgp, ssh = verify.parsed_keys()
    # gpg's own long key id: what Argo CD's signatureKeys and argocd-gpg-keys-cm use.
    assert (pgp.kind, pgp.key_id, pgp.file_name) == (
        "openpgp",
        keys["pgp"].key_id,
        f"{keys['pgp'].key_id.lower()}.asc",
    )
    assert ssh.kind == "ssh" and ssh.file_name.endswith(".sshpub") and ssh.key_id.startswith("SHA256:")


def test_a_private_key_is_refused_without_being_shown(keys: dict[str, Key]) -> None:
    secret = openpgp_secret(keys["pgp"])
    ssh_private = Path(keys["ssh"].key_id).read_text()
    for text in (secret, ssh_private):
        line = one_error(
            {"repoUrl": FLEET_HTTPS, "verify": {"publicKeys": [text]}}, ".publicKeys[0]", "private key"
        )
        assert "only public keys belong here" in line
        body = [row for row in text.splitlines() if row and not row.startswith("-----")]
        assert not any(row in line for row in body[:3])


def test_a_private_key_pasted_as_a_string_is_not_shown_either(keys: dict[str, Key]) -> None:
    ssh_private = Path(keys["ssh"].key_id).read_text()
    line = one_error(
        {"repoUrl": FLEET_HTTPS, "verify": {"publicKeys": ssh_private}}, ".publicKeys", "private key"
    )
    assert ssh_private.splitlines()[1] not in line
    one_error(
        {"repoUrl": FLEET_HTTPS, "verify": {"publicKeys": keys["ssh"].public}}, ".publicKeys", "not a list"
    )


def test_not_a_key_and_a_cut_key_are_refused(keys: dict[str, Key]) -> None:
    one_error({"repoUrl": FLEET_HTTPS, "verify": {"publicKeys": ["hello"]}}, ".publicKeys[0]", "neither")
    cut = keys["ssh"].public.split()[0] + " AAAAC3NzaC1lZDI1NTE5"
    one_error({"repoUrl": FLEET_HTTPS, "verify": {"publicKeys": [cut]}}, ".publicKeys[0]", "not of type")


def test_git_needs_keys_and_tag_modes_need_the_tag(keys: dict[str, Key]) -> None:
    one_error(
        {"repoUrl": FLEET_HTTPS, "verify": {"mode": "HEAD"}}, ".publicKeys", "is required with source git"
    )
    good = [keys["pgp"].public]
    one_error(
        {"repoUrl": FLEET_HTTPS, "verify": {"publicKeys": good, "mode": "TagAndHEAD"}}, ".tag", "is required"
    )
    spec = spec_for({"repoUrl": FLEET_HTTPS, "verify": {"publicKeys": good, "mode": "Tag", "tag": "v1.2.0"}})
    assert spec.gitops.verify is not None and spec.gitops.verify.tag == "v1.2.0"
    one_error({"repoUrl": FLEET_HTTPS, "verify": {"publicKeys": good, "mode": "head"}}, ".mode", "HEAD")


def test_argocd_takes_openpgp_keys_and_head_only(keys: dict[str, Key]) -> None:
    argocd = {"repoUrl": FLEET_HTTPS, "agent": "argocd"}
    assert spec_for({**argocd, "verify": {"publicKeys": [keys["pgp"].public]}}).gitops.verify is not None
    one_error(
        {**argocd, "verify": {"publicKeys": [keys["ssh"].public]}}, ".publicKeys", "GnuPG signatures only"
    )
    one_error(
        {**argocd, "verify": {"publicKeys": [keys["pgp"].public], "mode": "Tag", "tag": "v1"}},
        ".mode",
        "Argo CD",
    )
    eks = {
        "repoUrl": FLEET_HTTPS,
        "agent": "eks-argocd",
        "eksArgocd": {"identityCenterInstanceArn": IDC_INSTANCE},
    }
    one_error({**eks, "verify": {"publicKeys": [keys["pgp"].public]}}, "", "eks-argocd")


def test_oci_keyless_cosign_checks_the_patterns_as_go_does() -> None:
    oci = {"repoUrl": FLEET_OCI, "source": "oci"}
    identity = {"issuer": GITHUB_ISSUER, "subject": WORKFLOW}
    spec = spec_for({**oci, "verify": {"provider": "cosign", "matchOIDCIdentity": [identity]}})
    assert spec.gitops.verify is not None and spec.gitops.verify.match_oidc_identity[0].subject == WORKFLOW
    for pattern, fragment in (
        ("^(?=https)x$", "not a Go regular expression"),
        ("^(a)\\1$", "not a Go regular expression"),
        ("^a\\C$", "\\C"),
        ("https://github\\.com/example/fleet/.*", "not anchored"),
    ):
        one_error(
            {
                **oci,
                "verify": {"provider": "cosign", "matchOIDCIdentity": [{**identity, "subject": pattern}]},
            },
            ".matchOIDCIdentity[0].subject",
            fragment,
        )
    one_error({**oci, "verify": {"matchOIDCIdentity": [identity]}}, ".provider", "cosign or notation")
    one_error({**oci, "verify": {"provider": "cosign"}}, ".publicKeys", "exactly one of")
    one_error(
        {**oci, "verify": {"provider": "cosign", "matchOIDCIdentity": [identity], "mode": "HEAD"}},
        ".mode",
        "Git",
    )


def test_oci_with_a_cosign_key_takes_a_pem_public_key(keys: dict[str, Key]) -> None:
    pem = (
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEesHEB7vX5Y2RxXypjMy1nI1z7iRG\n"
        "JI9/gt/sYqzpsa65aaNP4npM43DDxoIy/MQBo9s/mxGxmA+8UXeDpVC9vw==\n-----END PUBLIC KEY-----\n"
    )
    oci = {"repoUrl": FLEET_OCI, "source": "oci"}
    spec = spec_for({**oci, "verify": {"provider": "cosign", "publicKeys": [pem]}})
    assert spec.gitops.verify is not None and spec.gitops.verify.parsed_keys()[0].file_name.endswith(".pub")
    one_error(
        {**oci, "verify": {"provider": "cosign", "publicKeys": [keys["pgp"].public]}}, ".publicKeys", "PEM"
    )
    one_error({**oci, "verify": {"provider": "notation", "publicKeys": [pem]}}, ".publicKeys", "CERTIFICATE")


def test_go_regexp_check_agrees_with_go_on_the_edges() -> None:
    assert go_regexp_problem(GITHUB_ISSUER) is None
    assert go_regexp_problem("(?P<name>x)") is None and go_regexp_problem(r"\pL+") is None
    assert go_regexp_problem("a{1001}") is not None  # Go's repeat limit is 1000
    assert go_regexp_problem("(?<!a)b") is not None


def test_one_block_per_item(keys: dict[str, Key]) -> None:
    two = keys["pgp"].public + keys["pgp"].public
    one_error(
        {"repoUrl": FLEET_HTTPS, "verify": {"publicKeys": [two]}}, ".publicKeys[0]", "one armored block"
    )
    assert parse_key("\r\n".join(keys["pgp"].public.splitlines())).key_id == keys["pgp"].key_id


def test_parse_key_bounds_its_input() -> None:
    with pytest.raises(ValueError, match="longer than"):
        parse_key("ssh-ed25519 " + "A" * 70_000)
