"""`NodeGroup`: one EKS managed node group and the launch template that hardens its instances."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from eksgitops.components.arg_checks import check_args
from eksgitops.components.cluster_checks import NODE_GROUP_CHECKS
from eksgitops.components.pulumi_eks_sdk import eks
from eksgitops.components.spec.compute import NodeGroupSpec


def root_device_name(ami_type: str) -> str:
    """The block device the node's images write to, so the disk size lands on the right volume."""
    if ami_type.startswith("BOTTLEROCKET"):
        return "/dev/xvdb"  # Bottlerocket: /dev/xvda is the small OS volume, xvdb holds images.
    if ami_type.startswith("WINDOWS"):
        return "/dev/sda1"
    return "/dev/xvda"  # AL2 and AL2023


def block_devices(ami_type: str, disk_size: int) -> list[aws.ec2.LaunchTemplateBlockDeviceMappingArgs]:
    """Every volume the image has, encrypted gp3; the disk size goes on the one images write to.

    Bottlerocket has two: the OS volume /dev/xvda and the data volume /dev/xvdb. A launch
    template only changes the volumes it names, so naming only the data volume would leave
    the OS volume unencrypted (unless the account encrypts EBS by default). The OS volume
    keeps the image's size (no volume_size): a size below the snapshot's is refused.
    """

    def volume(device: str, size: int | None) -> aws.ec2.LaunchTemplateBlockDeviceMappingArgs:
        return aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
            device_name=device,
            ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                volume_size=size, volume_type="gp3", encrypted="true", delete_on_termination="true"
            ),
        )

    data = volume(root_device_name(ami_type), disk_size)
    if ami_type.startswith("BOTTLEROCKET"):
        return [volume("/dev/xvda", None), data]
    return [data]


@dataclass
class NodeGroupArgs:
    """What a `NodeGroup` needs."""

    cluster: eks.Cluster
    """The pulumi-eks cluster the group joins."""
    cluster_name: str
    """The cluster's physical name; names the launch template and tags the instances."""
    spec: NodeGroupSpec
    """The validated node group spec: sizes, instance types, labels, taints, AMI, disk, IMDS hop limit."""
    node_role: aws.iam.Role
    """The node instance role (`NodeRole`, kind `managed`)."""
    subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Private subnets only (NODE-PRIVATE): nodes never get public addresses."""
    kubernetes_version: pulumi.Input[str] | None = None
    """Kubelet version; the cluster's, so a control-plane upgrade rolls the nodes after it. Default:
    whatever EKS picks at creation."""
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list)
    """What must exist before nodes launch: the before-compute add-ons (nodes stay NotReady without
    the CNI) and the node role's policy attachments."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the group and, through the launch template, on its instances, volumes and ENIs."""

    def __post_init__(self) -> None:
        check_args(self, NODE_GROUP_CHECKS)


class NodeGroup(pulumi.ComponentResource):
    """A pulumi-eks `ManagedNodeGroup` launched from our own `aws.ec2.LaunchTemplate`.

    The launch template is where the hardening lives: IMDSv2 required with the spec's hop
    limit (NODE-IMDSV2), encrypted gp3 volumes (both of Bottlerocket's), no key pair. The group has no
    `remote_access` (NODE-NO-SSH). With a launch template, EKS refuses `disk_size` on the
    group, so the size is set on the template's block device.
    """

    launch_template: aws.ec2.LaunchTemplate
    """The template the group's instances are launched from."""
    node_group: eks.ManagedNodeGroup
    """The pulumi-eks managed node group (a remote component)."""
    launch_template_id: pulumi.Output[str]
    """Id of the launch template."""

    def __init__(self, name: str, args: NodeGroupArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksgitops:cluster:NodeGroup", name, None, opts)
        spec = args.spec
        instance_tags = {"Name": f"{args.cluster_name}-{spec.name}", **args.tags}

        self.launch_template = aws.ec2.LaunchTemplate(
            name,
            name=f"{args.cluster_name}-{spec.name}",
            description=f"EKS node group {spec.name} of {args.cluster_name}",
            update_default_version=True,
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                # 1 keeps pods (one network hop further) off the node role's credentials.
                http_put_response_hop_limit=spec.imds_hop_limit,
            ),
            block_device_mappings=block_devices(spec.ami_type, spec.disk_size),
            # Provider default tags do not reach what EC2 launches from a template: tag it here.
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=instance_tags)
                for kind in ("instance", "volume", "network-interface")
            ],
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.node_group = eks.ManagedNodeGroup(
            name,
            cluster=args.cluster,
            # A prefix, not a fixed name: changing instance types or capacity type replaces
            # the group, and a fixed name would collide with the group being replaced.
            node_group_name_prefix=f"{spec.name}-",
            node_role=args.node_role,
            subnet_ids=args.subnet_ids,
            scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                min_size=spec.min_size, desired_size=spec.desired_size, max_size=spec.max_size
            ),
            # desiredSize is the size at creation only: once an autoscaler (Cluster Autoscaler,
            # Karpenter, from Git) moves it, every `up` would otherwise reset it and drain nodes.
            ignore_scaling_changes=True,
            instance_types=list(spec.instance_types),
            capacity_type=spec.capacity_type,
            ami_type=spec.ami_type,
            version=args.kubernetes_version,
            labels=dict(spec.labels),
            taints=[
                aws.eks.NodeGroupTaintArgs(key=taint.key, value=taint.value, effect=taint.effect)
                for taint in spec.taints
            ],
            launch_template=aws.eks.NodeGroupLaunchTemplateArgs(
                id=self.launch_template.id,
                version=self.launch_template.latest_version.apply(str),
            ),
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )

        self.launch_template_id = self.launch_template.id
        self.register_outputs({"launch_template_id": self.launch_template_id})
