"""Running `fleet diff` on the fleet of fleet.py and reading its document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import referencing
from typer.testing import CliRunner, Result

from eksgitops.fleet.diff.model import DIFF_SCHEMA
from eksgitops.fleet.findings import VERIFY_SCHEMA
from tests.fleet.conftest import invoke


def validator() -> jsonschema.Draft202012Validator:
    """The shipped schema, with verify's (which it refers to for the head's verification)."""
    verify = json.loads(VERIFY_SCHEMA.read_text())
    resource = referencing.Resource.from_contents(verify)
    registry = referencing.Registry().with_resource(verify["$id"], resource)
    schema = json.loads(DIFF_SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, registry=registry)


def diff_json(
    cli: CliRunner, bare: Path, head: str, *flags: str, base: str = "main"
) -> tuple[Result, dict[str, Any]]:
    result = invoke(
        cli, "diff", "--repo", str(bare), "--env", "dev", "--base", base, "--revision", head, "--json", *flags
    )
    document = json.loads(result.stdout)
    validator().validate(document)
    assert document["exitCode"] == result.exit_code, result.stderr
    return result, document


def changes(document: dict[str, Any], **match: Any) -> list[dict[str, Any]]:
    """The changes whose keys have the values in `match`."""
    return [c for c in document["changes"] if all(c.get(k) == v for k, v in match.items())]


def one(document: dict[str, Any], **match: Any) -> dict[str, Any]:
    found = changes(document, **match)
    assert len(found) == 1, (match, document["changes"])
    return found[0]


def destructive_kinds(change: dict[str, Any]) -> list[str]:
    return [d["kind"] for d in change["destructive"] or []]
