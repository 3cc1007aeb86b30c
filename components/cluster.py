"""`EksCluster`: the EKS control plane and everything it needs to run workloads.

Composes, in creation order: the secrets KMS key, the cluster/node roles and the
control-plane log group → the pulumi-eks `eks.Cluster` → the before-compute add-ons → the
managed node groups → the after-compute add-ons (see `eksgitops.components.addons` for why the
add-ons come in two halves); and, beside them, the IAM OIDC provider for IRSA.

pulumi-eks is used for the control plane only: it installs no add-on, no node group, no
OIDC provider and no security group of its own, so every one of those is visible here and
has a single owner.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from eksgitops.components import type_tokens as tokens
from eksgitops.components.addons import CORE_ADDONS, ClusterAddons, ClusterAddonsArgs
from eksgitops.components.arg_checks import check_args
from eksgitops.components.cluster_checks import CLUSTER_CHECKS
from eksgitops.components.cluster_role import ClusterRole, ClusterRoleArgs
from eksgitops.components.iam_documents import AUTO_MODE_NODE_ROLE, NODE_ROLE, role_name_for
from eksgitops.components.node_group import NodeGroup, NodeGroupArgs
from eksgitops.components.node_role import NodeRole, NodeRoleArgs
from eksgitops.components.oidc_provider import OidcProvider, OidcProviderArgs
from eksgitops.components.pulumi_eks_sdk import eks
from eksgitops.components.secrets_key import SecretsKey, SecretsKeyArgs
from eksgitops.components.spec.access import AccessSpec
from eksgitops.components.spec.addons import AddonSpec, missing_node_addons
from eksgitops.components.spec.compute import AutoModeSpec, NodeGroupSpec
from eksgitops.components.spec.control_plane import ControlPlaneSpec, EndpointSpec

ALL_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
AUTO_NODE_ACCESS_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAutoNodePolicy"


@dataclass
class EksClusterArgs:
    """What an `EksCluster` needs: the cluster part of a validated `EnvironmentSpec`."""

    cluster_name: str
    """Physical cluster name; also the base of the roles' names (`<cluster>-cluster`, `<cluster>-node`)."""
    kubernetes_version: str
    """Kubernetes version of the control plane and the node groups (e.g. "1.33")."""
    vpc_id: pulumi.Input[str]
    """The VPC the cluster runs in."""
    private_subnet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Private subnets: the only subnets the cluster is given (control-plane ENIs and nodes).
    Load balancers find the public subnets by their `kubernetes.io/role/elb` tag instead."""
    endpoint: EndpointSpec = field(default_factory=EndpointSpec)
    """API server endpoint access; default private only."""
    node_egress_ips: pulumi.Input[Sequence[pulumi.Input[str]]] = ()
    """Public addresses the nodes' internet traffic leaves from (the NAT gateways'). With the
    private endpoint off they are added to the public allow-list as /32s, or nodes could not
    join; default none."""
    control_plane: ControlPlaneSpec = field(default_factory=ControlPlaneSpec)
    """Deletion protection, upgrade policy and control-plane log retention; default: off,
    STANDARD, 90 days."""
    log_types: Sequence[str] = ALL_LOG_TYPES
    """Control-plane log types sent to CloudWatch; default all five (EKS-LOGGING)."""
    secrets_kms_key_arn: str | None = None
    """An existing KMS key for secrets encryption; default None creates one with rotation on."""
    access: AccessSpec = field(default_factory=AccessSpec)
    """Authentication mode and the access entries (principal, access policy, scope)."""
    node_groups: Sequence[NodeGroupSpec] = ()
    """Managed node groups; default none (e.g. with Auto Mode)."""
    auto_mode: AutoModeSpec = field(default_factory=AutoModeSpec)
    """EKS Auto Mode and its built-in node pools; default off."""
    addons: Mapping[str, AddonSpec] | None = None
    """The managed add-ons to install, by name (`EnvironmentSpec.enabled_addons()`); default None
    installs the core ones (vpc-cni, kube-proxy, coredns) at the versions the data gives, as
    pulumi-eks and terraform-aws-eks do: without a CNI nodes never turn Ready."""
    addons_most_recent: bool = False
    """Resolve each unpinned add-on's version at deploy time (aws.eks.get_addon_version with
    most_recent) instead of taking it from the bundled data; default off (reproducible)."""
    service_cidr: str | None = None
    """Kubernetes service CIDR; default None lets EKS choose."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on everything created here, beside the provider's default tags."""

    def __post_init__(self) -> None:
        # Checked here: a mistake is one ValueError where the args are made, not mid-apply.
        check_args(self, CLUSTER_CHECKS)
        if self.addons is None:
            # Auto Mode alone runs them itself (EnvironmentSpec.enabled_addons); node groups need them.
            auto_only = self.auto_mode.enabled and not self.node_groups
            self.addons = {} if auto_only else {name: AddonSpec() for name in CORE_ADDONS}
        if self.node_groups and (
            missing := missing_node_addons(self.addons, node_groups=True, auto_mode=self.auto_mode.enabled)
        ):
            raise ValueError(
                f"EksClusterArgs.addons: lacks {', '.join(missing)}, without which the node groups' nodes "
                "never turn Ready (the cluster installs no self-managed add-ons, and Auto Mode runs them "
                "only on its own nodes); include them, or leave addons unset for the core ones"
            )


