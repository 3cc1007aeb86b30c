"""Property-based fuzzing of `eksgitops plan` with mutated copies of the shipped stacks.

Each case deletes a key, swaps a value's type, duplicates a key or list item, or puts a
value out of range, anywhere in a shipped stack file, then runs the real CLI. Whatever
the mutation, the plan either succeeds (and writes build/<stack>/resources.json), or
plans and fails a guardrail rule (exit 1, a `RULE-ID <resource>: …` line: posture such as
an endpoint open to 0.0.0.0/0 is the rules' to judge, not the spec's), or exits 2 with one
line per mistake, each naming the file and a key, writing nothing. Never a traceback.
Bounded and derandomized so that it runs in seconds in `make test`.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from components.spec import SpecError, load_spec
from components.spec.policy import RULE_IDS
from components.spec.read import stack_config
from eksgitops.cli import app

ROOT = Path(__file__).resolve().parents[2]
STACKS = ("dev", "staging", "prod")
CONFIGS = {s: yaml.safe_load((ROOT / "stacks" / f"Pulumi.{s}.yaml").read_text()) for s in STACKS}
SWAPS: list[Any] = [None, True, 0, 1.5, "x", [], {}, [1], {"a": 1}, "2012-10-17"]
OUT_OF_RANGE_INTS = [-1, 0, 1, 7, 1001, 10**6, 2**64]
ODD_STRINGS = ["", "a" * 300, "ñame", "eu-west-\u0661", "dev\n", "*", "0.0.0.0/0", "https://u:TOKEN@h/x.git"]
# `<file>: <key>: <what>; <allowed>`, or for a YAML syntax error `<file>:<line>: not valid YAML …`.
LINE = re.compile(
    r"stacks/Pulumi\.(dev|staging|prod)\.yaml"
    r"(: [^ ;]+: .+; .+|:[0-9]+: not valid YAML \(.+\); fix the syntax)"
)
RULE_LINE = re.compile(rf"({'|'.join(RULE_IDS)}) \S+: .+")


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path below the root of a config (dict keys and list indexes)."""
    found: list[tuple[Any, ...]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, child in items:
        found.append((*prefix, key))
        found += paths(child, (*prefix, key))
    return found


def mutate(doc: dict[str, Any], path: tuple[Any, ...], kind: str, pick: int) -> str:
    """The stack file text after one mutation at `path`."""
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    current = parent[last]
    if kind == "delete":
        del parent[last]
    elif kind == "swap":
        parent[last] = SWAPS[pick % len(SWAPS)]
    elif kind == "range":
        if isinstance(current, int) and not isinstance(current, bool):
            parent[last] = OUT_OF_RANGE_INTS[pick % len(OUT_OF_RANGE_INTS)]
        else:
            parent[last] = ODD_STRINGS[pick % len(ODD_STRINGS)]
    elif kind == "duplicate" and isinstance(parent, list):
        parent.insert(last, current)
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    if kind == "duplicate" and isinstance(parent, dict):
        # A key written twice: YAML itself would silently keep the last one.
        lines = text.splitlines(keepends=True)
        keyed = [i for i, line in enumerate(lines) if re.match(r"\s*[^\s#-][^:]*:( |$)", line)]
        i = keyed[pick % len(keyed)]
        line = lines[i].rstrip("\n")
        lines.insert(i + 1, (line + " {}" if line.endswith(":") else line) + "\n")
        text = "".join(lines)
    return text


TEXTS_OPEN_ENDPOINT = mutate(
    yaml.safe_load(yaml.safe_dump(CONFIGS["dev"])),
    ("config", "eksgitops:endpoint", "publicAccessCidrs", 0),
    "range",
    6,
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, str, str]:
    stack = draw(st.sampled_from(STACKS))
    doc = yaml.safe_load(yaml.safe_dump(CONFIGS[stack]))
    path = draw(st.sampled_from(paths(doc)))
    kind = draw(st.sampled_from(["delete", "swap", "range", "duplicate"]))
    return stack, mutate(doc, path, kind, draw(st.integers(0, 50))), f"{kind} {path}"


@settings(
    max_examples=30,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(cases())
# A mutation the spec takes and a rule fails: dev's allow-list opened to the whole internet.
@example(("dev", TEXTS_OPEN_ENDPOINT, "range ('config', 'eksgitops:endpoint', 'publicAccessCidrs', 0)"))
def test_mutated_stacks_plan_or_exit_2_naming_file_and_key(case: tuple[str, str, str]) -> None:
    stack, text, label = case
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "stacks").mkdir()
        shutil.copy(ROOT / "Pulumi.yaml", project / "Pulumi.yaml")
        (project / "stacks" / f"Pulumi.{stack}.yaml").write_text(text)
        cwd = os.getcwd()
        os.chdir(project)
        try:
            result = CliRunner().invoke(app, ["plan", stack, "-q"])
        finally:
            os.chdir(cwd)
        output = result.output + (result.stderr or "")
        assert "Traceback" not in output, (label, output)
        assert result.exit_code in (0, 1, 2), (label, result.exception, output)
        if result.exit_code in (0, 1):
            assert (project / "build" / stack / "resources.json").is_file(), label
            if result.exit_code == 1:
                assert any(RULE_LINE.fullmatch(line) for line in result.stdout.splitlines()), (label, output)
        else:
            lines = result.stderr.strip().splitlines()
            assert lines, label
            for line in lines:
                assert LINE.fullmatch(line), (label, line)
            assert "TOKEN" not in output, label
            assert not (project / "build").exists(), label


TEXTS = {s: (ROOT / "stacks" / f"Pulumi.{s}.yaml").read_text() for s in STACKS}
YAML_BITS = [
    "!Ref x",
    "!!binary",
    "&a",
    "*a",
    "? [a]",
    "{1: x}",
    "- ",
    ": ",
    "\t",
    "\n  ",
    "<<: *a",
    "~",
    "'",
]


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    st.sampled_from(STACKS),
    st.integers(0, 10_000),
    st.one_of(st.sampled_from(YAML_BITS), st.text(max_size=8)),
)
def test_the_reader_and_spec_never_raise_anything_but_spec_error(stack: str, where: int, insert: str) -> None:
    """Text-level mutations of the stack files: the reader and the spec end in SpecError or a spec."""
    text = TEXTS[stack]
    at = where % (len(text) + 1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"Pulumi.{stack}.yaml"
        path.write_text(text[:at] + insert + text[at:], encoding="utf-8", errors="surrogatepass")
        try:
            raw = stack_config(path, ROOT / "Pulumi.yaml")
            load_spec(raw, stack=stack, source=f"stacks/Pulumi.{stack}.yaml")
        except SpecError as err:
            assert err.lines and all("\n" not in line and "; " in line for line in err.lines), err.lines
