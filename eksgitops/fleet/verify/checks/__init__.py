"""The checks verify runs on what would be applied, one module each, listed in one table.

Each check is a function from `Applying` (every applied object, indexed) to findings, each with
its own severity: `error` (will not reconcile), `policy` (reconciles, but risky) or `not checked`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from eksgitops.fleet.findings import Finding
from eksgitops.fleet.verify.checks import (
    argo,
    crd_order,
    depends,
    lockdown,
    namespaces,
    ownership,
    pins,
    references,
    schema,
    secrets,
    sources,
    unrendered,
)
from eksgitops.fleet.verify.checks.context import Applying

Check = Callable[[Applying], Iterable[Finding]]

CHECKS: dict[str, Check] = {
    "schema": schema.check,
    "namespaces": namespaces.check,
    "references": references.check,
    "depends": depends.check,
    "lockdown": lockdown.check,
    "ownership": ownership.check,
    "pins": pins.check,
    "secrets": secrets.check,
    "argo": argo.check,
    "sources": sources.check,
    "crd_order": crd_order.check,
    "unrendered": unrendered.check,
}
"""Name -> check, in the order they run (the report is sorted afterwards)."""

__all__ = ["CHECKS", "Applying", "Check"]
