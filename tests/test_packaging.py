"""The wheel: components install as eksgitops.components, beside a program's own components/ folder.

Built for real (`pip wheel`, from the same package index `make` uses) and installed into a fresh
virtualenv that has only the wheel (its dependencies come from the dev environment through
PYTHONPATH, which runs no .pth files of that environment).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

import eksgitops

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    base = tmp_path_factory.mktemp("wheel")
    # Built from a copy of the tracked files: an in-tree build writes build/ and *.egg-info into
    # the checkout, and two test workers building at once would race on them.
    source = base / "source"
    tracked = (
        subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, tracked):
        origin, copy = ROOT / name, source / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        if origin.is_symlink():
            copy.symlink_to(os.readlink(origin))
        elif origin.is_file():
            shutil.copy2(origin, copy)
    wheels = base / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(source)],
        check=True,
        capture_output=True,
        cwd=base,
    )
    (wheel,) = wheels.glob("eksgitops-*.whl")
    env_dir = base / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
    )
    env = {**os.environ, "PYTHONPATH": sysconfig.get_paths()["purelib"]}
    env.pop("VIRTUAL_ENV", None)
    return wheel, {"python": str(python), **{f"env:{k}": v for k, v in env.items()}}


def _run(installed: tuple[Path, dict[str, str]], program: Path, *args: str) -> subprocess.CompletedProcess:
    info = installed[1]
    env = {k.removeprefix("env:"): v for k, v in info.items() if k.startswith("env:")}
    return subprocess.run(
        [info["python"], *args], cwd=program, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_wheel_has_no_top_level_components_and_ships_types_data_and_the_pack(installed) -> None:
    names = zipfile.ZipFile(installed[0]).namelist()
    tops = {n.split("/", 1)[0] for n in names}
    assert "components" not in tops
    assert {"eksgitops/py.typed", "eksgitops/components/py.typed"} <= set(names)
    assert "eksgitops/components/data/kubernetes_versions.json" in names
    assert "eksgitops/components/pod_identity_role.py" in names
    assert {"eksgitops/policy_pack/PulumiPolicy.yaml", "eksgitops/policy_pack/requirements.txt"} <= set(names)
    assert "eksgitops/plan/plan.schema.json" in names


# The library's own modules import each other by the new path only once the branch's last commit
# (a mechanical rewrite of every `components` import) is in; until then the collision remains.
OLD_IMPORTS_INSIDE = any("from components." in p.read_text() for p in (ROOT / "components").rglob("*.py"))


@pytest.mark.skipif(OLD_IMPORTS_INSIDE, reason="components/ still imports itself as `components`")
def test_a_program_with_its_own_components_folder_imports_ours_too(installed, tmp_path: Path) -> None:
    program = tmp_path / "program"
    (program / "components").mkdir(parents=True)
    (program / "components" / "__init__.py").write_text("OWN = True\n")
    (program / "__main__.py").write_text(
        textwrap.dedent(
            f"""
            import components
            from eksgitops.components.pod_identity_role import PodIdentityRole
            import eksgitops.components.pod_identity_role as ours
            assert components.OWN and components.__file__.startswith({str(program)!r}), components.__file__
            assert "site-packages" in ours.__file__, ours.__file__
            print("ok", PodIdentityRole.__name__)
            """
        )
    )
    result = _run(installed, program, "__main__.py")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok PodIdentityRole"


def test_the_old_import_path_still_works_with_a_warning_where_nothing_else_is_called_components(
    installed, tmp_path: Path
) -> None:
    program = tmp_path / "legacy"
    program.mkdir()
    (program / "__main__.py").write_text(
        textwrap.dedent(
            """
            import warnings
            warnings.simplefilter("error", DeprecationWarning)
            try:
                import components
            except DeprecationWarning as warning:
                print("warned:", warning)
            warnings.simplefilter("ignore", DeprecationWarning)
            from components.pod_identity_role import PodIdentityRole
            from eksgitops.components.pod_identity_role import PodIdentityRole as New
            assert PodIdentityRole is New  # the same class, not a second copy
            print("same")
            """
        )
    )
    result = _run(installed, program, "__main__.py")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("warned: the import path 'components' is deprecated")
    assert lines[-1] == "same"


def test_the_installed_cli_prints_its_version_and_the_shipped_pack(installed, tmp_path: Path) -> None:
    result = _run(installed, tmp_path, "-m", "eksgitops.entry", "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"eksgitops {eksgitops.__version__}"
    result = _run(installed, tmp_path, "-c", "from eksgitops.entry import main; main()", "policy-pack-path")
    assert result.returncode == 0, result.stderr
    pack = Path(result.stdout.strip())
    assert "site-packages" in str(pack) and (pack / "PulumiPolicy.yaml").is_file()
    assert "pulumi-policy==" in (pack / "requirements.txt").read_text()


def test_the_editable_dev_install_serves_the_new_path_outside_the_checkout(tmp_path: Path) -> None:
    # The dev environment (make: pip install -e .) run from a folder that is not the checkout.
    code = (
        "import eksgitops.components.pod_identity_role as m, eksgitops.components.spec as s; "
        "print(m.__file__); print(s.default_kubernetes_version())"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    where, version = done.stdout.splitlines()
    assert Path(where).resolve() == (ROOT / "components" / "pod_identity_role.py").resolve()
    assert version.startswith("1.")
