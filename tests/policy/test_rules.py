"""Every rule passes the shipped stacks and catches a crafted violation in the registered resources."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from eksgitops.plan.engine import PlanResult
from eksgitops.policy import control_plane
from eksgitops.policy.evaluate import evaluate
from eksgitops.policy.model import Graph, Resource
from tests.policy.helpers import (
    DROP,
    change,
    cluster_name,
    edit_cluster,
    edit_node_groups,
    messages,
    of_type,
    resources,
    statuses,
)

CLUSTER = "eks:index:Cluster"
RAW_CLUSTER = "aws:eks/cluster:Cluster"
ROLE = "aws:iam/role:Role"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
AWS_RULES = (
    "EKS-ENDPOINT",
    "EKS-LOGGING",
    "EKS-SECRETS-KMS",
    "EKS-VERSION",
    "EKS-ACCESS",
    "NODE-IMDSV2",
    "NODE-NO-SSH",
    "NODE-IAM",
    "NODE-PRIVATE",
    "IRSA-TRUST",
    "PODID-TRUST",
    "IAM-NO-WILDCARD-ADMIN",
)


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_shipped_stacks_pass_every_rule_with_no_waiver(plans: dict[str, PlanResult], stack: str) -> None:
    report = evaluate(resources(plans[stack]))
    assert not report.failed, [f for r in report.results for f in r.violations]
    verdicts = {r.rule.id: r for r in report.results}
    for rule in AWS_RULES:
        # Passed on real resources, not vacuously: each AWS rule read something of this stack.
        assert verdicts[rule].status == "passed" and verdicts[rule].checked, rule
        assert not verdicts[rule].advisories, (rule, verdicts[rule].advisories)


def _cluster(**changes: Any):
    return lambda plan: edit_cluster(resources(plan), **changes)


def _set(key: str, value: Any):
    def edit(props: dict[str, Any]) -> None:
        props[key] = value

    return edit


# (rule, how the dev plan is changed, words the finding must contain)
CONTROL_PLANE_CASES = {
    "endpoint open to 0.0.0.0/0": ("EKS-ENDPOINT", _cluster(publicAccessCidrs=["0.0.0.0/0"]), "0.0.0.0/0"),
    "all of IPv4 in pieces": (
        "EKS-ENDPOINT",
        _cluster(publicAccessCidrs=["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1"]),
        "cover all of IPv4",
    ),
    "public endpoint with no allow-list": ("EKS-ENDPOINT", _cluster(publicAccessCidrs=[]), "no CIDR list"),
    "private endpoint off": ("EKS-ENDPOINT", _cluster(endpointPrivateAccess=False), "private endpoint"),
    "a missing log type": (
        "EKS-LOGGING",
        _cluster(enabledClusterLogTypes=["api", "audit", "authenticator", "controllerManager"]),
        "scheduler",
    ),
    "no secrets encryption": ("EKS-SECRETS-KMS", _cluster(encryptionConfigKeyArn=DROP), "not envelope"),
    "key rotation off": (
        "EKS-SECRETS-KMS",
        lambda plan: change(resources(plan), of_type("aws:kms/key:Key"), _set("enableKeyRotation", False)),
        "rotation off",
    ),
    "version out of standard support": ("EKS-VERSION", _cluster(version="1.29"), "1.29"),
    "config-map authentication": ("EKS-ACCESS", _cluster(authenticationMode="CONFIG_MAP"), "CONFIG_MAP"),
}


@pytest.mark.parametrize("case", CONTROL_PLANE_CASES, ids=list(CONTROL_PLANE_CASES))
def test_control_plane_rules_catch_a_crafted_violation(plans: dict[str, PlanResult], case: str) -> None:
    rule, craft, words = CONTROL_PLANE_CASES[case]
    found = messages(craft(plans["dev"]), rule)
    assert any(words in m for m in found), found
    # And nothing else broke: only the crafted rule fails.
    failing = {k for k, v in statuses(craft(plans["dev"])).items() if v == "violated"}
    assert failing == {rule}


def _raw_cluster(parent: Resource, **overrides: Any) -> Resource:
    """The aws:eks/cluster:Cluster the plan synthesizes inside pulumi-eks's component, hardened."""
    props: dict[str, Any] = {
        "name": "c",
        "version": "1.35",
        "vpcConfig": {
            "endpointPrivateAccess": True,
            "endpointPublicAccess": False,
            "subnetIds": ["subnet-1"],
        },
        "enabledClusterLogTypes": list(control_plane.LOG_TYPES),
        "encryptionConfig": {
            "provider": {"keyArn": "arn:aws:kms:eu-west-1:111122223333:key/x"},
            "resources": ["secrets"],
        },
        "accessConfig": {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False},
    }
    props.update(overrides)
    return Resource(
        urn=parent.urn + "$aws:eks/cluster:Cluster::c",
        type=RAW_CLUSTER,
        name="c",
        parent=parent.urn,
        props=props,
        synthesized=True,
    )


