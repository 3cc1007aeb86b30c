"""The eksgitops CrossGuard pack: the rules `eksgitops plan` runs, under `pulumi preview`.

From a source checkout: `pulumi preview --policy-pack policies`. From any program that
imports the components: `pulumi preview --policy-pack "$(eksgitops policy-pack-path)"` (this
folder, installed as `eksgitops.policy_pack`). One mandatory policy per rule id of
docs/policy.md; waivers come from the stack's `eksgitops:policy` config.
"""

import sys
from pathlib import Path


def _package_root() -> Path:
    """The folder that holds the `eksgitops` package: the repository root in a checkout,
    site-packages when installed (this file is then eksgitops/policy_pack/__main__.py)."""
    for folder in Path(__file__).resolve().parents:
        if (folder / "eksgitops" / "__init__.py").is_file():
            return folder
    raise SystemExit("eksgitops policy pack: cannot find the eksgitops package beside the pack")


# The pack's own venv (requirements.txt) holds pulumi-policy and what the rules import; the
# rules come from the eksgitops next to the pack. Appended, so the venv's own packages win
# over anything else installed beside eksgitops.
sys.path.append(str(_package_root()))

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402 - after the path is set

from eksgitops.policy.crossguard import policies  # noqa: E402

PolicyPack(
    name="eksgitops-guardrails",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=policies(),
)
