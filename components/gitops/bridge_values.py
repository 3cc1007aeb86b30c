"""The bridge: the values infrastructure hands to the manifests in Git.

Git never hard-codes what a rebuild changes (role ARNs, the OIDC issuer, the VPC id).
Flux reads these values from the ConfigMap `flux-system/cluster-vars` through
`postBuild.substituteFrom`; Argo CD from annotations on the in-cluster cluster Secret
(the GitOps Bridge convention). The keys are exactly those docs/fleet.md lists.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from eksgitops.components.arg_checks import DEPENDS_ON, NAMESPACE, check_args, instance
from eksgitops.components.gitops_checks import BRIDGE_VALUES

BRIDGE_NAMESPACE = "flux-system"
BRIDGE_CONFIGMAP = "cluster-vars"
FIXED_KEYS = (
    "environment",
    "cluster_name",
    "cluster_role",
    "region",
    "account_id",
    "vpc_id",
    "oidc_issuer_host",
)
"""The keys every environment provides, beside `<identity>_role_arn` per workload identity."""


def role_arn_key(identity: str) -> str:
    """The bridge key of an identity's role ARN: `-` becomes `_` (substitution variable names)."""
    return f"{identity.replace('-', '_')}_role_arn"


@dataclass
class BridgeValues:
    """The infrastructure values Git may refer to; each may be known only after apply."""

    environment: str
    """The stack name."""
    cluster_name: pulumi.Input[str]
    """The EKS cluster name."""
    region: str
    """The AWS region."""
    account_id: pulumi.Input[str]
    """The AWS account id."""
    vpc_id: pulumi.Input[str]
    """The VPC id."""
    oidc_issuer_host: pulumi.Input[str]
    """The OIDC issuer without https:// (IRSA trust policies in Git name it)."""
    identity_role_arns: Mapping[str, pulumi.Input[str]]
    """Role ARN of each workload identity, by identity name."""
    cluster_role: str = "primary"
    """primary, drill or green (spec `clusterRole`): the fleet turns writers off outside primary."""

    def __post_init__(self) -> None:
        check_args(self, BRIDGE_VALUES)

    def variables(self) -> pulumi.Output[dict[str, str]]:
        """The bridge as one flat map of strings, in the documented key order."""
        values: dict[str, pulumi.Input[str]] = {
            "environment": self.environment,
            "cluster_name": self.cluster_name,
            "cluster_role": self.cluster_role,
            "region": self.region,
            "account_id": self.account_id,
            "vpc_id": self.vpc_id,
            "oidc_issuer_host": self.oidc_issuer_host,
        }
        for name, arn in self.identity_role_arns.items():
            values[role_arn_key(name)] = arn
        return pulumi.Output.all(**values).apply(lambda resolved: {k: str(v) for k, v in resolved.items()})


@dataclass
class FluxBridgeArgs:
    """What a `FluxBridge` needs."""

    values: BridgeValues
    """The values to hand over."""
    namespace: pulumi.Input[str] = BRIDGE_NAMESPACE
    """Namespace of the ConfigMap (Flux's own); default flux-system."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What the ConfigMap waits for, e.g. its Namespace (a component's own dependencies do
    not reach its children)."""

    def __post_init__(self) -> None:
        values = instance(BridgeValues, "BridgeValues")
        check_args(self, {"values": values, "namespace": NAMESPACE, "depends_on": DEPENDS_ON})


class FluxBridge(pulumi.ComponentResource):
    """The ConfigMap `flux-system/cluster-vars` that the fleet's Kustomizations substitute from."""

    config_map: k8s.core.v1.ConfigMap
    variables: pulumi.Output[dict[str, str]]
    """The data of the ConfigMap (also the stack output `bridge`)."""

    def __init__(self, name: str, args: FluxBridgeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksgitops:gitops:FluxBridge", name, None, opts)
        self.variables = args.values.variables()
        self.config_map = k8s.core.v1.ConfigMap(
            name,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=BRIDGE_CONFIGMAP,
                namespace=args.namespace,
                labels={"app.kubernetes.io/managed-by": "eksgitops"},
            ),
            data=self.variables,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )
        self.register_outputs({"variables": self.variables})