def test_the_raw_cluster_is_judged_instead_of_the_component_when_visible(
    plans: dict[str, PlanResult],
) -> None:
    # The plan's own synthesized cluster (when the engine makes one) is replaced by crafted ones.
    items = [r for r in resources(plans["dev"]) if r.type != RAW_CLUSTER]
    component = next(r for r in items if r.type == CLUSTER)
    # The component's inputs are bad, the cluster pulumi-eks makes of them (synthesized) is what counts.
    bad_component = change(items, of_type(CLUSTER), _set("publicAccessCidrs", ["0.0.0.0/0"]))
    assert [
        v.resource.type for v in control_plane.clusters(Graph([*bad_component, _raw_cluster(component)]))
    ] == [RAW_CLUSTER]
    assert statuses([*bad_component, _raw_cluster(component)])["EKS-ENDPOINT"] == "passed"

    open_raw = _raw_cluster(
        component,
        vpcConfig={"endpointPrivateAccess": True, "endpointPublicAccess": True, "publicAccessCidrs": []},
    )
    assert any("0.0.0.0/0" in m for m in messages([*items, open_raw], "EKS-ENDPOINT"))
    creator = _raw_cluster(
        component, accessConfig={"authenticationMode": "API"}
    )  # AWS default: creator is admin
    assert any("creator" in m for m in messages([*items, creator], "EKS-ACCESS"))
    no_logs = _raw_cluster(component, enabledClusterLogTypes=["api"])
    assert any("audit" in m for m in messages([*items, no_logs], "EKS-LOGGING"))


def test_a_cluster_without_the_creator_admin_transform_gives_the_creator_admin(
    plans: dict[str, PlanResult],
) -> None:
    import dataclasses

    items = resources(plans["dev"])
    if any(r.type == RAW_CLUSTER for r in items):
        # The plan shows the cluster pulumi-eks creates: without our transform it keeps AWS's default.
        items = change(
            items,
            of_type(RAW_CLUSTER),
            lambda p: p["accessConfig"].pop("bootstrapClusterCreatorAdminPermissions"),
        )
    else:
        items = [dataclasses.replace(r, transforms=0) if r.type == CLUSTER else r for r in items]
    assert any("creator" in m for m in messages(items, "EKS-ACCESS"))


def test_a_version_past_its_end_of_standard_support_is_caught(plans: dict[str, PlanResult]) -> None:
    graph = Graph(resources(plans["dev"]))
    assert list(control_plane.check_version(graph, today=date(2026, 11, 27))) == []
    late = list(control_plane.check_version(graph, today=date(2030, 1, 1)))
    assert late and "left EKS standard support" in late[0].message


def _template(edit):
    return lambda plan: change(resources(plan), of_type(TEMPLATE), edit)


def _metadata(key: str, value: Any):
    def edit(props: dict[str, Any]) -> None:
        props["metadataOptions"][key] = value

    return edit


def _trust(role_name_part: str, edit):
    def craft(plan: PlanResult) -> list[Resource]:
        def rewrite(props: dict[str, Any]) -> None:
            doc = json.loads(props["assumeRolePolicy"])
            edit(doc)
            props["assumeRolePolicy"] = json.dumps(doc)

        return change(
            resources(plan), lambda r: r.type == ROLE and role_name_part in str(r.props.get("name")), rewrite
        )

    return craft


def _string_like_sub(doc: dict[str, Any]) -> None:
    condition = doc["Statement"][0]["Condition"]
    sub = next(k for k in condition["StringEquals"] if k.endswith(":sub"))
    condition["StringLike"] = {sub: condition["StringEquals"].pop(sub)}


def _star_in_equals(doc: dict[str, Any]) -> None:
    condition = doc["Statement"][0]["Condition"]["StringEquals"]
    sub = next(k for k in condition if k.endswith(":sub"))
    condition[sub] = "system:serviceaccount:apps:*"


def _no_tag_session(doc: dict[str, Any]) -> None:
    doc["Statement"][0]["Action"] = ["sts:AssumeRole"]


