"""The CI templates users copy: valid GitHub workflows, OIDC credentials, the steps the README promises."""

from __future__ import annotations

import json
import re
import shutil
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
    assert 'eksgitops plan "$STACK"' in runs and "eksgitops fleet verify" in runs
    assert '--stack "$STACK"' in runs  # verify against the bridge the plan wrote
    assert all(s["env"]["STACK"] == "${{ matrix.stack }}" for s in _steps(pr) if "$STACK" in s.get("run", ""))
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


# Every template a user copies: the workflows and the disaster-recovery example.
TEMPLATES = [
    *WORKFLOWS,
    ROOT / "examples" / "ci" / "github-actions-dr.yml",
    ROOT / "examples" / "ci" / "github-actions-publish-fleet.yml",
]
TEMPLATE_IDS = [p.name for p in TEMPLATES]
ZIZMOR = [str(Path(sys.executable).parent / "zizmor"), "--offline", "--config", str(ROOT / "zizmor.yml")]
# The newest major version of each action, read from the tags of the actions' own repositories.
CURRENT_MAJOR = {
    "actions/checkout": 7,
    "actions/setup-python": 7,
    "actions/upload-artifact": 7,
    "aws-actions/configure-aws-credentials": 6,
    "pulumi/actions": 7,
    "fluxcd/flux2/action": 2,
    "sigstore/cosign-installer": 4,
}
PINNED = re.compile(
    r"^\s*(?:-\s+)?uses:\s+(?P<action>[\w.-]+/[\w.-]+(?:/[\w.-]+)*)@(?P<sha>\S+)(?:\s+#\s+(?P<tag>\S+))?\s*$"
)


def _jobs(path: Path) -> dict[str, dict[str, Any]]:
    return _load(path)["jobs"]


@pytest.mark.parametrize("path", TEMPLATES, ids=TEMPLATE_IDS)
def test_no_expression_inside_run(path: Path) -> None:
    # An expression in `run:` is pasted into the script before the shell reads it: a branch
    # name or a title can then run code. Values go through `env:` and are quoted.
    for name, job in _jobs(path).items():
        for step in job.get("steps", []):
            assert "${{" not in step.get("run", ""), (name, step.get("name") or step["run"])


@pytest.mark.parametrize("path", TEMPLATES, ids=TEMPLATE_IDS)
def test_every_action_is_pinned_to_a_commit_of_its_current_major_with_the_tag_beside_it(path: Path) -> None:
    lines = [line for line in path.read_text().splitlines() if re.match(r"^\s*(-\s+)?uses:", line)]
    assert lines
    for line in lines:
        if line.split("uses:", 1)[1].strip().startswith("./"):
            continue  # a workflow of this repository, at the caller's own commit
        match = PINNED.match(line)
        assert match, line
        assert re.fullmatch(r"[0-9a-f]{40}", match["sha"]), line
        tag = match["tag"] or ""
        assert re.fullmatch(r"v\d+\.\d+\.\d+", tag), line  # the release the SHA is, for updates
        assert int(tag[1:].split(".")[0]) == CURRENT_MAJOR[match["action"]], line


@pytest.mark.parametrize("path", TEMPLATES, ids=TEMPLATE_IDS)
def test_each_job_gets_only_the_permissions_it_uses(path: Path) -> None:
    workflow = _load(path)
    # Nothing at the top: a job that forgets its own block gets no token scopes at all.
    assert workflow["permissions"] == {} or path.name == "pulumi-up.yml"
    for name, job in workflow["jobs"].items():
        permissions = job["permissions"]
        steps = json.dumps(job.get("steps", []))
        wanted: set[str] = set()
        if "actions/checkout" in steps or "uses" in job:
            assert permissions.get("contents") == "read", name
            wanted.add("contents")
        if "gh run download" in steps:
            assert permissions["actions"] == "read", name
            wanted.add("actions")
        if "gh pr comment" in steps:
            assert permissions["pull-requests"] == "write", name
            assert "actions/checkout" not in steps, f"{name}: a token that writes comments meets PR code"
            wanted.add("pull-requests")
        if "configure-aws-credentials" in steps or "pulumi-up.yml" in job.get("uses", ""):
            assert permissions["id-token"] == "write", name
            wanted.add("id-token")
        if "gh issue" in steps:
            assert permissions["issues"] == "write", name
            wanted.add("issues")
        if '"comment-on-pr": true' in steps:
            assert permissions["pull-requests"] == "write", name
            wanted.add("pull-requests")
        assert set(permissions) == wanted, name


