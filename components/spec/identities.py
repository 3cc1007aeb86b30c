"""The `identities` section: IAM roles for service accounts and their inline IAM policies."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, ValidationInfo
from pydantic import model_validator as _model_validator
from pydantic.alias_generators import to_pascal

from eksgitops.components.iam_documents import RESERVED_ROLE_NAMES
from eksgitops.components.spec import rules
from eksgitops.components.spec.base import (
    SpecModel,
)
from eksgitops.components.spec.errors import SpecValueError, describe
from eksgitops.components.spec.gitops import GitOpsSpec
from eksgitops.components.spec.syntax import (
    MAX_INLINE_POLICY,
    MAX_MANAGED_POLICIES,
    Namespace,
    check,
    dns,
    fail,
    fmt,
    same_partition,
    snake,
    unique,
)

after = _model_validator(mode="after")


POLICY_ALLOWED = 'an IAM policy: {Version: "2012-10-17", Statement: [{Effect, Action, Resource}, ...]}'
ACTION = re.compile(r"\*|[a-z0-9-]+:[A-Za-z0-9*?]+")
RESOURCE = re.compile(r"\*|arn:[^:\s]+:[^:\s]*:[^:\s]*:[^:\s]*:\S+")
# IAM JSON policy grammar and condition operators
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html,
# .../reference_policies_elements_condition_operators.html): a Sid is ASCII letters and
# digits, unique in its policy; an operator is one of these, case-sensitive, optionally
# with ...IfExists (not Null) and a ForAllValues:/ForAnyValue: set qualifier.
# A maintained IAM linter was considered: parliament (PyPI, 1.6.4 of April 2025) knows this
# grammar, but it loads its bundled snapshot of every IAM action when imported and reports
# on actions and resources, which the guardrail rules already judge; the offline plan needs
# only these few grammar rules, in microseconds, so they are written here with their source.
SID = re.compile(r"[A-Za-z0-9]*")
CONDITION_OPERATORS = [
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
]
CONDITION_OPERATOR = re.compile(
    r"(ForAllValues:|ForAnyValue:)?((" + "|".join(CONDITION_OPERATORS) + r")(IfExists)?|Null)"
)


def _strings(value: Any, test: re.Pattern[str], what: str, allowed: str, key: str) -> None:
    """A string or list of strings at `key`, each matching `test`."""
    items = value if isinstance(value, list) else [value]
    for i, item in enumerate(items):
        at = (key, i) if isinstance(value, list) else (key,)
        if not isinstance(item, str):
            raise fail(f"is {describe(item)}, not a string", allowed, *at)
        if not test.fullmatch(item):
            raise fail(f"{fmt(item)} is not {what}", allowed, *at)
    if not items:
        raise fail("is empty", allowed, key)


class PolicyStatement(SpecModel):
    """One statement of an identity's inline policy (IAM JSON policy grammar)."""

    model_config = ConfigDict(alias_generator=to_pascal)
    sid: str | None = None
    """Statement id."""
    effect: str | None = None
    """Allow or Deny."""
    action: Any = None
    """service:Action strings (or *)."""
    not_action: Any = None
    """service:Action strings (or *)."""
    resource: Any = None
    """ARNs (or *)."""
    not_resource: Any = None
    """ARNs (or *)."""
    condition: dict[str, dict[str, Any]] | None = None
    """Condition operators; dates are strings, as IAM reads them."""
    principal: Any = None
    """Not allowed: an identity policy names no principal."""
    not_principal: Any = None
    """Not allowed: an identity policy names no principal."""

    @after
    def _grammar(self, info: ValidationInfo) -> PolicyStatement:
        for key in ("principal", "not_principal"):
            if getattr(self, key) is not None:
                raise fail(
                    "names a principal, which an identity policy cannot",
                    "leave it out: the role's trust policy says who assumes it",
                    to_pascal(key),
                )
        if self.sid is not None and not SID.fullmatch(self.sid):
            raise fail(f"{fmt(self.sid)} is not a statement id", "ASCII letters and digits only (IAM)", "Sid")
        for key, other in (("Action", "NotAction"), ("Resource", "NotResource")):
            if getattr(self, snake(key)) is not None and getattr(self, snake(other)) is not None:
                raise fail(f"is set together with {other}", f"either {key} or {other}, not both (IAM)", other)
        if self.effect not in ("Allow", "Deny"):
            raise fail(f"is {fmt(self.effect)}", "Allow or Deny", "Effect")
        actions = "an action or list of actions, e.g. s3:GetObject"
        if self.action is None and self.not_action is None:
            raise fail("is missing or empty", actions, "Action")
        if self.resource is None and self.not_resource is None:
            raise fail("is missing", "a resource ARN or list of ARNs", "Resource")
        arns = "* or ARNs (arn:<partition>:<service>:<region>:<account>:<resource>)"
        for key, test, what, allowed in (
            ("Action", ACTION, "an action (service:Action)", actions),
            ("NotAction", ACTION, "an action (service:Action)", actions),
            ("Resource", RESOURCE, "* or an ARN", arns),
            ("NotResource", RESOURCE, "* or an ARN", arns),
        ):
            value = getattr(self, snake(key))
            if value is not None:
                _strings(value, test, what, allowed, key)
        for key in ("resource", "not_resource"):
            value = getattr(self, key)
            for i, arn in enumerate(value if isinstance(value, list) else [value]):
                if isinstance(arn, str) and arn.startswith("arn:"):
                    at = (to_pascal(key), i) if isinstance(value, list) else (to_pascal(key),)
                    try:
                        same_partition(arn.split(":")[1], info)
                    except SpecValueError as err:
                        raise fail(f"{fmt(arn)} {err.what}", err.allowed, *at) from None
        for operator, test in (self.condition or {}).items():
            if not CONDITION_OPERATOR.fullmatch(operator):
                folded = {o.lower(): o for o in CONDITION_OPERATORS}
                close = folded.get(operator.removesuffix("IfExists").lower())
                raise fail(
                    f"{fmt(operator)} is not an IAM condition operator"
                    + (f', did you mean "{close}"?' if close else ""),
                    "an operator such as StringEquals, StringLike, ArnLike, Bool or Null, optionally "
                    "…IfExists (not Null) and ForAllValues:/ForAnyValue: (case-sensitive)",
                    "Condition",
                    operator,
                )
            for key, value in test.items():
                for item in value if isinstance(value, list) else [value]:
                    if not isinstance(item, str | int | float | bool):
                        at = ("Condition", operator, key)
                        raise fail(f"holds {describe(item)}", "strings, numbers or booleans", *at)
        return self