def _inline(statement: dict[str, Any]):
    def craft(plan: PlanResult) -> list[Resource]:
        return change(
            resources(plan),
            of_type("aws:iam/rolePolicy:RolePolicy"),
            _set("policy", json.dumps({"Version": "2012-10-17", "Statement": [statement]})),
        )

    return craft


def _attach(role: str, policy: str):
    def craft(plan: PlanResult) -> list[Resource]:
        extra = Resource(
            urn=f"urn:pulumi:dev::eksgitops::{ATTACHMENT}::extra",
            type=ATTACHMENT,
            name="extra",
            props={"role": role, "policyArn": f"arn:aws:iam::aws:policy/{policy}"},
        )
        return [*resources(plan), extra]

    return craft


def _public_private_subnets(plan: PlanResult) -> list[Resource]:
    return change(
        resources(plan),
        lambda r: r.type == "aws:ec2/subnet:Subnet" and "private" in r.name,
        _set("mapPublicIpOnLaunch", True),
    )


OTHER_CASES = {
    "IMDSv1 allowed": ("NODE-IMDSV2", _template(_metadata("httpTokens", "optional")), "IMDSv1"),
    "hop limit 2": ("NODE-IMDSV2", _template(_metadata("httpPutResponseHopLimit", 2)), "hop limit 2"),
    "node group without a launch template": (
        "NODE-IMDSV2",
        lambda plan: edit_node_groups(resources(plan), launchTemplate=DROP),
        "no launch template",
    ),
    "SSH on the node group": (
        "NODE-NO-SSH",
        lambda plan: edit_node_groups(resources(plan), remoteAccess={"ec2SshKey": "ops"}),
        "SSH",
    ),
    "key pair on the template": ("NODE-NO-SSH", _template(_set("keyName", "ops")), "key pair"),
    "node role with an extra policy": (
        "NODE-IAM",
        _attach("eksgitops-dev-node", "AmazonSSMManagedInstanceCore"),
        "AmazonSSMManagedInstanceCore",
    ),
    "nodes in a public subnet": ("NODE-PRIVATE", _public_private_subnets, "is public"),
    "IRSA trust with StringLike on sub": (
        "IRSA-TRUST",
        _trust("app-s3-reader", _string_like_sub),
        "StringLike",
    ),
    "IRSA trust with * in StringEquals": (
        "IRSA-TRUST",
        _trust("app-s3-reader", _star_in_equals),
        "literally",
    ),
    "IRSA trust without aud": (
        "IRSA-TRUST",
        _trust(
            "app-s3-reader",
            lambda d: [
                d["Statement"][0]["Condition"]["StringEquals"].pop(k)
                for k in list(d["Statement"][0]["Condition"]["StringEquals"])
                if k.endswith(":aud")
            ],
        ),
        ":aud",
    ),
    "Pod Identity trust without TagSession": (
        "PODID-TRUST",
        _trust("external-dns", _no_tag_session),
        "TagSession",
    ),
    "NotAction on *": (
        "IAM-NO-WILDCARD-ADMIN",
        _inline({"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"}),
        "NotAction",
    ),
    "Action * on *": (
        "IAM-NO-WILDCARD-ADMIN",
        _inline({"Effect": "Allow", "Action": "*", "Resource": "*"}),
        '"*"',
    ),
    "*:* on *": (
        "IAM-NO-WILDCARD-ADMIN",
        _inline({"Effect": "Allow", "Action": ["*:*"], "Resource": ["*"]}),
        "*:*",
    ),
    "iam:PassRole on *": (
        "IAM-NO-WILDCARD-ADMIN",
        _inline({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}),
        "PassRole",
    ),
    "AdministratorAccess on an identity": (
        "IAM-NO-WILDCARD-ADMIN",
        _attach("eksgitops-dev-app-s3-reader", "AdministratorAccess"),
        "AdministratorAccess",
    ),
}


@pytest.mark.parametrize("case", OTHER_CASES, ids=list(OTHER_CASES))
def test_node_and_identity_rules_catch_a_crafted_violation(plans: dict[str, PlanResult], case: str) -> None:
    rule, craft, words = OTHER_CASES[case]
    found = messages(craft(plans["dev"]), rule)
    assert any(words in m for m in found), found


def test_an_allow_on_named_resources_is_not_admin(plans: dict[str, PlanResult]) -> None:
    narrow = _inline(
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::111122223333:role/x"}
    )
    assert statuses(narrow(plans["dev"]))["IAM-NO-WILDCARD-ADMIN"] == "passed"
    deny = _inline({"Effect": "Deny", "Action": "*", "Resource": "*"})
    assert statuses(deny(plans["dev"]))["IAM-NO-WILDCARD-ADMIN"] == "passed"


