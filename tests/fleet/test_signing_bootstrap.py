"""`fleet bootstrap --signing-key`: signed by a key gitops.verify trusts, or not pushed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tests.fleet.conftest import git as plain_git
from tests.fleet.conftest import invoke, log
from tests.signing_keys import Key, openpgp_key, ssh_key

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Key]:
    folder = tmp_path_factory.mktemp("keys")
    return {
        "alice": openpgp_key(folder),
        "bob": ssh_key(folder),
        "eve": openpgp_key(folder, "Eve Outsider", "eve@example.com"),
    }


@pytest.fixture
def project(tmp_path: Path, keys: dict[str, Key], monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shipped dev stack with gitops.verify trusting alice (OpenPGP) and bob (SSH)."""
    folder = tmp_path / "project"
    (folder / "stacks").mkdir(parents=True)
    shutil.copy(ROOT / "Pulumi.yaml", folder / "Pulumi.yaml")
    stack = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())
    stack["config"]["eksgitops:gitops"]["verify"] = {"publicKeys": [keys["alice"].public, keys["bob"].public]}
    (folder / "stacks" / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack))
    monkeypatch.chdir(folder)
    return folder


def bootstrap(cli: CliRunner, remote: Path, *args: str):
    return invoke(cli, "bootstrap", "--stack", "dev", "--repo", str(remote), *args)


def signature_of(remote: Path, key: Key) -> str:
    """`%G?` of the remote's main as git sees it with `key`'s own keyring (G: good)."""
    allowed = key.home / "allowed_signers"
    if key.kind == "ssh":
        allowed.write_text(f"* {key.public}")
    return plain_git(
        "--git-dir",
        str(remote),
        "-c",
        f"gpg.ssh.allowedSignersFile={allowed}",
        "log",
        "-1",
        "--format=%G?",
        "main",
    )


def test_without_a_signing_key_nothing_is_pushed(cli: CliRunner, bare_remote: Path, project: Path) -> None:
    result = bootstrap(cli, bare_remote)
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert "--signing-key" in result.stderr and "would never sync" in result.stderr
    assert plain_git("--git-dir", str(bare_remote), "for-each-ref") == ""


def test_an_openpgp_key_signs_the_commit(
    cli: CliRunner, bare_remote: Path, project: Path, keys: dict[str, Key], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GNUPGHOME", str(keys["alice"].home))
    result = bootstrap(cli, bare_remote, "--signing-key", keys["alice"].key_id)
    assert result.exit_code == 0, result.output
    assert "signed with openpgp key" in result.stdout
    assert len(log(bare_remote)) == 1
    monkeypatch.setenv("GNUPGHOME", str(keys["alice"].home))
    assert signature_of(bare_remote, keys["alice"]) == "G"


def test_an_ssh_key_signs_the_commit(
    cli: CliRunner, bare_remote: Path, project: Path, keys: dict[str, Key]
) -> None:
    result = bootstrap(cli, bare_remote, "--signing-key", keys["bob"].key_id)
    assert result.exit_code == 0, result.output
    assert "signed with ssh key" in result.stdout
    assert signature_of(bare_remote, keys["bob"]) == "G"


def test_a_key_the_stack_does_not_trust_is_refused_before_the_push(
    cli: CliRunner, bare_remote: Path, project: Path, keys: dict[str, Key], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GNUPGHOME", str(keys["eve"].home))
    result = bootstrap(cli, bare_remote, "--signing-key", keys["eve"].key_id)
    assert result.exit_code == 1, result.output
    assert "refusing to push" in result.stderr and "not trusted" in result.stderr
    assert plain_git("--git-dir", str(bare_remote), "for-each-ref") == ""


def test_a_key_that_cannot_sign_is_refused_in_one_line(
    cli: CliRunner, bare_remote: Path, project: Path, keys: dict[str, Key], monkeypatch: pytest.MonkeyPatch
) -> None:
    # alice's key id, but a keyring that does not hold her secret key.
    monkeypatch.setenv("GNUPGHOME", str(keys["eve"].home))
    result = bootstrap(cli, bare_remote, "--signing-key", keys["alice"].key_id)
    assert result.exit_code == 1, result.output
    assert "could not sign" in result.stderr and "Traceback" not in result.output
    assert plain_git("--git-dir", str(bare_remote), "for-each-ref") == ""


@pytest.mark.parametrize("value", ["not-a-key", "-oProxyCommand=x", "12345"])
def test_a_bad_signing_key_value_is_exit_2(
    cli: CliRunner, bare_remote: Path, project: Path, value: str
) -> None:
    result = bootstrap(cli, bare_remote, "--signing-key", value)
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1 and "--signing-key" in result.stderr


def test_an_exported_private_key_file_is_refused(
    cli: CliRunner, bare_remote: Path, project: Path, tmp_path: Path
) -> None:
    exported = tmp_path / "alice.asc"
    exported.write_text("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nxx\n-----END PGP PRIVATE KEY BLOCK-----\n")
    result = bootstrap(cli, bare_remote, "--signing-key", str(exported))
    assert result.exit_code == 2 and "gpg --import" in result.stderr
