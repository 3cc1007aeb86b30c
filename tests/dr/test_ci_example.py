"""The CI example the runbook points at is a valid GitHub Actions workflow and runs real commands."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from eksgitops.dr.cli import app

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ci" / "github-actions-dr.yml"


def test_example_validates_against_the_github_workflow_schema():
    tool = shutil.which("check-jsonschema") or str(
        Path(__file__).resolve().parents[2] / ".venv/bin/check-jsonschema"
    )
    proc = subprocess.run(
        [tool, "--builtin-schema", "vendor.github-workflows", str(EXAMPLE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_example_calls_only_dr_commands_that_exist():
    workflow = yaml.safe_load(EXAMPLE.read_text())
    commands = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    used = [
        step["run"].split()[2]
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if "run" in step and step["run"].startswith(".venv/bin/eksgitops dr ")
    ]
    assert sorted(set(used)) == ["drill", "escrow"] and set(used) <= commands


def test_example_refreshes_the_escrow_of_exactly_the_stacks_that_have_one():
    from components.spec import load_spec
    from components.spec.read import stack_config

    root = EXAMPLE.parents[2]
    escrowed = set()
    for path in sorted((root / "stacks").glob("Pulumi.*.yaml")):
        stack = path.name[len("Pulumi.") : -len(".yaml")]
        raw = stack_config(path, root / "Pulumi.yaml")
        if load_spec(raw, stack=stack, source=str(path)).escrow.enabled:
            escrowed.add(stack)
    workflow = yaml.safe_load(EXAMPLE.read_text())
    assert set(workflow["jobs"]["escrow"]["strategy"]["matrix"]["stack"]) == escrowed == {"staging", "prod"}
