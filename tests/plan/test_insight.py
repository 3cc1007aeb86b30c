"""The plan's standard-support line: days left for the stack's version, and when to check an upgrade."""

from __future__ import annotations

from datetime import date

from typer.testing import CliRunner

from eksgitops.cli import app
from eksgitops.plan.insight import support_lines


def test_plenty_of_support_left_suggests_nothing():
    assert support_lines("1.35", "prod", today=date(2026, 12, 1)) == [
        "Kubernetes 1.35: 116 days left in EKS standard support (ends 2027-03-27)"
    ]


def test_under_90_days_suggests_upgrade_check_to_the_next_minor():
    assert support_lines("1.35", "prod", today=date(2027, 1, 1)) == [
        "Kubernetes 1.35: 85 days left in EKS standard support (ends 2027-03-27)",
        "Under 90 days: run `eksgitops upgrade check prod --to 1.36`",
    ]


def test_past_standard_support_says_so_and_suggests_the_upgrade():
    lines = support_lines("1.33", "dev", today=date(2026, 12, 3))
    assert lines[0] == (
        "Kubernetes 1.33: standard support ended 2026-07-29 (127 days ago); "
        "paid extended support until 2027-07-29"
    )
    assert lines[1] == "Under 90 days: run `eksgitops upgrade check dev --to 1.34`"


def test_a_version_without_dates_says_so():
    assert support_lines("1.99", "dev") == [
        "Kubernetes 1.99: not in components/data/kubernetes_versions.json; no support dates"
    ]


def test_the_plan_prints_the_days_left_for_the_stack(tmp_path):
    result = CliRunner().invoke(
        app, ["plan", "dev", "--quiet", "--out", str(tmp_path)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    days = (date(2027, 8, 2) - date.today()).days
    assert f"Kubernetes 1.36: {days} days left in EKS standard support (ends 2027-08-02)" in result.stdout
