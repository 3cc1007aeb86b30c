"""The example programs under examples/ run offline against the components they import."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

from eksgitops.plan.offline_engine import run_program

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "team-identities"
CLUSTER_STACK = "acme/eksgitops/dev"
ISSUER_HOST = "oidc.eks.eu-west-1.amazonaws.com/id/ABC"


def test_team_identities_example_adds_both_kinds_of_identity() -> None:
    result = run_program(
        lambda: runpy.run_path(str(EXAMPLE / "__main__.py"), run_name="__main__"),
        project="team-identities",
        stack="dev",
        config={"team-identities:clusterStack": CLUSTER_STACK},
        stack_references={
            CLUSTER_STACK: {
                "clusterName": "eksgitops-dev",
                "oidcProviderArn": f"arn:aws:iam::111122223333:oidc-provider/{ISSUER_HOST}",
                "oidcIssuerUrl": f"https://{ISSUER_HOST}",
            }
        },
    )
    association = result.one("aws:eks/podIdentityAssociation:PodIdentityAssociation").plain_inputs()
    assert association["clusterName"] == "eksgitops-dev"
    assert (association["namespace"], association["serviceAccount"]) == ("team-a", "reports")

    irsa_roles = [
        r
        for r in result.by_type("aws:iam/role:Role")
        if "AssumeRoleWithWebIdentity" in r.plain_inputs()["assumeRolePolicy"]
    ]
    assert len(irsa_roles) == 1
    trust = json.loads(irsa_roles[0].plain_inputs()["assumeRolePolicy"])
    condition = trust["Statement"][0]["Condition"]["StringEquals"]
    assert condition[f"{ISSUER_HOST}:sub"] == "system:serviceaccount:team-a:queue-worker"
    assert set(result.outputs) == {"reportsRoleArn", "queueWorkerRoleArn"}
