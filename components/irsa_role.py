"""`IrsaRole`: an IAM role one Kubernetes service account assumes through the cluster's OIDC issuer.

The trust names the issuer, so a rebuilt cluster (new issuer) needs this role updated:
keep it in the same program as the cluster, or prefer `PodIdentityRole`, whose trust
does not depend on the cluster.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from eksgitops.components.arg_checks import ISSUER, OIDC_PROVIDER_ARN, SERVICE_ACCOUNT_ROLE, check_args
from eksgitops.components.iam_documents import (
    irsa_trust_policy,
    issuer_host_of,
    validate_policy_document,
)
from eksgitops.components.role_policies import attach_policies


@dataclass
class IrsaRoleArgs:
    """What an `IrsaRole` needs; namespace and service account must be known up front."""

    role_name: pulumi.Input[str]
    """Physical IAM role name; deterministic, so Git (through the bridge) finds it after a rebuild."""
    oidc_provider_arn: pulumi.Input[str]
    """ARN of the cluster's IAM OIDC provider (the trusted federated principal)."""
    oidc_issuer: pulumi.Input[str]
    """The cluster's OIDC issuer, with or without https://."""
    namespace: str
    """Namespace of the service account (DNS-1123 label)."""
    service_account: str
    """Name of the service account allowed to assume the role (DNS-1123 subdomain)."""
    managed_policy_arns: Sequence[pulumi.Input[str]] = ()
    """Managed policies attached to the role; default none."""
    inline_policy: Mapping | None = None
    """An inline policy document (Version/Statement; values may be Outputs); default none."""
    tags: Mapping[str, pulumi.Input[str]] | None = None
    """Tags on the role, beside the provider's default tags; default none."""

    def __post_init__(self) -> None:
        checks = {**SERVICE_ACCOUNT_ROLE, "oidc_provider_arn": OIDC_PROVIDER_ARN, "oidc_issuer": ISSUER}
        check_args(self, checks)


class IrsaRole(pulumi.ComponentResource):
    """An IAM role for one service account through IRSA, with its policies attached."""

    role_arn: pulumi.Output[str]
    """ARN to annotate the service account with (`eks.amazonaws.com/role-arn`)."""
    role_name: pulumi.Output[str]
    """Physical name of the role."""

    def __init__(self, name: str, args: IrsaRoleArgs, opts: pulumi.ResourceOptions | None = None):
        # Fail before registering anything: a bad name would only surface as a role no pod can assume.
        if args.inline_policy is not None:
            validate_policy_document(args.inline_policy, f"{name}: inline policy")
        super().__init__("eksgitops:identity:IrsaRole", name, None, opts)

        trust = pulumi.Output.all(args.oidc_provider_arn, args.oidc_issuer).apply(
            lambda values: json.dumps(
                irsa_trust_policy(values[0], issuer_host_of(values[1]), args.namespace, args.service_account)
            )
        )
        role = aws.iam.Role(
            name,
            name=args.role_name,
            assume_role_policy=trust,
            description=f"IRSA role for {args.namespace}/{args.service_account}",
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        attach_policies(self, name, role, args.managed_policy_arns, args.inline_policy)

        self.role_arn = role.arn
        self.role_name = role.name
        self.register_outputs({"role_arn": self.role_arn, "role_name": self.role_name})
