"""An object applied by two Kustomizations (or Applications): they take turns owning it."""

from __future__ import annotations

from collections.abc import Iterator

from eksgitops.fleet.findings import POLICY, Finding
from eksgitops.fleet.schema import ident
from eksgitops.fleet.verify.checks.context import Applying


def check(ctx: Applying) -> Iterator[Finding]:
    for first, second in ctx.duplicates:
        yield Finding(
            second.file, f"{ident(second.obj)} is applied by both {first.owner} and {second.owner}", POLICY
        )
