"""`eksgitops doctor`: every check says pass, FAIL or skipped from what it really found.

The tools are fake executables on a PATH made by each test (versions as the real ones print
them), so each verdict is driven from outside: too old, v1 instead of v2, missing, hung.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer
from typer.testing import CliRunner

from eksgitops.cli import app
from eksgitops.doctor import checks

ROOT = Path(__file__).resolve().parents[2]
PULUMI_272 = "v3.272.0"
AWS_V2 = "aws-cli/2.27.50 Python/3.13.4 Linux/6.1.0 exe/x86_64.debian.12"
AWS_V1 = "aws-cli/1.45.11 Python/3.11.7 Linux/6.1.0 botocore/1.44.8"


def _tool(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH with git (the real one) and nothing else; each test adds its own fakes."""
    folder = tmp_path / "bin"
    folder.mkdir()
    real_git = shutil.which("git")
    assert real_git
    os.symlink(real_git, folder / "git")
    # The shipped prod stack verifies SSH signatures: ssh-keygen is what it needs.
    real_ssh_keygen = shutil.which("ssh-keygen")
    assert real_ssh_keygen
    os.symlink(real_ssh_keygen, folder / "ssh-keygen")
    monkeypatch.setenv("PATH", str(folder))
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    monkeypatch.setenv("PULUMI_HOME", str(tmp_path / "pulumi-home"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "stacks").mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    for name in ("dev", "staging", "prod"):
        shutil.copy(ROOT / "stacks" / f"Pulumi.{name}.yaml", tmp_path / "stacks")
    return folder


def _doctor(*args: str) -> tuple[int, str, dict]:
    text = CliRunner().invoke(app, ["doctor", *args])
    as_json = CliRunner().invoke(app, ["doctor", *args, "--json"])
    assert as_json.exit_code == text.exit_code, (text.output, as_json.output)
    return text.exit_code, text.output, json.loads(as_json.stdout)


def _status(document: dict, name: str) -> tuple[str, str]:
    found = [c for c in document["checks"] if c["name"] == name]
    assert len(found) == 1, document
    return found[0]["status"], found[0]["detail"]


def test_everything_present_is_exit_0_and_each_line_says_what_it_found(tools: Path, tmp_path: Path) -> None:
    _tool(tools, "pulumi", f"echo {PULUMI_272}")
    _tool(tools, "aws", f"echo '{AWS_V2}'")
    state = tmp_path / "state"
    state.mkdir()
    code, out, document = _doctor("--backend", f"file://{state}")
    assert code == 0, out
    assert document["ok"] is True
    assert _status(document, "Pulumi CLI") == ("pass", f"3.272.0 at {tools}/pulumi")
    assert _status(document, "AWS CLI v2")[0] == "pass"
    assert _status(document, "git")[0] == "pass"
    assert _status(document, "kustomize engine")[0] == "pass"
    assert _status(document, "state backend") == ("pass", f"file://{state}: a writable folder")
    # Not checked, so never "pass".
    assert _status(document, "AWS credentials")[0] == "skipped"
    assert _status(document, "signing tools")[0] == "skipped"
    assert out.splitlines()[-1] == "doctor: nothing missing"


@pytest.mark.parametrize(
    ("pulumi", "expected"),
    [
        (None, "not found on PATH"),
        ("echo v3.114.9", "3.114.9 at"),
        ("echo 'no version here'", "printed no version"),
        ("exit 3", "printed no version"),
    ],
)
def test_a_missing_or_old_pulumi_cli_is_exit_1(
    tools: Path, tmp_path: Path, pulumi: str | None, expected: str
) -> None:
    if pulumi is not None:
        _tool(tools, "pulumi", pulumi)
    _tool(tools, "aws", f"echo '{AWS_V2}'")
    code, out, document = _doctor("--backend", f"file://{tmp_path}")
    assert code == 1
    status, detail = _status(document, "Pulumi CLI")
    assert status == "fail" and expected in detail
    assert "doctor: 1 missing (Pulumi CLI)" in out


def test_aws_cli_v1_is_not_v2(tools: Path, tmp_path: Path) -> None:
    _tool(tools, "pulumi", f"echo {PULUMI_272}")
    _tool(tools, "aws", f"echo '{AWS_V1}' >&2")
    code, _, document = _doctor("--backend", f"file://{tmp_path}")
    assert code == 1
    assert _status(document, "AWS CLI v2") == ("fail", f"1.45.11 at {tools}/aws; version 2 is needed")


def test_a_hung_tool_is_a_failure_after_the_timeout_not_a_hang(
    tools: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checks, "VERSION_TIMEOUT", 0.5)
    _tool(tools, "pulumi", "exec /bin/sleep 30")
    status, detail = checks.pulumi_cli().status, checks.pulumi_cli().detail
    assert status == "fail" and "did not answer in" in detail


def test_no_backend_fails_and_a_cloud_backend_is_skipped_offline(
    tools: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert checks.state_backend(Path("."), None).status == "fail"
    monkeypatch.setenv("PULUMI_BACKEND_URL", "s3://team-state?region=eu-west-1")
    check = checks.state_backend(Path("."), None)
    assert (
        check.status == "skipped" and check.detail == "s3://team-state configured; reached only with --online"
    )


def test_signing_tools_are_checked_only_where_the_stack_verifies_signatures(tools: Path) -> None:
    assert checks.signing_tools(None).status == "skipped"
    assert checks.signing_tools({"gitops": {"agent": "flux"}}).status == "skipped"
    pgp = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n...\n-----END PGP PUBLIC KEY BLOCK-----"
    config = {"gitops": {"verify": {"mode": "HEAD", "publicKeys": [pgp, "ssh-ed25519 AAAA me"]}}}
    missing = checks.signing_tools(config)
    assert missing.status == "fail" and missing.detail == "gpg not found on PATH"
    _tool(tools, "gpg", "true")
    assert checks.signing_tools(config).status == "pass"


def test_a_shipped_stack_is_read_and_a_bad_stack_name_is_exit_2(tools: Path, tmp_path: Path) -> None:
    _tool(tools, "pulumi", f"echo {PULUMI_272}")
    _tool(tools, "aws", f"echo '{AWS_V2}'")
    for stack in ("dev", "staging", "prod"):
        code, out, _ = _doctor(stack, "--backend", f"file://{tmp_path}")
        assert code == 0, out
    bad = CliRunner().invoke(app, ["doctor", "../x"])
    assert bad.exit_code == 2
    assert "STACK '../x': not a stack name" in bad.output
    missing = CliRunner().invoke(app, ["doctor", "qa"])
    assert missing.exit_code == 2 and "no stack file" in missing.output


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def test_online_asks_sts_and_compares_the_account_with_the_stack(
    tools: Path, tmp_path: Path, moto_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    requests.post(f"{moto_url}/moto-api/reset", timeout=10)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    _tool(tools, "pulumi", f"echo {PULUMI_272}")
    _tool(tools, "aws", f"echo '{AWS_V2}'")
    # The shipped dev stack pins no account: the check says whose credentials these are.
    code, _, document = _doctor("dev", "--online", "--backend", f"file://{tmp_path}")
    assert code == 0
    status, detail = _status(document, "AWS credentials")
    assert status == "pass" and "account 123456789012 in eu-west-1" in detail and "pins no account" in detail
    # moto's account is 123456789012; a stack that allows only 111122223333 is refused.
    stack = tmp_path / "stacks" / "Pulumi.dev.yaml"
    pinned = stack.read_text().replace("config:\n", 'config:\n  aws:allowedAccountIds: ["111122223333"]\n', 1)
    stack.write_text(pinned)
    code, _, document = _doctor("dev", "--online", "--backend", f"file://{tmp_path}")
    assert code == 1
    status, detail = _status(document, "AWS credentials")
    assert status == "fail" and "account 123456789012" in detail and "111122223333" in detail
    stack.write_text(pinned.replace("111122223333", "123456789012"))
    code, out, document = _doctor("dev", "--online", "--backend", f"file://{tmp_path}")
    assert code == 0, out
    assert _status(document, "AWS credentials")[0] == "pass"
    # An s3 backend is reached online: missing bucket, then present.
    state = "s3://team-state?region=eu-west-1"
    code, _, document = _doctor("dev", "--online", "--backend", state)
    assert code == 1 and _status(document, "state backend")[0] == "fail"
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.create_bucket(Bucket="team-state", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    code, _, document = _doctor("dev", "--online", "--backend", state)
    assert code == 0
    assert _status(document, "state backend") == ("pass", "s3://team-state is reachable")
