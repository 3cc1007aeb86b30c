"""`fleet verify --trusted-keys/--stack`: the revision's signature, checked as source-controller would.

Real keys (gpg in batch mode, ssh-keygen), real signed and unsigned commits and tags pushed to
a bare remote. Signed by a trusted key: the verdict of the layout alone; unsigned, signed by
another key, or a signed tag over an unsigned HEAD in a mode that checks HEAD: exit 1, naming
the commit, its author and committer.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from eksgitops.components.spec.gitops_verify import VerifySpec
from eksgitops.fleet import layout
from eksgitops.fleet.findings import VERIFY_SCHEMA
from eksgitops.fleet.signatures import policy_for
from tests.fleet.conftest import invoke
from tests.fleet.helpers import scaffold_tree
from tests.signing_keys import Key, git, openpgp_key, openpgp_secret, ssh_key

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Key]:
    folder = tmp_path_factory.mktemp("keys")
    return {
        "alice": openpgp_key(folder),
        "bob": ssh_key(folder),
        "eve": openpgp_key(folder, "Eve Outsider", "eve@example.com"),
        "eve-ssh": ssh_key(folder, "Eve Outsider", "eve-ssh@example.com"),
    }


@pytest.fixture
def work(tmp_path: Path, bare_remote: Path, keys: dict[str, Key]) -> Path:
    """A fleet whose first commit (the layout) is signed by alice, pushed to the bare remote."""
    repo = tmp_path / "work"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    scaffold_tree(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-S", "-m", "the fleet", key=keys["alice"])
    git(repo, "remote", "add", "origin", str(bare_remote))
    git(repo, "push", "-q", "origin", "main")
    return repo


def push_commit(repo: Path, key: Key | None, who: tuple[str, str] | None = None) -> str:
    (repo / "NOTES.md").write_text(f"change by {key.name if key else 'nobody'}\n")
    git(repo, "add", "NOTES.md", key=key, who=who)
    git(repo, "commit", "-q", *(["-S"] if key else []), "-m", "a change", key=key, who=who)
    git(repo, "push", "-q", "origin", "main", key=key, who=who)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def trusted(tmp_path: Path, keys: dict[str, Key]) -> Path:
    path = tmp_path / "trusted-keys"
    path.write_text("# release signers\n" + keys["alice"].public + keys["bob"].public)
    return path


def verify(cli: CliRunner, remote: Path, *args: str):
    return invoke(cli, "verify", "--repo", str(remote), "--env", "dev", *args)


def document(stdout: str) -> dict:
    doc = json.loads(stdout)
    jsonschema.Draft202012Validator(json.loads(VERIFY_SCHEMA.read_text())).validate(doc)
    return doc


def test_a_commit_signed_by_a_trusted_key_keeps_the_layouts_verdict(
    cli: CliRunner, bare_remote: Path, work: Path, trusted: Path, keys: dict[str, Key]
) -> None:
    baseline = verify(cli, bare_remote)
    assert baseline.exit_code in (0, 3), baseline.output
    for key in (keys["alice"], keys["bob"]):  # OpenPGP, then SSH (gpg.format=ssh)
        sha = push_commit(work, key)
        result = verify(cli, bare_remote, "--trusted-keys", str(trusted))
        assert result.exit_code == baseline.exit_code, result.output
        assert f"commit {sha}: signed by" in result.stdout
        doc = document(verify(cli, bare_remote, "--trusted-keys", str(trusted), "--json").stdout)
        (signature,) = doc["signatures"]
        assert signature["trusted"] and signature["object"] == f"commit {sha}"
        assert signature["author"] == f"{key.name} <{key.email}>"
        expected = key.key_id[-16:] if key.kind == "openpgp" else "SHA256:"
        assert expected in signature["signer"]


def test_an_unsigned_head_fails_naming_commit_author_and_committer(
    cli: CliRunner, bare_remote: Path, work: Path, trusted: Path
) -> None:
    sha = push_commit(work, None, who=("Mallory Pusher", "mallory@example.com"))
    result = verify(cli, bare_remote, "--trusted-keys", str(trusted))
    assert result.exit_code == 1, result.output
    line = next(line for line in result.stdout.splitlines() if f"commit {sha}" in line)
    assert "is not signed" in line
    assert (
        "author Mallory Pusher <mallory@example.com>, committer Mallory Pusher <mallory@example.com>" in line
    )
    doc = document(verify(cli, bare_remote, "--trusted-keys", str(trusted), "--json").stdout)
    assert doc["exitCode"] == 1 and doc["signatures"][0]["trusted"] is False


@pytest.mark.parametrize("outsider", ["eve", "eve-ssh"])
def test_a_commit_signed_by_a_key_that_is_not_trusted_fails(
    cli: CliRunner, bare_remote: Path, work: Path, trusted: Path, keys: dict[str, Key], outsider: str
) -> None:
    sha = push_commit(work, keys[outsider])
    result = verify(cli, bare_remote, "--trusted-keys", str(trusted))
    assert result.exit_code == 1, result.output
    assert f"commit {sha}: is signed by a key that is not trusted" in result.stdout


def test_the_users_own_keyring_takes_no_part(
    cli: CliRunner,
    bare_remote: Path,
    work: Path,
    trusted: Path,
    keys: dict[str, Key],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # eve's key is ultimately trusted in this GNUPGHOME; verify must still refuse her commit.
    monkeypatch.setenv("GNUPGHOME", str(keys["eve"].home))
    push_commit(work, keys["eve"])
    assert verify(cli, bare_remote, "--trusted-keys", str(trusted)).exit_code == 1


def test_wrong_mode_a_signed_tag_over_an_unsigned_head(
    cli: CliRunner, bare_remote: Path, work: Path, trusted: Path, keys: dict[str, Key]
) -> None:
    push_commit(work, None)
    git(work, "tag", "-s", "-m", "release 1", "v1", key=keys["alice"])
    git(work, "push", "-q", "origin", "v1")
    baseline = verify(cli, bare_remote, "--revision", "v1").exit_code
    tag_only = verify(
        cli, bare_remote, "--trusted-keys", str(trusted), "--signature-mode", "Tag", "--revision", "v1"
    )
    assert tag_only.exit_code == baseline, tag_only.output
    assert "tag v1: signed by" in tag_only.stdout
    for mode in ("TagAndHEAD", "HEAD"):
        result = verify(
            cli, bare_remote, "--trusted-keys", str(trusted), "--signature-mode", mode, "--revision", "v1"
        )
        assert result.exit_code == 1, (mode, result.output)
        assert "is not signed" in result.stdout
    # A lightweight tag carries no signature at all.
    git(work, "tag", "v2")
    git(work, "push", "-q", "origin", "v2")
    light = verify(
        cli, bare_remote, "--trusted-keys", str(trusted), "--signature-mode", "Tag", "--revision", "v2"
    )
    assert light.exit_code == 1 and "not an annotated tag" in light.stdout


def _stack_project(tmp_path: Path, keys: dict[str, Key], monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    (project / "stacks").mkdir(parents=True)
    shutil.copy(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
    stack = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())
    stack["config"]["eksgitops:gitops"]["verify"] = {"publicKeys": [keys["alice"].public]}
    (project / "stacks" / "Pulumi.dev.yaml").write_text(yaml.safe_dump(stack))
    bridge = {
        "stack": "dev",
        "agent": "flux",
        "repoUrl": "https://git.example.com/org/fleet.git",
        "branch": "main",
        "path": "clusters/dev",
        "variables": {name: "x" for name in layout.bridge_vars()},
        "identities": [],
    }
    (project / "build" / "dev").mkdir(parents=True)
    (project / "build" / "dev" / "bridge.json").write_text(json.dumps(bridge))
    monkeypatch.chdir(project)


def test_with_stack_the_stack_files_keys_are_checked(
    cli: CliRunner,
    bare_remote: Path,
    work: Path,
    keys: dict[str, Key],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _stack_project(tmp_path, keys, monkeypatch)
    signed = verify(cli, bare_remote, "--stack", "dev")
    assert signed.exit_code != 1 and "trusted by stack dev" in signed.stdout, signed.output
    sha = push_commit(work, keys["bob"])  # bob's key is not in the stack file
    result = verify(cli, bare_remote, "--stack", "dev")
    assert result.exit_code == 1 and f"commit {sha}: is signed by a key that is not trusted" in result.stdout


def test_bad_flags_are_one_line_exit_2(
    cli: CliRunner, bare_remote: Path, work: Path, tmp_path: Path, keys: dict[str, Key], trusted: Path
) -> None:
    private = tmp_path / "private.asc"
    private.write_text(openpgp_secret(keys["alice"]))
    cases = [
        ("--trusted-keys", str(private)),
        ("--trusted-keys", str(tmp_path / "missing")),
        ("--trusted-keys", str(trusted), "--signature-mode", "Commit"),
        ("--trusted-keys", str(trusted), "--signature-mode", "Tag"),
        ("--signature-mode", "HEAD"),
    ]
    for args in cases:
        result = verify(cli, bare_remote, *args)
        assert result.exit_code == 2, (args, result.output)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "PRIVATE KEY BLOCK" not in result.output and "Traceback" not in result.output
    assert "private key" in verify(cli, bare_remote, "--trusted-keys", str(private)).stderr


def test_an_oci_stack_checks_no_git_signature(tmp_path: Path) -> None:
    pem = (
        "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEesHEB7vX5Y2RxXypjMy1nI1z7iRG\n"
        "JI9/gt/sYqzpsa65aaNP4npM43DDxoIy/MQBo9s/mxGxmA+8UXeDpVC9vw==\n-----END PUBLIC KEY-----\n"
    )
    verify_spec = VerifySpec.model_validate({"provider": "cosign", "publicKeys": [pem]}, by_alias=True)
    assert (
        policy_for(trusted_keys=None, mode=None, revision=None, stack="prod", stack_verify=verify_spec)
        is None
    )
