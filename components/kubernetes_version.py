"""Which Kubernetes versions a cluster made through the library may ask for.

From `components/data/kubernetes_versions.json` (the same file the spec reads), as one clear
`ValueError` instead of a failure minutes into an apply:
- a version the data lists is accepted until its end of extended support;
- a version newer than the data is accepted with a warning when EKS can have released it since
  the data was checked (one minor about every four months, plus the next one), because the
  library should not refuse a new EKS version until it ships new data;
- anything else ("1.99", "1.20", "latest") is refused, naming what is allowed.
"""

from __future__ import annotations

import json
import re
import warnings
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

from eksgitops.components.spec.errors import SpecValueError

MINOR = re.compile(r"^1\.(0|[1-9][0-9]*)$")
MONTHS_PER_MINOR = 4


class NewerThanDataWarning(UserWarning):
    """A Kubernetes or add-on version newer than the data bundled with this release."""


@cache
def _data() -> dict[str, Any]:
    # This package, whichever name it was imported under (eksgitops.components, or the old alias).
    return json.loads(
        resources.files(__package__ or "").joinpath("data/kubernetes_versions.json").read_text()
    )


def _minor(version: str) -> int:
    return int(version.split(".", 1)[1])


def newest_possible(today: date) -> int:
    """The highest minor EKS can plausibly offer today, given when the data was last checked."""
    data = _data()
    checked = date.fromisoformat(data["_checked"])
    newest = max(_minor(v["version"]) for v in data["versions"])
    months = max(0, (today.year - checked.year) * 12 + today.month - checked.month)
    return newest + 1 + months // MONTHS_PER_MINOR


def check_kubernetes_version(version: str, *, field: str, today: date | None = None) -> None:
    """Raise SpecValueError (a ValueError) for a version EKS cannot offer; warn for one newer than
    the data (the warning names `field`)."""
    today = today or date.today()
    data = _data()
    offered = [
        v["version"] for v in data["versions"] if date.fromisoformat(v["endOfExtendedSupport"]) >= today
    ]
    limit = newest_possible(today)
    allowed = (
        "one of " + ", ".join(f'"{v}"' for v in offered) + " (components/data/kubernetes_versions.json), "
        f'or a newer minor EKS can have released since {data["_checked"]} (up to "1.{limit}")'
    )
    if not MINOR.fullmatch(version):
        raise SpecValueError(f"{version!r} is not a Kubernetes minor version", allowed)
    if version in offered:
        return
    newest = max(_minor(v["version"]) for v in data["versions"])
    if newest < _minor(version) <= limit:
        warnings.warn(
            f"{field}: {version} is newer than the Kubernetes versions bundled with eksgitops "
            f"(checked {data['_checked']}); accepted. Add-ons without a pinned version take EKS's "
            "default unless most_recent is on",
            NewerThanDataWarning,
            stacklevel=3,
        )
        return
    raise SpecValueError(f"{version!r} is not a Kubernetes version EKS offers", allowed)
