"""`fleet verify --json`: one document valid against the shipped schema, the same verdict and exit code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from eksgitops.fleet.findings import VERIFY_SCHEMA
from tests.fleet.conftest import git, invoke

FLEET = Path(__file__).parent / "fixtures" / "artifact-generator-fleet"


def _push(tmp_path: Path, bare: Path, extra: dict[str, str] | None = None) -> None:
    work = tmp_path / "work"
    shutil.copytree(FLEET, work)
    for rel, text in (extra or {}).items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(text)
    git("init", "-q", "-b", "main", cwd=work)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "the fleet", cwd=work)
    git("remote", "add", "origin", str(bare), cwd=work)
    git("push", "-q", "origin", "main", cwd=work)


def _document(stdout: str) -> dict[str, object]:
    document = json.loads(stdout)
    jsonschema.Draft202012Validator(json.loads(VERIFY_SCHEMA.read_text())).validate(document)
    return document


def test_the_document_says_what_the_lines_say(tmp_path: Path, bare_remote: Path, cli: CliRunner) -> None:
    _push(tmp_path, bare_remote)
    lines = invoke(cli, "verify", "--repo", str(bare_remote), "--env", "staging")
    result = invoke(cli, "verify", "--repo", str(bare_remote), "--env", "staging", "--json")
    assert result.exit_code == lines.exit_code == 3, result.output
    document = _document(result.stdout)
    assert document["exitCode"] == 3 and document["outcome"] == "will reconcile as far as built"
    assert document["notChecked"] and document["builds"]
    assert [f["severity"] for f in document["findings"]] == ["policy"] * 3  # type: ignore[union-attr]
    printed = [line for line in lines.stdout.splitlines() if line.startswith("policy: ")]
    assert [f"policy: {f['path']}: {f['message']}" for f in document["findings"]] == printed  # type: ignore[union-attr, index]
    assert document["summary"].split(" (")[0] in lines.stderr  # type: ignore[union-attr]
    assert document["revision"] == git("--git-dir", str(bare_remote), "rev-parse", "main")


def test_a_break_is_an_error_finding_with_exit_1(tmp_path: Path, bare_remote: Path, cli: CliRunner) -> None:
    broken = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: default\ndta:\n  a: b\n"
    _push(tmp_path, bare_remote, {"apps/staging/broken.yaml": broken})
    kustomization = tmp_path / "work" / "apps" / "staging" / "kustomization.yaml"
    assert kustomization.is_file(), "the fixture's staging apps folder moved"
    text = kustomization.read_text().replace("resources:\n", "resources:\n  - broken.yaml\n", 1)
    kustomization.write_text(text)
    git("commit", "-q", "-am", "break", cwd=tmp_path / "work")
    git("push", "-q", "origin", "main", cwd=tmp_path / "work")
    result = invoke(cli, "verify", "--repo", str(bare_remote), "--env", "staging", "--json")
    assert result.exit_code == 1, result.output
    document = _document(result.stdout)
    assert document["outcome"] == "will not reconcile" and document["exitCode"] == 1
    errors = [f for f in document["findings"] if f["severity"] == "error"]  # type: ignore[union-attr, index]
    assert any("dta" in f["message"] and f["path"].startswith("apps/staging/") for f in errors), errors


@pytest.mark.parametrize(
    ("args", "flag"), [(["--env", "Dev"], "--env"), (["--env", "dev", "--revision", "-x"], "--revision")]
)
def test_a_usage_mistake_prints_no_document(
    tmp_path: Path, bare_remote: Path, cli: CliRunner, args: list[str], flag: str
) -> None:
    result = invoke(cli, "verify", "--repo", str(bare_remote), "--json", *args)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith(f"error: {flag}: ")


def test_repository_text_is_escaped_json_never_raw(tmp_path: Path, bare_remote: Path, cli: CliRunner) -> None:
    name = "evil\x1b]0;pwned\x07"
    extra = {f"clusters/staging/{name}.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [\n"}
    _push(tmp_path, bare_remote, extra)
    result = invoke(cli, "verify", "--repo", str(bare_remote), "--env", "staging", "--json")
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    document = _document(result.stdout)
    assert any(name in f["message"] for f in document["findings"]), document["findings"]  # type: ignore[union-attr, index]
