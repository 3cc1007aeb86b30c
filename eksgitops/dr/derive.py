"""Derived stacks: the parallel clusters a drill (`<stack>-drill`) and an upgrade (`<stack>-green`)
build beside the environment's own, from the environment's stack file.

A derived stack must be a stack the spec accepts (it is validated like any other, under its
own name): one the spec refuses is a bug here, never in the user's file. It is isolated
from the live environment:

- its own cluster name, so every AWS name derived from it (roles, node groups, log group,
  KMS aliases) is its own;
- no escrow of its own (the environment's is read, and is protected): `escrow` becomes
  `{enabled: false}` and the keys only an enabled escrow may carry are removed;
- deletion protection off, so a drill can always be torn down;
- image automation off and the Git credentials read-only: nothing in it writes to Git;
- the environment's fleet path (`clusters/<stack>`), so it applies what a recovery would;
- `clusterRole` (bridge key `cluster_role`) `drill` or `green`, so that writers in the fleet
  (external-dns, …) can tell it from the primary and stand down (docs/runbooks/disaster-recovery.md);
- the environment's SOPS key (`environment_sops_key`, which needs AWS), since the fleet's
  secrets are encrypted for it.

`overrides` are the Pulumi config changes to make on the derived stack after its config is
copied from the environment's (path syntax); a value of None removes the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eksgitops.dr.aws import AwsClients, error_text

CLUSTER_ROLES = ("primary", "drill", "green")
"""The bridge's `cluster_role`: the environment's own cluster, a drill's, an upgrade's green."""


class DeriveError(Exception):
    """The environment's durable resource a derived stack reuses could not be found."""


@dataclass
class Derived:
    """A derived stack's config, and how it differs from the environment's (for `pulumi config`)."""

    raw: dict[str, Any]
    overrides: dict[str, str | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    environment_escrow: dict[str, Any] | None = None
    """The environment's escrow settings, when the derived stack turned its own off."""


def derive_parallel(raw: dict[str, Any], stack: str, role: str) -> Derived:
    """`raw` (the environment `stack`'s config) as the parallel cluster of `role` (drill, green)."""
    if role not in CLUSTER_ROLES[1:]:
        raise ValueError(f"role {role!r}: one of {', '.join(CLUSTER_ROLES[1:])}")
    out = Derived({**raw})
    _escrow(out, role)
    base = raw.get("clusterName") or f"eksgitops-{stack}"
    _set(out, ("clusterName",), f"{base}-{role}")
    out.notes.append(f"{role} builds cluster {base}-{role}")
    gitops = raw.get("gitops")
    if isinstance(gitops, dict):
        if not gitops.get("path"):
            # The environment's own fleet path, not clusters/<stack>-<role>.
            _set(out, ("gitops", "path"), f"clusters/{stack}")
        if gitops.get("imageAutomation") is True:
            _set(out, ("gitops", "imageAutomation"), False)
            out.notes.append(f"the {role} runs no image automation (it must not push to Git)")
        creds = gitops.get("credentials")
        if isinstance(creds, dict) and creds.get("readOnly") is False:
            _set(out, ("gitops", "credentials", "readOnly"), True)
    control = raw.get("controlPlane")
    if isinstance(control, dict) and control.get("deletionProtection") is True:
        _set(out, ("controlPlane", "deletionProtection"), False)
        out.notes.append(f"the {role} cluster has no deletion protection (it is torn down)")
    _set(out, ("clusterRole",), role)
    return out


def _escrow(out: Derived, role: str) -> None:
    escrow = out.raw.get("escrow")
    if not (isinstance(escrow, dict) and escrow.get("enabled") is True):
        return
    # The escrow is the environment's, named after it: the derived stack reads it (preflight,
    # a rebuild from escrow) but must not create a second, protected one. Only `enabled` is
    # kept: the spec refuses region/retention/replicas on an escrow that is off.
    out.environment_escrow = dict(escrow)
    out.raw["escrow"] = {"enabled": False}
    out.overrides["eksgitops:escrow.enabled"] = "false"
    for key in sorted(escrow):
        if key != "enabled":
            out.overrides[f"eksgitops:escrow.{key}"] = None
    out.notes.append(f"the {role} uses the environment's escrow and creates none")


def _set(out: Derived, path: tuple[str, ...], value: Any) -> None:
    """Set raw[path] (copying each level, the environment's dicts stay as they were) and its override."""
    node = out.raw
    for key in path[:-1]:
        child = node.get(key)
        node[key] = dict(child) if isinstance(child, dict) else {}
        node = node[key]
    node[path[-1]] = value
    text = value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
    out.overrides["eksgitops:" + ".".join(path)] = text


def environment_sops_key(raw: dict[str, Any], environment_cluster: str, aws: AwsClients) -> Derived:
    """Pin the derived stack's SOPS key to the environment's (the fleet's secrets are encrypted for it).

    With SOPS on and no `kmsKeyArn`, the environment's stack made `alias/<cluster>-sops`; the
    derived stack would make its own under its own cluster name, which decrypts nothing.
    """
    from eksgitops.components.gitops.sops_key import sops_alias_name

    out = Derived({**raw})
    gitops = raw.get("gitops")
    sops = gitops.get("sops") if isinstance(gitops, dict) else None
    if not (isinstance(sops, dict) and sops.get("enabled") is True and not sops.get("kmsKeyArn")):
        return out
    alias = sops_alias_name(environment_cluster)
    try:
        arn = aws.client("kms").describe_key(KeyId=alias)["KeyMetadata"]["Arn"]
    except Exception as exc:
        raise DeriveError(f"the environment's SOPS key {alias}: {error_text(exc)}") from None
    _set(out, ("gitops", "sops", "kmsKeyArn"), arn)
    out.notes.append(f"decrypts with the environment's SOPS key {alias}")
    return out
