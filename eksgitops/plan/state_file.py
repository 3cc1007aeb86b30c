"""The `--against` file: what `pulumi stack export` writes, read as the resources it holds.

Refused with one line (StateFileError) when it is not such a file, or when it is the state of
another stack or project: every URN names its stack and project (`urn:pulumi:STACK::PROJECT::…`),
and a plan of dev against prod's state would report every resource as deleted and created.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eksgitops.components.document_limits import DocumentLimit, Limits, load_json
from eksgitops.plan.offline_engine import plain
from eksgitops.terminal_text import shown

STATE_VERSION = 3
STATE_FILE_LIMITS = Limits(chars=512 << 20, depth=100)
"""A stack export: large for a large stack, but never nested deeper than a few dozen levels."""
URN_PREFIX = "urn:pulumi:"


class StateFileError(ValueError):
    """The --against file is not a usable `pulumi stack export` (the message says why)."""


@dataclass
class StateResource:
    urn: str
    type: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    defaults: set[str]


def _stack_and_project(urn: str) -> tuple[str, str] | None:
    if not urn.startswith(URN_PREFIX):
        return None
    parts = urn[len(URN_PREFIX) :].split("::")
    return (parts[0], parts[1]) if len(parts) >= 4 else None


def _check_owner(urn: str, path: Path, stack: str, project: str) -> None:
    owner = _stack_and_project(urn)
    if owner is None:
        raise StateFileError(f"{path}: {shown(repr(urn[:200]))} is not a Pulumi URN")
    if owner != (stack, project):
        raise StateFileError(
            f"the state of stack {shown(repr(owner[0][:100]))} of project "
            f"{shown(repr(owner[1][:100]))}, not of stack {stack!r} of project {project!r}; "
            f"the export of this very stack (`pulumi stack export --stack {stack}`)"
        )


def load_state(
    path: Path, *, stack: str | None = None, project: str | None = None
) -> dict[str, StateResource]:
    """The resources of a `pulumi stack export` file, by URN; StateFileError if it is not one,
    or (given `stack` and `project`) if a URN names another stack or project."""
    try:
        document = load_json(path.read_text(), STATE_FILE_LIMITS)
    except OSError as exc:
        raise StateFileError(f"cannot read {path} ({exc.strerror})") from None
    except DocumentLimit as exc:
        # 100,000 nested lists would end in a RecursionError: refused before json reads them.
        raise StateFileError(f"{path}: {exc.problem}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise StateFileError(f"{path} is not JSON") from None
    if not isinstance(document, dict) or "deployment" not in document:
        raise StateFileError(f"{path} has no 'deployment'; the output of `pulumi stack export`")
    if document.get("version") != STATE_VERSION:
        raise StateFileError(
            f"{path} is deployment version {shown(repr(document.get('version')))[:100]}; "
            f"version {STATE_VERSION} (`pulumi stack export` of Pulumi 3)"
        )
    deployment = document["deployment"] or {}
    listed = deployment.get("resources") if isinstance(deployment, dict) else None
    if not isinstance(listed, list | None):
        raise StateFileError(f"{path}: 'deployment.resources' is not a list")
    found: dict[str, StateResource] = {}
    for raw in listed or []:
        if not isinstance(raw, dict) or not isinstance(raw.get("urn"), str):
            raise StateFileError(f"{path}: a resource without a 'urn'")
        if stack is not None and project is not None:
            _check_owner(raw["urn"], path, stack, project)
        inputs = raw.get("inputs") or {}
        defaults = inputs.pop("__defaults", []) if isinstance(inputs, dict) else []
        found[raw["urn"]] = StateResource(
            urn=raw["urn"],
            type=str(raw.get("type", "")),
            parent=str(raw.get("parent") or ""),
            custom=bool(raw.get("custom")),
            inputs=plain(inputs) if isinstance(inputs, dict) else {},
            defaults=set(defaults) if isinstance(defaults, list) else set(),
        )
    return found
