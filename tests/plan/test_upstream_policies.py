"""The shipped stacks' IAM policies for upstream controllers are the controllers' own."""

from __future__ import annotations

from pathlib import Path

import pytest

from eksgitops.components.spec import load_spec
from eksgitops.components.spec.read import stack_config

ROOT = Path(__file__).resolve().parents[2]
ZONE = "arn:aws:route53:::hostedzone/Z0123456789EXAMPLE"
# kubernetes-sigs/external-dns docs/tutorials/aws.md ("IAM Policy") at v0.22.0
# (2bf1bf8af2b70f23579f9147c1f7e9394f7f83d5): actions by the resource they are granted on.
EXTERNAL_DNS_UPSTREAM = {
    "route53:ChangeResourceRecordSets": "arn:aws:route53:::hostedzone/*",
    "route53:ListResourceRecordSets": "arn:aws:route53:::hostedzone/*",
    "route53:ListTagsForResources": "arn:aws:route53:::hostedzone/*",
    "route53:ListHostedZones": "*",
}


def _grants(policy: dict) -> dict[str, set[str]]:
    grants: dict[str, set[str]] = {}
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        for action in actions:
            grants.setdefault(action, set()).update(resources)
    return grants


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_external_dns_gets_upstreams_policy_with_changes_narrowed_to_its_zone(stack: str) -> None:
    config = stack_config(ROOT / "stacks" / f"Pulumi.{stack}.yaml", ROOT / "Pulumi.yaml")
    spec = load_spec(config, stack=stack, source=f"stacks/Pulumi.{stack}.yaml")
    (identity,) = [i for i in spec.identities if i.name == "external-dns"]
    policy = identity.policy
    assert policy is not None
    grants = _grants(policy)
    assert set(grants) == set(EXTERNAL_DNS_UPSTREAM)
    for action, resource in EXTERNAL_DNS_UPSTREAM.items():
        # Upstream's resource, or (record changes only) the one zone external-dns manages.
        allowed = {resource} | ({ZONE} if action == "route53:ChangeResourceRecordSets" else set())
        assert grants[action] <= allowed and grants[action], (action, grants[action])
