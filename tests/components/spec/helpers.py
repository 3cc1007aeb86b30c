"""What the spec's tests share: the smallest valid stack config and ways to collect its error lines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eksgitops.components.spec import EnvironmentSpec, SpecError, load_spec
from eksgitops.components.spec.read import stack_config

ROOT = Path(__file__).resolve().parents[3]
SRC = "stacks/Pulumi.test.yaml"
PREFIX = f"{SRC}: eksgitops:"
GROUP = {"name": "general"}
S3_READ = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
ADMIN_ENTRY = {"principalArn": "arn:aws:iam::111122223333:role/platform-admin"}
FLEET = {"repoUrl": "https://github.com/example/fleet.git"}
EXISTING_VPC = {
    "vpcId": "vpc-0123456789abcdef0",
    "privateSubnetIds": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    "publicSubnetIds": ["subnet-0123456789abcdef2", "subnet-0123456789abcdef3"],
}


def minimal(**extra: Any) -> dict[str, Any]:
    """The smallest valid raw config, plus overrides."""
    return {
        "region": "eu-west-1",
        "nodeGroups": [dict(GROUP)],
        "access": {"entries": [ADMIN_ENTRY]},
        "gitops": dict(FLEET),
        **extra,
    }


def errors(raw: dict[str, Any], stack: str = "test") -> list[str]:
    with pytest.raises(SpecError) as info:
        load_spec(raw, stack=stack, source=SRC)
    return info.value.lines


def one_error(raw: dict[str, Any], path: str, phrase: str = "") -> str:
    """Exactly one line, at `path`, containing `phrase` (when given)."""
    lines = errors(raw)
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"{PREFIX}{path}: "), lines
    assert phrase in lines[0], lines
    return lines[0]


def load_stack(name: str) -> EnvironmentSpec:
    raw = stack_config(ROOT / "stacks" / f"Pulumi.{name}.yaml", ROOT / "Pulumi.yaml")
    return load_spec(raw, stack=name, source=f"stacks/Pulumi.{name}.yaml")
