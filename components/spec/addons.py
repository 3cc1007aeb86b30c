"""The `addons` section: the five EKS managed add-ons, each on or off and optionally pinned."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import model_validator as _model_validator

from components.spec.base import (
    SpecModel,
)
from components.spec.syntax import (
    ADDON_VERSION,
    check,
    fmt,
)

after = _model_validator(mode="after")


class AddonSpec(SpecModel):
    """One EKS managed add-on."""

    enabled: bool = True
    """Install the add-on (all five are on unless a stack turns one off)."""
    version: Annotated[
        str | None,
        check(
            lambda v: v is None or bool(ADDON_VERSION.fullmatch(v)),
            lambda v: f"{fmt(v)} is not an EKS add-on version",
            "v<major>.<minor>.<patch>-eksbuild.<n>, e.g. v1.19.2-eksbuild.1",
        ),
    ] = None
    """Pin, e.g. v1.19.2-eksbuild.1; unset takes the default for the cluster version."""


AddonName = Literal["vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "aws-ebs-csi-driver"]