@pytest.mark.parametrize("path", TEMPLATES, ids=TEMPLATE_IDS)
def test_secrets_reach_only_jobs_in_a_github_environment(path: Path) -> None:
    # An environment's secrets reach a job only when its protection rules let the job run
    # (required reviewers, deployment branches); a repository secret reaches every job,
    # including the pull request's code.
    text = path.read_text()
    assert "secrets: inherit" not in text
    for name, job in _jobs(path).items():
        if "secrets." in json.dumps(job):
            assert job.get("environment"), name


def test_pull_requests_plan_and_verify_without_secrets_and_preview_only_after_approval() -> None:
    jobs = _jobs(ROOT / ".github" / "workflows" / "pull-request.yml")
    offline = jobs["offline-plan"]
    assert "secrets." not in json.dumps(offline) and "environment" not in offline
    assert "id-token" not in offline["permissions"]
    preview = jobs["preview"]
    assert preview["environment"] == "preview" and preview["needs"] == "offline-plan"
    used = set(re.findall(r"secrets\.(\w+)", json.dumps(preview)))
    assert used == {"PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE", "FLEET_READ_TOKEN"}
    # The split is written where users read it.
    readme = (ROOT / "README.md").read_text()
    assert "`preview` environment" in readme and "required reviewers" in readme


@pytest.mark.parametrize("path", TEMPLATES, ids=TEMPLATE_IDS)
def test_jobs_time_out_and_checkouts_keep_no_token(path: Path) -> None:
    for name, job in _jobs(path).items():
        if "uses" in job:
            continue  # a call of a reusable workflow: the callee's job has the timeout
        assert 0 < job["timeout-minutes"] <= 180, name
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, name


@pytest.mark.parametrize("path", TEMPLATES, ids=TEMPLATE_IDS)
def test_the_pulumi_cli_is_pinned_to_a_release_with_transforms_of_component_children(path: Path) -> None:
    steps = [s for job in _jobs(path).values() for s in job.get("steps", [])]
    for step in steps:
        if step.get("uses", "").startswith("pulumi/actions@"):
            version = str(step["with"]["pulumi-version"])
            assert re.fullmatch(r"\d+\.\d+\.\d+", version), version  # an exact release, not a range
            assert tuple(map(int, version.split("."))) >= (3, 115, 0), version


def test_pulumi_up_runs_on_a_runner_label_input_that_defaults_to_the_vpc_runner() -> None:
    up = _load(ROOT / ".github" / "workflows" / "pulumi-up.yml")
    runs_on = up[True]["workflow_call"]["inputs"]["runs-on"]
    assert runs_on["type"] == "string" and runs_on["default"] == "eksgitops-vpc" and runs_on["description"]
    assert up["jobs"]["up"]["runs-on"] == "${{ inputs.runs-on }}"
    readme = (ROOT / "README.md").read_text()
    assert "`runs-on`" in readme and "`eksgitops-vpc`" in readme


LEVELS = {"none": 0, "read": 1, "write": 2}
# What a job gets when neither it nor its workflow says: the restricted default of a new
# repository (GitHub docs, "Permissions for the GITHUB_TOKEN"); the permissive one does not
# grant id-token either.
RESTRICTED_DEFAULT = {"contents": "read", "packages": "read"}
SCOPES = (
    "actions",
    "attestations",
    "checks",
    "contents",
    "deployments",
    "discussions",
    "id-token",
    "issues",
    "models",
    "packages",
    "pages",
    "pull-requests",
    "repository-projects",
    "security-events",
    "statuses",
)


