"""`fleet bootstrap` and `fleet verify` as plain functions (the CLI only parses flags).

Kept apart from the CLI so tests can inject a push hook and race a second clone
deterministically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from eksgitops.fleet import layout, scaffold
from eksgitops.fleet.credentials import Credentials, scrub_url
from eksgitops.fleet.repo import (
    Checkout,
    PushHook,
    checkout,
    checkout_revision,
    commit_all,
    push_with_retries,
)
from eksgitops.fleet.verify import Report, verify_tree

Echo = Callable[[str], None]


@dataclass
class BootstrapResult:
    """What happened, for callers and tests."""

    committed: bool
    sha: str | None
    files: list[str]
    protected: list[str]
    attempts: int = 1


def bootstrap(
    repo_arg: str,
    opts: layout.Options,
    creds: Credentials,
    echo: Echo,
    dry_run: bool = False,
    force: bool = False,
    attempts: int = 3,
    before_push: PushHook | None = None,
) -> BootstrapResult:
    """Lay out `opts.env` in the fleet repo and push one commit (or say it is up to date)."""
    with checkout(repo_arg, opts.branch, creds) as co:
        for note in co.notes:
            echo(f"note: {note}")
        # Argo CD Applications point at the repo by URL: never with credentials in it.
        opts = replace(opts, repo_url=opts.repo_url or _public_url(co))
        files = layout.render(opts)
        last: dict[str, scaffold.Plan] = {}

        def make_change(c: Checkout) -> str | None:
            plan = scaffold.plan(c.root, opts, files, force=force)
            last["plan"] = plan
            if dry_run or not plan.writes:
                return None
            scaffold.apply(c.root, plan)
            return commit_all(c, sorted(plan.writes), _message(opts, plan))

        result = push_with_retries(co, make_change, attempts=attempts, before_push=before_push)
        plan = last["plan"]
        _report_plan(plan, echo, dry_run)
        short = (result.sha or "")[:7] or "(empty)"
        if dry_run:
            echo(f"dry run: {len(plan.writes)} file(s) would be written; nothing committed")
            return BootstrapResult(False, result.sha, sorted(plan.writes), plan.protected)
        if not result.pushed:
            echo(f"{opts.env}: up to date with {opts.branch} at {short}; nothing to commit")
            return BootstrapResult(False, result.sha, [], plan.protected, result.attempts)
        retried = f" after {result.attempts} attempts" if result.attempts > 1 else ""
        echo(f"{opts.env}: pushed {short} to {opts.branch} ({len(plan.writes)} file(s)){retried}")
        return BootstrapResult(True, result.sha, sorted(plan.writes), plan.protected, result.attempts)


def _public_url(co: Checkout) -> str:
    url = scrub_url(co.url)
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
    env_path: str,
    env: str,
    revision: str | None,
    identities: list[str],
    extra_vars: set[str],
    creds: Credentials,
) -> tuple[Report, str]:
    """Clone, detach at `revision` (default: the remote's HEAD) and run the checks.

    Provided variables: the bridge keys, `<identity>_role_arn` for the identities given and
    those the scaffold recorded in `.eksgitops/<env>.yaml` as required, and `extra_vars`.
    """
    with checkout(repo_arg, None, creds) as co:
        sha = checkout_revision(co, revision)
        state = scaffold.load_states(co.root).get(env, {})
        recorded = [str(i) for i in state.get("identities") or []]
        provided = set(layout.bridge_vars([*recorded, *identities])) | extra_vars
        report = verify_tree(co.root, env_path, provided, {co.url, repo_arg, _public_url(co)})
        return report, sha
