"""`open_session`: what every dr command does before and around its own steps.

A session checks the command line and the stack file (exit 2 before anything is written),
makes the world, loads the Git credentials, and starts the report; `Session.reported()`
writes the report whatever happens and turns a failure into one line with its phase (exit 1).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from eksgitops.dr import world as dr_world
from eksgitops.dr.aws import error_text
from eksgitops.dr.context import DrFailure, DrUsageError, StackContext, load_stack
from eksgitops.dr.escrow import EscrowError
from eksgitops.dr.fleet_check import GitCheckError, git_credentials
from eksgitops.dr.options import BUILD_DIR, STACKS_DIR, RecoverySource
from eksgitops.dr.preflight import PreflightDeps, run_preflight
from eksgitops.dr.rebuild import RebuildDeps
from eksgitops.dr.report import CheckRow, DrReport
from eksgitops.dr.revisions import RevisionJudge
from eksgitops.dr.teardown import TeardownDeps
from eksgitops.dr.world import World
from eksgitops.fleet.credentials import Credentials
from eksgitops.terminal_text import shown

# The commands that rebuild from a source: their reports say where (region, moves).
RECOVERY_COMMANDS = ("preflight", "rebuild", "drill")
PREFLIGHT_SCHEMA = Path(__file__).parent / "schemas" / "preflight.json"


def console(err: bool = False) -> Console:
    return Console(stderr=err, highlight=False, width=None if sys.stdout.isatty() else 160, soft_wrap=not err)


def usage(error: DrUsageError) -> typer.Exit:
    for line in error.lines:
        typer.echo(shown(line), err=True)
    return typer.Exit(code=2)


def _check_revision(command: str, revision: str | None) -> None:
    from eksgitops.components.spec.gitops import valid_ref_name

    if revision is not None and not valid_ref_name(revision):
        raise DrUsageError(
            f"eksgitops dr {command}: --revision {revision!r}: not a valid Git ref; "
            "a branch, tag or commit sha"
        )


def _check_escrow(command: str, ctx: StackContext, source: RecoverySource) -> None:
    """Reading or writing the escrow needs one: the stack's (`eksgitops:escrow`) or --escrow-bucket."""
    if source.from_escrow and not ctx.escrow.enabled and not source.escrow_bucket:
        flag = "STACK" if command == "escrow" else "--from-escrow"
        raise DrUsageError(
            f"eksgitops dr {command}: {flag}: stack {ctx.environment} has no escrow "
            "(eksgitops:escrow.enabled is not true); turn it on and pulumi up, or give --escrow-bucket"
        )


def table(rows: list[CheckRow], title: str) -> None:
    grid = Table(title=title, title_justify="left")
    for column in ("check", "side", "result", "reason"):
        grid.add_column(column, overflow="fold")
    for row in rows:
        # Text, not markup: reasons quote git, AWS and the fleet repository, escapes shown.
        cells = (row.check, row.side, row.result, row.reason)
        grid.add_row(*(Text(shown(cell)) for cell in cells))
    console().print(grid)


