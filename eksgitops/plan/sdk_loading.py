"""Load the provider SDKs' classes one module at a time during the plan.

The generated SDKs (pulumi_aws, pulumi_kubernetes, pulumi_eks) make each subpackage a lazy
module (`pulumi._utils._LazyModule`): nothing is loaded until the first attribute access,
and then the whole subpackage is: `aws.ec2.Vpc` executes all of `pulumi_aws/ec2/` (180
modules and 2.6 MB of input/output types), `k8s.core.v1.Secret` all of core/v1 (4.5 MB).
That was about half of the plan's whole-process time.

The subpackage's `__init__.py` only re-exports its modules (`from .vpc import *` per
module, `from . import outputs`). So `install()` teaches the lazy module to find one name
the way those star imports would: the module named for it (`Vpc` -> `vpc.py` or `Vpc.py`;
`VpcArgs` -> the same), else `_inputs`, `outputs` or `_enums`, taking a name only if it
is in that module's `__all__` (exactly what `import *` exports). A submodule name
(`outputs`, `_inputs`, `v1`) imports that submodule. Anything else, and anything that
needs the whole namespace (`__all__`, `dir()`), falls back to the SDK's own full load, so
the program sees the same class objects either way: only fewer modules are executed.

Only the plan's process is changed; `pulumi up` runs the program with the SDKs as shipped.
"""

from __future__ import annotations

import importlib
import os
import re
import types
from typing import Any

from pulumi import _utils as pulumi_utils

_LazyModule: Any = getattr(pulumi_utils, "_LazyModule", None)
_ORIGINAL = getattr(_LazyModule, "__getattribute__", None)
_module_getattribute = types.ModuleType.__getattribute__
# Modules of a generated subpackage that hold many names each (after the per-resource ones).
_SHARED = ("_inputs", "outputs", "_enums")
_CAMEL_BOUNDARY = re.compile(r"(?<!^)(?=[A-Z])")


def _snake(name: str) -> str:
    return _CAMEL_BOUNDARY.sub("_", name).lower()


def _candidates(name: str) -> list[str]:
    """The modules of a generated subpackage that may define `name`, most likely first."""
    bases = [name]
    for suffix in ("ArgsDict", "Args"):
        if name.endswith(suffix) and len(name) > len(suffix):
            bases.append(name[: -len(suffix)])
            break
    found: list[str] = []
    for base in bases:
        for module in (base, _snake(base)):
            if module not in found:
                found.append(module)
    return [*found, *_SHARED]


def _find(module: types.ModuleType, attr: str) -> tuple[bool, Any]:
    """(True, value) when `attr` of the lazy subpackage resolves without the full load."""
    spec = _module_getattribute(module, "__spec__")
    locations = getattr(spec, "submodule_search_locations", None)
    if not locations or attr.startswith("__"):
        return False, None
    folder = locations[0]
    package = spec.name
    if os.path.isfile(os.path.join(folder, attr, "__init__.py")):
        # A nested subpackage (`core.v1`): the SDK binds it lazily too.
        return True, pulumi_utils.lazy_import(f"{package}.{attr}")
    if os.path.isfile(os.path.join(folder, f"{attr}.py")):
        submodule = importlib.import_module(f"{package}.{attr}")
        # `from .get_vpc import *` rebinds the name `get_vpc` from the module to its function.
        if attr in getattr(submodule, "__all__", ()):
            return True, getattr(submodule, attr)
        return True, submodule
    for candidate in _candidates(attr):
        if not os.path.isfile(os.path.join(folder, f"{candidate}.py")):
            continue
        submodule = importlib.import_module(f"{package}.{candidate}")
        if attr in getattr(submodule, "__all__", ()):
            return True, getattr(submodule, attr)
    return False, None


def _getattribute(self: types.ModuleType, attr: str) -> Any:
    namespace = _module_getattribute(self, "__dict__")
    if attr in namespace and not attr.startswith("__"):
        return namespace[attr]
    if _module_getattribute(self, "__class__") is _LazyModule and not attr.startswith("__"):
        found, value = _find(self, attr)
        if found:
            namespace[attr] = value
            return value
    return _ORIGINAL(self, attr)  # pyright: ignore[reportOptionalCall] - install() checks it


def install() -> bool:
    """Make the SDKs' lazy subpackages load per name in this process (idempotent).

    Returns False, changing nothing, when this Pulumi SDK has no `_LazyModule` to extend.
    """
    if _LazyModule is None or _ORIGINAL is None:
        return False
    if _LazyModule.__getattribute__ is not _getattribute:
        _LazyModule.__getattribute__ = _getattribute
    return True
