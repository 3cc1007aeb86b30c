"""`GitOpsAgent`: the agent a stack's `gitops.agent` names, with what it needs around it.

Builds the cluster's Kubernetes provider, then one of `FluxAgent` (with the SOPS key and
the Flux controllers' Pod Identity roles), `ArgoCdAgent` or `EksArgoCd`; `none` installs
nothing in the cluster. The bridge values are computed for every flavour: they are also
the stack output `bridge`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from eksgitops.components.arg_checks import CLUSTER_NAME, REGION, TAGS, check_args, flag, instance
from eksgitops.components.cluster import EksCluster
from eksgitops.components.gitops.argocd_agent import ArgoCdAgent, ArgoCdAgentArgs
from eksgitops.components.gitops.bridge_values import BridgeValues
from eksgitops.components.gitops.eks_argocd import EksArgoCd, EksArgoCdArgs
from eksgitops.components.gitops.flux_agent import FluxAgent, FluxAgentArgs
from eksgitops.components.gitops.flux_identities import FluxControllerIdentities, FluxControllerIdentitiesArgs
from eksgitops.components.gitops.kubernetes_provider import (
    ClusterKubernetesProvider,
    ClusterKubernetesProviderArgs,
)
from eksgitops.components.gitops.sops_key import SopsKey, SopsKeyArgs
from eksgitops.components.gitops_checks import AGENT
from eksgitops.components.spec.gitops import ECR_OCI_URL, GitOpsSpec


def ecr_repository_arn(oci_url: str) -> str:
    """The ECR repository ARN of an oci://<account>.dkr.ecr.<region>.amazonaws.com/<repo> address."""
    match = ECR_OCI_URL.fullmatch(oci_url)
    if match is None:
        raise ValueError(f"{oci_url!r} is not an ECR OCI address")
    partition = "aws-cn" if ".amazonaws.com.cn/" in oci_url else "aws"
    repository = oci_url.split("/", 3)[3]
    return f"arn:{partition}:ecr:{match['region']}:{match['account']}:repository/{repository}"


@dataclass
class GitOpsAgentArgs:
    """What a `GitOpsAgent` needs."""

    gitops: GitOpsSpec
    """The validated gitops section."""
    environment: str
    """Stack name."""
    cluster_name: str
    """Physical cluster name (names the agent's AWS resources)."""
    region: str
    """The cluster's region."""
    cluster: EksCluster
    """The cluster: the agent waits for all of it (access entries, node groups, add-ons)."""
    bridge: BridgeValues
    """The values Git reads."""
    addons: Sequence[str] = field(default_factory=list)
    """The cluster's add-ons (Argo CD: `enable_<addon>` labels)."""
    cross_namespace_refs: bool = False
    """Flux: relax FLUX-LOCKDOWN's no-cross-namespace-refs (default False)."""
    tags: Mapping[str, pulumi.Input[str]] | None = None
    """Tags on the AWS resources created here."""

    def __post_init__(self) -> None:
        check_args(
            self,
            {
                **AGENT,
                "cluster_name": CLUSTER_NAME,
                "region": REGION,
                "cluster": instance(EksCluster, "an EksCluster"),
                "bridge": instance(BridgeValues, "BridgeValues"),
                "cross_namespace_refs": flag,
                "tags": TAGS,
            },
        )


class GitOpsAgent(pulumi.ComponentResource):
    """The GitOps agent of one environment (Flux, Argo CD, EKS Argo CD or none)."""

    bridge_variables: pulumi.Output[dict[str, str]]
    """The bridge map (stack output `bridge`)."""
    kubernetes: ClusterKubernetesProvider | None
    sops_key: SopsKey | None
    flux_identities: FluxControllerIdentities | None
    agent: FluxAgent | ArgoCdAgent | EksArgoCd | None

    def __init__(self, name: str, args: GitOpsAgentArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksgitops:gitops:GitOpsAgent", name, None, opts)
        spec = args.gitops
        self.bridge_variables = args.bridge.variables()
        self.kubernetes = None
        self.sops_key = None
        self.flux_identities = None
        self.agent = None
        if spec.agent == "none":
            self.register_outputs({"bridge": self.bridge_variables})
            return

        eks_cluster = args.cluster.cluster.eks_cluster
        self.kubernetes = ClusterKubernetesProvider(
            f"{name}-k8s",
            ClusterKubernetesProviderArgs(
                cluster_name=args.cluster.cluster_name,
                endpoint=args.cluster.endpoint,
                certificate_authority=eks_cluster.certificate_authority.data,
                region=args.region,
                # The whole EksCluster: the deployer's access entry (inside pulumi-eks), the
                # node groups the agent's pods run on and the add-ons (DNS, CNI) they need.
                access_ready=[args.cluster],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        in_cluster = pulumi.ResourceOptions(parent=self, providers={"kubernetes": self.kubernetes.provider})

        if spec.agent == "flux":
            sops_key_arn = None
            if spec.sops.enabled:
                self.sops_key = SopsKey(
                    f"{name}-sops",
                    SopsKeyArgs(
                        cluster_name=args.cluster_name, existing_key_arn=spec.sops.kms_key_arn, tags=args.tags
                    ),
                    opts=pulumi.ResourceOptions(parent=self),
                )
                sops_key_arn = self.sops_key.key_arn
            oci_arn = ecr_repository_arn(spec.repo_url or "") if spec.source == "oci" else None
            if sops_key_arn is not None or spec.image_automation or oci_arn is not None:
                self.flux_identities = FluxControllerIdentities(
                    f"{name}-flux-identities",
                    FluxControllerIdentitiesArgs(
                        cluster_name=args.cluster_name,
                        cluster=args.cluster.cluster_name,
                        sops_key_arn=sops_key_arn,
                        image_automation=spec.image_automation,
                        oci_repository_arn=oci_arn,
                        tags=args.tags,
                    ),
                    opts=pulumi.ResourceOptions(parent=self),
                )
            self.agent = FluxAgent(
                f"{name}-flux",
                FluxAgentArgs(
                    gitops=spec,
                    bridge=args.bridge,
                    cross_namespace_refs=args.cross_namespace_refs,
                    pod_identities=self.flux_identities.role_names if self.flux_identities else {},
                    identities=[self.flux_identities] if self.flux_identities else [],
                ),
                opts=in_cluster,
            )
        elif spec.agent == "argocd":
            self.agent = ArgoCdAgent(
                f"{name}-argocd",
                ArgoCdAgentArgs(
                    gitops=spec,
                    environment=args.environment,
                    bridge_variables=self.bridge_variables,
                    addons=args.addons,
                ),
                opts=in_cluster,
            )
        else:
            self.agent = EksArgoCd(
                f"{name}-eks-argocd",
                EksArgoCdArgs(
                    gitops=spec,
                    environment=args.environment,
                    cluster_name=args.cluster_name,
                    cluster=args.cluster.cluster_name,
                    cluster_arn=eks_cluster.arn,
                    region=args.region,
                    bridge_variables=self.bridge_variables,
                    k8s_provider=self.kubernetes.provider,
                    addons=args.addons,
                    tags=args.tags,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"bridge": self.bridge_variables})
