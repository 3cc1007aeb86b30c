"""EKS upgrade insights through boto3. moto 5.2.5 has no ListInsights/DescribeInsight, so botocore's
Stubber answers; it checks every request and response against the botocore model of EKS."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
from botocore.exceptions import ParamValidationError
from botocore.stub import Stubber

from eksgitops.upgrade.insights import read_insights


class Clients:
    def __init__(self, eks) -> None:
        self.eks = eks

    def client(self, service: str):
        assert service == "eks"
        return self.eks


def _insight(id_: str, name: str, status: str, reason: str, resources: int = 0) -> dict:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    return {
        "id": id_,
        "name": name,
        "category": "UPGRADE_READINESS",
        "kubernetesVersion": "1.37",
        "lastRefreshTime": now,
        "lastTransitionTime": now,
        "description": "Checks for deprecated APIs.",
        "insightStatus": {"status": status, "reason": reason},
        "recommendation": "Update the manifests to the replacement API." if status != "PASSING" else "",
        "additionalInfo": {},
        "resources": [
            {"insightStatus": {"status": status, "reason": reason}, "kubernetesResourceUri": f"/apis/x/{i}"}
            for i in range(resources)
        ],
    }


def test_insights_are_listed_for_the_target_and_described_worst_first():
    eks = boto3.client("eks", region_name="eu-west-1", aws_access_key_id="k", aws_secret_access_key="s")
    filters = {"categories": ["UPGRADE_READINESS"], "kubernetesVersions": ["1.37"]}
    with Stubber(eks) as stub:
        stub.add_response(
            "list_insights",
            {"insights": [{"id": "a", "name": "Kubelet version skew"}], "nextToken": "t1"},
            {"clusterName": "eksgitops-dev", "filter": filters},
        )
        stub.add_response(
            "list_insights",
            {"insights": [{"id": "b", "name": "Deprecated APIs removed in Kubernetes v1.37"}]},
            {"clusterName": "eksgitops-dev", "filter": filters, "nextToken": "t1"},
        )
        stub.add_response(
            "describe_insight",
            {"insight": _insight("a", "Kubelet version skew", "PASSING", "No issues found.")},
            {"clusterName": "eksgitops-dev", "id": "a"},
        )
        stub.add_response(
            "describe_insight",
            {
                "insight": _insight(
                    "b",
                    "Deprecated APIs removed in Kubernetes v1.37",
                    "ERROR",
                    "Deprecated API usage detected.",
                    2,
                )
            },
            {"clusterName": "eksgitops-dev", "id": "b"},
        )
        found = read_insights(Clients(eks), "eksgitops-dev", "1.37")  # type: ignore[arg-type]
        stub.assert_no_pending_responses()
    assert [i.line() for i in found] == [
        "ERROR Deprecated APIs removed in Kubernetes v1.37 (2 resources): Deprecated API usage detected.; "
        "Update the manifests to the replacement API.",
        "PASSING Kubelet version skew: No issues found.",
    ]


def test_the_stubber_refuses_a_response_the_model_does_not_allow():
    # The catch side of checking the fake against the model: a wrong shape fails the test.
    eks = boto3.client("eks", region_name="eu-west-1", aws_access_key_id="k", aws_secret_access_key="s")
    with Stubber(eks) as stub, pytest.raises(ParamValidationError):
        stub.add_response("list_insights", {"insights": [{"id": 7}]})
