"""Kubernetes minors: parsing, EKS's one-minor-at-a-time path, and the support calendar.

The calendar is `components/data/kubernetes_versions.json` (its sources are in the file): a
minor is in standard support until `endOfStandardSupport`, then in paid extended support.
"""

from __future__ import annotations

import json
import re
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from components.spec.data import offered_kubernetes_versions

MINOR = re.compile(r"1\.(\d{1,3})")
# Amazon Linux 2 AMIs are not built for Kubernetes 1.33 or later (EKS AL2 end-of-support FAQ,
# https://docs.aws.amazon.com/eks/latest/userguide/eks-ami-deprecation-faqs.html).
AMI_LAST_MINOR = {"AL2_x86_64": "1.32", "AL2_x86_64_GPU": "1.32", "AL2_ARM_64": "1.32"}
AMI_INSTEAD = "AL2023_x86_64_STANDARD or AL2023_ARM_64_STANDARD (or BOTTLEROCKET_*)"


def minor_number(version: str) -> int:
    match = MINOR.fullmatch(version)
    if not match:
        raise ValueError(version)
    return int(match.group(1))


def path(current: str, target: str) -> list[str]:
    """Every minor from current to target, both included: what EKS would step through."""
    return [f"1.{n}" for n in range(minor_number(current), minor_number(target) + 1)]


@cache
def _versions_file() -> dict[str, Any]:
    return json.loads(resources.files("components").joinpath("data/kubernetes_versions.json").read_text())


def calendar() -> dict[str, dict[str, str]]:
    return {v["version"]: v for v in _versions_file()["versions"]}


def checked_on() -> str:
    """When the calendar was last compared with AWS's (the file's `_checked`)."""
    return str(_versions_file().get("_checked", "unknown"))


def standard_support_days(version: str, today: date | None = None) -> int | None:
    """Days from today to the end of standard support (negative once past); None if not in the data."""
    entry = calendar().get(version)
    if entry is None:
        return None
    return (date.fromisoformat(entry["endOfStandardSupport"]) - (today or date.today())).days


def offered(today: date | None = None) -> list[str]:
    return offered_kubernetes_versions(today)


def ami_refused(ami_type: str, target: str) -> bool:
    last = AMI_LAST_MINOR.get(ami_type)
    return last is not None and minor_number(target) > minor_number(last)
