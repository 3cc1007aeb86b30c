"""The `eksgitops` command: the offline plan, the fleet-repo tooling and the DR runbook.

Every mistake on the command line or in a stack file ends in a message that names the
flag or key, with exit code 2 and no traceback.

Each subcommand's module is imported only when that subcommand runs (or help lists it):
`plan` never pays for GitPython, the fleet tooling or the DR clients, `fleet` never for the
Pulumi SDKs.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
from difflib import get_close_matches
from pathlib import Path
from typing import Annotated, Any

import typer
from typer._click import exceptions as click_exceptions
from typer.core import TyperGroup

from eksgitops.cli_help import HELP_OPTION_NAMES, conventions

# name -> (module, attribute): a Typer app, or a function that becomes a single command.
SUBCOMMANDS = {
    "doctor": ("eksgitops.doctor", "doctor"),
    "dr": ("eksgitops.dr.cli", "app"),
    "fleet": ("eksgitops.fleet.cli", "app"),
    "init": ("eksgitops.init_stack", "init"),
    "plan": ("eksgitops.plan.cli", "plan"),
    "policy-pack-path": ("eksgitops.cli", "policy_pack_path"),
    "upgrade": ("eksgitops.upgrade.cli", "app"),
}


def _settings() -> dict:
    return {
        "add_completion": False,
        "pretty_exceptions_enable": False,
        # Plain click errors: one "Error: ..." line naming the flag, not a drawn box.
        "rich_markup_mode": None,
    }


class LazySubcommands(TyperGroup):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: Any) -> list[str]:
        return sorted({*super().list_commands(ctx), *SUBCOMMANDS})

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in SUBCOMMANDS:
            return super().get_command(ctx, cmd_name)
        module, attribute = SUBCOMMANDS[cmd_name]
        target = getattr(importlib.import_module(module), attribute)
        if not isinstance(target, typer.Typer):
            single = typer.Typer(**_settings())
            single.command(name=cmd_name)(target)
            target = single
        command = typer.main.get_command(target)
        command.name = cmd_name
        # click cuts the summary in the root --help to 45 characters ("..."); the whole first
        # sentence instead, which the help formatter wraps.
        if not command.short_help and command.help:
            command.short_help = command.help.strip().split("\n\n", 1)[0].replace("\n", " ")
        _plain(command)
        conventions(command, cmd_name)
        return command

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        # Typer suggests only among commands already loaded; these load on first use.
        try:
            return super().resolve_command(ctx, args)
        except click_exceptions.UsageError as err:
            if "No such command" in err.message and "Did you mean" not in err.message and args:
                matches = get_close_matches(args[0], self.list_commands(ctx))
                if matches:
                    err.message = err.message.rstrip(".") + f". Did you mean {', '.join(map(repr, matches))}?"
            raise


def _plain(command: Any) -> None:
    """Plain click help and errors for a subcommand tree, as for the root (no drawn boxes)."""
    if hasattr(command, "rich_markup_mode"):
        command.rich_markup_mode = None
    for sub in getattr(command, "commands", {}).values():
        _plain(sub)


HELP = (
    "Bootstrap AWS EKS clusters for GitOps: init a stack, plan it offline, the fleet repo, disaster recovery."
)

app = typer.Typer(
    name="eksgitops",
    help=HELP,
    no_args_is_help=True,
    cls=LazySubcommands,
    # --install-completion / --show-completion for bash, zsh, fish and PowerShell, as typer
    # offers them; subcommand names and choices complete too.
    context_settings={"help_option_names": HELP_OPTION_NAMES},
    **{**_settings(), "add_completion": True},
)


def _print_version(value: bool) -> None:
    if value:
        from eksgitops import __version__

        typer.echo(f"eksgitops {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", help="Print the version and exit.", callback=_print_version, is_eager=True),
    ] = False,
) -> None:
    """The root command: only --version and completion of its own; the work is in the subcommands."""


def policy_pack_path() -> None:
    """Print the folder of the CrossGuard pack shipped with eksgitops, for
    `pulumi preview --policy-pack "$(eksgitops policy-pack-path)"` in a program of your own."""
    spec = importlib.util.find_spec("eksgitops.policy_pack")
    folder = Path(next(iter(spec.submodule_search_locations or []))) if spec else None
    if folder is None or not (folder / "PulumiPolicy.yaml").is_file():
        typer.echo("eksgitops policy-pack-path: the policy pack is missing from this installation", err=True)
        raise typer.Exit(code=1)
    typer.echo(str(folder.resolve()))


def main() -> None:
    # One command per process, then exit. Loading the SDKs defines tens of thousands of classes
    # and typing objects, and the cyclic collector's default thresholds re-scan them over and
    # over: ~0.3 s of CPU in `plan dev` (of ~1.4 s). Reference counting still frees everything
    # acyclic at once; cycles are collected, only less often (peak memory: +3 MB for dev).
    gc.set_threshold(50_000, 20, 20)
    try:
        app()
    finally:
        # The interpreter's teardown runs full collections over all of those objects again
        # (~0.3 s of CPU after the plan has printed everything). Frozen objects are not
        # scanned; they are still freed by reference counting as modules are torn down, and
        # atexit handlers and stream flushes run as usual.
        gc.freeze()


if __name__ == "__main__":
    main()
