"""The field paths that differ between two versions of one object, Secret values masked.

Paths read like kubectl's JSONPath without the braces: `spec.replicas`,
`spec.template.spec.containers[name=app].image`, `metadata.annotations["example.com/x"]`.
A list whose items are all objects with a distinct `name` is compared by name, so that inserting
a container does not show every following one as changed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from eksgitops.fleet.diff.model import SECRET_MASK, FieldChange

MAX_FIELDS = 200
"""Changed paths kept per object: a rewritten object is summarised, never unbounded."""
MAX_DEPTH = 64
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_ABSENT = object()


def _key(path: str, name: str) -> str:
    if _PLAIN.fullmatch(name):
        return f"{path}.{name}" if path else name
    return f"{path}[{json.dumps(name)}]"


def _by_name(items: list[Any]) -> dict[str, Any] | None:
    names = [i.get("name") for i in items if isinstance(i, dict)]
    if (
        len(names) != len(items)
        or not all(isinstance(n, str) for n in names)
        or len(set(names)) != len(names)
    ):
        return None
    return {str(i["name"]): i for i in items}


def changed_fields(
    old: dict[str, Any], new: dict[str, Any], secret: bool = False
) -> tuple[list[FieldChange], int]:
    """(the changed paths, at most MAX_FIELDS, and how many more were left out)."""
    out: list[FieldChange] = []
    _walk(old, new, "", out, 0)
    if secret:
        out = [_masked(f) for f in out]
    return out[:MAX_FIELDS], max(0, len(out) - MAX_FIELDS)


def _walk(old: Any, new: Any, path: str, out: list[FieldChange], depth: int) -> None:
    if old == new:
        return
    if depth < MAX_DEPTH and isinstance(old, dict) and isinstance(new, dict):
        for name in sorted(set(old) | set(new), key=str):
            _walk(old.get(name, _ABSENT), new.get(name, _ABSENT), _key(path, str(name)), out, depth + 1)
        return
    if depth < MAX_DEPTH and isinstance(old, list) and isinstance(new, list):
        old_named, new_named = _by_name(old), _by_name(new)
        if old_named is not None and new_named is not None:
            for name in [*old_named, *(n for n in new_named if n not in old_named)]:
                where = f"{path}[name={name}]"
                _walk(old_named.get(name, _ABSENT), new_named.get(name, _ABSENT), where, out, depth + 1)
            return
        for index in range(max(len(old), len(new))):
            _walk(
                old[index] if index < len(old) else _ABSENT,
                new[index] if index < len(new) else _ABSENT,
                f"{path}[{index}]",
                out,
                depth + 1,
            )
        return
    out.append(FieldChange(path, None if old is _ABSENT else old, None if new is _ABSENT else new))


def _masked(change: FieldChange) -> FieldChange:
    # data, stringData and the whole object's value when it carries them: never the plaintext.
    if not change.path.startswith(("data", "stringData")):
        return change
    return FieldChange(
        change.path,
        None if change.old is None else SECRET_MASK,
        None if change.new is None else SECRET_MASK,
    )


def mask_secret(obj: dict[str, Any]) -> dict[str, Any]:
    """A Secret with every data and stringData value replaced by the mask (for showing it whole)."""
    out = dict(obj)
    for name in ("data", "stringData"):
        if isinstance(out.get(name), dict):
            out[name] = dict.fromkeys(out[name], SECRET_MASK)
    return out
