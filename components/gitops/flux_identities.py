"""`FluxControllerIdentities`: the AWS permissions of the Flux controllers, through Pod Identity.

Each controller gets only what its job needs, on its own service account in flux-system:
- kustomize-controller: kms:Decrypt/DescribeKey on the one SOPS key (FLUX-SOPS);
- image-reflector-controller: read ECR (image automation scans tags);
- source-controller: read the fleet's ECR repository (source oci).
Pod Identity (not IRSA) so the roles survive a cluster rebuild unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from eksgitops.components.arg_checks import CLUSTER_NAME, KMS_KEY, TAGS, Optional, check_args, flag
from eksgitops.components.gitops_checks import OCI_REPOSITORY_ARN
from eksgitops.components.iam_documents import FLUX_CONTROLLER_ROLES, POLICY_VERSION, role_name_for
from eksgitops.components.pod_identity_role import PodIdentityRole, PodIdentityRoleArgs

FLUX_NAMESPACE = "flux-system"
ECR_READ_ONLY = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"


def sops_decrypt_policy(key_arn: pulumi.Input[str]) -> dict:
    """Decrypt with one key and nothing else."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [{"Effect": "Allow", "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": key_arn}],
    }


def ecr_pull_policy(repository_arn: pulumi.Input[str]) -> dict:
    """Pull one ECR repository (GetAuthorizationToken has no resource scope)."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:DescribeImages"],
                "Resource": repository_arn,
            },
        ],
    }


@dataclass
class FluxControllerIdentitiesArgs:
    """What `FluxControllerIdentities` needs; each role is created only when its feature is on."""

    cluster_name: str
    """Physical cluster name; roles are `<cluster>-flux-<controller>`."""
    cluster: pulumi.Input[str]
    """The created cluster's name (so the associations wait for the cluster)."""
    sops_key_arn: pulumi.Input[str] | None = None
    """The SOPS key: kustomize-controller may decrypt with it. None: no role."""
    image_automation: bool = False
    """image-reflector-controller may read ECR."""
    oci_repository_arn: pulumi.Input[str] | None = None
    """The fleet's ECR repository (source oci): source-controller may pull it. None: no role."""
    tags: Mapping[str, pulumi.Input[str]] | None = None
    """Tags on the roles and associations."""

    def __post_init__(self) -> None:
        check_args(
            self,
            {
                "cluster_name": CLUSTER_NAME,
                "cluster": CLUSTER_NAME,
                "sops_key_arn": KMS_KEY,
                "image_automation": flag,
                "oci_repository_arn": Optional(OCI_REPOSITORY_ARN),
                "tags": TAGS,
            },
        )


class FluxControllerIdentities(pulumi.ComponentResource):
    """Pod Identity roles for the Flux controllers that call AWS."""

    role_arns: dict[str, pulumi.Output[str]]
    """Role ARN by controller (service account) name."""
    role_names: dict[str, str]
    """Role name by controller (service account) name: the association set, known at plan time."""

    def __init__(
        self, name: str, args: FluxControllerIdentitiesArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("eksgitops:gitops:FluxControllerIdentities", name, None, opts)
        wanted: dict[str, tuple[list[str], dict | None]] = {}
        if args.sops_key_arn is not None:
            wanted["kustomize-controller"] = ([], sops_decrypt_policy(args.sops_key_arn))
        if args.image_automation:
            wanted["image-reflector-controller"] = ([ECR_READ_ONLY], None)
        if args.oci_repository_arn is not None:
            wanted["source-controller"] = ([], ecr_pull_policy(args.oci_repository_arn))
        self.role_arns = {}
        self.role_names = {}
        for controller, (managed, inline) in wanted.items():
            # Reserved in the spec, so no workload identity takes the name.
            assert f"flux-{controller}" in FLUX_CONTROLLER_ROLES
            self.role_names[controller] = role_name_for(args.cluster_name, f"flux-{controller}")
            role = PodIdentityRole(
                f"{name}-{controller}",
                PodIdentityRoleArgs(
                    role_name=self.role_names[controller],
                    cluster_name=args.cluster,
                    namespace=FLUX_NAMESPACE,
                    service_account=controller,
                    managed_policy_arns=managed,
                    inline_policy=inline,
                    tags=args.tags,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.role_arns[controller] = role.role_arn
        self.register_outputs({"role_arns": self.role_arns})
