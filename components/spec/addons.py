"""The `addons` section: the five EKS managed add-ons, each on or off and optionally pinned."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import model_validator as _model_validator

from eksgitops.components.spec.base import (
    SpecModel,
)
from eksgitops.components.spec.syntax import (
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

NODE_NETWORK_ADDONS = ("vpc-cni", "kube-proxy", "coredns")
"""What nodes need to turn Ready: pod network, service routing, cluster DNS."""


def missing_node_addons(enabled: Iterable[str], *, node_groups: bool, auto_mode: bool) -> list[str]:
    """The add-ons of NODE_NETWORK_ADDONS that some node would lack.

    The cluster installs no self-managed add-ons (bootstrap_self_managed_addons is off).
    Auto Mode runs these itself only on the nodes it launches; managed node groups beside it
    still need the add-ons, or their nodes never turn Ready.
    """
    if auto_mode and not node_groups:
        return []
    return [name for name in NODE_NETWORK_ADDONS if name not in set(enabled)]
