"""The Pulumi program: spec from config → Platform → stack outputs.

`__main__.py` calls `main()` under `pulumi up`; `eksgitops plan` runs the same program
offline. A bad stack stops here, before any resource is registered, with the same lines
the plan prints.
"""

from __future__ import annotations

import pulumi

from components.platform import Platform, PlatformArgs, escrow_args_from_spec
from components.spec import SpecError
from components.spec.read import spec_from_pulumi


def main() -> Platform:
    try:
        spec = spec_from_pulumi()
    except SpecError as err:
        # RunError ends the program with just this message: no traceback, no program text.
        raise pulumi.RunError(str(err)) from None
    # eksgitops:escrow: the durable bucket and secret, only when the stack turns them on.
    platform = Platform(spec.cluster_name, PlatformArgs(spec=spec, escrow=escrow_args_from_spec(spec)))
    platform.export_stack_outputs()
    return platform
