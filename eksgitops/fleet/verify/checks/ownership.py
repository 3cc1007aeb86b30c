"""An object with two owners: two Kustomizations (or Applications) applying it, or the layout
applying the ConfigMap the stack creates. They take turns owning it."""

from __future__ import annotations

from collections.abc import Iterator

from eksgitops.fleet.findings import POLICY, Finding
from eksgitops.fleet.schema import ident
from eksgitops.fleet.verify.checks.context import Applying
from eksgitops.fleet.verify.model import BRIDGE_REF, LOCAL


def check(ctx: Applying) -> Iterator[Finding]:
    for first, second in ctx.duplicates:
        yield Finding(
            second.file, f"{ident(second.obj)} is applied by both {first.owner} and {second.owner}", POLICY
        )
    own = ctx.index[LOCAL].get(BRIDGE_REF)
    if ctx.walk.agent == "flux" and own is not None and not own.argo:
        # Its values are used for substitution (Flux applies it over the stack's keys); the clash
        # is the finding, not the variables.
        yield Finding(
            own.file,
            f"{ident(own.obj)} is also created by the stack (the variables it hands to the cluster); "
            f"{own.owner} and Pulumi would take turns owning it: put the layout's keys in a ConfigMap "
            "of its own and list it under postBuild.substituteFrom",
            POLICY,
        )
