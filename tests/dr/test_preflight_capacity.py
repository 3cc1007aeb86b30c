"""Preflight checks what stops a rebuild: the Kubernetes version EKS still offers, the quotas a
new environment consumes (real quota codes; AccessDenied is "could not check", never a guessed
default), the CLIs a rebuild runs. AWS is moto's server; Service Quotas and EKS's version list,
which moto does not model, are botocore Stubbers (checked against the real service models)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from eksgitops.dr.aws import AwsClients
from eksgitops.dr.capacity import EIP_QUOTA, VCPU_QUOTA, VPC_QUOTA, quotas, version_offered
from eksgitops.dr.context import load_stack
from eksgitops.dr.tools import tools
from tests.dr.conftest import REGION
from tests.simworld.stacks import install


def context(tmp_path: Path, env: str = "prod"):
    install(tmp_path, env)
    return load_stack(
        env, stacks_dir=tmp_path / "stacks", project_dir=tmp_path, build_dir=tmp_path, command="x"
    )


def with_stub(service: str) -> tuple[AwsClients, Stubber]:
    aws = AwsClients(REGION)
    stubbed = boto3.client(service, region_name=REGION)
    aws._clients[service] = stubbed  # the one client moto cannot answer
    return aws, Stubber(stubbed)


def quota_answer(code: str, value: float) -> dict[str, Any]:
    return {"Quota": {"QuotaCode": code, "Value": value}}


def test_access_denied_on_service_quotas_is_could_not_check_not_a_default(aws_env, tmp_path):
    aws, stub = with_stub("service-quotas")
    for _ in range(6):
        stub.add_client_error(
            "get_service_quota", service_error_code="AccessDeniedException", http_status_code=403
        )
    with stub:
        rows = {r.check: r for r in quotas(context(tmp_path), aws)}
    for check in (
        "VPC quota",
        "Elastic IP quota",
        "internet gateway quota",
        "NAT gateway quota",
        "EKS cluster quota",
    ):
        row = rows[check]
        assert row.skipped and row.result == "skipped", check
        assert row.reason.startswith("could not check: Service Quotas") and "AccessDenied" in row.reason
        assert "default" not in row.reason


def test_quotas_with_room_pass_and_one_without_fails_naming_the_code(aws_env, tmp_path):
    aws, stub = with_stub("service-quotas")
    answers = {
        "L-F678F1CE": 5,
        "L-0263D0A3": 5,
        "L-A4707A72": 5,
        "L-FE5A380F": 5,
        "L-1194D53C": 100,
        "L-1216C47A": 8,
    }
    for code, value in answers.items():
        stub.add_response(
            "get_service_quota",
            quota_answer(code, value),
            {"ServiceCode": service_of(code), "QuotaCode": code},
        )
    with stub:
        rows = {r.check: r for r in quotas(context(tmp_path), aws)}
    assert all(rows[c].ok and not rows[c].skipped for c in rows if c != "On-Demand vCPU quota"), rows
    vcpu = rows["On-Demand vCPU quota"]
    # prod's on-demand system pool alone (3 x m6i.xlarge, 4 vCPUs each) needs more than 8.
    assert not vcpu.ok and "L-1216C47A" in vcpu.reason and "quota 8" in vcpu.reason


def service_of(code: str) -> str:
    return {q[1]: q[0] for q in (VPC_QUOTA, EIP_QUOTA, VCPU_QUOTA)}.get(code) or (
        "eks" if code == "L-1194D53C" else "vpc"
    )


def test_describe_addresses_is_called_without_the_domain_filter_the_ec2_model_does_not_list(
    aws_env, tmp_path
):
    aws = AwsClients(REGION)
    seen: list[dict[str, Any]] = []
    aws.client("ec2").meta.events.register(
        "provide-client-params.ec2.DescribeAddresses", lambda params, **_: seen.append(dict(params))
    )
    quotas(context(tmp_path, "dev"), aws)
    assert seen == [{}]


@pytest.mark.parametrize(
    ("answer", "ok", "reason"),
    [
        (
            {"clusterVersions": [{"clusterVersion": "1.36", "versionStatus": "STANDARD_SUPPORT"}]},
            True,
            "1.36 is STANDARD_SUPPORT",
        ),
        ({"clusterVersions": []}, False, "EKS no longer offers 1.36"),
    ],
)
def test_the_kubernetes_version_must_still_be_offered(aws_env, tmp_path, answer, ok, reason):
    ctx = context(tmp_path, "dev")
    assert ctx.spec.kubernetes_version == "1.36"
    aws, stub = with_stub("eks")
    stub.add_response("describe_cluster_versions", answer, {"clusterVersions": ["1.36"]})
    with stub:
        row = version_offered(ctx, aws)
    assert (row.ok, row.skipped) == (ok, False) and row.reason.startswith(reason)


def test_a_version_check_that_cannot_run_is_skipped_not_passed(aws_env, tmp_path):
    aws, stub = with_stub("eks")
    stub.add_client_error(
        "describe_cluster_versions", service_error_code="AccessDeniedException", http_status_code=403
    )
    with stub:
        row = version_offered(context(tmp_path, "dev"), aws)
    assert row.skipped and row.result == "skipped" and row.reason.startswith("could not check")


@pytest.mark.parametrize(
    ("found", "failed"),
    [
        ({"pulumi": "v3.200.0", "aws": "aws-cli/2.27.0 Python/3.13"}, set()),
        ({"pulumi": "v3.114.9", "aws": "aws-cli/2.27.0 Python/3.13"}, {"Pulumi CLI"}),
        ({"aws": "aws-cli/1.38.1 Python/3.9"}, {"Pulumi CLI", "AWS CLI v2"}),
    ],
)
def test_the_pulumi_and_aws_clis_are_there_and_recent(found, failed):
    rows = tools(lambda program, args: found.get(program))
    assert {r.check for r in rows if not r.ok} == failed
