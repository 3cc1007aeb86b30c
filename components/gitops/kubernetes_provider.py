"""`ClusterKubernetesProvider`: the Kubernetes provider every in-cluster object goes through.

Its kubeconfig authenticates with `aws eks get-token` (an exec plugin), so each request
gets a fresh token and a long apply never runs on an expired one, as a static token (15
minutes) would. It depends on the cluster's access entries: the role that runs
`pulumi up` is only let in by its entry (no creator admin, EKS-ACCESS), and a provider
that talked to the cluster before that entry existed would be refused on the first apply.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from eksgitops.components.arg_checks import CLUSTER_NAME, DEPENDS_ON, REGION, check_args
from eksgitops.components.gitops_checks import CERTIFICATE, ENDPOINT

EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"


def exec_kubeconfig(cluster_name: str, endpoint: str, ca_data: str, region: str) -> str:
    """A kubeconfig (JSON) for one EKS cluster that runs `aws eks get-token` for every token."""
    user = "eksgitops"
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}
            ],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": user}}],
            "current-context": cluster_name,
            "users": [
                {
                    "name": user,
                    "user": {
                        "exec": {
                            "apiVersion": EXEC_API_VERSION,
                            "command": "aws",
                            "args": [
                                "eks",
                                "get-token",
                                "--cluster-name",
                                cluster_name,
                                "--region",
                                region,
                                "--output",
                                "json",
                            ],
                            "interactiveMode": "Never",
                        }
                    },
                }
            ],
        },
        indent=2,
    )


@dataclass
class ClusterKubernetesProviderArgs:
    """What a `ClusterKubernetesProvider` needs."""

    cluster_name: pulumi.Input[str]
    """EKS cluster name (passed to `aws eks get-token`)."""
    endpoint: pulumi.Input[str]
    """The API server URL."""
    certificate_authority: pulumi.Input[str]
    """The cluster CA, base64 (certificateAuthority.data)."""
    region: str
    """The cluster's region (passed to `aws eks get-token`, never taken from the environment)."""
    access_ready: Sequence[pulumi.Resource] = field(default_factory=list)
    """What grants the deploying role access: the cluster with its access entries (and any
    access policy association). The provider waits for all of it."""

    def __post_init__(self) -> None:
        check_args(
            self,
            {
                "cluster_name": CLUSTER_NAME,
                "endpoint": ENDPOINT,
                "certificate_authority": CERTIFICATE,
                "region": REGION,
                "access_ready": DEPENDS_ON,
            },
        )


class ClusterKubernetesProvider(pulumi.ComponentResource):
    """A `kubernetes.Provider` for one EKS cluster, exec-authenticated, after access is granted."""

    provider: k8s.Provider
    kubeconfig: pulumi.Output[str]
    """The provider's kubeconfig (a secret, like every kubeconfig the stack holds)."""

    def __init__(
        self, name: str, args: ClusterKubernetesProviderArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eksgitops:gitops:ClusterKubernetesProvider", name, None, opts)
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(args.cluster_name, args.endpoint, args.certificate_authority).apply(
                lambda v: exec_kubeconfig(str(v[0]), str(v[1]), str(v[2]), args.region)
            )
        )
        self.provider = k8s.Provider(
            name,
            # An explicit kubeconfig: the deployer's own KUBECONFIG and contexts play no part.
            kubeconfig=self.kubeconfig,
            # Server-side apply: field ownership is explicit, so Git-owned fields are not fought over.
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.access_ready)),
        )
        self.register_outputs({"kubeconfig": self.kubeconfig})
