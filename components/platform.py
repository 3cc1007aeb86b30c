"""Platform: one environment — network, EKS cluster, workload identities, GitOps agent — from one spec."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from eksgitops.components.arg_checks import Optional, check_args, instance
from eksgitops.components.cluster import EksCluster, EksClusterArgs
from eksgitops.components.fleet_escrow import FleetEscrow, FleetEscrowArgs
from eksgitops.components.gitops.agent import GitOpsAgent, GitOpsAgentArgs
from eksgitops.components.gitops.bridge_values import BridgeValues
from eksgitops.components.iam_documents import role_name_for
from eksgitops.components.irsa_role import IrsaRole, IrsaRoleArgs
from eksgitops.components.network import Network, NetworkArgs
from eksgitops.components.pod_identity_role import PodIdentityRole, PodIdentityRoleArgs
from eksgitops.components.spec import EnvironmentSpec
from eksgitops.components.spec.identities import IdentitySpec
from eksgitops.components.spec.syntax import CLUSTER_ADMIN_POLICY

# Tags every resource carries through the provider's default tags, so a cost report or
# a cleanup can find everything one environment owns.
ENVIRONMENT_TAG = "eksgitops:environment"
CLUSTER_TAG = "eksgitops:cluster"


@dataclass
class PlatformArgs:
    spec: EnvironmentSpec
    """The validated environment spec (components.spec.load_spec)."""
    escrow: FleetEscrowArgs | None = None
    """Durable escrow of the fleet repository and its Git credentials (see `FleetEscrow`);
    default None follows the spec's `escrow` key (`escrow_args_from_spec`)."""

    def __post_init__(self) -> None:
        check_args(
            self,
            {
                "spec": instance(EnvironmentSpec, "an EnvironmentSpec (components.spec.load_spec)"),
                "escrow": Optional(instance(FleetEscrowArgs, "FleetEscrowArgs")),
            },
        )


def escrow_args_from_spec(spec: EnvironmentSpec) -> FleetEscrowArgs | None:
    """The escrow a stack asks for with `eksgitops:escrow`, or None when `enabled` is not true.

    The region is always explicit (the escrow's own, else the cluster's): a cluster rebuilt
    in another region must not move, and so replace, the protected escrow with it. The
    principals that may write and restore the bundles are the stack's cluster-wide
    AmazonEKSClusterAdminPolicy entries: `dr rebuild` and `dr verify` need cluster admin, so
    whoever runs them is one of those already, and no one else reads the bundles.
    """
    escrow = spec.escrow
    if not escrow.enabled:
        return None
    return FleetEscrowArgs(
        environment=spec.environment,
        region=escrow.region or spec.region,
        secret_replica_regions=list(escrow.secret_replica_regions),
        principal_arns=[
            entry.principal_arn
            for entry in spec.access.entries
            if entry.policy_arn.endswith(f"/{CLUSTER_ADMIN_POLICY}") and not entry.namespaces
        ],
        noncurrent_version_days=escrow.bundle_retention_days,
    )


