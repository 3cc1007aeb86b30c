"""The Flux the Flux Operator installs: its CRDs as the operator patches them at install time.

The operator (controlplaneio-fluxcd/flux-operator, internal/builder/templates.go) adds its own
kinds to the kind enums of the notification CRDs, so Alerts may watch and Receivers may trigger
FluxInstances, ResourceSets and ResourceSetInputProviders (every served version).
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from eksgitops.fleet.schema import SchemaSet
from eksgitops.fleet.shipped_crds import crds_of_group

OPERATOR_KINDS = ("FluxInstance", "ResourceSet", "ResourceSetInputProvider")
PATCHED = {
    ("notification.toolkit.fluxcd.io", "Alert"): "eventSources",
    ("notification.toolkit.fluxcd.io", "Receiver"): "resources",
}
"""(group, kind) -> the list field under `spec` whose items' `kind` enum the operator extends."""


def _patched(doc: dict[str, Any], field: str) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    for version in doc["spec"]["versions"]:
        schema = ((version.get("schema") or {}).get("openAPIV3Schema")) or {}
        items = schema.get("properties", {}).get("spec", {}).get("properties", {}).get(field, {}).get("items")
        enum = ((items or {}).get("properties", {}).get("kind") or {}).get("enum")
        if isinstance(enum, list):
            enum.extend(k for k in OPERATOR_KINDS if k not in enum)
    return doc


@cache
def _patched_docs() -> tuple[dict[str, Any], ...]:
    docs = []
    for doc in crds_of_group("notification.toolkit.fluxcd.io"):
        spec = doc.get("spec") or {}
        field = PATCHED.get((str(spec.get("group")), str((spec.get("names") or {}).get("kind"))))
        if field is not None:
            docs.append(_patched(doc, field))
    return tuple(docs)


def with_operator_crds(schemas: SchemaSet) -> SchemaSet:
    """A copy of `schemas` whose notification CRDs are the ones a FluxInstance-managed Flux runs."""
    out = schemas.extended(())
    for doc in _patched_docs():
        out.add_crd(doc, f"{doc.get('_source', 'schemas')} (as the Flux Operator patches it)")
    return out
