"""Git transport attacks on `fleet verify`, `fleet bootstrap`, `dr verify` and `dr preflight`.

Each test builds its hostile input (a URL, a redirecting server, a git environment), runs the
real CLI and asks the sandbox whether anything leaked, was written outside the command's
temporary folder or contacted the canary server.
"""

from __future__ import annotations

import base64
import http.server
import os
import shutil
import stat
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eksgitops.cli import app
from tests.dr.conftest import STACK_FILE
from tests.fleet.hostile.harness import CANARY_ENV, Outcome, Sandbox, fleet

TOKEN = CANARY_ENV["EKSGITOPS_GIT_TOKEN"]
BASIC = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
# One object to verify: a layout with nothing in it is "nothing was verified" (exit 4).
KUSTOMIZATION = (
    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
    "configMapGenerator:\n  - name: settings\n    namespace: default\n    literals:\n      - level=info\n"
)


def dr(*args: str) -> Outcome:
    result = CliRunner().invoke(app, ["dr", *args], catch_exceptions=False)
    return Outcome(result.exit_code, result.stdout, result.stderr)


@pytest.fixture
def project(sandbox: Sandbox) -> Path:
    """A dr project in the test's working directory (stacks/Pulumi.dev.yaml, Pulumi.yaml)."""
    root = Path.cwd()
    (root / "stacks").mkdir()
    (root / "stacks" / "Pulumi.dev.yaml").write_text(STACK_FILE)
    repo_root = Path(__file__).resolve().parents[3]
    shutil.copy(repo_root / "Pulumi.yaml", root / "Pulumi.yaml")
    sandbox.snapshot()
    return root


# --- hostile URLs -------------------------------------------------------------------------

# (URL with {pwned} for a file the attack would create, what the refusal must say)
HOSTILE_URLS = [
    ("ssh://-oProxyCommand=touch%20{pwned}/fleet.git", "would reach ssh as an option"),
    ("ssh://git@example.com:-oProxyCommand=x/fleet.git", "would reach ssh as an option"),
    ("git@-oProxyCommand=touch:fleet.git", "would reach ssh as an option"),
    ("--upload-pack=touch {pwned};", "starts with '-', which git would read as an option"),
    ("-oProxyCommand=touch {pwned}", "starts with '-'"),
    ("ext::sh -c touch% {pwned}", "ext:: makes git run a remote helper program"),
    ("fd::0", "fd:: makes git run a remote helper program"),
    ("FILE:///srv/fleet.git", "scheme FILE:// is not lower-case"),
    ("HTTPS://127.0.0.1/fleet.git", "scheme HTTPS:// is not lower-case"),
    # The sandbox exports a token: over plain http it would travel in clear text.
    ("http://git.example.com/fleet.git", "credentials over plain http:// travel in clear text"),
    ("http://167772161/fleet.git", "credentials over plain http:// travel in clear text"),  # 10.0.0.1
    ("http://0x0a000001/fleet.git", "credentials over plain http:// travel in clear text"),
    ("http://127.0.0.1.example.com/fleet.git", "credentials over plain http:// travel in clear text"),
]


@pytest.mark.parametrize(("template", "why"), HOSTILE_URLS)
def test_fleet_refuses_a_hostile_repo_with_exit_2_and_says_why(
    sandbox: Sandbox, template: str, why: str
) -> None:
    pwned = sandbox.tmp / "outside" / "pwned"
    url = template.format(pwned=pwned)
    for command in (["verify", "--env", "dev"], ["bootstrap", "--env", "dev"]):
        out = fleet(*command, f"--repo={url}")
        assert out.exit_code == 2, out.output
        [line] = out.stderr.strip().splitlines()
        assert line.startswith("error: --repo ") and why in line, line
        assert "Traceback" not in out.output
    assert not pwned.exists()
    sandbox.assert_clean(out.output)


@pytest.mark.parametrize(("template", "why"), HOSTILE_URLS)
def test_dr_refuses_a_hostile_repo_url_with_exit_2_before_anything_runs(
    sandbox: Sandbox, project: Path, template: str, why: str
) -> None:
    pwned = sandbox.tmp / "outside" / "pwned"
    url = template.format(pwned=pwned)
    for command in ("verify", "preflight"):
        out = dr(command, "dev", f"--repo-url={url}")
        assert out.exit_code == 2, out.output
        [line] = out.stderr.strip().splitlines()
        assert line.startswith(f"eksgitops dr {command}: --repo-url ") and why in line, line
    assert not pwned.exists() and not (project / "build").exists()
    sandbox.assert_clean(out.output)


