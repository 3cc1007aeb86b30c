"""Issue 6 §1 (fleet) and issue 8 item 5: hostile key names, credentials that must never be written
or printed, names that must match in full, and flags a new user gets wrong."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest

from eksgitops.fleet.credentials import Credentials, scrub_url, strip_userinfo
from tests.fleet.conftest import clone, commit_file, free_port, git, invoke, log
from tests.fleet.helpers import edit

TOKEN = "ghp_S3cretT0kenValue1234567890"


@pytest.mark.parametrize(
    "name",
    [
        "k';touch pwned;'x",
        'k";touch pwned;"x',
        "k$(touch pwned)x",
        "k`touch pwned`x",
        "k key;touch pwned",
        "-oProxyCommand=touch pwned",
    ],
)
def test_hostile_ssh_key_file_names_never_run_a_command(tmp_path: Path, name: str) -> None:
    keydir = tmp_path / "keys"
    keydir.mkdir()
    key = keydir / name
    key.write_text("not a real key\n")
    work = tmp_path / "cwd"
    work.mkdir()
    env = {**os.environ, **Credentials.load(ssh_key=key).git_env()}
    # git runs GIT_SSH_COMMAND through a shell: a real ssh transport to a closed port.
    proc = subprocess.run(
        ["git", "ls-remote", f"ssh://git@127.0.0.1:{free_port()}/fleet.git"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode != 0
    assert not (work / "pwned").exists() and not (keydir / "pwned").exists()
    assert list(work.iterdir()) == []
    # The key path reaches ssh as one argument, unchanged.
    argv = shlex.split(env["GIT_SSH_COMMAND"])
    assert argv[argv.index("-i") + 1] == str(key)


def test_bootstrap_with_a_hostile_key_name_fails_cleanly(cli, tmp_path: Path, monkeypatch) -> None:
    key = tmp_path / "k';touch pwned;'x"
    key.write_text("not a key")
    monkeypatch.chdir(tmp_path)
    url = f"ssh://git@127.0.0.1:{free_port()}/fleet.git"
    result = invoke(cli, "bootstrap", "--repo", url, "--env", "dev", "--ssh-key", str(key))
    assert result.exit_code == 1
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(
    ("url", "written"),
    [
        (f"https://robot:{TOKEN}@git.example.com/org/fleet.git", "https://git.example.com/org/fleet.git"),
        (f"https://{TOKEN}@git.example.com/org/fleet.git", "https://git.example.com/org/fleet.git"),
        (f"ssh://git:{TOKEN}@git.example.com/org/fleet.git", "ssh://git@git.example.com/org/fleet.git"),
        ("ssh://git@git.example.com/org/fleet.git", "ssh://git@git.example.com/org/fleet.git"),
        ("git@git.example.com:org/fleet.git", "git@git.example.com:org/fleet.git"),
    ],
)
def test_userinfo_never_reaches_the_repository_and_is_redacted(url: str, written: str) -> None:
    assert strip_userinfo(url) == written
    assert TOKEN not in scrub_url(f"cannot reach {url}")


def test_argocd_repo_url_in_git_has_no_credentials(cli, git_http: tuple[str, Path], tmp_path: Path) -> None:
    base_url, base = git_http
    git("init", "-q", "--bare", "--initial-branch=main", str(base / "fleet.git"))
    # A real HTTP transport on 127.0.0.1 (loopback: credentials never cross a network).
    url = f"{base_url}/fleet.git".replace("http://", f"http://robot:{TOKEN}@")
    result = invoke(cli, "bootstrap", "--repo", url, "--env", "dev", "--agent", "argocd")
    assert result.exit_code == 0, result.output
    assert TOKEN not in result.output and "robot" not in result.output
    work = clone(base / "fleet.git", tmp_path / "work")
    found = subprocess.run(
        ["git", "grep", "-I", "-e", TOKEN, "-e", "robot"], cwd=work, capture_output=True, check=False
    )
    assert found.returncode == 1, found.stdout  # nothing found anywhere in the tree
    assert f"repoURL: {base_url}/fleet.git" in (work / "clusters/dev/apps.yaml").read_text()


@pytest.mark.parametrize(
    "url",
    [f"http://robot:{TOKEN}@git.example.com/org/fleet.git", "http://git.example.com/org/fleet.git"],
)
def test_plain_http_with_credentials_is_refused(cli, url: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("EKSGITOPS_GIT_TOKEN", TOKEN)
    for command in ("bootstrap", "verify"):
        result = invoke(cli, command, "--repo", url, "--env", "dev")
        assert result.exit_code == 2
        assert "credentials over plain http:// travel in clear text; use https:// or ssh" in result.stderr
        assert TOKEN not in result.output


@pytest.mark.parametrize("scheme", ["ftp", "ftps", "rsync", "gopher"])
def test_unsupported_schemes_are_usage_errors(cli, scheme: str) -> None:
    result = invoke(cli, "verify", "--repo", f"{scheme}://host/fleet.git", "--env", "dev")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: --repo {scheme}://host/fleet.git: unsupported scheme {scheme}:// (allowed: https://, "
        f"ssh://, "
        "git://, http://, file://, or user@host:path)"
    )


@pytest.mark.parametrize("repo", ["", ".", "./", " "])
def test_repo_never_means_the_current_directory(cli, repo: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    git("init", "-q", "--initial-branch=main", str(tmp_path))
    for command in ("bootstrap", "verify"):
        result = invoke(cli, command, "--repo", repo, "--env", "dev")
        assert result.exit_code == 2, result.output
        # An empty value is refused as empty by the flag check; "." as the current directory.
        assert result.stderr.startswith("error: --repo") and (
            "the current directory is never implied" in result.stderr or "is empty" in result.stderr
        ), result.stderr
    assert git("status", "--porcelain", cwd=tmp_path) == ""


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--env", "dev\n"], "--env"),
        (["--env", "dev\n", "--path", "clusters/dev"], "--env"),
        (["--path", "clusters/dev\n"], "--path"),
        (["--var", "not a var"], "--var"),
        (["--var", "1abc"], "--var"),
        (["--var", "ok\n"], "--var"),
        (["--identity", "../x"], "--identity"),
        (["--identity", "Upper"], "--identity"),
        (["--identity", "x\n"], "--identity"),
        (["--revision", ""], "--revision"),
        (["--revision", "  "], "--revision"),
        (["--revision", "--upload-pack=touch pwned"], "--revision"),
        (["--agent", "spinnaker"], "--agent"),
        (["--stack", "dev", "--var", "x"], "--stack"),
    ],
)
def test_verify_flag_values_are_checked_in_full(cli, bare_remote: Path, args: list[str], flag: str) -> None:
    base = ["verify", "--repo", str(bare_remote)]
    if "--env" not in args:
        base += ["--env", "dev"]
    result = invoke(cli, *base, *args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"error: {flag}"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_bootstrap_env_with_a_newline_pushes_nothing(cli, bare_remote: Path) -> None:
    result = invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", "dev\n")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --env")
    assert git("--git-dir", str(bare_remote), "for-each-ref") == ""


def test_token_file_help_names_the_file_variable(cli) -> None:
    result = invoke(cli, "bootstrap", "--help")
    text = " ".join(result.stdout.split())
    assert "$EKSGITOPS_GIT_TOKEN_FILE" in text


def test_pushing_to_a_checked_out_branch_says_why_and_what_to_do(cli, tmp_path: Path) -> None:
    target = tmp_path / "nonbare"
    git("init", "-q", "--initial-branch=main", str(target))
    commit_file(target, "README.md", "x\n", "init")
    before = log(target / ".git")
    result = invoke(cli, "bootstrap", "--repo", str(target), "--env", "dev")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: cannot push main to {target}: it is a non-bare repository with main checked out; push to a "
        "bare repository (git clone --bare) or set receive.denyCurrentBranch=updateInstead there; nothing "
        "was "
        "pushed"
    )
    assert "kept moving" not in result.stderr
    assert log(target / ".git") == before


def test_a_new_branch_prints_the_revision_to_verify(cli, bare_remote: Path) -> None:
    assert invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", "dev").exit_code == 0
    result = invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", "qa", "--branch", "qa-env")
    assert result.exit_code == 0, result.output
    hint = f"`eksgitops fleet verify --repo {bare_remote} --env qa --revision qa-env`"
    assert hint in result.stdout
    ok = invoke(cli, "verify", "--repo", str(bare_remote), "--env", "qa", "--revision", "qa-env")
    assert ok.exit_code == 0, ok.output


def test_repo_url_matches_argocd_applications_to_a_local_checkout(
    cli, bare_remote: Path, tmp_path: Path
) -> None:
    assert (
        invoke(cli, "bootstrap", "--repo", str(bare_remote), "--env", "dev", "--agent", "argocd").exit_code
        == 0
    )
    work = clone(bare_remote, tmp_path / "work")
    public = "https://git.example.com/org/fleet.git"
    text = (work / "clusters/dev/apps.yaml").read_text()
    commit_file(work, "clusters/dev/apps.yaml", text.replace(f"file://{bare_remote}", public), "public url")
    edit(work, "apps/dev/rollout-patch.yaml", "name: podinfo", "name: web")
    git("commit", "-qam", "break", cwd=work)
    git("push", "-q", "origin", "main", cwd=work)
    unmatched = invoke(cli, "verify", "--repo", str(bare_remote), "--env", "dev")
    assert unmatched.exit_code == 0
    assert f"source {public} is not this repository (use --repo-url to match it)" in unmatched.stdout
    matched = invoke(cli, "verify", "--repo", str(bare_remote), "--env", "dev", "--repo-url", public)
    assert matched.exit_code == 1
    assert "no matches for Id Rollout.v1alpha1.argoproj.io/web.podinfo" in matched.stdout
