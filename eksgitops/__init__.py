"""eksgitops: Pulumi components for EKS clusters ready for GitOps (`eksgitops.components`),
and the operator's CLI (`eksgitops.cli`, with the `cli` extra).

Kept light (standard library only): the CrossGuard pack and the start-up hook of the
deprecated `components` alias import this package in environments that have neither the
CLI's dependencies nor the cloud SDKs.
"""

from eksgitops import _components_alias

# The one place the version is written: pyproject.toml reads it (setuptools `attr:`), and
# `eksgitops --version` prints it.
__version__ = "0.1.0"

# Old `components.*` imports keep working for one release, never over a `components` of the
# program's own (see _components_alias). Wheels also install it at start-up (a .pth file).
_components_alias.install()
