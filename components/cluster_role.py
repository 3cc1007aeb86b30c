"""`ClusterRole`: the IAM role the EKS control plane acts as (the cluster service role)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from eksgitops.components.arg_checks import CLUSTER_NAME, TAGS, check_args, flag
from eksgitops.components.iam_documents import CLUSTER_ROLE, role_name_for
from eksgitops.components.role_policies import attach_policies

AWS_MANAGED_POLICY = "arn:aws:iam::aws:policy/"

CLUSTER_POLICIES = ("AmazonEKSClusterPolicy",)
# EKS Auto Mode runs compute, EBS, load balancers and networking from the control plane, so
# the cluster role needs these too (AWS docs: "Amazon EKS Auto Mode cluster IAM role").
AUTO_MODE_POLICIES = (
    "AmazonEKSComputePolicy",
    "AmazonEKSBlockStoragePolicy",
    "AmazonEKSLoadBalancingPolicy",
    "AmazonEKSNetworkingPolicy",
)


def cluster_trust_policy() -> dict:
    """EKS assumes the role; Auto Mode also tags the session, and plain EKS accepts that too."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }


@dataclass
class ClusterRoleArgs:
    """What a `ClusterRole` needs."""

    cluster_name: str
    """The cluster's name; the role is `<cluster>-cluster`, so people and audits can find it."""
    auto_mode: bool = False
    """Attach the four policies EKS Auto Mode requires on the cluster role; default False."""
    tags: Mapping[str, pulumi.Input[str]] | None = None
    """Tags on the role, beside the provider's default tags; default none."""

    def __post_init__(self) -> None:
        check_args(self, {"cluster_name": CLUSTER_NAME, "auto_mode": flag, "tags": TAGS})


class ClusterRole(pulumi.ComponentResource):
    """The EKS cluster service role: trusted by eks.amazonaws.com, with the AWS managed policies."""

    role: aws.iam.Role
    """The role itself (pulumi-eks `service_role` takes the resource, not its ARN)."""
    arn: pulumi.Output[str]
    """ARN of the role."""
    policy_arns: list[str]
    """The managed policies attached, in order (known at construction)."""
    attachments: list[aws.iam.RolePolicyAttachment]
    """The attachments: the cluster must wait for them, or EKS may find the role without rights."""

    def __init__(self, name: str, args: ClusterRoleArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksgitops:cluster:ClusterRole", name, None, opts)
        policies = CLUSTER_POLICIES + (AUTO_MODE_POLICIES if args.auto_mode else ())
        self.policy_arns = [AWS_MANAGED_POLICY + policy for policy in policies]

        self.role = aws.iam.Role(
            name,
            name=role_name_for(args.cluster_name, CLUSTER_ROLE),
            assume_role_policy=json.dumps(cluster_trust_policy()),
            description=f"EKS control plane of {args.cluster_name}",
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Named after each policy, so that turning Auto Mode on or off only adds or removes attachments.
        self.attachments = attach_policies(self, name, self.role, self.policy_arns)

        self.arn = self.role.arn
        self.register_outputs({"arn": self.arn})
