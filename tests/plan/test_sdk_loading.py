"""The plan loads the SDKs per name (eksgitops.plan.sdk_loading): the program gets the very
classes the SDK's own full load would give it, while far fewer modules are executed.

Each probe runs in a fresh interpreter: the SDKs' lazy subpackages load once per process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Where each public name of a subpackage comes from: (defining module, qualified name) or,
# for a submodule, the module's name. `install` says whether the per-name loading is on.
PROBE = """
import importlib, json, sys, types
from eksgitops.plan import sdk_loading
names = json.loads(sys.argv[1])
package = sys.argv[2]
if sys.argv[3] == "install":
    assert sdk_loading.install()
# As a program reaches it: `pulumi_kubernetes.helm.v3` is bound lazily by its parents.
top, *path = package.split(".")
module = importlib.import_module(top)
for part in path:
    module = getattr(module, part)
assert type(module) is not types.ModuleType, "expected the SDK's lazy subpackage"
found = {}
for name in names:
    value = getattr(module, name)
    if isinstance(value, types.ModuleType):
        found[name] = value.__name__
    else:
        found[name] = [getattr(value, "__module__", None), getattr(value, "__qualname__", repr(value))]
print(json.dumps({
    "found": found,
    "still_lazy": type(module) is not types.ModuleType,
    "loaded": sorted(m for m in sys.modules if m.startswith(package + ".")),
}))
"""

LIST = """
import importlib, json, sys
top, *path = sys.argv[1].split(".")
module = importlib.import_module(top)
for part in path:
    module = getattr(module, part)
getattr(module, "__all__", None)  # any attribute runs the SDK's full load; dir() alone does not
print(json.dumps(sorted(n for n in dir(module) if not n.startswith("__"))))
"""


def _probe(package: str, names: list[str], *, install: bool) -> dict:
    mode = "install" if install else "plain"
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(names), package, mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def _public_names(package: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", LIST, package], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


@pytest.mark.parametrize("package", ["pulumi_aws.eks", "pulumi_kubernetes.helm.v3"])
def test_every_name_resolves_to_what_the_full_load_binds(package: str) -> None:
    # Every name the subpackage exports (resources, their Args and ArgsDict, nested input and
    # output types, enums, `get_*` functions, submodules): same origin both ways.
    names = _public_names(package)
    assert len(names) > 20
    per_name = _probe(package, names, install=True)
    full = _probe(package, names, install=False)
    assert per_name["found"] == full["found"]
    assert full["still_lazy"] is False


def test_a_resource_class_loads_only_its_own_module() -> None:
    probe = _probe("pulumi_aws.ec2", ["Vpc", "VpcArgs"], install=True)
    assert probe["still_lazy"] is True
    assert probe["loaded"] == ["pulumi_aws.ec2.vpc"]
    assert probe["found"]["Vpc"] == ["pulumi_aws.ec2.vpc", "Vpc"]
    without = _probe("pulumi_aws.ec2", ["Vpc"], install=False)
    assert len(without["loaded"]) > 100  # the SDK's own load: the whole subpackage


def test_a_function_wins_over_its_module_of_the_same_name() -> None:
    # `from .get_vpc import *` binds the function over the submodule of the same name.
    probe = _probe("pulumi_aws.ec2", ["get_vpc"], install=True)
    assert probe["found"]["get_vpc"] == ["pulumi_aws.ec2.get_vpc", "get_vpc"]
    assert probe["still_lazy"] is True


def test_a_name_no_module_is_named_for_falls_back_to_the_full_load() -> None:
    # `Subnet` lives in subnet.py; `ProviderEndpointArgs` is in no ec2 module: the full load
    # runs and the attribute error is the SDK's own.
    probe = _probe("pulumi_aws.ec2", ["Subnet"], install=True)
    assert probe["still_lazy"] is True
    code = (
        "from eksgitops.plan import sdk_loading; sdk_loading.install(); import pulumi_aws\n"
        "try:\n    pulumi_aws.ec2.NoSuchThing\nexcept AttributeError as e:\n    print('AttributeError', e)\n"
        "import types; print(type(pulumi_aws.ec2) is types.ModuleType)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [
        "AttributeError module 'pulumi_aws.ec2' has no attribute 'NoSuchThing'",
        "True",
    ]
