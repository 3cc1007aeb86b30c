"""The checks every public component runs on its `*Args` when they are made.

A component used as a library gets the same rules as a stack file (`components.spec.rules`,
`components.spec.syntax`), so a mistake is one `ValueError` or `TypeError` at the line that
made the arguments — `IrsaRoleArgs.role_name: "…" is 65 characters long; 1 to 64 …` — and not
an error from deep inside Pulumi, or from AWS in the middle of an apply. A value that is a
`pulumi.Output` is checked when it resolves, with the same message; its check travels with
it, so whatever uses the value waits for the check.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from eksgitops.components.spec.errors import SpecValueError, describe
from eksgitops.components.spec.rules import (
    AWS_MAX_TAGS,
    iam_role_name,
    kms_key_arn,
    oidc_issuer,
    oidc_provider_arn,
    policy_arn,
    service_account_name,
    tag_keys,
    tag_value,
)
from eksgitops.components.spec.syntax import MAX_MANAGED_POLICIES, dns_label, fmt, region_name

Check = Callable[[Any], object]
"""Raises `SpecValueError` (a value not allowed) or `WrongType` (not even of the right type)."""


class WrongType(Exception):
    """A value of the wrong Python type: what it is, and what is expected."""

    def __init__(self, what: str, allowed: str, at: tuple[str | int, ...] = ()):
        super().__init__(what)
        self.what, self.allowed, self.at = what, allowed, at


def text(rule: Callable[[str], object] | None = None, what: str = "a string") -> Check:
    """A string, then `rule` on it."""

    def run(value: Any) -> None:
        if not isinstance(value, str):
            raise WrongType(f"is {describe(value)}, not a string", what)
        if rule is not None:
            rule(value)

    return run


def instance(kind: type | tuple[type, ...], what: str) -> Check:
    """An instance of `kind` (a validated spec model, a resource…)."""

    def run(value: Any) -> None:
        if not isinstance(value, kind):
            raise WrongType(f"is {describe(value)}, not {what}", what)

    return run


def choice(options: Sequence[object], what: str) -> Check:
    """One of `options` (a Literal's values)."""

    allowed = "one of " + ", ".join(map(str, options))

    def run(value: Any) -> None:
        if type(value) not in {type(o) for o in options}:
            raise WrongType(f"is {describe(value)}, not {what}", allowed)
        if value not in options:
            raise SpecValueError(f"{fmt(value)} is not {what}", allowed)

    return run


def flag(value: Any) -> None:
    if not isinstance(value, bool):
        raise WrongType(f"is {describe(value)}, not a boolean", "True or False")


def whole(low: int, high: int) -> Check:
    def run(value: Any) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            raise WrongType(f"is {describe(value)}, not a whole number", f"{low} to {high}")
        if not low <= value <= high:
            raise SpecValueError(f"{value} is out of range", f"{low} to {high}")

    return run


@dataclass(frozen=True)
class Optional:
    """`check`, or None."""

    check: Check | Items | Tags


@dataclass(frozen=True)
class Items:
    """A list (or tuple) of `item`s: how many, and whether one may repeat."""

    item: Check
    at_least: int = 0
    at_most: float = math.inf
    unique: bool = True
    what: str = "items"


@dataclass(frozen=True)
class Tags:
    """AWS tags: string keys, string (or Output) values, AWS's limits on both."""

    at_most: int = AWS_MAX_TAGS


def check_args(args: Any, checks: Mapping[str, Check | Items | Tags | Optional]) -> None:
    """Check each named field of `args` (a dataclass); Outputs are replaced by checked Outputs."""
    owner = type(args).__name__
    for field, check in checks.items():
        setattr(args, field, _checked(f"{owner}.{field}", getattr(args, field), check))


# What the offline plan (eksgitops.plan) resolves a value only the cloud knows to: there is
# nothing to check in it yet.
UNKNOWN_MARK = "(known after apply"


def _checked(name: str, value: Any, check: Check | Items | Tags | Optional) -> Any:
    if isinstance(value, pulumi.Output):
        return value.apply(lambda resolved: _checked(name, resolved, check))
    if isinstance(value, str) and UNKNOWN_MARK in value:
        return value
    try:
        if isinstance(check, Optional):
            return value if value is None else _checked(name, value, check.check)
        if isinstance(check, Items):
            return _items(name, value, check)
        if isinstance(check, Tags):
            return _tags(name, value, check)
        check(value)
        return value
    except (SpecValueError, WrongType) as exc:
        raise _error(name, exc) from None


def _error(name: str, exc: SpecValueError | WrongType) -> Exception:
    at = "".join(f"[{p}]" if isinstance(p, int) else f'["{p}"]' for p in exc.at)
    message = f"{name}{at}: {exc.what}; {exc.allowed}"
    return TypeError(message) if isinstance(exc, WrongType) else ValueError(message)


def _items(name: str, value: Any, check: Items) -> Any:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence | tuple):
        raise WrongType(f"is {describe(value)}, not a list", f"a list of {check.what}")
    if not check.at_least <= len(value) <= check.at_most:
        most = "" if check.at_most == math.inf else f" and at most {int(check.at_most)}"
        raise SpecValueError(f"has {len(value)} {check.what}", f"at least {check.at_least}{most}")
    items = list(value)
    for i, item in enumerate(items):
        items[i] = _checked(f"{name}[{i}]", item, check.item)
    known = [item for item in items if not isinstance(item, pulumi.Output)]
    if check.unique:
        repeat = next((v for i, v in enumerate(known) if v in known[:i]), None)
        if repeat is not None:
            raise SpecValueError(f"lists {repeat} twice", f"each of the {check.what} once")
    return type(value)(items) if isinstance(value, tuple | list) else items


