"""`PodIdentityRole`: an IAM role one service account gets through EKS Pod Identity.

The trust names the account, the cluster by name, the namespace and the service account
(the session tags the Pod Identity agent sets), never the cluster's ARN or issuer, so the
role survives a rebuild unchanged; the association (cluster, namespace, service account →
role) is re-created with the cluster.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from eksgitops.components.arg_checks import CLUSTER_NAME, SERVICE_ACCOUNT_ROLE, check_args, flag
from eksgitops.components.iam_documents import (
    pod_identity_trust_policy,
    validate_policy_document,
)
from eksgitops.components.role_policies import attach_policies


@dataclass
class PodIdentityRoleArgs:
    """What a `PodIdentityRole` needs; namespace and service account must be known up front."""

    role_name: pulumi.Input[str]
    """Physical IAM role name; deterministic, so Git (through the bridge) finds it after a rebuild."""
    cluster_name: pulumi.Input[str]
    """EKS cluster the association is made in; the trust accepts sessions of this cluster only."""
    namespace: str
    """Namespace of the service account (DNS-1123 label)."""
    service_account: str
    """Name of the service account that receives the role (DNS-1123 subdomain)."""
    managed_policy_arns: Sequence[pulumi.Input[str]] = ()
    """Managed policies attached to the role; default none."""
    inline_policy: Mapping | None = None
    """An inline policy document (Version/Statement; values may be Outputs); default none."""
    create_association: bool = True
    """Create the `aws.eks.PodIdentityAssociation`; False when an EKS add-on owns it through its
    own `pod_identity_associations` (two owners of one association fight). Default True."""
    tags: Mapping[str, pulumi.Input[str]] | None = None
    """Tags on the role and the association, beside the provider's default tags; default none."""

    def __post_init__(self) -> None:
        check_args(self, {**SERVICE_ACCOUNT_ROLE, "cluster_name": CLUSTER_NAME, "create_association": flag})


class PodIdentityRole(pulumi.ComponentResource):
    """An IAM role for one service account through EKS Pod Identity, with its association."""

    role_arn: pulumi.Output[str]
    """ARN of the role (what an add-on's `pod_identity_associations` takes)."""
    role_name: pulumi.Output[str]
    """Physical name of the role."""
    association_id: pulumi.Output[str | None]
    """Id of the Pod Identity association; None when `create_association` is False."""

    def __init__(self, name: str, args: PodIdentityRoleArgs, opts: pulumi.ResourceOptions | None = None):
        # Fail before registering anything: EKS would accept the names and no pod would match.
        if args.inline_policy is not None:
            validate_policy_document(args.inline_policy, f"{name}: inline policy")
        super().__init__("eksgitops:identity:PodIdentityRole", name, None, opts)

        account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        trust = pulumi.Output.all(account_id, args.cluster_name).apply(
            lambda values: json.dumps(
                pod_identity_trust_policy(values[0], values[1], args.namespace, args.service_account)
            )
        )
        role = aws.iam.Role(
            name,
            name=args.role_name,
            assume_role_policy=trust,
            description=f"EKS Pod Identity role for {args.namespace}/{args.service_account}",
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        attach_policies(self, name, role, args.managed_policy_arns, args.inline_policy)

        association_id: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        if args.create_association:
            association = aws.eks.PodIdentityAssociation(
                name,
                cluster_name=args.cluster_name,
                namespace=args.namespace,
                service_account=args.service_account,
                role_arn=role.arn,
                tags=args.tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
            association_id = association.association_id

        self.role_arn = role.arn
        self.role_name = role.name
        self.association_id = association_id
        self.register_outputs(
            {"role_arn": self.role_arn, "role_name": self.role_name, "association_id": self.association_id}
        )
