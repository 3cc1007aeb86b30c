"""The `eksgitops` command: the offline plan and the fleet-repo tooling.

Every mistake on the command line or in a stack file ends in a message that names the
flag or key, with exit code 2 and no traceback.
"""

from __future__ import annotations

import typer

from eksgitops.dr.cli import app as dr_app
from eksgitops.fleet.cli import app as fleet_app
from eksgitops.plan.cli import plan

app = typer.Typer(
    name="eksgitops",
    help="Bootstrap AWS EKS clusters for GitOps: offline plan, fleet repo tooling.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain click errors: one "Error: ..." line naming the flag, not a drawn box.
    rich_markup_mode=None,
)
app.command(name="plan")(plan)
app.add_typer(fleet_app, name="fleet")
app.add_typer(dr_app, name="dr")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
