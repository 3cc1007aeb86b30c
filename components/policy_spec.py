"""The `policy` section of the environment spec: waivers of the guardrail rules.

The rules themselves live in `eksgitops.policy` and judge what the program registers, not
this spec. A stack may relax one only by naming it here with a reason; the plan prints
every waiver it applied. `components` must not import `eksgitops`, so the rule ids are
kept here too (`RULE_IDS`); a test checks they equal the rules the package defines.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from components.spec_errors import SpecValueError
from components.spec_model import SpecModel

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
)


class WaiverSpec(SpecModel):
    """One rule a stack relaxes, and why."""

    rule: str
    """A rule id from docs/policy.md, e.g. NODE-IMDSV2."""
    reason: str
    """Why the stack needs it (printed by every plan); must not be empty."""
    resource: str | None = None
    """Only this resource: its name as the plan shows it, or its URN; unset waives the rule for
    every resource of the stack."""

    @field_validator("rule")
    @classmethod
    def _known_rule(cls, rule: str) -> str:
        if rule not in RULE_IDS:
            raise SpecValueError(f'"{rule}" is not a rule id', "one of " + ", ".join(RULE_IDS))
        return rule

    @field_validator("reason")
    @classmethod
    def _has_reason(cls, reason: str) -> str:
        if not reason.strip():
            raise SpecValueError("is empty", "a sentence saying why this stack needs the waiver")
        return reason.strip()

    @field_validator("resource")
    @classmethod
    def _resource_named(cls, resource: str | None) -> str | None:
        if resource is not None and not resource.strip():
            raise SpecValueError("is empty", "a resource name or URN from the plan, or leave resource out")
        return resource


class PolicySpec(SpecModel):
    """Waivers of the guardrail rules (docs/policy.md)."""

    waivers: list[WaiverSpec] = Field(default_factory=list)
    """Rules this stack relaxes, each with a reason; default none."""
