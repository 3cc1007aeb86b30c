"""The argument checks of the cluster's components: `EksCluster`, `NodeGroup`, `ClusterAddons`.

Kept apart from `arg_checks` (which knows no component) and from the components (which
only say which checks their fields take), so each of those stays small.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

import pulumi_aws as aws

from eksgitops.components.arg_checks import (
    CLUSTER_NAME,
    DEPENDS_ON,
    KMS_KEY,
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
from eksgitops.components.kubernetes_version import check_kubernetes_version
from eksgitops.components.pulumi_eks_sdk import eks
from eksgitops.components.spec.access import AccessSpec
from eksgitops.components.spec.addons import AddonName, AddonSpec
from eksgitops.components.spec.compute import AutoModeSpec, NodeGroupSpec
from eksgitops.components.spec.control_plane import ControlPlaneSpec, EndpointSpec, LogType
from eksgitops.components.spec.errors import describe
from eksgitops.components.spec.rules import ipv4_address, service_cidr, subnet_id, vpc_id


def kubernetes_version(field: str) -> Check:
    """A Kubernetes minor EKS offers (or may have released since the data); `field` names warnings."""
    return text(lambda v: check_kubernetes_version(v, field=field))


def addon_map(value: Any) -> None:
    """Managed add-ons by name: names EKS knows, each with an `AddonSpec`."""
    if not isinstance(value, Mapping):
        raise WrongType(f"is {describe(value)}, not a mapping", "a mapping of add-on names to AddonSpec")
    names = get_args(AddonName)
    for name, spec in value.items():
        choice(names, "a managed add-on")(name)
        if not isinstance(spec, AddonSpec):
            raise WrongType(f"is {describe(spec)}, not an AddonSpec", "an AddonSpec", (name,))


SUBNET_IDS = Items(text(subnet_id), at_least=1, what="subnet ids")
# EKS CreateCluster: subnets in at least two availability zones (resourcesVpcConfig.subnetIds).
CLUSTER_SUBNET_IDS = Items(text(subnet_id), at_least=2, what="subnet ids")
LOG_TYPES = Items(text(choice(get_args(LogType), "a control-plane log type")), what="log types")

CLUSTER_CHECKS: dict[str, Check | Items | Tags | Optional] = {
    "cluster_name": CLUSTER_NAME,
    "kubernetes_version": kubernetes_version("EksClusterArgs.kubernetes_version"),
    "vpc_id": text(vpc_id),
    "private_subnet_ids": CLUSTER_SUBNET_IDS,
    "endpoint": instance(EndpointSpec, "an EndpointSpec"),
    "node_egress_ips": Items(text(ipv4_address), what="addresses"),
    "control_plane": instance(ControlPlaneSpec, "a ControlPlaneSpec"),
    "log_types": LOG_TYPES,
    "secrets_kms_key_arn": KMS_KEY,
    "access": instance(AccessSpec, "an AccessSpec"),
    "node_groups": Items(instance(NodeGroupSpec, "a NodeGroupSpec"), unique=False, what="node groups"),
    "auto_mode": instance(AutoModeSpec, "an AutoModeSpec"),
    "addons": Optional(addon_map),
    "addons_most_recent": flag,
    "service_cidr": Optional(text(service_cidr)),
    "tags": Tags(),
}

NODE_GROUP_CHECKS: dict[str, Check | Items | Tags | Optional] = {
    "cluster": instance(eks.Cluster, "a pulumi-eks Cluster"),
    "cluster_name": CLUSTER_NAME,
    "spec": instance(NodeGroupSpec, "a NodeGroupSpec"),
    "node_role": instance(aws.iam.Role, "an aws.iam.Role"),
    "subnet_ids": SUBNET_IDS,
    "kubernetes_version": Optional(kubernetes_version("NodeGroupArgs.kubernetes_version")),
    "depends_on": DEPENDS_ON,
    "tags": Tags(),
}


def addons_checks(phases: tuple[str, ...]) -> dict[str, Check | Items | Tags | Optional]:
    """ClusterAddonsArgs' checks (the phases come from `components.addons`, which imports this)."""
    return {
        "cluster_name": CLUSTER_NAME,
        "phase": choice(phases, "an add-on phase"),
        "addons": addon_map,
        "kubernetes_version": Optional(kubernetes_version("ClusterAddonsArgs.kubernetes_version")),
        "most_recent": flag,
        "depends_on": DEPENDS_ON,
        "tags": Tags(),
    }
