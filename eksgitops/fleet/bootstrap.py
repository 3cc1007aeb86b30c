"""`fleet bootstrap` and `fleet verify` as plain functions (the CLI only parses flags).

Kept apart from the CLI so tests can inject a push hook and race a second clone
deterministically. Bootstrap verifies the exact tree it is about to commit and refuses to push
one that would not reconcile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from eksgitops.fleet import layout, scaffold
from eksgitops.fleet.credentials import Credentials, scrub_url, strip_userinfo
from eksgitops.fleet.findings import Report
from eksgitops.fleet.kustomize_engine import Engine, find_engine
from eksgitops.fleet.repo import (
    Checkout,
    FleetError,
    PushHook,
    changed_since,
    checkout,
    checkout_revision,
    commit_all,
    push_with_retries,
)
from eksgitops.fleet.signatures import SigningPolicy
from eksgitops.fleet.signatures import check as check_signatures
from eksgitops.fleet.signatures import record as record_signatures
from eksgitops.fleet.signing import SigningKey, commit_signed
from eksgitops.fleet.stack_bridge import StackBridge
from eksgitops.fleet.verify import VerifyRequest
from eksgitops.fleet.verify import verify as verify_request

Echo = Callable[[str], None]


class SymlinkRefused(FleetError):
    """The repository holds a symlink where bootstrap would read or write: nothing is written."""


def refuse_symlinks(root: Path, paths: list[str]) -> None:
    """Refuse, before anything is read or written, a checkout with a symlink on a path we write."""
    for rel in sorted(paths):
        link = scaffold.symlinked(root, rel)
        if link is not None:
            raise SymlinkRefused(
                f"refusing to bootstrap: {link} is a symlink in the repository and {rel} would be written "
                "through it (bootstrap never follows a symlink); replace it with a real file or folder. "
                "Nothing was written"
            )


class AgentRefused(FleetError):
    """The environment is laid out for the other agent: writing this one's files over it would
    leave a layout neither agent reconciles. Nothing is written (unless --force)."""


class VerifyRefused(FleetError):
    """Bootstrap built and verified the commit it was about to push, and it would not reconcile."""

    def __init__(self, report: Report, foreign_layers: list[str]) -> None:
        super().__init__(f"refusing to push: {len(report.errors)} error(s) in the layout; nothing was pushed")
        self.report = report
        self.foreign_layers = foreign_layers


@dataclass
class BootstrapResult:
    """What happened, for callers and tests."""

    committed: bool
    sha: str | None
    files: list[str]
    protected: list[str]
    attempts: int = 1
    report: Report | None = None


def bootstrap(
    repo_arg: str,
    opts: layout.Options,
    creds: Credentials,
    echo: Echo,
    dry_run: bool = False,
    force: bool = False,
    attempts: int = 3,
    before_push: PushHook | None = None,
    engine: Engine | None = None,
    signing_key: SigningKey | None = None,
    trust: SigningPolicy | None = None,
    stack: StackBridge | None = None,
) -> BootstrapResult:
    """Lay out `opts.env` in the fleet repo, verify it, and push one commit (or say it is up to date).

    With `stack` (what the stack provides: `stack_bridge.from_stack_file`), the layout is verified
    as `fleet verify --stack` verifies it: every variable and workload identity it uses must be
    the stack's, before anything is pushed. With `signing_key` the commit is signed, and pushed
    only when `trust` (the stack's gitops.verify keys) trusts its signature (fleet/signing.py)."""
    engine = engine or find_engine()  # before cloning: no engine, no bootstrap (exit 2)
    with checkout(repo_arg, opts.branch, creds) as co:
        if signing_key is not None:
            signing_key.configure(co)
        for note in co.notes:
            echo(f"note: {note}")
        # Argo CD Applications point at the repo by URL: never with credentials in it.
        opts = replace(opts, repo_url=strip_userinfo(opts.repo_url or _public_url(co)))
        files = layout.render(opts)
        last: dict[str, scaffold.Plan] = {}
        reports: list[Report] = []

        def make_change(c: Checkout) -> str | None:
            refuse_symlinks(
                c.root, [*(f.path for f in files), scaffold.state_path(opts.env), scaffold.STATE_DIR]
            )
            _refuse_other_agent(c.root, opts, force, echo)
            plan = scaffold.plan(c.root, opts, files, force=force)
            last["plan"] = plan
            if not plan.writes:
                return None
            scaffold.apply(c.root, plan)
            report = _verify_worktree(c, opts, engine, stack)
            reports.append(report)
            if report.errors:
                raise VerifyRefused(report, plan.foreign_layers)
            if dry_run:
                return None
            if signing_key is not None:
                return commit_signed(c, sorted(plan.writes), _message(opts, plan), trust)
            return commit_all(c, sorted(plan.writes), _message(opts, plan))

        try:
            result = push_with_retries(co, make_change, attempts=attempts, before_push=before_push)
        except VerifyRefused:
            _report_plan(last["plan"], echo, dry_run=True)
            raise
        plan = last["plan"]
        report = reports[-1] if reports else None
        _report_plan(plan, echo, dry_run)
        if report is not None:
            for finding in report.policy:
                echo(creds.scrub(f"warning: {finding}"))
        short = (result.sha or "")[:7] or "(empty)"
        if dry_run:
            echo(f"dry run: {len(plan.writes)} file(s) would be written; nothing committed")
            return BootstrapResult(False, result.sha, sorted(plan.writes), plan.protected, report=report)
        if not result.pushed:
            echo(f"{opts.env}: up to date with {opts.branch} at {short}; nothing to commit")
            return BootstrapResult(False, result.sha, [], plan.protected, result.attempts, report)
        retried = f" after {result.attempts} attempts" if result.attempts > 1 else ""
        checked = f"; verified {report.builds} builds, {report.objects} objects" if report else ""
        echo(f"{opts.env}: pushed {short} to {opts.branch} ({len(plan.writes)} file(s)){retried}{checked}")
        if signing_key is not None:
            echo(f"signed with {signing_key.format} key {signing_key.key}")
        if co.default_branch is not None and co.default_branch != opts.branch:
            echo(
                f"note: {opts.branch} is not the default branch ({co.default_branch}); verify it with "
                f"`eksgitops fleet verify --repo {creds.scrub(repo_arg)} --env {opts.env} "
                f"--revision {opts.branch}`"
            )
        return BootstrapResult(True, result.sha, sorted(plan.writes), plan.protected, result.attempts, report)


def _verify_worktree(co: Checkout, opts: layout.Options, engine: Engine, stack: StackBridge | None) -> Report:
    urls = {co.url, _public_url(co), opts.repo_url}
    if stack is not None:
        request = VerifyRequest.from_stack(
            stack, opts.cluster_path, env=opts.env, agent=opts.agent, repo_urls=urls
        )
    else:
        identities = _recorded_identities(co.root, opts.env) or list(layout.SCAFFOLD_IDENTITIES)
        request = VerifyRequest.from_flags(
            opts.cluster_path, agent=opts.agent, repo_urls=urls, identities=identities
        )
    # The worktree is what the agent will find on its branch.
    head = {"HEAD"} if co.default_branch in (None, opts.branch) else set()
    request = replace(request, revisions=frozenset({opts.branch, *head}))
    return verify_request(request, co.root, engine=engine)


def _refuse_other_agent(root: Path, opts: layout.Options, force: bool, echo: Echo) -> None:
    found = scaffold.laid_out_for(root, opts)
    if found is None or found[0] == opts.agent:
        return
    agent, evidence = found
    if force:
        echo(
            f"note: {opts.cluster_path} was laid out for {agent} ({evidence}); --force writes {opts.agent}'s "
            f"files over it: remove {agent}'s files this layout does not have"
        )
        return
    raise AgentRefused(
        f"refusing to bootstrap {opts.env} for {opts.agent}: {opts.cluster_path} is laid out for {agent} "
        f"({evidence}); writing {opts.agent}'s files over it would leave a layout neither agent "
        "reconciles. Bootstrap another --env or --path, or give --force to replace it. Nothing was written"
    )


def _recorded_identities(root: Path, env: str) -> list[str]:
    state = scaffold.load_states(root).get(env, {})
    return [str(i) for i in state.get("identities") or []]


def _public_url(co: Checkout) -> str:
    url = strip_userinfo(co.url)
    return url if "://" in url or "@" in url else f"file://{url}"


def _message(opts: layout.Options, plan: scaffold.Plan) -> str:
    verb = "scaffold" if plan.first_time else "update"
    lines = [
        f"fleet: {verb} {opts.env} ({opts.agent}) at {opts.cluster_path}",
        "",
        "Written by `eksgitops fleet bootstrap`:",
        *(f"- {p}" for p in sorted(plan.writes)),
    ]
    if plan.protected:
        lines += ["", "Kept (edited by hand):", *(f"- {p}" for p in plan.protected)]
    return "\n".join(lines) + "\n"


def _report_plan(plan: scaffold.Plan, echo: Echo, dry_run: bool) -> None:
    verb = "would write" if dry_run else "write"
    for path in sorted(plan.writes):
        echo(f"{verb}: {path}")
    for path in plan.overwritten:
        echo(f"overwrite (--force): {path}")
    for path in plan.protected:
        echo(f"kept, changed since the scaffold wrote it (use --force to overwrite): {path}")
    for layer in plan.foreign_layers:
        echo(f"kept, existing layout not created by eksgitops: {layer}/")


def verify(
    repo_arg: str,
    revision: str | None,
    creds: Credentials,
    request: VerifyRequest,
    engine: Engine | None = None,
    signing: SigningPolicy | None = None,
) -> tuple[Report, str]:
    """Clone, detach at `revision` (default: the remote's HEAD) and verify `request` there;
    with `signing`, also the signatures source-controller would require (fleet/signatures.py)."""
    engine = engine or find_engine()
    with checkout(repo_arg, None, creds) as co:
        sha = checkout_revision(co, revision)
        clone_urls = {co.url, repo_arg, _public_url(co)}
        changed = changed_since(co, request.since, sha) if request.since is not None else None
        named = revision or co.default_branch or "main"
        # `HEAD` (an Application's default targetRevision) is the remote's default branch.
        head = {"HEAD"} if named == (co.default_branch or "main") else set()
        request = replace(request, revisions=frozenset({named, sha, *head, *request.revisions}))
        report = verify_request(
            request, co.root, engine=engine, disposable=True, clone_urls=clone_urls, changed=changed
        )
        if signing is not None:
            found = check_signatures(co.root, sha, signing.mode, signing.tag, signing.keys)
            record_signatures(report, found, signing)
        return report, sha


__all__ = [
    "AgentRefused",
    "BootstrapResult",
    "SymlinkRefused",
    "VerifyRefused",
    "bootstrap",
    "scrub_url",
    "verify",
]