def _tags(name: str, value: Any, check: Tags) -> Any:
    if not isinstance(value, Mapping):
        raise WrongType(f"is {describe(value)}, not a mapping", "a mapping of tag keys to values")
    keys: Iterable[Any] = value.keys()
    odd = next((k for k in keys if not isinstance(k, str)), None)
    if odd is not None:
        raise WrongType(f"has the key {odd!r}, not a string", "string tag keys")
    tag_keys(value.keys(), check.at_most)
    tags = dict(value)
    for key, item in tags.items():
        tags[key] = _checked(name, item, _tag_value(key))
    return tags


def _tag_value(key: str) -> Check:
    def run(value: Any) -> None:
        if not isinstance(value, str):
            raise WrongType(f"is {describe(value)}, not a string", "a tag value (a string)", (key,))
        tag_value(key, value)

    return run


# --- the checks several components share -------------------------------------------------


def _name(what: str) -> Check:
    return text(lambda v: dns_label(v, what))


CLUSTER_NAME = _name("cluster name")
NAMESPACE = _name("namespace")
SERVICE_ACCOUNT = text(service_account_name)
ROLE_NAME = text(iam_role_name)
REGION = text(region_name)
TAGS = Optional(Tags())
POLICY_ARNS = Items(text(policy_arn), at_most=MAX_MANAGED_POLICIES, what="managed policy ARNs")
KMS_KEY = Optional(text(kms_key_arn))
ISSUER = text(oidc_issuer)
OIDC_PROVIDER_ARN = text(oidc_provider_arn)
INLINE_POLICY = Optional(instance(Mapping, "a mapping (an IAM policy document)"))
DEPENDS_ON = Items(instance(pulumi.Resource, "a Pulumi resource"), unique=False, what="resources")


def environment_name(value: str) -> None:
    """A stack (environment) name: what Pulumi allows in a stack name, 1-100 of A-Za-z0-9-_."""
    if not STACK_NAME.fullmatch(value):
        allowed = "1 to 100 of A-Z, a-z, 0-9, '-', '_' and '.'"
        raise SpecValueError(f"{fmt(value)} is not a stack name", allowed)


STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
ENVIRONMENT = text(environment_name)


SERVICE_ACCOUNT_ROLE: dict[str, Check | Items | Tags | Optional] = {
    "role_name": ROLE_NAME,
    "namespace": NAMESPACE,
    "service_account": SERVICE_ACCOUNT,
    "managed_policy_arns": POLICY_ARNS,
    "inline_policy": INLINE_POLICY,
    "tags": TAGS,
}
"""What an IAM role for one service account (IrsaRole, PodIdentityRole) takes in common."""
