"""Control-plane rules: EKS-ENDPOINT, EKS-LOGGING, EKS-SECRETS-KMS, EKS-VERSION, EKS-ACCESS.

Each judges the `aws:eks/cluster:Cluster` that pulumi-eks creates when it is visible (the
plan synthesizes it; CrossGuard sees the real one), and otherwise the `eks:index:Cluster`
component's own inputs, which pulumi-eks passes on to it. Unset values take the default of
AWS (raw cluster) or of pulumi-eks (component), which is what the cluster would get.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from components import type_tokens as tokens
from eksgitops.policy.model import Finding, Graph, Resource, as_list, finding, get, is_unknown

LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
AUTH_MODES = ("API", "API_AND_CONFIG_MAP")


@dataclass(frozen=True)
class ClusterView:
    """The settings the rules judge, read from whichever resource shows them."""

    resource: Resource
    private_access: Any
    public_access: Any
    public_cidrs: list[Any]
    log_types: list[Any]
    key_arn: Any
    encrypted_resources: list[Any]
    key_sources: list[Resource]
    version: Any
    authentication_mode: Any
    creator_admin: Any
    """True, False, or None when it cannot be seen (component with a transform on it)."""


def clusters(graph: Graph) -> list[ClusterView]:
    views = []
    for r in graph.effective(tokens.EKS_CLUSTER, tokens.AWS_EKS_CLUSTER):
        p = r.props
        if r.type == tokens.AWS_EKS_CLUSTER:
            component = graph.by_urn.get(r.parent)
            key_sources = graph.sources(component, "encryptionConfigKeyArn") if component else []
            views.append(
                ClusterView(
                    resource=r,
                    private_access=get(p, "vpcConfig.endpointPrivateAccess", False),
                    public_access=get(p, "vpcConfig.endpointPublicAccess", True),
                    public_cidrs=as_list(get(p, "vpcConfig.publicAccessCidrs")),
                    log_types=as_list(p.get("enabledClusterLogTypes")),
                    key_arn=get(p, "encryptionConfig.provider.keyArn"),
                    encrypted_resources=as_list(get(p, "encryptionConfig.resources")),
                    key_sources=key_sources + graph.sources(r, "encryptionConfig"),
                    version=p.get("version"),
                    authentication_mode=get(p, "accessConfig.authenticationMode", "CONFIG_MAP"),
                    creator_admin=get(p, "accessConfig.bootstrapClusterCreatorAdminPermissions", True),
                )
            )
        else:
            key_arn = p.get("encryptionConfigKeyArn")
            views.append(
                ClusterView(
                    resource=r,
                    private_access=p.get("endpointPrivateAccess", False),
                    public_access=p.get("endpointPublicAccess", True),
                    public_cidrs=as_list(p.get("publicAccessCidrs")),
                    log_types=as_list(p.get("enabledClusterLogTypes")),
                    key_arn=key_arn,
                    encrypted_resources=["secrets"] if key_arn else [],
                    key_sources=graph.sources(r, "encryptionConfigKeyArn"),
                    version=p.get("version"),
                    authentication_mode=p.get("authenticationMode") or "CONFIG_MAP",
                    # pulumi-eks hard-codes the creator's admin entry; only a transform (which the
                    # component's children show, not its inputs) can turn it off.
                    creator_admin=True if r.transforms == 0 else None,
                )
            )
    return views


# --- EKS-ENDPOINT ---------------------------------------------------------------------


def check_endpoint(graph: Graph) -> Iterator[Finding]:
    for c in clusters(graph):
        if c.private_access is not True:
            yield finding(
                "EKS-ENDPOINT",
                c.resource,
                "the private endpoint is off; nodes and admins in the VPC reach the API over the internet",
            )
        if c.public_access is False:
            continue
        known = [x for x in c.public_cidrs if isinstance(x, str) and not is_unknown(x)]
        if not c.public_cidrs:
            yield finding(
                "EKS-ENDPOINT",
                c.resource,
                "the public endpoint is on with no CIDR list, which EKS reads as 0.0.0.0/0",
            )
            continue
        if "0.0.0.0/0" in known:
            yield finding("EKS-ENDPOINT", c.resource, "the public endpoint is open to 0.0.0.0/0")
            continue
        networks = []
        for cidr in known:
            try:
                net = ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                continue
            if isinstance(net, ipaddress.IPv4Network):
                networks.append(net)
        if list(ipaddress.collapse_addresses(networks)) == [ipaddress.IPv4Network("0.0.0.0/0")]:
            yield finding(
                "EKS-ENDPOINT",
                c.resource,
                f"the public endpoint's CIDRs {', '.join(known)} together cover all of IPv4 (0.0.0.0/0)",
            )


# --- EKS-LOGGING ----------------------------------------------------------------------


def check_logging(graph: Graph) -> Iterator[Finding]:
    for c in clusters(graph):
        missing = [t for t in LOG_TYPES if t not in c.log_types]
        if missing:
            yield finding(
                "EKS-LOGGING", c.resource, f"control-plane log types {', '.join(missing)} are not enabled"
            )


# --- EKS-SECRETS-KMS ------------------------------------------------------------------


def check_secrets_kms(graph: Graph) -> Iterator[Finding]:
    for c in clusters(graph):
        if not c.key_arn or "secrets" not in c.encrypted_resources:
            yield finding(
                "EKS-SECRETS-KMS", c.resource, "Kubernetes secrets are not envelope-encrypted with a KMS key"
            )
            continue
        keys = [k for k in c.key_sources if k.type == tokens.KMS_KEY]
        if not keys:
            # An existing key (or an alias of one, which EKS also takes): its owner keeps rotation on.
            yield finding(
                "EKS-SECRETS-KMS",
                c.resource,
                f"the secrets key {c.key_arn} is not managed here; its rotation cannot be checked",
                advisory=True,
            )
            continue
        for key in keys:
            if key.props.get("enableKeyRotation") is not True:
                yield finding(
                    "EKS-SECRETS-KMS", key, "the KMS key that encrypts the cluster's secrets has rotation off"
                )
            if key.props.get("customerMasterKeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
                yield finding("EKS-SECRETS-KMS", key, "EKS envelope encryption needs a symmetric key")


# --- EKS-VERSION ----------------------------------------------------------------------


@cache
def standard_support() -> dict[str, str]:
    """Kubernetes minor version -> end of EKS standard support (components/data/kubernetes_versions.json)."""
    text = resources.files("components").joinpath("data/kubernetes_versions.json").read_text()
    return {v["version"]: v["endOfStandardSupport"] for v in json.loads(text)["versions"]}


def check_version(graph: Graph, today: date | None = None) -> Iterator[Finding]:
    today = today or date.today()
    supported = standard_support()
    for c in clusters(graph):
        version = c.version
        if not version:
            yield finding(
                "EKS-VERSION", c.resource, "no Kubernetes version pinned; EKS picks one", advisory=True
            )
            continue
        end = supported.get(str(version))
        if end is None:
            # The data file also lists versions already in extended support (the spec accepts
            # those); name only the ones still in standard support.
            current = [v for v, e in supported.items() if date.fromisoformat(e) >= today]
            yield finding(
                "EKS-VERSION",
                c.resource,
                f"Kubernetes {version} is not in EKS standard support (in support: {', '.join(current)})",
            )
        elif date.fromisoformat(end) < today:
            yield finding(
                "EKS-VERSION", c.resource, f"Kubernetes {version} left EKS standard support on {end}"
            )


# --- EKS-ACCESS -----------------------------------------------------------------------


def check_access(graph: Graph) -> Iterator[Finding]:
    for c in clusters(graph):
        if c.authentication_mode not in AUTH_MODES:
            yield finding(
                "EKS-ACCESS",
                c.resource,
                f"authentication mode {c.authentication_mode} (aws-auth only); use API or, while "
                "migrating, API_AND_CONFIG_MAP",
            )
        if c.creator_admin is True:
            yield finding(
                "EKS-ACCESS",
                c.resource,
                "the cluster's creator gets a permanent admin access entry "
                "(bootstrapClusterCreatorAdminPermissions)",
            )
    # Admins through explicit access entries, not the aws-auth ConfigMap (which API_AND_CONFIG_MAP
    # still honours): pulumi-eks writes it from roleMappings/userMappings, a program may write it itself.
    for component in graph.of_type(tokens.EKS_CLUSTER):
        for prop in ("roleMappings", "userMappings"):
            if as_list(component.props.get(prop)):
                yield finding(
                    "EKS-ACCESS",
                    component,
                    f"{prop} grant access through the aws-auth ConfigMap; use access entries",
                )
    for config_map in graph.of_type(tokens.K8S_CONFIG_MAP):
        metadata = config_map.props.get("metadata")
        if isinstance(metadata, Mapping) and (metadata.get("namespace"), metadata.get("name")) == (
            "kube-system",
            "aws-auth",
        ):
            yield finding(
                "EKS-ACCESS", config_map, "grants access through the aws-auth ConfigMap; use access entries"
            )
