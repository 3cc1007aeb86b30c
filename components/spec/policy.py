"""The `policy` section of the environment spec: waivers of the guardrail rules.

The rules themselves live in `eksgitops.policy` and judge what the program registers, not
this spec. A stack may relax one only by naming it here with a reason; the plan prints
every waiver it applied. `components` must not import `eksgitops`, so the rule ids are
kept here too (`RULE_IDS`); a test checks they equal the rules the package defines.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, Field

from eksgitops.components.spec.base import SpecModel
from eksgitops.components.spec.syntax import check

# One id per line of the security checklist (docs/policy.md), in its order.
RULE_IDS: tuple[str, ...] = (
    "EKS-ENDPOINT",
    "EKS-LOGGING",
    "EKS-SECRETS-KMS",
    "EKS-VERSION",
    "EKS-ACCESS",
    "NODE-IMDSV2",
    "NODE-NO-SSH",
    "NODE-IAM",
    "NODE-PRIVATE",
    "IRSA-TRUST",
    "PODID-TRUST",
    "IAM-NO-WILDCARD-ADMIN",
    "GIT-CREDS-SECRET",
    "GIT-SSH-KNOWN-HOSTS",
    "GIT-READONLY",
    "FLUX-LOCKDOWN",
    "FLUX-SOPS",
    "ARGO-HARDEN",
    "GITOPS-VERIFY",
)


def _readable(text: str) -> bool:
    # A reason of zero-width spaces, a BOM, an RTL override, a braille blank or a lone
    # combining mark prints as nothing: the plan would show a waiver with no reason.
    return any(unicodedata.category(c)[0] in "LN" for c in text)


class WaiverSpec(SpecModel):
    """One rule a stack relaxes, and why."""

    rule: Annotated[
        str,
        check(lambda v: v in RULE_IDS, lambda v: f'"{v}" is not a rule id', "one of " + ", ".join(RULE_IDS)),
    ]
    """A rule id from docs/policy.md, e.g. NODE-IMDSV2."""
    reason: Annotated[
        str,
        AfterValidator(str.strip),
        check(bool, lambda _: "is empty", "a sentence saying why this stack needs the waiver"),
        check(
            _readable,
            lambda _: "has no letter or digit (only invisible or formatting characters)",
            "a sentence saying why this stack needs the waiver",
        ),
    ]
    """Why the stack needs it (printed by every plan); must not be empty."""
    resource: Annotated[
        str | None,
        check(
            lambda v: v is None or bool(v.strip()),
            lambda _: "is empty",
            "a resource name or URN from the plan, or leave resource out",
        ),
    ] = None
    """Only this resource: its name as the plan shows it, or its URN; unset waives the rule for
    every resource of the stack."""


class PolicySpec(SpecModel):
    """Waivers of the guardrail rules (docs/policy.md)."""

    waivers: list[WaiverSpec] = Field(default_factory=list)
    """Rules this stack relaxes, each with a reason; default none."""