def no_creator_admin(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    """Create the EKS cluster without a permanent admin access entry for its creator.

    pulumi-eks 4.x hard-codes `accessConfig.bootstrapClusterCreatorAdminPermissions: true`
    on the `aws:eks/cluster:Cluster` it creates and offers no argument for it. Transforms
    (unlike the older transformations) reach the children of packaged components, so this
    one rewrites that input. It only matters at creation: EKS cannot change it afterwards.
    Admins then come from the spec's access entries alone, which the spec requires.
    """
    if args.type_ != tokens.AWS_EKS_CLUSTER:
        return None
    props = dict(args.props)
    # Children of packaged components reach the transform with wire (camelCase) names.
    current = props.get("accessConfig")
    access: dict[str, Any] = dict(current) if isinstance(current, Mapping) else {}
    access["bootstrapClusterCreatorAdminPermissions"] = False
    props["accessConfig"] = access
    return pulumi.ResourceTransformResult(props=props, opts=args.opts)


def access_associations_delete_first(
    args: pulumi.ResourceTransformArgs,
) -> pulumi.ResourceTransformResult | None:
    """Replace an access policy association by deleting the old one first.

    Every input of an association forces a replacement, and EKS keeps one association per
    principal and policy: associating again only changes the scope. Created first (Pulumi's
    default), the new scope is set and then deleting the old resource disassociates the
    policy, revoking the access just granted. The associations live inside pulumi-eks, so
    the option is set by a transform, which reaches packaged components' children.
    """
    if args.type_ != tokens.EKS_ACCESS_POLICY_ASSOCIATION:
        return None
    opts = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(delete_before_replace=True))
    return pulumi.ResourceTransformResult(props=args.props, opts=opts)


def access_entries(access: AccessSpec) -> dict[str, eks.AccessEntryArgs]:
    """pulumi-eks access entries, keyed by a name derived from the principal ARN.

    The key names the underlying resources, so it comes from the principal and not from the
    list position: reordering the list must not replace (briefly revoke) anyone's access.
    """
    entries: dict[str, eks.AccessEntryArgs] = {}
    for entry in access.entries:
        base = re.sub(r"[^A-Za-z0-9-]+", "-", entry.principal_arn.split(":", 5)[-1]).strip("-")
        key, suffix = base, 2
        while key in entries:
            key, suffix = f"{base}-{suffix}", suffix + 1
        scope = (
            aws.eks.AccessPolicyAssociationAccessScopeArgs(
                type="namespace", namespaces=list(entry.namespaces)
            )
            if entry.namespaces
            else aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster")
        )
        entries[key] = eks.AccessEntryArgs(
            principal_arn=entry.principal_arn,
            type=eks.AccessEntryType.STANDARD,
            access_policies={
                entry.policy_arn.rsplit("/", 1)[-1]: eks.AccessPolicyAssociationArgs(
                    policy_arn=entry.policy_arn, access_scope=scope
                )
            },
        )
    return entries


