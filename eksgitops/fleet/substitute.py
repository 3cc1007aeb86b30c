"""Flux's post-build variable substitution (kustomize-controller `postBuild`), on each object's YAML.

As the controller does: the object is serialised to YAML, `${...}` references are replaced with
the grammar of Flux's envsubst (envsubst.py: defaults with nested references, `${v/x/y}`,
`${v^^}`, `${#v}`, `$${escaped}`...), and the text is parsed again, so a value can change a
field's type (kustomize's output has already dropped the quotes of `"${v}"`). Objects labelled or annotated
`kustomize.toolkit.fluxcd.io/substitute: disabled` are left alone, and nothing is substituted
when the Kustomization defines no variables at all. A variable with no value and no default
becomes an empty string (Flux's default, non-strict mode).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from eksgitops.fleet import envsubst, yamlio

DISABLE_KEY = "kustomize.toolkit.fluxcd.io/substitute"
VAR_NAME = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")


@dataclass
class Outcome:
    """The substituted object (None when it no longer parses) and what happened on the way."""

    obj: dict[str, Any] | None
    used: set[str] = field(default_factory=set)
    empty: set[str] = field(default_factory=set)
    """Variables without a value or default: substituted with ''."""
    error: str | None = None


def disabled(obj: dict[str, Any]) -> bool:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    for key in ("labels", "annotations"):
        values = meta.get(key)
        if isinstance(values, dict) and values.get(DISABLE_KEY) == "disabled":
            return True
    return False


def substitute_text(text: str, values: dict[str, str]) -> tuple[str, set[str], set[str]]:
    """Replace references in `text` with Flux's grammar (envsubst.py); returns (text, used names,
    names without a value that became ''). Raises ValueError with Flux's message."""
    result = envsubst.evaluate(text, values)
    return result.text, result.used, result.missing


def _mentions_dollar(value: Any) -> bool:
    """Cheap test before serialising: only text with a `$` can change."""
    if isinstance(value, str):
        return "$" in value
    if isinstance(value, dict):
        return any(_mentions_dollar(k) or _mentions_dollar(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_mentions_dollar(v) for v in value)
    return False


def substitute(obj: dict[str, Any], values: dict[str, str]) -> Outcome:
    """Substitute `values` into `obj` as kustomize-controller would."""
    if disabled(obj) or not values or not _mentions_dollar(obj):
        return Outcome(obj)
    text = yamlio.dump(obj)
    try:
        new_text, used, empty = substitute_text(text, values)
    except ValueError as exc:
        return Outcome(None, error=f"variable substitution failed: {exc}")
    if new_text == text:
        return Outcome(obj, used, empty)
    try:
        docs = [d for d in yamlio.load_all(new_text) if d is not None]
    except yamlio.yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return Outcome(None, used, empty, f"after variable substitution the YAML is invalid: {problem}")
    if len(docs) != 1 or not isinstance(docs[0], dict):
        return Outcome(None, used, empty, "after variable substitution the object is no longer one mapping")
    return Outcome(docs[0], used, empty)