def _grants(permissions: Any) -> dict[str, str]:
    if permissions == "read-all":
        return dict.fromkeys(SCOPES, "read")
    if permissions == "write-all":
        return dict.fromkeys(SCOPES, "write")
    return dict(permissions)


def permission_gaps(caller: Path, root: Path = ROOT) -> list[str]:
    """What each call of a local reusable workflow in `caller` lacks.

    A called workflow gets at most what its calling job grants (GitHub docs, "Reusing
    workflows": permissions can only be kept or narrowed), so every permission a callee's
    job declares, at the job or the callee's workflow level, must be granted by the calling
    job, or by the caller's workflow when the job says nothing.
    """
    workflow = _load(caller)
    gaps = []
    for name, job in workflow["jobs"].items():
        uses = job.get("uses", "")
        if not uses.startswith("./"):
            continue
        granted = _grants(job.get("permissions", workflow.get("permissions", RESTRICTED_DEFAULT)))
        callee = _load(root / uses)
        for callee_name, callee_job in callee["jobs"].items():
            declared = callee_job.get("permissions", callee.get("permissions"))
            if declared is None:
                continue  # takes what it is given
            for scope, level in _grants(declared).items():
                if LEVELS[granted.get(scope, "none")] < LEVELS[level]:
                    gaps.append(
                        f"{name}: {Path(uses).name} job {callee_name} needs {scope}: {level}, "
                        f"the caller grants {granted.get(scope, 'none')}"
                    )
    return gaps


@pytest.mark.parametrize("path", TEMPLATES, ids=TEMPLATE_IDS)
def test_callers_grant_what_their_reusable_workflows_need(path: Path) -> None:
    assert permission_gaps(path) == []


def test_the_permission_check_finds_the_gap_of_the_old_deploy_workflow() -> None:
    # deploy.yml as it was: `contents: read` for the whole workflow, while pulumi-up.yml's job
    # asks for id-token: write. GitHub refuses to start such a run.
    old = ROOT / "tests" / "fixtures" / "ci" / "deploy-before-id-token.yml"
    assert permission_gaps(old) == [
        f"{stack}: pulumi-up.yml job up needs id-token: write, the caller grants none"
        for stack in ("dev", "staging", "prod")
    ]


def test_zizmor_is_pinned_and_run_by_make_test() -> None:
    assert "zizmor==1.32.0" in (ROOT / "requirements-dev.txt").read_text().splitlines()
    assert "zizmor==1.32.0" in (ROOT / "constraints.txt").read_text().splitlines()
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^test: lint$", makefile, re.M)
    lint = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "$(BIN)/zizmor --offline --config zizmor.yml $(CI_TEMPLATES)" in lint
    assert re.search(
        r"^CI_TEMPLATES := \.github/workflows examples/ci/github-actions-dr\.yml "
        r"examples/ci/github-actions-publish-fleet\.yml$",
        makefile,
        re.M,
    )


