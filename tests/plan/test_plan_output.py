"""What `eksgitops plan` prints: --json against its schema, -q, the create-from-nothing note, no cuts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from eksgitops.cli import app
from eksgitops.plan.summary import schema

ROOT = Path(__file__).resolve().parents[2]
OPEN_ENDPOINT = {
    "privateAccess": True,
    "publicAccess": True,
    "publicAccessCidrs": ["0.0.0.0/1", "128.0.0.0/1"],
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A copy of the project's stack files (one variant made to violate EKS-ENDPOINT)."""
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    stack = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())
    stack["config"]["eksgitops:endpoint"] = OPEN_ENDPOINT
    (tmp_path / "stacks" / "Pulumi.open.yaml").write_text(yaml.safe_dump(stack))
    monkeypatch.chdir(tmp_path)
    for var in ("KUBECONFIG", "AWS_PROFILE", "AWS_REGION"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def _plan(*args: str, width: int = 200):
    return CliRunner().invoke(app, ["plan", *args], terminal_width=width)


def test_json_output_is_one_document_valid_against_the_shipped_schema(project: Path) -> None:
    result = _plan("dev", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)  # nothing else on stdout
    jsonschema.Draft202012Validator.check_schema(schema())
    jsonschema.validate(document, schema())
    assert document["view"] == "create-from-nothing" and document["against"] is None
    assert document["policy"]["failed"] is False
    assert document["outputs"]["kubeconfig"] == "[secret]"
    assert "build/dev/resources.json" in document["files"]


def test_json_output_keeps_the_exit_code_of_a_violation(project: Path) -> None:
    result = _plan("open", "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    jsonschema.validate(document, schema())
    assert document["policy"]["failed"] is True
    assert {v["rule"] for v in document["policy"]["violations"]} == {"EKS-ENDPOINT"}


def test_the_schema_catches_a_document_that_breaks_it(project: Path) -> None:
    document = json.loads(_plan("dev", "--json").stdout)
    del document["counts"]["aws"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, schema())


def test_a_usage_error_with_json_prints_no_json(project: Path) -> None:
    result = _plan("nosuch", "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1


def test_quiet_prints_only_the_final_line(project: Path) -> None:
    result = _plan("dev", "-q")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Plan dev: 49 AWS resources and 4 Kubernetes objects to create from nothing; policy: passed; "
        "files in build/dev/"
    ]


def test_quiet_prints_the_errors_then_the_final_line(project: Path) -> None:
    result = _plan("open", "-q")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("EKS-ENDPOINT eksgitops-dev-cluster-eksCluster: ")
    assert lines[-1].startswith("Plan open: ") and "policy: 1 rule(s) violated" in lines[-1]
    assert len(lines) == 2


def test_the_plan_says_it_is_a_create_from_nothing_view(project: Path) -> None:
    result = _plan("dev")
    assert "This is a create-from-nothing view" in result.stdout
    assert "--against" in result.stdout
    assert "create-from-nothing" in (project / "build" / "dev" / "plan.md").read_text()


def test_nothing_is_cut_with_an_ellipsis_at_80_columns(project: Path) -> None:
    result = _plan("dev", width=80)
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    # A long value is wrapped, not cut: the policy ARN of the admin entry reads whole once the
    # tree's guides are taken off the lines it was folded over.
    flat = "".join(line.lstrip(" │├└─").strip() for line in result.stdout.splitlines())
    assert "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy" in flat


def test_docs_list_every_member_of_the_json_document() -> None:
    doc = (ROOT / "docs" / "plan.md").read_text().split("## The JSON document", 1)[1]
    listed = {
        name.strip("` ")
        for line in doc.splitlines()
        if line.startswith("| `")
        for name in line.split("|")[1].split(",")
    }
    assert listed == set(schema()["required"])
