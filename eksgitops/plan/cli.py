"""`eksgitops plan STACK`: run the real program offline and show what it would create.

No credentials, no network, no Pulumi CLI: the program runs in this process against
mocks that stand in for the engine and AWS (see engine.py). The stack file is validated
first, so a bad stack ends in one line per mistake and exit code 2 before anything is
registered or written.
"""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from eksgitops import cli_params as P
from eksgitops.cli_params import checked
from eksgitops.components.spec import EnvironmentSpec, SpecError, load_spec
from eksgitops.components.spec.base import DNS_LABEL, PROJECT
from eksgitops.components.spec.read import config_for_pulumi, stack_config
from eksgitops.plan.against import diff, diff_lines, write_diff
from eksgitops.plan.insight import analyse, print_insight
from eksgitops.plan.manifests import gitops_summary, write_bridge, write_manifests
from eksgitops.plan.offline_engine import PlanResult, run_program
from eksgitops.plan.render import print_plan, write_resources_json
from eksgitops.plan.state_file import StateFileError, StateResource, load_state
from eksgitops.plan.summary import CREATE_FROM_NOTHING, document, final_line, markdown
from eksgitops.program import main as default_main
from eksgitops.progress import progress
from eksgitops.terminal_text import output_width, shown


def _usage_error(message: str) -> typer.Exit:
    Console(stderr=True, highlight=False, soft_wrap=True).print(message, markup=False)
    return typer.Exit(code=2)


def _silent(*_objects: Any, **_options: Any) -> None:
    """What -q and --json do with everything but the lines they print."""


def _program(project_dir: Path):
    """The project's own `__main__.py` when there is one, else the packaged default."""
    main = project_dir / "__main__.py"
    if main.is_file():
        return lambda: runpy.run_path(str(main), run_name="__main__")
    return default_main


def run_plan(stack: str, *, stacks_dir: Path, project_dir: Path) -> PlanResult:
    """Validate the stack file, then run the program against the offline engine.

    Raises SpecError (every mistake, one line each) before anything is registered.
    """
    return run_plan_with_spec(stack, stacks_dir=stacks_dir, project_dir=project_dir)[1]


def run_plan_with_spec(
    stack: str, *, stacks_dir: Path, project_dir: Path
) -> tuple[EnvironmentSpec, PlanResult]:
    """`run_plan`, also returning the validated spec (the plan needs its policy waivers)."""
    stack_file = stacks_dir / f"Pulumi.{stack}.yaml"
    # Pulumi lays the stack file over the defaults Pulumi.yaml declares; so does the plan.
    raw = stack_config(stack_file, project_dir / "Pulumi.yaml")
    return run_config(raw, stack=stack, source=str(stack_file), project_dir=project_dir)


def run_config(
    raw: dict[str, Any], *, stack: str, source: str, project_dir: Path
) -> tuple[EnvironmentSpec, PlanResult]:
    """Validate a stack's raw config (`source` names it in error lines), then run the program
    against the offline engine. Raises SpecError before anything is registered."""
    spec = load_spec(raw, stack=stack, source=source)
    config, secret_keys = config_for_pulumi(raw, PROJECT)
    # The program resolves names relative to the project, as `pulumi up` would.
    sys.path.insert(0, str(project_dir))
    try:
        return spec, run_program(
            _program(project_dir),
            project=PROJECT,
            stack=stack,
            config=config,
            secret_keys=secret_keys,
            region=spec.region,
        )
    finally:
        sys.path.remove(str(project_dir))


def _load_against(against: Path, stack: str) -> dict[str, StateResource]:
    try:
        return load_state(against, stack=stack, project=PROJECT)
    except StateFileError as err:
        raise _usage_error(
            f"eksgitops plan: --against {against}: {err}; the JSON `pulumi stack export` writes"
        ) from None


