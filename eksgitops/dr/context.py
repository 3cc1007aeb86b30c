"""The stack a dr command works on: its validated spec, its config and the plan's outputs.

A mistake on the command line or in the stack file raises `DrUsageError` with one line
per mistake (exit 2) before anything is created or written.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eksgitops.components.spec import EnvironmentSpec, SpecError, load_spec
from eksgitops.components.spec.base import DNS_LABEL
from eksgitops.components.spec.data import region_partition
from eksgitops.components.spec.escrow import EscrowSpec
from eksgitops.components.spec.read import stack_config
from eksgitops.dr.derive import derive_parallel
from eksgitops.dr.report import Model

DRILL_SUFFIX = "-drill"


class DrUsageError(Exception):
    """A mistake on the command line or in the stack file: print the lines, exit 2."""

    def __init__(self, lines: list[str] | str):
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        super().__init__("\n".join(self.lines))


class DrFailure(Exception):
    """The world is not as a recovery needs it (a check failed, a wait timed out): exit 1."""


@dataclass
class StackContext:
    """Everything a dr command knows about a stack before it touches the world."""

    stack: str
    """The Pulumi stack the command acts on (STACK, or STACK-drill for a drill)."""
    spec: EnvironmentSpec
    """The validated spec, with --region applied."""
    raw: dict[str, Any]
    """The stack's config as Pulumi would hand it over (prefix removed, secrets as markers)."""
    stack_file: Path
    project_dir: Path
    build_dir: Path
    source_stack: str = ""
    """The stack whose file the config came from (differs from `stack` for a drill)."""
    notes: list[str] = field(default_factory=list)
    """What the command changed on the way (a region move), for the report."""
    overrides: dict[str, str | None] = field(default_factory=dict)
    """Pulumi config to set on the stack before `up` ({"eksgitops:region": ...}, path syntax);
    None removes the key (one the copied environment config has and the derived stack must not)."""
    environment_escrow: EscrowSpec | None = None
    """The environment's escrow when it differs from `spec.escrow` (a drill creates none)."""

    @property
    def escrow(self) -> EscrowSpec:
        """The environment's escrow settings (`eksgitops:escrow`): where its bundle and secret are."""
        return self.environment_escrow or self.spec.escrow

    @property
    def escrow_region(self) -> str:
        """The region of the environment's escrow bucket and secret."""
        return self.escrow.region or self.spec.region

    @property
    def environment(self) -> str:
        """The environment whose durable resources (escrow, fleet path) the stack uses."""
        return self.source_stack or self.stack

    def bridge(self) -> dict[str, Any] | None:
        """`build/<stack>/bridge.json` from `eksgitops plan`, or None if the plan has not run."""
        path = self.build_dir / self.environment / "bridge.json"
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def model(self) -> Model:
        """The plan's critical path for the stack (no model when the plan has not written one)."""
        return Model.load(self.build_dir, self.environment)


