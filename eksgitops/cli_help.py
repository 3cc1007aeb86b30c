"""How every `eksgitops` command looks and completes, in one place for all of them.

Each command module declares its own flags; what users meet beside them is laid on here, once,
as the root loads a subcommand: `-h` beside `--help`, "did you mean" for a mistyped command,
usage lines that read `STACK` (typer draws a required argument as `{STACK}` and lists it as
`STACK <str>`), completion of stack names and Kubernetes versions, and one or two examples at
the end of each command's help.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import MethodType
from typing import Any

HELP_OPTION_NAMES = ["-h", "--help"]

# Examples per command path; every flag in them is one the command has (a test checks).
EXAMPLES: dict[str, tuple[str, ...]] = {
    "doctor": ("eksgitops doctor", "eksgitops doctor prod --online"),
    "init": (
        "eksgitops init qa --account 123456789012 --region eu-west-1 "
        "--fleet-repo https://github.com/acme/fleet.git "
        "--admin-principal arn:aws:iam::123456789012:role/platform-admin",
    ),
    "plan": ("eksgitops plan dev", "eksgitops plan prod --against prod-state.json"),
    "policy-pack-path": ('pulumi preview --policy-pack "$(eksgitops policy-pack-path)"',),
    "fleet bootstrap": (
        "eksgitops fleet bootstrap --stack dev --dry-run",
        "eksgitops fleet bootstrap --repo git@github.com:acme/fleet.git --env qa --agent argocd",
    ),
    "fleet verify": (
        "eksgitops fleet verify --stack dev",
        "eksgitops fleet verify --repo https://github.com/acme/fleet.git --env prod --revision main --json",
    ),
    "fleet diff": ("eksgitops fleet diff --stack dev --base main --revision HEAD --markdown",),
    "dr preflight": (
        "eksgitops dr preflight prod",
        "eksgitops dr preflight prod --region eu-central-1 --json",
    ),
    "dr rebuild": ("eksgitops dr rebuild prod --revision v2026.12.01",),
    "dr verify": ("eksgitops dr verify prod",),
    "dr teardown": ("eksgitops dr teardown prod-drill --yes",),
    "dr drill": ("eksgitops dr drill staging",),
    "dr escrow": ("eksgitops dr escrow prod",),
    "upgrade check": ("eksgitops upgrade check staging --to 1.36",),
    "upgrade apply": (
        "eksgitops upgrade apply staging --to 1.36 --yes",
        "eksgitops upgrade apply prod --to 1.36 --strategy blue-green "
        "--zone-id Z123 --record app.example.com --yes",
    ),
    "upgrade rollback": ("eksgitops upgrade rollback prod --zone-id Z123 --record app.example.com",),
}

# Where the shipped data says which Kubernetes versions EKS offers (for completion of --to).
VERSION_FLAGS = ("--to", "--kubernetes-version")


def _epilog(lines: tuple[str, ...]) -> str:
    # "\b" keeps click from re-wrapping the block: a command is copied whole, not cut mid-flag.
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in lines)


def complete_stack(ctx: Any, param: Any, incomplete: str) -> list[str]:
    """Stack names: the `Pulumi.<name>.yaml` files in --stacks-dir (default stacks/)."""
    folder = Path((ctx.params or {}).get("stacks_dir") or "stacks")
    try:
        names = sorted(
            entry.name[len("Pulumi.") : -len(".yaml")]
            for entry in os.scandir(folder)
            if entry.name.startswith("Pulumi.") and entry.name.endswith(".yaml")
        )
    except OSError:
        return []
    return [name for name in names if name.startswith(incomplete)]


def complete_version(ctx: Any, param: Any, incomplete: str) -> list[str]:
    """Kubernetes versions EKS still offers, by the bundled data, newest first."""
    from eksgitops.components.spec.data import offered_kubernetes_versions

    return [v for v in reversed(offered_kubernetes_versions()) if v.startswith(incomplete)]


def _usage_name(argument: Any) -> str:
    """`STACK` or `[STACK]` on the usage line (typer draws `{STACK}`)."""
    name = argument.display_name_raw if argument.required else f"[{argument.display_name_raw.strip('[]')}]"
    return name + ("..." if argument.nargs != 1 else "")


def _plain_argument(argument: Any) -> None:
    """Usage `STACK`, and no `<str>` beside the argument's name in the list."""
    argument._usage_display_name = MethodType(_usage_name, argument)
    argument.display_type_rich = MethodType(lambda self, ctx: "", argument)


def conventions(command: Any, path: str) -> None:
    """Lay the shared conventions on `command` (named `path`, e.g. "fleet verify") and its subcommands."""
    settings = dict(getattr(command, "context_settings", None) or {})
    settings.setdefault("help_option_names", HELP_OPTION_NAMES)
    command.context_settings = settings
    if path in EXAMPLES and not getattr(command, "epilog", None):
        command.epilog = _epilog(EXAMPLES[path])
    for param in getattr(command, "params", []):
        if type(param).__name__ == "TyperArgument":
            _plain_argument(param)
            if param.metavar == "STACK" and getattr(param, "_custom_shell_complete", None) is None:
                param._custom_shell_complete = complete_stack
        elif any(opt in VERSION_FLAGS for opt in getattr(param, "opts", ())) and (
            getattr(param, "_custom_shell_complete", None) is None
        ):
            param._custom_shell_complete = complete_version
    # Groups whose subcommands are loaded already suggest the nearest name themselves (typer).
    subcommands = getattr(command, "commands", None)
    if isinstance(subcommands, dict):
        for name, sub in subcommands.items():
            conventions(sub, f"{path} {name}".strip())
