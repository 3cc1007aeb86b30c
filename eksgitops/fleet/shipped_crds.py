"""The CRDs fleet verify ships (`schemas/`, the upstream files byte for byte), parsed once.

Parsing their YAML costs about a second per run; the parsed documents are kept as JSON in the
build cache (build_cache.py), under the hash of the files' names and content.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib.resources import files
from typing import Any

from eksgitops.fleet import build_cache, yamlio


@cache
def packaged_crds() -> tuple[dict[str, Any], ...]:
    """The shipped CRDs, each with `_source`, its file name."""
    entries = [
        (entry.name, entry.read_bytes())
        for entry in sorted((files("eksgitops.fleet") / "schemas").iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    ]
    digest = hashlib.sha256(b"crds 1\0" + b"".join(n.encode() + b"\0" + t + b"\0" for n, t in entries))
    kept = build_cache.load_json(f"crds-{digest.hexdigest()}")
    if isinstance(kept, list) and all(isinstance(d, dict) for d in kept):
        return tuple(kept)
    docs: list[dict[str, Any]] = []
    for name, text in entries:
        for doc in yamlio.load_all(text.decode("utf-8")):
            if isinstance(doc, dict):
                doc.setdefault("_source", name)
                docs.append(doc)
    build_cache.store_json(f"crds-{digest.hexdigest()}", docs)
    return tuple(docs)
