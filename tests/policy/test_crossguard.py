"""The CrossGuard pack's validators, called as `pulumi preview --policy-pack` would, agree with the plan."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pulumi
import pytest
from pulumi.runtime.config import set_all_config
from pulumi_policy import (
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import _NotApplicableError

from eksgitops.plan.offline_engine import PlanResult
from eksgitops.policy.crossguard import policies
from eksgitops.policy.evaluate import evaluate
from eksgitops.policy.model import Resource
from tests.policy.helpers import change, cluster_name, edit_cluster, of_type, resources

CLUSTER = "eks:index:Cluster"


@pytest.fixture(autouse=True)
def _no_stack_config():
    set_all_config({}, [])
    yield
    set_all_config({}, [])


def _options(parent: str = "") -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], None, [], parent or None)  # type: ignore[arg-type]


def _stack_args(items: Sequence[Resource]) -> StackValidationArgs:
    made = {
        r.urn: PolicyResource(r.type, dict(r.props), r.urn, r.name, _options(r.parent), None, None, [], {})
        for r in items
    }
    for r in items:
        made[r.urn].parent = made.get(r.parent)
        made[r.urn].dependencies = [made[d] for d in r.dependencies if d in made]
        made[r.urn].property_dependencies = {
            k: [made[d] for d in v if d in made] for k, v in r.property_dependencies.items()
        }
    return StackValidationArgs(list(made.values()))


def crossguard_verdicts(items: Sequence[Resource]) -> dict[str, list[str]]:
    """Each policy's violations, as the pack reports them."""
    verdicts: dict[str, list[str]] = {}
    for policy in policies():
        found: list[str] = []

        def report(message: str, urn: str | None = None, found: list[str] = found) -> None:
            found.append(message)

        if isinstance(policy, ResourceValidationPolicy):
            for r in items:
                policy.validate(
                    ResourceValidationArgs(r.type, dict(r.props), r.urn, r.name, _options(r.parent), None),
                    report,
                )
        else:
            assert isinstance(policy, StackValidationPolicy)
            try:
                policy.validate(_stack_args(items), report)
            except _NotApplicableError:
                found.append("not applicable")
        verdicts[policy.name] = found
    return verdicts


def plan_verdicts(items: Sequence[Resource], waivers: Sequence[Any] = ()) -> dict[str, list[str]]:
    report = evaluate(items, waivers)
    return {r.rule.id: [f"{f.rule} {f.resource}: {f.message}" for f in r.violations] for r in report.results}


def _agree(items: Sequence[Resource]) -> dict[str, list[str]]:
    pack, plan = crossguard_verdicts(items), plan_verdicts(items)
    for rule, messages in plan.items():
        if pack[rule] == ["not applicable"]:
            assert rule == "GIT-CREDS-SECRET"
            continue
        assert sorted(pack[rule]) == sorted(messages), rule
    return pack


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_pack_passes_the_shipped_stacks_like_the_plan(plans: dict[str, PlanResult], stack: str) -> None:
    pack = _agree(resources(plans[stack]))
    assert all(not v or v == ["not applicable"] for v in pack.values()), pack


def test_the_pack_catches_what_the_plan_catches(plans: dict[str, PlanResult]) -> None:
    items = edit_cluster(resources(plans["dev"]), publicAccessCidrs=["0.0.0.0/0"])
    items = change(
        items,
        of_type("aws:ec2/launchTemplate:LaunchTemplate"),
        lambda p: p["metadataOptions"].update(httpTokens="optional"),
    )

    def like(props: dict[str, Any]) -> None:
        doc = json.loads(props["assumeRolePolicy"])
        eq = doc["Statement"][0]["Condition"]["StringEquals"]
        sub = next(k for k in eq if k.endswith(":sub"))
        doc["Statement"][0]["Condition"]["StringLike"] = {sub: eq.pop(sub)}
        props["assumeRolePolicy"] = json.dumps(doc)

    items = change(
        items, lambda r: r.type == "aws:iam/role:Role" and "s3-reader" in str(r.props.get("name")), like
    )
    pack = _agree(items)
    assert pack["EKS-ENDPOINT"] and pack["NODE-IMDSV2"] and pack["IRSA-TRUST"]  # resource-level policy
    assert pack["EKS-ENDPOINT"][0].startswith(f"EKS-ENDPOINT {cluster_name(items)}: ")


def test_the_pack_honours_the_stacks_waivers_from_its_config(plans: dict[str, PlanResult]) -> None:
    items = edit_cluster(resources(plans["dev"]), publicAccessCidrs=["0.0.0.0/0"])
    waiver = {"rule": "EKS-ENDPOINT", "reason": "demo", "resource": cluster_name(resources(plans["dev"]))}
    set_all_config({"eksgitops:policy": json.dumps({"waivers": [waiver]})}, [])
    assert pulumi.Config("eksgitops").get("policy")
    assert crossguard_verdicts(items)["EKS-ENDPOINT"] == []
    set_all_config({"eksgitops:policy": json.dumps({"waivers": [{"rule": "NOPE", "reason": "x"}]})}, [])
    assert "eksgitops:policy cannot be read" in crossguard_verdicts(items)["EKS-ENDPOINT"][0]


def test_unknown_values_from_preview_read_as_the_plans_placeholder() -> None:
    from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy

    from eksgitops.policy.crossguard import plain

    props = unknown_checking_proxy({"assumeRolePolicy": UNKNOWN_STRING_VALUE, "tags": {"a": ["b"]}})
    assert plain(props) == {"assumeRolePolicy": "(known after apply)", "tags": {"a": ["b"]}}
