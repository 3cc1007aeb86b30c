"""Argo CD ApplicationSets: pinned list-generator charts, cluster annotations the bridge provides;
the Applications they generate are not rendered (said so)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from eksgitops.fleet.findings import ERROR, NOT_CHECKED, Finding
from eksgitops.fleet.schema import ident
from eksgitops.fleet.verify.checks.context import Applying
from eksgitops.fleet.verify.checks.pins import pin
from eksgitops.fleet.verify.model import as_dict, as_list

ARGO_ANNOTATION_RE = re.compile(r'index\s+\.metadata\.annotations\s+"([^"]+)"')


def check(ctx: Applying) -> Iterator[Finding]:
    provided = set(ctx.walk.variables)
    for a in ctx.applied:
        if not a.argo or a.obj.get("kind") != "ApplicationSet":
            continue
        spec = as_dict(a.obj.get("spec"))
        who = ident(a.obj)
        for element in _list_elements(as_list(spec.get("generators"))):
            if element.get("chart"):
                yield from pin(a.file, who, str(element["chart"]), element.get("version"))
        text = repr(spec.get("template")) + str(spec.get("templatePatch") or "")
        for name in sorted(set(ARGO_ANNOTATION_RE.findall(text))):
            if name not in provided:
                source = f"stack {ctx.request.stack}" if ctx.request.stack else "the bridge"
                yield Finding(a.file, f"{who}: cluster annotation {name} is not provided by {source}", ERROR)
        yield Finding(a.file, f"{who}: the Applications it generates are not rendered", NOT_CHECKED)


def _list_elements(generators: list[Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for gen in generators:
        if not isinstance(gen, dict):
            continue
        found.extend(e for e in as_list(as_dict(gen.get("list")).get("elements")) if isinstance(e, dict))
        for nested in ("matrix", "merge"):
            found.extend(_list_elements(as_list(as_dict(gen.get(nested)).get("generators"))))
    return found