def test_zizmor_passes_on_the_templates() -> None:
    result = subprocess.run([*ZIZMOR, *map(str, TEMPLATES)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


def test_zizmor_fails_on_a_template_with_an_injected_expression(tmp_path: Path) -> None:
    workflow = _load(ROOT / ".github" / "workflows" / "pull-request.yml")
    workflow["jobs"]["offline-plan"]["steps"].append(
        {"name": "Title", "run": 'echo "${{ github.event.pull_request.title }}"'}
    )
    path = tmp_path / ".github" / "workflows" / "pull-request.yml"
    path.parent.mkdir(parents=True)
    # `on` is read as True by YAML 1.1: write it back as the key GitHub expects.
    workflow["on"] = workflow.pop(True)
    path.write_text(yaml.safe_dump(workflow, sort_keys=False))
    result = subprocess.run([*ZIZMOR, str(path)], capture_output=True, text=True)
    assert result.returncode != 0
    assert "template-injection" in result.stdout, result.stdout + result.stderr


# --- The pull request's one comment (issue 25.5) -------------------------------------------------

PR_WORKFLOW = ROOT / ".github" / "workflows" / "pull-request.yml"
# What the comment job may run: gh and coreutils on text, nothing of the repository.
COMMENT_COMMANDS = {"gh", "head", "wc", "tr", "echo", "part", "if", "then", "else", "fi", "for", "do", "done"}
FAKE_GH = """#!/bin/bash
# gh as the comment job uses it, on files: every call logged, one line each.
echo "$*" >> "$FAKE/calls"
case "$1 $2" in
  "run download") cp -R "$FAKE/artifacts/." "${@: -1}/" ;;
  "pr comment") cp "${@: -1}" "$FAKE/created.md" ;;
  "api repos/"*) if [ -f "$FAKE/existing" ]; then cat "$FAKE/existing"; fi ;;
  "api --method") last="${@: -1}"; cp "${last#body=@}" "$FAKE/patched.md" ;;
esac
"""


def _comment_step() -> dict[str, Any]:
    [step] = _jobs(PR_WORKFLOW)["pr-comment"]["steps"]
    return step


def test_one_comment_job_posts_both_changes_and_never_meets_the_pull_requests_code() -> None:
    jobs = _jobs(PR_WORKFLOW)
    comment = jobs["pr-comment"]
    assert "plan-comment" not in jobs  # no longer one comment per environment
    assert comment["needs"] == "offline-plan" and comment["if"] == "always()"
    assert "strategy" not in comment  # one job, so one comment for every environment
    assert comment["permissions"] == {"actions": "read", "pull-requests": "write"}
    [step] = comment["steps"]
    # Every environment the plan runs for has its part in the comment.
    assert step["env"]["ENVIRONMENTS"].split() == jobs["offline-plan"]["strategy"]["matrix"]["stack"]
    assert "uses" not in step  # no checkout, no action: nothing of the pull request runs
    words = {
        line.split()[0].rstrip(";")
        for line in step["run"].splitlines()
        if line.strip()
        and not line.strip().startswith(("#", "--", "}", "{", "code=", "id=", "dir=", "size="))
    }
    assert {w for w in words if not w.startswith(("part()", "_"))} <= COMMENT_COMMANDS, words
    for forbidden in (".venv", "eksgitops ", "make ", "python", "pip ", "bash ", "source ", "./", "sh -c"):
        assert forbidden not in step["run"], forbidden
    # The job that runs the pull request's code may not comment.
    assert "pull-requests" not in jobs["offline-plan"]["permissions"]


def test_the_offline_plan_diffs_the_fleet_at_head_against_base() -> None:
    offline = _jobs(PR_WORKFLOW)["offline-plan"]
    checkout = offline["steps"][0]
    assert checkout["with"] == {"persist-credentials": False, "fetch-depth": 0}
    [step] = [s for s in offline["steps"] if "fleet diff" in s.get("run", "")]
    assert step["if"] == "vars.FLEET_IN_THIS_REPO == 'true'"
    assert step["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    assert step["env"]["HEAD_SHA"] == "${{ github.event.pull_request.head.sha }}"
    command = " ".join(step["run"].replace("\\\n", " ").split())
    assert (
        '.venv/bin/eksgitops fleet diff --repo "$GITHUB_WORKSPACE" --env "$STACK" --stack "$STACK" '
        '--base "$BASE_SHA" --revision "$HEAD_SHA" --markdown > "build/$STACK/fleet-diff.md"'
    ) in command
    # The plan the comment shows: --against when the repository keeps a state export.
    runs = [s.get("run", "") for s in offline["steps"]]
    against = next(i for i, r in enumerate(runs) if "--against" in r)
    diff = next(i for i, r in enumerate(runs) if "fleet diff" in r)
    assert runs.index('.venv/bin/eksgitops plan "$STACK" --quiet') < against < diff


def _run_comment_job(fake: Path, artifacts: dict[str, dict[str, str | bytes]]) -> dict[str, Any]:
    """The comment step's script, run as GitHub runs it (bash -eo pipefail) with gh faked."""
    (fake / "bin").mkdir(parents=True, exist_ok=True)
    gh = fake / "bin" / "gh"
    gh.write_text(FAKE_GH)
    gh.chmod(0o755)
    shutil.rmtree(fake / "artifacts", ignore_errors=True)
    for name, files in artifacts.items():
        folder = fake / "artifacts" / name
        folder.mkdir(parents=True)
        for file, content in files.items():
            if file.endswith("@link"):
                (folder / file.removesuffix("@link")).symlink_to(str(content))
            elif isinstance(content, bytes):
                (folder / file).write_bytes(content)
            else:
                (folder / file).write_text(content)
    work = fake / "work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    step = _comment_step()
    env = {
        **{k: str(v) for k, v in step["env"].items() if "${{" not in str(v)},
        "GH_REPO": "org/repo",
        "PR_NUMBER": "7",
        "GITHUB_RUN_ID": "1",
        "FAKE": str(fake),
        "PATH": f"{fake / 'bin'}:/usr/bin:/bin",
    }
    script = fake / "step.sh"
    script.write_text(step["run"])
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    calls = (fake / "calls").read_text().splitlines() if (fake / "calls").exists() else []
    return {"result": result, "calls": calls, "body": (work / "comment.md").read_text()}


FLEET_DIFF = "### fleet diff `dev`\n\n1 Kustomization changed: apps/podinfo\n"


def test_the_comment_holds_plan_and_fleet_diff_of_every_environment_and_is_edited_on_the_next_push(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from eksgitops.cli import app

    monkeypatch.chdir(ROOT)
    build = tmp_path / "build"
    assert CliRunner().invoke(app, ["plan", "dev", "--quiet", "--out", str(build)]).exit_code == 0
    plan_md = (build / "dev" / "plan.md").read_text()
    artifacts: dict[str, dict[str, str | bytes]] = {
        "plan-dev": {"plan.md": plan_md, "fleet-diff.md": FLEET_DIFF, "fleet-diff.exit": "1\n"},
        # staging's job failed before writing anything; prod's files are the pull request's worst.
        "plan-prod": {
            "plan.md": "x" * 200_000,
            "fleet-diff.md@link": "/etc/passwd",
            "fleet-diff.exit": "3$(reboot)",
        },
    }
    fake = tmp_path / "fake"
    first = _run_comment_job(fake, artifacts)
    assert first["result"].returncode == 0, first["result"].stderr
    body = first["body"]
    assert body.startswith("<!-- eksgitops: what merging does -->\n## What merging this pull request does")
    assert len(body) < 65_536  # GitHub's limit for a comment
    dev, staging, prod = body.split("## Environment ")[1:]
    assert plan_md.strip() in dev and FLEET_DIFF.strip() in dev and "fleet diff exit code: 1 " in dev
    assert "_No plan of staging in this run's artifacts._" in staging
    assert "_No fleet diff of staging in this run's artifacts._" in staging
    assert "_Cut at 9,000 of 200000 bytes: the whole plan of prod is in the run's artifacts._" in prod
    assert "root:" not in prod and "_No fleet diff of prod in this run's artifacts._" in prod
    assert "reboot" not in body and "fleet diff exit code: 3 " in prod  # digits only
    assert [c.split()[:2] for c in first["calls"]] == [
        ["run", "download"],
        ["api", "repos/org/repo/issues/7/comments"],
        ["pr", "comment"],
    ]
    assert (fake / "created.md").read_text() == body

    # The next push edits that comment instead of adding one.
    (fake / "calls").unlink()
    (fake / "existing").write_text("4242\n")
    second = _run_comment_job(fake, artifacts)
    assert second["result"].returncode == 0, second["result"].stderr
    assert [c.split()[:3] for c in second["calls"]][-1] == ["api", "--method", "PATCH"]
    assert "repos/org/repo/issues/comments/4242" in second["calls"][-1]
    assert (fake / "patched.md").read_text() == second["body"]
    assert not any(c.startswith("pr comment") for c in second["calls"])
