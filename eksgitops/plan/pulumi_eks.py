"""What pulumi-eks creates inside its packaged components, added to the plan from their inputs.

The mocks see `eks:index:Cluster` and `eks:index:ManagedNodeGroup` as one registration each;
the AWS resources they create inside (the EKS cluster, its access entries and policy
associations, the node groups) are rebuilt here from the recorded inputs, with pulumi-aws's
type tokens and wire names, and marked `synthesized`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
from pulumi.runtime.sync_await import _sync_await

from components import type_tokens as tokens
from eksgitops.plan.records import (
    PLAN_ACCOUNT_ID,
    RESOURCE_VALUE,
    SECRET_SIG,
    UNKNOWN,
    RecordedResource,
    unknown,
)

# -- what pulumi-eks creates inside its components ---------------------------------------
# pulumi-eks 4.x (nodejs/eks/cluster/cluster.ts, nodes/nodegroup.ts) creates these children
# from its inputs; the mocks never see them, so the plan adds them here, from the same
# inputs, with the type tokens and wire names of pulumi-aws. Only what AWS itself creates is
# synthesized: the EKS cluster, its access entries and policy associations, the node groups.

# pulumi-eks's own ignoreChanges on the cluster it creates.
_CLUSTER_IGNORE_CHANGES = [
    "accessConfig.bootstrapClusterCreatorAdminPermissions",
    "bootstrapSelfManagedAddons",
]
# Node group inputs pulumi-eks passes through from ManagedNodeGroup to aws.eks.NodeGroup.
_NODE_GROUP_PASS_THROUGH = (
    "nodeGroupName",
    "nodeGroupNamePrefix",
    "instanceTypes",
    "capacityType",
    "amiType",
    "version",
    "releaseVersion",
    "labels",
    "taints",
    "launchTemplate",
    "updateConfig",
    "remoteAccess",
    "forceUpdateVersion",
    "diskSize",
    "tags",
)


def _urn_of(value: Any) -> str:
    """The URN a resource reference (or a URN string) points at."""
    if isinstance(value, dict) and value.get(SECRET_SIG) == RESOURCE_VALUE:
        return str(value.get("urn", ""))
    return value if isinstance(value, str) else ""


def _child_urn(parent_urn: str, type_: str, name: str) -> str:
    prefix, project, qualified_type, _ = parent_urn.split("::", 3)
    return f"{prefix}::{project}::{qualified_type}${type_}::{name}"


def _role_arn(by_urn: Mapping[str, RecordedResource], ref: Any) -> Any:
    """The ARN of a role passed as a resource, as the mocks answer it for that role."""
    role = by_urn.get(_urn_of(ref))
    if role is None:
        return UNKNOWN
    if role.type == tokens.IAM_ROLE and isinstance(role.inputs.get("name"), str):
        return f"arn:aws:iam::{PLAN_ACCOUNT_ID}:role/{role.inputs['name']}"
    return unknown(role.name, "arn")


def _apply_transforms(
    transforms: list[Any], type_: str, name: str, props: dict[str, Any]
) -> tuple[dict[str, Any], pulumi.ResourceOptions]:
    """Run the program's transforms on a synthesized child, as the engine runs them on the real one."""
    opts = pulumi.ResourceOptions()
    for transform in transforms:
        result = transform(pulumi.ResourceTransformArgs(True, type_, name, props, opts))
        if hasattr(result, "__await__"):
            result = _sync_await(result)
        if result is not None:
            props, opts = dict(result.props), result.opts or opts
    return props, opts


def _cluster_props(component: RecordedResource, by_urn: Mapping[str, RecordedResource]) -> dict[str, Any]:
    """The inputs pulumi-eks gives the `aws:eks/cluster:Cluster` (createCore in cluster.ts)."""
    args = component.inputs
    auto: dict[str, Any] = args["autoMode"] if isinstance(args.get("autoMode"), dict) else {}
    auto_on = auto.get("enabled") is True
    subnets = args.get("subnetIds")
    if subnets is None:
        # pulumi-eks joins the public and private subnets, in that order.
        subnets = [*(args.get("publicSubnetIds") or []), *(args.get("privateSubnetIds") or [])]
    vpc: dict[str, Any] = {"subnetIds": subnets}
    for key in ("endpointPrivateAccess", "endpointPublicAccess", "publicAccessCidrs"):
        if key in args:
            vpc[key] = args[key]
    name = args.get("name", component.name)
    props: dict[str, Any] = {
        "name": name,
        "roleArn": _role_arn(by_urn, args.get("serviceRole")),
        "vpcConfig": vpc,
        "bootstrapSelfManagedAddons": False if auto_on else args.get("bootstrapSelfManagedAddons", True),
        "tags": {
            "Name": f"{component.name}-eksCluster",
            **(args.get("clusterTags") or {}),
            **(args.get("tags") or {}),
        },
    }
    for key in ("version", "enabledClusterLogTypes", "upgradePolicy", "deletionProtection"):
        if key in args:
            props[key] = args[key]
    if "encryptionConfigKeyArn" in args:
        props["encryptionConfig"] = {
            "provider": {"keyArn": args["encryptionConfigKeyArn"]},
            "resources": ["secrets"],
        }
    if "authenticationMode" in args:
        # pulumi-eks hard-codes the creator's admin entry; the program's transforms may change it.
        props["accessConfig"] = {
            "authenticationMode": args["authenticationMode"],
            "bootstrapClusterCreatorAdminPermissions": True,
        }
    if "kubernetesServiceIpAddressRange" in args or auto_on:
        network: dict[str, Any] = {"ipFamily": args.get("ipFamily", "ipv4")}
        if "kubernetesServiceIpAddressRange" in args:
            network["serviceIpv4Cidr"] = args["kubernetesServiceIpAddressRange"]
        if auto_on:
            network["elasticLoadBalancing"] = {"enabled": True}
        props["kubernetesNetworkConfig"] = network
    if auto_on:
        compute = {
            "enabled": True,
            "nodePools": ["general-purpose", "system"],
            **(auto.get("computeConfig") or {}),
        }
        props["computeConfig"] = compute
        props["storageConfig"] = {"blockStorage": {"enabled": True}}
    return props


