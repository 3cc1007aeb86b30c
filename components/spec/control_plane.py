"""The control plane's settings: the API endpoint (`endpoint`), `controlPlane`, and the secrets key."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo
from pydantic import model_validator as _model_validator

from eksgitops.components.spec import rules
from eksgitops.components.spec.base import (
    SpecModel,
)
from eksgitops.components.spec.syntax import (
    context_value,
    fail,
    ipv4,
    unique,
)

after = _model_validator(mode="after")


def _public_cidr(value: str) -> str:
    # Only the syntax: how far the endpoint is open is EKS-ENDPOINT's (and a waiver's) business.
    ipv4(value, "an IPv4 CIDR such as 203.0.113.0/24")
    return value


class EndpointSpec(SpecModel):
    """Who can reach the Kubernetes API server (checklist EKS-ENDPOINT)."""

    private_access: bool = True
    """Reach the API server from inside the VPC."""
    public_access: bool = False
    """Reach the API server from the internet (only from public_access_cidrs)."""
    public_access_cidrs: Annotated[list[Annotated[str, AfterValidator(_public_cidr)]], unique("CIDR")] = (
        Field(default_factory=list)
    )
    """Allow-list for the public endpoint; empty means 0.0.0.0/0 to EKS (EKS-ENDPOINT fails it)."""

    @after
    def _reachable(self) -> EndpointSpec:
        if not self.private_access and not self.public_access:
            raise fail(
                "privateAccess and publicAccess are both off, so nothing can reach the API server",
                "privateAccess: true (publicAccess optional, with an allow-list)",
            )
        return self


LogType = Literal["api", "audit", "authenticator", "controllerManager", "scheduler"]
"""The control-plane log types EKS sends to CloudWatch."""

# The retention values CloudWatch Logs accepts (PutRetentionPolicy).
LogRetentionDays = Literal[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653
]


class ControlPlaneSpec(SpecModel):
    """Control-plane settings EKS would otherwise pick silently (what it costs, what survives a mistake)."""

    deletion_protection: bool = False
    """Refuse to delete the cluster (EKS deletion protection); turn it on for production."""
    upgrade_policy: Literal["STANDARD", "EXTENDED"] = "STANDARD"
    """Support type at the end of standard support: STANDARD upgrades the cluster automatically,
    EXTENDED keeps the version on paid extended support (EKS's silent default when unset)."""
    log_retention_days: LogRetentionDays = 90
    """Retention of the control-plane log group `/aws/eks/<cluster>/cluster` (EKS creates it
    with no expiry otherwise)."""


def kms_key_arn(value: str | None, info: ValidationInfo) -> str | None:
    if value is None:
        return value
    match = rules.kms_key_arn(value)
    region = context_value(info, "region")
    if region and match["region"] != region:
        raise fail(f"key is in {match['region']}, the cluster in {region}", "a key in the cluster's region")
    return value
