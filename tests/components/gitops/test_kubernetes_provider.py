"""The cluster's Kubernetes provider: exec authentication, and nothing before the cluster is usable."""

from __future__ import annotations

import json

import pytest

from eksgitops.components.gitops.kubernetes_provider import exec_kubeconfig
from eksgitops.plan.offline_engine import PlanResult
from tests.gitops_support import FLEET_HTTPS, is_secret, plan, spec_for


@pytest.fixture(scope="module")
def flux_plan() -> PlanResult:
    return plan(spec_for({"repoUrl": FLEET_HTTPS}))


def test_the_kubeconfig_gets_a_fresh_token_from_aws_for_every_call() -> None:
    config = json.loads(exec_kubeconfig("prod", "https://ABC.eks.amazonaws.com", "Q0E=", "eu-west-1"))
    assert config["clusters"][0]["cluster"] == {
        "server": "https://ABC.eks.amazonaws.com",
        "certificate-authority-data": "Q0E=",
    }
    user = config["users"][0]["user"]
    assert "token" not in user
    assert user["exec"]["command"] == "aws"
    assert user["exec"]["args"] == [
        "eks",
        "get-token",
        "--cluster-name",
        "prod",
        "--region",
        "eu-west-1",
        "--output",
        "json",
    ]
    assert user["exec"]["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert config["current-context"] == "prod"


def test_the_provider_uses_it_as_a_secret(flux_plan: PlanResult) -> None:
    provider = flux_plan.one("pulumi:providers:kubernetes")
    assert is_secret(provider.inputs["kubeconfig"])
    kubeconfig = json.loads(provider.inputs["kubeconfig"]["value"])
    assert kubeconfig["users"][0]["user"]["exec"]["args"][3] == "eksgitops-qa"
    assert provider.plain_inputs()["enableServerSideApply"] == "true"


def test_the_provider_waits_for_access_nodes_and_add_ons(flux_plan: PlanResult) -> None:
    provider = flux_plan.one("pulumi:providers:kubernetes")
    # The access entries live inside pulumi-eks's cluster component: depending on it waits for them.
    needed = [
        flux_plan.one("eks:index:Cluster"),
        flux_plan.one("eks:index:ManagedNodeGroup"),
        *flux_plan.by_type("aws:eks/addon:Addon"),
    ]
    for resource in needed:
        assert resource.urn in provider.dependencies, resource.type


def test_every_kubernetes_object_goes_through_it(flux_plan: PlanResult) -> None:
    provider = flux_plan.one("pulumi:providers:kubernetes")
    objects = [r for r in flux_plan.resources if r.custom and r.type.startswith("kubernetes:")]
    assert objects
    for resource in objects:
        # A provider reference is "<urn>::<id>".
        assert resource.provider.rsplit("::", 1)[0] == provider.urn, resource.type
