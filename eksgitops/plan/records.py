"""What the plan records of each registration, and the wire markers inside its properties.

Shared by the engine that records (engine.py) and the code that adds what packaged
components create inside themselves (pulumi_eks.py), so neither imports the other's internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import rpc

# Wire markers Pulumi uses inside serialized properties.
SECRET_SIG = rpc._special_sig_key
SECRET_VALUE = rpc._special_secret_sig
RESOURCE_VALUE = rpc._special_resource_sig
UNKNOWN = rpc.UNKNOWN

# An account id no real account has: the plan runs with no credentials, so the real one
# is unknown, and a made-up "real-looking" id would be mistaken for one.
PLAN_ACCOUNT_ID = "000000000000"


def unknown(name: str, attr: str) -> str:
    """The placeholder for a value the cloud assigns when the resource is created."""
    return f"(known after apply: {name}.{attr})"


@dataclass
class RecordedResource:
    """One registration as the engine would have received it."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    remote: bool
    provider: str
    """The provider reference of a custom resource (empty: the default provider)."""
    providers: dict[str, str]
    """The provider map a component (notably a remote one) was given, by package."""
    dependencies: list[str]
    transforms: int
    """How many transforms the program attached (they reach children the mocks never see)."""
    inputs: dict[str, Any]
    """Inputs in wire form (JSON from the protobuf Struct): secrets, unknowns and
    resource references keep Pulumi's signature markers; see `plain()`."""
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    """Per input, the URNs its value came from (how a policy links a key ARN to its key)."""
    synthesized: bool = False
    """True for a resource a packaged component creates inside itself (the mocks never see
    those): added by the plan from the component's inputs, with the real type token and the
    wire inputs of that type, parented to the component."""
    delete_before_replace: bool = False
    """The resource option, as registered (or as the program's transforms set it on a synthesized child)."""
    ignore_changes: list[str] = field(default_factory=list)
    """The resource option's property paths, as registered (or as pulumi-eks sets them)."""
    protect: bool = False
    """`protect=True`: the engine refuses to delete it."""
    retain_on_delete: bool = False
    """`retain_on_delete=True`: deleting it from the stack leaves it in the cloud."""

    def plain_inputs(self) -> dict[str, Any]:
        """Inputs with secrets as "[secret]", unknowns as a placeholder and references as URNs."""
        return plain(self.inputs)


def plain(value: Any) -> Any:
    """Turn wire-form values into plain JSON a person (or a policy) can read.

    Secrets never leave this function in clear: the whole secret subtree becomes "[secret]".
    """
    if isinstance(value, dict):
        sig = value.get(SECRET_SIG)
        if sig == SECRET_VALUE:
            return "[secret]"
        if sig == RESOURCE_VALUE:
            return value.get("urn", "")
        if sig is not None and "value" in value:  # output values, assets: keep the payload
            return plain(value["value"])
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if value == UNKNOWN:
        return "(known after apply)"
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the wire carries every number as a double; 3.0 nodes read as 3
    return value