class EksCluster(pulumi.ComponentResource):
    """An EKS cluster built for GitOps: hardened control plane, roles, key, OIDC, add-ons, node groups."""

    cluster: eks.Cluster
    """The pulumi-eks cluster (a remote component: its children are not visible here)."""
    secrets_key: SecretsKey
    cluster_role: ClusterRole
    log_group: aws.cloudwatch.LogGroup
    """`/aws/eks/<cluster>/cluster`, made before the cluster so EKS writes into it with bounded retention."""
    node_role: NodeRole | None
    """Role of the managed node groups; None with Auto Mode and no node groups."""
    auto_mode_node_role: NodeRole | None
    """Role of the nodes EKS Auto Mode launches; None without Auto Mode."""
    auto_mode_node_access: aws.eks.AccessPolicyAssociation | None
    """With Auto Mode and no built-in node pools: the Auto Mode node role's EC2 access entry's
    AmazonEKSAutoNodePolicy association (EKS makes it itself only for the built-in pools'
    role); None otherwise."""
    oidc_provider: OidcProvider
    addons_before_compute: ClusterAddons
    node_groups: dict[str, NodeGroup]
    addons_after_compute: ClusterAddons

    cluster_name: pulumi.Output[str]
    """The cluster's name, from the created cluster (so users of it wait for it)."""
    endpoint: pulumi.Output[str]
    """The API server URL."""
    kubeconfig: pulumi.Output[str]
    """Kubeconfig JSON (aws eks get-token exec), always a secret."""
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer_url: pulumi.Output[str]
    """The service-account token issuer, with `https://`."""
    oidc_issuer_host: pulumi.Output[str]
    """The issuer without scheme (IRSA condition key prefix; `oidc_issuer_host` in the bridge)."""
    node_role_arn: pulumi.Output[str]
    """The managed node groups' role; with Auto Mode only, the Auto Mode node role."""
    cluster_role_arn: pulumi.Output[str]
    secrets_key_arn: pulumi.Output[str]
    cluster_security_group_id: pulumi.Output[str]
    """The security group EKS creates for the cluster, which managed nodes also use."""

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksgitops:cluster:EksCluster", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        cluster_name = args.cluster_name
        tags = dict(args.tags)
        auto = args.auto_mode.enabled

        self.secrets_key = SecretsKey(
            f"{name}-secrets",
            SecretsKeyArgs(cluster_name=cluster_name, existing_key_arn=args.secrets_kms_key_arn, tags=tags),
            opts=child,
        )
        self.cluster_role = ClusterRole(
            f"{name}-cluster-role",
            ClusterRoleArgs(cluster_name=cluster_name, auto_mode=auto, tags=tags),
            opts=child,
        )
        self.node_role = None
        if args.node_groups or not auto:
            self.node_role = NodeRole(
                f"{name}-node-role",
                NodeRoleArgs(role_name=role_name_for(cluster_name, NODE_ROLE), tags=tags),
                opts=child,
            )
        self.auto_mode_node_role = None
        if auto:
            self.auto_mode_node_role = NodeRole(
                f"{name}-auto-node-role",
                NodeRoleArgs(
                    role_name=role_name_for(cluster_name, AUTO_MODE_NODE_ROLE), kind="auto-mode", tags=tags
                ),
                opts=child,
            )

        # EKS creates this group on first write with no expiry; made first, it is ours, with a
        # retention, and the cluster waits for it (a later import would fight EKS for it).
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-control-plane-logs",
            name=f"/aws/eks/{cluster_name}/cluster",
            retention_in_days=args.control_plane.log_retention_days,
            tags=tags,
            opts=child,
        )

        self.cluster = self._control_plane(name, args)
        self.auto_mode_node_access = self._auto_mode_node_access(name, args)

        # Our own OIDC provider (pulumi-eks's is off): its thumbprint fetch needs the network at
        # deploy time and it would be one more thing hidden inside the remote component.
        issuer = self.cluster.eks_cluster.identities[0].oidcs[0].issuer
        self.oidc_provider = OidcProvider(
            f"{name}-oidc", OidcProviderArgs(issuer_url=issuer, tags=tags), opts=child
        )

        self.addons_before_compute = ClusterAddons(
            f"{name}-addons-before-compute",
            ClusterAddonsArgs(
                cluster_name=cluster_name,
                phase="before-compute",
                addons=args.addons or {},
                kubernetes_version=args.kubernetes_version,
                most_recent=args.addons_most_recent,
                depends_on=[self.cluster],
                tags=tags,
            ),
            opts=child,
        )
        self.node_groups = {}
        for spec in args.node_groups:
            assert self.node_role is not None  # created whenever there are node groups
            self.node_groups[spec.name] = NodeGroup(
                f"{name}-{spec.name}",
                NodeGroupArgs(
                    cluster=self.cluster,
                    cluster_name=cluster_name,
                    spec=spec,
                    node_role=self.node_role.role,
                    subnet_ids=args.private_subnet_ids,
                    kubernetes_version=args.kubernetes_version,
                    depends_on=[*self.addons_before_compute.addons.values(), *self.node_role.attachments],
                    tags=tags,
                ),
                opts=child,
            )
        self.addons_after_compute = ClusterAddons(
            f"{name}-addons-after-compute",
            ClusterAddonsArgs(
                cluster_name=cluster_name,
                phase="after-compute",
                addons=args.addons or {},
                kubernetes_version=args.kubernetes_version,
                most_recent=args.addons_most_recent,
                depends_on=[self.cluster, *(group.node_group for group in self.node_groups.values())],
                tags=tags,
            ),
            opts=child,
        )

        eks_cluster = self.cluster.eks_cluster
        self.cluster_name = eks_cluster.name
        self.endpoint = eks_cluster.endpoint
        self.kubeconfig = pulumi.Output.secret(self.cluster.kubeconfig_json)
        self.oidc_provider_arn = self.oidc_provider.arn
        self.oidc_issuer_url = self.oidc_provider.issuer_url
        self.oidc_issuer_host = self.oidc_provider.issuer_host
        main_node_role = self.node_role or self.auto_mode_node_role
        assert main_node_role is not None  # one of the two always exists
        self.node_role_arn = main_node_role.arn
        self.cluster_role_arn = self.cluster_role.arn
        self.secrets_key_arn = self.secrets_key.key_arn
        # With skip_default_security_groups pulumi-eks reports the security group EKS created.
        self.cluster_security_group_id = self.cluster.cluster_security_group_id
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "endpoint": self.endpoint,
                "kubeconfig": self.kubeconfig,
                "oidc_provider_arn": self.oidc_provider_arn,
                "oidc_issuer_url": self.oidc_issuer_url,
                "oidc_issuer_host": self.oidc_issuer_host,
                "node_role_arn": self.node_role_arn,
                "cluster_role_arn": self.cluster_role_arn,
                "secrets_key_arn": self.secrets_key_arn,
                "cluster_security_group_id": self.cluster_security_group_id,
            }
        )

    def _control_plane(self, name: str, args: EksClusterArgs) -> eks.Cluster:
        endpoint = args.endpoint
        auto_mode = None
        role_ready: list[pulumi.Resource] = [*self.cluster_role.attachments, self.log_group]
        if self.auto_mode_node_role is not None:
            # Our role, not pulumi-eks's (create_node_role=False), so it is visible and named.
            # EKS refuses a node role without built-in pools ("When Compute Config nodeRoleArn is
            # not null or empty, nodePool value(s) must be provided"): then none is passed, and
            # the role gets its access entry from _auto_mode_node_access instead.
            pools = list(args.auto_mode.node_pools)
            auto_mode = eks.AutoModeOptionsArgs(
                enabled=True,
                create_node_role=False,
                compute_config=eks.ClusterComputeConfigArgs(
                    node_pools=pools, node_role_arn=self.auto_mode_node_role.arn if pools else None
                ),
            )
            role_ready += self.auto_mode_node_role.attachments
        return eks.Cluster(
            name,
            name=args.cluster_name,
            version=args.kubernetes_version,
            vpc_id=args.vpc_id,
            # Private subnets only: pulumi-eks joins public_subnet_ids into the control plane's
            # subnets, which would put its ENIs in public subnets. Load balancers do not need
            # them here: they find public subnets by the kubernetes.io/role/elb tag.
            private_subnet_ids=args.private_subnet_ids,
            endpoint_private_access=endpoint.private_access,
            endpoint_public_access=endpoint.public_access,
            # pulumi-eks refuses CIDRs on a closed public endpoint; EKS treats "none" as 0.0.0.0/0.
            public_access_cidrs=self._public_access_cidrs(args) if endpoint.public_access else None,
            enabled_cluster_log_types=list(args.log_types),
            encryption_config_key_arn=self.secrets_key.key_arn,
            kubernetes_service_ip_address_range=args.service_cidr,
            # Admins come from explicit access entries only (EKS-ACCESS); the creator's implicit
            # admin entry is turned off by the no_creator_admin transform below.
            authentication_mode=eks.AuthenticationMode(args.access.authentication_mode),
            access_entries=access_entries(args.access),
            service_role=self.cluster_role.role,
            # Under API modes EKS itself creates the EC2_LINUX access entry of a managed node
            # group's role, and pulumi-eks creates none for `instance_roles` (only for the single
            # `instance_role`). Listing the role keeps pulumi-eks's own bookkeeping right, and
            # puts it in aws-auth under API_AND_CONFIG_MAP.
            instance_roles=[self.node_role.role] if self.node_role is not None else None,
            skip_default_node_group=True,
            # Managed node groups and Auto Mode use the security group EKS creates; pulumi-eks's
            # extra cluster/node groups (egress 0.0.0.0/0) would be unused.
            skip_default_security_groups=True,
            create_oidc_provider=False,
            # The add-ons are ours alone (ClusterAddons): EKS installs no self-managed
            # vpc-cni/kube-proxy/coredns (creation-time only), and pulumi-eks no add-on.
            bootstrap_self_managed_addons=False,
            use_default_vpc_cni=True,
            kube_proxy_addon_options=eks.KubeProxyAddonOptionsArgs(enabled=False),
            coredns_addon_options=eks.CoreDnsAddonOptionsArgs(enabled=False),
            auto_mode=auto_mode,
            # Explicit: unset, EKS moves a cluster at the end of standard support onto paid
            # extended support instead of upgrading it.
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type=args.control_plane.upgrade_policy),
            deletion_protection=args.control_plane.deletion_protection,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=role_ready,
                transforms=[no_creator_admin, access_associations_delete_first],
            ),
        )

    def _public_access_cidrs(self, args: EksClusterArgs) -> pulumi.Output[list[str]]:
        """The public endpoint's allow-list; without the private endpoint, nodes reach the API
        server through the NAT gateways, so their addresses are added (or nodes never join)."""
        listed = list(args.endpoint.public_access_cidrs)
        if args.endpoint.private_access:
            return pulumi.Output.from_input(listed)

        def merged(ips: Sequence[str]) -> list[str]:
            return listed + [cidr for cidr in (f"{ip}/32" for ip in ips) if cidr not in listed]

        # all() resolves each address, whether the list or its items are Outputs.
        ips = pulumi.Output.from_input(args.node_egress_ips).apply(lambda items: pulumi.Output.all(*items))
        return ips.apply(merged)

    def _auto_mode_node_access(
        self, name: str, args: EksClusterArgs
    ) -> aws.eks.AccessPolicyAssociation | None:
        """With Auto Mode and no built-in pools, let the Auto Mode node role's nodes join.

        EKS creates the node role's access entry only when the compute config names the role,
        which it may not without built-in pools; custom NodeClasses (from Git) then launch
        nodes with this role, which need an EC2 entry with AmazonEKSAutoNodePolicy (AWS docs,
        "Create a Node Class for Amazon EKS").
        """
        role = self.auto_mode_node_role
        if role is None or args.auto_mode.node_pools:
            return None
        after_cluster = pulumi.ResourceOptions(parent=self, depends_on=[self.cluster])
        entry = aws.eks.AccessEntry(
            f"{name}-auto-node",
            cluster_name=self.cluster.eks_cluster.name,
            principal_arn=role.arn,
            type="EC2",
            tags=dict(args.tags),
            opts=after_cluster,
        )
        return aws.eks.AccessPolicyAssociation(
            f"{name}-auto-node",
            cluster_name=self.cluster.eks_cluster.name,
            principal_arn=role.arn,
            policy_arn=AUTO_NODE_ACCESS_POLICY,
            access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[entry], delete_before_replace=True),
        )
