"""The CI templates users copy: valid GitHub workflows, OIDC credentials, the steps the README promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
CHECK = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows"]
# Inputs of the actions used, from their own documentation: pulumi/actions (README, v6) and
# aws-actions/configure-aws-credentials (action.yml).
PULUMI_ACTION_INPUTS = {
    "command",
    "stack-name",
    "work-dir",
    "cloud-url",
    "comment-on-pr",
    "comment-on-summary",
    "github-token",
    "refresh",
    "secrets-provider",
    "color",
    "config-map",
    "diff",
    "edit-pr-comment",
    "expect-no-changes",
    "message",
    "parallel",
    "policyPacks",
    "policyPackConfigs",
    "pulumi-version",
    "pulumi-version-file",
    "remove",
    "replace",
    "target",
    "target-dependents",
    "upsert",
    "suppress-outputs",
    "suppress-progress",
}
AWS_ACTION_INPUTS = {
    "audience",
    "aws-region",
    "role-to-assume",
    "role-session-name",
    "role-duration-seconds",
    "role-external-id",
    "role-skip-session-tagging",
    "mask-aws-account-id",
    "web-identity-token-file",
}


def _load(path: Path) -> dict[Any, Any]:
    return yaml.safe_load(path.read_text())


def _steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def test_every_workflow_is_valid_against_the_github_workflow_schema() -> None:
    assert {p.name for p in WORKFLOWS} >= {"pull-request.yml", "deploy.yml", "pulumi-up.yml", "drift.yml"}
    result = subprocess.run([*CHECK, *map(str, WORKFLOWS)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = _load(ROOT / ".github" / "workflows" / "drift.yml")
    broken["jobs"]["refresh-preview"]["runs-on"] = None
    broken["jobs"]["refresh-preview"]["stepz"] = broken["jobs"]["refresh-preview"].pop("steps")
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken))
    result = subprocess.run([*CHECK, str(path)], capture_output=True, text=True)
    assert result.returncode != 0


@pytest.mark.parametrize("path", WORKFLOWS, ids=[p.name for p in WORKFLOWS])
def test_actions_take_only_their_documented_inputs_and_aws_credentials_come_from_oidc(path: Path) -> None:
    workflow = _load(path)
    for step in _steps(workflow):
        uses = step.get("uses", "")
        given = set(step.get("with", {}))
        if uses.startswith("pulumi/actions@"):
            assert given <= PULUMI_ACTION_INPUTS, given - PULUMI_ACTION_INPUTS
        if uses.startswith("aws-actions/configure-aws-credentials@"):
            assert given <= AWS_ACTION_INPUTS, given - AWS_ACTION_INPUTS
            assert "role-to-assume" in given  # OIDC federation, never long-lived keys
    text = path.read_text()
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text
    for name, job in workflow["jobs"].items():
        if any("configure-aws-credentials" in s.get("uses", "") for s in job.get("steps", [])):
            assert job["permissions"]["id-token"] == "write", name


def test_the_templates_do_what_the_readme_says() -> None:
    pr = _load(ROOT / ".github" / "workflows" / "pull-request.yml")
    runs = " ".join(s.get("run", "") for s in _steps(pr))
    assert "eksgitops plan ${{ matrix.stack }}" in runs and "eksgitops fleet verify" in runs
    assert "--stack ${{ matrix.stack }}" in runs  # verify against the bridge the plan wrote
    preview = [s for s in _steps(pr) if s.get("uses", "").startswith("pulumi/actions@")]
    assert (
        preview
        and preview[0]["with"]["command"] == "preview"
        and preview[0]["with"]["policyPacks"] == "policies"
    )
    assert pr["jobs"]["offline-plan"]["strategy"]["matrix"]["stack"] == ["dev", "staging", "prod"]

    deploy = _load(ROOT / ".github" / "workflows" / "deploy.yml")
    assert deploy[True]["push"]["branches"] == ["main"]  # YAML 1.1 reads the key `on` as true
    assert deploy["jobs"]["prod"]["needs"] == "staging" and deploy["jobs"]["staging"]["needs"] == "dev"
    up = _load(ROOT / ".github" / "workflows" / "pulumi-up.yml")
    # The job runs in the stack's GitHub environment: prod's required reviewers are the approval.
    assert up["jobs"]["up"]["environment"] == "${{ inputs.stack }}"
    assert any(s.get("with", {}).get("command") == "up" for s in _steps(up))

    drift = _load(ROOT / ".github" / "workflows" / "drift.yml")
    assert "schedule" in drift[True]
    runs = " ".join(s.get("run", "") for s in _steps(drift))
    assert "pulumi refresh" in runs and "--preview-only" in runs and "--expect-no-changes" in runs
    assert "gh issue create" in runs  # the alert