def test_the_dr_upload_pack_attack_runs_without_the_check(sandbox: Sandbox) -> None:
    # The catch: what dr ran before (`git ls-remote URL`, no `--`) executes the option's command.
    pwned = sandbox.tmp / "cmdtmp" / "pwned"
    subprocess.run(
        ["git", "ls-remote", f"--upload-pack=touch {pwned};", "."], capture_output=True, check=False
    )
    assert pwned.exists()
    pwned.unlink()


# --- redirects must not carry the token -------------------------------------------------


class _Recording(http.server.BaseHTTPRequestHandler):
    """Records each request's headers; redirects to `target` when set, else answers 404."""

    target = ""
    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:
        self.seen.append({"path": self.path, **dict(self.headers)})
        if self.target:
            self.send_response(302)
            self.send_header("Location", self.target + self.path)
        else:
            self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def recording_server(target: str = "") -> Iterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []
    handler = type("Handler", (_Recording,), {"target": target, "seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def _authorized(seen: list[dict[str, str]]) -> bool:
    return any(h.get("Authorization") == f"Basic {BASIC}" for h in seen)


def test_fleet_verify_does_not_follow_a_redirect_with_the_token(sandbox: Sandbox) -> None:
    with recording_server(sandbox.canary.url) as (url, seen):
        out = fleet("verify", "--env", "dev", f"--repo={url}/fleet.git")
    assert out.exit_code == 4, out.output
    assert len(out.stderr.strip().splitlines()) == 1 and out.stderr.startswith("error: ")
    # The token went to the repository's own URL (the scoping matches), and nowhere else.
    assert _authorized(seen)
    sandbox.assert_clean(out.output)


def test_dr_verify_does_not_follow_a_redirect_with_the_token(sandbox: Sandbox, project: Path) -> None:
    out_dir = sandbox.cmd_tmp / "out"
    with recording_server(sandbox.canary.url) as (url, seen):
        out = dr("verify", "dev", f"--repo-url={url}/fleet.git", "--out", str(out_dir))
    assert out.exit_code == 1, out.output
    assert "stopped in phase git revision" in out.stderr
    assert _authorized(seen)
    shutil.rmtree(out_dir)  # the run's own report, in the command's temporary folder
    sandbox.assert_clean(out.output)


def test_git_defaults_follow_the_redirect_to_the_other_server(tmp_path: Path) -> None:
    # The catch: with git's default policy the request goes where the redirect says (curl drops
    # an Authorization header when host or port change, but git then takes the new server as
    # the repository and sends a global extraHeader with every later request to it). With
    # redirects off and the header scoped to the repository's URL, the canary above is never
    # contacted at all.
    with recording_server() as (canary, canary_seen), recording_server(canary) as (url, _):
        subprocess.run(
            [
                "git",
                "-c",
                f"http.extraHeader=Authorization: Basic {BASIC}",
                "ls-remote",
                "--",
                f"{url}/fleet.git",
            ],
            cwd=tmp_path,
            capture_output=True,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
            timeout=60,
            check=False,
        )
    assert canary_seen and canary_seen[0]["path"].startswith("/fleet.git/info/refs")


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "017700000001", "127.1"])
def test_numeric_loopback_forms_may_carry_credentials_over_http(
    sandbox: Sandbox, hostile_remote, git_http: tuple[str, Path], host: str
) -> None:
    base_url, base = git_http
    hostile_remote({"clusters/dev/kustomization.yaml": KUSTOMIZATION}, name="fleet", under=base)
    port = base_url.rsplit(":", 1)[1]
    out = fleet("verify", "--env", "dev", f"--repo=http://{host}:{port}/fleet-1.git")
    assert out.exit_code == 0, out.output
    assert "will reconcile" in out.stdout
    sandbox.assert_clean(out.output)


