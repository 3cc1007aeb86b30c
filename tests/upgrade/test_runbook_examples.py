"""The runbook's own example commands on the shipped stacks, exactly as docs/runbooks/upgrade.md gives
them. The stacks' placeholder fleet URL is redirected to the shipped scaffold by the user's own Git
configuration (`url.<path>.insteadOf`), so no `--repo` is added to the commands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from eksgitops.components.spec import load_spec
from eksgitops.components.spec.read import stack_config
from eksgitops.upgrade.pins import at_target, pin_moves
from eksgitops.upgrade.stack_edit import StackEditError, version_edit
from tests.upgrade.conftest import REPO_ROOT, git, run

DOCS = (REPO_ROOT / "docs" / "runbooks" / "upgrade.md", REPO_ROOT / "README.md")
PLACEHOLDER = "https://github.com/example/fleet.git"


@pytest.fixture
def example_fleet(scaffold: Path) -> Path:
    git("config", "--global", f"url.{scaffold}.insteadOf", PLACEHOLDER)
    return scaffold


def _runbook_checks() -> list[tuple[str, ...]]:
    found = [re.findall(r"eksgitops (upgrade check \w+ --to [\d.]+)\s+#", doc.read_text()) for doc in DOCS]
    return sorted({tuple(line.split()) for lines in found for line in lines})


def test_the_runbook_names_the_staging_and_prod_examples():
    assert ("upgrade", "check", "staging", "--to", "1.36") in _runbook_checks()
    assert ("upgrade", "check", "prod", "--to", "1.36") in _runbook_checks()


@pytest.mark.parametrize("args", _runbook_checks(), ids=lambda a: a[2])
def test_the_runbook_check_examples_are_ready_on_the_shipped_stacks(project, example_fleet, args):
    result = run(*args)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith(f"upgrade check {args[2]} 1.35 -> 1.36: ready")
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("stack", "addon", "old", "new"),
    [
        ("staging", "aws-ebs-csi-driver", "v1.55.0-eksbuild.2", "v1.63.1-eksbuild.1"),
        ("prod", "vpc-cni", "v1.21.1-eksbuild.3", "v1.22.4-eksbuild.3"),
    ],
)
def test_a_pin_the_target_does_not_offer_moves_with_the_version(
    project, example_fleet, stack, addon, old, new
):
    result = run("upgrade", "check", stack, "--to", "1.36")
    assert (
        f"INFO add-ons: {addon}: pinned {old} is not offered for 1.36; the upgrade moves the pin to {new}"
        in (result.stdout)
    )
    path = project / "stacks" / f"Pulumi.{stack}.yaml"
    before = path.read_text()
    shown = run("upgrade", "apply", stack, "--to", "1.36")
    assert shown.exit_code == 0, shown.stderr
    changed = [x for x in shown.stdout.splitlines() if x[:1] in "+-" and x[:3] not in ("+++", "---")]
    assert sorted(changed) == sorted(
        [
            '-  eksgitops:kubernetesVersion: "1.35"',
            '+  eksgitops:kubernetesVersion: "1.36"',
            f"-      version: {old}",
            f"+      version: {new}",
        ]
    )
    assert path.read_text() == before  # without --yes nothing is written


def test_a_pin_the_target_still_offers_stays_as_chosen():
    raw = {"kubernetesVersion": "1.35", "addons": {"vpc-cni": {"version": "v1.22.3-eksbuild.1"}}}
    assert pin_moves(raw, "1.36") == []
    moved, _ = at_target(raw, "1.36")
    assert moved["addons"] == raw["addons"]


def test_a_pin_without_data_for_the_target_stays():
    raw = {"addons": {"vpc-cni": {"version": "v1.21.1-eksbuild.3"}}}
    assert pin_moves(raw, "1.99") == []


def test_the_edit_refuses_a_pin_it_cannot_find_on_one_line(project):
    path = project / "stacks" / "Pulumi.staging.yaml"
    text = path.read_text().replace(
        "    aws-ebs-csi-driver:\n      version: v1.55.0-eksbuild.2\n",
        "    aws-ebs-csi-driver: {version: v1.55.0-eksbuild.2}\n",
    )
    path.write_text(text)
    defaults = stack_config(path, project / "Pulumi.yaml")
    wanted = re.escape("version: v1.55.0-eksbuild.2`, one expected; set it to v1.63.1-eksbuild.1 by hand")
    with pytest.raises(StackEditError, match=wanted):
        version_edit(path, "1.36", defaults, "staging")
    load_spec(stack_config(path, project / "Pulumi.yaml"), stack="staging", source="t")  # still valid
