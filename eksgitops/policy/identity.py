"""Workload identity rules: IRSA-TRUST, PODID-TRUST, IAM-NO-WILDCARD-ADMIN."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase
from typing import Any

from components import type_tokens as tokens
from eksgitops.policy.model import (
    Finding,
    Graph,
    Resource,
    UnknownDocument,
    as_list,
    document,
    finding,
    statements,
)
from eksgitops.policy.nodes import roles_by_reference

POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"
STS_AUDIENCE = "sts.amazonaws.com"
SERVICE_ACCOUNT_SUBJECT = re.compile(
    r"system:serviceaccount:[a-z0-9]([-a-z0-9]*[a-z0-9])?:[a-z0-9]([-.a-z0-9]*[a-z0-9])?"
)
# Documents the project writes as identity policies, by type and the input that holds them.
POLICY_DOCUMENTS = {
    tokens.IAM_ROLE_POLICY: "policy",
    tokens.IAM_POLICY: "policy",
    tokens.IAM_USER_POLICY: "policy",
    tokens.IAM_GROUP_POLICY: "policy",
}
ADMIN_MANAGED_POLICIES = ("AdministratorAccess", "PowerUserAccess", "IAMFullAccess")


def _actions(statement: Mapping[str, Any], key: str = "Action") -> list[str]:
    return [a for a in as_list(statement.get(key)) if isinstance(a, str)]


def _allows(statement: Mapping[str, Any], action: str) -> bool:
    return statement.get("Effect", "Allow") == "Allow" and any(
        fnmatchcase(action.lower(), pattern.lower()) for pattern in _actions(statement)
    )


# --- IRSA-TRUST -----------------------------------------------------------------------


def _irsa_statement_problems(statement: Mapping[str, Any]) -> list[str]:
    conditions = statement.get("Condition")
    conditions = conditions if isinstance(conditions, Mapping) else {}
    problems = []
    for operator, keys in conditions.items():
        if "StringLike" in operator and isinstance(keys, Mapping) and any(k.endswith(":sub") for k in keys):
            problems.append(f"{operator} on the token's sub lets other service accounts assume the role")
    equals = conditions.get("StringEquals")
    equals = equals if isinstance(equals, Mapping) else {}
    sub = [v for k, v in equals.items() if k.endswith(":sub")]
    aud = [v for k, v in equals.items() if k.endswith(":aud")]
    for key, value in equals.items():
        if any("*" in str(v) for v in as_list(value)):
            problems.append(f"StringEquals {key} contains '*', which IAM takes literally (it never matches)")
    subjects = [s for v in sub for s in as_list(v)]
    if not subjects:
        problems.append("no StringEquals on <issuer>:sub: every service account of the cluster may assume it")
    elif not all(isinstance(s, str) and SERVICE_ACCOUNT_SUBJECT.fullmatch(s) for s in subjects):
        problems.append(f"sub {subjects} is not system:serviceaccount:<namespace>:<service account>")
    audiences = [a for v in aud for a in as_list(v)]
    if audiences != [STS_AUDIENCE]:
        problems.append(f"no StringEquals <issuer>:aud = {STS_AUDIENCE}")
    return problems


def check_irsa_trust(graph: Graph) -> Iterator[Finding]:
    for role in graph.of_type(tokens.IAM_ROLE):
        try:
            doc = document(role.props.get("assumeRolePolicy"))
        except UnknownDocument as exc:
            yield finding(
                "IRSA-TRUST", role, f"trust policy {exc}: IRSA-TRUST cannot judge it yet", advisory=True
            )
            continue
        for statement in statements(doc):
            principal = statement.get("Principal")
            federated = as_list(principal.get("Federated")) if isinstance(principal, Mapping) else []
            if not _allows(statement, "sts:AssumeRoleWithWebIdentity") or not federated:
                continue
            for problem in _irsa_statement_problems(statement):
                yield finding("IRSA-TRUST", role, problem)


# --- PODID-TRUST ----------------------------------------------------------------------


def pod_identity_roles(graph: Graph) -> dict[str, Resource]:
    roles: dict[str, Resource] = {}
    for association in graph.of_type(tokens.EKS_POD_IDENTITY_ASSOCIATION):
        for role in roles_by_reference(graph, association, "roleArn"):
            roles[role.urn] = role
    for addon in graph.of_type(tokens.EKS_ADDON):
        for role in graph.sources(addon, "podIdentityAssociations"):
            if role.type == tokens.IAM_ROLE:
                roles[role.urn] = role
    for role in graph.of_type(tokens.IAM_ROLE):
        text = role.props.get("assumeRolePolicy")
        if isinstance(text, str) and POD_IDENTITY_PRINCIPAL in text:
            roles[role.urn] = role
    return roles


def check_pod_identity_trust(graph: Graph) -> Iterator[Finding]:
    for role in pod_identity_roles(graph).values():
        try:
            doc = document(role.props.get("assumeRolePolicy"))
        except UnknownDocument as exc:
            yield finding("PODID-TRUST", role, f"trust policy {exc}", advisory=True)
            continue
        trusting = [
            s
            for s in statements(doc)
            if s.get("Effect", "Allow") == "Allow"
            and isinstance(s.get("Principal"), Mapping)
            and POD_IDENTITY_PRINCIPAL in as_list(s["Principal"].get("Service"))
        ]
        if not trusting:
            yield finding(
                "PODID-TRUST", role, f"used through Pod Identity but does not trust {POD_IDENTITY_PRINCIPAL}"
            )
            continue
        for action in ("sts:AssumeRole", "sts:TagSession"):
            if not any(_allows(s, action) for s in trusting):
                yield finding("PODID-TRUST", role, f"trust of {POD_IDENTITY_PRINCIPAL} lacks {action}")


# --- IAM-NO-WILDCARD-ADMIN ------------------------------------------------------------


def admin_problems(statement: Mapping[str, Any]) -> list[str]:
    """Why an identity-policy statement is admin-equivalent (empty: it is not)."""
    if statement.get("Effect", "Allow") != "Allow":
        return []
    resources = [r for r in as_list(statement.get("Resource")) if isinstance(r, str)]
    on_everything = "*" in resources or statement.get("NotResource") is not None
    if not on_everything:
        return []
    problems = []
    actions = [a.lower() for a in _actions(statement)]
    for wildcard in ("*", "*:*", "iam:*"):
        if wildcard in actions:
            problems.append(f'allows Action "{wildcard}" on Resource "*"')
    if statement.get("NotAction") is not None:
        problems.append('allows everything but NotAction on Resource "*"')
    if not problems and any(fnmatchcase("iam:passrole", a) for a in actions):
        problems.append('allows iam:PassRole on Resource "*" (any role to any service)')
    return problems


def check_wildcard_admin(graph: Graph) -> Iterator[Finding]:
    documents: list[tuple[Resource, Any]] = []
    for type_, prop in POLICY_DOCUMENTS.items():
        documents += [(r, r.props.get(prop)) for r in graph.of_type(type_)]
    for role in graph.of_type(tokens.IAM_ROLE):
        documents += [
            (role, p.get("policy"))
            for p in as_list(role.props.get("inlinePolicies"))
            if isinstance(p, Mapping)
        ]
    for resource, text in documents:
        try:
            doc = document(text)
        except UnknownDocument as exc:
            yield finding("IAM-NO-WILDCARD-ADMIN", resource, f"policy document {exc}", advisory=True)
            continue
        for index, statement in enumerate(statements(doc)):
            for problem in admin_problems(statement):
                yield finding("IAM-NO-WILDCARD-ADMIN", resource, f"Statement[{index}] {problem}")

    def admin_class(arn: Any) -> bool:
        return (
            isinstance(arn, str)
            and arn.startswith("arn:aws")
            and arn.rsplit("/", 1)[-1] in ADMIN_MANAGED_POLICIES
        )

    for attachment in graph.of_type(tokens.IAM_ROLE_POLICY_ATTACHMENT):
        arn = attachment.props.get("policyArn")
        if admin_class(arn):
            roles = roles_by_reference(graph, attachment, "role")
            who = ", ".join(str(r.props.get("name") or r.name) for r in roles) or str(
                attachment.props.get("role")
            )
            yield finding(
                "IAM-NO-WILDCARD-ADMIN", attachment, f"attaches the admin-class {arn} to role {who}"
            )
    for role in graph.of_type(tokens.IAM_ROLE):
        for arn in as_list(role.props.get("managedPolicyArns")):
            if admin_class(arn):
                yield finding("IAM-NO-WILDCARD-ADMIN", role, f"carries the admin-class {arn}")
