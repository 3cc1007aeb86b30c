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
from typing import Any

import typer
from typer.core import TyperGroup

# name -> (module, attribute): a Typer app, or a function that becomes a single command.
SUBCOMMANDS = {
    "dr": ("eksgitops.dr.cli", "app"),
    "fleet": ("eksgitops.fleet.cli", "app"),
    "plan": ("eksgitops.plan.cli", "plan"),
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
        _plain(command)
        return command


def _plain(command: Any) -> None:
    """Plain click help and errors for a subcommand tree, as for the root (no drawn boxes)."""
    if hasattr(command, "rich_markup_mode"):
        command.rich_markup_mode = None
    for sub in getattr(command, "commands", {}).values():
        _plain(sub)


app = typer.Typer(
    name="eksgitops",
    help="Bootstrap AWS EKS clusters for GitOps: offline plan, fleet repo tooling.",
    no_args_is_help=True,
    cls=LazySubcommands,
    **_settings(),
)


@app.callback()
def _root() -> None:
    """Bootstrap AWS EKS clusters for GitOps: offline plan, fleet repo tooling."""


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
