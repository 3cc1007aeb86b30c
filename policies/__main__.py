"""The eksgitops CrossGuard pack: `pulumi preview --policy-pack policies` from the repository root.

Runs the same rule functions as `eksgitops plan` (eksgitops/policy), one mandatory policy per
rule id of docs/policy.md; waivers come from the stack's `eksgitops:policy` config.
"""

import sys
from pathlib import Path

# The rules live in this repository, next to the pack; the pack's venv holds only its own deps.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack

from eksgitops.policy.crossguard import policies

PolicyPack(
    name="eksgitops-guardrails",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=policies(),
)
