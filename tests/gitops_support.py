"""Shared helpers of the GitOps agent tests: a valid environment plus a gitops section, planned."""

from __future__ import annotations

import json
from typing import Any

from eksgitops.components.platform import Platform, PlatformArgs
from eksgitops.components.spec import EnvironmentSpec, load_spec
from eksgitops.plan.offline_engine import SECRET_SIG, SECRET_VALUE, PlanResult, RecordedResource, run_program

SOURCE = "stacks/Pulumi.qa.yaml"
FLEET_HTTPS = "https://github.com/example/fleet.git"
FLEET_SSH = "git@github.com:example/fleet.git"
FLEET_OCI = "oci://111122223333.dkr.ecr.eu-west-1.amazonaws.com/fleet/qa"
KNOWN_HOSTS = "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
IDC_INSTANCE = "arn:aws:sso:::instance/ssoins-0123456789abcdef"
IDENTITIES = [
    {
        "name": "aws-load-balancer-controller",
        "namespace": "kube-system",
        "serviceAccount": "aws-load-balancer-controller",
        "mode": "irsa",
        "managedPolicyArns": ["arn:aws:iam::aws:policy/ElasticLoadBalancingReadOnly"],
    },
    {
        "name": "reports",
        "namespace": "apps",
        "serviceAccount": "reports",
        "managedPolicyArns": ["arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"],
    },
]


def raw_config(gitops: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """A valid stack's raw config with this gitops section."""
    return {
        "region": "eu-west-1",
        "network": {"azCount": 2, "natGateways": "single"},
        "access": {"entries": [{"principalArn": "arn:aws:iam::111122223333:role/platform-admin"}]},
        "nodeGroups": [{"name": "general"}],
        "identities": IDENTITIES,
        "gitops": gitops,
        **overrides,
    }


def spec_for(gitops: dict[str, Any], **overrides: Any) -> EnvironmentSpec:
    return load_spec(raw_config(gitops, **overrides), stack="qa", source=SOURCE)


def plan(environment: EnvironmentSpec) -> PlanResult:
    """The Platform of `environment` under the offline engine, with its stack outputs."""

    def program() -> None:
        Platform(environment.cluster_name, PlatformArgs(spec=environment)).export_stack_outputs()

    return run_program(program, stack="qa", region=environment.region)


def k8s(result: PlanResult, kind: str, name: str) -> RecordedResource:
    """The one planned Kubernetes object of this kind and metadata.name."""
    found = [
        r
        for r in result.resources
        if r.type.startswith("kubernetes:")
        and r.type.endswith(f":{kind}")
        and (r.plain_inputs().get("metadata") or {}).get("name") == name
    ]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def is_secret(wire: Any) -> bool:
    """A wire-form value marked secret by Pulumi."""
    return isinstance(wire, dict) and wire.get(SECRET_SIG) == SECRET_VALUE


def wire_text(result: PlanResult) -> str:
    """Every recorded input in wire form, secrets included (to prove a value flowed at all)."""
    return json.dumps([r.inputs for r in result.resources])


def assert_aws_through_the_platform_provider(result: PlanResult) -> None:
    """Every AWS resource (the agent's too) uses the platform's provider, never the default one."""
    provider = result.one("pulumi:providers:aws")
    for resource in result.resources:
        if resource.custom and resource.type.startswith("aws:"):
            assert resource.provider.rsplit("::", 1)[0] == provider.urn, resource.type
