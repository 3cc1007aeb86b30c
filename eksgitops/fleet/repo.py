"""Clone, commit and push the fleet repository with GitPython, never losing a remote commit.

Every run works in a throw-away clone, so the user's own checkout (when `--repo` is a local
path) is never touched. Pushes are plain fast-forwards of one branch: when the remote moved,
the change is redone on the new tip and pushed again, a bounded number of times. A push of a
single ref is atomic on the server, so giving up leaves nothing half-pushed.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import git

from eksgitops.fleet import budget
from eksgitops.fleet.credentials import Credentials, url_scheme
from eksgitops.git_transport import (
    TransportError,
    check_remote,
    run_git,
    scrubbed_environment,
    scrubbed_process_environment,
)
from eksgitops.progress import progress

GIT_TIMEOUT = 300.0
"""Seconds one clone, fetch or push may take (git's own low-speed limit ends a stalled http(s)
transfer sooner; ssh and git:// rely on this one)."""
GIT_TIMEOUT_ENV = "EKSGITOPS_GIT_TIMEOUT"
DEFAULT_NAME = "eksgitops"
DEFAULT_EMAIL = "eksgitops@localhost"
NAME_ENV, EMAIL_ENV = "EKSGITOPS_GIT_AUTHOR_NAME", "EKSGITOPS_GIT_AUTHOR_EMAIL"


class FleetError(Exception):
    """A runtime failure with a one-line, credential-free message for the user (exit 1)."""


class RepoArgumentError(FleetError):
    """`--repo` (a URL git must not be given, a local path that is missing or not a repository) or
    the git environment is the user's mistake, not the world's state (exit 2)."""


@dataclass
class Checkout:
    """A temporary clone of the fleet repository on `branch`."""

    repo: git.Repo
    url: str
    branch: str
    creds: Credentials
    notes: list[str]
    default_branch: str | None = None
    """The remote's default branch (None for an empty remote)."""

    @property
    def root(self) -> Path:
        return Path(self.repo.working_tree_dir or ".")

    def head_sha(self) -> str | None:
        try:
            return self.repo.head.commit.hexsha
        except ValueError:  # unborn branch: empty repository
            return None


def check_url(repo_arg: str, creds: Credentials) -> None:
    """Refuse what must never reach git (`git_transport.check_remote`), and a git environment
    git cannot read, before anything is cloned or created."""
    if repo_arg.strip() in ("", ".", "./"):
        raise RepoArgumentError(
            f"--repo {repo_arg!r}: give a repository URL or the path of a git repository "
            "(the current directory is never implied)"
        )
    try:
        check_remote(repo_arg, flag="--repo", credentials=bool(creds.token))
        scrubbed_environment()
    except TransportError as exc:
        raise RepoArgumentError(creds.scrub(str(exc))) from None


def resolve_url(repo_arg: str) -> str:
    """A URL is used as given; a local path must be an existing git repository (bare or not)."""
    if url_scheme(repo_arg) is not None or re.match(r"^[\w.-]+@[\w.-]+:", repo_arg):
        return repo_arg
    if repo_arg.strip() in ("", ".", "./"):
        raise RepoArgumentError(f"--repo {repo_arg!r}: give a repository URL or the path of a git repository")
    path = Path(repo_arg).expanduser()
    if not path.exists():
        raise RepoArgumentError(
            f"--repo {repo_arg}: no such file or directory (give a URL or a git repository path)"
        )
    try:
        git.Repo(path)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise RepoArgumentError(
            f"--repo {repo_arg}: {path} is not a git repository (give a URL or a git repository path)"
        ) from None
    return str(path.resolve())


def describe_error(exc: git.GitCommandError | git.GitError, creds: Credentials, url: str) -> str:
    """Turn git's stderr into one line a user can act on (credentials removed)."""
    stderr = creds.scrub(str(getattr(exc, "stderr", "") or exc)).strip()
    low = stderr.lower()
    where = creds.scrub(url)
    if any(
        s in low
        for s in (
            "authentication failed",
            "could not read username",
            "could not read password",
            "permission denied (publickey",
            "permission denied, please try again",
            "terminal prompts disabled",
            "invalid username or password",
        )
    ) or re.search(r"(returned error|http):? 40[13]\b", low):
        return f"authentication to {where} failed (check EKSGITOPS_GIT_TOKEN / --token-file or the SSH key)"
    if any(
        s in low
        for s in (
            "could not resolve host",
            "connection refused",
            "unable to connect",
            "connection timed out",
            "network is unreachable",
            "no route to host",
            "failed to connect",
            "couldn't connect",
            "unable to look up",
        )
    ):
        return f"cannot reach {where} (host unreachable or connection refused)"
    if "does not appear to be a git repository" in low or "repository not found" in low or "not found" in low:
        return f"no repository at {where}"
    last = [line.strip() for line in stderr.splitlines() if line.strip()]
    detail = last[-1].removeprefix("stderr: ").strip(" '") if last else "git failed"
    return f"git failed on {where}: {detail}"


@contextmanager
def checkout(repo_arg: str, branch: str | None, creds: Credentials) -> Iterator[Checkout]:
    """Clone `repo_arg` into a temp directory and check out `branch` (None: no checkout yet).

    An empty remote gets an unborn `branch`; a remote without `branch` gets it created from its
    default branch, which is what a user bootstrapping a new environment branch expects.
    """
    check_url(repo_arg, creds)  # also reads the git environment: nothing is created when it fails
    with scrubbed_process_environment():
        # GitPython reads GIT_DIR, GIT_OBJECT_DIRECTORY… itself: even the path check runs scrubbed.
        url = resolve_url(repo_arg)
        env = creds.git_env(url)
        tmp = Path(tempfile.mkdtemp(prefix="eksgitops-fleet-"))
        try:
            # A spinner on a terminal only (see eksgitops.progress); the URL shown is scrubbed.
            with progress(f"Cloning {creds.scrub(url)}"):
                repo = _clone(url, tmp / "repo", env, creds)
            repo.git.update_environment(**env)
            co = Checkout(repo, url, branch or "", creds, notes=[])
            if branch is not None:
                _ensure_identity(repo)
                _switch(co)
            try:
                yield co
            finally:
                repo.close()  # GitPython keeps cat-file processes open until closed
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def network_timeout() -> float:
    """Seconds one clone, fetch or push may take: $EKSGITOPS_GIT_TIMEOUT, else `GIT_TIMEOUT`,
    and never past the run's deadline."""
    raw = os.environ.get(GIT_TIMEOUT_ENV, "")
    try:
        value = float(raw) if raw else GIT_TIMEOUT
    except ValueError:
        value = GIT_TIMEOUT
    if not math.isfinite(value) or value <= 0:
        value = GIT_TIMEOUT
    return budget.current().timeout(value)


def _timed_out(what: str, seconds: float, creds: Credentials, url: str) -> FleetError:
    return FleetError(
        f"{what} {creds.scrub(url)} did not finish within {seconds:.0f}s (the remote accepted the "
        f"connection but stalled, or is too large); nothing was changed ({GIT_TIMEOUT_ENV} sets the limit)"
    )


def _clone(url: str, dest: Path, env: dict[str, str], creds: Credentials) -> git.Repo:
    """`git clone --no-checkout` with a wall-clock limit (GitPython's clone has none)."""
    seconds = network_timeout()
    try:
        proc = run_git(["clone", "--no-checkout", "--quiet", "--", url, str(dest)], env=env, timeout=seconds)
    except subprocess.TimeoutExpired:
        raise _timed_out("cloning", seconds, creds, url) from None
    if proc.returncode != 0:
        error = git.GitCommandError(["git", "clone"], proc.returncode, proc.stderr, proc.stdout)
        raise FleetError(describe_error(error, creds, url))
    return git.Repo(dest)


def _remote_branches(repo: git.Repo) -> dict[str, str]:
    return {
        ref.remote_head: ref.commit.hexsha for ref in repo.remotes.origin.refs if ref.remote_head != "HEAD"
    }


def _switch(co: Checkout) -> None:
    repo, branch = co.repo, co.branch
    remote = _remote_branches(repo)
    co.default_branch = _default_branch(repo, remote) if remote else None
    if branch in remote:
        repo.git.checkout("-B", branch, f"origin/{branch}")
        return
    if not remote:
        # Empty remote: start the branch from nothing; the first push creates it.
        repo.git.checkout("--orphan", branch)
        co.notes.append(f"the remote is empty; creating branch {branch}")
        return
    default = _default_branch(repo, remote)
    repo.git.checkout("-B", branch, f"origin/{default}")
    co.notes.append(f"branch {branch} does not exist on the remote; creating it from {default}")


def _default_branch(repo: git.Repo, remote: dict[str, str]) -> str:
    try:
        head = repo.git.symbolic_ref("refs/remotes/origin/HEAD")
        return head.removeprefix("refs/remotes/origin/")
    except git.GitCommandError:
        return "main" if "main" in remote else sorted(remote)[0]


def _ensure_identity(repo: git.Repo) -> None:
    """Commit as the user's configured identity; fall back to a tool identity on bare CI boxes."""
    name = os.environ.get(NAME_ENV)
    email = os.environ.get(EMAIL_ENV)
    with repo.config_reader() as cfg:
        has_name = bool(cfg.get_value("user", "name", "")) or bool(os.environ.get("GIT_AUTHOR_NAME"))
        has_email = bool(cfg.get_value("user", "email", "")) or bool(os.environ.get("GIT_AUTHOR_EMAIL"))
    with repo.config_writer("repository") as w:
        if name or not has_name:
            w.set_value("user", "name", name or DEFAULT_NAME)
        if email or not has_email:
            w.set_value("user", "email", email or DEFAULT_EMAIL)


def commit_all(co: Checkout, paths: list[str], message: str) -> str | None:
    """Stage `paths` and commit; None when the tree did not change."""
    if not paths:
        return None
    co.repo.git.add("--", *paths)
    if co.head_sha() is not None and not co.repo.index.diff("HEAD"):
        return None
    co.repo.git.commit("-m", message, "--no-verify")
    return co.repo.head.commit.hexsha


PushHook = Callable[[int], None]
"""Called before each push attempt with the attempt number (1-based); tests use it to race."""


@dataclass
class PushResult:
    """Outcome of `push_with_retries`."""

    sha: str | None
    attempts: int
    pushed: bool


def push_with_retries(
    co: Checkout,
    make_change: Callable[[Checkout], str | None],
    attempts: int = 3,
    before_push: PushHook | None = None,
) -> PushResult:
    """Commit via `make_change` and push; on rejection redo it on the remote's new tip.

    `make_change` applies the change to the checkout and returns the new commit sha, or None
    when there is nothing to commit (then nothing is pushed).
    """
    for attempt in range(1, attempts + 1):
        sha = make_change(co)
        if sha is None:
            return PushResult(co.head_sha(), attempt, pushed=False)
        if before_push is not None:
            before_push(attempt)
        seconds = network_timeout()
        try:
            co.repo.git.push(
                "--porcelain", "origin", f"HEAD:refs/heads/{co.branch}", kill_after_timeout=seconds
            )
            return PushResult(sha, attempt, pushed=True)
        except git.GitCommandError as exc:
            text = f"{exc.stdout}\n{exc.stderr}"
            if _killed(exc):
                raise _timed_out("pushing to", seconds, co.creds, co.url) from None
            _refused(text, co)
            if not _is_rejection(text):
                raise FleetError(describe_error(exc, co.creds, co.url)) from None
            if attempt == attempts:
                raise FleetError(
                    f"gave up after {attempts} attempts: {co.branch} on {co.creds.scrub(co.url)} kept moving "
                    "while pushing; nothing was pushed, run bootstrap again"
                ) from None
            _reset_to_remote(co)
    raise AssertionError("unreachable")


def _killed(exc: git.GitCommandError) -> bool:
    """GitPython killed the command at `kill_after_timeout` (its own message says so)."""
    return "did not complete in" in str(exc.stderr or "") or "timed out" in str(exc.stderr or "").lower()


def _is_rejection(text: str) -> bool:
    """The remote moved meanwhile (a race worth redoing), as opposed to a refusal."""
    low = text.lower()
    return any(s in low for s in ("[rejected]", "non-fast-forward", "fetch first", "stale info"))


def _refused(text: str, co: Checkout) -> None:
    """The remote refused the push for a reason retrying never fixes: say which."""
    low = text.lower()
    where = co.creds.scrub(co.url)
    if "checked out" in low or "denycurrentbranch" in low:
        raise FleetError(
            f"cannot push {co.branch} to {where}: it is a non-bare repository with {co.branch} checked out; "
            "push to a bare repository (git clone --bare) or set receive.denyCurrentBranch=updateInstead "
            "there; nothing was pushed"
        )
    match = re.search(r"\[remote rejected\][^(\n]*\(([^)\n]*)\)", text)
    if match:
        raise FleetError(
            f"{where} refused the push of {co.branch}: {co.creds.scrub(match.group(1))}; nothing was pushed"
        )


def _reset_to_remote(co: Checkout) -> None:
    """Drop our local commit and start again from the remote's tip (or from nothing)."""
    seconds = network_timeout()
    try:
        co.repo.git.fetch("--prune", "origin", kill_after_timeout=seconds)
    except git.GitCommandError as exc:
        if _killed(exc):
            raise _timed_out("fetching", seconds, co.creds, co.url) from None
        raise FleetError(describe_error(exc, co.creds, co.url)) from None
    if co.branch in _remote_branches(co.repo):
        co.repo.git.reset("--hard", f"origin/{co.branch}")
        co.repo.git.clean("-fdx")
    else:
        # The branch was deleted meanwhile: rebuild it as an orphan.
        co.repo.git.checkout("--orphan", f"eksgitops-tmp-{os.getpid()}")
        co.repo.git.rm("-rf", "--cached", "--ignore-unmatch", ".")
        co.repo.git.clean("-fdx")
        co.repo.git.checkout("--orphan", co.branch)


def checkout_revision(co: Checkout, revision: str | None) -> str:
    """Detach the checkout at `revision` (branch, tag or commit); returns the commit sha.

    Without a revision: the remote's HEAD, or `main` when the remote HEAD names no branch (a
    bare repository created with another default), or its only branch.
    """
    if revision is not None and (not revision.strip() or revision.startswith("-")):
        raise RepoArgumentError(f"--revision {revision!r}: give a branch, tag or commit")
    if revision is None:
        remote = _remote_branches(co.repo)
        if not remote:
            raise FleetError(f"{co.creds.scrub(co.url)} is empty: nothing to verify")
        revision = _default_branch(co.repo, remote)
        if revision not in remote:
            revision = "main" if "main" in remote else sorted(remote)[0]
    candidates = [f"origin/{revision}", f"refs/tags/{revision}", revision]
    for cand in candidates:
        try:
            sha = co.repo.git.rev_parse("--verify", "--quiet", f"{cand}^{{commit}}")
        except git.GitCommandError:
            continue
        if sha:
            try:
                co.repo.git.checkout("--detach", "--force", sha)
            except git.GitCommandError as exc:
                # The commit is there, its trees or files are not: a shallow, partial or damaged clone.
                raise FleetError(
                    f"revision {revision} ({sha[:12]}) cannot be checked out of {co.creds.scrub(co.url)}: "
                    f"objects are missing (a shallow or partial clone?): {_git_detail(exc)}"
                ) from None
            return sha
    branches = ", ".join(sorted(_remote_branches(co.repo))) or "none, the repository is empty"
    raise FleetError(f"revision {revision} not found on {co.creds.scrub(co.url)} (branches: {branches})")


def changed_since(co: Checkout, since: str, sha: str) -> frozenset[str]:
    """Repository paths that differ between `since` (branch, tag or commit) and `sha`."""
    for cand in (f"origin/{since}", f"refs/tags/{since}", since):
        try:
            base = co.repo.git.rev_parse("--verify", "--quiet", f"{cand}^{{commit}}")
        except git.GitCommandError:
            continue
        if base:
            break
    else:
        raise RepoArgumentError(f"--since {since}: not found on {co.creds.scrub(co.url)}")
    try:
        out = co.repo.git.diff("--name-only", "--no-renames", "-z", base, sha)
    except git.GitCommandError as exc:
        raise FleetError(f"--since {since}: cannot compare with {sha[:12]}: {_git_detail(exc)}") from None
    return frozenset(p for p in out.split("\0") if p)


def _git_detail(exc: git.GitCommandError) -> str:
    lines = [line.strip() for line in str(exc.stderr or "").splitlines() if line.strip()]
    return lines[0].removeprefix("stderr: ").strip(" '") if lines else "git failed"


def git_check_ref_format(branch: str) -> bool:
    """Whether `branch` is a valid branch name, as git itself decides."""
    if branch.startswith("-"):
        return False
    proc = run_git(["check-ref-format", "--branch", branch], env=scrubbed_environment(), timeout=30)
    return proc.returncode == 0
