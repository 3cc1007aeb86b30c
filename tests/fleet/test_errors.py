"""One-line errors with the right exit code, and credentials that never reach the output."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from eksgitops.fleet.credentials import Credentials, scrub_url
from tests.fleet.conftest import free_port, invoke

TOKEN = "ghp_S3cretT0kenValue1234567890"


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--agent", "foo"], "--agent"),
        (["--env", "Dev_1"], "--env"),
        (["--path", "../outside"], "--path"),
        (["--path", "/abs/clusters"], "--path"),
        (["--branch", "bad..name"], "--branch"),
        (["--agent", "argocd", "--image-automation"], "--image-automation"),
        (["--ssh-key", "/nonexistent/key"], "--ssh-key"),
    ],
)
def test_bad_flags_exit_2_naming_the_flag(cli, bare_remote: Path, args: list[str], flag: str) -> None:
    base = ["bootstrap", "--repo", str(bare_remote), "--env", "dev"]
    result = invoke(cli, *base, *args)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {flag}")
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreachable_host(cli) -> None:
    url = f"git://127.0.0.1:{free_port()}/fleet.git"
    result = invoke(cli, "bootstrap", "--repo", url, "--env", "dev")
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: cannot reach {url} (host unreachable or connection refused)"


def test_local_path_that_is_not_a_repo(cli, tmp_path: Path) -> None:
    for command in ("bootstrap", "verify"):
        result = invoke(cli, command, "--repo", str(tmp_path), "--env", "dev")
        assert result.exit_code == 2
        assert result.stderr.strip() == (
            f"error: --repo {tmp_path}: {tmp_path} is not a git repository "
            "(give a URL or a git repository path)"
        )
        missing = invoke(cli, command, "--repo", str(tmp_path / "nowhere"), "--env", "dev")
        assert missing.exit_code == 2
        assert "no such file or directory" in missing.stderr


def test_missing_revision_and_empty_repo_for_verify(cli, bare_remote: Path) -> None:
    # Could not verify at all: exit 4, apart from "verified and found errors" (1).
    empty = invoke(cli, "verify", "--repo", str(bare_remote), "--env", "dev")
    assert empty.exit_code == 4 and "is empty" in empty.stderr
    assert invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", "dev").exit_code == 0
    result = invoke(cli, "verify", "--repo", str(bare_remote), "--env", "dev", "--revision", "release-9")
    assert result.exit_code == 4
    assert result.stderr.strip() == f"error: revision release-9 not found on {bare_remote} (branches: main)"


def test_authentication_failure_never_prints_the_token(
    cli, deny_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EKSGITOPS_GIT_TOKEN", TOKEN)
    url = f"{deny_server}/org/fleet.git"
    result = invoke(cli, "bootstrap", "--repo", url, "--env", "dev")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: authentication to {url} failed")
    encoded = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    assert TOKEN not in result.output and encoded not in result.output


def test_token_file_and_url_credentials_are_scrubbed(cli, deny_server: str, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    url = deny_server.replace("http://", f"http://robot:{TOKEN}@") + "/fleet.git"
    result = invoke(cli, "verify", "--repo", url, "--env", "dev", "--token-file", str(token_file))
    assert result.exit_code == 4
    assert "authentication" in result.stderr
    assert TOKEN not in result.output and "robot" not in result.output


def test_credentials_reach_git_only_through_the_environment(tmp_path: Path) -> None:
    key = tmp_path / "id_ed25519"
    key.write_text("not a real key")
    env = Credentials.load(ssh_key=key).git_env()
    assert f"-i {key}" in env["GIT_SSH_COMMAND"] and "IdentitiesOnly=yes" in env["GIT_SSH_COMMAND"]
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    assert scrub_url(f"https://u:{TOKEN}@example.com/x.git") == "https://***@example.com/x.git"
    assert scrub_url("ssh://git@example.com/x.git") == "ssh://git@example.com/x.git"
