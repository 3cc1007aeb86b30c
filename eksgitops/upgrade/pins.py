"""Add-on pins that move with the Kubernetes version.

A pinned add-on version is offered for some Kubernetes minors only (`known` in
components/data/addon_versions.json), and often no version is known for both the current
minor and the next: a pin could then never pass the spec before *and* after an edit of
`kubernetesVersion` alone. So an upgrade moves such a pin in the same edit, to the target's
default, and says so; a pin the target still offers stays as the user chose it, and a pin for
which the data has no entry at the target stays too (the check warns about it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eksgitops.components.spec.data import default_addon_version, known_addon_versions


@dataclass(frozen=True)
class PinMove:
    addon: str
    old: str
    new: str

    def line(self, target: str) -> str:
        return (
            f"{self.addon}: pinned {self.old} is not offered for {target}; "
            f"the upgrade moves the pin to {self.new}"
        )


def pin_moves(raw: dict[str, Any], target: str) -> list[PinMove]:
    """The pins of `raw` (the stack's config) that the target does not offer, with their new version."""
    addons = raw.get("addons")
    moves: list[PinMove] = []
    if not isinstance(addons, dict):
        return moves
    for name, entry in sorted(addons.items()):
        pin = entry.get("version") if isinstance(entry, dict) else None
        if not isinstance(pin, str) or not pin:
            continue
        known = known_addon_versions(str(name), target)
        new = default_addon_version(str(name), target)
        if known is None or new is None or pin in known:
            continue
        moves.append(PinMove(str(name), pin, new))
    return moves


def at_target(raw: dict[str, Any], target: str) -> tuple[dict[str, Any], list[PinMove]]:
    """`raw` as the upgrade leaves it: kubernetesVersion = target, and the pins that must move, moved."""
    moves = pin_moves(raw, target)
    moved: dict[str, Any] = {**raw, "kubernetesVersion": target}
    if moves:
        addons = dict(raw["addons"])
        for move in moves:
            addons[move.addon] = {**addons[move.addon], "version": move.new}
        moved["addons"] = addons
    return moved, moves


def config_overrides(moves: list[PinMove]) -> dict[str, str]:
    """The moves as Pulumi config paths (`pulumi config set --path`), for a stack whose config is copied."""
    return {f"eksgitops:addons.{m.addon}.version": m.new for m in moves}
