"""The spec's shared syntax: patterns, limits and the small check helpers every section uses.

Each helper raises or builds a `SpecValueError` (components.spec.errors), so a mistake in any
section ends in the same one-line form. `fail(what, allowed, *at)` is the one way to say
what is wrong; `check(test, what, allowed)` wraps a test as an `Annotated` validator.
"""

from __future__ import annotations

import ipaddress
import json
import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from pydantic import AfterValidator, ValidationInfo

from eksgitops.components.spec.base import (
    DNS_LABEL,
    DNS_LABEL_ALLOWED,
    PROJECT,
    SECRET_PLACEHOLDER,
    SecretValue,
)
from eksgitops.components.spec.data import known_region, region_partition
from eksgitops.components.spec.errors import SpecValueError

# --- patterns (ASCII only: `[0-9]`, never `\d`; always fullmatch) and limits -----------

PARTITION = r"aws(-cn|-us-gov|-iso|-iso-[bef]|-eusc)?"
VPC_ID = re.compile(r"vpc-[0-9a-f]{8}([0-9a-f]{9})?")
SUBNET_ID = re.compile(r"subnet-[0-9a-f]{8}([0-9a-f]{9})?")
KMS_KEY_ARN = re.compile(
    rf"arn:(?P<partition>{PARTITION}):kms:(?P<region>[a-z0-9-]+):[0-9]{{12}}:key/"
    r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})"
)
# IAM names: ASCII letters, digits and +=,.@_- (64 characters for a role or user); a path
# is /-separated printable ASCII (IAM User Guide, "IAM object quotas" and "IAM identifiers").
IAM_NAME = re.compile(r"[A-Za-z0-9+=,.@_-]{1,64}")
PRINCIPAL_ARN = re.compile(
    rf"arn:(?P<partition>{PARTITION}):iam::[0-9]{{12}}:(role|user)(?P<path>/([!-.0-~]+/)*)(?P<name>[^/]+)"
)
POLICY_ARN = re.compile(
    rf"arn:{PARTITION}:iam::(aws|[0-9]{{12}}):policy(/[!-.0-~]+)*/[A-Za-z0-9+=,.@_-]{{1,128}}"
)
ACCESS_POLICY_ARN = re.compile(
    rf"arn:(?P<partition>{PARTITION}):eks::aws:cluster-access-policy/(?P<name>[A-Za-z0-9]+)"
)
CLUSTER_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"
INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*\.[a-z0-9-]+")
# Linux managed node group AMI types of the EKS API for the supported versions. AL2 ends
# with Kubernetes 1.32; CUSTOM needs a launch template image and Windows needs extra
# cluster setup — neither is built by this project.
AMI_TYPES = (
    "AL2023_x86_64_STANDARD",
    "AL2023_ARM_64_STANDARD",
    "AL2023_x86_64_NVIDIA",
    "AL2023_ARM_64_NVIDIA",
    "AL2023_x86_64_NEURON",
    "BOTTLEROCKET_x86_64",
    "BOTTLEROCKET_ARM_64",
    "BOTTLEROCKET_x86_64_FIPS",
    "BOTTLEROCKET_ARM_64_FIPS",
    "BOTTLEROCKET_x86_64_NVIDIA",
    "BOTTLEROCKET_ARM_64_NVIDIA",
)
ADDON_VERSION = re.compile(r"v[0-9]+\.[0-9]+\.[0-9]+-eksbuild\.[0-9]+")
LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
# AWS tag characters: Unicode letters, digits and spaces, and _ . : / = + - @.
TAG_CHARS = re.compile(r"[\w .:/=+\-@]*")
# AWS allows 50 tags a resource; the project adds its own (environment, cluster,
# managed-by, Kubernetes discovery tags…), so a stack gets 40 and 10 stay in reserve.
MAX_STACK_TAGS = 40
# The project's own tags (eksgitops:environment, eksgitops:cluster) live under this prefix.
RESERVED_TAG_PREFIX = f"{PROJECT}:"
# Upper bound of a managed node group's maxSize. AWS's service quota "Nodes per managed
# node group" is 450 by default and adjustable (https://docs.aws.amazon.com/eks/latest/
# userguide/service-quotas.html, checked 2026-11-27). The project accepts up to 1000: a group
# sized beyond it is a typo, and one above 450 needs a raised quota.
MAX_GROUP_NODES = 1000
# IAM's limit on a role's inline policies, counted without whitespace (IAM quotas page).
MAX_INLINE_POLICY = 10_240
# IAM's default quota of managed policies attached to one role ("Managed policies attached to
# an IAM role", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
MAX_MANAGED_POLICIES = 20
# EKS CreateNodegroup: at most 50 taints; label keys and values, taint keys and values at
# most 63 characters each, the whole key (prefix included), and label values at least 1
# (https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateNodegroup.html,
# API_Taint.html, API_UpdateLabelsPayload.html).
MAX_TAINTS = 50
# EKS's limit on an endpoint's publicAccessCidrs (VpcConfigRequest; "Cluster API server
# endpoint", https://docs.aws.amazon.com/eks/latest/userguide/cluster-endpoint.html).
MAX_PUBLIC_ACCESS_CIDRS = 40
EKS_LABEL_LENGTH = 63
# Kubernetes reserves these label prefixes (and their subdomains, node-role.kubernetes.io/…)
# for its own components; EKS refuses them on a node group ("Label cannot contain reserved
# prefixes", https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateNodegroup.html).
RESERVED_LABEL_DOMAINS = ("kubernetes.io", "k8s.io")
# A node group's name is `<name>-` plus the 26-character unique suffix of a name prefix
# (terraform-plugin-sdk id.UniqueIDSuffixLength), and EKS takes nodegroupName up to 63.
MAX_NODE_GROUP_NAME = 63 - 1 - 26


