"""TEST HELPER (temporary): validate planned Kubernetes objects against upstream schemas.

Custom resources are checked against the openAPIV3Schema of every served version of their
CRD in the shared crds/ folder (upstream files, see crds/SOURCES.md), strictly: a field the
schema does not declare is an error, as server-side apply's field validation makes it.
Core kinds are checked with kubernetes-validate (the upstream OpenAPI schemas), strict.
CEL rules (x-kubernetes-validations) are not evaluated.

The fleet engineer is building the product's strict validator; at merge this helper is to
be pointed at it. Kept small and separate so that is a one-file change.
"""

from __future__ import annotations

import copy
import os
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[1]
CRDS_DIR = Path(os.environ.get("EKSGITOPS_CRDS_DIR", ROOT.parent / "shared" / "crds"))
KUBERNETES_VERSION = "1.33"


class SchemaError(AssertionError):
    """An object the API server would refuse."""


def _strict(schema: Any) -> Any:
    """The schema with unknown fields refused wherever the CRD lists the fields."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if (
            out.get("type") == "object"
            and "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


@cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) → strict JSON schema, for every served version of every CRD."""
    if not CRDS_DIR.is_dir():
        raise FileNotFoundError(f"no CRDs at {CRDS_DIR}; set EKSGITOPS_CRDS_DIR")
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(CRDS_DIR.glob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if not version.get("served"):
                    continue
                schema = copy.deepcopy(version["schema"]["openAPIV3Schema"])
                # The API server validates metadata itself; the CRD leaves it open.
                schema.setdefault("properties", {})["metadata"] = {"type": "object"}
                schemas[(f"{group}/{version['name']}", kind)] = _strict(schema)
    return schemas


def validate_object(document: dict[str, Any]) -> str:
    """Validate one object; return which schema judged it; raise SchemaError if refused."""
    key = (str(document.get("apiVersion")), str(document.get("kind")))
    schema = crd_schemas().get(key)
    if schema is not None:
        errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(document), key=lambda e: list(e.path))
        if errors:
            where = "/".join(str(p) for p in errors[0].absolute_path)
            raise SchemaError(f"{key[1]} {where}: {errors[0].message}")
        return f"crd {key[0]} {key[1]}"
    try:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as err:
        raise SchemaError(f"{key[1]}: {err.message}") from None
    except kubernetes_validate.SchemaNotFoundError:
        raise SchemaError(f"no schema for {key[0]} {key[1]}: neither a shared CRD nor a core kind") from None
    return f"kubernetes {KUBERNETES_VERSION} {key[1]}"
