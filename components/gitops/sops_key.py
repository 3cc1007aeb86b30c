"""`SopsKey`: the KMS key the fleet's SOPS-encrypted Secrets are encrypted to (FLUX-SOPS).

Durable on purpose: the ciphertext in Git outlives every cluster, so the key must survive
`pulumi destroy` and a rebuild. A created key is protected and retained on delete, and its
alias is derived from the cluster name alone, so a rebuilt environment (or the DR runbook)
finds it again as `alias/<cluster>-sops`. An existing key is only referenced by ARN.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from eksgitops.components.arg_checks import CLUSTER_NAME, KMS_KEY, TAGS, check_args
from eksgitops.components.secrets_key import key_with_alias


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

    def __post_init__(self) -> None:
        check_args(self, {"cluster_name": CLUSTER_NAME, "existing_key_arn": KMS_KEY, "tags": TAGS})


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
            key, alias = key_with_alias(
                self,
                name,
                description=f"SOPS decryption of the fleet's secrets for EKS cluster {args.cluster_name}",
                alias=sops_alias_name(args.cluster_name),
                tags=args.tags,
                opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True),
            )
            self.key_arn = key.arn
            self.alias_name = alias.name
        self.register_outputs({"key_arn": self.key_arn, "alias_name": self.alias_name})
