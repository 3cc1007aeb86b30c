"""The green stack of a blue/green upgrade: the environment's stack file as dr's derive.py makes
any parallel stack, at the target version, in the slot slots.py picks.

derive.py isolates it from the live environment (own cluster name and so every AWS name the
program derives from it, escrow off without its keys, deletion protection and image
automation off, read-only Git credentials, `clusterRole: green`, the environment's fleet
path); here it also gets:

- the target Kubernetes version, with the add-on pins the target does not offer moved (pins.py);
- its slot's cluster name: `<cluster>-green`, or `<cluster>-blue` when a former green serves.

The result goes through the same spec as any stack: a refusal is a bug here, never the user's.
The environment's SOPS key is pinned by `blue_green.green_context` (it needs AWS).
"""

from __future__ import annotations

from typing import Any

from eksgitops.dr.derive import Derived, derive_parallel
from eksgitops.upgrade.pins import at_target, config_overrides

GREEN_SUFFIX = "-green"


def derive_green(raw: dict[str, Any], stack: str, target: str, suffix: str = GREEN_SUFFIX) -> Derived:
    """Green's config from the environment's `raw` (its stack file over Pulumi.yaml's defaults);
    `overrides` are the Pulumi config changes on the copied config (None removes a key)."""
    moved, moves = at_target(raw, target)
    out = derive_parallel(moved, stack, "green")
    out.overrides["eksgitops:kubernetesVersion"] = target
    out.overrides.update(config_overrides(moves))
    out.notes += [m.line(target) for m in moves]
    if suffix != GREEN_SUFFIX:
        cluster = f"{raw.get('clusterName') or f'eksgitops-{stack}'}{suffix}"
        out.raw["clusterName"] = cluster
        out.overrides["eksgitops:clusterName"] = cluster
        out.notes.append(
            f"green stack {stack}{suffix} builds cluster {cluster} (the slot beside {stack}-green)"
        )
    return out
