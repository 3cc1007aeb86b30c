"""Policy attachments shared by every IAM role the components create."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

import pulumi
import pulumi_aws as aws


def attach_policies(
    parent: pulumi.Resource,
    name: str,
    role: aws.iam.Role,
    managed_policy_arns: Sequence[pulumi.Input[str]],
    inline_policy: Mapping | None = None,
) -> list[aws.iam.RolePolicyAttachment]:
    """Attach managed policies and an inline policy to `role`, each a child of `parent`.

    Every role the components create goes through here (cluster, node and workload roles),
    so attachments are named the same way everywhere. Returns the managed attachments:
    whatever uses the role must wait for them.
    """
    attachments = [
        aws.iam.RolePolicyAttachment(
            logical,
            role=role.name,
            policy_arn=managed_policy_arns[index],
            opts=pulumi.ResourceOptions(parent=parent),
        )
        for logical, index in _attachment_names(name, managed_policy_arns)
    ]
    if inline_policy is not None:
        aws.iam.RolePolicy(
            f"{name}-inline",
            role=role.name,
            name="inline",
            # from_input resolves Outputs nested in the document (a key ARN, a bucket name).
            policy=pulumi.Output.from_input(inline_policy).apply(lambda doc: json.dumps(doc)),
            opts=pulumi.ResourceOptions(parent=parent),
        )
    return attachments


def _attachment_names(name: str, arns: Sequence[pulumi.Input[str]]) -> list[tuple[str, int]]:
    # Named after the policy when its ARN is known, so reordering the list does not replace
    # attachments (briefly detaching a policy); by index only for ARNs known after apply.
    known = [arn for arn in arns if isinstance(arn, str)]
    duplicates = {arn for arn in known if known.count(arn) > 1}
    if duplicates:
        raise ValueError(f"{name}: managed policies listed twice: {sorted(duplicates)}")
    basenames = [arn.rsplit("/", 1)[-1] for arn in known]
    names: list[tuple[str, int]] = []
    for index, arn in enumerate(arns):
        if not isinstance(arn, str):
            names.append((f"{name}-policy-{index}", index))
            continue
        suffix = arn.rsplit("/", 1)[-1]
        if basenames.count(suffix) > 1:
            # The same policy name under two paths or accounts: tell them apart, stably.
            suffix = f"{suffix}-{hashlib.sha256(arn.encode()).hexdigest()[:6]}"
        names.append((f"{name}-{suffix}", index))
    return names