def test_a_policy_known_only_after_apply_is_reported_as_advisory_not_passed_silently(
    plans: dict[str, PlanResult],
) -> None:
    later = change(
        resources(plans["dev"]),
        of_type("aws:iam/rolePolicy:RolePolicy"),
        _set("policy", "(known after apply)"),
    )
    report = evaluate(later)
    result = next(r for r in report.results if r.rule.id == "IAM-NO-WILDCARD-ADMIN")
    assert result.advisories and not report.failed


def test_a_key_managed_elsewhere_is_an_advisory_not_a_pass(plans: dict[str, PlanResult]) -> None:
    import dataclasses

    existing = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    # A key ARN given as text: no resource of this stack behind it (no property dependency).
    items = [
        dataclasses.replace(r, property_dependencies={}) if r.type in (CLUSTER, RAW_CLUSTER) else r
        for r in edit_cluster(resources(plans["dev"]), encryptionConfigKeyArn=existing)
    ]
    result = next(r for r in evaluate(items).results if r.rule.id == "EKS-SECRETS-KMS")
    assert result.status == "passed" and not result.violations
    assert [f.message for f in result.advisories] == [
        f"the secrets key {existing} is not managed here; its rotation cannot be checked"
    ]


def test_a_platform_registering_an_endpoint_open_to_the_internet_fails_eks_endpoint() -> None:
    """0.0.0.0/0 as the component registers it (the spec's own check is bypassed on purpose:
    the rule must catch what the program creates, whatever let it through)."""
    from pathlib import Path

    from components.platform import Platform, PlatformArgs
    from components.spec import load_spec
    from components.spec.control_plane import EndpointSpec
    from components.spec.read import raw_config_from_stack_file
    from eksgitops.plan.engine import run_program
    from eksgitops.policy.evaluate import from_recorded

    root = Path(__file__).resolve().parents[2]
    raw = raw_config_from_stack_file(root / "stacks" / "Pulumi.dev.yaml")
    spec = load_spec(raw, stack="dev", source="stacks/Pulumi.dev.yaml")
    spec = spec.model_copy(
        update={
            "endpoint": EndpointSpec.model_construct(
                private_access=True, public_access=True, public_access_cidrs=["0.0.0.0/0"]
            )
        }
    )
    result = run_program(
        lambda: Platform(spec.cluster_name, PlatformArgs(spec=spec)), stack="dev", region=spec.region
    )
    report = evaluate(from_recorded(result.resources))
    endpoint = next(r for r in report.results if r.rule.id == "EKS-ENDPOINT")
    assert report.failed and endpoint.status == "violated"
    assert [(f.resource, f.message) for f in endpoint.violations] == [
        (cluster_name(from_recorded(result.resources)), "the public endpoint is open to 0.0.0.0/0")
    ]


def test_admins_through_aws_auth_instead_of_access_entries_are_caught(plans: dict[str, PlanResult]) -> None:
    mapping = [
        {"roleArn": "arn:aws:iam::111122223333:role/admin", "username": "admin", "groups": ["system:masters"]}
    ]
    items = change(resources(plans["dev"]), of_type(CLUSTER), _set("roleMappings", mapping))
    assert any("aws-auth" in m for m in messages(items, "EKS-ACCESS"))
    aws_auth = Resource(
        urn="urn:pulumi:dev::eksgitops::kubernetes:core/v1:ConfigMap::aws-auth",
        type="kubernetes:core/v1:ConfigMap",
        name="aws-auth",
        props={"metadata": {"name": "aws-auth", "namespace": "kube-system"}, "data": {"mapRoles": "[]"}},
    )
    assert any("aws-auth" in m for m in messages([*resources(plans["dev"]), aws_auth], "EKS-ACCESS"))


def test_nodes_in_subnets_made_elsewhere_are_an_advisory(plans: dict[str, PlanResult]) -> None:
    import dataclasses

    groups = ("eks:index:ManagedNodeGroup", "aws:eks/nodeGroup:NodeGroup")
    items = [
        dataclasses.replace(r, property_dependencies={}) if r.type in groups else r
        for r in edit_node_groups(resources(plans["dev"]), subnetIds=["subnet-0123456789abcdef0"])
    ]
    result = next(r for r in evaluate(items).results if r.rule.id == "NODE-PRIVATE")
    assert result.status == "passed" and result.advisories
