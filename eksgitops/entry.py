"""The `eksgitops` console script: the CLI, or one line saying which extra it needs.

`pip install eksgitops` installs the components without the CLI's dependencies (typer, rich,
GitPython, boto3, …); the script is still on PATH, so it says how to get the rest instead of
ending in an ImportError traceback.
"""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from eksgitops.cli import main as cli_main
    except ModuleNotFoundError as missing:
        print(
            f"eksgitops: the command needs {missing.name!r}, which comes with the cli extra: "
            "pip install 'eksgitops[cli]'",
            file=sys.stderr,
        )
        raise SystemExit(2) from None
    cli_main()


if __name__ == "__main__":
    main()
