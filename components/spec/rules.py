"""Rules on single values that the spec and the components' `*Args` share.

Each rule takes a value already of the right Python type and raises `SpecValueError` (what is
wrong; what is allowed) when AWS or Kubernetes would refuse it. The spec's models call them
through their validators (adding what only a whole stack knows, such as its region), and
`eksgitops.components.arg_checks` calls them on the arguments of every public component, so
the two faces of the project apply one set of rules.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from eksgitops.components.spec.data import region_partition
from eksgitops.components.spec.syntax import (
    DNS_SUBDOMAIN,
    IAM_NAME,
    KMS_KEY_ARN,
    PARTITION,
    POLICY_ARN,
    PRINCIPAL_ARN,
    SUBNET_ID,
    TAG_CHARS,
    VPC_ID,
    character_name,
    fail,
    fmt,
    ipv4,
)

VPC_CIDR_ALLOWED = "an IPv4 CIDR such as 10.0.0.0/16 (/16 to /28)"
SERVICE_CIDR_ALLOWED = (
    "an IPv4 CIDR /12 to /24 inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, not overlapping the VPC"
)
PRIVATE_RANGES = [ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
IAM_NAME_ALLOWED = "1 to 64 ASCII letters, digits and +=,.@_-"
KMS_KEY_ALLOWED = "a KMS key ARN arn:aws:kms:<region>:<account>:key/<key id> (not an alias)"
POLICY_ARN_ALLOWED = "arn:aws:iam::aws:policy/<name> or arn:aws:iam::<account>:policy/<name>"
PRINCIPAL_ARN_ALLOWED = "arn:aws:iam::<12-digit account>:role/<name> (or :user/<name>)"
TAG_ALLOWED = "letters, digits, spaces and _ . : / = + - @"
# AWS allows 50 user tags a resource (e.g. IAM TagRole, EC2 CreateTags).
AWS_MAX_TAGS = 50


def service_account_name(value: str) -> str:
    """A Kubernetes ServiceAccount name: a DNS-1123 subdomain (at most 253, dots allowed)."""
    if len(value) > 253 or not DNS_SUBDOMAIN.fullmatch(value):
        raise fail(
            f"{fmt(value)} is not a valid service account name",
            "a DNS-1123 subdomain: lowercase letters, digits, '-' and '.', at most 253, "
            "starting and ending alphanumeric",
        )
    return value


def iam_role_name(value: str) -> str:
    """An IAM role (or user) name: IAM CreateRole RoleName, [\\w+=,.@-]{1,64}."""
    if not 1 <= len(value) <= 64:
        raise fail(f"{fmt(value)} is {len(value)} characters long", IAM_NAME_ALLOWED)
    if not IAM_NAME.fullmatch(value):
        raise fail(f"{fmt(value)} is not an IAM role name", IAM_NAME_ALLOWED)
    return value


def vpc_cidr(value: str) -> str:
    vpc = ipv4(value, VPC_CIDR_ALLOWED)
    if not 16 <= vpc.prefixlen <= 28:
        raise fail(f"{vpc} has a /{vpc.prefixlen} prefix", "/16 to /28 (the VPC limits)")
    return value


def service_cidr(value: str) -> str:
    service = ipv4(value, SERVICE_CIDR_ALLOWED)
    if not 12 <= service.prefixlen <= 24 or not any(service.subnet_of(r) for r in PRIVATE_RANGES):
        raise fail(f"{service} is not a range EKS accepts for services", SERVICE_CIDR_ALLOWED)
    return value


def vpc_id(value: str) -> str:
    if not VPC_ID.fullmatch(value):
        raise fail(f"{fmt(value)} is not a VPC id", "vpc- and 8 or 17 hex digits")
    return value


def subnet_id(value: str) -> str:
    if not SUBNET_ID.fullmatch(value):
        raise fail(f"{fmt(value)} is not a subnet id", "subnet- and 8 or 17 hex digits")
    return value


def ipv4_address(value: str) -> str:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        raise fail(f"{fmt(value)} is not an IPv4 address", "an IPv4 address such as 203.0.113.7") from None
    return value


def kms_key_arn(value: str) -> re.Match[str]:
    """A KMS key ARN (never an alias, which EKS and SOPS cannot take): the match, for its parts."""
    if ":alias/" in value or value.startswith("alias/"):
        raise fail(f"{fmt(value)} is a KMS alias; the key itself is needed", KMS_KEY_ALLOWED)
    match = KMS_KEY_ARN.fullmatch(value)
    if not match:
        raise fail(f"{fmt(value)} is not a KMS key ARN", KMS_KEY_ALLOWED)
    # A key of one partition cannot be used from another (the ARN's region says which one it
    # is in: AWS General Reference, "Amazon Resource Names", partition).
    partition = region_partition(match["region"])
    if partition is not None and partition != match["partition"]:
        raise fail(
            f"{fmt(value)} names partition {match['partition']}, "
            f"but region {match['region']} is in {partition}",
            f"an ARN of partition {partition} (arn:{partition}:kms:{match['region']}:…)",
        )
    return match


def policy_arn(value: str) -> str:
    if not POLICY_ARN.fullmatch(value):
        raise fail(f"{fmt(value)} is not an IAM policy ARN", POLICY_ARN_ALLOWED)
    # IAM's policy path is at most 512 characters (CreatePolicy Path, "IAM object quotas").
    path = "/" + value.split(":policy/", 1)[1].rpartition("/")[0] + "/"
    if len(path) > 512:
        raise fail(f"has a path of {len(path)} characters", "a policy path of at most 512 characters (IAM)")
    return value


def principal_arn(value: str) -> re.Match[str]:
    """An IAM role or user ARN (path at most 512 characters, IAM's limit): the match."""
    match = PRINCIPAL_ARN.fullmatch(value)
    if not match or len(match["path"]) > 512:
        raise fail(f"{fmt(value)} is not an IAM role or user ARN", PRINCIPAL_ARN_ALLOWED)
    if not IAM_NAME.fullmatch(match["name"]):
        raise fail(f"the name {fmt(match['name'])} is not an IAM role or user name", IAM_NAME_ALLOWED)
    return match


def one_of(value: object, options: Iterable[object], what: str) -> object:
    choices = list(options)
    if value not in choices:
        raise fail(f"{fmt(value)} is not {what}", "one of " + ", ".join(str(c) for c in choices))
    return value


def _odd(text: str) -> str:
    """The first character of `text` a tag cannot hold, named (it may be invisible)."""
    return character_name(next(c for c in text if not TAG_CHARS.fullmatch(c)))


def tag_key(key: str, reserved: tuple[str, ...] = ()) -> str:
    """A tag key AWS accepts: not aws:-prefixed (nor any of `reserved`), 1-128 tag characters."""
    for prefix in ("aws:", *reserved):
        if key.lower().startswith(prefix):
            owner = "AWS reserves" if prefix == "aws:" else "the project's own tags use"
            raise fail(f"uses the {prefix} prefix, which {owner}", f"a key not starting with {prefix}", key)
    if not 1 <= len(key) <= 128:
        raise fail(f"key is {len(key)} characters long", "1 to 128 characters", key)
    if not TAG_CHARS.fullmatch(key):
        raise fail(f"key has characters AWS refuses ({_odd(key)})", TAG_ALLOWED, key)
    return key


def tag_value(key: str, value: str) -> str:
    if len(value) > 256:
        raise fail(f"value is {len(value)} characters long", "at most 256 characters", key)
    if not TAG_CHARS.fullmatch(value):
        raise fail(f"value has characters AWS refuses ({_odd(value)})", TAG_ALLOWED, key)
    return value


def tag_keys(keys: Iterable[str], max_tags: int, reserved: tuple[str, ...] = ()) -> None:
    """Count, case-folded uniqueness and each key of a set of tags."""
    keys = list(keys)
    if len(keys) > max_tags:
        raise fail(f"has {len(keys)} tags", f"at most {max_tags}")
    folded: dict[str, str] = {}
    for key in keys:
        # Several services (Auto Scaling, the Kubernetes discovery tags, IAM) compare tag keys
        # case-insensitively and keep one of the two, so the result would depend on the service.
        if key.lower() in folded:
            raise fail(
                f"differs from the key {fmt(folded[key.lower()])} only by case",
                "tag keys that differ by more than case",
                key,
            )
        folded[key.lower()] = key
        tag_key(key, reserved)


# An EKS cluster's OIDC issuer (DescribeCluster identity.oidc.issuer) and the IAM OIDC
# provider made for it: https://oidc.eks.<region>.amazonaws.com/id/<hex id>.
OIDC_ISSUER = re.compile(r"(https://)?oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/id/[A-Za-z0-9]+/?")
OIDC_PROVIDER_ARN = re.compile(
    rf"arn:{PARTITION}:iam::[0-9]{{12}}:oidc-provider/oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/id/[A-Za-z0-9]+"
)


def oidc_issuer(value: str) -> str:
    if not OIDC_ISSUER.fullmatch(value):
        raise fail(
            f"{fmt(value)} is not an EKS OIDC issuer",
            "https://oidc.eks.<region>.amazonaws.com/id/<id> (the cluster's identity.oidc.issuer)",
        )
    return value


def oidc_provider_arn(value: str) -> str:
    if not OIDC_PROVIDER_ARN.fullmatch(value):
        raise fail(
            f"{fmt(value)} is not the ARN of an EKS cluster's IAM OIDC provider",
            "arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>",
        )
    return value
