"""`SecretsKey`: the customer KMS key EKS envelope-encrypts Kubernetes secrets with (EKS-SECRETS-KMS)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from eksgitops.components.arg_checks import CLUSTER_NAME, KMS_KEY, TAGS, check_args


def secrets_key_policy(partition: str, account_id: str) -> dict:
    """The account's default key policy: the account root administers the key through IAM.

    Keeping root in the policy is what stops the key from becoming unmanageable, and it lets
    IAM policies (the cluster creator's kms:CreateGrant/DescribeKey) decide who else uses it.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EnableAccountRootAdministration",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


def key_with_alias(
    owner: pulumi.Resource,
    name: str,
    *,
    description: str,
    alias: str,
    tags: Mapping[str, pulumi.Input[str]] | None,
    opts: pulumi.ResourceOptions,
    region: pulumi.Input[str] | None = None,
) -> tuple[aws.kms.Key, aws.kms.Alias]:
    """A symmetric customer key with rotation on, the account's default policy and an alias.

    Shared by the keys this project creates (Kubernetes secrets, SOPS): each caller chooses
    the options (a SOPS key is protected and kept on delete).
    """
    invoke = pulumi.InvokeOptions(parent=owner)
    account_id = aws.get_caller_identity_output(opts=invoke).account_id
    partition = aws.get_partition_output(opts=invoke).partition
    key = aws.kms.Key(
        name,
        region=region,  # None: the provider's region
        description=description,
        key_usage="ENCRYPT_DECRYPT",
        customer_master_key_spec="SYMMETRIC_DEFAULT",
        enable_key_rotation=True,
        # Deleting the key makes everything encrypted to it unreadable: keep the longest
        # window to notice a mistake.
        deletion_window_in_days=30,
        # Root administers through IAM; users of the key get it by their own IAM policies.
        policy=pulumi.Output.all(partition, account_id).apply(
            lambda values: json.dumps(secrets_key_policy(values[0], values[1]))
        ),
        tags=tags,
        opts=opts,
    )
    # A key ARN or id; the ARN is what the cluster uses too.
    return key, aws.kms.Alias(name, region=region, name=alias, target_key_id=key.arn, opts=opts)


@dataclass
class SecretsKeyArgs:
    """What a `SecretsKey` needs."""

    cluster_name: str
    """The cluster the key protects; names the alias `alias/<cluster>-eks-secrets`."""
    existing_key_arn: str | None = None
    """An existing key's ARN to use as is (its rotation is its owner's business); default None
    creates a key with rotation on."""
    tags: Mapping[str, pulumi.Input[str]] | None = None
    """Tags on the key, beside the provider's default tags; default none."""

    def __post_init__(self) -> None:
        check_args(self, {"cluster_name": CLUSTER_NAME, "existing_key_arn": KMS_KEY, "tags": TAGS})


class SecretsKey(pulumi.ComponentResource):
    """A symmetric customer KMS key with rotation on and an alias, or a pass-through of an existing ARN."""

    key_arn: pulumi.Output[str]
    """ARN of the key (what `encryption_config_key_arn` takes)."""
    alias_name: pulumi.Output[str | None]
    """`alias/<cluster>-eks-secrets` for a created key; None for an existing one."""

    def __init__(self, name: str, args: SecretsKeyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksgitops:cluster:SecretsKey", name, None, opts)
        if args.existing_key_arn is not None:
            # Someone else's key: reference it, never manage it.
            self.key_arn = pulumi.Output.from_input(args.existing_key_arn)
            self.alias_name = pulumi.Output.from_input(None)
        else:
            key, alias = key_with_alias(
                self,
                name,
                description=f"Envelope encryption of Kubernetes secrets in EKS cluster {args.cluster_name}",
                alias=f"alias/{args.cluster_name}-eks-secrets",
                tags=args.tags,
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.key_arn = key.arn
            self.alias_name = alias.name
        self.register_outputs({"key_arn": self.key_arn, "alias_name": self.alias_name})
