"""`EksArgoCd`: AWS's managed Argo CD (the EKS capability of type ARGOCD) and the fleet's root Application.

AWS runs Argo CD; the cluster holds only its objects. The capability signs users in
through IAM Identity Center and maps Identity Center groups to Argo CD roles. It does not
register the local cluster by itself: the cluster Secret names the cluster by its ARN (the
capability does not accept kubernetes.default.svc), and the capability role, whose access
entry EKS creates, gets cluster-admin through an access policy association.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.gitops.argocd_objects import (
    ARGOCD_NAMESPACE,
    cluster_secret,
    repository_secret,
    root_application,
)
from components.iam_documents import ARGOCD_CAPABILITY_ROLE, POLICY_VERSION, role_name_for
from components.spec.gitops import GitOpsSpec

CAPABILITY_PRINCIPAL = "capabilities.eks.amazonaws.com"
CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


def capability_trust_policy() -> dict:
    """Trust for an EKS capability role: the EKS capabilities service assumes it and tags the session."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": CAPABILITY_PRINCIPAL},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
            }
        ],
    }


@dataclass
class EksArgoCdArgs:
    """What an `EksArgoCd` needs."""

    gitops: GitOpsSpec
    """The validated gitops section (agent eks-argocd)."""
    environment: str
    """Stack name."""
    cluster_name: str
    """Physical cluster name (the role is `<cluster>-argocd-capability`)."""
    cluster: pulumi.Input[str]
    """The created cluster's name (so the capability waits for the cluster)."""
    cluster_arn: pulumi.Input[str]
    """The cluster ARN: the managed Argo CD's name for the local cluster."""
    region: str
    """The cluster's region (Identity Center's region when not set in the spec)."""
    bridge_variables: pulumi.Input[Mapping[str, str]]
    """The bridge, as annotations of the in-cluster cluster Secret."""
    k8s_provider: k8s.Provider
    """The cluster's Kubernetes provider, for the in-cluster objects."""
    addons: Sequence[str] = field(default_factory=list)
    """Add-ons of the cluster, as `enable_<addon>` labels."""
    tags: Mapping[str, pulumi.Input[str]] | None = None
    """Tags on the AWS resources."""


class EksArgoCd(pulumi.ComponentResource):
    """The EKS Argo CD capability with its IAM role, and the fleet's root Application."""

    capability: aws.eks.Capability
    role: aws.iam.Role
    root: k8s.apiextensions.CustomResource

    def __init__(self, name: str, args: EksArgoCdArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksgitops:gitops:EksArgoCd", name, None, opts)
        spec = args.gitops
        settings = spec.eks_argocd
        assert settings.identity_center_instance_arn is not None  # validated by GitOpsSpec
        child = pulumi.ResourceOptions(parent=self)
        self.role = aws.iam.Role(
            f"{name}-role",
            name=role_name_for(args.cluster_name, ARGOCD_CAPABILITY_ROLE),
            assume_role_policy=json.dumps(capability_trust_policy()),
            description=f"EKS Argo CD capability of {args.cluster_name}",
            tags=args.tags,
            opts=child,
        )
        mappings = [
            aws.eks.CapabilityConfigurationArgoCdRbacRoleMappingArgs(
                role=role,
                identities=[
                    aws.eks.CapabilityConfigurationArgoCdRbacRoleMappingIdentityArgs(
                        id=group, type="SSO_GROUP"
                    )
                    for group in groups
                ],
            )
            for role, groups in (("ADMIN", settings.admin_group_ids), ("VIEWER", settings.viewer_group_ids))
            if groups
        ]
        self.capability = aws.eks.Capability(
            name,
            capability_name="argocd",
            cluster_name=args.cluster,
            type="ARGOCD",
            role_arn=self.role.arn,
            # RETAIN is the only policy EKS offers: Argo CD's objects stay in the cluster.
            delete_propagation_policy="RETAIN",
            configuration=aws.eks.CapabilityConfigurationArgs(
                argo_cd=aws.eks.CapabilityConfigurationArgoCdArgs(
                    namespace=ARGOCD_NAMESPACE,
                    aws_idc=aws.eks.CapabilityConfigurationArgoCdAwsIdcArgs(
                        idc_instance_arn=settings.identity_center_instance_arn,
                        idc_region=settings.identity_center_region or args.region,
                    ),
                    rbac_role_mappings=mappings or None,
                )
            ),
            tags=args.tags,
            opts=child,
        )
        # EKS creates the capability role's access entry with no Kubernetes permissions.
        admin = aws.eks.AccessPolicyAssociation(
            f"{name}-cluster-admin",
            cluster_name=args.cluster,
            principal_arn=self.role.arn,
            policy_arn=CLUSTER_ADMIN_POLICY,
            access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.capability]),
        )

        labels = {"app.kubernetes.io/managed-by": "eksgitops"}
        in_cluster = pulumi.ResourceOptions(
            parent=self, provider=args.k8s_provider, depends_on=[self.capability]
        )
        repository = repository_secret(name, spec, labels, in_cluster)
        cluster = cluster_secret(
            name,
            environment=args.environment,
            server=args.cluster_arn,
            variables=args.bridge_variables,
            addons=args.addons,
            labels=labels,
            opts=in_cluster,
        )
        self.root = root_application(
            name,
            spec,
            destination_server=args.cluster_arn,
            labels=labels,
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.k8s_provider,
                depends_on=[self.capability, admin, repository, cluster],
            ),
        )
        self.register_outputs({"capability_arn": self.capability.arn, "role_arn": self.role.arn})