class PolicyDocument(SpecModel):
    """An identity's inline IAM policy."""

    model_config = ConfigDict(alias_generator=to_pascal)
    version: str | None = None
    """"2012-10-17" (an unquoted 2012-10-17 reads the same)."""
    id: str | None = None
    """Policy id."""
    statement: list[PolicyStatement] | None = None
    """The statements (at least one)."""

    @after
    def _document(self) -> PolicyDocument:
        if self.version is not None and self.version != "2012-10-17":
            raise fail(f"{fmt(self.version)} is not an IAM policy version", '"2012-10-17"', "Version")
        if not self.statement:
            raise fail("is missing or not a non-empty list", POLICY_ALLOWED, "Statement")
        sids = [s.sid for s in self.statement]
        for i, sid in enumerate(sids):
            if sid and sid in sids[:i]:
                raise fail(
                    f"{fmt(sid)} is the Sid of another statement",
                    "a Sid unique in the policy (IAM)",
                    "Statement",
                    i,
                    "Sid",
                )
        size = len(json.dumps(self.model_dump(by_alias=True, exclude_unset=True), separators=(",", ":")))
        if size > MAX_INLINE_POLICY:
            raise fail(
                f"is {size} characters long", f"at most {MAX_INLINE_POLICY} (IAM's inline policy limit)"
            )
        return self


def _policy_arn(value: str, info: ValidationInfo) -> str:
    rules.policy_arn(value)
    same_partition(value.split(":")[1], info)
    return value


class IdentitySpec(SpecModel):
    """An IAM role for one Kubernetes service account (Pod Identity or IRSA)."""

    name: Annotated[
        str,
        dns("identity name"),
        check(
            lambda v: v not in RESERVED_ROLE_NAMES,
            lambda v: f"{fmt(v)} is the name of the platform's own <cluster>-{v} role",
            "any other name (reserved: " + ", ".join(RESERVED_ROLE_NAMES) + ")",
        ),
    ]
    """DNS-1123 label; becomes `<name>_role_arn` in the GitOps bridge."""
    namespace: Namespace
    """Namespace of the service account (DNS-1123 label)."""
    service_account: Annotated[str, dns("service account name")]
    """Service account name (DNS-1123 label); one identity per namespace/service account."""
    managed_policy_arns: Annotated[
        list[Annotated[str, AfterValidator(_policy_arn)]],
        unique("policy"),
        check(
            lambda v: len(v) <= MAX_MANAGED_POLICIES,
            lambda v: f"lists {len(v)} policies",
            f"at most {MAX_MANAGED_POLICIES} (IAM's default quota of managed policies on one role)",
        ),
    ] = Field(default_factory=list)
    """Managed policies attached to the role (arn:aws:iam::aws:policy/… or an account's)."""
    policy_document: PolicyDocument | None = Field(default=None, alias="policy")
    """Inline IAM policy document (Version/Statement); `policy` gives it as written."""
    mode: Literal["pod-identity", "irsa"] = "pod-identity"
    """Pod Identity (survives a cluster rebuild) or IRSA (trusts the cluster's OIDC issuer)."""

    @property
    def policy(self) -> dict[str, Any] | None:
        """The inline policy document as the stack wrote it, or None."""
        doc = self.policy_document
        return None if doc is None else doc.model_dump(by_alias=True, exclude_unset=True)

    @after
    def _grants_something(self) -> IdentitySpec:
        if not self.managed_policy_arns and self.policy_document is None:
            raise fail("grants nothing", "managedPolicyArns, an inline policy, or both")
        return self


# Service accounts the components give an IAM role of their own: the EBS CSI driver's
# (components.addons.EBS_CSI_SERVICE_ACCOUNT) and the Flux controllers'
# (components.gitops.flux_identities); a test checks these names against theirs.
EBS_CSI_SERVICE_ACCOUNT = ("kube-system", "ebs-csi-controller-sa")
FLUX_NAMESPACE = "flux-system"


def bound_service_accounts(addons: Iterable[str], gitops: GitOpsSpec) -> dict[tuple[str, str], str]:
    """(namespace, service account) -> what binds it, for the roles the components create."""
    taken: dict[tuple[str, str], str] = {}
    if "aws-ebs-csi-driver" in addons:
        taken[EBS_CSI_SERVICE_ACCOUNT] = "the aws-ebs-csi-driver add-on"
    if gitops.agent == "flux":
        if gitops.sops.enabled:
            taken[(FLUX_NAMESPACE, "kustomize-controller")] = "gitops.sops"
        if gitops.image_automation:
            taken[(FLUX_NAMESPACE, "image-reflector-controller")] = "gitops.imageAutomation"
        if gitops.source == "oci":
            taken[(FLUX_NAMESPACE, "source-controller")] = "gitops.source oci"
    return taken
