"""`fleet diff --json`: one document, valid against diff.schema.json (shipped beside this module)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from eksgitops.fleet.diff.model import COULD_NOT_DIFF, Change, DiffResult, ordered

MAX_VALUE_CHARS = 4096
"""A value longer than this (as JSON) is replaced by a note of its size: a document stays bounded."""


def value(raw: Any, scrub: Callable[[str], str] = str) -> Any:
    """`raw` as it goes into the document: itself, or a note when it is too large to show."""
    text = json.dumps(raw, sort_keys=True, default=str)
    if len(text) <= MAX_VALUE_CHARS:
        return scrub(raw) if isinstance(raw, str) else raw
    return f"(a value of {len(text)} characters, not shown)"


def change_document(change: Change, scrub: Callable[[str], str] = str) -> dict[str, Any]:
    return {
        "action": change.action,
        "apiVersion": change.api_version,
        "kind": change.kind,
        "namespace": change.namespace or None,
        "name": change.name,
        "owner": change.owner,
        "cluster": change.cluster or None,
        "pruned": change.pruned if change.action == "delete" else None,
        "movedFrom": change.moved_from,
        "fields": [
            {"path": f.path, "old": value(f.old, scrub), "new": value(f.new, scrub)} for f in change.fields
        ]
        if change.action == "update"
        else None,
        "destructive": [{"kind": d.kind, "reason": scrub(d.reason)} for d in change.destructive] or None,
    }


def document(result: DiffResult, scrub: Callable[[str], str] = str) -> dict[str, Any]:
    """The result as `fleet diff --json` prints it; `scrub` removes credentials from texts that
    may quote a URL."""
    code = result.exit_code()
    return {
        "path": result.path,
        "base": result.base,
        "head": result.head,
        "outcome": result.outcome(),
        "exitCode": code,
        "summary": scrub(result.summary()),
        "counts": result.counts,
        "changes": [change_document(c, scrub) for c in ordered(result.changes)],
        "owners": [
            {"name": o.name, "state": o.state, "prune": o.prune, "note": scrub(o.note) or None}
            for o in result.owners
        ],
        "verify": result.head_report.document(result.path, result.head, scrub),
        "notes": [scrub(n) for n in result.notes],
        "seconds": round(result.seconds, 3),
        "error": None,
    }


def failure_document(path: str, error: str) -> dict[str, Any]:
    """`fleet diff --json` when the repository or a revision could not be read or built at all."""
    return {
        "path": path,
        "base": None,
        "head": None,
        "outcome": "could not diff",
        "exitCode": COULD_NOT_DIFF,
        "summary": f"diff: {path}: could not diff: {error}",
        "counts": {"create": 0, "update": 0, "delete": 0, "left": 0, "destructive": 0},
        "changes": [],
        "owners": [],
        "verify": None,
        "notes": [],
        "seconds": 0.0,
        "error": error,
    }
