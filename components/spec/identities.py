"""The `identities` section: IAM roles for service accounts and their inline IAM policies."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, ValidationInfo
from pydantic import model_validator as _model_validator
from pydantic.alias_generators import to_pascal

from components.iam_documents import RESERVED_ROLE_NAMES
from components.spec.base import (
    SpecModel,
)
from components.spec.errors import (
    describe,
)
from components.spec.syntax import (
    MAX_INLINE_POLICY,
    POLICY_ARN,
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
    def _grammar(self) -> PolicyStatement:
        for key in ("principal", "not_principal"):
            if getattr(self, key) is not None:
                raise fail(
                    "names a principal, which an identity policy cannot",
                    "leave it out: the role's trust policy says who assumes it",
                    to_pascal(key),
                )
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
        for operator, test in (self.condition or {}).items():
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
        size = len(json.dumps(self.model_dump(by_alias=True, exclude_unset=True), separators=(",", ":")))
        if size > MAX_INLINE_POLICY:
            raise fail(
                f"is {size} characters long", f"at most {MAX_INLINE_POLICY} (IAM's inline policy limit)"
            )
        return self


def _policy_arn(value: str, info: ValidationInfo) -> str:
    if not POLICY_ARN.fullmatch(value):
        raise fail(
            f"{fmt(value)} is not an IAM policy ARN",
            "arn:aws:iam::aws:policy/<name> or arn:aws:iam::<account>:policy/<name>",
        )
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
    managed_policy_arns: Annotated[list[Annotated[str, AfterValidator(_policy_arn)]], unique("policy")] = (
        Field(default_factory=list)
    )
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
