"""The URNs each shipped stack registers, committed: a rename that would replace resources in
users' stacks shows in review as a change to tests/plan/urns/<stack>.txt.

A URN is a resource's identity in Pulumi's state: change it (a component's type or name, a
child's name, its parent) and `pulumi up` deletes the old resource and creates a new one, unless
the resource carries an `aliases` option naming the old URN. When a change here is intended,
give the renamed resources aliases, then rewrite the lists with
`EKSGITOPS_WRITE_URNS=1 .venv/bin/pytest tests/plan/test_urns.py`.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eksgitops.cli import app

ROOT = Path(__file__).resolve().parents[2]
URNS = Path(__file__).resolve().parent / "urns"


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_stack_registers_the_committed_urns(
    stack: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("KUBECONFIG", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, ["plan", stack, "--out", str(tmp_path), "-q"])
    assert result.exit_code == 0, result.output
    resources = json.loads((tmp_path / stack / "resources.json").read_text())["resources"]
    planned = sorted(r["urn"] for r in resources)
    committed_file = URNS / f"{stack}.txt"
    if os.environ.get("EKSGITOPS_WRITE_URNS") == "1":
        committed_file.write_text("\n".join(planned) + "\n")
    committed = committed_file.read_text().splitlines()
    diff = "\n".join(difflib.unified_diff(committed, planned, f"urns/{stack}.txt", "planned", lineterm=""))
    assert planned == committed, (
        f"the {stack} stack's URNs changed; resources whose URN changes are replaced on `pulumi up` "
        f"unless they carry aliases:\n{diff}"
    )
