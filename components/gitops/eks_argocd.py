"""`EksArgoCd`: AWS's managed Argo CD (the EKS capability of type ARGOCD) and the fleet's root Application.

AWS runs Argo CD; the cluster holds only its objects. The capability signs users in
through IAM Identity Center and maps Identity Center groups to Argo CD roles. It does not
register the local cluster by itself: the cluster Secret names the cluster by its ARN (the
capability does not accept kubernetes.default.svc), and the capability role, whose access
entry EKS creates, gets cluster-admin through an access policy association.

Order: the capability role → namespace argocd (created here: nothing documents that EKS
creates it before the capability's first reconcile, and the Secrets below need it) → the
capability → the repository Secret, the cluster Secret and, with SSH credentials, the pinned
host keys (`argocd-ssh-known-hosts-cm`) → the root Application.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from eksgitops.components.arg_checks import CLUSTER_NAME, REGION, TAGS, check_args, instance
from eksgitops.components.gitops.argocd_objects import (
    ARGOCD_NAMESPACE,
    cluster_secret,
    known_hosts_config_map,
    repository_secret,
    root_application,
)
from eksgitops.components.gitops_checks import AGENT, CLUSTER_ARN, string_map
from eksgitops.components.iam_documents import ARGOCD_CAPABILITY_ROLE, POLICY_VERSION, role_name_for
from eksgitops.components.spec.gitops import GitOpsSpec

CAPABILITY_PRINCIPAL = "capabilities.eks.amazonaws.com"
CLUSTER_ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


def capability_trust_policy(partition: str, account_id: str, region: str, cluster_name: str) -> dict:
    """Trust for the capability role: the EKS capabilities service, for this account's cluster only.

    aws:SourceAccount keeps another account's capability from assuming the role through the
    service (the confused deputy). aws:SourceArn is checked where the service sets it
    (IfExists): the cluster itself or a capability under it.
    """
    arn = f"arn:{partition}:eks:{region}:{account_id}"
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": CAPABILITY_PRINCIPAL},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLikeIfExists": {
                        "aws:SourceArn": [
                            f"{arn}:cluster/{cluster_name}",
                            f"{arn}:capability/{cluster_name}/*",
                        ]
                    },
                },
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

    def __post_init__(self) -> None:
        check_args(
            self,
            {
                **AGENT,
                "cluster_name": CLUSTER_NAME,
                "cluster": CLUSTER_NAME,
                "cluster_arn": CLUSTER_ARN,
                "region": REGION,
                "bridge_variables": string_map("the bridge variables"),
                "k8s_provider": instance(k8s.Provider, "a pulumi_kubernetes Provider"),
                "tags": TAGS,
            },
        )


class EksArgoCd(pulumi.ComponentResource):
    """The EKS Argo CD capability with its IAM role, and the fleet's root Application."""

    capability: aws.eks.Capability
    role: aws.iam.Role
    namespace: k8s.core.v1.Namespace
    root: k8s.apiextensions.CustomResource

    def __init__(self, name: str, args: EksArgoCdArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksgitops:gitops:EksArgoCd", name, None, opts)
        spec = args.gitops
        settings = spec.eks_argocd
        assert settings.identity_center_instance_arn is not None  # validated by GitOpsSpec
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOptions(parent=self)
        account_id = aws.get_caller_identity_output(opts=invoke).account_id
        partition = aws.get_partition_output(opts=invoke).partition
        self.role = aws.iam.Role(
            f"{name}-role",
            name=role_name_for(args.cluster_name, ARGOCD_CAPABILITY_ROLE),
            assume_role_policy=pulumi.Output.all(partition, account_id).apply(
                lambda values: json.dumps(
                    capability_trust_policy(values[0], values[1], args.region, args.cluster_name)
                )
            ),
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
        labels = {"app.kubernetes.io/managed-by": "eksgitops"}
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=ARGOCD_NAMESPACE, labels=labels),
            opts=pulumi.ResourceOptions(parent=self, provider=args.k8s_provider),
        )
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
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.namespace]),
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

        in_cluster = pulumi.ResourceOptions(
            parent=self, provider=args.k8s_provider, depends_on=[self.namespace, self.capability]
        )
        repository = repository_secret(name, spec, labels, in_cluster)
        known_hosts = known_hosts_config_map(name, spec, labels, in_cluster)
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
                depends_on=[
                    self.capability,
                    admin,
                    repository,
                    cluster,
                    *([known_hosts] if known_hosts is not None else []),
                ],
            ),
        )
        self.register_outputs({"capability_arn": self.capability.arn, "role_arn": self.role.arn})