@dataclass
class Session:
    """One dr command's stack, world, credentials and report."""

    command: str
    ctx: StackContext
    world: World
    report: DrReport
    source: RecoverySource
    out: Path
    creds: Credentials
    """The Git credentials (none loaded for a command that reads no fleet)."""
    program: str = "eksgitops dr"
    """What starts the one-line failure; `folder` is where under `out` the report goes."""
    folder: str = "dr"

    def echo(self, line: str) -> None:
        console().print(shown(line, keep_newlines=True), markup=False)

    @contextmanager
    def reported(self) -> Iterator[None]:
        """Write the report whatever happens; a failure is one line with the phase, exit 1."""
        report = self.report
        ok = False
        reason = ""
        try:
            yield
            ok = True
        except typer.Exit as exc:
            ok = exc.exit_code == 0
            reason = report.reason or ("failed" if not ok else "")
            raise
        except Exception as exc:
            known = DrFailure | EscrowError | GitCheckError
            reason = str(exc) if isinstance(exc, known) else error_text(exc)
            where = f" in phase {report.stopped_at}" if report.stopped_at else ""
            line = f"{self.program} {self.command} {report.stack}: stopped{where}: {reason}"
            typer.echo(shown(line), err=True)
            raise typer.Exit(code=1) from None
        finally:
            report.finish(ok, reason)
            json_path, md_path = report.write(self.out, self.folder)
            typer.echo(f"report: {md_path} and {json_path.name}", err=True)

    def preflight(self, *, as_json: bool = False) -> str:
        """Run preflight as the session's first phase; the commit a rebuild uses, or DrFailure."""
        ctx, world = self.ctx, self.world
        deps = PreflightDeps(
            aws=world.aws(ctx.spec.region),
            plan=world.plan(ctx.project_dir, ctx.stack_file.parent, self.out),
            fleet=world.fleet(ctx.project_dir),
            creds=self.creds,
            regional=world.aws,
            which=world.which,
        )
        with self.report.phase("preflight") as phase:
            result = run_preflight(ctx, self.source.preflight_options(), deps)
            self.report.checks += result.rows
            if as_json:
                typer.echo(json.dumps(preflight_document(ctx, result.rows, result.sha), indent=2))
            else:
                table(result.rows, f"preflight {ctx.stack} ({ctx.spec.region})")
            failed = [r for r in result.rows if not r.ok]
            phase.detail = f"{len(result.rows) - len(failed)} of {len(result.rows)} checks pass"
            if failed or result.sha is None:
                raise DrFailure(
                    f"{len(failed)} preflight check(s) failed: "
                    + "; ".join(f"{r.check}: {r.reason}" for r in failed)
                )
        return result.sha

    def revision_judge(self, sha: str) -> RevisionJudge:
        """Which revisions the cluster may report for `sha`: it, or a descendant on the fleet
        (a push while we wait); an escrowed bundle knows no later commits."""
        source = self.source
        url = source.repo_url or (None if source.from_escrow else self.ctx.spec.gitops.repo_url)
        return RevisionJudge(sha, url, creds=self.creds)

    def rebuild_deps(
        self, env: dict[str, str] | None = None, *, sha: str | None = None, cancel_stale: bool = False
    ) -> RebuildDeps:
        return RebuildDeps(
            workspace=self.world.workspace(self.ctx.project_dir, env or {}),
            cluster_api=self.world.cluster_api,
            clock=self.world.clock,
            echo=self.echo,
            accepts=self.revision_judge(sha) if sha else None,
            repo_url=self.ctx.spec.gitops.repo_url,
            cancel_stale=cancel_stale,
        )

    def teardown_deps(
        self, rebuild: RebuildDeps | None = None, env: dict[str, str] | None = None
    ) -> TeardownDeps:
        """Teardown's world; with `rebuild`, the same workspace (a drill destroys what it built)."""
        workspace = rebuild.workspace if rebuild else self.world.workspace(self.ctx.project_dir, env or {})
        return TeardownDeps(
            workspace=workspace,
            cluster_api=self.world.cluster_api,
            aws=self.world.aws(self.ctx.spec.region),
            clock=self.world.clock,
            echo=self.echo,
        )


def preflight_document(ctx: StackContext, rows: list[CheckRow], sha: str | None) -> dict[str, object]:
    """`dr preflight --json`: the document `schemas/preflight.json` describes."""
    return {
        "stack": ctx.stack,
        "region": ctx.spec.region,
        "ok": sha is not None and all(r.ok for r in rows),
        "revision": sha,
        "notes": list(ctx.notes),
        "checks": [
            {"check": r.check, "side": r.side, "ok": r.ok, "skipped": r.skipped, "reason": r.reason}
            for r in rows
        ],
    }


def open_session(
    command: str,
    stack: str,
    source: RecoverySource | None,
    *,
    stacks_dir: Path = STACKS_DIR,
    out: Path = BUILD_DIR,
    drill: bool = False,
    require: Callable[[StackContext], None] | None = None,
) -> Session:
    """Check the input, make the world and start the report; exit 2 before anything is written.

    `source` None: the command reads no fleet (teardown) and needs no Git credentials.
    `require` adds the command's own checks of the loaded stack (raise DrUsageError).
    """
    try:
        if source is not None:
            _check_revision(command, source.revision)
        ctx = load_stack(
            stack,
            stacks_dir=stacks_dir,
            project_dir=Path("."),
            build_dir=out,
            command=command,
            region=source.region if source else None,
            drill=drill,
        )
        if source is not None:
            _check_escrow(command, ctx, source)
        if require is not None:
            require(ctx)
    except DrUsageError as err:
        raise usage(err) from None
    world = dr_world.default_world()
    creds = Credentials()
    if source is not None:
        # The URL git will be handed is checked here, with the credentials, so a hostile
        # --repo-url or repoUrl ends in exit 2 before anything is created or written.
        reads_escrow = source.from_escrow and command != "escrow"
        url = source.repo_url or (None if reads_escrow else ctx.spec.gitops.repo_url)
        flag = "--repo-url" if source.repo_url else "eksgitops:gitops.repoUrl"
        try:
            creds = git_credentials(world.creds, url, flag)
        except GitCheckError as exc:
            raise usage(DrUsageError(f"eksgitops dr {command}: {exc}")) from None
    report = DrReport(command, ctx.stack, world.clock, ctx.model())
    if command in RECOVERY_COMMANDS:
        report.facts.update(
            {"region": ctx.spec.region, **{f"note {i}": n for i, n in enumerate(ctx.notes, 1)}}
        )
    return Session(command, ctx, world, report, source or RecoverySource(), out, creds)
