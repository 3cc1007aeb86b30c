"""Odd inputs never crash a rule or the waiver reader (hypothesis).

Rules read whatever a program registers: a hand-written program, another package's component
or a future provider version may hand them shapes they do not expect. A rule must then report
or stay silent, never raise (a traceback would hide every other finding).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.spec import SpecError, load_spec
from components.spec.read import raw_config_from_stack_file
from eksgitops.policy.evaluate import evaluate
from eksgitops.policy.model import Resource
from eksgitops.policy.rules import RULES

TYPES = sorted(
    {t for rule in RULES for t in rule.applies_to if not t.endswith("*")}
    | {
        "aws:iam/rolePolicy:RolePolicy",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        "aws:ec2/route:Route",
        "aws:ec2/routeTable:RouteTable",
        "aws:kms/key:Key",
        "aws:eks/podIdentityAssociation:PodIdentityAssociation",
        "aws:eks/addon:Addon",
    }
)
KEYS = sorted(
    {
        "assumeRolePolicy",
        "policy",
        "policyArn",
        "role",
        "roleArn",
        "metadataOptions",
        "httpTokens",
        "httpPutResponseHopLimit",
        "httpEndpoint",
        "keyName",
        "remoteAccess",
        "launchTemplate",
        "subnetIds",
        "nodeRole",
        "nodeRoleArn",
        "endpointPrivateAccess",
        "endpointPublicAccess",
        "publicAccessCidrs",
        "enabledClusterLogTypes",
        "encryptionConfigKeyArn",
        "version",
        "authenticationMode",
        "vpcConfig",
        "encryptionConfig",
        "accessConfig",
        "stringData",
        "data",
        "metadata",
        "labels",
        "spec",
        "cluster",
        "multitenant",
        "kustomize",
        "patches",
        "values",
        "configs",
        "cm",
        "rbac",
        "chart",
        "readOnly",
        "namespace",
        "serviceAccount",
        "Statement",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "Principal",
        "Condition",
        "StringEquals",
        "StringLike",
        "Service",
        "Federated",
        "inlinePolicies",
        "managedPolicyArns",
        "mapPublicIpOnLaunch",
        "networkInterfaces",
        "enableKeyRotation",
        "identity",
        "known_hosts",
        "insecure",
    }
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 70),
    st.sampled_from(
        [
            "*",
            "0.0.0.0/0",
            "::/0",
            "[secret]",
            "(known after apply)",
            "sts:AssumeRoleWithWebIdentity",
            "iam:PassRole",
            "1.35",
            "required",
            "optional",
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "system:serviceaccount:a:b",
            "not json {",
        ]
    ),
    st.text(max_size=8),
)
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=4),
    ),
    max_leaves=12,
)
documents = values.map(lambda v: json.dumps(v) if isinstance(v, dict) else v)
resources = st.builds(
    lambda type_, props, doc, policy: Resource(
        urn=f"urn:pulumi:dev::p::{type_}::r",
        type=type_,
        name="r",
        props={**props, "assumeRolePolicy": doc, "policy": policy},
    ),
    st.sampled_from(TYPES),
    st.dictionaries(st.sampled_from(KEYS), values, min_size=3, max_size=12),
    documents,
    documents,
)
CRASH = "the rule could not judge"
DEV = raw_config_from_stack_file(Path(__file__).resolve().parents[2] / "stacks" / "Pulumi.dev.yaml")


def _crashes(items: list[Resource]) -> list[str]:
    report = evaluate(items)
    assert len(report.results) == len(RULES)
    return [f.message for r in report.results for f in r.violations if f.message.startswith(CRASH)]


@settings(max_examples=400, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(resources, min_size=1, max_size=4))
def test_no_rule_raises_on_any_registered_shape(items: list[Resource]) -> None:
    # Distinct URNs, as the engine guarantees.
    items = [
        Resource(urn=f"{r.urn}{i}", type=r.type, name=r.name, props=r.props) for i, r in enumerate(items)
    ]
    assert _crashes(items) == []


def _trust(statement: dict[str, Any]) -> str:
    return json.dumps({"Statement": [statement]})


# Shapes that once crashed a rule (found while writing the fuzzer above).
ODD_SHAPES = [
    ("aws:ec2/launchTemplate:LaunchTemplate", {"metadataOptions": [1]}),
    ("aws:ec2/launchTemplate:LaunchTemplate", {"metadataOptions": "x", "networkInterfaces": "y"}),
    (
        "aws:iam/role:Role",
        {
            "assumeRolePolicy": _trust(
                {
                    "Principal": {"Federated": "x"},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": [1], "StringLike": "x"},
                }
            )
        },
    ),
    ("aws:iam/role:Role", {"assumeRolePolicy": _trust({"Condition": [1], "Principal": "*"})}),
    ("eks:index:ManagedNodeGroup", {"subnetIds": [{"a": 1}], "nodeRole": 5}),
    ("aws:iam/rolePolicyAttachment:RolePolicyAttachment", {"role": "r", "policyArn": {"a": 1}}),
]
NODE_ROLE = Resource(
    urn="urn:pulumi:dev::p::aws:iam/role:Role::r",
    type="aws:iam/role:Role",
    name="r",
    props={
        "name": "r",
        "assumeRolePolicy": _trust(
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ),
    },
)


def test_shapes_that_once_crashed_a_rule_are_judged() -> None:
    for index, (type_, props) in enumerate(ODD_SHAPES):
        odd = Resource(urn=f"urn:pulumi:dev::p::{type_}::odd{index}", type=type_, name="odd", props=props)
        assert _crashes([odd, NODE_ROLE]) == [], (type_, props)


@settings(max_examples=150, derandomize=True, deadline=None)
@given(st.one_of(values, st.dictionaries(st.sampled_from(["waivers", "rule", "reason", "resource"]), values)))
def test_any_policy_value_is_a_spec_or_a_line_naming_the_key(policy: Any) -> None:
    # The shipped dev stack (valid whatever else the spec grows) with this policy value.
    raw = {**DEV, "policy": policy}
    try:
        load_spec(raw, stack="dev", source="stacks/Pulumi.dev.yaml")
    except SpecError as err:
        assert err.lines and all(
            line.startswith("stacks/Pulumi.dev.yaml: eksgitops:policy") for line in err.lines
        )
