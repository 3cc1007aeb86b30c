"""Every object strictly against its schema (eksgitops.fleet.schema), as server-side apply would."""

from __future__ import annotations

from collections.abc import Iterator

from eksgitops.fleet.findings import ERROR, Finding
from eksgitops.fleet.schema import ident
from eksgitops.fleet.verify.checks.context import Applying
from eksgitops.fleet.verify.model import meta


def check(ctx: Applying) -> Iterator[Finding]:
    for a in ctx.applied:
        obj = a.obj
        who = ident(obj)
        m = meta(obj)
        api, kind = str(obj.get("apiVersion") or ""), str(obj.get("kind") or "")
        if not m.get("name") and not m.get("generateName"):
            yield Finding(a.file, f"{who}: metadata.name is missing", ERROR)
        if kind == "Secret" and api == "v1" and "sops" in obj:
            # The API server sees the decrypted Secret (or refuses the encrypted one: secrets check).
            obj = {k: v for k, v in obj.items() if k != "sops"}
        for message in ctx.schemas.errors(obj):
            yield Finding(a.file, f"{who}: {message}", ERROR)
        if api and kind and not ctx.schemas.knows(api, kind):
            ctx.unvalidated.add(f"{api} {kind}")