def _synthesized(
    parent: RecordedResource,
    type_: str,
    name: str,
    props: dict[str, Any],
    *,
    dependencies: list[str],
    transforms: list[Any],
    ignore_changes: Sequence[str] = (),
) -> RecordedResource:
    props, opts = _apply_transforms(transforms, type_, name, props)
    return RecordedResource(
        urn=_child_urn(parent.urn, type_, name),
        type=type_,
        name=name,
        parent=parent.urn,
        custom=True,
        remote=False,
        provider=parent.providers.get("aws", ""),
        providers={},
        dependencies=dependencies,
        transforms=0,
        inputs=props,
        synthesized=True,
        delete_before_replace=bool(opts.delete_before_replace),
        ignore_changes=[*ignore_changes, *(opts.ignore_changes or [])],
    )


def synthesize_children(
    records: list[RecordedResource], transforms: Mapping[tuple[str, str], list[Any]]
) -> list[RecordedResource]:
    """The AWS resources pulumi-eks's remote components would create, from their recorded inputs."""
    by_urn = {r.urn: r for r in records}
    children: list[RecordedResource] = []
    for component in records:
        own_transforms = list(transforms.get((component.type, component.name), []))
        if component.type == tokens.EKS_CLUSTER:
            cluster = _synthesized(
                component,
                tokens.AWS_EKS_CLUSTER,
                f"{component.name}-eksCluster",
                _cluster_props(component, by_urn),
                dependencies=list(component.dependencies),
                transforms=own_transforms,
                ignore_changes=_CLUSTER_IGNORE_CHANGES,
            )
            children.append(cluster)
            children += _access_entries(component, cluster, own_transforms)
        elif component.type == tokens.EKS_MANAGED_NODE_GROUP:
            children.append(_node_group(component, by_urn, own_transforms))
    return children


def _access_entries(
    component: RecordedResource, cluster: RecordedResource, transforms: list[Any]
) -> list[RecordedResource]:
    """pulumi-eks's createAccessEntries: `<component>-<key>` and `<component>-<key>-<policy key>`."""
    args = component.inputs
    if args.get("authenticationMode") not in ("API", "API_AND_CONFIG_MAP"):
        return []
    created: list[RecordedResource] = []
    for key, entry in sorted((args.get("accessEntries") or {}).items()):
        entry_props = {"clusterName": cluster.inputs["name"], "principalArn": entry.get("principalArn")}
        for field_name in ("type", "kubernetesGroups", "tags"):
            if field_name in entry:
                entry_props[field_name] = entry[field_name]
        if "username" in entry:
            entry_props["userName"] = entry["username"]
        access_entry = _synthesized(
            component,
            tokens.EKS_ACCESS_ENTRY,
            f"{component.name}-{key}",
            entry_props,
            dependencies=[cluster.urn],
            transforms=transforms,
        )
        created.append(access_entry)
        for policy_key, association in sorted((entry.get("accessPolicies") or {}).items()):
            created.append(
                _synthesized(
                    component,
                    tokens.EKS_ACCESS_POLICY_ASSOCIATION,
                    f"{component.name}-{key}-{policy_key}",
                    {
                        "clusterName": cluster.inputs["name"],
                        "principalArn": entry.get("principalArn"),
                        "policyArn": association.get("policyArn"),
                        "accessScope": association.get("accessScope"),
                    },
                    dependencies=[cluster.urn, access_entry.urn],
                    transforms=transforms,
                )
            )
    return created


def _node_group(
    component: RecordedResource, by_urn: Mapping[str, RecordedResource], transforms: list[Any]
) -> RecordedResource:
    """pulumi-eks's createManagedNodeGroupInternal: an `aws:eks/nodeGroup:NodeGroup` of the same name."""
    args = component.inputs
    cluster = by_urn.get(_urn_of(args.get("cluster")))
    cluster_name = args.get("clusterName") or (cluster.inputs.get("name") if cluster else UNKNOWN)
    scaling: dict[str, Any] = args["scalingConfig"] if isinstance(args.get("scalingConfig"), dict) else {}
    props: dict[str, Any] = {
        "clusterName": cluster_name,
        "nodeRoleArn": args.get("nodeRoleArn") or _role_arn(by_urn, args.get("nodeRole")),
        "scalingConfig": {
            "desiredSize": scaling.get("desiredSize", 2),
            "minSize": scaling.get("minSize", 1),
            "maxSize": scaling.get("maxSize", 2),
        },
        "subnetIds": args.get("subnetIds", UNKNOWN),
    }
    for key in _NODE_GROUP_PASS_THROUGH:
        if key in args:
            props[key] = args[key]
    return _synthesized(
        component,
        tokens.EKS_NODE_GROUP,
        component.name,
        props,
        dependencies=list(component.dependencies),
        transforms=transforms,
        ignore_changes=["scalingConfig.desiredSize"] if args.get("ignoreScalingChanges") is True else [],
    )
