"""The green stack of a blue/green upgrade: blue's stack file, changed only where it must be.

Green runs beside the live environment, so everything that would collide with blue or write
to what blue owns is changed, and the result goes through the same spec as any stack (a
refusal is a bug here, never the user's file):

- its own names: the cluster `<cluster>-green` (or `-blue`, slots.py), from which the program
  derives every role, log group and add-on name (the SOPS alias and the escrow are the
  environment's: not created);
- the target Kubernetes version, with the add-on pins the target does not offer moved (pins.py);
- no escrow of its own: the whole `escrow` key goes (turning it off but keeping
  `region`/`bundleRetentionDays` is refused by the spec), the environment's stays blue's;
- deletion protection off: green is torn down when an upgrade aborts;
- image automation off and the Git credentials declared read-only: two clusters must not both
  commit image tags to the fleet (green only reads the commit blue runs);
- blue's SOPS key by ARN (green creates none);
- the environment's own fleet path (`clusters/<stack>`), not `clusters/<stack>-green`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eksgitops.upgrade.pins import at_target, config_overrides

GREEN_SUFFIX = "-green"


@dataclass
class GreenConfig:
    raw: dict[str, Any]
    """Green's config as Pulumi hands it to the program (prefix removed)."""
    set: dict[str, str] = field(default_factory=dict)
    """Config keys to set on the copied config (path syntax)."""
    remove: list[str] = field(default_factory=list)
    """Config keys to remove from the copied config (path syntax)."""
    notes: list[str] = field(default_factory=list)


def derive_green(
    raw: dict[str, Any], stack: str, target: str, sops_arn: str | None, suffix: str = GREEN_SUFFIX
) -> GreenConfig:
    """Green's config from the environment's `raw` (its stack file over Pulumi.yaml's defaults);
    `suffix` is the slot (slots.py): `-green`, or `-blue` when a former green serves."""
    moved, moves = at_target(raw, target)
    out = GreenConfig(moved)
    out.set["eksgitops:kubernetesVersion"] = target
    out.set.update(config_overrides(moves))
    out.notes += [m.line(target) for m in moves]

    cluster = f"{raw.get('clusterName') or f'eksgitops-{stack}'}{suffix}"
    out.raw["clusterName"] = cluster
    out.set["eksgitops:clusterName"] = cluster
    out.notes.append(f"green stack {stack}{suffix} builds cluster {cluster}")

    if "escrow" in out.raw:
        del out.raw["escrow"]
        out.remove.append("eksgitops:escrow")
        out.notes.append("green uses the environment's escrow and creates none")

    plane = out.raw.get("controlPlane")
    if isinstance(plane, dict) and plane.get("deletionProtection"):
        out.raw["controlPlane"] = {**plane, "deletionProtection": False}
        out.set["eksgitops:controlPlane.deletionProtection"] = "false"
        out.notes.append("green has no deletion protection: an aborted upgrade tears it down")

    gitops = out.raw.get("gitops")
    if isinstance(gitops, dict):
        gitops = dict(gitops)
        if not gitops.get("path"):
            # The environment's own fleet path, not clusters/<stack>-green.
            gitops["path"] = f"clusters/{stack}"
            out.set["eksgitops:gitops.path"] = gitops["path"]
        if gitops.get("imageAutomation"):
            gitops["imageAutomation"] = False
            out.set["eksgitops:gitops.imageAutomation"] = "false"
            out.notes.append("green runs no image automation: blue alone commits image tags")
        creds = gitops.get("credentials")
        if isinstance(creds, dict) and creds.get("readOnly") is False:
            gitops["credentials"] = {**creds, "readOnly": True}
            out.set["eksgitops:gitops.credentials.readOnly"] = "true"
            out.notes.append(
                "green's Git credentials are declared read-only; they are blue's, which image "
                "automation writes with: give the green stack a read-only deploy key for the hold"
            )
        sops = gitops.get("sops")
        if isinstance(sops, dict) and sops.get("enabled") and not sops.get("kmsKeyArn") and sops_arn:
            gitops["sops"] = {**sops, "kmsKeyArn": sops_arn}
            out.set["eksgitops:gitops.sops.kmsKeyArn"] = sops_arn
        out.raw["gitops"] = gitops
    return out
