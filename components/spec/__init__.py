"""The environment spec: the one place where a stack's configuration is read and checked.

Components trust a validated `EnvironmentSpec`; they never read Pulumi config themselves.
The public API is `load_spec(raw, stack=..., source=...)`, the `EnvironmentSpec` it returns,
and `SpecError`, whose `.lines` are the mistakes, one line each. The layout:

- `base`, `syntax`, `data`, `errors`: the model base, shared patterns and checks, what the
  spec knows about AWS (components/data/), and how mistakes become lines;
- one module per section: `network`, `access`, `compute`, `addons`, `identities`,
  `control_plane`, `escrow`, `gitops`, `policy`;
- `environment`: the whole spec, its cross-section rules and `load_spec`;
- `read`: the readers of stack files, Pulumi.yaml and the running program's config.

The whole spec loads on first use of `EnvironmentSpec` or `load_spec`, so a user of one
section (the CrossGuard pack reads only `policy`) does not load the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from components.spec.errors import SpecError

if TYPE_CHECKING:
    from components.spec.environment import EnvironmentSpec, load_spec

__all__ = ["EnvironmentSpec", "SpecError", "load_spec"]


def __getattr__(name: str) -> Any:
    if name in ("EnvironmentSpec", "load_spec"):
        from components.spec import environment

        return getattr(environment, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
