"""`SopsKey`: the KMS key the fleet's SOPS-encrypted Secrets are encrypted to (FLUX-SOPS).

Durable on purpose: the ciphertext in Git outlives every cluster, so the key must survive
`pulumi destroy` and a rebuild. A created key is protected and retained on delete, and its
alias is derived from the cluster name alone, so a rebuilt environment (or the DR runbook)
finds it again as `alias/<cluster>-sops`. An existing key is only referenced by ARN.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.secrets_key import secrets_key_policy


def sops_alias_name(cluster_name: str) -> str:
    """The deterministic alias of a created SOPS key."""
    return f"alias/{cluster_name}-sops"


@dataclass
class SopsKeyArgs:
    """What a `SopsKey` needs."""

    cluster_name: str
    """The cluster whose fleet the key decrypts; names the alias `alias/<cluster>-sops`."""
    existing_key_arn: str | None = None
    """An existing key ARN to reference (never managed); default None creates one."""
    tags: Mapping[str, pulumi.Input[str]] | None = None
    """Tags on a created key, beside the provider's default tags; default none."""


class SopsKey(pulumi.ComponentResource):
    """A symmetric KMS key with rotation, protected and retained on delete; or an existing ARN."""

    key_arn: pulumi.Output[str]
    """ARN of the key (what `.sops.yaml` in Git and the controller's policy name)."""
    alias_name: pulumi.Output[str | None]
    """`alias/<cluster>-sops` for a created key; None for an existing one."""

    def __init__(self, name: str, args: SopsKeyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("eksgitops:gitops:SopsKey", name, None, opts)
        if args.existing_key_arn is not None:
            self.key_arn = pulumi.Output.from_input(args.existing_key_arn)
            self.alias_name = pulumi.Output.from_input(None)
        else:
            invoke = pulumi.InvokeOptions(parent=self)
            account_id = aws.get_caller_identity_output(opts=invoke).account_id
            partition = aws.get_partition_output(opts=invoke).partition
            durable = pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True)
            key = aws.kms.Key(
                name,
                description=f"SOPS decryption of the fleet's secrets for EKS cluster {args.cluster_name}",
                key_usage="ENCRYPT_DECRYPT",
                customer_master_key_spec="SYMMETRIC_DEFAULT",
                enable_key_rotation=True,
                deletion_window_in_days=30,
                # Root administers through IAM; the controller's role gets decrypt by its own policy.
                policy=pulumi.Output.all(partition, account_id).apply(
                    lambda values: json.dumps(secrets_key_policy(values[0], values[1]))
                ),
                tags=args.tags,
                opts=durable,
            )
            alias = aws.kms.Alias(
                name,
                name=sops_alias_name(args.cluster_name),
                target_key_id=key.arn,
                opts=durable,
            )
            self.key_arn = key.arn
            self.alias_name = alias.name
        self.register_outputs({"key_arn": self.key_arn, "alias_name": self.alias_name})
