"""Importing the components is quiet: pulumi-eks's warning about a class we never use stays out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "statement",
    [
        "import eksgitops.components.platform",
        "from eksgitops.components.node_group import NodeGroup",
        "from eksgitops.components.cluster import EksCluster",
    ],
)
def test_importing_the_components_prints_no_deprecation_warning(statement: str) -> None:
    # -W always: every warning is printed, even those Python hides outside __main__ by default.
    done = subprocess.run(
        [sys.executable, "-W", "always", "-c", statement],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "DeprecationWarning" not in done.stderr, done.stderr


def test_a_program_that_makes_the_old_node_group_itself_still_hears_of_it() -> None:
    statement = (
        "import warnings; import eksgitops.components.cluster\n"
        "with warnings.catch_warnings(record=True) as seen:\n"
        "    warnings.simplefilter('always')\n"
        "    import importlib, pulumi_eks.node_group as m; importlib.reload(m)\n"
        "print(any('LaunchConfiguration' in str(w.message) for w in seen))"
    )
    done = subprocess.run(
        [sys.executable, "-c", statement], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.stdout.strip() == "True", done.stderr
