"""Flux's post-build variable substitution (kustomize-controller `postBuild`), on each object's YAML.

As the controller does: the object is serialised to YAML, `${var}` references are replaced
(`${var:=default}` / `${var:-default}` fall back to the default, `$${var}` is an escape), and
the text is parsed again, so a value can change a field's type. Objects labelled or annotated
`kustomize.toolkit.fluxcd.io/substitute: disabled` are left alone, and nothing is substituted
when the Kustomization defines no variables at all. A variable with no value and no default
becomes an empty string (Flux's default, non-strict mode).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from eksgitops.fleet import yamlio

DISABLE_KEY = "kustomize.toolkit.fluxcd.io/substitute"
VAR_NAME = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
_TOKEN = re.compile(r"\$\$|\$\{([^}]*)\}")
_EXPR = re.compile(r"(?P<name>[_a-zA-Z][_a-zA-Z0-9]*)(?:(?P<op>:?[-=+?])(?P<arg>.*))?", re.DOTALL)


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
    """Replace references in `text`; returns (text, used names, names that became '')."""
    used: set[str] = set()
    empty: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        expr = _EXPR.fullmatch(match.group(1))
        if expr is None:
            raise ValueError(f"bad substitution ${{{match.group(1)}}}")
        name, op, arg = expr.group("name"), expr.group("op"), expr.group("arg") or ""
        used.add(name)
        value = values.get(name)
        if op in (":-", ":="):
            return value if value else arg
        if op in ("-", "="):
            return value if value is not None else arg
        if op in (":+", "+"):
            return arg if value else ""
        if op is not None:  # ${var?msg}: fail when unset
            if value is None:
                raise ValueError(f"variable {name} is not set: {arg}")
            return value
        if value is None:
            empty.add(name)
            return ""
        return value

    return _TOKEN.sub(replace, text), used, empty


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
