"""eksgitops.git_transport: the URL check, the loopback rule and the environment git gets, each
checked against what real git does with them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from eksgitops.git_transport import (
    TransportError,
    check_ref,
    check_remote,
    git_environment,
    ipv4_number,
    is_loopback,
    run_git,
    scrubbed_environment,
    scrubbed_process_environment,
)

HEADER = "Authorization: Basic c2VjcmV0LXRva2Vu"
SSH = "ssh -o BatchMode=yes"


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    for name in list(os.environ):
        if name.startswith("GIT_CONFIG_") and name not in ("GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_GLOBAL"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "2130706433", "0x7f000001", "017700000001", "127.1", "0x7f.1", "0177.0.0.1", "127.0.1"],
)
def test_numeric_forms_of_loopback_are_loopback(host: str) -> None:
    assert ipv4_number(host) == 0x7F000001
    assert is_loopback(f"http://{host}:8080/fleet.git")


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/fleet.git",
        "http://167772161/fleet.git",  # 10.0.0.1 written as one number
        "http://127.0.0.1.evil.example/fleet.git",
        "http://0x7f000001.evil.example/fleet.git",
        "http://127.0.0.1@evil.example/fleet.git",  # the host is after the last @
        "http://08.0.0.1/fleet.git",  # not octal: a name for the resolver
        "http://4294967296/fleet.git",  # beyond 32 bits
        "http://[::ffff:10.0.0.1]/fleet.git",
        "http://localhost.evil.example/fleet.git",
        "http://127.0.0.1\\@evil.example/fleet.git",
    ],
)
def test_everything_else_is_not_loopback(url: str) -> None:
    assert not is_loopback(url)


def test_ipv6_loopback_forms() -> None:
    assert is_loopback("http://[::1]:9418/x") and is_loopback("http://[::ffff:127.0.0.1]/x")
    assert is_loopback("http://LOCALHOST/x")


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("--upload-pack=touch /tmp/x;", "starts with '-', which git would read as an option"),
        ("-oProxyCommand=touch x:repo", "starts with '-'"),
        ("ssh://-oProxyCommand=touch%20x/fleet.git", "would reach ssh as an option"),
        ("ssh://git@-oProxyCommand=x/fleet.git", "would reach ssh as an option"),
        ("ssh://host:-p1/fleet.git", "would reach ssh as an option"),
        ("git@-oProxyCommand=x:fleet.git", "would reach ssh as an option"),
        ("ext::sh -c touch% /tmp/pwned", "ext:: makes git run a remote helper program"),
        ("fd::3", "fd:: makes git run a remote helper program"),
        ("FILE:///srv/fleet.git", "scheme FILE:// is not lower-case"),
        ("Https://host/fleet.git", "scheme Https:// is not lower-case"),
        ("ftp://host/fleet.git", "unsupported scheme ftp://"),
        ("git+ssh://host/fleet.git", "unsupported scheme git+ssh://"),
        ("https://host/fleet\x1b[2J.git", "contains control characters"),
        ("http://robot:s3cr3tpw@git.example.com/fleet.git", "credentials over plain http://"),
        ("http://robot:s3cr3tpw@167772161/fleet.git", "credentials over plain http://"),
    ],
)
def test_refused_remotes_say_why_and_name_the_flag(url: str, why: str) -> None:
    with pytest.raises(TransportError) as caught:
        check_remote(url, flag="--repo-url", credentials=False)
    message = str(caught.value)
    assert message.startswith("--repo-url ") and why in message
    assert "s3cr3tpw" not in message and "\n" not in message


@pytest.mark.parametrize(
    "url",
    [
        "https://git.example.com/org/fleet.git",
        "ssh://git@git.example.com:2222/org/fleet.git",
        "git@github.com:org/fleet.git",
        "git://127.0.0.1:9418/fleet.git",
        "file:///srv/fleet.git",
        "/srv/fleet.git",
        "relative/fleet.git",
        "http://robot:s3cr3tpw@127.0.0.1:8080/fleet.git",
        "http://robot:s3cr3tpw@2130706433:8080/fleet.git",
        "http://git.example.com/public.git",
    ],
)
def test_allowed_remotes_pass(url: str) -> None:
    check_remote(url, flag="--repo", credentials="robot" in url)


def test_a_token_over_plain_http_is_refused_without_userinfo_too() -> None:
    check_remote("http://git.example.com/fleet.git", flag="--repo", credentials=False)
    with pytest.raises(TransportError, match="travel in clear text"):
        check_remote("http://git.example.com/fleet.git", flag="--repo", credentials=True)


@pytest.mark.parametrize("ref", ["--upload-pack=x", "-b", "", " ", "main\n", "a\x1bb"])
def test_option_like_or_unprintable_refs_are_refused(ref: str) -> None:
    with pytest.raises(TransportError, match="--revision"):
        check_ref(ref, flag="--revision")
    check_ref("release/1.2", flag="--revision")


def _urlmatch(env: dict[str, str], url: str, cwd: Path) -> str:
    """The extraHeader git itself would send for a request to `url` in that environment."""
    proc = run_git(["config", "--get-urlmatch", "http.extraHeader", url], env=env, timeout=30, cwd=cwd)
    return proc.stdout.strip()


def test_the_token_header_is_scoped_to_the_repository_url_as_git_reads_it(tmp_path: Path) -> None:
    url = "https://robot@git.example.com/org/fleet.git"
    env = git_environment(ssh_command=SSH, url=url, header=HEADER)
    # Exactly the repository's requests carry it; another host, path or scheme does not.
    assert _urlmatch(env, "https://git.example.com/org/fleet.git/info/refs", tmp_path) == HEADER
    assert _urlmatch(env, "https://git.example.com/org/fleet.git/git-upload-pack", tmp_path) == HEADER
    for other in (
        "https://evil.example/org/fleet.git/info/refs",
        "https://git.example.com/other/fleet.git/info/refs",
        "http://git.example.com/org/fleet.git/info/refs",
        "https://git.example.com:8443/org/fleet.git/info/refs",
    ):
        assert _urlmatch(env, other, tmp_path) == "", other
    follow = run_git(["config", "--get", "http.followRedirects"], env=env, timeout=30, cwd=tmp_path)
    assert follow.stdout.strip() == "false"
    # Through the environment only: never a command-line argument, never a global header.
    assert not any(key == "GIT_CONFIG_PARAMETERS" for key in env)
    assert "http.extraHeader" not in [env[k] for k in env if k.startswith("GIT_CONFIG_KEY_")]


def test_no_header_for_ssh_or_paths(tmp_path: Path) -> None:
    for url in ("ssh://git@host/fleet.git", str(tmp_path)):
        env = git_environment(ssh_command=SSH, url=url, header=HEADER)
        assert HEADER not in env.values()


def test_the_users_own_git_config_entries_are_kept_and_ours_come_after(tmp_path: Path) -> None:
    base = {
        **os.environ,
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "user.name",
        "GIT_CONFIG_VALUE_0": "Config Env",
    }
    env = git_environment(ssh_command=SSH, url="https://git.example.com/f.git", header=HEADER, base=base)
    assert env["GIT_CONFIG_COUNT"] == "5"
    name = run_git(["config", "--get", "user.name"], env=env, timeout=30, cwd=tmp_path)
    assert name.stdout.strip() == "Config Env"


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"GIT_CONFIG_COUNT": "abc"}, "GIT_CONFIG_COUNT='abc': not a count"),
        ({"GIT_CONFIG_COUNT": "-1"}, "GIT_CONFIG_COUNT='-1': not a count"),
        ({"GIT_CONFIG_COUNT": "2", "GIT_CONFIG_KEY_0": "a.b", "GIT_CONFIG_VALUE_0": "c"}, "GIT_CONFIG_KEY_1"),
    ],
)
def test_a_git_config_count_git_cannot_read_is_one_clear_error(variables: dict[str, str], named: str) -> None:
    with pytest.raises(TransportError) as caught:
        scrubbed_environment({**os.environ, **variables})
    assert named in str(caught.value) and "\n" not in str(caught.value)


HOSTILE = {
    "GIT_DIR": "/elsewhere/.git",
    "GIT_WORK_TREE": "/elsewhere",
    "GIT_INDEX_FILE": "/elsewhere/index",
    "GIT_OBJECT_DIRECTORY": "/elsewhere/objects",
    "GIT_EXEC_PATH": "/elsewhere/bin",
    "GIT_SSH_COMMAND": "touch /tmp/pwned; ssh",
    "GIT_SSH": "/elsewhere/ssh",
    "GIT_ASKPASS": "/elsewhere/askpass",
    "SSH_ASKPASS": "/elsewhere/askpass",
    "GIT_PROXY_COMMAND": "/elsewhere/proxy",
    "GIT_TRACE_CURL": "/elsewhere/trace",
    "GIT_TRACE_REDACT": "0",
    "GIT_SSL_NO_VERIFY": "1",
    "GIT_ALLOW_PROTOCOL": "ext",
    "GIT_CONFIG_PARAMETERS": "'protocol.ext.allow'='always'",
    "GIT_PYTHON_GIT_EXECUTABLE": "/elsewhere/git",
}


def test_variables_that_redirect_git_are_dropped_and_identity_is_kept() -> None:
    base = {**HOSTILE, "GIT_AUTHOR_NAME": "A", "GIT_CONFIG_GLOBAL": "/g", "PATH": "/usr/bin"}
    env = git_environment(ssh_command=SSH, url="https://h/f.git", base=base)
    assert not (set(HOSTILE) - {"GIT_SSH_COMMAND", "GIT_ALLOW_PROTOCOL"}) & set(env)
    assert env["GIT_SSH_COMMAND"] == SSH and env["GIT_ALLOW_PROTOCOL"] == "https:ssh:git:http:file"
    assert env["GIT_AUTHOR_NAME"] == "A" and env["GIT_CONFIG_GLOBAL"] == "/g" and env["PATH"] == "/usr/bin"


def test_git_with_a_hostile_environment_still_works_on_the_repository_it_is_given(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    env = git_environment(ssh_command=SSH, base={**os.environ, **HOSTILE})
    proc = run_git(["rev-parse", "--absolute-git-dir"], env=env, timeout=30, cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(repo / ".git")


def test_git_refuses_ext_even_if_the_url_check_were_bypassed(tmp_path: Path) -> None:
    env = git_environment(
        ssh_command=SSH, base={**os.environ, "GIT_CONFIG_PARAMETERS": "'protocol.ext.allow'='always'"}
    )
    pwned = tmp_path / "pwned"
    proc = run_git(["ls-remote", "--", f"ext::sh -c touch% {pwned}"], env=env, timeout=30, cwd=tmp_path)
    assert proc.returncode != 0 and "not allowed" in proc.stderr
    assert not pwned.exists()
    # The catch: the same call with git's defaults overridden as a hostile config would run it.
    loose = {**os.environ, "GIT_CONFIG_PARAMETERS": "'protocol.ext.allow'='always'"}
    run_git(["ls-remote", "--", f"ext::sh -c touch% {pwned}"], env=loose, timeout=30, cwd=tmp_path)
    assert pwned.exists()


def test_the_process_environment_is_scrubbed_for_the_block_and_restored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GIT_DIR", "/elsewhere/.git")
    monkeypatch.setenv("EKSGITOPS_KEEP", "1")
    with scrubbed_process_environment():
        assert "GIT_DIR" not in os.environ and os.environ["EKSGITOPS_KEEP"] == "1"
    assert os.environ["GIT_DIR"] == "/elsewhere/.git"
