"""Test your own Pulumi program that uses eksgitops components, offline, in a few lines.

    from eksgitops.testing import run_program_file

    def test_my_cluster():
        result = run_program_file("infra/__main__.py", stack="dev")
        cluster = result.one("eks:index:Cluster")
        assert cluster.inputs["version"] == "1.36"
        assert not result.policy.failed, result.violations

The program runs under the same offline engine as `eksgitops plan`: Pulumi's real SDKs with
the engine and AWS replaced by mocks that answer as the cloud would (resource references for
pulumi-eks's outputs, readable placeholders for what only AWS knows). No Pulumi CLI, no
credentials, no network. The guardrails of `docs/policy.md` are judged over what it registers.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from eksgitops.plan.offline_engine import PlanResult, RecordedResource, run_program
from eksgitops.policy.evaluate import PolicyReport, evaluate, from_recorded, report_lines

__all__ = ["ProgramResult", "RecordedResource", "run", "run_program_file"]


@dataclass
class ProgramResult:
    """What the program registered, its stack outputs, and the guardrails judged over them."""

    plan: PlanResult
    policy: PolicyReport

    @property
    def resources(self) -> list[RecordedResource]:
        """Every registration (type, name, parent, inputs), pulumi-eks's children included."""
        return self.plan.resources

    @property
    def outputs(self) -> dict[str, Any]:
        """The stack outputs, resolved (secrets as their values: assert on `secret_outputs`)."""
        return self.plan.outputs

    @property
    def secret_outputs(self) -> set[str]:
        return self.plan.secret_outputs

    @property
    def violations(self) -> list[str]:
        """The policy report as the plan prints it: `RULE-ID <resource>: <what is wrong>`."""
        return report_lines(self.policy)

    def by_type(self, type_: str) -> list[RecordedResource]:
        return self.plan.by_type(type_)

    def one(self, type_: str, name: str | None = None) -> RecordedResource:
        """The one resource of this type (and name); LookupError when there is not exactly one."""
        return self.plan.one(type_, name)


def _config_values(config: Mapping[str, Any], project: str) -> dict[str, str]:
    """Config as the CLI hands it to a program: full keys, strings, structured values as JSON."""
    values: dict[str, str] = {}
    for key, value in config.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"config: key {key!r} is not a config key; a string such as 'region'")
        full = key if ":" in key else f"{project}:{key}"
        values[full] = value if isinstance(value, str) else json.dumps(value)
    return values


def run(
    program: Callable[[], Any],
    *,
    project: str,
    stack: str = "dev",
    config: Mapping[str, Any] | None = None,
    secret_keys: list[str] | None = None,
    region: str = "us-east-1",
    stack_references: Mapping[str, Mapping[str, Any]] | None = None,
) -> ProgramResult:
    """Run `program` (a function that builds resources) offline and judge the guardrails.

    `config` keys without a namespace belong to `project` (`{"region": "eu-west-1"}` is
    `<project>:region`); values that are not strings are passed as JSON, as Pulumi does for
    structured config. `stack_references` answers `pulumi.StackReference(name)` with outputs.
    """
    if not callable(program):
        raise TypeError(
            f"program: {type(program).__name__} is not callable; a function that builds resources"
        )
    values = _config_values(config or {}, project)
    result = run_program(
        program,
        project=project,
        stack=stack,
        config=values,
        secret_keys=[key if ":" in key else f"{project}:{key}" for key in secret_keys or []],
        region=region,
        stack_references=stack_references,
    )
    return ProgramResult(plan=result, policy=evaluate(from_recorded(result.resources)))


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, UnicodeError, yaml.YAMLError) as err:
        raise ValueError(f"{path}: not readable as YAML ({err})") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise ValueError(f"{path}: a YAML mapping was expected")
    return document


def _project_config(folder: Path, stack: str) -> tuple[str, dict[str, Any]]:
    """The project name (Pulumi.yaml) and the stack's config: Pulumi.yaml's `config` defaults
    with Pulumi.<stack>.yaml laid over them, as Pulumi merges them."""
    project_file = folder / "Pulumi.yaml"
    project = _read_yaml(project_file)
    name = project.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(
            f"{project_file}: no project `name`; run_program_file needs the program's Pulumi.yaml"
        )
    merged: dict[str, Any] = {}
    for key, declared in (project.get("config") or {}).items():
        if isinstance(declared, dict) and "default" in declared:
            merged[key if ":" in key else f"{name}:{key}"] = declared["default"]
        elif not isinstance(declared, dict):
            merged[key if ":" in key else f"{name}:{key}"] = declared
    stack_config = _read_yaml(folder / f"Pulumi.{stack}.yaml").get("config") or {}
    for key, value in stack_config.items():
        if isinstance(value, dict) and "secure" in value:
            raise ValueError(
                f"Pulumi.{stack}.yaml: {key} is a `secure:` value, which only the Pulumi CLI can decrypt; "
                "pass it with config= and secret_keys= instead"
            )
        merged[key] = value
    return name, merged


@contextmanager
def _in_folder(folder: Path) -> Iterator[None]:
    """As `pulumi up` runs a program: in its folder, its own modules importable."""
    before = Path.cwd()
    sys.path.insert(0, str(folder))
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)
        sys.path.remove(str(folder))


def run_program_file(
    path: str | os.PathLike[str],
    *,
    stack: str = "dev",
    config: Mapping[str, Any] | None = None,
    secret_keys: list[str] | None = None,
    region: str | None = None,
    stack_references: Mapping[str, Mapping[str, Any]] | None = None,
) -> ProgramResult:
    """Run a program file (its `__main__.py`, or the folder that holds it) offline.

    The project name and config come from the `Pulumi.yaml` and `Pulumi.<stack>.yaml` beside
    it, as `pulumi up` would read them; `config` is laid over them. The region the mocks use
    for ARNs is `region`, else the stack's `aws:region`, else us-east-1.
    """
    main = Path(path)
    if main.is_dir():
        main = main / "__main__.py"
    if not main.is_file():
        raise FileNotFoundError(f"{path}: no program here (a __main__.py, or the folder holding one)")
    main = main.resolve()
    folder = main.parent
    project, merged = _project_config(folder, stack)
    merged.update(_config_values(config or {}, project))
    aws_region = merged.get("aws:region")
    with _in_folder(folder):
        return run(
            lambda: runpy.run_path(str(main), run_name="__main__"),
            project=project,
            stack=stack,
            config=merged,
            secret_keys=secret_keys,
            region=region or (aws_region if isinstance(aws_region, str) else "us-east-1"),
            stack_references=stack_references,
        )
