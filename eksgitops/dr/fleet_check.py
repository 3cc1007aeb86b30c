"""The Git half of a recovery: is the fleet reachable, does the revision exist and hold the path,
and will it reconcile (`eksgitops fleet verify`, run as a subprocess through `FleetVerifier`).

Plain `git` with a bounded timeout through `eksgitops.git_transport` (the URL check and the
environment every command shares: `--` before every URL, the token scoped to the repository's URL,
no redirects), credentials from `eksgitops.fleet.credentials` (never in a URL or a message).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from eksgitops.fleet.credentials import CredentialError, Credentials
from eksgitops.git_transport import TransportError, check_remote, scrubbed_environment
from eksgitops.git_transport import run_git as run_git_command

SHA = re.compile(r"[0-9a-f]{40}")


class GitCheckError(Exception):
    """A Git step failed: one line saying what and why."""


@dataclass(frozen=True)
class Revision:
    """A revision found in the fleet repository."""

    ref: str
    sha: str


def check_source(url: str, *, flag: str, creds: Credentials) -> None:
    """The URL check every command shares; GitCheckError names `flag` and says why."""
    try:
        check_remote(url, flag=flag, credentials=bool(creds.token))
    except TransportError as exc:
        raise GitCheckError(creds.scrub(str(exc))) from None


def git_credentials(load: Callable[[], Credentials], url: str | None, flag: str) -> Credentials:
    """The Git credentials, once git's environment can be read and `url` (named by `flag`) may be
    handed to git; GitCheckError otherwise, before anything is created or written."""
    try:
        scrubbed_environment()
        creds = load()
    except TransportError as exc:
        raise GitCheckError(str(exc)) from None
    except CredentialError as exc:
        raise GitCheckError(f"Git credentials: {exc}") from None
    if url:
        check_source(url, flag=flag, creds=creds)
    return creds


def run_git(
    args: Sequence[str],
    *,
    creds: Credentials,
    timeout: float,
    cwd: Path | None = None,
    url: str | None = None,
) -> str:
    """`git ARGS`; `url` is the remote it talks to (its token header is scoped to it)."""
    try:
        proc = run_git_command(args, env=creds.git_env(url), timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired:
        raise GitCheckError(f"git {args[0]} did not answer within {timeout:.0f}s") from None
    except TransportError as exc:
        raise GitCheckError(str(exc)) from None
    if proc.returncode != 0:
        # git's own cause first (ssh: Could not resolve hostname …), then its verdict.
        lines = [
            line.strip()
            for line in creds.scrub(proc.stderr).splitlines()
            if line.strip() and not line.startswith(("Please make sure", "and the repository exists"))
        ]
        message = "; ".join(dict.fromkeys(lines))[:400]
        raise GitCheckError(message or f"git {args[0]} exited {proc.returncode}")
    return proc.stdout


def mirror(url: str, dest: Path, *, creds: Credentials, timeout: float = 120.0) -> Path:
    """A bare copy of every branch and tag of `url` (a URL, a path or a `git bundle` file)."""
    check_source(url, flag="the fleet repository", creds=creds)
    run_git(["clone", "--bare", "--quiet", "--", url, str(dest)], creds=creds, timeout=timeout, url=url)
    return dest


def resolve(repo: Path, revision: str, *, creds: Credentials) -> Revision:
    """The commit `revision` (branch, tag or sha) names in a bare copy; GitCheckError when absent."""
    for candidate in (revision, f"refs/heads/{revision}", f"refs/tags/{revision}"):
        try:
            sha = run_git(
                ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{candidate}^{{commit}}"],
                creds=creds,
                timeout=30,
                cwd=repo,
            ).strip()
        except GitCheckError:
            continue
        if SHA.fullmatch(sha):
            return Revision(revision, sha)
    raise GitCheckError(f"revision {revision!r} is not a branch, tag or commit of the repository")


def has_path(repo: Path, sha: str, path: str, *, creds: Credentials) -> bool:
    """True when `path` is a directory at commit `sha`."""
    out = run_git(
        ["ls-tree", "-d", "--name-only", sha, "--", path.rstrip("/")], creds=creds, timeout=30, cwd=repo
    )
    return bool(out.strip())


def remote_head(url: str, ref: str, *, creds: Credentials, timeout: float = 60.0) -> str:
    """The sha a branch or tag points at on the remote (one round trip, nothing fetched)."""
    check_source(url, flag="the fleet repository", creds=creds)
    if SHA.fullmatch(ref):
        return ref
    out = run_git(
        ["ls-remote", "--", url, f"refs/heads/{ref}", f"refs/tags/{ref}^{{}}", f"refs/tags/{ref}"],
        creds=creds,
        timeout=timeout,
        url=url,
    )
    shas = [line.split()[0] for line in out.splitlines() if line.strip()]
    if not shas:
        raise GitCheckError(f"{ref!r} is not a branch or tag of the repository")
    return shas[0]


POLICY_FINDINGS_ONLY = 3
"""`fleet verify`'s exit code when the revision will reconcile but has policy findings."""


class FleetVerifier(Protocol):
    """`eksgitops fleet verify` on one revision: (passes, what it said)."""

    def verify(self, repo: str, env: str, revision: str, stack: str) -> tuple[bool, str]: ...


class SubprocessFleetVerifier:
    """Runs `eksgitops fleet verify --repo --env --revision --stack` in a child process.

    A child process, so that the fleet tool's own exit code and messages are what counts,
    exactly as in CI. `command` is the program to run (default: this Python's eksgitops).
    """

    def __init__(
        self, command: Sequence[str] | None = None, *, timeout: float = 600.0, cwd: Path | None = None
    ):
        self.command = list(command or [sys.executable, "-m", "eksgitops.cli"])
        self.timeout = timeout
        self.cwd = cwd

    def verify(self, repo: str, env: str, revision: str, stack: str) -> tuple[bool, str]:
        # The path and the variables come from the stack's plan (build/<stack>/bridge.json).
        args = [
            *self.command,
            "fleet",
            "verify",
            "--repo",
            repo,
            "--env",
            env,
            "--revision",
            revision,
            "--stack",
            stack,
        ]
        try:
            proc = subprocess.run(
                args, capture_output=True, text=True, timeout=self.timeout, cwd=self.cwd, check=False
            )
        except subprocess.TimeoutExpired:
            return False, f"fleet verify did not finish within {self.timeout:.0f}s"
        except OSError as exc:
            return False, f"fleet verify could not start: {exc.strerror}"
        text = (proc.stdout + proc.stderr).strip().splitlines()
        summary = next((line for line in reversed(text) if line.strip()), f"exit {proc.returncode}")
        # 0: will reconcile; 3: will reconcile, with policy findings (docs/fleet.md). A rebuild
        # needs the first; the second is reported, not a reason to stop a recovery.
        return proc.returncode in (0, POLICY_FINDINGS_ONLY), " ".join(summary.split())[:300]