class Platform(pulumi.ComponentResource):
    """One environment: network, cluster, identities, then the GitOps agent and the bridge.

    All AWS resources go through one explicit provider for the spec's region, so a stack
    never depends on ambient `aws:region` config, and default tags reach every resource.
    """

    provider: aws.Provider
    network: Network
    cluster: EksCluster
    identity_role_arns: dict[str, pulumi.Output[str]]
    escrow: FleetEscrow | None
    account_id: pulumi.Output[str]
    gitops: GitOpsAgent

    def __init__(self, name: str, args: PlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksgitops:platform:Platform", name, None, opts)
        spec = args.spec
        self.spec = spec
        tags = {ENVIRONMENT_TAG: spec.environment, CLUSTER_TAG: spec.cluster_name, **spec.tags}
        self.provider = aws.Provider(
            f"{name}-aws",
            region=spec.region,
            default_tags=aws.ProviderDefaultTagsArgs(tags=tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=self, providers={"aws": self.provider})

        self.network = Network(
            f"{name}-network", NetworkArgs(spec=spec.network, cluster_name=spec.cluster_name), opts=child
        )
        self.cluster = EksCluster(
            f"{name}-cluster",
            EksClusterArgs(
                cluster_name=spec.cluster_name,
                kubernetes_version=spec.kubernetes_version,
                vpc_id=self.network.vpc_id,
                private_subnet_ids=self.network.private_subnet_ids,
                endpoint=spec.endpoint,
                node_egress_ips=self.network.nat_public_ips,
                control_plane=spec.control_plane,
                log_types=list(spec.logging),
                secrets_kms_key_arn=spec.secrets_kms_key_arn,
                access=spec.access,
                node_groups=list(spec.node_groups),
                auto_mode=spec.auto_mode,
                addons=spec.enabled_addons(),
                service_cidr=spec.network.service_cidr,
                tags=tags,
            ),
            opts=child,
        )
        self.identity_role_arns = {
            identity.name: self._identity(name, identity, child) for identity in spec.identities
        }
        # Durable (protected, retained on delete); the platform's provider, so its default tags,
        # but the region named on each escrow resource (see escrow_args_from_spec).
        escrow = args.escrow if args.escrow is not None else escrow_args_from_spec(spec)
        self.escrow = FleetEscrow(f"{name}-escrow", escrow, opts=child) if escrow else None
        self.account_id = aws.get_caller_identity_output(
            opts=pulumi.InvokeOptions(parent=self, provider=self.provider)
        ).account_id
        self.gitops = GitOpsAgent(
            f"{name}-gitops",
            GitOpsAgentArgs(
                gitops=spec.gitops,
                environment=spec.environment,
                cluster_name=spec.cluster_name,
                region=spec.region,
                cluster=self.cluster,
                bridge=BridgeValues(
                    environment=spec.environment,
                    cluster_name=self.cluster.cluster_name,
                    region=spec.region,
                    account_id=self.account_id,
                    vpc_id=self.network.vpc_id,
                    oidc_issuer_host=self.cluster.oidc_issuer_host,
                    identity_role_arns=self.identity_role_arns,
                    cluster_role=spec.cluster_role,
                ),
                addons=list(spec.enabled_addons()),
                cross_namespace_refs=spec.gitops.cross_namespace_refs,
                tags=tags,
            ),
            opts=child,
        )
        self.register_outputs(
            {
                "bridge": self.gitops.bridge_variables,
                "cluster_name": self.cluster.cluster_name,
                "endpoint": self.cluster.endpoint,
                "kubeconfig": self.cluster.kubeconfig,
                "oidc_issuer_url": self.cluster.oidc_issuer_url,
                "oidc_provider_arn": self.cluster.oidc_provider_arn,
                "node_role_arn": self.cluster.node_role_arn,
                "identity_role_arns": self.identity_role_arns,
            }
        )

    def _identity(
        self, name: str, identity: IdentitySpec, opts: pulumi.ResourceOptions
    ) -> pulumi.Output[str]:
        # The role name is derived, never random: Git reaches it through the bridge as
        # `<identity>_role_arn`, and a rebuilt environment must produce the same name.
        role_name = role_name_for(self.spec.cluster_name, identity.name)
        if identity.mode == "irsa":
            role = IrsaRole(
                f"{name}-{identity.name}",
                IrsaRoleArgs(
                    role_name=role_name,
                    oidc_provider_arn=self.cluster.oidc_provider_arn,
                    oidc_issuer=self.cluster.oidc_issuer_url,
                    namespace=identity.namespace,
                    service_account=identity.service_account,
                    managed_policy_arns=list(identity.managed_policy_arns),
                    inline_policy=identity.policy,
                ),
                opts=opts,
            )
            return role.role_arn
        pod_role = PodIdentityRole(
            f"{name}-{identity.name}",
            PodIdentityRoleArgs(
                role_name=role_name,
                cluster_name=self.cluster.cluster_name,
                namespace=identity.namespace,
                service_account=identity.service_account,
                managed_policy_arns=list(identity.managed_policy_arns),
                inline_policy=identity.policy,
            ),
            opts=opts,
        )
        return pod_role.role_arn

    def export_stack_outputs(self) -> None:
        """The stack outputs operators and the GitOps bridge read."""
        pulumi.export("environment", self.spec.environment)
        pulumi.export("region", self.spec.region)
        pulumi.export("clusterName", self.cluster.cluster_name)
        pulumi.export("endpoint", self.cluster.endpoint)
        pulumi.export("oidcIssuerUrl", self.cluster.oidc_issuer_url)
        pulumi.export("oidcProviderArn", self.cluster.oidc_provider_arn)
        pulumi.export("kubeconfig", pulumi.Output.secret(self.cluster.kubeconfig))
        pulumi.export("nodeRoleArn", self.cluster.node_role_arn)
        pulumi.export("vpcId", self.network.vpc_id)
        pulumi.export("identityRoleArns", self.identity_role_arns)
        if self.escrow is not None:
            pulumi.export("fleetEscrowBucket", self.escrow.bucket_name)
            pulumi.export("gitCredentialsSecretArn", self.escrow.git_credentials_secret_arn)
        # What Git reads (secret-free) and where the agent pulls from.
        pulumi.export("bridge", self.gitops.bridge_variables)
        pulumi.export("gitopsAgent", self.spec.gitops.agent)
        pulumi.export("gitopsRepoUrl", self.spec.gitops.repo_url or "")
        pulumi.export("gitopsBranch", self.spec.gitops.branch)
        pulumi.export("gitopsPath", self.spec.gitops.path or "")
