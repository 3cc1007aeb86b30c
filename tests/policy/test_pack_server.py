"""The pack as Pulumi runs it: `policies/__main__.py` serves the analyzer gRPC API; we call it.

This is what `pulumi preview --policy-pack policies` talks to: the policies it lists, and the
diagnostics it returns for the resources of a plan (sent as the engine sends them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from components.spec.policy import RULE_IDS
from eksgitops.plan.engine import PlanResult
from eksgitops.policy.model import Resource
from tests.policy.helpers import cluster_name, edit_cluster, resources

ROOT = Path(__file__).resolve().parents[2]


def _serve(tmp_path: Path, config: dict[str, str]) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    env = {**os.environ, "PULUMI_CONFIG": json.dumps(config)}
    # Started from elsewhere, as the policy plugin does: the pack finds the rules by itself.
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "policies" / "__main__.py")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().strip() or 0)
        assert port, process.stderr.read().decode() if process.stderr else "no port"
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield analyzer_pb2_grpc.AnalyzerStub(channel)
    finally:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture
def pack(tmp_path: Path) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    yield from _serve(tmp_path, {})


def _struct(props: object) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(json.loads(json.dumps(props)))
    return message


def _stack_request(items: Sequence[Resource]) -> analyzer_pb2.AnalyzeStackRequest:
    return analyzer_pb2.AnalyzeStackRequest(
        resources=[
            analyzer_pb2.AnalyzerResource(
                type=r.type,
                properties=_struct(r.props),
                urn=r.urn,
                name=r.name,
                parent=r.parent,
                dependencies=list(r.dependencies),
                propertyDependencies={
                    k: analyzer_pb2.AnalyzerPropertyDependencies(urns=list(v))
                    for k, v in r.property_dependencies.items()
                },
            )
            for r in items
        ]
    )


def test_the_pack_serves_one_policy_per_rule(pack: analyzer_pb2_grpc.AnalyzerStub) -> None:
    info = pack.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "eksgitops-guardrails"
    assert [p.name for p in info.policies] == list(RULE_IDS)
    assert all(p.enforcementLevel == analyzer_pb2.MANDATORY for p in info.policies)


def test_the_pack_finds_nothing_in_dev_and_the_open_endpoint_in_a_crafted_plan(
    pack: analyzer_pb2_grpc.AnalyzerStub, plans: dict[str, PlanResult]
) -> None:
    clean = pack.AnalyzeStack(_stack_request(resources(plans["dev"])))
    assert list(clean.diagnostics) == []
    assert [n.policy_name for n in clean.not_applicable] == ["GIT-CREDS-SECRET"]

    bad = edit_cluster(resources(plans["dev"]), publicAccessCidrs=[])
    response = pack.AnalyzeStack(_stack_request(bad))
    assert [(d.policyName, d.enforcementLevel) for d in response.diagnostics] == [
        ("EKS-ENDPOINT", analyzer_pb2.MANDATORY)
    ]
    assert f"EKS-ENDPOINT {cluster_name(bad)}: the public endpoint is on with no CIDR list" in (
        response.diagnostics[0].message
    )


def test_a_resource_policy_judges_one_resource_before_it_is_created(
    pack: analyzer_pb2_grpc.AnalyzerStub, plans: dict[str, PlanResult]
) -> None:
    role = next(r for r in resources(plans["dev"]) if "app-s3-reader" in str(r.props.get("name")))
    doc = json.loads(role.props["assumeRolePolicy"])
    condition = doc["Statement"][0]["Condition"]
    sub = next(k for k in condition["StringEquals"] if k.endswith(":sub"))
    condition["StringLike"] = {sub: condition["StringEquals"].pop(sub)}
    request = analyzer_pb2.AnalyzeRequest(
        type=role.type,
        properties=_struct({**role.props, "assumeRolePolicy": json.dumps(doc)}),
        urn=role.urn,
        name=role.name,
    )
    response = pack.Analyze(request)
    assert {d.policyName for d in response.diagnostics} == {"IRSA-TRUST"}
    assert any("StringLike" in d.message for d in response.diagnostics)


def test_the_pack_reads_the_stacks_waivers_from_its_config(
    tmp_path: Path, plans: dict[str, PlanResult]
) -> None:
    waiver = {"rule": "EKS-ENDPOINT", "reason": "demo", "resource": cluster_name(resources(plans["dev"]))}
    bad = edit_cluster(resources(plans["dev"]), publicAccessCidrs=[])
    for stub in _serve(tmp_path, {"eksgitops:policy": json.dumps({"waivers": [waiver]})}):
        assert list(stub.AnalyzeStack(_stack_request(bad)).diagnostics) == []


def test_the_pack_needs_only_its_own_requirements() -> None:
    """policies/requirements.txt lists pulumi, pulumi-policy and pydantic: the rules import nothing else."""
    heavy = [
        "pulumi_aws",
        "pulumi_eks",
        "pulumi_kubernetes",
        "git",
        "typer",
        "rich",
        "components.spec.environment",
    ]
    code = (
        "import sys; import eksgitops.policy.crossguard, eksgitops.policy.rules; "
        f"print([m for m in {heavy!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    pinned = (ROOT / "policies" / "requirements.txt").read_text()
    for package in ("pulumi-policy==", "pulumi==", "pydantic=="):
        assert package in pinned
