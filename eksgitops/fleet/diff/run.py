"""One clone, two walks: base, then head, each as `fleet verify` builds it (same sandbox, same
build cache), then the comparison."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path

import git

from eksgitops.fleet.credentials import Credentials, strip_userinfo
from eksgitops.fleet.diff import walked
from eksgitops.fleet.diff.compare import compare, stalled_owners
from eksgitops.fleet.diff.model import DiffResult
from eksgitops.fleet.kustomize_engine import Engine, find_engine
from eksgitops.fleet.repo import Checkout, FleetError, checkout, checkout_revision
from eksgitops.fleet.verify import VerifyRequest, verify_and_apply
from eksgitops.fleet.verify.request import resolve


def diff(
    repo_arg: str,
    base: str,
    head: str | None,
    creds: Credentials,
    request: VerifyRequest,
    engine: Engine | None = None,
) -> DiffResult:
    """Clone `repo_arg` once and compare `request.env_path` at `base` and `head` (default: the
    remote's HEAD). Raises FleetError when the repository or a revision cannot be read."""
    engine = engine or find_engine()
    with checkout(repo_arg, None, creds) as co:
        urls = {co.url, repo_arg, _public_url(co)}
        base_sha = checkout_revision(co, base)
        head_sha = checkout_revision(co, head)
        trees = {sha: _tree(co, sha) for sha in (base_sha, head_sha)}
        return diff_checkout(
            co.root, request, base_sha, head_sha, lambda sha: _switch(co, sha), engine, urls, trees
        )


def diff_checkout(
    root: Path,
    request: VerifyRequest,
    base_sha: str,
    head_sha: str,
    switch: Callable[[str], None],
    engine: Engine | None = None,
    clone_urls: Iterable[str] = (),
    trees: Mapping[str, str | None] | None = None,
) -> DiffResult:
    """The comparison on a throw-away checkout at `root` that `switch(sha)` moves between commits
    (verify builds in it in place, as it does in its own clone). `trees`: the tree id of each
    commit, under which the walk of base is kept (walked.py)."""
    started = time.monotonic()
    engine = engine or find_engine()
    urls = tuple(clone_urls)
    trees = trees or {}
    # --since has no meaning here: the build cache, keyed by content, already spares the builds
    # that read nothing changed.
    request = replace(request, since=None)
    switch(base_sha)
    base_walk = walked.walk(request, root, engine, urls, trees.get(base_sha))
    switch(head_sha)
    agent = resolve(request, walked.source_root(request, root) or root, urls).agent
    head_report, head_applied = verify_and_apply(
        request, root, engine=engine, disposable=True, clone_urls=urls
    )
    head_tree = trees.get(head_sha)
    key = walked.walk_key(request, head_tree, engine, urls) if head_tree else None
    if key is not None:
        # The head of today is the base of tomorrow's pull requests once it is merged.
        errors = len(head_report.errors)
        walked.store(key, walked.Walked(head_applied, errors, list(head_report.not_checked)))
    lines = [f.message for f in head_report.errors] + list(head_report.not_checked)
    stalled = stalled_owners(base_walk.applied, head_applied, lines)
    changes, owners = compare(base_walk.applied, head_applied, agent, frozenset(stalled))
    result = DiffResult(
        request.env_path,
        base_sha,
        head_sha,
        changes,
        owners,
        head_report,
        base_errors=base_walk.errors,
    )
    if base_walk.errors:
        result.notes.append(
            f"verify met {base_walk.errors} error(s) at base: the cluster may not hold everything base "
            "lists, so some creates or updates may already be failing today"
        )
    for owner in sorted(stalled):
        result.notes.append(
            f"{owner} applies nothing at head (it fails there, or is suspended or not built: see the "
            "head's findings); until it does, what it applied stays in the cluster as it is"
        )
    for line in sorted(set(base_walk.not_checked) - set(head_report.not_checked)):
        result.notes.append(f"not compared (not built at base): {line}")
    result.notes.extend(f"not compared (not built at head): {line}" for line in head_report.not_checked)
    result.seconds = time.monotonic() - started
    return result


def _tree(co: Checkout, sha: str) -> str | None:
    try:
        return co.repo.git.rev_parse("--verify", "--quiet", f"{sha}^{{tree}}") or None
    except git.GitCommandError:
        return None


def _switch(co: Checkout, sha: str) -> None:
    """Put the checkout at `sha` exactly: verify pruned it in place (symlinks, ignored files)."""
    try:
        co.repo.git.checkout("--detach", "--force", sha)
        co.repo.git.clean("-ffdxq")
    except git.GitCommandError as exc:
        raise FleetError(f"cannot check out {sha[:12]} again: {exc.stderr or exc}") from None


def _public_url(co: Checkout) -> str:
    url = strip_userinfo(co.url)
    return url if "://" in url or "@" in url else f"file://{url}"
