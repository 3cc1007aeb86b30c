"""Package layout (metadata lives in pyproject.toml).

The component library stays in `components/` at the repository root but installs as
`eksgitops.components`: a top-level `components` in site-packages would collide with any
program that has its own `components/` folder. pyproject.toml cannot map a folder under
another package's name and still discover its subpackages, so the package list is computed
here: a new subpackage on either side is picked up without editing this file.
"""

from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ALIAS_PTH = "eksgitops-components-alias.pth"


class BuildWithAlias(build_py):
    """Also put the deprecated-alias hook (a .pth) at the top of the wheel: site runs it at
    start-up, so old `components.*` imports keep working for one release (see
    eksgitops/_components_alias.py for why it cannot shadow a program's own `components/`)."""

    def run(self) -> None:
        super().run()
        target = Path(self.build_lib) / ALIAS_PTH
        target.write_text(Path(ALIAS_PTH).read_text())

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return [*super().get_outputs(include_bytecode), str(Path(self.build_lib) / ALIAS_PTH)]


components = find_packages("components")
# eksgitops/components is a symlink to ../components for source checkouts (pytest, pyright and
# `pulumi up` from the root); the wheel takes the real folder through package_dir instead.
packages = [
    *find_packages(
        include=["eksgitops", "eksgitops.*"], exclude=["eksgitops.components*", "eksgitops.policy_pack*"]
    ),
    "eksgitops.components",
    *(f"eksgitops.components.{name}" for name in components),
    # The CrossGuard pack (policies/), shipped so a program of one's own can run it.
    "eksgitops.policy_pack",
]

setup(
    packages=packages,
    package_dir={
        "eksgitops.components": "components",
        "eksgitops.policy_pack": "policies",
    },
    package_data={
        "eksgitops": ["py.typed", "**/*.yaml", "**/*.json"],
        "eksgitops.components": ["py.typed", "data/*.json"],
        "eksgitops.policy_pack": ["PulumiPolicy.yaml", "requirements.txt"],
    },
    # Through the symlink the eksgitops globs would also reach the components' data.
    exclude_package_data={
        "eksgitops": ["components/**", "policy_pack/**"],
        "eksgitops.policy_pack": ["venv/**"],
    },
    cmdclass={"build_py": BuildWithAlias},
)
