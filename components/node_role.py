"""`NodeRole`: the IAM role EC2 worker nodes run as (managed node groups or EKS Auto Mode)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

import pulumi
import pulumi_aws as aws

from eksgitops.components.arg_checks import ROLE_NAME, TAGS, check_args, choice
from eksgitops.components.cluster_role import AWS_MANAGED_POLICY
from eksgitops.components.role_policies import attach_policies

# NODE-IAM (CIS EKS 5.1.3): exactly these, nothing more. In particular no
# AmazonSSMManagedInstanceCore: SSM access to nodes (NODE-NO-SSH says "use SSM") must come
# from a separate, deliberate grant (e.g. an SSM default host management role for the
# account), not from widening every node's role.
MANAGED_NODE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryReadOnly",
)
# EKS Auto Mode nodes need less (AWS docs "Amazon EKS Auto Mode node IAM role"; pulumi-eks
# attaches the same two when it makes the role itself).
AUTO_MODE_NODE_POLICIES = (
    "AmazonEKSWorkerNodeMinimalPolicy",
    "AmazonEC2ContainerRegistryPullOnly",
)

NodeRoleKind = Literal["managed", "auto-mode"]


def node_trust_policy() -> dict:
    """Only EC2 instances assume the node role."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


@dataclass
class NodeRoleArgs:
    """What a `NodeRole` needs."""

    role_name: str
    """Physical role name, deterministic (`<cluster>-node`, `<cluster>-auto-node`)."""
    kind: NodeRoleKind = "managed"
    """`managed`: nodes of managed node groups (the three NODE-IAM policies); `auto-mode`: nodes EKS
    Auto Mode launches (the two minimal policies). Default `managed`."""
    tags: Mapping[str, pulumi.Input[str]] | None = None
    """Tags on the role, beside the provider's default tags; default none."""

    def __post_init__(self) -> None:
        kind = choice(get_args(NodeRoleKind), "a node role kind")
        check_args(self, {"role_name": ROLE_NAME, "kind": kind, "tags": TAGS})


class NodeRole(pulumi.ComponentResource):
    """A node instance role trusted by EC2, carrying only the managed policies nodes need."""

    role: aws.iam.Role
    """The role itself (pulumi-eks takes the resource for `instance_roles` and `node_role`)."""
    arn: pulumi.Output[str]
    """ARN of the role."""
    policy_arns: list[str]
    """The managed policies attached, in order (known at construction)."""
    attachments: list[aws.iam.RolePolicyAttachment]
    """The attachments: nodes must not launch before them, or they fail to join."""

    def __init__(self, name: str, args: NodeRoleArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksgitops:cluster:NodeRole", name, None, opts)
        policies = MANAGED_NODE_POLICIES if args.kind == "managed" else AUTO_MODE_NODE_POLICIES
        self.policy_arns = [AWS_MANAGED_POLICY + policy for policy in policies]

        self.role = aws.iam.Role(
            name,
            name=args.role_name,
            assume_role_policy=json.dumps(node_trust_policy()),
            description=f"EKS worker nodes ({args.kind})",
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Named after each policy, so that turning Auto Mode on or off only adds or removes attachments.
        self.attachments = attach_policies(self, name, self.role, self.policy_arns)

        self.arn = self.role.arn
        self.register_outputs({"arn": self.arn})
