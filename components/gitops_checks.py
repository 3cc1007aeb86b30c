"""The argument checks the GitOps agents' `*Args` share (see `components.arg_checks`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, get_args

from eksgitops.components.arg_checks import (
    CLUSTER_NAME,
    DEPENDS_ON,
    ENVIRONMENT,
    Check,
    Items,
    Optional,
    Tags,
    WrongType,
    choice,
    flag,
    instance,
    text,
)
from eksgitops.components.spec.addons import AddonName
from eksgitops.components.spec.environment import EnvironmentSpec
from eksgitops.components.spec.errors import describe
from eksgitops.components.spec.gitops import GitOpsSpec
from eksgitops.components.spec.rules import oidc_issuer, vpc_id
from eksgitops.components.spec.syntax import dns_label, fail, fmt, region_name


def account_id(value: str) -> None:
    if not (len(value) == 12 and value.isascii() and value.isdigit()):
        raise fail(f"{fmt(value)} is not an AWS account id", "12 digits")


ADDONS = Items(text(choice(get_args(AddonName), "a managed add-on")), what="add-on names")

AGENT: dict[str, Check | Items | Tags | Optional] = {
    "gitops": instance(GitOpsSpec, "a GitOpsSpec"),
    "environment": ENVIRONMENT,
    "addons": ADDONS,
}
"""What every agent takes: the validated `gitops` section, the environment and its add-ons."""


def _identity_arns(value: Any) -> None:
    """Identity role ARNs by identity name (each becomes `<name>_role_arn` in the bridge)."""
    if not isinstance(value, Mapping):
        raise WrongType(f"is {describe(value)}, not a mapping", "a mapping of identity names to role ARNs")
    for name in value:
        if not isinstance(name, str):
            raise WrongType(f"has the key {name!r}, not a string", "identity names (DNS-1123 labels)")
        dns_label(name, "identity name")


BRIDGE_VALUES: dict[str, Check | Items | Tags | Optional] = {
    "environment": ENVIRONMENT,
    "cluster_name": CLUSTER_NAME,
    "region": text(region_name),
    "account_id": text(account_id),
    "vpc_id": text(vpc_id),
    "oidc_issuer_host": text(oidc_issuer),
    "identity_role_arns": _identity_arns,
    # The spec's own values (EnvironmentSpec.cluster_role), so that the two faces cannot differ.
    "cluster_role": choice(
        get_args(EnvironmentSpec.model_fields["cluster_role"].annotation), "a cluster role"
    ),
}


def string_map(what: str) -> Check:
    """A mapping of strings to strings (`what` says what they are)."""

    def run(value: Any) -> None:
        if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in (*value, *value.values())):
            raise WrongType(f"is {describe(value)}, not a mapping of strings", what)

    return run


_labels = string_map("Kubernetes labels")


def _pod_identities(value: Any) -> None:
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value):
        raise WrongType(f"is {describe(value)}, not a mapping", "controller names to role ARNs")


FLUX_AGENT: dict[str, Check | Items | Tags | Optional] = {
    "gitops": instance(GitOpsSpec, "a GitOpsSpec"),
    "identities": DEPENDS_ON,
    "cross_namespace_refs": flag,
    "labels": Optional(_labels),
    "pod_identities": _pod_identities,
}


EKS_CLUSTER_ARN = re.compile(
    r"arn:aws(-[a-z]+)*:eks:[a-z0-9-]+:[0-9]{12}:cluster/[0-9A-Za-z][A-Za-z0-9_-]{0,99}"
)
ECR_REPOSITORY_ARN = re.compile(
    r"arn:aws(-[a-z]+)*:ecr:[a-z0-9-]+:[0-9]{12}:repository/[a-z0-9][a-z0-9._/-]{1,255}"
)
API_ENDPOINT = re.compile(r"https://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?/?")
BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def matches(pattern: re.Pattern[str], what: str, allowed: str) -> Check:
    """A string that `pattern` matches whole: `what` names it, `allowed` shows its form."""

    def run(value: str) -> None:
        if not pattern.fullmatch(value):
            raise fail(f"{fmt(value)} is not {what}", allowed)

    return text(run)


CLUSTER_ARN = matches(EKS_CLUSTER_ARN, "an EKS cluster ARN", "arn:aws:eks:<region>:<account>:cluster/<name>")
OCI_REPOSITORY_ARN = matches(
    ECR_REPOSITORY_ARN, "an ECR repository ARN", "arn:aws:ecr:<region>:<account>:repository/<name>"
)
ENDPOINT = matches(API_ENDPOINT, "an HTTPS API server URL", "https://<host> (the cluster's endpoint)")
CERTIFICATE = matches(BASE64, "base64 text", "the cluster's certificateAuthority.data (base64)")
