"""The CRDs fleet verify ships (`schemas/`, the upstream files byte for byte), parsed when needed.

Parsing all of their YAML costs most of a second, on the same two cores the engine's builds
need, while a fleet uses the kinds of a few files. So the files are indexed by API group with a
text scan (`spec.group` at its fixed indent; a test checks the scan against the parsed files),
and a file is parsed the first time a kind of its group is looked up. Parsed files are kept as
JSON in the build cache (build_cache.py), under the hash of the file's name and content.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache
from importlib.resources import files
from typing import Any

from eksgitops.fleet import build_cache, yamlio

_GROUP = re.compile(rb"^  group: ['\"]?([A-Za-z0-9.-]+)['\"]?[ \t]*\r?$", re.MULTILINE)


@cache
def _entries() -> dict[str, bytes]:
    folder = files("eksgitops.fleet") / "schemas"
    return {
        entry.name: entry.read_bytes()
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    }


@cache
def files_by_group() -> dict[str, tuple[str, ...]]:
    """API group -> the shipped files holding CRDs of that group (from the text scan)."""
    found: dict[str, list[str]] = {}
    for name, text in _entries().items():
        for group in sorted({m.decode() for m in _GROUP.findall(text)}):
            found.setdefault(group, []).append(name)
    return {group: tuple(names) for group, names in found.items()}


@cache
def crds_of_file(name: str) -> tuple[dict[str, Any], ...]:
    """The CRDs of one shipped file, each with `_source`, the file name."""
    text = _entries()[name]
    digest = hashlib.sha256(b"crds 2\0" + name.encode() + b"\0" + text).hexdigest()
    kept = build_cache.load_json(f"crds-{digest}")
    if isinstance(kept, list) and all(isinstance(d, dict) for d in kept):
        return tuple(kept)
    docs = []
    for doc in yamlio.load_all(text.decode("utf-8")):
        if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
            doc.setdefault("_source", name)
            docs.append(doc)
    build_cache.store_json(f"crds-{digest}", docs)
    return tuple(docs)


def crds_of_group(group: str) -> tuple[dict[str, Any], ...]:
    """The shipped CRDs of API group `group` (none for a group nothing ships)."""
    return tuple(doc for name in files_by_group().get(group, ()) for doc in crds_of_file(name))
