"""What the spec knows about AWS, from the files in `components/data/`: versions, regions, add-ons.

- `kubernetes_versions.json`: the versions EKS offers and their support dates;
- `aws_regions.json`: the partitions' region names and each region's Availability Zones;
- `addon_versions.json`: EKS managed add-on versions per Kubernetes version. Two users:
  `ClusterAddons` installs `default_addon_version()` when a stack pins nothing, so an add-on
  moves with `kubernetesVersion` (an `aws.eks.Addon` without a version keeps the one EKS
  chose at creation forever); the spec refuses a pin that is not in `known_addon_versions()`
  for the cluster's version, because EKS refuses a version it does not offer for that
  Kubernetes version only minutes into an apply.
"""

from __future__ import annotations

import json
import re
from datetime import date
from functools import cache
from importlib import resources
from typing import Any


@cache
def _data(name: str) -> dict[str, Any]:
    return json.loads(resources.files("components").joinpath(f"data/{name}").read_text())


def offered_kubernetes_versions(today: date | None = None) -> list[str]:
    """Kubernetes minor versions EKS still offers (standard or extended support), oldest first.

    From data/kubernetes_versions.json; a version past its end of extended support is gone
    (EKS creates no cluster on it). Standard support is the EKS-VERSION rule's business.
    """
    today = today or date.today()
    versions = _data("kubernetes_versions.json")["versions"]
    offered = [v["version"] for v in versions if date.fromisoformat(v["endOfExtendedSupport"]) >= today]
    return sorted(offered, key=lambda v: tuple(int(p) for p in v.split(".")))


def supported_kubernetes_versions(today: date | None = None) -> list[str]:
    """The offered versions still in EKS standard support (what EKS-VERSION passes), oldest first."""
    today = today or date.today()
    ends = {v["version"]: v["endOfStandardSupport"] for v in _data("kubernetes_versions.json")["versions"]}
    return [v for v in offered_kubernetes_versions(today) if date.fromisoformat(ends[v]) >= today]


def default_kubernetes_version() -> str:
    """The version a stack gets when it does not set kubernetesVersion."""
    return _data("kubernetes_versions.json")["default"]


def region_partition(region: str) -> str | None:
    """The AWS partition whose region names `region` fits (data/aws_regions.json), or None."""
    patterns = _data("aws_regions.json")["partitions"]
    return next((p for p, rx in patterns.items() if re.fullmatch(rx, region, re.ASCII)), None)


def zone_names(region: str) -> list[str] | None:
    """The Availability Zones a new account has in `region`, or None when the file lacks it."""
    entry = _data("aws_regions.json")["regions"].get(region)
    if entry is None:
        return None
    letters = entry.get("letters", "abcdefgh")
    return [f"{region}{letter}" for letter in letters[: entry["zones"]]]


def addon_versions() -> dict[str, Any]:
    """The add-on data file, parsed once."""
    return _data("addon_versions.json")


def _entry(addon: str, kubernetes_version: str) -> dict[str, Any] | None:
    return addon_versions()["versions"].get(kubernetes_version, {}).get(addon)


def default_addon_version(addon: str, kubernetes_version: str) -> str | None:
    """The version installed when unpinned; None when the data has no entry (EKS's default then)."""
    entry = _entry(addon, kubernetes_version)
    return entry["default"] if entry else None


def known_addon_versions(addon: str, kubernetes_version: str) -> list[str] | None:
    """The versions known to be offered for this Kubernetes version; None when the data has no entry."""
    entry = _entry(addon, kubernetes_version)
    return list(entry["known"]) if entry else None


@cache
def instance_types() -> frozenset[str]:
    """Every EC2 instance type (data/ec2_instance_types.json, from botocore's EC2 model)."""
    return frozenset(_data("ec2_instance_types.json")["instanceTypes"])


def instance_architecture(instance_type: str) -> str | None:
    """arm64, x86_64 or mac for a known instance type's family; None for an unknown family."""
    family = instance_type.split(".", 1)[0]
    return _data("ec2_instance_types.json")["architectures"].get(family)


def access_policies() -> list[str]:
    """The names of the EKS access policies (data/eks_access_policies.json)."""
    return list(_data("eks_access_policies.json")["policies"])


def access_policies_for_people() -> list[str]:
    """The access policies an admin or user entry plausibly uses (the ones error lines suggest)."""
    return list(_data("eks_access_policies.json")["forPeople"])


def known_region(region: str) -> bool:
    """Whether data/aws_regions.json lists `region` (a region AWS has opened)."""
    return region in _data("aws_regions.json")["regions"]