def check(test: Callable[[Any], bool], what: Callable[[Any], str], allowed: str) -> AfterValidator:
    """An `Annotated` check: raise `SpecValueError(what(value), allowed)` when `test(value)` is false."""

    def validate(value: Any) -> Any:
        if not test(value):
            raise SpecValueError(what(value), allowed)
        return value

    return AfterValidator(validate)


def fmt(value: Any) -> str:
    """A value as the user wrote it, for messages (a secret is never shown)."""
    if isinstance(value, SecretValue):
        return SECRET_PLACEHOLDER
    return f'"{value}"' if isinstance(value, str) else json.dumps(value, default=str)


def fail(what: str, allowed: str, *at: str | int) -> SpecValueError:
    return SpecValueError(what, allowed, at)


def dns_label(value: str, what: str) -> str:
    """A DNS-1123 label (a cluster, namespace, identity name…), called `what` in the message."""
    if not DNS_LABEL.fullmatch(value):
        raise fail(f"{fmt(value)} is not a valid {what}", DNS_LABEL_ALLOWED)
    return value


def dns(what: str) -> AfterValidator:
    return AfterValidator(lambda v: dns_label(v, what))


def no_repeats(key: Callable[[Any], Any], what: Callable[[Any], str], allowed: str) -> AfterValidator:
    """No two items with the same `key`: `what(key)` and `allowed` for the first repeat."""

    def validate(items: list[Any]) -> list[Any]:
        keys = [key(item) for item in items]
        repeat = next((k for i, k in enumerate(keys) if k in keys[:i]), None)
        if repeat is not None:
            raise fail(what(repeat), allowed)
        return items

    return AfterValidator(validate)


def unique(what: str) -> AfterValidator:
    """No item twice: `lists <item> twice; each <what> once`."""
    return no_repeats(lambda v: v, lambda v: f"lists {v} twice", f"each {what} once")


def ipv4(value: str, allowed: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        kind = "has host bits set" if "has host bits set" in str(exc) else "is not an IPv4 CIDR"
        raise fail(f"{fmt(value)} {kind}", allowed) from None
    if not isinstance(net, ipaddress.IPv4Network) or not value.isascii():
        raise fail(
            f"{fmt(value)} is IPv6" if value.isascii() else f"{fmt(value)} is not an IPv4 CIDR", allowed
        )
    return net


def context_value(info: ValidationInfo, key: str) -> Any:
    return (info.context or {}).get(key)


def alias(field: str) -> str:
    parts = field.split("_")
    return parts[0] + "".join(p.title() for p in parts[1:])


def same_partition(partition: str, info: ValidationInfo) -> None:
    region = context_value(info, "region")
    if region and partition != region_partition(region):
        raise fail(
            f"is in partition {partition}, but region {region} is in {region_partition(region)}",
            f"an ARN of partition {region_partition(region)}",
        )


Namespace = Annotated[str, dns("namespace")]


def snake(key: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()


def region_name(value: str) -> str:
    if region_partition(value) is None:
        raise fail(f"{fmt(value)} is not an AWS region name", "a region such as eu-west-1")
    if not known_region(value):
        # A name of the right shape that AWS has not opened (eu-west-9): nothing could be created.
        raise fail(
            f"{fmt(value)} is not a region AWS has opened",
            "a region listed in components/data/aws_regions.json, such as eu-west-1",
        )
    return value


# Characters that end or break a line (U+2028 LINE SEPARATOR, U+0085 NEXT LINE…) or are
# control characters: no name, path, URL or reason of the spec holds one, and each would
# reach a Kubernetes object, a Git command or a log line where it splits or hides text.
_LINE_BREAKS = {"\u0085", "\u2028", "\u2029"}


def control_characters(
    value: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(key path, character) for the first control or line-break character of each string in `value`."""
    if isinstance(value, str):
        bad = next((c for c in value if unicodedata.category(c) == "Cc" or c in _LINE_BREAKS), None)
        if bad is not None:
            yield path, bad
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from control_characters(key, (*path, str(key)))
            yield from control_characters(item, (*path, str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from control_characters(item, (*path, i))


def character_name(char: str) -> str:
    """`U+2028 (LINE SEPARATOR)` for a character a line cannot show as itself, `";"` otherwise."""
    return (
        f"U+{ord(char):04X} ({unicodedata.name(char, 'a control character')})"
        if not char.isprintable() or not char.isascii()
        else f'"{char}"'
    )
