"""What makes the plan faster changes none of its output (benchmarks/plan_speed.py measures it;
`--snapshot`/`--compare` there check every output byte of the three stacks before and after)."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eksgitops.cli import app
from eksgitops.plan import offline_engine
from eksgitops.plan.cli import run_plan
from eksgitops.plan.render import write_resources_json

ROOT = Path(__file__).resolve().parents[2]


def _resources_json(stack: str, path: Path) -> bytes:
    result = run_plan(stack, stacks_dir=ROOT / "stacks", project_dir=ROOT)
    write_resources_json(result, path, project="eksgitops", stack=stack)
    return path.read_bytes()


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_registering_without_stack_traces_records_the_same_plan(
    stack: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = _resources_json(stack, tmp_path / "fast.json")
    monkeypatch.setattr(offline_engine, "_no_stack_traces", contextlib.nullcontext)
    slow = _resources_json(stack, tmp_path / "slow.json")
    assert fast == slow


def test_the_stack_trace_is_the_sdks_own_again_after_the_run() -> None:
    from pulumi.runtime import resource as resource_runtime

    before = resource_runtime._get_stack_trace
    run_plan("dev", stacks_dir=ROOT / "stacks", project_dir=ROOT)
    assert resource_runtime._get_stack_trace is before


def test_quiet_and_json_write_the_same_files_as_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(ROOT / "stacks", tmp_path / "stacks")
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    monkeypatch.chdir(tmp_path)
    files: dict[str, dict[str, bytes]] = {}
    printed: dict[str, str] = {}
    for mode, flags in {"default": [], "quiet": ["-q"], "json": ["--json"]}.items():
        out = tmp_path / mode
        result = CliRunner().invoke(app, ["plan", "dev", *flags, "--out", str(out)], terminal_width=200)
        assert result.exit_code == 0, result.output
        files[mode] = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
        printed[mode] = result.stdout.replace(str(out), "OUT")
    assert files["quiet"].keys() == files["default"].keys() == files["json"].keys()
    for name, content in files["default"].items():
        # plan.md names the folder by its last two parts (`default/dev/`): each mode its own.
        for mode in ("quiet", "json"):
            written = files[mode][name]
            if name.endswith("plan.md"):
                written = written.replace(f"{mode}/dev/".encode(), b"default/dev/")
            assert written == content, (mode, name)
    assert printed["quiet"].strip() == printed["default"].strip().splitlines()[-1]
