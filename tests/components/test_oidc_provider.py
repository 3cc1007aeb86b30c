"""OidcProvider: the IAM OIDC provider for the cluster's issuer, audience sts.amazonaws.com."""

from __future__ import annotations

import pulumi
import pytest

from eksgitops.components.oidc_provider import OidcProvider, OidcProviderArgs
from eksgitops.plan.offline_engine import PlanResult, run_program

HOST = "oidc.eks.us-east-1.amazonaws.com/id/ABCDEF0123456789"
PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"


def plan(issuer: str) -> PlanResult:
    def program():
        provider = OidcProvider("oidc", OidcProviderArgs(issuer_url=issuer, tags={"team": "x"}))
        pulumi.export("arn", provider.arn)
        pulumi.export("issuer_url", provider.issuer_url)
        pulumi.export("issuer_host", provider.issuer_host)

    return run_program(program)


@pytest.mark.parametrize("issuer", [f"https://{HOST}", HOST, f"https://{HOST}/"])
def test_provider_url_client_id_and_outputs(issuer):
    result = plan(issuer)
    provider = result.one(PROVIDER, "oidc")
    assert provider.inputs["url"] == f"https://{HOST}"
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    # IAM trusts the CA of EKS issuers: no thumbprint to go stale.
    assert "thumbprintLists" not in provider.inputs
    # The provider's ARN is IAM's to say (it embeds the issuer's id): a placeholder, never invented.
    assert result.outputs == {
        "arn": "(known after apply: oidc.arn)",
        "issuer_url": f"https://{HOST}",
        "issuer_host": HOST,
    }


def test_provider_is_parented_to_the_component():
    result = plan(f"https://{HOST}")
    component = result.one("eksgitops:identity:OidcProvider", "oidc")
    assert result.one(PROVIDER, "oidc").parent == component.urn
    assert len(result.resources) == 2