# --- a hostile git environment ----------------------------------------------------------


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"GIT_CONFIG_COUNT": "abc"}, "GIT_CONFIG_COUNT='abc': not a count"),
        ({"GIT_CONFIG_COUNT": "1"}, "GIT_CONFIG_KEY_0 or GIT_CONFIG_VALUE_0 is missing"),
    ],
)
def test_a_git_environment_git_cannot_read_is_one_line_and_exit_2(
    sandbox: Sandbox, hostile_remote, project: Path, monkeypatch: pytest.MonkeyPatch, variables, named
) -> None:
    bare = hostile_remote({"clusters/dev/kustomization.yaml": KUSTOMIZATION})
    for key, value in variables.items():
        monkeypatch.setenv(key, value)
    for out in (
        fleet("verify", "--env", "dev", f"--repo={bare}"),
        fleet("bootstrap", "--env", "dev", f"--repo={bare}"),
    ):
        assert out.exit_code == 2, out.output
        [line] = out.stderr.strip().splitlines()
        assert line.startswith("error: environment variable ") and named in line
    for command in ("verify", "preflight"):
        out = dr(command, "dev", f"--repo-url={bare}")
        assert out.exit_code == 2, out.output
        [line] = out.stderr.strip().splitlines()
        assert line.startswith(f"eksgitops dr {command}: environment variable ") and named in line
    assert not (project / "build").exists()
    sandbox.assert_clean(out.output)


def _script(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_git_variables_that_would_redirect_git_are_neutralised(
    sandbox: Sandbox, hostile_remote, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = hostile_remote({"clusters/dev/kustomization.yaml": KUSTOMIZATION})
    outside = sandbox.tmp / "outside"
    decoy = outside / "decoy"
    subprocess.run(["git", "init", "-q", str(decoy)], check=True)
    pwned = outside / "pwned"
    hook = _script(outside / "run-me", f"touch {pwned}; exit 1")
    hostile = {
        "GIT_DIR": str(decoy / ".git"),
        "GIT_WORK_TREE": str(decoy),
        "GIT_INDEX_FILE": str(outside / "index"),
        "GIT_OBJECT_DIRECTORY": str(outside / "objects"),
        "GIT_EXEC_PATH": str(outside / "no-exec-path"),
        "GIT_SSH_COMMAND": str(hook),
        "GIT_ASKPASS": str(hook),
        "SSH_ASKPASS": str(hook),
        "GIT_PROXY_COMMAND": str(hook),
        "GIT_TRACE": str(outside / "trace"),
        "GIT_TRACE_PACKET": str(outside / "trace-packet"),
        "GIT_TRACE2_EVENT": str(outside / "trace2"),
        "GIT_ALLOW_PROTOCOL": "ext",
        "GIT_CONFIG_PARAMETERS": "'core.hooksPath'='/nonexistent'",
    }
    for key, value in hostile.items():
        monkeypatch.setenv(key, value)
    sandbox.snapshot()
    verify = fleet("verify", "--env", "dev", f"--repo={bare}")
    assert verify.exit_code == 0, verify.output
    dry = fleet("bootstrap", "--env", "dev", f"--repo={bare}", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would write: clusters/dev/apps.yaml" in dry.stdout
    assert not pwned.exists()
    sandbox.assert_clean(verify.output, dry.output)


# --- the token never in a process's arguments --------------------------------------------


def test_the_token_never_appears_in_gits_arguments(
    sandbox: Sandbox, hostile_remote, git_http: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    base_url, base = git_http
    hostile_remote({"clusters/dev/kustomization.yaml": KUSTOMIZATION}, name="fleet", under=base)
    real_git = shutil.which("git")
    assert real_git
    # Outside every watched place: a `git` first on PATH that logs its arguments.
    spy = Path(tempfile.mkdtemp(prefix="eksgitops-argv-", dir="/tmp"))
    try:
        log = spy / "argv.log"
        _script(spy / "git", f'printf "%s\\n" "$*" >> {log}\nexec {real_git} "$@"')
        monkeypatch.setenv("PATH", f"{spy}{os.pathsep}{os.environ['PATH']}")
        out = fleet("verify", "--env", "dev", f"--repo={base_url}/fleet-1.git")
        assert out.exit_code == 0, out.output
        logged = log.read_text()
    finally:
        shutil.rmtree(spy)
    assert f"{base_url}/fleet-1.git" in logged  # the spy saw the clone
    assert TOKEN not in logged and BASIC not in logged
    sandbox.assert_clean(out.output)