def plan(
    stack: Annotated[
        str, typer.Argument(metavar="STACK", help="Stack name: stacks/Pulumi.<STACK>.yaml is read.")
    ],
    stacks_dir: Annotated[
        Path, checked("--stacks-dir", P.folder, help="Folder of the Pulumi.<stack>.yaml files.")
    ] = Path("stacks"),
    out: Annotated[Path, checked("--out", P.folder, help="Where build/<STACK>/resources.json goes.")] = Path(
        "build"
    ),
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only the errors and the final line.")
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print one JSON document (eksgitops/plan/plan.schema.json) and nothing else."
        ),
    ] = False,
    against: Annotated[
        Path | None,
        typer.Option(
            "--against",
            help="A `pulumi stack export` file: show creates, updates, replacements and deletes against it.",
        ),
    ] = None,
) -> None:
    """Show what `pulumi up` would create for STACK, offline, and write resources.json.

    Without --against this is a create-from-nothing view: every resource reads as new.
    """
    stack_file = stacks_dir / f"Pulumi.{stack}.yaml"
    # STACK names a folder under --out too: 'a/../../x' must not write outside it (as dr checks).
    if not DNS_LABEL.fullmatch(stack):
        raise _usage_error(
            f"eksgitops plan: STACK {shown(repr(stack))}: not a stack name; "
            "a DNS-1123 label such as dev (a-z, 0-9, -, at most 63)"
        )
    if not stack_file.is_file():
        available = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in stacks_dir.glob("Pulumi.*.yaml"))
        raise _usage_error(
            f"eksgitops plan: STACK {stack!r}: no stack file {stack_file}; "
            f"available: {', '.join(available) or f'none in {stacks_dir}/'}"
        )
    if out.exists() and not out.is_dir():
        raise _usage_error(
            f"eksgitops plan: --out {out}: is a file, not a folder; a folder (created if missing)"
        )
    state = _load_against(against, stack) if against is not None else None
    try:
        with progress(f"Planning {stack} offline", enabled=not (quiet or as_json)):
            spec, result = run_plan_with_spec(stack, stacks_dir=stacks_dir, project_dir=Path("."))
    except SpecError as err:
        raise _usage_error("\n".join(err.lines)) from None

    # The terminal's width, or COLUMNS, or 100 when piped; rich wraps at word boundaries.
    console = Console(highlight=False, width=output_width())
    # -q and --json print nothing but what they ask for: the rest is not even rendered.
    talk = not (quiet or as_json)
    say = console.print if talk else _silent
    # On a terminal long lines wrap at word boundaries; in a log each record stays one line to grep.
    whole = not console.is_terminal
    folder = out / stack
    target = folder / "resources.json"
    try:
        write_resources_json(result, target, project=PROJECT, stack=stack)
    except OSError as exc:  # e.g. out/<stack> is a file, or the folder is read-only
        raise _usage_error(
            f"eksgitops plan: --out {out}: cannot write {target} ({exc.strerror}); a writable folder"
        ) from None
    if talk:
        print_plan(result, console, stack=stack)
    say(f"Wrote {target} ({len(result.resources)} resources).")
    bridge = write_bridge(result, spec, folder / "bridge.json")
    manifests = write_manifests(result, folder / "manifests")
    if talk:
        say(gitops_summary(bridge, spec), soft_wrap=whole)
    say(
        f"Wrote {folder / 'bridge.json'} and {len(manifests)} manifests under {folder / 'manifests'}/.",
        soft_wrap=whole,
    )
    # The guardrails and the rebuild model end the plan; a mandatory violation fails it.
    insight = analyse(result, spec.policy.waivers, folder)
    if talk:
        print_insight(insight, console)
    if quiet:
        for violation in (f for r in insight.report.results for f in r.violations):
            console.print(
                shown(f"{violation.rule} {violation.resource}: {violation.message}"),
                markup=False,
                soft_wrap=whole,
            )

    changes = diff(result, state, str(against)) if state is not None else None
    if changes is not None:
        write_diff(changes, folder / "diff.json")
        for line in diff_lines(changes):
            say(line, markup=False, highlight=False, soft_wrap=whole)
    else:
        # A diff.json of an earlier --against run would read as this plan's.
        (folder / "diff.json").unlink(missing_ok=True)
        say(CREATE_FROM_NOTHING, markup=False, soft_wrap=whole)
    line = final_line(stack, result, insight, folder, changes)
    (folder / "plan.md").write_text(markdown(stack, result, insight, folder, changes))
    if as_json:
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        doc = document(stack, PROJECT, result, insight, folder, files, changes)
        typer.echo(json.dumps(doc, indent=2))
    else:
        console.print(line, markup=False, highlight=False, soft_wrap=whole)
    if insight.report.failed:
        raise typer.Exit(code=1)