def load_stack(
    stack: str,
    *,
    stacks_dir: Path,
    project_dir: Path,
    build_dir: Path,
    command: str,
    region: str | None = None,
    drill: bool = False,
    program: str = "eksgitops dr",
    suffix: str = DRILL_SUFFIX,
) -> StackContext:
    """Read and validate `stacks/Pulumi.<stack>.yaml` (over Pulumi.yaml's defaults), as Pulumi would.

    `region` moves the environment to another region (the region-lost scenario): zones
    named in the spec keep their letter (eu-west-1a -> eu-central-1a). `drill` makes the
    parallel stack `<stack><suffix>` (`-drill`; an upgrade's green uses `-green`) with its own
    cluster name, beside the environment's. `program` starts every message
    (another command group, such as `eksgitops upgrade`, reads stacks the same way).
    """
    prefix = f"{program} {command}"
    if not DNS_LABEL.fullmatch(stack) or len(stack) > 63:
        raise DrUsageError(
            f"{prefix}: STACK {stack!r}: not a stack name; a DNS-1123 label such as dev (a-z, 0-9, -)"
        )
    if region is not None and region_partition(region) is None:
        raise DrUsageError(
            f"{prefix}: --region {region!r}: not an AWS region name; a region such as eu-west-1"
        )
    stack_file = stacks_dir / f"Pulumi.{stack}.yaml"
    if not stack_file.is_file():
        available = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in stacks_dir.glob("Pulumi.*.yaml"))
        raise DrUsageError(
            f"{prefix}: STACK {stack!r}: no stack file {stack_file}; "
            f"available: {', '.join(available) or f'none in {stacks_dir}/'}"
        )
    try:
        raw = stack_config(stack_file, project_dir / "Pulumi.yaml")
    except SpecError as err:
        raise DrUsageError(err.lines) from None

    notes: list[str] = []
    overrides: dict[str, str | None] = {}
    target_stack = stack + suffix if drill else stack
    if region is not None and region != raw.get("region"):
        before = raw
        raw, moved = _move_region(raw, region, prefix)
        notes += moved
        overrides.update({"eksgitops:region": region, "aws:region": region})
        zones = (raw.get("network") or {}).get("availabilityZones")
        for i, zone in enumerate(zones if isinstance(zones, list) else []):
            overrides[f"eksgitops:network.availabilityZones[{i}]"] = str(zone)
        if raw.get("escrow") is not before.get("escrow"):  # _move_region pinned the escrow
            overrides["eksgitops:escrow.region"] = str(raw["escrow"]["region"])
    environment_escrow_raw: dict[str, Any] | None = None
    if drill:
        derived = derive_parallel(raw, stack, suffix.strip("-"))
        raw, environment_escrow_raw = derived.raw, derived.environment_escrow
        overrides.update(derived.overrides)
        notes += derived.notes
    try:
        # Validated under the name Pulumi will run it with, so what is checked is what runs.
        spec = load_spec(raw, stack=target_stack, source=str(stack_file))
    except SpecError as err:
        # The stack file passed above: a derived stack the spec refuses is a bug in derive.py.
        raise DrUsageError(err.lines) from None
    environment_escrow = None
    if environment_escrow_raw is not None:
        environment_escrow = EscrowSpec.model_validate(
            environment_escrow_raw, context={"region": spec.region}
        )
    return StackContext(
        stack=target_stack,
        spec=spec,
        raw=raw,
        stack_file=stack_file,
        project_dir=project_dir,
        build_dir=build_dir,
        source_stack=stack,
        notes=notes,
        overrides=overrides,
        environment_escrow=environment_escrow,
    )


def _move_region(raw: dict[str, Any], region: str, prefix: str) -> tuple[dict[str, Any], list[str]]:
    old = raw.get("region")
    notes = [f"region moved from {old} to {region}"]
    moved = {**raw, "region": region}
    network = raw.get("network")
    if isinstance(network, dict):
        if network.get("vpcId"):
            raise DrUsageError(
                f"{prefix}: --region {region}: the stack uses the existing VPC {network['vpcId']} of {old}, "
                "which cannot move; create a VPC in the target region and a stack file that names it"
            )
        zones = network.get("availabilityZones")
        if isinstance(zones, list) and isinstance(old, str):
            new_zones = [
                region + z[len(old) :]
                if isinstance(z, str) and re.fullmatch(re.escape(old) + r"[a-z]", z)
                else z
                for z in zones
            ]
            moved["network"] = {**network, "availabilityZones": new_zones}
            notes.append(f"zones {', '.join(map(str, zones))} -> {', '.join(map(str, new_zones))}")
    escrow = raw.get("escrow")
    if isinstance(escrow, dict) and escrow.get("enabled") is True and not escrow.get("region"):
        # The escrow stays where it is (in the old region, or its replicas): moving it with the
        # cluster would replace the protected bucket and secret, and `up` would stop.
        moved["escrow"] = {**escrow, "region": old}
        notes.append(f"the escrow stays in {old}")
    key = raw.get("secretsKmsKeyArn")
    if isinstance(key, str) and key and f":{region}:" not in key:
        raise DrUsageError(
            f"{prefix}: --region {region}: secretsKmsKeyArn {key} is a key of another region; "
            "a key in the target region (a multi-Region replica key works) set in the stack file"
        )
    return moved, notes
