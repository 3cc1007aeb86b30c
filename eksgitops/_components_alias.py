"""The deprecated import path `components.*`, kept for one release as an alias of `eksgitops.components.*`.

Why a finder and not a top-level `components` package: a package of that name in
site-packages is exactly the collision being removed (a program's own `components/` folder
and ours shadow each other). This finder answers for `components` only when the path finder
finds no `components` anywhere on `sys.path`: a program's own folder always wins, and then
the old path is simply not ours. When it does answer, the old names are the very module
objects of the new ones (no second copy of any class), with one DeprecationWarning.

Installed when `eksgitops` is imported, and at interpreter start-up by the
`eksgitops-components-alias.pth` file wheels carry (so an old program whose first import is
`components.…` works too).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from types import ModuleType

OLD = "components"
NEW = "eksgitops.components"
REMOVED_IN = "0.2.0"


class _AliasLoader(importlib.abc.Loader):
    """Loads `components[.x]` as the module `eksgitops.components[.x]` itself."""

    def __init__(self, target: str):
        self.target = target

    def exec_module(self, module: ModuleType) -> None:
        if module.__name__ == OLD:
            warnings.warn(
                f"the import path {OLD!r} is deprecated and goes away in eksgitops {REMOVED_IN}; "
                f"import {NEW!r} instead (same modules)",
                DeprecationWarning,
                stacklevel=2,
            )
        # The import system hands back whatever sys.modules holds once this returns: the real
        # module, untouched (its own __spec__ and __path__), not the placeholder made for it.
        sys.modules[module.__name__] = importlib.import_module(self.target)


class ComponentsAlias(importlib.abc.MetaPathFinder):
    """Serves `components` and `components.<x>` as `eksgitops.components[.<x>]`.

    First in `sys.meta_path`: once `components` is the alias, its submodules must come from
    here, or the path finder would load the same files a second time under the old names.
    """

    def find_spec(self, fullname, path=None, target=None):
        if fullname == OLD:
            if importlib.machinery.PathFinder.find_spec(OLD) is not None:
                return None  # a `components` of the program's own: never shadow it
        elif fullname.startswith(OLD + "."):
            if sys.modules.get(OLD) is not sys.modules.get(NEW) or NEW not in sys.modules:
                return None  # `components` is someone else's package
        else:
            return None
        new = NEW + fullname[len(OLD) :]
        found = importlib.util.find_spec(new)
        if found is None:
            return None
        # A package stays a package under its old name: while `eksgitops.components.spec` runs its
        # `__init__`, the old name is the placeholder, and `components.spec.errors` imported from
        # there needs that placeholder to have a `__path__`.
        return importlib.machinery.ModuleSpec(
            fullname, _AliasLoader(new), is_package=found.submodule_search_locations is not None
        )


def install() -> None:
    """Put the alias finder first in `sys.meta_path`, once."""
    if not any(isinstance(finder, ComponentsAlias) for finder in sys.meta_path):
        sys.meta_path.insert(0, ComponentsAlias())
