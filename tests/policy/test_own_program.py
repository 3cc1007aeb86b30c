"""The guardrails on a program of one's own, offline, as the README shows it (examples/team-identities)."""

from __future__ import annotations

import runpy
from pathlib import Path

from eksgitops.plan.engine import run_program
from eksgitops.policy.evaluate import evaluate, from_recorded, report_lines

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "team-identities"
ISSUER = "oidc.eks.eu-west-1.amazonaws.com/id/ABC"


def _run(main: Path):
    return run_program(
        lambda: runpy.run_path(str(main), run_name="__main__"),
        project="team-identities",
        stack="dev",
        config={"team-identities:clusterStack": "acme/eksgitops/dev"},
        stack_references={
            "acme/eksgitops/dev": {
                "clusterName": "eksgitops-dev",
                "oidcProviderArn": f"arn:aws:iam::111122223333:oidc-provider/{ISSUER}",
                "oidcIssuerUrl": f"https://{ISSUER}",
            }
        },
    )


def test_the_readme_shows_these_calls() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("#### The guardrails on your own program", 1)[1].split("\n### ", 1)[0]
    for call in ("run_program(", "evaluate(from_recorded(result.resources))", "report_lines(report)"):
        assert call in section, call
    assert 'pulumi preview --policy-pack "$(eksgitops policy-pack-path)"' in section


def test_the_rules_pass_on_the_example_program() -> None:
    report = evaluate(from_recorded(_run(EXAMPLE / "__main__.py").resources))
    assert not report.failed, report_lines(report)
    judged = {r.rule.id for r in report.results if r.status == "passed"}
    assert {"IRSA-TRUST", "PODID-TRUST"} <= judged


def test_the_rules_catch_a_wildcard_admin_in_ones_own_program(tmp_path: Path) -> None:
    main = tmp_path / "__main__.py"
    main.write_text(
        (EXAMPLE / "__main__.py").read_text()
        + "\nimport pulumi_aws as aws\n"
        + 'aws.iam.RolePolicy("too-much", role="team-a-reports", policy=\'{"Version": "2012-10-17", '
        + '"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}\')\n'
    )
    report = evaluate(from_recorded(_run(main).resources))
    assert report.failed
    assert any(line.startswith("IAM-NO-WILDCARD-ADMIN ") for line in report_lines(report)), report_lines(
        report
    )
