"""`ClusterAddons`: the EKS managed add-ons, in the two phases a fresh cluster needs.

On a new cluster the order matters, so the add-ons come in two halves:

- `before-compute` (vpc-cni, kube-proxy, eks-pod-identity-agent): DaemonSets that nodes
  need to become Ready. Without the CNI a node never turns Ready and the node group
  creation fails, so node groups depend on this half.
- `after-compute` (coredns, aws-ebs-csi-driver): Deployments that need nodes to run on.
  EKS reports such an add-on DEGRADED until its pods schedule, and creating it before any
  node exists waits for health until it times out; so this half depends on the node groups.

The cluster itself installs none of these (pulumi-eks is told not to, see `EksCluster`), so
each add-on has exactly one owner: this component.

Versions: a pin from the spec, else the version `components/data/addon_versions.json` gives
for the cluster's Kubernetes version, so raising `kubernetesVersion` moves the add-ons too.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

import pulumi
import pulumi_aws as aws

from eksgitops.components.arg_checks import check_args
from eksgitops.components.cluster_checks import addons_checks
from eksgitops.components.iam_documents import EBS_CSI_ROLE, role_name_for
from eksgitops.components.kubernetes_version import NewerThanDataWarning
from eksgitops.components.pod_identity_role import PodIdentityRole, PodIdentityRoleArgs
from eksgitops.components.spec.addons import AddonSpec
from eksgitops.components.spec.data import default_addon_version, known_addon_versions

AddonPhase = Literal["before-compute", "after-compute"]

PHASES: dict[AddonPhase, tuple[str, ...]] = {
    "before-compute": ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"),
    "after-compute": ("coredns", "aws-ebs-csi-driver"),
}

# What a cluster needs to run pods at all: the default of EksClusterArgs.addons.
CORE_ADDONS = ("vpc-cni", "kube-proxy", "coredns")

EBS_CSI_ADDON = "aws-ebs-csi-driver"
EBS_CSI_SERVICE_ACCOUNT = "ebs-csi-controller-sa"
EBS_CSI_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"


@dataclass
class ClusterAddonsArgs:
    """What a `ClusterAddons` needs."""

    cluster_name: str
    """The cluster's physical name: the add-ons' cluster and the base of their roles' names."""
    phase: AddonPhase
    """Which half to install: `before-compute` or `after-compute` (see the module docstring)."""
    addons: Mapping[str, AddonSpec]
    """The enabled add-ons by name (`EnvironmentSpec.enabled_addons()`); only this phase's are used."""
    kubernetes_version: str | None = None
    """The cluster's Kubernetes version: picks each unpinned add-on's version from the data file.
    Default None (or a version the file lacks) leaves the version to EKS's default at creation."""
    most_recent: bool = False
    """Resolve unpinned versions at deploy time (aws.eks.get_addon_version, most_recent) instead
    of from the data file; default off, so a plan shows the version that will be installed."""
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list)
    """What must exist first: the cluster (before compute), or the node groups (after compute)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the add-ons and their roles, beside the provider's default tags."""

    def __post_init__(self) -> None:
        check_args(self, addons_checks(get_args(AddonPhase)))


def addon_version(addon: str, spec: AddonSpec, args: ClusterAddonsArgs) -> pulumi.Input[str] | None:
    """The version to install: the pin, else (most_recent) EKS's newest, else the data's default.

    Never unset when it can be known: an unset version is EKS's default at creation and then
    never moves, not even when the cluster is upgraded. What the data does not know (a newer
    pin, a newer Kubernetes version) is used with a warning instead of refused.
    """
    version = args.kubernetes_version
    if spec.version:
        known = known_addon_versions(addon, version) if version else None
        if known is not None and spec.version not in known:
            warnings.warn(
                f"{addon} {spec.version} is not among the versions bundled for Kubernetes {version} "
                f"({', '.join(known)}); used as given",
                NewerThanDataWarning,
                stacklevel=4,
            )
        return spec.version
    if args.most_recent and version:
        return aws.eks.get_addon_version_output(
            addon_name=addon, kubernetes_version=version, most_recent=True
        ).version
    default = default_addon_version(addon, version) if version else None
    if default is None and version:
        warnings.warn(
            f"{addon}: no version bundled for Kubernetes {version}; EKS's default at creation is used "
            "and will not move with upgrades (pin a version, or turn most_recent on)",
            NewerThanDataWarning,
            stacklevel=4,
        )
    return default


class ClusterAddons(pulumi.ComponentResource):
    """One phase of the managed add-ons; aws-ebs-csi-driver with its own Pod Identity role."""

    addons: dict[str, aws.eks.Addon]
    """The add-ons created, by name (dependents use them in `depends_on`)."""
    ebs_csi_role_arn: pulumi.Output[str] | None
    """ARN of the EBS CSI controller's role; None when this phase has no EBS CSI driver."""

    def __init__(self, name: str, args: ClusterAddonsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksgitops:cluster:ClusterAddons", name, None, opts)
        self.addons = {}
        self.ebs_csi_role_arn = None
        after = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))

        for addon_name in PHASES[args.phase]:
            spec = args.addons.get(addon_name)
            if spec is None or not spec.enabled:
                continue
            associations = None
            if addon_name == EBS_CSI_ADDON:
                # The controller gets its own identity instead of borrowing the node role's
                # (NODE-IAM keeps EBS rights off the nodes). The add-on owns the association,
                # so the role is made without one: two owners of an association fight.
                role = PodIdentityRole(
                    f"{name}-ebs-csi",
                    PodIdentityRoleArgs(
                        role_name=role_name_for(args.cluster_name, EBS_CSI_ROLE),
                        cluster_name=args.cluster_name,
                        namespace="kube-system",
                        service_account=EBS_CSI_SERVICE_ACCOUNT,
                        managed_policy_arns=(EBS_CSI_POLICY_ARN,),
                        create_association=False,
                        tags=args.tags,
                    ),
                    opts=pulumi.ResourceOptions(parent=self),
                )
                self.ebs_csi_role_arn = role.role_arn
                associations = [
                    aws.eks.AddonPodIdentityAssociationArgs(
                        role_arn=role.role_arn, service_account=EBS_CSI_SERVICE_ACCOUNT
                    )
                ]
            self.addons[addon_name] = aws.eks.Addon(
                f"{name}-{addon_name}",
                cluster_name=args.cluster_name,
                addon_name=addon_name,
                addon_version=addon_version(addon_name, spec, args),
                # Removing the add-on from the spec (or deleting the cluster's stack) leaves the
                # running DaemonSets in place: deleting vpc-cni or kube-proxy under running nodes
                # cuts every pod's network.
                preserve=True,
                # OVERWRITE: take over whatever is already there, and put back fields someone
                # changed by hand; the config in Git is the truth.
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                pod_identity_associations=associations,
                tags=args.tags,
                opts=after,
            )

        self.register_outputs(
            {
                "addons": {addon: resource.arn for addon, resource in self.addons.items()},
                "ebs_csi_role_arn": self.ebs_csi_role_arn,
            }
        )
